"""Settings: a TOML file over documented defaults.

Where the file is looked for, first found wins:
1. `CSDESK_CONFIG` (a path);
2. `csdesk.toml` beside the SQLite database file;
3. `config.toml` in the platform's config folder (e.g. ~/.config/csdesk/config.toml).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csdesk.errors import InvalidValue

# Every key that exists, with its default. Later areas add their sections here.
DEFAULTS: dict[str, Any] = {
    # IANA zone that wall-clock times are read and shown in; the database stores UTC.
    "timezone": "Asia/Shanghai",
    # Who is acting when neither --as nor CSDESK_AGENT says (a staff name).
    "agent": "",
    "business": {
        # Working windows per weekday; the gap between windows is the lunch break.
        "mon": ["09:00-12:00", "13:30-18:00"],
        "tue": ["09:00-12:00", "13:30-18:00"],
        "wed": ["09:00-12:00", "13:30-18:00"],
        "thu": ["09:00-12:00", "13:30-18:00"],
        "fri": ["09:00-12:00", "13:30-18:00"],
        "sat": [],
        "sun": [],
        # Public holidays and make-up working days (调休) of this country, from the holidays package.
        "country": "CN",
        # Company closures and extra working days, as YYYY-MM-DD.
        "closures": [],
        "extra_workdays": [],
    },
    "export": {
        # Customer phone numbers are masked (138****5678) in exports unless asked otherwise.
        "mask_phones": True,
    },
}

SECRET_WORDS = ("password", "secret", "token")


@dataclass
class Settings:
    data: dict[str, Any]
    source: Path | None = None
    _tz: Any = field(default=None, repr=False)

    @property
    def tz(self):
        if self._tz is None:
            from csdesk.dates import zone

            self._tz = zone(self.data["timezone"])
        return self._tz

    def __getitem__(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            node = node[part]
        return node

    def public(self) -> dict[str, Any]:
        """The settings with every secret blanked, for `config show` and --json."""
        return _redact(self.data)


def _redact(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: ("********" if any(w in k.lower() for w in SECRET_WORDS) and v else _redact(v))
            for k, v in node.items()
        }
    return node


def _merge(base: dict, over: dict, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        where = f"{path}{key}"
        if key not in base:
            raise InvalidValue(f"config: unknown key {where!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise InvalidValue(f"config: {where!r} must be a table")
            out[key] = _merge(base[key], value, where + ".")
        else:
            if base[key] is not None and type(value) is not type(base[key]) and not (
                isinstance(base[key], float) and isinstance(value, int)
            ):
                raise InvalidValue(f"config: {where!r} must be a {type(base[key]).__name__}")
            out[key] = value
    return out


def config_path(db_path: Path | None) -> Path | None:
    env = os.environ.get("CSDESK_CONFIG")
    if env:
        return Path(env)
    if db_path is not None:
        beside = db_path.parent / "csdesk.toml"
        if beside.exists():
            return beside
    from platformdirs import user_config_dir

    candidate = Path(user_config_dir("csdesk")) / "config.toml"
    return candidate if candidate.exists() else None


def load(db_path: Path | None = None) -> Settings:
    path = config_path(db_path)
    if path is None:
        return Settings(copy.deepcopy(DEFAULTS))
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidValue(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue(f"config file {path}: {exc}") from None
    settings = Settings(_merge(DEFAULTS, raw), source=path)
    settings.tz  # validate the zone early
    return settings

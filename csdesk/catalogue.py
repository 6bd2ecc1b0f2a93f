"""Builds the interface catalogue from the source: every message a person may see, with where it is.

What counts as a message (English ids, as written in the source):
- the first argument of `_()`, `N_()` and the first two of `ngettext()`, when it is a string literal;
- every `help=` string given to a call in `csdesk/cli.py` and `csdesk/commands/` (typer options,
  arguments and groups), and the docstring of every command function there (one that takes
  `ctx: typer.Context`; typer shows its docstring as the help). Help built at run time is marked `N_()`;
- the English labels of `label(english, chinese)` are not ids: they carry their Chinese at the source.

`scripts/i18n` writes `csdesk/locale/csdesk.pot`, merges it into each language's `.po` (keeping the
translations, marking new ids untranslated and dropping ids the source no longer has) and compiles the
`.mo` files that ship in the package. `tests/test_i18n.py` fails when the catalogue is out of date with
the source or a message has no Chinese. Used by the script and the test only (Babel is a dev tool).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

PACKAGE = Path(__file__).parent
LOCALE = PACKAGE / "locale"
LANGUAGES = ("zh_CN",)
_MARKERS = {"_": 1, "N_": 1, "ngettext": 2}


def _is_command(node: ast.FunctionDef) -> bool:
    """A typer command or callback (typer takes its docstring as help): it takes `ctx: typer.Context`."""
    for arg in node.args.args[:1]:
        ann = arg.annotation
        if isinstance(ann, ast.Attribute) and ann.attr == "Context":
            return True
    return False


def messages(root: Path = PACKAGE) -> dict[str, list[tuple[str, int]]]:
    """{english id: [(file, line), …]} over the package's source, in file order."""
    found: dict[str, list[tuple[str, int]]] = {}

    def add(text: str, path: Path, line: int) -> None:
        if text.strip():
            found.setdefault(text, []).append((str(path.relative_to(root.parent)), line))

    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts or path.name == "catalogue.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typer_help = path.name == "cli.py" or "commands" in path.parts
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else (
                    node.func.attr if isinstance(node.func, ast.Attribute) else None)
                if name in _MARKERS:
                    for arg in node.args[: _MARKERS[name]]:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            add(arg.value, path, node.lineno)
                if typer_help:
                    for kw in node.keywords:
                        if kw.arg == "help" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                            add(kw.value.value, path, kw.value.lineno)
            if typer_help and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if _is_command(node):
                    doc = ast.get_docstring(node, clean=False)
                    if doc:
                        add(inspect.cleandoc(doc), path, node.lineno)
    return found


def template():
    """The catalogue template (a Babel Catalog) of every message in the source."""
    from babel.messages.catalog import Catalog

    from datetime import datetime, timezone

    # A fixed date: the catalogue changes only when its messages do (the test compares bytes).
    catalog = Catalog(project="csdesk", charset="utf-8", fuzzy=False,
                      creation_date=datetime(2026, 12, 1, tzinfo=timezone.utc))
    for text, places in messages().items():
        catalog.add(text, locations=places, flags=("python-format",) if "%(" in text else ())
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "csdesk.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "csdesk.mo"


def read(lang: str):
    from babel.messages.pofile import read_po

    path = po_path(lang)
    if not path.exists():
        from babel.messages.catalog import Catalog

        from datetime import datetime, timezone

        return Catalog(locale=lang, project="csdesk", charset="utf-8",
                       revision_date=datetime(2026, 12, 1, tzinfo=timezone.utc))
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def mo_bytes(catalog) -> bytes:
    from io import BytesIO

    from babel.messages.mofile import write_mo

    out = BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def po_bytes(catalog) -> bytes:
    from io import BytesIO

    from babel.messages.pofile import write_po

    out = BytesIO()
    write_po(out, catalog, width=100, sort_output=False, omit_header=False, include_previous=False,
             ignore_obsolete=True, include_lineno=False)
    return out.getvalue()


def updated(lang: str):
    """The language's catalogue merged with the template: translations kept, new ids empty, ids the
    source no longer has dropped; messages in source order."""
    catalog = read(lang)
    catalog.update(template(), no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    return catalog


def untranslated(catalog) -> list[str]:
    return [m.id for m in catalog if m.id and not m.string]

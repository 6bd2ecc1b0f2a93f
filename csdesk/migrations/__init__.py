"""Alembic migrations. Import-light: alembic itself is imported only when migrating.

HEAD is the revision this code expects; a test checks it against Alembic's own head, so the schema
check done by every command costs one query and no Alembic import.
"""

from __future__ import annotations

from pathlib import Path

HEAD = "0016"
HERE = Path(__file__).parent


def alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to `revision`; returns (before, after) revisions."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(alembic_config(conn), revision)
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after


def script_head() -> str:
    from alembic.script import ScriptDirectory

    cfg = alembic_config(None)
    return ScriptDirectory.from_config(cfg).get_current_head()

"""Schema management through Alembic: the only way the schema is created outside tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

import migrations

# Alembic is imported where it is used: only `locker init`, a restore and the tests migrate,
# and every other command and worker would load it for nothing (~0.1 s each start).
if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our `migrations/` package and the given engine's URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest); idempotent."""
    from alembic import command

    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade_schema(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (tests prove every revision goes down cleanly)."""
    from alembic import command

    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def known_revisions() -> frozenset[str]:
    """Every revision id this version's migrations know (a backup from a newer version
    names one outside this set)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(Path(migrations.__file__).parent))
    return frozenset(script.revision for script in scripts.walk_revisions())

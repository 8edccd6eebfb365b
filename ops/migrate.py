"""Schema migrations (Alembic): one history per database the project owns.

| history | tables of | migrations | URL |
| --- | --- | --- | --- |
| ``backends`` | ``backends.db.Base`` | ``backends/migrations/`` | ``BACKENDS_DB_URL`` |
| ``dashboard`` | ``dashboard.db.Base`` | ``dashboard/migrations/`` | ``DASHBOARD_DB_URL`` |
| ``channel`` | ``connectors.store.metadata`` | ``connectors/migrations/`` | ``WHATSAPP_DB_URL`` |

Each history keeps its revision in its own table (``alembic_version_<history>``) and
looks only at its own tables: Rasa's tracker and event tables, or another history's, in
the same database are never compared, altered or dropped.

    python -m ops.migrate upgrade backends      # to the newest revision (default URL: env)
    python -m ops.migrate current dashboard
    python -m ops.migrate downgrade channel -1
    python -m ops.migrate check                 # models vs migrations, all three (make test)
    python -m ops.migrate revision backends -m "grievance photos"   # after a model change

or Alembic's own CLI: ``alembic -n backends upgrade head`` (``alembic.ini``).

:func:`upgrade` runs under a lock of the database (``ops.locks``: an advisory lock on
PostgreSQL), so replicas starting together upgrade once. A database made before
migrations existed (by ``create_all``) is stamped at the baseline, never recreated.
:func:`on_start` is what a service calls at start-up: ``upgrade`` on SQLite (``make
run``) or when ``SCHEMA_UPGRADE_ON_START`` is not ``0``; otherwise (production, where
the upgrade is a separate step) it refuses to start on a database that is not at head.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ops.locks import database_lock

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: the first revision of every history: the schema as ``create_all`` made it
BASELINE = "0001"


@dataclasses.dataclass(frozen=True)
class History:
    name: str
    metadata_ref: str  # "module:attribute"
    directory: str
    url_env: str
    default_url: str

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    def metadata(self) -> sa.MetaData:
        module, _, attribute = self.metadata_ref.partition(":")
        value: Any = importlib.import_module(module)
        for part in attribute.split("."):
            value = getattr(value, part)
        return value

    def url(self) -> str:
        from backends.config import project_db_url

        return project_db_url(os.environ.get(self.url_env) or self.default_url)


HISTORIES = {
    h.name: h
    for h in (
        History(
            "backends",
            "backends.db:Base.metadata",
            "backends/migrations",
            "BACKENDS_DB_URL",
            "sqlite:///var/backends.db",
        ),
        History(
            "dashboard",
            "dashboard.db:Base.metadata",
            "dashboard/migrations",
            "DASHBOARD_DB_URL",
            "sqlite:///var/dashboard.db",
        ),
        History(
            "channel",
            "connectors.store:metadata",
            "connectors/migrations",
            "WHATSAPP_DB_URL",
            "sqlite:///var/whatsapp.db",
        ),
    )
}


def config(name: str, connection: Any = None, metadata: sa.MetaData | None = None) -> Config:
    """Alembic's configuration of history ``name`` (run on ``connection`` when given)."""
    history = HISTORIES[name]
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / history.directory))
    cfg.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    cfg.attributes["history"] = name
    if connection is not None:
        cfg.attributes["connection"] = connection
    if metadata is not None:
        cfg.attributes["target_metadata"] = metadata
    return cfg


def _owned(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Only this history's tables: a table in the database that the models do not
    declare (Rasa's, another history's) is none of its business."""
    return not (type_ == "table" and reflected and compare_to is None)


def context_options(name: str, metadata: sa.MetaData) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        "version_table": HISTORIES[name].version_table,
        "include_object": _owned,
        "compare_type": True,
        "render_as_batch": True,  # SQLite alters a table by copying it
    }


def run_env(name: str) -> None:
    """The body of every ``migrations/env.py``."""
    from alembic import context

    cfg = context.config
    metadata = cfg.attributes.get("target_metadata") or HISTORIES[name].metadata()
    options = context_options(name, metadata)
    if context.is_offline_mode():
        url = cfg.get_main_option("sqlalchemy.url") or HISTORIES[name].url()
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = cfg.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(cfg.get_main_option("sqlalchemy.url") or HISTORIES[name].url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def current(name: str, connection: sa.engine.Connection) -> str | None:
    opts = {"version_table": HISTORIES[name].version_table}
    return MigrationContext.configure(connection, opts=opts).get_current_revision()


def head(name: str) -> str:
    return str(ScriptDirectory.from_config(config(name)).get_current_head())


def _columns(connection: sa.engine.Connection, tables: set[str]) -> set[str]:
    inspector = sa.inspect(connection)
    return {f"{t}.{c['name']}" for t in tables for c in inspector.get_columns(t)}


def _schemas(name: str) -> list[tuple[str, set[str], set[str]]]:
    """(revision, tables, "table.column"s) after each revision, baseline first."""
    script = ScriptDirectory.from_config(config(name))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    schemas = []
    scratch = sa.create_engine("sqlite://")
    with scratch.begin() as c:
        for revision in revisions:
            command.upgrade(config(name, c), revision)
            tables = set(sa.inspect(c).get_table_names()) - {HISTORIES[name].version_table}
            schemas.append((revision, tables, _columns(c, tables)))
    scratch.dispose()
    return schemas


def _adopt(name: str, connection: sa.engine.Connection) -> None:
    """Stamp a database ``create_all`` made (before migrations) at the newest revision
    whose every table and column it has: the baseline, or later if the code that made it
    already had later models. One older than the baseline is refused, naming what it
    lacks (run the release before on it once)."""
    present = set(sa.inspect(connection).get_table_names())
    have = _columns(connection, present)
    schemas = _schemas(name)
    matching = [rev for rev, tables, columns in schemas if columns <= have and tables <= present]
    if not matching:
        _, tables, columns = schemas[0]
        problems = sorted(c for c in columns - have if c.split(".")[0] in present)
        if tables - present:
            problems.append(f"tables {', '.join(sorted(tables - present))}")
        raise RuntimeError(
            f"the {name} database predates the baseline schema (missing: "
            f"{', '.join(problems)}): start the previous release on it once, then upgrade"
        )
    command.stamp(config(name, connection), matching[-1])
    log.info("schema %s: existing database stamped at %s", name, matching[-1])


def upgrade(name: str, engine: sa.engine.Engine, revision: str = "head") -> None:
    """Bring ``engine``'s database to ``revision`` (one process at a time)."""
    with database_lock(engine, f"migrate:{name}", wait=True):
        with engine.begin() as connection:
            if current(name, connection) is None:
                owned = set(HISTORIES[name].metadata().tables)
                if owned & set(sa.inspect(connection).get_table_names()):
                    _adopt(name, connection)
            command.upgrade(config(name, connection), revision)


def on_start(name: str, engine: sa.engine.Engine) -> None:
    """What a service does with its schema at start-up (see the module's docstring)."""
    if engine.dialect.name == "sqlite" or os.environ.get("SCHEMA_UPGRADE_ON_START") != "0":
        upgrade(name, engine)
        return
    with engine.connect() as connection:
        at = current(name, connection)
    if at != head(name):
        raise RuntimeError(
            f"the {name} database is at revision {at}, this release needs {head(name)}: "
            f"run `python -m ops.migrate upgrade {name}` first (docs/operations.md)"
        )


def diffs(
    name: str, connection: sa.engine.Connection, metadata: sa.MetaData | None = None
) -> list[Any]:
    """What the models (or ``metadata``) have that the database on ``connection`` lacks,
    or the other way round (Alembic's autogenerate comparison)."""
    metadata = metadata if metadata is not None else HISTORIES[name].metadata()
    context = MigrationContext.configure(connection, opts=context_options(name, metadata))
    return list(compare_metadata(context, metadata))


def check(name: str, url: str | None = None) -> None:
    """``alembic check``: a database at head (a scratch SQLite one unless ``url``) must
    match the models; raises ``alembic.util.AutogenerateDiffsDetected`` otherwise."""
    with tempfile.TemporaryDirectory() as directory:
        engine = sa.create_engine(url or f"sqlite:///{directory}/{name}.db")
        try:
            upgrade(name, engine)
            with engine.connect() as connection:
                command.check(config(name, connection))
        finally:
            engine.dispose()


def revision(name: str, message: str) -> None:
    """Write the next revision of ``name``: what the models have beyond head (Alembic's
    autogenerate against a scratch SQLite database; read it before committing)."""
    engine = sa.create_engine("sqlite://")
    try:
        upgrade(name, engine)
        with engine.begin() as connection:
            rev_id = f"{int(head(name)) + 1:04d}"
            command.revision(
                config(name, connection), message=message, autogenerate=True, rev_id=rev_id
            )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.migrate", description=__doc__)
    actions = ["upgrade", "downgrade", "current", "check", "stamp", "revision"]
    parser.add_argument("action", choices=actions)
    parser.add_argument("history", nargs="?", choices=sorted(HISTORIES))
    parser.add_argument("revision", nargs="?", help="upgrade: head; downgrade: -1 or an id")
    parser.add_argument("--url", help="database URL (default: the service's variable)")
    parser.add_argument("-m", "--message", help="revision: what it changes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    names = [args.history] if args.history else sorted(HISTORIES)
    if args.action == "check":
        for name in names:
            check(name, args.url)
            print(f"{name}: the migrations match the models (head {head(name)})")
        return 0
    if not args.history:
        parser.error(f"{args.action} needs a history: {', '.join(sorted(HISTORIES))}")
    if args.action == "revision":
        if not args.message:
            parser.error("revision needs -m MESSAGE")
        revision(args.history, args.message)
        return 0
    engine = sa.create_engine(args.url or HISTORIES[args.history].url())
    try:
        if args.action == "upgrade":
            upgrade(args.history, engine, args.revision or "head")
        elif args.action in ("downgrade", "stamp"):
            if not args.revision:
                parser.error(f"{args.action} needs a revision")
            with database_lock(engine, f"migrate:{args.history}", wait=True):
                with engine.begin() as connection:
                    run = command.downgrade if args.action == "downgrade" else command.stamp
                    run(config(args.history, connection), args.revision)
        with engine.connect() as connection:
            print(
                f"{args.history}: at {current(args.history, connection)}, head {head(args.history)}"
            )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

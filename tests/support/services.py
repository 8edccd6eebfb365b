"""Real PostgreSQL and Redis for the production-profile tests and benchmark.

    with private_postgres() as pg, private_redis() as redis_url:
        url = pg.create_database("tracker")   # postgresql://postgres@127.0.0.1:<port>/tracker

Each context starts a throw-away server on a free loopback port (a PostgreSQL cluster
made with Debian's ``pg_createcluster``, trust authentication on loopback only; a
``redis-server`` child without persistence) and removes it on exit, so tests can
restart or stop them without disturbing anything else on the machine. Missing
binaries are installed from Debian's packages first (``apt-get install postgresql
redis-server``; root is needed for that and for ``pg_createcluster``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa

from tests.support.processes import child_process, free_port

PACKAGES = {"pg_createcluster": "postgresql", "redis-server": "redis-server"}


def ensure_installed(command: str) -> None:
    """Installs the Debian package providing ``command`` if it is not on this machine."""
    if shutil.which(command):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", PACKAGES[command]],
        check=True,
        env=env,
    )
    if not shutil.which(command):
        raise RuntimeError(f"{command} is still missing after installing {PACKAGES[command]}")


def _postgres_version() -> str:
    versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
    return versions[-1].name


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.1)


@dataclasses.dataclass
class Postgres:
    version: str
    cluster: str
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, action: str, *extra: str) -> None:
        subprocess.run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                self.version,
                self.cluster,
                action,
                *extra,
            ],
            check=True,
            capture_output=True,
        )

    def execute(self, statement: str, database: str = "postgres") -> list[Any]:
        """Runs one statement outside a transaction (as psql would); returns its rows."""
        engine = sa.create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                result = connection.execute(sa.text(statement))
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def create_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start(self) -> None:
        self._ctl("start")
        wait_for_port(self.port)

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """``pg_ctlcluster restart``: every open connection is cut."""
        self._ctl("restart", "-m", "fast")
        wait_for_port(self.port)


@contextlib.contextmanager
def private_postgres() -> Iterator[Postgres]:
    ensure_installed("pg_createcluster")
    version = _postgres_version()
    cluster = f"ds_{os.getpid()}_{secrets.token_hex(3)}"
    port = free_port()
    subprocess.run(
        ["pg_createcluster", version, cluster, "-p", str(port), "--"]
        + ["--auth-host=trust", "--auth-local=trust"],
        check=True,
        capture_output=True,
    )
    postgres = Postgres(version, cluster, port)
    try:
        postgres.start()
        yield postgres
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", version, cluster], check=False, capture_output=True
        )


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """A ``redis-server`` on a free loopback port; yields its ``redis://`` url."""
    ensure_installed("redis-server")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    command += ["--appendonly", "no", "--dir", str(directory)]
    with child_process(command, os.environ, directory / "redis.log", ready_url=None):
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"


def production_env(postgres: Postgres, redis_url: str, **overrides: str) -> dict[str, str]:
    """The environment of ``endpoints.prod.yml``, the channel and the backends, on fresh
    databases of ``postgres`` (tracker, events, channel, backends)."""
    redis = urlparse(redis_url)
    env = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(postgres.port),
        "DB_USER": "postgres",
        "DB_PASSWORD": "",
        "DB_LOGIN_DB": "postgres",
        "TRACKER_DB": "tracker",
        "EVENTS_DB": "events",
        "REDIS_HOST": str(redis.hostname),
        "REDIS_PORT": str(redis.port),
        "REDIS_PASSWORD": "",
        "REDIS_DB": "1",
        "TICKET_LOCK_LIFETIME": "360",
        "WHATSAPP_STUCK_AFTER_SECONDS": "420",
        "SANIC_WORKERS": "1",
        # Rasa sends it to the action server (endpoints.prod.yml), which checks it when
        # it is given the same value
        "ACTION_SERVER_TOKEN": "test-action-server-token-0123456789",
        "WHATSAPP_DB_URL": "",
        "BACKENDS_DB_URL": "",
    }
    for name in ("tracker", "events", "channel", "backends"):
        url = postgres.create_database(name)
        if name == "channel":
            env["WHATSAPP_DB_URL"] = url
        elif name == "backends":
            env["BACKENDS_DB_URL"] = url
    return {**env, **overrides}

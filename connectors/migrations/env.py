"""Alembic environment of the channel history (see ops/migrate.py)."""

from ops.migrate import run_env

run_env("channel")

"""Alembic environment of the backends history (see ops/migrate.py)."""

from ops.migrate import run_env

run_env("backends")

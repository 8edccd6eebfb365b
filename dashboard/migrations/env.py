"""Alembic environment of the dashboard history (see ops/migrate.py)."""

from ops.migrate import run_env

run_env("dashboard")

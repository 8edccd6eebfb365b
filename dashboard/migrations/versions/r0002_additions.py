"""Additions after the baseline: the audit log's hash chain (dashboard_audit.prev_hash, .hash,
issue 13 item 10), CSC counter payments and SMS confirmation codes
(dashboard_csc_payments, dashboard_csc_codes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 03:36:17.079546
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_csc_codes",
        sa.Column("application_id", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "dashboard_csc_payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_number", sa.String(length=30), nullable=False),
        sa.Column("application_id", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_number"),
    )
    with op.batch_alter_table("dashboard_csc_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_csc_payments_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dashboard_csc_payments_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dashboard_csc_payments_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("dashboard_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ux_dashboard_audit_prev_hash", ["prev_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("dashboard_audit", schema=None) as batch_op:
        batch_op.drop_index("ux_dashboard_audit_prev_hash")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")

    with op.batch_alter_table("dashboard_csc_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_csc_payments_user_id"))
        batch_op.drop_index(batch_op.f("ix_dashboard_csc_payments_at"))
        batch_op.drop_index(batch_op.f("ix_dashboard_csc_payments_application_id"))

    op.drop_table("dashboard_csc_payments")
    op.drop_table("dashboard_csc_codes")

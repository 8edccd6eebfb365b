"""Baseline: the schema as create_all made it before migrations existed.

A database made then is stamped at this revision (ops.migrate.upgrade), never
recreated; an empty one is created by upgrading to head.

Revision ID: 0001
Revises:
Create Date: 2026-12-07 03:35:34.982930
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_audit_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_dashboard_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dashboard_audit_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_dashboard_audit_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dashboard_csc_filings",
        sa.Column("application_id", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("centre", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("mobile_last4", sa.String(length=4), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("application_id"),
    )
    with op.batch_alter_table("dashboard_csc_filings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_csc_filings_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "dashboard_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dashboard_login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_who", ["username", "ip", "at"], unique=False)

    op.create_table(
        "dashboard_nlu_annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("predicted_intent", sa.String(length=64), nullable=False),
        sa.Column("predicted_confidence", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("annotated_by", sa.String(length=64), nullable=False),
        sa.Column("annotated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("dashboard_nlu_annotations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_nlu_annotations_annotated_at"), ["annotated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dashboard_nlu_annotations_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dashboard_nlu_annotations_language"), ["language"], unique=False
        )

    op.create_table(
        "dashboard_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("dashboard_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_sessions_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "dashboard_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("csc_centre", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_users")
    with op.batch_alter_table("dashboard_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_sessions_user_id"))

    op.drop_table("dashboard_sessions")
    with op.batch_alter_table("dashboard_nlu_annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_nlu_annotations_language"))
        batch_op.drop_index(batch_op.f("ix_dashboard_nlu_annotations_event_id"))
        batch_op.drop_index(batch_op.f("ix_dashboard_nlu_annotations_annotated_at"))

    op.drop_table("dashboard_nlu_annotations")
    with op.batch_alter_table("dashboard_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_who")

    op.drop_table("dashboard_login_failures")
    with op.batch_alter_table("dashboard_csc_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_csc_filings_user_id"))

    op.drop_table("dashboard_csc_filings")
    with op.batch_alter_table("dashboard_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_audit_user_id"))
        batch_op.drop_index(batch_op.f("ix_dashboard_audit_subject"))
        batch_op.drop_index(batch_op.f("ix_dashboard_audit_at"))
        batch_op.drop_index(batch_op.f("ix_dashboard_audit_action"))

    op.drop_table("dashboard_audit")

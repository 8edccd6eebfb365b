"""Baseline: the schema as create_all made it before migrations existed.

A database made then is stamped at this revision (ops.migrate.upgrade), never
recreated; an empty one is created by upgrading to head.

Revision ID: 0001
Revises:
Create Date: 2026-12-07 03:35:43.970317
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
        "whatsapp_contacts",
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("wa_id", "phone_number_id"),
    )
    op.create_table(
        "whatsapp_erasures",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "whatsapp_handoffs",
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("officer_id", sa.String(length=100), nullable=False),
        sa.Column("officer_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("wa_id"),
    )
    op.create_table(
        "whatsapp_inbox",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    with op.batch_alter_table("whatsapp_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_inbox_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_whatsapp_inbox_wa_id"), ["wa_id"], unique=False)

    op.create_table(
        "whatsapp_issued_payloads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "whatsapp_notifications",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "whatsapp_replies",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "whatsapp_statuses",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_statuses")
    op.drop_table("whatsapp_replies")
    op.drop_table("whatsapp_notifications")
    op.drop_table("whatsapp_issued_payloads")
    with op.batch_alter_table("whatsapp_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_inbox_wa_id"))
        batch_op.drop_index(batch_op.f("ix_whatsapp_inbox_state"))

    op.drop_table("whatsapp_inbox")
    op.drop_table("whatsapp_handoffs")
    op.drop_table("whatsapp_erasures")
    op.drop_table("whatsapp_contacts")

"""The coordinator's curation of the medical summary, per iss + patient.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "item_curations",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("patient_id", sa.String(200), primary_key=True),
        sa.Column("item_ref", sa.String(200), primary_key=True),
        sa.Column("hidden", sa.Boolean, nullable=False),
        sa.Column("hidden_reason", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(500), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "added_items",
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("section", sa.String(40), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("added_by", sa.String(500), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.Column("removed_at", TZ),
    )
    op.create_index("ix_added_items_patient", "added_items", ["iss", "patient_id"])


def downgrade() -> None:
    op.drop_table("added_items")
    op.drop_table("item_curations")

"""The signed record: the medical summary as read and curated, About us and emergency information,
kept with each signed plan version so that the signed documents never change afterwards.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "signed_records",
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("signed_records")

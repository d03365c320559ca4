"""Action tracking and review: the summary snapshot kept with each signed plan version, and the
health events marked reviewed (per site + patient, per signed version).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signing_snapshots",
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
    )
    op.create_table(
        "reviewed_events",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("patient_id", sa.String(200), primary_key=True),
        sa.Column("signed_version", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(400), primary_key=True),
        sa.Column("reviewed_by", sa.String(500), nullable=False),
        sa.Column("reviewed_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reviewed_events")
    op.drop_table("signing_snapshots")

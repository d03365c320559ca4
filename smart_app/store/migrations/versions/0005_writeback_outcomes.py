"""Write-back outcomes: one append-only row per attempt to file a signed plan version in the EHR.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "writeback_filings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("plan_version", sa.Integer, nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("resources", sa.JSON, nullable=False),
        sa.Column("ehr_link", sa.String(1000), nullable=False),
        sa.Column("differences", sa.JSON, nullable=False),
        sa.Column("attempted_by", sa.String(500), nullable=False),
        sa.Column("attempted_at", TZ, nullable=False),
    )
    op.create_index("ix_writeback_filings_plan", "writeback_filings", ["plan_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_writeback_filings_plan", table_name="writeback_filings")
    op.drop_table("writeback_filings")

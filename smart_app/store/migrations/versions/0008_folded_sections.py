"""The summary sections each user keeps folded, remembered per site.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "folded_sections",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("fhir_user", sa.String(500), primary_key=True),
        sa.Column("section", sa.String(40), primary_key=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("folded_sections")

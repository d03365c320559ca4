"""About us answers and emergency information (versioned), release-of-information consent, and the
short-lived links that open the family copy outside the EHR frame; per iss + patient.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "about_versions",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("patient_id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("saved_by", sa.String(500), nullable=False),
        sa.Column("saved_at", TZ, nullable=False),
    )
    op.create_table(
        "consent_entries",
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("consented_by", sa.Text, nullable=False),
        sa.Column("consented_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(500), nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("withdrawn_at", TZ),
        sa.Column("withdrawn_by", sa.String(500)),
    )
    op.create_index("ix_consent_entries_patient", "consent_entries", ["iss", "patient_id"])
    op.create_table(
        "family_copy_links",
        sa.Column("link_hash", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("lang", sa.String(10), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("family_copy_links")
    op.drop_table("consent_entries")
    op.drop_table("about_versions")

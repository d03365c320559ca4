"""The family's own way into the plan: family launches, their requests, visits and access grants.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("launch_sessions") as batch:
        batch.add_column(sa.Column("audience", sa.String(20), nullable=False, server_default="professional"))
        batch.add_column(sa.Column("person_name", sa.String(300)))
        batch.add_column(sa.Column("access_rule", sa.String(40)))
    op.create_table(
        "family_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("by_name", sa.String(300), nullable=False),
        sa.Column("by_user", sa.String(500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reply", sa.Text, nullable=False),
        sa.Column("closed_by", sa.String(300)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_family_requests_patient", "family_requests", ["iss", "patient_id"])
    op.create_table(
        "family_visits",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("patient_id", sa.String(200), primary_key=True),
        sa.Column("fhir_user", sa.String(500), primary_key=True),
        sa.Column("seen_version", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "family_access_grants",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("patient_id", sa.String(200), primary_key=True),
        sa.Column("fhir_user", sa.String(500), primary_key=True),
        sa.Column("granted_by", sa.String(300), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("family_access_grants")
    op.drop_table("family_visits")
    op.drop_index("ix_family_requests_patient", table_name="family_requests")
    op.drop_table("family_requests")
    with op.batch_alter_table("launch_sessions") as batch:
        batch.drop_column("access_rule")
        batch.drop_column("person_name")
        batch.drop_column("audience")

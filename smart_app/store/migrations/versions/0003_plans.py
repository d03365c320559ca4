"""Plans and their immutable versions (compare-and-swap on the current version number), and the
role a user acts in for a launch.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("plan_id", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("iss", "patient_id", name="uq_plans_patient"),
    )
    op.create_table(
        "plan_versions",
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("saved_by", sa.String(500), nullable=False),
        sa.Column("saved_at", TZ, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )


    # The role the user acts in for this launch (coordinator, clinician...), chosen once per launch
    # and remembered per user at each site as the default for their next launch.
    with op.batch_alter_table("launch_sessions") as batch:
        batch.add_column(sa.Column("acting_role", sa.String(40)))
    op.create_table(
        "acting_roles",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("fhir_user", sa.String(500), primary_key=True),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    # EHR goals and referrals the coordinator chose not to turn into plan items.
    op.create_table(
        "ignored_suggestions",
        sa.Column("iss", sa.String(500), primary_key=True),
        sa.Column("patient_id", sa.String(200), primary_key=True),
        sa.Column("item_key", sa.String(300), primary_key=True),
        sa.Column("ignored_by", sa.String(500), nullable=False),
        sa.Column("ignored_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ignored_suggestions")
    op.drop_table("acting_roles")
    with op.batch_alter_table("launch_sessions") as batch:
        batch.drop_column("acting_role")
    op.drop_table("plan_versions")
    op.drop_table("plans")

"""Launch sessions, pending authorizations and the append-only audit trail.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pending_authorizations",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.LargeBinary, nullable=False),
        sa.Column("token_endpoint", sa.String(1000), nullable=False),
        sa.Column("issuer", sa.String(1000)),
        sa.Column("jwks_uri", sa.String(1000)),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
    )
    op.create_table(
        "launch_sessions",
        sa.Column("launch_id", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("fhir_user", sa.String(500)),
        sa.Column("encounter_id", sa.String(200)),
        sa.Column("need_patient_banner", sa.Boolean, nullable=False),
        sa.Column("intent", sa.String(100)),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("access_token", sa.LargeBinary, nullable=False),
        sa.Column("refresh_token", sa.LargeBinary),
        sa.Column("token_endpoint", sa.String(1000), nullable=False),
        sa.Column("expires_at", TZ),
        sa.Column("refreshed_at", TZ),
        sa.Column("token_version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("end_reason", sa.String(100)),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("iss", sa.String(500)),
        sa.Column("patient_id", sa.String(200)),
        sa.Column("user", sa.String(500)),
        sa.Column("launch_id_hash", sa.String(64)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_patient", "audit_events", ["iss", "patient_id"])
    if op.get_bind().dialect.name == "postgresql":
        # R65: the audit trail is append-only, enforced by the database, not just by our code.
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
            """
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("launch_sessions")
    op.drop_table("pending_authorizations")

"""Table definitions (SQLAlchemy Core). Migrations in migrations/ must match these.

Layer: shell services.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per authorization request in flight; `state` is stored only as a SHA-256 hash.
pending_authorizations = sa.Table(
    "pending_authorizations",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # ehr | standalone
    sa.Column("browser_hash", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.LargeBinary, nullable=False),  # encrypted
    sa.Column("token_endpoint", sa.String(1000), nullable=False),
    sa.Column("issuer", sa.String(1000)),  # discovery `issuer`, for the RFC 9207 check
    sa.Column("jwks_uri", sa.String(1000)),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

launch_sessions = sa.Table(
    "launch_sessions",
    metadata,
    sa.Column("launch_id", sa.String(64), primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("fhir_user", sa.String(500)),
    sa.Column("encounter_id", sa.String(200)),
    sa.Column("need_patient_banner", sa.Boolean, nullable=False, default=True),
    sa.Column("intent", sa.String(100)),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("browser_hash", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("access_token", sa.LargeBinary, nullable=False),  # encrypted
    sa.Column("refresh_token", sa.LargeBinary),  # encrypted
    sa.Column("token_endpoint", sa.String(1000), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("refreshed_at", sa.DateTime(timezone=True)),
    sa.Column("token_version", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("end_reason", sa.String(100)),
    sa.Column("acting_role", sa.String(40)),  # coordinator | clinician | ...: chosen once per launch
)

# Append-only (R65): the app only inserts. No free text, no tokens: codes, ids and counts.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),  # launch, auth-failure, fhir-search, ...
    sa.Column("outcome", sa.String(30), nullable=False),  # success | failure | denied ...
    sa.Column("iss", sa.String(500)),
    sa.Column("patient_id", sa.String(200)),
    sa.Column("user", sa.String(500)),
    sa.Column("launch_id_hash", sa.String(64)),
    sa.Column("detail", sa.JSON, nullable=False, default=dict),
)
sa.Index("ix_audit_patient", audit_events.c.iss, audit_events.c.patient_id)

# The coordinator's curation of the summary (issue 3), per site + patient (R61: keys carry the iss).
item_curations = sa.Table(
    "item_curations",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("patient_id", sa.String(200), primary_key=True),
    sa.Column("item_ref", sa.String(200), primary_key=True),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sa.Column("hidden_reason", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(500), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

added_items = sa.Table(
    "added_items",
    metadata,
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("section", sa.String(40), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("contact", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("added_by", sa.String(500), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("removed_at", sa.DateTime(timezone=True)),
)
sa.Index("ix_added_items_patient", added_items.c.iss, added_items.c.patient_id)

# One plan per site + patient; every save is an immutable row in plan_versions (issue 4).
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("iss", "patient_id", name="uq_plans_patient"),
)

plan_versions = sa.Table(
    "plan_versions",
    metadata,
    sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("saved_by", sa.String(500), nullable=False),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

acting_roles = sa.Table(
    "acting_roles",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("fhir_user", sa.String(500), primary_key=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

ignored_suggestions = sa.Table(
    "ignored_suggestions",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("patient_id", sa.String(200), primary_key=True),
    sa.Column("item_key", sa.String(300), primary_key=True),
    sa.Column("ignored_by", sa.String(500), nullable=False),
    sa.Column("ignored_at", sa.DateTime(timezone=True), nullable=False),
)

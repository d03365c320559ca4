"""Every table of the app's store (SQLAlchemy Core), in one place. Migrations in migrations/ must match.

Layer: store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData()


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the store keeps is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


EVENT_ID_LENGTH = 400  # a HealthEvent.event_id

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
    sa.Column("audience", sa.String(20), nullable=False, default="professional"),  # professional | family
    sa.Column("person_name", sa.String(300)),  # a family launch: who signed in, "Ana Rivera (mother)"
    sa.Column("access_rule", sa.String(40)),  # a family launch: the rule that let them in (plan.family_access)
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

# The summary sections a user keeps folded, per site: a row per folded section (absent: open).
folded_sections = sa.Table(
    "folded_sections",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("fhir_user", sa.String(500), primary_key=True),
    sa.Column("section", sa.String(40), primary_key=True),
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


signing_snapshots = sa.Table(
    "signing_snapshots",
    metadata,
    sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),  # the signed plan version
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("signed_on", sa.Date, nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),  # review_cycle.snapshot_to_json
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# What was signed besides the plan: plan.signed_record, as JSON (written once per signed version).
signed_records = sa.Table(
    "signed_records",
    metadata,
    sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# A mark holds for the signed version it was made against: a new signing starts a new review cycle.
reviewed_events = sa.Table(
    "reviewed_events",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("patient_id", sa.String(200), primary_key=True),
    sa.Column("signed_version", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(EVENT_ID_LENGTH), primary_key=True),  # HealthEvent.event_id
    sa.Column("reviewed_by", sa.String(500), nullable=False),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
)


# Every save of the intake answers or the emergency information is a new immutable version.
about_versions = sa.Table(
    "about_versions",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("patient_id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),  # intake | emergency
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("saved_by", sa.String(500), nullable=False),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
)

consent_entries = sa.Table(
    "consent_entries",
    metadata,
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
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    sa.Column("withdrawn_by", sa.String(500)),
)
sa.Index("ix_consent_entries_patient", consent_entries.c.iss, consent_entries.c.patient_id)

# Short-lived links that open the family copy outside the EHR frame. Only a hash of the link id is
# kept; the rendered copy is deleted once the link has expired.
family_copy_links = sa.Table(
    "family_copy_links",
    metadata,
    sa.Column("link_hash", sa.String(64), primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("lang", sa.String(10), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


writeback_filings = sa.Table(
    "writeback_filings",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("plan_id", sa.String(64), nullable=False),
    sa.Column("plan_version", sa.Integer, nullable=False),
    sa.Column("tier", sa.String(20), nullable=False),  # structured | note | app-only
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("message", sa.Text, nullable=False),  # plain language, with the EHR's OperationOutcome text
    sa.Column("http_status", sa.Integer),
    sa.Column("resources", sa.JSON, nullable=False),  # write key -> {"reference", "version_id"}
    sa.Column("ehr_link", sa.String(1000), nullable=False),  # the EHR's copy: "CarePlan/abc" or ""
    sa.Column("differences", sa.JSON, nullable=False),  # for RECONCILE: [{"what", "ours", "theirs"}]
    sa.Column("attempted_by", sa.String(500), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_writeback_filings_plan", writeback_filings.c.plan_id, writeback_filings.c.id)


# The family's own requests (issue 18): questions for the next visit, "need help" on an action, proposed
# changes to About us. Written by the family; closed (answered, accepted, declined) by a professional.
family_requests = sa.Table(
    "family_requests",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("iss", sa.String(500), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # question | need-help | about-change
    sa.Column("subject_id", sa.String(200), nullable=False),  # the action, the About us field, or ""
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("by_name", sa.String(300), nullable=False),
    sa.Column("by_user", sa.String(500), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # open | answered | accepted | declined
    sa.Column("reply", sa.Text, nullable=False, default=""),
    sa.Column("closed_by", sa.String(300)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
)
sa.Index("ix_family_requests_patient", family_requests.c.iss, family_requests.c.patient_id)

# When each family member last opened their plan: the baseline of "what changed since your last visit".
family_visits = sa.Table(
    "family_visits",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("patient_id", sa.String(200), primary_key=True),
    sa.Column("fhir_user", sa.String(500), primary_key=True),
    sa.Column("seen_version", sa.Integer, nullable=False),  # the signed plan version they last saw
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

# A parent's access to an adolescent's plan where the site says "ask": granted by the care team.
family_access_grants = sa.Table(
    "family_access_grants",
    metadata,
    sa.Column("iss", sa.String(500), primary_key=True),
    sa.Column("patient_id", sa.String(200), primary_key=True),
    sa.Column("fhir_user", sa.String(500), primary_key=True),
    sa.Column("granted_by", sa.String(300), nullable=False),
    sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
)

"""The Shared Plan of Care SMART app: `create_app(settings)` builds the Flask app.

Layer: composition root. Reads no environment at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from .audit import AuditTrail
from .clock import Clock
from .config import Settings
from .launch.discovery import DiscoveryClient
from .launch.oauth import ClientKeys
from .security import TokenCipher
from .services import Services
from .services.about_us import AboutUsService, link_secret
from .services.ehr_access import EhrAccess
from .services.family import FamilyService
from .services.family_access import FamilyAccessService
from .services.filing import FilingService
from .services.planning import PlanningService
from .services.summary import SummaryService
from .services.tracking import TrackingService
from .session import SessionStore
from .store import create_engine
from .store.about_store import AboutStore
from .store.curation_store import CurationStore
from .store.family_store import FamilyStore
from .store.plan_store import PlanStore
from .store.tracking_store import TrackingStore
from .store.filing_store import FilingStore
from .tenants import TenantRegistry

PACKAGE_DIR = Path(__file__).resolve().parent
# A source checkout serves the top-level static/; the wheel carries it as smart_app/static/ (setup.py).
STATIC_DIR = next((d for d in (PACKAGE_DIR / "static", PACKAGE_DIR.parent / "static") if d.is_dir()),
                  PACKAGE_DIR.parent / "static")


@dataclass(frozen=True)
class AppState:
    """Everything a request handler needs, built once per process."""

    settings: Settings
    tenants: TenantRegistry
    clock: Clock
    sessions: SessionStore
    audit: AuditTrail
    discovery: DiscoveryClient
    client_keys: ClientKeys
    services: Services
    engine: object


def create_app(settings: Settings | None = None, tenants: TenantRegistry | None = None, *,
               clock: Clock | None = None) -> Flask:
    settings = settings or Settings.from_env()
    clock = clock or settings.clock()
    # R64: urllib3 logs full request URLs at DEBUG (FHIR queries, OAuth redirects); never let it.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    tenants = tenants or TenantRegistry.load(settings.tenants_file)
    engine = create_engine(settings.database_url)
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(SECRET_KEY=settings.secret_key or None, TRUSTED_HOSTS=list(settings.trusted_hosts) or None)
    sessions = SessionStore(
        engine,
        TokenCipher(settings.token_keys),
        idle_timeout_s=settings.session_idle_timeout_s,
        state_lifetime_s=settings.state_lifetime_s,
        clock=clock.now,
    )
    audit = AuditTrail(engine, clock)
    client_keys = ClientKeys(tenants)
    app.extensions["spoc"] = AppState(
        settings=settings,
        tenants=tenants,
        clock=clock,
        sessions=sessions,
        audit=audit,
        discovery=DiscoveryClient(timeout_s=settings.fhir_timeout_s),
        client_keys=client_keys,
        services=build_services(settings, engine, sessions, audit, clock,
                                ehr=EhrAccess(sessions, client_keys, timeout_s=settings.fhir_timeout_s)),
        engine=engine,
    )
    from . import web
    from .launch.routes import bp as launch_bp
    from .views.about_pages import bp as about_bp
    from .views.family_copy_pages import bp as family_copy_bp
    from .views.family_copy_pages import links_bp
    from .views.family_pages import bp as family_bp
    from .views.home import bp as home_bp
    from .views.plan_pages import bp as review_bp
    from .views.progress_pages import bp as tracking_bp
    from .views.summary_pages import bp as summary_bp
    from .writeback.filing_routes import bp as writeback_bp

    web.register(app)
    app.register_blueprint(launch_bp)
    app.register_blueprint(home_bp)
    for blueprint in (summary_bp, review_bp, about_bp, family_copy_bp, links_bp, tracking_bp, writeback_bp,
                      family_bp):
        app.register_blueprint(blueprint)
    return app


def build_services(settings: Settings, engine, sessions: SessionStore, audit: AuditTrail, clock: Clock, *,
                   ehr: EhrAccess) -> Services:
    """Every use case over one store, one EHR access and one clock, each built once."""
    curations, plans = CurationStore(engine), PlanStore(engine)
    snapshots = TrackingStore(engine)
    summary = SummaryService(ehr, curations, sessions, audit, clock)
    about_store = AboutStore(engine)
    planning = PlanningService(plans, snapshots, curations, about_store, sessions, summary, audit, clock)
    about_us = AboutUsService(about_store, summary, planning, audit, clock,
                              link_secret=link_secret(settings.secret_key, settings.token_keys),
                              family_css=(STATIC_DIR / "css" / "family.css").read_text(encoding="utf-8"))
    family_store = FamilyStore(engine)
    return Services(
        summary=summary,
        planning=planning,
        tracking=TrackingService(planning, snapshots, summary, ehr, audit, clock, family_store),
        filing=FilingService(ehr, FilingStore(engine), planning, summary, audit, clock),
        about_us=about_us,
        family=FamilyService(planning, about_us, family_store, audit, clock),
        family_access=FamilyAccessService(ehr, sessions, family_store, audit, clock),
    )

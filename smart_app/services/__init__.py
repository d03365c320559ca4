"""The use cases, one home each: the summary, planning, tracking, filing, About us, the family copy and
the family's own door.

Layer: services. Built once per process in `create_app`; views call these and nothing below them.
Only services use the store and the EHR gateway; the rules they apply live in smart_app.plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from .about_us import AboutUsService
from .family import FamilyService
from .family_access import FamilyAccessService
from .filing import FilingService
from .planning import PlanningService
from .summary import SummaryService
from .tracking import TrackingService


@dataclass(frozen=True)
class Services:
    summary: SummaryService
    planning: PlanningService
    tracking: TrackingService
    filing: FilingService
    about_us: AboutUsService
    family: FamilyService
    family_access: FamilyAccessService


__all__ = ["AboutUsService", "FamilyAccessService", "FamilyService", "FilingService", "PlanningService", "Services", "SummaryService", "TrackingService"]

"""The use cases, one home each: the summary, planning, tracking, filing, About us and the family copy.

Layer: services. Built once per process in `create_app`; views call these and nothing below them.
Only services use the store and the EHR gateway; the rules they apply live in smart_app.plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from .about_us import AboutUsService
from .family import FamilyService
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


__all__ = ["AboutUsService", "FamilyService", "FilingService", "PlanningService", "Services", "SummaryService", "TrackingService"]

"""Persistence of the summary's curation, per iss + patient.

Layer: shell services (store). Converts rows to and from plan.curation values.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..plan.curation import AddedItem, ItemCuration
from .schema import added_items, ignored_suggestions, item_curations


class CurationStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def curations(self, iss: str, patient_id: str) -> dict[str, ItemCuration]:
        query = sa.select(item_curations).where(item_curations.c.iss == iss, item_curations.c.patient_id == patient_id)
        with self.engine.connect() as conn:
            return {row.item_ref: _curation(row) for row in conn.execute(query)}

    def curation(self, iss: str, patient_id: str, ref: str) -> ItemCuration | None:
        return self.curations(iss, patient_id).get(ref)

    def save_curation(self, iss: str, patient_id: str, curation: ItemCuration) -> None:
        values = dict(hidden=curation.hidden, hidden_reason=curation.hidden_reason, note=curation.note,
                      updated_by=curation.by, updated_at=curation.at)
        key = (item_curations.c.iss == iss, item_curations.c.patient_id == patient_id,
               item_curations.c.item_ref == curation.ref)
        with self.engine.begin() as conn:
            if not conn.execute(item_curations.update().where(*key).values(**values)).rowcount:
                conn.execute(item_curations.insert().values(iss=iss, patient_id=patient_id, item_ref=curation.ref,
                                                            **values))

    def added(self, iss: str, patient_id: str) -> list[AddedItem]:
        query = (sa.select(added_items)
                 .where(added_items.c.iss == iss, added_items.c.patient_id == patient_id,
                        added_items.c.removed_at.is_(None))
                 .order_by(added_items.c.added_at))
        with self.engine.connect() as conn:
            return [_added(row) for row in conn.execute(query)]

    def add(self, iss: str, patient_id: str, item: AddedItem) -> None:
        with self.engine.begin() as conn:
            conn.execute(added_items.insert().values(
                item_id=item.item_id, iss=iss, patient_id=patient_id, section=item.section, label=item.label,
                contact=item.contact, note=item.note, added_by=item.by, added_at=item.at))

    def remove(self, iss: str, patient_id: str, item_id: str, *, at) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(
                added_items.update()
                .where(added_items.c.item_id == item_id, added_items.c.iss == iss,
                       added_items.c.patient_id == patient_id, added_items.c.removed_at.is_(None))
                .values(removed_at=at)).rowcount)


    def ignore_suggestion(self, iss: str, patient_id: str, key: str, *, by: str, at) -> None:
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(ignored_suggestions.c.item_key).where(
                ignored_suggestions.c.iss == iss, ignored_suggestions.c.patient_id == patient_id,
                ignored_suggestions.c.item_key == key)).first()
            if not exists:
                conn.execute(ignored_suggestions.insert().values(iss=iss, patient_id=patient_id, item_key=key,
                                                                 ignored_by=by, ignored_at=at))

    def ignored_suggestions(self, iss: str, patient_id: str) -> frozenset[str]:
        with self.engine.connect() as conn:
            return frozenset(conn.execute(sa.select(ignored_suggestions.c.item_key).where(
                ignored_suggestions.c.iss == iss, ignored_suggestions.c.patient_id == patient_id)).scalars())


def _curation(row) -> ItemCuration:
    return ItemCuration(ref=row.item_ref, hidden=row.hidden, hidden_reason=row.hidden_reason, note=row.note,
                        by=row.updated_by, at=row.updated_at)


def _added(row) -> AddedItem:
    return AddedItem(item_id=row.item_id, section=row.section, label=row.label, contact=row.contact, note=row.note,
                     by=row.added_by, at=row.added_at)

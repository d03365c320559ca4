"""Family-copy links in the store: the rendered copy (PHI) is gone once its link has expired, on both
backends (issue 12, item 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from smart_app.store import create_engine
from smart_app.store.about_store import AboutStore, family_copy_links

ISS, PID = "https://ehr.example/fhir", "p1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=10)


@pytest.fixture
def store(database_url):
    engine = create_engine(database_url)
    yield AboutStore(engine)
    engine.dispose()


def kept(store: AboutStore) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(family_copy_links.c.link_hash)).scalars())


def make(store: AboutStore, link_hash: str, at: datetime) -> None:
    store.save_link(link_hash, ISS, PID, lang="en", document="<p>Sofia's plan</p>", now=at, expires_at=at + LIFETIME)


def test_a_link_opens_until_it_expires_and_its_row_is_deleted_when_found_expired(store):
    make(store, "a", NOW)
    assert store.open_link("a", NOW + LIFETIME - timedelta(seconds=1)) == (ISS, PID, "en", "<p>Sofia's plan</p>")
    assert store.open_link("a", NOW + LIFETIME) is None
    assert kept(store) == set()


def test_each_open_purges_every_expired_link_whichever_link_it_asks_for(store):
    make(store, "old-1", NOW - LIFETIME)
    make(store, "old-2", NOW - LIFETIME)
    make(store, "live", NOW)
    assert store.open_link("live", NOW) is not None
    assert kept(store) == {"live"}
    make(store, "old-3", NOW - LIFETIME)
    assert store.open_link(None, NOW) is None  # a link that did not verify still purges
    assert kept(store) == {"live"}


def test_each_new_link_purges_the_expired_ones(store):
    make(store, "old", NOW - LIFETIME)
    make(store, "new", NOW)
    assert kept(store) == {"new"}

"""The store's engine: what its errors may say in a log, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from smart_app.store import create_engine
from smart_app.store.tables import launch_sessions
from tests.support import through_redacting_handler

HANDLE = "h4ndle-that-must-not-be-logged"


def test_a_failing_statement_logs_neither_its_parameters_nor_the_row_the_database_quotes(database_url):
    engine = create_engine(database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as failed, engine.begin() as conn:
            conn.execute(sa.text("SELECT * FROM no_such_table WHERE launch_id = :launch_id"), {"launch_id": HANDLE})
        assert HANDLE not in str(failed.value)  # SQLAlchemy leaves the parameters out
        with pytest.raises(sa.exc.DBAPIError) as failed, engine.begin() as conn:  # PostgreSQL: "Failing row contains"
            conn.execute(launch_sessions.insert().values(launch_id=HANDLE))
        text = through_redacting_handler(lambda log: log.error("unexpected_error", exc_info=failed.value))
        assert "IntegrityError" in text and HANDLE not in text
    finally:
        engine.dispose()

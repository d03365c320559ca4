"""The store's engine: what its errors may say in a log (both backends), and who may read a SQLite file."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from smart_app.store import create_engine
from smart_app.store.schema import launch_sessions
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


def mode_of(path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_sqlite_store_is_readable_by_its_owner_only_wal_and_shm_files_included(tmp_path):
    folder = tmp_path / "instance"
    old_umask = os.umask(0o022)  # the usual default: world-readable files
    try:
        engine = create_engine(f"sqlite:///{folder / 'spoc.db'}")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x TEXT)"))
            conn.execute(sa.text("INSERT INTO t VALUES ('launch handle and tokens')"))
        with engine.connect() as conn:  # a connection open: the -wal and -shm files exist
            conn.execute(sa.text("SELECT x FROM t")).all()
            assert mode_of(folder) == 0o700
            files = [folder / name for name in ("spoc.db", "spoc.db-wal", "spoc.db-shm")]
            assert {path.name: mode_of(path) for path in files} == {path.name: 0o600 for path in files}
        engine.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_world_readable_sqlite_store_is_narrowed_to_its_owner(tmp_path):
    path = tmp_path / "spoc.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1")).all()
    engine.dispose()
    assert mode_of(path) == 0o600

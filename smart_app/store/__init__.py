"""The app's own store: SQLAlchemy Core over SQLite (default) or PostgreSQL (DATABASE_URL).

Layer: shell services. Schema changes go through Alembic (`spoc db upgrade`), never at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalize_database_url(url: str) -> str:
    """PostgreSQL URLs use the psycopg 3 driver; everything else is passed through."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(url: str) -> sa.Engine:
    """An engine whose errors never quote statement parameters: they hold launch handles, CSRF tokens and
    patient ids, and errors end up in logs with their tracebacks (R64)."""
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        if path and path != ":memory:":
            _owner_only(Path(path))
            event.listen(engine, "connect", lambda *_: _owner_only(Path(path)))
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def _owner_only(database: Path) -> None:
    """The SQLite file holds PHI and encrypted tokens: its folder (when made here) 0700, the file and its
    -wal and -shm 0600, whatever the umask. SQLite gives the -wal and -shm the file's mode; an older
    store made world-readable is narrowed too."""
    if not database.parent.exists():
        database.parent.mkdir(parents=True, mode=0o700)
    if not database.exists():
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError:  # absent, or another user's: nothing to narrow here
            pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision` with Alembic (what `spoc db upgrade` runs)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(url)
    config.attributes["engine"] = engine
    try:
        command.upgrade(config, revision)
    finally:
        engine.dispose()

"""One schema module: the migrations build exactly the tables smart_app.store.schema defines."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smart_app.store import create_engine, upgrade
from smart_app.store.schema import metadata


def test_the_migrated_database_matches_the_schema_module(tmp_path):
    url = f"sqlite:///{tmp_path / 'spoc.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            differences = [d for d in compare_metadata(context, metadata)
                           if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    finally:
        engine.dispose()
    assert differences == []


def test_every_table_is_defined_in_the_schema_module():
    from smart_app import store

    defined_elsewhere = []
    for module_name in ("plan_store", "curation_store", "tracking_store", "about_store", "filing_store"):
        module = __import__(f"smart_app.store.{module_name}", fromlist=["x"])
        for name, value in vars(module).items():
            if isinstance(value, sa.Table) and value.metadata is metadata:
                source = getattr(store.schema, name, None)
                if source is not value:
                    defined_elsewhere.append(f"{module_name}.{name}")
    assert defined_elsewhere == []

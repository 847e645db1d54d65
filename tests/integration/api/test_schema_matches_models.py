"""The migrations build exactly the tables the models describe: a model
changed without its migration (or the reverse) fails here, not in a
cluster's first query."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from ingest_api.api_keys import models as api_key_models
from ingest_api.auth import models as auth_models
from ingest_api.core.db import Base
from ingest_api.jobs import models as job_models
from ingest_api.queue import models as queue_models
from ingest_api.users import models as user_models

_ = (api_key_models, auth_models, job_models, queue_models, user_models)


def test_the_migrated_schema_is_the_models_schema(migrated_database_url: str) -> None:
    url = migrated_database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []

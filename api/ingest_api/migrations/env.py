"""Alembic's environment: online migrations against DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from ingest_api.api_keys import models as api_key_models
from ingest_api.auth import models as auth_models
from ingest_api.core.db import Base
from ingest_api.jobs import models as job_models
from ingest_api.queue import models as queue_models
from ingest_api.users import models as user_models

# Imported for their side effect: each module registers its tables on Base.
_ = (api_key_models, auth_models, job_models, queue_models, user_models)


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set; run migrations through ingest-migrate")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()

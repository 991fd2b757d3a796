"""Alembic environment: run with the connection the caller hands over.

``mailroom.store.database.migrate`` puts an open connection in
``config.attributes["connection"]``; no alembic.ini or URL is needed.
"""

from __future__ import annotations

from alembic import context

from mailroom.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

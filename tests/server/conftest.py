"""Fixtures for the service tests: a feedback store on each backend, settings, the engine.

The engine (model + index) is loaded once per session: it is the expensive part, and the
app factory accepts a ready engine exactly so that tests and replicas share one load.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migfix.server.feedback import FeedbackStore
from migfix.server.settings import Settings

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty feedback database: a file for SQLite, a new database on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
        return
    server: dict[str, Any] = request.getfixturevalue("postgres_server")
    import psycopg

    name = f"migfix_feedback_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://{server['USER']}@{server['HOST']}:{server['PORT']}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://{server['USER']}@{server['HOST']}:{server['PORT']}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def store(database_url: str) -> FeedbackStore:
    return FeedbackStore(database_url)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
        slack_signing_secret=SIGNING_SECRET,
        public_url="https://migfix.example.test",
        time_budget=30.0,
    )

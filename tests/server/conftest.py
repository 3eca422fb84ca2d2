"""Fixtures for the service tests: a feedback store on each backend, settings, the engine.

The engine (model + index) is loaded once per session: it is the expensive part, and the
app factory accepts a ready engine exactly so that tests and replicas share one load.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from migfix.server.app import create_app, load_engine
from migfix.server.explain import Engine
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
    name = request.getfixturevalue("new_postgres_database")()
    yield f"postgresql://{server['USER']}@{server['HOST']}:{server['PORT']}/{name}"


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


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The real engine, with its index built in a temporary directory and the model warm."""
    return load_engine(Settings(index_dir=tmp_path_factory.mktemp("index")))


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Run *app* under a real uvicorn on a free loopback port; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)

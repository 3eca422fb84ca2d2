"""Fixtures for rehearsals: a real project per test, one engine per session.

The helper modules live next to this file; the ``tests`` folder goes on ``sys.path`` so
that tests import them as ``rehearsal.project`` / ``rehearsal.steps`` (pytest runs with
``--import-mode=importlib``, which does not add test folders to the path).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rehearsal.project import Database, DjangoProject  # noqa: E402


@pytest.fixture(scope="session")
def engine() -> Any:
    from migfix.server.explain import Engine

    return Engine.load()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_project(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> Iterator[Callable[..., DjangoProject]]:
    """Build the test's project on its backend (a fresh PostgreSQL database per test)."""

    def make(apps: tuple[str, ...] = ()) -> DjangoProject:
        if backend == "sqlite":
            database = Database("sqlite", "db.sqlite3")
        else:
            server = request.getfixturevalue("postgres_server")
            name = request.getfixturevalue("new_postgres_database")()
            database = Database("postgresql", name, server)
        return DjangoProject(tmp_path / "site", database, apps)

    yield make

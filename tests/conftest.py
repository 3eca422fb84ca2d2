"""Shared test fixtures: database servers, offline model settings.

Tests that need PostgreSQL or MariaDB use the ``postgres_server`` / ``mysql_server``
fixtures; on a machine without such a server they skip and say why (CI starts both).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

POSTGRES = {"HOST": "127.0.0.1", "PORT": 5432, "USER": "postgres", "PASSWORD": ""}
MYSQL = {"HOST": "127.0.0.1", "PORT": 3306, "USER": "root", "PASSWORD": ""}


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> dict[str, object]:
    if not _listening(POSTGRES["HOST"], POSTGRES["PORT"]):  # type: ignore[arg-type]
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432 (CI starts one; see test.sh)")
    return dict(POSTGRES)


@pytest.fixture(scope="session")
def mysql_server() -> dict[str, object]:
    if not _listening(MYSQL["HOST"], MYSQL["PORT"]):  # type: ignore[arg-type]
        pytest.skip("no MariaDB server at 127.0.0.1:3306 (CI starts one; see test.sh)")
    return dict(MYSQL)


@pytest.fixture
def new_postgres_database(postgres_server: dict[str, object]) -> Iterator[Callable[[], str]]:
    """Call it for the name of a fresh PostgreSQL database; all are dropped after the test."""
    import psycopg

    admin = {"host": postgres_server["HOST"], "port": postgres_server["PORT"],
             "user": postgres_server["USER"], "dbname": "postgres", "autocommit": True}
    names: list[str] = []

    def create() -> str:
        name = f"migfix_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(**admin) as connection:  # type: ignore[arg-type]
            connection.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return name

    yield create
    with psycopg.connect(**admin) as connection:  # type: ignore[arg-type]
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

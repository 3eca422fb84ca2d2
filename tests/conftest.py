"""Shared test fixtures: database servers, offline model settings.

Tests that need PostgreSQL or MariaDB use the ``postgres_server`` / ``mysql_server``
fixtures; on a machine without such a server they skip and say why (CI starts both).
"""

from __future__ import annotations

import os
import socket

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

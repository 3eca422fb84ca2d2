"""Real Django projects for the checker tests, on real databases and two Django versions.

``make_shop`` copies ``tests/fixtures/django/shop`` into a temporary folder, points it at a
fresh SQLite file, PostgreSQL database or MariaDB database, and runs ``manage.py`` with the
interpreter under test (the main virtualenv's Django 5.2, or a Django 4.2 virtualenv that
is built once and reused).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from migfix.checker.report import Report
from migfix.checker.runner import run_check

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "tests" / "fixtures" / "django" / "shop"
DJANGO42 = REPO / ".venv-django42"


@pytest.fixture(scope="session")
def django42_python() -> Path:
    python = DJANGO42 / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import django, psycopg, MySQLdb; assert django.VERSION[:2] == (4, 2)",
    ]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(DJANGO42)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "django>=4.2,<5",
            "psycopg[binary]",
            "mysqlclient",
        ],
        check=True,
    )
    return python


@pytest.fixture(params=["5.2", "4.2"])
def python(request: pytest.FixtureRequest) -> Path:
    if request.param == "4.2":
        return request.getfixturevalue("django42_python")  # type: ignore[no-any-return]
    return Path(sys.executable)


class Database:
    """Direct access to the project's database, outside Django, for setup and proof."""

    def __init__(self, vendor: str, settings: dict[str, Any]) -> None:
        self.vendor = vendor
        self.settings = settings

    def connect(self) -> Any:
        if self.vendor == "sqlite":
            return sqlite3.connect(self.settings["NAME"])
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(
                host="127.0.0.1",
                port=5432,
                user="postgres",
                dbname=self.settings["NAME"],
                autocommit=True,
            )
        import MySQLdb

        return MySQLdb.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            passwd="",
            db=self.settings["NAME"],
            autocommit=True,
        )

    def execute(self, *statements: str) -> None:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
            connection.commit()
        finally:
            connection.close()

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(statement)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def record(self, app: str, name: str) -> None:
        """Mark a migration applied by hand, the way a bad ``--fake`` or a merge does."""
        now = "datetime('now')" if self.vendor == "sqlite" else "CURRENT_TIMESTAMP"
        self.execute(
            f"INSERT INTO django_migrations (app, name, applied) VALUES ('{app}', '{name}', {now})"
        )

    def snapshot(self) -> dict[str, Any]:
        """Every table's row count and column list: equal before and after means unchanged."""
        if self.vendor == "sqlite":
            path = Path(self.settings["NAME"])
            return {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        schema = "public" if self.vendor == "postgresql" else self.settings["NAME"]
        columns = self.query(
            "SELECT table_name, column_name, data_type, is_nullable FROM "
            f"information_schema.columns WHERE table_schema = '{schema}' "
            "ORDER BY table_name, column_name"
        )
        tables = sorted({row[0] for row in columns})
        counts = {t: self.query(f"SELECT COUNT(*) FROM {self.quote(t)}")[0][0] for t in tables}
        return {"columns": columns, "counts": counts}

    def quote(self, name: str) -> str:
        return f"`{name}`" if self.vendor == "mysql" else f'"{name}"'


class Shop:
    """One copy of the shop project, its database, and the interpreter that runs it."""

    def __init__(self, root: Path, python: Path, db: Database) -> None:
        self.root = root
        self.python = python
        self.db = db

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.python), "manage.py", *args], cwd=self.root, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)

    def append(self, relative: str, text: str) -> None:
        self.write(relative, (self.root / relative).read_text() + text)

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink()
        shutil.rmtree((self.root / relative).parent / "__pycache__", ignore_errors=True)

    def check(self, **options: Any) -> Report:
        return run_check(self.root, python=self.python, **options)


def _databases(vendor: str, tmp: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    if vendor == "sqlite":
        yield Database(
            "sqlite", {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "db.sqlite3")}
        )
        return
    if vendor == "postgresql":
        engine = {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": 5432,
            "USER": "postgres",
            "NAME": request.getfixturevalue("new_postgres_database")(),
        }
        yield Database("postgresql", engine)
        return
    name = f"migfix_{uuid.uuid4().hex[:12]}"
    request.getfixturevalue("mysql_server")
    admin = Database("mysql", {"NAME": "mysql"})
    admin.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    engine = {
        "ENGINE": "django.db.backends.mysql",
        "HOST": "127.0.0.1",
        "PORT": 3306,
        "USER": "root",
        "PASSWORD": "",
        "NAME": name,
    }
    try:
        yield Database("mysql", engine)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def make_shop(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Shop]]:
    """``make_shop(vendor, python)``: a fresh copy of the shop on a fresh database."""
    cleanups: list[Iterator[Database]] = []

    def make(vendor: str, python: Path, migrate: bool = True) -> Shop:
        root = tmp_path / f"shop-{len(cleanups)}"
        shutil.copytree(TEMPLATE, root, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
        databases = _databases(vendor, root, request)
        cleanups.append(databases)
        db = next(databases)
        monkeypatch.setenv("SHOP_DATABASE", json.dumps(db.settings))
        shop = Shop(root, python, db)
        if migrate:
            shop.manage("migrate", "-v0")
        return shop

    yield make
    for databases in cleanups:
        for _ in databases:
            pass

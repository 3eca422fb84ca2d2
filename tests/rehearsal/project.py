"""A real, throwaway Django project to break and repair in rehearsal tests.

Rehearsals prove advice by running it, so everything here is the real thing: a
``manage.py`` run by the project's interpreter, a real SQLite file or PostgreSQL
database, real migration files on disk and (for scenarios that restore deleted files)
a real git history.  The database is read and written through the driver directly
(``sqlite3`` / ``psycopg``), the way ``dbshell`` would, never through migfix.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The interpreter that runs the project (the user's, in real life; ours here).
PYTHON = Path(sys.executable)

MANAGE_PY = """\
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

SETTINGS_PY = """\
SECRET_KEY = "rehearsal-not-secret"
DEBUG = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = {installed!r}
DATABASES = {{"default": {database!r}}}
ROOT_URLCONF = "site_urls"
MIDDLEWARE = []
TEMPLATES = []
{extra}
"""

DEFAULT_APPS = ("django.contrib.contenttypes", "django.contrib.auth")


@dataclass(frozen=True)
class Run:
    """One finished command: what ran, its exit code and everything it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"$ {shlex.join(self.args)}  (exit {self.returncode})\n{self.output}"


@dataclass(frozen=True)
class Database:
    """Where the project's ``default`` database lives."""

    backend: str  # "sqlite" | "postgresql"
    name: str
    server: dict[str, Any] = field(default_factory=dict)

    def settings(self, root: Path) -> dict[str, Any]:
        if self.backend == "sqlite":
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(root / self.name)}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.server["USER"],
            "PASSWORD": self.server["PASSWORD"],
            "HOST": self.server["HOST"],
            "PORT": self.server["PORT"],
        }

    def env(self) -> dict[str, str]:
        """libpq variables, so ``psql``/``pg_dump`` in a step reach this database."""
        if self.backend != "postgresql":
            return {}
        return {
            "PGHOST": str(self.server["HOST"]),
            "PGPORT": str(self.server["PORT"]),
            "PGUSER": str(self.server["USER"]),
            "PGDATABASE": self.name,
        }


class DjangoProject:
    """A Django project in *root*: write its files, run ``manage.py``, read its database."""

    def __init__(self, root: Path, database: Database, apps: Sequence[str] = ()):
        self.root = root
        self.database = database
        self.apps = list(apps)
        self.installed = [*DEFAULT_APPS, *self.apps]
        self.extra_settings = ""
        root.mkdir(parents=True, exist_ok=True)
        self.write("manage.py", MANAGE_PY)
        self.write("site_urls.py", "urlpatterns = []\n")
        for app in self.apps:
            self.add_app(app)
        self.write_settings()

    @property
    def backend(self) -> str:
        return self.database.backend

    # -- files ---------------------------------------------------------------------
    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def read(self, relpath: str) -> str:
        return (self.root / relpath).read_text()

    def remove(self, relpath: str) -> None:
        (self.root / relpath).unlink()

    def exists(self, relpath: str) -> bool:
        return (self.root / relpath).exists()

    def write_settings(self) -> None:
        self.write(
            "site_settings.py",
            SETTINGS_PY.format(
                installed=self.installed,
                database=self.database.settings(self.root),
                extra=self.extra_settings,
            ),
        )

    def add_app(self, label: str, models: str = "from django.db import models\n") -> None:
        self.write(f"{label}/__init__.py", "")
        self.write(f"{label}/models.py", models)
        self.write(f"{label}/migrations/__init__.py", "")
        if label not in self.installed:
            self.installed.append(label)
            self.write_settings()

    def migrations(self, app: str) -> list[str]:
        folder = self.root / app / "migrations"
        return sorted(p.stem for p in folder.glob("[0-9]*.py"))

    # -- commands ------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env["PATH"] = f"{PYTHON.parent}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(self.database.env())
        return env

    def manage(self, *args: str, input: str | None = None, timeout: float = 120) -> Run:
        """``python manage.py ARGS`` with the project's interpreter, output captured."""
        return self.run([str(PYTHON), "manage.py", *args], input=input, timeout=timeout)

    def run(self, argv: Sequence[str], input: str | None = None, timeout: float = 120) -> Run:
        done = subprocess.run(
            list(argv),
            cwd=self.root,
            env=self.env(),
            input=input or "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(tuple(argv), done.returncode, done.stdout, done.stderr)

    def shell(self, script: str, input: str | None = None, timeout: float = 120) -> Run:
        """A step's shell block, run by bash in the project with ``python`` = our venv."""
        return self.run(["bash", "-euo", "pipefail", "-c", script], input=input, timeout=timeout)

    def migrate_ok(self, *args: str) -> Run:
        run = self.manage("migrate", *args)
        assert run.returncode == 0, run.describe()
        return run

    # -- git (scenarios where the fix restores files) -------------------------------
    def git(self, *args: str) -> Run:
        run = self.run(["git", "-c", "user.name=dev", "-c", "user.email=dev@example.com", *args])
        assert run.returncode == 0, run.describe()
        return run

    def commit(self, message: str) -> None:
        if not (self.root / ".git").exists():
            self.git("init", "-q", "-b", "main")
            self.write(".gitignore", "*.sqlite3\n__pycache__/\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    # -- database ------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A DB-API connection to the project's database, committed on success."""
        if self.backend == "sqlite":
            conn: Any = sqlite3.connect(self.root / self.database.name)
        else:
            import psycopg

            server = {k.lower(): v for k, v in self.database.server.items() if k != "PASSWORD"}
            conn = psycopg.connect(dbname=self.database.name, **server)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.connect() as conn:
            conn.cursor().execute(self._params(sql), params)

    def executescript(self, sql: str) -> None:
        """Several ``;``-separated statements in one transaction, as ``dbshell`` would run them."""
        with self.connect() as conn:
            cursor = conn.cursor()
            for statement in _statements(sql):
                cursor.execute(statement)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(self._params(sql), params)
            return [tuple(row) for row in cursor.fetchall()]

    def _params(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.backend == "sqlite" else sql

    def tables(self) -> list[str]:
        if self.backend == "sqlite":
            rows = self.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        else:
            rows = self.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        return sorted(row[0] for row in rows)

    def columns(self, table: str) -> list[str]:
        if self.backend == "sqlite":
            return [row[1] for row in self.query(f'PRAGMA table_info("{table}")')]
        rows = self.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in rows]

    def schema_gaps(self) -> list[str]:
        """Tables and columns the models expect but the database lacks (a faked schema)."""
        script = (
            "from django.apps import apps\n"
            "from django.db import connection\n"
            "with connection.cursor() as cursor:\n"
            "    tables = set(connection.introspection.table_names(cursor))\n"
            "    for model in apps.get_models(include_auto_created=True):\n"
            "        table = model._meta.db_table\n"
            "        if table not in tables:\n"
            "            print('missing table', table)\n"
            "            continue\n"
            "        have = {c.name for c in connection.introspection.get_table_description("
            "cursor, table)}\n"
            "        for field in model._meta.local_concrete_fields:\n"
            "            if field.column not in have:\n"
            "                print('missing column', table + '.' + field.column)\n"
        )
        run = self.manage("shell", "-c", script)
        assert run.returncode == 0, run.describe()
        return [line for line in run.stdout.splitlines() if line.startswith("missing ")]

    def applied(self, app: str) -> list[str]:
        rows = self.query("SELECT name FROM django_migrations WHERE app = %s", (app,))
        return sorted(row[0] for row in rows)

    def snapshot(self) -> Snapshot:
        """Every row of every table but ``django_migrations`` (bookkeeping may change)."""
        tables: dict[str, dict[Any, dict[str, Any]]] = {}
        for table in self.tables():
            if table == "django_migrations":
                continue
            columns = self.columns(table)
            rows = self.query(f'SELECT * FROM "{table}"')
            key = columns.index("id") if "id" in columns else None
            tables[table] = {
                (row[key] if key is not None else row): dict(zip(columns, row, strict=True))
                for row in rows
            }
        return Snapshot(tables)


@dataclass(frozen=True)
class Snapshot:
    """Rows by table and primary key, to prove afterwards that none was lost."""

    tables: dict[str, dict[Any, dict[str, Any]]]

    def count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def lost_in(self, after: Snapshot) -> list[str]:
        """Rows of this snapshot missing from *after*, or whose old values changed."""
        problems: list[str] = []
        for table, rows in self.tables.items():
            later = after.tables.get(table)
            if later is None:
                if rows:
                    problems.append(f"table {table} ({len(rows)} rows) is gone")
                continue
            for key, row in rows.items():
                now = later.get(key)
                if now is None:
                    problems.append(f"{table} row {key!r} is gone")
                    continue
                changed = {c for c, v in row.items() if c in now and now[c] != v}
                if changed:
                    problems.append(f"{table} row {key!r} changed {sorted(changed)}")
        return problems


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

"""Broken environments are findings with the underlying message, and the CLI's exit status.

SQLite and the main virtualenv only: these paths do not depend on the backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migfix.checker.discover import ProjectNotFound
from migfix.checker.readonly import is_read
from migfix.checker.runner import run_check

HERE = Path(sys.executable)
MIGFIX = [str(Path(sys.executable).parent / "migfix")]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MIGFIX, "check", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_broken_settings_is_a_load_error(make_shop: Any) -> None:
    shop = make_shop("sqlite", HERE, migrate=False)
    shop.append("shop/settings.py", "INSTALLED_APPS = [\n")
    report = shop.check()
    [finding] = report.findings
    assert finding.code == "project.load_error"
    assert finding.evidence["stage"] == "settings"
    assert finding.evidence["exception"] == "SyntaxError"


def test_import_error_in_an_app_is_a_load_error(make_shop: Any) -> None:
    shop = make_shop("sqlite", HERE, migrate=False)
    shop.append("orders/models.py", "from catalog.models import Missing\n")
    [finding] = shop.check().findings
    assert (finding.code, finding.evidence["stage"], finding.evidence["exception"]) == (
        "project.load_error",
        "setup",
        "ImportError",
    )
    assert "Missing" in finding.evidence["error"]


@pytest.mark.postgresql
def test_unreachable_database(make_shop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = make_shop("sqlite", HERE, migrate=False)
    monkeypatch.setenv(
        "SHOP_DATABASE",
        json.dumps(
            {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "PORT": 1,
                "USER": "postgres",
                "NAME": "nothing",
            }
        ),
    )
    report = shop.check()
    unreachable = report.by_code("db.unreachable")
    assert len(unreachable) == 1 and unreachable[0].evidence["exception"] == "OperationalError"
    assert "127.0.0.1" in unreachable[0].evidence["error"]
    assert report.environment_failed()


def test_hanging_project_is_cut_off(make_shop: Any) -> None:
    shop = make_shop("sqlite", HERE, migrate=False)
    shop.append("catalog/models.py", "import time\ntime.sleep(60)\n")
    report = shop.check(timeout=3)
    [finding] = report.findings
    assert (finding.code, finding.evidence["stage"]) == ("project.timeout", "setup")
    assert report.timings["total"] < 10


def test_project_output_does_not_corrupt_the_report(make_shop: Any) -> None:
    shop = make_shop("sqlite", HERE)
    shop.append("shop/settings.py", 'print("{not json")\n')
    assert shop.check().findings == []


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound, match="no manage.py"):
        run_check(tmp_path)
    result = _cli("--project", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"migfix check: --project {tmp_path / 'nowhere'}: no such directory"
    ]
    (tmp_path / "manage.py").write_text("")
    result = _cli("--python", "/no/python", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "migfix check: cannot tell the settings module from "
        f"{tmp_path / 'manage.py'} (use --settings)"
    ]
    result = _cli("--python", "/no/python", "--settings", "x", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "migfix check: --python /no/python: not an executable file"
    ]


@pytest.mark.slow
def test_cli_exit_status_and_json(make_shop: Any) -> None:
    shop = make_shop("sqlite", HERE)
    clean = _cli(cwd=shop.root / "catalog")  # finds manage.py above
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No problems found." in clean.stdout
    shop.write(
        "catalog/migrations/0002_extra.py",
        """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
""",
    )
    warned = _cli("--json", cwd=shop.root)
    assert warned.returncode == 0
    assert [f["code"] for f in json.loads(warned.stdout)["findings"]] == ["plan.unapplied"]
    assert _cli("--fail-on", "warning", cwd=shop.root).returncode == 1
    shop.append("catalog/models.py", "    weight = models.IntegerField(null=True)\n")
    failed = _cli(cwd=shop.root)
    assert failed.returncode == 1
    assert "state.missing_migrations" in failed.stdout
    assert "state.missing_migrations (playbook: missing-migrations)" in failed.stdout
    shop.append("shop/settings.py", "raise RuntimeError('settings exploded')\n")
    broken = _cli(cwd=shop.root)
    assert broken.returncode == 2 and "settings exploded" in broken.stdout


def test_guard_refuses_writes_and_allows_reads() -> None:
    for sql in (
        "SELECT 1",
        "  select count(*) from t",
        "PRAGMA table_info(x)",
        "SHOW FULL TABLES",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "PRAGMA query_only = ON",
    ):
        assert is_read(sql), sql
    for sql in (
        "INSERT INTO django_migrations VALUES (1)",
        "CREATE TABLE x (id int)",
        "DELETE FROM t",
        "PRAGMA journal_mode = WAL",
        "UPDATE t SET a = 1",
        "DROP TABLE t",
        "ALTER TABLE t ADD c int",
    ):
        assert not is_read(sql), sql

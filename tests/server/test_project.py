"""Project answers: the checker's facts fill names, drop needless steps and gate --fake.

The rules are tested on real Findings and Answers (plain data, no mocks); the end-to-end
tests run the real checker on a real Django project on disk through ``migfix doctor``.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from migfix.checker.findings import Finding
from migfix.cli.main import cli
from migfix.server.answer import Answer, PlaybookRef, Step
from migfix.server.project import (
    ProjectFacts,
    diagnose,
    for_backend,
    previous_migration,
    tailor,
)


def answer_with(*commands: str, playbook: str = "table-already-exists") -> Answer:
    steps = [Step(n, "caution", f"step {n}", command) for n, command in enumerate(commands, 1)]
    return Answer("matched", PlaybookRef(playbook, playbook, 1.0), steps=steps)


def exists(table: str, migration: str, **evidence: object) -> Finding:
    return Finding(
        "schema.table_exists_unrecorded",
        "error",
        f"table {table} already exists",
        app="orders",
        migrations=[migration],
        evidence={"table": table, "created_by": migration, **evidence},
    )


def test_fake_is_refused_when_no_finding_shows_the_schema() -> None:
    answer = tailor(
        answer_with("python manage.py migrate orders 0002_coupon --fake"), ProjectFacts([])
    )
    assert answer.steps[0].command is None
    assert answer.steps[0].text.startswith("Do not run this step")
    assert "no table or column of orders" in answer.message


def test_fake_is_refused_naming_what_differs() -> None:
    missing = "column percent is missing (the migration creates it)"  # the checker's words
    finding = exists("orders_coupon", "orders.0002_coupon", differences=[missing])
    answer = tailor(
        answer_with("python manage.py migrate orders 0002_coupon --fake"), ProjectFacts([finding])
    )
    assert answer.steps[0].command is None
    assert f"orders_coupon: {missing}" in answer.steps[0].text


def test_fake_is_kept_when_the_schema_is_there() -> None:
    finding = exists("orders_coupon", "orders.0002_coupon")
    answer = tailor(
        answer_with("python manage.py migrate orders 0002_coupon --fake"), ProjectFacts([finding])
    )
    assert answer.steps[0].command == "python manage.py migrate orders 0002_coupon --fake"


def test_fake_initial_is_dropped_for_a_later_migration_and_steps_renumbered() -> None:
    finding = exists("orders_coupon", "orders.0002_coupon")
    answer = tailor(
        answer_with(
            "python manage.py migrate orders --fake-initial",
            "python manage.py migrate orders 0002_coupon --fake",
        ),
        ProjectFacts([finding]),
    )
    assert [s.command for s in answer.steps] == [
        "python manage.py migrate orders 0002_coupon --fake"
    ]
    assert answer.steps[0].n == 1
    assert "not an initial migration" in answer.message


def test_merge_is_dropped_when_the_checker_sees_one_leaf() -> None:
    answer = tailor(
        answer_with("python manage.py makemigrations --merge orders", playbook="x"),
        ProjectFacts([]),
    )
    assert answer.steps == []
    conflict = Finding("graph.conflict", "error", "two leaves", app="orders")
    kept = tailor(
        answer_with("python manage.py makemigrations --merge orders", playbook="x"),
        ProjectFacts([conflict]),
    )
    assert len(kept.steps) == 1


def test_only_the_projects_backend_commands_are_kept() -> None:
    step = Step(
        1,
        "safe",
        "Back up",
        'pg_dump -Fc -f a.dump <database>\nmysqldump x > a.sql\nsqlite3 db.sqlite3 ".backup b"',
    )
    assert for_backend(step, ProjectFacts([], backend="sqlite")).command == (
        'sqlite3 db.sqlite3 ".backup b"'
    )
    assert for_backend(step, ProjectFacts([], backend="postgresql")).command == (
        "pg_dump -Fc -f a.dump <database>"
    )


def test_names_come_from_findings_and_migration_files(tmp_path: Path) -> None:
    folder = tmp_path / "orders" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0003_backfill.py").write_text(
        "from django.db import migrations\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('auth', '0012_x'), ('orders', '0002_note')]\n"
    )
    assert previous_migration(tmp_path, "orders", "0003_backfill") == "0002_note"
    nulls = Finding(
        "data.nulls_block_not_null",
        "error",
        "3 rows would be NULL",
        app="orders",
        migrations=["orders.0003_backfill"],
        evidence={"table": "orders_order", "column": "reference", "model": "orders.Order"},
    )
    answer = tailor(
        answer_with(
            'migrations.AlterField(model_name="<model>", name="<field>")',
            "python manage.py migrate <app> <previous>",
            playbook="not-null-without-default",
        ),
        ProjectFacts([nulls], root=tmp_path),
    )
    assert answer.steps[0].command == 'migrations.AlterField(model_name="order", name="reference")'
    assert answer.steps[1].command == "python manage.py migrate orders 0002_note"


def test_diagnose_answers_the_most_urgent_finding_first() -> None:
    from migfix.server.explain import Engine

    engine = Engine.load(semantic=False)
    findings = [
        Finding("plan.unapplied", "warning", "1 unapplied", migrations=["orders.0003_x"]),
        Finding(
            "data.duplicates_block_unique",
            "error",
            "dupes",
            app="orders",
            migrations=["orders.0003_x"],
            evidence={"table": "orders_order"},
        ),
        Finding(
            "graph.conflict",
            "error",
            "two leaves",
            app="orders",
            migrations=["orders.0002_a", "orders.0002_b"],
        ),
    ]
    answers = diagnose(engine, ProjectFacts(findings))
    ids = [a.playbook.id for a in answers if a.playbook]
    assert ids[0] == "conflicting-leaf-nodes"
    assert "unapplied-migrations" not in ids  # a warning gets no answer of its own
    assert "makemigrations --merge orders" in (answers[0].steps[0].command or "")


def conflicted_project(root: Path) -> Path:
    """A real project whose orders app has two 0002 leaves."""
    files = {
        "manage.py": """
            import os, sys
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conf")
            from django.core.management import execute_from_command_line
            execute_from_command_line(sys.argv)
        """,
        "conf.py": f"""
            SECRET_KEY = "x"
            INSTALLED_APPS = ["orders"]
            DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                       "NAME": {str(root / "db.sqlite3")!r}}}}}
        """,
        "orders/__init__.py": "",
        "orders/models.py": "",
        "orders/migrations/__init__.py": "",
        "orders/migrations/0001_initial.py": """
            from django.db import migrations
            class Migration(migrations.Migration):
                initial = True
        """,
        "orders/migrations/0002_a.py": """
            from django.db import migrations
            class Migration(migrations.Migration):
                dependencies = [("orders", "0001_initial")]
        """,
        "orders/migrations/0002_b.py": """
            from django.db import migrations
            class Migration(migrations.Migration):
                dependencies = [("orders", "0001_initial")]
        """,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.mark.slow
def test_doctor_diagnoses_a_real_project(tmp_path: Path) -> None:
    project = conflicted_project(tmp_path)
    result = CliRunner().invoke(
        cli, ["doctor", "--project", str(project), "--python", sys.executable, "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    first = data["answers"][0]
    assert first["playbook"]["id"] == "conflicting-leaf-nodes"
    assert "graph.conflict" in [f["code"] for f in first["findings"]]
    commands = "\n".join(s["command"] or "" for s in first["steps"])
    assert "python manage.py makemigrations --merge orders" in commands
    assert "<app>" not in commands


def test_doctor_bad_project_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["doctor", "--project", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "no such directory" in result.output


def test_unapplying_is_dropped_when_nothing_after_the_target_is_applied(tmp_path: Path) -> None:
    folder = tmp_path / "orders" / "migrations"
    folder.mkdir(parents=True)
    for name in ("0001_initial", "0002_a", "0002_b"):
        (folder / f"{name}.py").write_text("")
    back = "python manage.py migrate orders 0001_initial"
    unapplied = Finding(
        "plan.unapplied", "warning", "2 unapplied", migrations=["orders.0002_a", "orders.0002_b"]
    )
    dropped = tailor(answer_with(back, playbook="x"), ProjectFacts([unapplied], root=tmp_path))
    assert dropped.steps == []
    assert "nothing to undo" in dropped.message
    one_applied = Finding("plan.unapplied", "warning", "1 unapplied", migrations=["orders.0002_b"])
    kept = tailor(answer_with(back, playbook="x"), ProjectFacts([one_applied], root=tmp_path))
    assert [s.command for s in kept.steps] == [back]


def test_database_placeholder_is_the_name_for_tools_and_the_alias_for_migrate() -> None:
    answer = answer_with(
        "pg_dump -Fc -f a.dump <database>\npython manage.py migrate --database=<database>",
        playbook="x",
    )
    facts = ProjectFacts([], backend="postgresql", alias="replica", reported_name="shop_prod")
    command = tailor(answer, facts).steps[0].command
    assert command == "pg_dump -Fc -f a.dump shop_prod\npython manage.py migrate --database=replica"


PLAYBOOK = """---
id: demo
title: Demo
summary: demo
category: database
backends: [sqlite]
signatures: ['demo']
---

## Symptoms

## Why it happens

## Diagnose

## Fix

### Nothing worth keeping
Confirmed by: `history.user_model_swapped`

1. [safe] Applies when: dev. Back up.
2. [destructive] Applies when: dev. Precondition: nothing needed. Drop it.
   ```sh
   rm db.sqlite3
   ```

### Keep the data
Confirmed by: `history.user_model_swapped`

1. [caution] Record it.
   ```sh
   python manage.py migrate
   ```

## Verify

## Prevent

## Sources
"""


def test_a_dev_only_reset_route_is_the_last_resort() -> None:
    from migfix.indexer.playbook import parse_playbook
    from migfix.server.project import preferred_route

    playbook = parse_playbook(PLAYBOOK)
    swapped = Finding("history.user_model_swapped", "error", "applied before its dependency")
    answer = Answer("matched", PlaybookRef("demo", "Demo", 1.0), cause="Nothing worth keeping")
    route = preferred_route(playbook, answer, ProjectFacts([swapped]))
    assert route is not None and route.title == "Keep the data"
    kept = Answer("matched", PlaybookRef("demo", "Demo", 1.0), cause="Keep the data")
    assert preferred_route(playbook, kept, ProjectFacts([swapped])) is None

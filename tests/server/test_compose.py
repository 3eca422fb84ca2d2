"""Compose: routes from findings, placeholders from signals, version and backend gates."""

from __future__ import annotations

from migfix.checker.findings import Finding
from migfix.indexer.playbook import parse_playbook
from migfix.server.compose import compose, placeholder_values, step_applies
from migfix.server.match import Candidate
from migfix.server.parse import parse

PLAYBOOK = parse_playbook(
    """---
id: duplicate-column
title: Duplicate column
summary: The column is already there.
category: database
backends: [sqlite, postgresql, mysql]
signatures:
  - 'column "(?P<column>\\w+)" of relation "(?P<table>\\w+)" already exists'
exceptions: [ProgrammingError]
---

## Symptoms

```text
x
```

## Why it happens

x

## Diagnose

x

## Fix

### The column was added by hand
Confirmed by: `schema.column_exists_unrecorded`

1. [safe] Back up the table.
   ```sh
   pg_dump -t <table> > <table>.sql
   ```
2. [caution] Applies when: django>=4.1. Prune stale rows.
   ```sh
   python manage.py migrate <app> --prune
   ```
3. [caution] Applies when: mysql. MySQL only step.
   ```sh
   mysql -e "SHOW COLUMNS FROM <table>"
   ```
4. [caution] Fake the migration that adds `<column>`.
   ```sh
   python manage.py migrate <app> <migration> --fake
   ```

### Something else
Confirmed by: `plan.unapplied`

1. [safe] Look at <model>.
   ```sh
   python manage.py sqlmigrate <app> <migration>
   ```

## Verify

```sh
python manage.py migrate --check
```

## Prevent

x

## Sources

- Django docs: https://docs.djangoproject.com/en/5.2/ref/django-admin/
  (migrate --fake).
"""
)

PASTE = (
    "$ python manage.py migrate\n"
    "Operations to perform:\n  Apply all migrations: shop\nRunning migrations:\n"
    "  Applying shop.0002_order_note...\n"
    "Traceback (most recent call last):\n"
    '  File "/app/.venv/lib/python3.11/site-packages/django/db/backends/utils.py", line 89, in _execute\n'
    'django.db.utils.ProgrammingError: column "note" of relation "shop_order" already exists\n'
)


def candidate() -> Candidate:
    return Candidate(
        "duplicate-column", 0.95, "signature", {"column": "note", "table": "shop_order"}
    )


def test_placeholders_filled_from_signals() -> None:
    answer = compose(PLAYBOOK, candidate(), parse(PASTE), alternatives=[])
    commands = "\n".join(s.command or "" for s in answer.steps)
    assert "pg_dump -t shop_order > shop_order.sql" in commands
    assert "python manage.py migrate shop 0002_order_note --fake" in commands
    assert "<" not in commands
    assert answer.cause == "The column was added by hand"
    assert answer.other_causes == ["Something else"]
    assert answer.steps[0].risk == "safe"
    assert [s.n for s in answer.steps] == list(range(1, len(answer.steps) + 1))


def test_backend_gate_drops_other_backends_steps() -> None:
    answer = compose(PLAYBOOK, candidate(), parse(PASTE), alternatives=[])
    assert answer.signals["backend"] == "postgresql"
    assert not any("SHOW COLUMNS" in (s.command or "") for s in answer.steps)


def test_version_gate() -> None:
    old = parse(PASTE + "Django Version: 3.2.25\n")
    new = parse(PASTE + "Django Version: 5.2.1\n")
    old_cmds = [s.command for s in compose(PLAYBOOK, candidate(), old, alternatives=[]).steps]
    new_cmds = [s.command for s in compose(PLAYBOOK, candidate(), new, alternatives=[]).steps]
    assert not any("--prune" in (c or "") for c in old_cmds)
    assert any("--prune" in (c or "") for c in new_cmds)
    step = PLAYBOOK.routes[0].steps[1]
    assert step_applies(step, None, None)  # unknown version: keep the step


def test_unknown_placeholder_is_named_in_the_step() -> None:
    parsed = parse(
        'django.db.utils.ProgrammingError: column "note" of relation "shop_order" already exists'
    )
    answer = compose(PLAYBOOK, candidate(), parsed, alternatives=[])
    fake = next(s for s in answer.steps if "--fake" in (s.command or ""))
    assert "<app>" in (fake.command or "") and "<migration>" in (fake.command or "")
    assert "Fill in <app>" in fake.text and "<migration>" in fake.text


def test_findings_choose_the_route_and_fill_names() -> None:
    findings = [
        Finding(
            "plan.unapplied",
            "warning",
            "1 unapplied",
            app="billing",
            migrations=["billing.0007_invoice_due"],
        )
    ]
    parsed = parse("is my migration applied?")
    answer = compose(
        PLAYBOOK,
        Candidate("duplicate-column", 0.6, "hybrid"),
        parsed,
        alternatives=[],
        findings=findings,
    )
    assert answer.cause == "Something else"
    assert answer.steps[0].command == "python manage.py sqlmigrate billing 0007_invoice_due"
    assert answer.other_findings and answer.other_findings[0]["code"] == "plan.unapplied"


def test_values_prefer_the_failing_migration() -> None:
    values = placeholder_values(Candidate("x", 0.9, "signature"), parse(PASTE), [])
    assert values["app"] == "shop" and values["migration"] == "0002_order_note"


def test_verify_and_sources() -> None:
    answer = compose(PLAYBOOK, candidate(), parse(PASTE), alternatives=[])
    assert answer.verify == ["python manage.py migrate --check"]
    assert answer.sources == [
        "Django docs: https://docs.djangoproject.com/en/5.2/ref/django-admin/ (migrate --fake)."
    ]

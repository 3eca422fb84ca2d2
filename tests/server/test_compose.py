"""Compose: routes from findings, placeholders from signals, version and backend gates."""

from __future__ import annotations

from migfix.checker.findings import Finding
from migfix.indexer.playbook import parse_playbook
from migfix.server.compose import (
    choose_route,
    compose,
    fill,
    fill_note,
    placeholder_values,
    step_applies,
)
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


ROUTES = parse_playbook(
    """---
id: demo
title: Demo
summary: demo
category: graph
backends: [sqlite, postgresql, mysql]
signatures: ['demo']
---

## Symptoms

## Why it happens

## Diagnose

## Fix

### Renamed
Confirmed by: `graph.node_not_found`, `history.missing_on_disk`, `graph.renamed`

1. [safe] Rename it back.

### Deleted
Confirmed by: `graph.node_not_found`, `history.missing_on_disk`

1. [safe] Restore it.

### Never committed
Confirmed by: `graph.node_not_found`

1. [safe] Commit it.

## Verify

## Prevent

## Sources
"""
)


def finding(code: str) -> Finding:
    return Finding(code, "error", code)


def test_the_route_whose_codes_are_all_present_wins() -> None:
    # "Renamed" comes first and shares two codes, but lists one the findings lack.
    two = [finding("graph.node_not_found"), finding("history.missing_on_disk")]
    assert choose_route(ROUTES, two).route.title == "Deleted"  # type: ignore[union-attr]
    # With all three present, the route confirmed by the most codes wins.
    three = [*two, finding("graph.renamed")]
    assert choose_route(ROUTES, three).route.title == "Renamed"  # type: ignore[union-attr]
    # One code: both "Renamed" and "Deleted" list it but only "Never committed" is complete.
    one = [finding("graph.node_not_found")]
    assert choose_route(ROUTES, one).route.title == "Never committed"  # type: ignore[union-attr]


def test_route_ties_and_no_findings_go_by_playbook_order() -> None:
    unrelated = choose_route(ROUTES, [finding("plan.unapplied")])
    assert unrelated is not None and unrelated.route.title == "Renamed"
    assert unrelated.reason == "the most common cause"
    assert choose_route(ROUTES, []).route.title == "Renamed"  # type: ignore[union-attr]
    # *avoid* only breaks ties between equally confirmed routes.
    avoided = choose_route(ROUTES, [], avoid=lambda r: r.title == "Renamed")
    assert avoided is not None and avoided.route.title == "Deleted"


def test_model_is_the_class_name_and_lower_case_in_operations() -> None:
    values = {"model": "orders.Order", "field": "reference", "dependency_app": "orders"}
    text, missing = fill(
        'Edit <model>: migrations.AlterField(model_name="<model>", name="<field>")\n'
        "grep -rln \"name='<model>'\" <dependency_app>/migrations/\n"
        "grep -rn \"to='<dependency_app>.<model>'\" */migrations/",
        values,
    )
    assert text.splitlines() == [
        'Edit Order: migrations.AlterField(model_name="order", name="reference")',
        "grep -rln \"name='Order'\" orders/migrations/",
        "grep -rn \"to='orders.order'\" */migrations/",
    ]
    assert missing == []
    found = Finding(
        "data.nulls_block_not_null",
        "error",
        "NULLs",
        app="orders",
        evidence={"model": "orders.Order", "field": "reference"},
    )
    placeholders = placeholder_values(Candidate("x", 1.0, "checker"), parse("x"), [found])
    assert placeholders["model"] == "Order" and placeholders["app"] == "orders"


BACKUP = "pg_dump -Fc <database> > before.dump\npython manage.py migrate --database=<database>"
INCONSISTENT = (
    "django.db.migrations.exceptions.InconsistentMigrationHistory: Migration "
    "orders.0002_b is applied before its dependency billing.0001_initial on database 'replica'."
)


def test_database_alias_from_a_paste_never_fills_a_tools_database_name() -> None:
    alias = Candidate("x", 0.95, "signature", {"database": "replica"})
    values = placeholder_values(alias, parse(INCONSISTENT), [])
    assert values.get("database_alias") == "replica" and "database" not in values
    command, missing = fill(BACKUP, values)
    assert command == (
        "pg_dump -Fc <database> > before.dump\npython manage.py migrate --database=replica"
    )
    assert missing == ["database"]
    note = fill_note(missing)
    assert "<database>" in note and "NAME" in note and "not its alias" in note


def test_database_name_from_a_mysql_message_and_from_the_report() -> None:
    mysql = parse(
        "django.db.utils.ProgrammingError: (1146, \"Table 'shop.orders_order' doesn't exist\")"
    )
    values = placeholder_values(Candidate("x", 0.95, "signature", {"database": "shop"}), mysql, [])
    assert values["database"] == "shop" and "database_alias" not in values
    report = {"database": "default", "database_name": "shop_prod"}
    values = placeholder_values(Candidate("x", 0.95, "signature"), parse("x"), [], report)
    assert fill(BACKUP, values) == (
        "pg_dump -Fc shop_prod > before.dump\npython manage.py migrate --database=default",
        [],
    )


def test_unknown_database_is_left_with_a_note_in_the_step() -> None:
    answer = compose(
        parse_playbook(ROUTES_WITH_BACKUP),
        Candidate("demo", 0.95, "signature", {"database": "default"}),
        parse(INCONSISTENT.replace("'replica'", "'default'")),
        alternatives=[],
    )
    step = answer.steps[0]
    assert step.command == BACKUP.replace("--database=<database>", "--database=default")
    assert "Fill in <database>: the database's NAME" in step.text


ROUTES_WITH_BACKUP = """---
id: demo
title: Demo
summary: demo
category: graph
backends: [postgresql]
signatures: ['demo']
---

## Symptoms

## Why it happens

## Diagnose

## Fix

1. [safe] Back up the database.
   ```sh
   pg_dump -Fc <database> > before.dump
   python manage.py migrate --database=<database>
   ```

## Verify

## Prevent

## Sources
"""

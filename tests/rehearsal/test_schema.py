"""Rehearsals of the database-state playbooks: schema and data that block a migration."""

from __future__ import annotations

from typing import Any

import pytest
from rehearsal.project import DjangoProject
from rehearsal.rehearse import rehearse
from rehearsal.shop import ORDER, add_field, create_model, expect, migration, models_py, shop

from migfix.server.answer import Step

INITIAL = ("orders", "0001_initial")
COUPON_MODEL = create_model(
    "Coupon",
    "('code', models.CharField(max_length=20))",
    "('percent', models.IntegerField())",
)
COUPON = ("Coupon", ["code = models.CharField(max_length=20)", "percent = models.IntegerField()"])

pytestmark = pytest.mark.slow


def sql_of(project: DjangoProject, app: str, name: str) -> str:
    """The SQL a migration would run, as a DBA copies it from ``sqlmigrate``."""
    run = project.manage("sqlmigrate", app, name)
    assert run.returncode == 0, run.describe()
    sql: str = run.stdout
    return sql


def test_table_already_exists(make_project: Any, engine: Any) -> None:
    """A DBA ran 0002's SQL by hand and loaded coupons before anyone ran migrate."""
    project = shop(make_project)
    project.write("orders/migrations/0002_coupon.py", migration([INITIAL], [COUPON_MODEL]))
    project.write("orders/models.py", models_py(("Order", [ORDER]), COUPON))
    project.executescript(sql_of(project, "orders", "0002_coupon"))
    project.execute("INSERT INTO orders_coupon (code, percent) VALUES ('WELCOME', 10)")

    failing = project.manage("migrate")
    expect(failing, "already exists", "orders_coupon")
    rehearse(engine, project, failing, "table-already-exists", names=["orders", "0002_coupon"])
    assert "0002_coupon" in project.applied("orders")


def test_duplicate_column(make_project: Any, engine: Any) -> None:
    """The column was added by hand in a hotfix; then the migration that adds it arrived."""
    project = shop(make_project)
    project.execute('ALTER TABLE orders_order ADD COLUMN "note" text NULL')
    project.execute("UPDATE orders_order SET note = 'hotfix' WHERE id = 2")
    project.write(
        "orders/migrations/0002_order_note.py",
        migration([INITIAL], [add_field("order", "note", "models.TextField(null=True)")]),
    )
    project.write(
        "orders/models.py", models_py(("Order", [ORDER, "note = models.TextField(null=True)"]))
    )

    failing = project.manage("migrate")
    expect(failing, "note")
    assert "duplicate column name: note" in failing.output or "already exists" in failing.output
    rehearse(engine, project, failing, "duplicate-column", names=["orders", "0002_order_note"])
    assert "0002_order_note" in project.applied("orders")


def test_missing_table(make_project: Any, engine: Any) -> None:
    """A DBA dropped the "unused" coupons tables; the next coupons migration fails."""
    project = shop(make_project, "coupons")
    project.write("coupons/models.py", models_py(COUPON))
    project.write("coupons/migrations/0001_initial.py", migration([], [COUPON_MODEL]))
    project.migrate_ok()
    project.execute("DROP TABLE coupons_coupon")
    active = "active = models.BooleanField(null=True)"
    project.write(
        "coupons/migrations/0002_coupon_active.py",
        migration(
            [("coupons", "0001_initial")],
            [add_field("coupon", "active", "models.BooleanField(null=True)")],
        ),
    )
    project.write("coupons/models.py", models_py((COUPON[0], [*COUPON[1], active])))

    failing = project.manage("migrate")
    expect(failing, "coupons_coupon")
    assert "no such table" in failing.output or "does not exist" in failing.output
    rehearse(engine, project, failing, "missing-table", names=["coupons zero --fake"])
    assert "active" in project.columns("coupons_coupon")
    assert project.query("SELECT COUNT(*) FROM orders_order") == [(3,)]


def test_not_null_without_default(make_project: Any, engine: Any) -> None:
    """A hand-written AddField of a NOT NULL column without a default, over existing orders."""
    project = shop(make_project)
    path = "orders/migrations/0002_order_reference.py"
    project.write(
        path,
        migration([INITIAL], [add_field("order", "reference", "models.CharField(max_length=20)")]),
    )
    project.write(
        "orders/models.py",
        models_py(("Order", [ORDER, "reference = models.CharField(max_length=20)"])),
    )

    failing = project.manage("migrate")
    expect(failing, "reference")
    assert "NOT NULL constraint failed" in failing.output or "null values" in failing.output

    def give_default(step: Step) -> bool:
        """The human part: edit the unapplied migration the way the step says."""
        if "default" not in step.text:
            return False
        source = project.read(path)
        project.write(
            path,
            source.replace(
                "models.CharField(max_length=20)",
                "models.CharField(max_length=20, default=''), preserve_default=False",
            ),
        )
        return True

    rehearse(
        engine,
        project,
        failing,
        "not-null-without-default",
        names=['model_name="order"', 'name="reference"', "migrate orders"],
        manual=give_default,
    )
    assert "reference" in project.columns("orders_order")


def test_unique_constraint_violation(make_project: Any, engine: Any) -> None:
    """orders.name becomes unique while two orders share a name."""
    project = shop(make_project, rows=0)
    for name in ("alpha", "beta", "alpha", "gamma", "beta"):
        project.execute("INSERT INTO orders_order (name) VALUES (%s)", (name,))
    project.write(
        "orders/migrations/0002_order_name_unique.py",
        migration(
            [INITIAL],
            [
                "migrations.AlterField(model_name='order', name='name', "
                "field=models.CharField(max_length=100, unique=True))"
            ],
        ),
    )
    project.write(
        "orders/models.py",
        models_py(("Order", ["name = models.CharField(max_length=100, unique=True)"])),
    )

    failing = project.manage("migrate")
    assert failing.returncode != 0, failing.describe()
    assert (
        "UNIQUE constraint failed" in failing.output
        or "could not create unique index" in failing.output
    )

    # De-duplicating removes rows by design: the survivors are the first of each name.
    result = rehearse(
        engine,
        project,
        failing,
        "unique-constraint-violation",
        names=["DELETE FROM orders_order", "GROUP BY name", "migrate orders"],
        expect_lost=["orders_order row 3 ", "orders_order row 5 "],
    )
    names = sorted(row["name"] for row in result.after.tables["orders_order"].values())
    assert names == ["alpha", "beta", "gamma"]


def test_table_already_exists_with_a_different_schema(make_project: Any, engine: Any) -> None:
    """An old hand-made orders_coupon lacks 'percent': faking 0002 would hide that."""
    project = shop(make_project)
    project.write("orders/migrations/0002_coupon.py", migration([INITIAL], [COUPON_MODEL]))
    project.write("orders/models.py", models_py(("Order", [ORDER]), COUPON))
    project.execute(
        "CREATE TABLE orders_coupon (id integer PRIMARY KEY, code varchar(20) NOT NULL)"
    )
    failing = project.manage("migrate")
    expect(failing, "already exists", "orders_coupon")

    from migfix.server.project import ProjectTarget, explain_with_project

    answer = explain_with_project(engine, failing.output, ProjectTarget(project.root))
    assert not isinstance(answer, list)
    assert answer.playbook is not None and answer.playbook.id == "table-already-exists"
    fakes = [s.command for s in answer.steps if s.command and "--fake" in s.command]
    assert not fakes, fakes
    assert "percent" in answer.message + " ".join(s.text for s in answer.steps)


def test_doctor_without_a_paste(make_project: Any, engine: Any) -> None:
    """`migfix doctor`: the same hand-added column, diagnosed from the findings alone."""
    project = shop(make_project)
    project.execute('ALTER TABLE orders_order ADD COLUMN "note" text NULL')
    project.write(
        "orders/migrations/0002_order_note.py",
        migration([INITIAL], [add_field("order", "note", "models.TextField(null=True)")]),
    )
    project.write(
        "orders/models.py", models_py(("Order", [ORDER, "note = models.TextField(null=True)"]))
    )
    rehearse(engine, project, None, "duplicate-column", names=["orders", "0002_order_note"])
    assert "0002_order_note" in project.applied("orders")

"""What the schema findings carry, and the false findings they must not make.

Each test breaks a real copy of the shop the way teams do (a table made by hand, a row of
``django_migrations`` deleted, a dropped table, a squash whose files went away, a deleted
migration, a custom user model after the first ``migrate``) and proves the database is
unchanged by the check.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

COUPON_0002 = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.CreateModel("Coupon", [
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                   verbose_name="ID")),
        ("code", models.CharField(max_length=20)),
        ("percent", models.IntegerField()),
    ])]
"""
COUPON_MODEL = """

class Coupon(models.Model):
    code = models.CharField(max_length=20)
    percent = models.IntegerField()
"""
NOTE_0002 = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.AddField("order", "note", models.IntegerField(default=0))]
"""
GIFT_0003 = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_note")]
    operations = [migrations.AddField("order", "gift", models.BooleanField(default=False))]
"""
VENDORS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
PY = Path(sys.executable)


def _one(report: Any, code: str) -> Any:
    found = report.by_code(code)
    assert len(found) == 1, (code, report.to_dict())
    return found[0]


@pytest.mark.slow
@pytest.mark.parametrize("vendor", VENDORS)
def test_existing_table_differences(make_shop: Any, vendor: str) -> None:
    """A hand-made orders_coupon without 'percent', with a text 'code' and an extra column."""
    shop = make_shop(vendor, PY)
    shop.write("orders/migrations/0002_coupon.py", COUPON_0002)
    shop.append("orders/models.py", COUPON_MODEL)
    shop.db.execute(
        "CREATE TABLE orders_coupon (id integer PRIMARY KEY, code integer NULL, "
        "owner varchar(10) NOT NULL)"
    )
    before = shop.db.snapshot()
    report = shop.check()
    assert shop.db.snapshot() == before
    assert "probe.write_blocked" not in report.codes()
    table = _one(report, "schema.table_exists_unrecorded")
    assert table.evidence["created_by"] == "orders.0002_coupon"
    assert sorted(table.evidence["differences"]) == sorted(
        [
            "column code is NULL in the database but NOT NULL in the migration",
            "column code is integer in the database but text in the migration",
            "column percent is missing (the migration creates it)",
            "extra column owner is NOT NULL without a default (not in the migration: "
            "inserts through Django would fail)",
        ]
    ), table.evidence
    if vendor == "sqlite":
        assert report.database_name == str(shop.root / "db.sqlite3")
    else:
        assert report.database_name == shop.db.settings["NAME"]


@pytest.mark.slow
@pytest.mark.parametrize("vendor", VENDORS)
def test_existing_table_that_matches(make_shop: Any, python: Path, vendor: str) -> None:
    shop = make_shop(vendor, python)
    shop.write("orders/migrations/0002_coupon.py", COUPON_0002)
    shop.append("orders/models.py", COUPON_MODEL)
    pk = {"sqlite": "integer", "postgresql": "bigserial", "mysql": "bigint AUTO_INCREMENT"}
    shop.db.execute(
        f"CREATE TABLE orders_coupon (id {pk[vendor]} PRIMARY KEY, code varchar(20) NOT NULL, "
        "percent integer NOT NULL)"
    )
    report = shop.check()
    table = _one(report, "schema.table_exists_unrecorded")
    assert table.evidence["differences"] == [], table.evidence


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_row_deleted_while_later_migration_applied(make_shop: Any, python: Path, vendor: str) -> None:
    """Someone deleted 0002's row "to re-run it"; 0003 stays applied: history AND schema."""
    shop = make_shop(vendor, python)
    shop.write("orders/migrations/0002_note.py", NOTE_0002)
    shop.write("orders/migrations/0003_gift.py", GIFT_0003)
    shop.append(
        "orders/models.py",
        "    note = models.IntegerField(default=0)\n    gift = models.BooleanField(default=False)\n",
    )
    shop.manage("migrate", "-v0")
    shop.db.execute("DELETE FROM django_migrations WHERE app = 'orders' AND name = '0002_note'")
    shop.db.execute("ALTER TABLE orders_order ADD COLUMN extra integer NULL")
    before = shop.db.snapshot()
    report = shop.check()
    assert shop.db.snapshot() == before
    assert report.probe_errors == []
    assert [f.migrations for f in report.by_code("history.inconsistent")] == [
        ["orders.0003_gift", "orders.0002_note"]
    ]
    column = _one(report, "schema.column_exists_unrecorded")
    assert (column.evidence["table"], column.evidence["column"]) == ("orders_order", "note")
    assert column.evidence["added_by"] == "orders.0002_note"
    assert column.evidence["differences"] == []
    assert "schema.missing_column" not in report.codes()


@pytest.mark.slow
def test_missing_table_names_its_creator(make_shop: Any, python: Path) -> None:
    shop = make_shop("sqlite", python)
    shop.db.execute("DROP TABLE orders_order")
    report = shop.check()
    missing = _one(report, "schema.missing_table")
    assert missing.evidence["table"] == "orders_order"
    assert missing.evidence["created_by"] == "orders.0001_initial"
    # auth's many-to-many tables are created with their models, by auth.0001_initial
    shop.db.execute("DROP TABLE auth_user_groups")
    report = shop.check()
    created = {f.evidence["table"]: f.evidence["created_by"] for f in report.by_code("schema.missing_table")}
    assert created == {"orders_order": "orders.0001_initial",
                       "auth_user_groups": "auth.0001_initial"}


@pytest.mark.slow
def test_squash_applied_in_part_and_its_files_deleted(make_shop: Any, python: Path) -> None:
    """0001-0003 squashed and deleted while this database had applied 0001-0002 only."""
    shop = make_shop("sqlite", python)
    shop.write("orders/migrations/0002_note.py", NOTE_0002)
    shop.append("orders/models.py", "    note = models.IntegerField(default=0)\n")
    shop.manage("migrate", "-v0")
    shop.write("orders/migrations/0003_gift.py", GIFT_0003)
    shop.append("orders/models.py", "    gift = models.BooleanField(default=False)\n")
    shop.write(
        "catalog/migrations/0002_after_gift.py",
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('catalog', '0001_initial'), ('orders', '0003_gift')]\n",
    )
    shop.manage("squashmigrations", "orders", "0003", "--noinput", "-v0")
    for name in ("0001_initial", "0002_note", "0003_gift"):
        shop.remove(f"orders/migrations/{name}.py")
    before = shop.db.snapshot()
    report = shop.check()
    assert shop.db.snapshot() == before
    squash = _one(report, "history.squash_partial")
    assert squash.migrations == ["orders.0001_squashed_0003_gift"]
    assert squash.evidence == {
        "applied": ["orders.0001_initial", "orders.0002_note"],
        "unapplied": ["orders.0003_gift"],
    }
    missing = _one(report, "graph.node_not_found")
    assert missing.migrations == ["catalog.0002_after_gift", "orders.0003_gift"]
    assert "some of the replaced migrations are already applied" in missing.message
    assert "state.missing_migrations" not in report.codes(), report.to_dict()
    assert not [c for c in report.codes() if c.startswith("schema.")], report.to_dict()


@pytest.mark.slow
def test_deleted_migration_is_not_a_conflict(make_shop: Any, python: Path) -> None:
    shop = make_shop("sqlite", python)
    shop.write("orders/migrations/0002_note.py", NOTE_0002)
    shop.write("orders/migrations/0003_gift.py", GIFT_0003)
    shop.append(
        "orders/models.py",
        "    note = models.IntegerField(default=0)\n    gift = models.BooleanField(default=False)\n",
    )
    shop.manage("migrate", "-v0")
    shop.remove("orders/migrations/0002_note.py")
    report = shop.check()
    assert [f.migrations for f in report.by_code("graph.node_not_found")] == [
        ["orders.0003_gift", "orders.0002_note"]
    ]
    assert [f.migrations for f in report.by_code("history.missing_on_disk")] == [
        ["orders.0002_note"]
    ]
    assert "graph.conflict" not in report.codes(), report.to_dict()

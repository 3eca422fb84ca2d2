"""Preflight data hazards and schema drift, on SQLite, PostgreSQL and MariaDB, Django 4.2 and 5.2.

One realistic project carries every hazard: rows exist, then a branch adds a NOT NULL
column without default, a unique constraint over duplicate SKUs, a text-to-integer change
over non-numeric barcodes, a foreign key over orphan refs, and a model whose table
someone already created by hand. The same run proves the check changed nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CATALOG_0002 = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.AddField("product", "price", models.IntegerField()),
        migrations.AlterField("product", "sku", models.CharField(max_length=20, unique=True)),
        migrations.AlterField("product", "barcode", models.IntegerField(null=True)),
        migrations.CreateModel("Tag", [
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                        verbose_name="ID")),
            ("name", models.CharField(max_length=30)),
        ]),
    ]
"""
CATALOG_MODELS = """
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20, unique=True)
    barcode = models.IntegerField(null=True)
    price = models.IntegerField()


class Tag(models.Model):
    name = models.CharField(max_length=30)
"""
ORDERS_0002 = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("catalog", "0001_initial")]
    operations = [
        migrations.AlterField("order", "ref", models.ForeignKey(
            null=True, on_delete=models.SET_NULL, related_name="referenced_by",
            to="catalog.product")),
    ]
"""
ORDERS_MODELS = """
from django.db import models


class Order(models.Model):
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE)
    quantity = models.IntegerField(default=1)
    ref = models.ForeignKey("catalog.Product", null=True, on_delete=models.SET_NULL,
                            related_name="referenced_by")
"""
PRODUCTS = [
    (1, "Mug", "A1", "12345"),
    (2, "Cup", "A1", "n/a"),
    (3, "Pen", "B2", ""),
    (4, "Ink", "B2", "777"),
    (5, "Pad", "C3", "12345"),
]
ORDERS = [(1, 1, 1), (2, 2, 999), (3, 3, 998), (4, 1, None)]


def _only(report: Any, code: str) -> Any:
    found = report.by_code(code)
    assert len(found) == 1, (code, report.to_dict())
    return found[0]


def _break(shop: Any) -> None:
    db = shop.db
    db.execute(
        *[
            f"INSERT INTO catalog_product (id, name, sku, barcode) VALUES "
            f"({i}, '{n}', '{s}', '{b}')"
            for i, n, s, b in PRODUCTS
        ]
    )
    db.execute(
        *[
            f"INSERT INTO orders_order (id, product_id, quantity, ref) VALUES "
            f"({i}, {p}, 1, {'NULL' if r is None else r})"
            for i, p, r in ORDERS
        ]
    )
    db.execute("CREATE TABLE catalog_tag (id integer PRIMARY KEY, name varchar(30))")
    shop.write("catalog/migrations/0002_hazards.py", CATALOG_0002)
    shop.write("catalog/models.py", CATALOG_MODELS)
    shop.write("orders/migrations/0002_ref_fk.py", ORDERS_0002)
    shop.write("orders/models.py", ORDERS_MODELS)


@pytest.mark.slow
@pytest.mark.parametrize(
    "vendor",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_hazards_predicted_and_database_untouched(
    make_shop: Any, python: Path, vendor: str
) -> None:
    shop = make_shop(vendor, python)
    _break(shop)
    before = shop.db.snapshot()
    report = shop.check()
    assert shop.db.snapshot() == before
    assert "probe.write_blocked" not in report.codes()
    assert report.vendor == vendor
    assert report.django_version.startswith("4.2" if "django42" in str(python) else "5.2")
    assert sorted(report.codes()) == sorted(
        [
            "plan.unapplied",
            "data.nulls_block_not_null",
            "data.duplicates_block_unique",
            "data.values_block_cast",
            "data.orphans_block_foreign_key",
            "schema.table_exists_unrecorded",
        ]
    ), report.to_dict()
    assert report.probe_errors == []

    plan = _only(report, "plan.unapplied")
    assert plan.migrations == ["catalog.0002_hazards", "orders.0002_ref_fk"]

    nulls = _only(report, "data.nulls_block_not_null")
    assert (nulls.evidence["table"], nulls.evidence["column"], nulls.evidence["rows"]) == (
        "catalog_product",
        "price",
        5,
    )
    assert nulls.migrations == ["catalog.0002_hazards"]

    dupes = _only(report, "data.duplicates_block_unique")
    assert dupes.evidence["columns"] == ["sku"] and dupes.evidence["groups"] == 2
    assert sorted(row[0] for row in dupes.evidence["sample"]) == ["A1", "B2"]

    cast = _only(report, "data.values_block_cast")
    assert cast.evidence["column"] == "barcode" and cast.evidence["values"] == 2
    assert sorted(cast.evidence["sample"]) == ["", "n/a"]
    assert cast.severity == ("warning" if vendor == "sqlite" else "error")

    orphans = _only(report, "data.orphans_block_foreign_key")
    assert orphans.evidence["rows"] == 2 and orphans.evidence["column"] == "ref"
    assert orphans.evidence["target"] == "catalog_product.id"
    assert orphans.migrations == ["orders.0002_ref_fk"]

    table = _only(report, "schema.table_exists_unrecorded")
    assert table.evidence["table"] == "catalog_tag"
    assert table.evidence["created_by"] == "catalog.0002_hazards"
    assert table.playbook == "table-already-exists"

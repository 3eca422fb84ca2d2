"""Graph and history damage as teams really cause it, on SQLite and PostgreSQL, Django 4.2 and 5.2.

The story: a migration that was applied everywhere is deleted although another one
depends on it; a teammate's migration is recorded by hand before its dependency; a
botched restore duplicates a row of ``django_migrations``. Django would stop at the
first of these; the checker names all of them, with the migrations involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CATALOG_DISCOUNT = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.AddField("product", "discount", models.IntegerField(null=True))]
"""
ORDERS_NOTE = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("catalog", "0002_discount")]
    operations = [migrations.AddField("order", "note", models.CharField(max_length=50, null=True))]
"""
CATALOG_TAG = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.CreateModel("Tag", [
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                   verbose_name="ID")),
        ("name", models.CharField(max_length=30)),
    ])]
"""
CATALOG_TAG_LABEL = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_tag")]
    operations = [migrations.AddField("tag", "label", models.CharField(max_length=30, null=True))]
"""
ORDERS_TAG = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_note"), ("catalog", "0002_tag")]
    operations = [migrations.AddField("order", "tag", models.ForeignKey(
        null=True, on_delete=models.SET_NULL, to="catalog.tag"))]
"""
CATALOG_MODELS = """
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20)
    barcode = models.CharField(max_length=20, blank=True)


class Tag(models.Model):
    name = models.CharField(max_length=30)
    label = models.CharField(max_length=30, null=True)
"""
ORDERS_MODELS = """
from django.db import models


class Order(models.Model):
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE)
    quantity = models.IntegerField(default=1)
    ref = models.IntegerField(null=True)
    note = models.CharField(max_length=50, null=True)
    tag = models.ForeignKey("catalog.Tag", null=True, on_delete=models.SET_NULL)
"""


def _break(shop: Any) -> None:
    shop.write("catalog/migrations/0002_discount.py", CATALOG_DISCOUNT)
    shop.write("orders/migrations/0002_note.py", ORDERS_NOTE)
    shop.append("catalog/models.py", "    discount = models.IntegerField(null=True)\n")
    shop.append("orders/models.py", "    note = models.CharField(max_length=50, null=True)\n")
    shop.manage("migrate", "-v0")
    # The discount field is dropped again by deleting its migration, not by a new one.
    shop.remove("catalog/migrations/0002_discount.py")
    shop.write("catalog/migrations/0002_tag.py", CATALOG_TAG)
    shop.write("catalog/migrations/0003_tag_label.py", CATALOG_TAG_LABEL)
    shop.write("orders/migrations/0003_order_tag.py", ORDERS_TAG)
    shop.write("catalog/models.py", CATALOG_MODELS)
    shop.write("orders/models.py", ORDERS_MODELS)
    shop.db.record("orders", "0003_order_tag")
    shop.db.record("catalog", "0003_tag_label")
    shop.db.record("catalog", "0001_initial")


@pytest.mark.slow
@pytest.mark.parametrize(
    "vendor", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_every_history_problem_named(make_shop: Any, python: Path, vendor: str) -> None:
    shop = make_shop(vendor, python)
    _break(shop)
    before = shop.db.snapshot()
    report = shop.check()
    assert shop.db.snapshot() == before
    assert report.probe_errors == []
    found = {(f.code, tuple(f.migrations)) for f in report.findings}
    assert found == {
        ("graph.node_not_found", ("orders.0002_note", "catalog.0002_discount")),
        ("history.missing_on_disk", ("catalog.0002_discount",)),
        ("history.inconsistent", ("catalog.0003_tag_label", "catalog.0002_tag")),
        ("history.inconsistent", ("orders.0003_order_tag", "catalog.0002_tag")),
        ("history.duplicate_rows", ("catalog.0001_initial",)),
        ("schema.missing_table", ()),
        ("schema.missing_column", ()),
        ("plan.unapplied", ("catalog.0002_tag",)),
    }, report.to_dict()
    pairs = [f.message for f in report.by_code("history.inconsistent")]
    assert pairs[1] == (
        "Migration orders.0003_order_tag is applied before its dependency "
        "catalog.0002_tag on database 'default'."
    )
    assert report.by_code("history.duplicate_rows")[0].evidence["rows"] == 2
    assert report.by_code("schema.missing_table")[0].evidence["table"] == "catalog_tag"
    column = report.by_code("schema.missing_column")[0].evidence
    assert (column["table"], column["column"]) == ("orders_order", "tag_id")
    assert report.by_code("graph.node_not_found")[0].playbook == "node-not-found"

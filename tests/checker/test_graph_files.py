"""Migration files and graph shapes that stop Django before it touches the database.

These need no database server, so they run on SQLite only, under Django 4.2 and 5.2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ADD_FIELD = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.AddField("product", "{name}", models.IntegerField(null=True))]
"""
CONFLICTED = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
<<<<<<< HEAD
        migrations.AddField("product", "weight", models.IntegerField(null=True)),
=======
        migrations.AddField("product", "colour", models.IntegerField(null=True)),
>>>>>>> feature/colour
    ]
"""
CUSTOM_USER_MODELS = """
from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    pass
"""


@pytest.mark.slow
def test_parallel_branches_missing_init_and_model_changes(make_shop: Any, python: Path) -> None:
    shop = make_shop("sqlite", python)
    shop.write("catalog/migrations/0002_weight.py", ADD_FIELD.format(name="weight"))
    shop.write("catalog/migrations/0002_colour.py", ADD_FIELD.format(name="colour"))
    shop.append(
        "catalog/models.py",
        "    weight = models.IntegerField(null=True)\n"
        "    colour = models.IntegerField(null=True)\n",
    )
    shop.append("orders/models.py", "    gift = models.BooleanField(default=False)\n")
    before = shop.db.snapshot()
    report = shop.check()
    assert shop.db.snapshot() == before
    conflict = report.by_code("graph.conflict")
    assert [(f.app, f.evidence["leaves"]) for f in conflict] == [
        ("catalog", ["0002_colour", "0002_weight"])
    ]
    assert conflict[0].message == (
        "Conflicting migrations detected; multiple leaf nodes in the migration graph: "
        "(0002_colour, 0002_weight in catalog)"
    )
    state = report.by_code("state.missing_migrations")
    assert [(f.app, f.evidence["operations"]) for f in state] == [
        ("orders", ["Add field gift to order"])
    ]
    assert report.by_code("plan.unapplied")[0].migrations == [
        "catalog.0002_colour",
        "catalog.0002_weight",
    ]

    shop.remove("orders/migrations/__init__.py")
    report = shop.check()
    missing = report.by_code("graph.missing_init")
    assert [(f.app, f.evidence["files"]) for f in missing] == [("orders", ["0001_initial.py"])]
    assert missing[0].playbook == "missing-migrations"


@pytest.mark.slow
def test_unloadable_files_located_without_importing(make_shop: Any, python: Path) -> None:
    shop = make_shop("sqlite", python)
    shop.write("catalog/migrations/0002_merge_me.py", CONFLICTED)
    shop.write(
        "orders/migrations/0002_typo.py",
        "from django.db import migrations\n\nclass Migration(migrations.Migration)\n    pass\n",
    )
    shop.write("orders/migrations/0003_empty.py", "# emptied by a bad rebase\n")
    report = shop.check()
    markers = report.by_code("graph.conflict_markers")
    assert [(f.migrations, f.evidence["lines"]) for f in markers] == [
        (["catalog.0002_merge_me"], [7, 9, 11])
    ]
    bad = {f.migrations[0]: f.evidence for f in report.by_code("graph.bad_migration")}
    assert bad["orders.0002_typo"]["line"] == 3
    assert bad["orders.0002_typo"]["error"].startswith("SyntaxError")
    assert bad["orders.0003_empty"]["error"] == "BadMigrationError: no Migration class"
    assert report.by_code("project.load_error") == []
    assert "history.table_missing" not in report.codes()


@pytest.mark.slow
@pytest.mark.parametrize(
    "vendor", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_custom_user_model_after_first_migrate(make_shop: Any, python: Path, vendor: str) -> None:
    shop = make_shop(vendor, python)
    shop.write("accounts/__init__.py", "")
    shop.write("accounts/migrations/__init__.py", "")
    shop.write("accounts/models.py", CUSTOM_USER_MODELS)
    shop.append(
        "shop/settings.py", 'INSTALLED_APPS += ["accounts"]\nAUTH_USER_MODEL = "accounts.User"\n'
    )
    shop.manage("makemigrations", "accounts", "-v0")
    report = shop.check()
    swapped = report.by_code("history.user_model_swapped")
    assert [(f.migrations, f.evidence["auth_user_model"]) for f in swapped] == [
        (["admin.0001_initial", "accounts.0001_initial"], "accounts.User")
    ]
    assert swapped[0].message == (
        "Migration admin.0001_initial is applied before its dependency "
        "accounts.0001_initial on database 'default'."
    )
    assert swapped[0].playbook == "custom-user-model-swap"
    assert "accounts.0001_initial" in report.by_code("plan.unapplied")[0].migrations
    # accounts_user is created by the unapplied accounts.0001: not "applied but absent"
    assert not [c for c in report.codes() if c.startswith("schema.")], report.to_dict()


def test_circular_dependency(make_shop: Any) -> None:
    import sys

    shop = make_shop("sqlite", Path(sys.executable), migrate=False)
    shop.write(
        "catalog/migrations/0002_needs_orders.py",
        """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial"), ("orders", "0001_initial")]
""",
    )
    shop.append(
        "catalog/migrations/0001_initial.py",
        '\nMigration.dependencies = [("orders", "0001_initial")]\n',
    )
    report = shop.check()
    circular = report.by_code("graph.circular")
    assert len(circular) == 1
    assert set(circular[0].migrations) == {"catalog.0001_initial", "orders.0001_initial"}
    assert report.by_code("history.table_missing")[0].evidence == {
        "database": str(shop.root / "db.sqlite3"),
        "exists": False,
    }
    assert not (shop.root / "db.sqlite3").exists()


@pytest.mark.slow
def test_squashed_migration_partly_applied(make_shop: Any) -> None:
    import sys

    shop = make_shop("sqlite", Path(sys.executable))
    shop.write("catalog/migrations/0002_weight.py", ADD_FIELD.format(name="weight"))
    shop.manage("migrate", "-v0")
    colour = ADD_FIELD.format(name="colour").replace('"0001_initial"', '"0002_weight"')
    shop.write("catalog/migrations/0003_colour.py", colour)
    shop.write(
        "catalog/migrations/0001_squashed_0003_colour.py",
        """
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    replaces = [("catalog", "0001_initial"), ("catalog", "0002_weight"), ("catalog", "0003_colour")]
    operations = [migrations.CreateModel("Product", [
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                   verbose_name="ID")),
        ("name", models.CharField(max_length=100)),
        ("sku", models.CharField(max_length=20)),
        ("barcode", models.CharField(blank=True, max_length=20)),
        ("weight", models.IntegerField(null=True)),
        ("colour", models.IntegerField(null=True)),
    ])]
""",
    )
    shop.append(
        "catalog/models.py",
        "    weight = models.IntegerField(null=True)\n"
        "    colour = models.IntegerField(null=True)\n",
    )
    report = shop.check()
    assert sorted(report.codes()) == ["history.squash_partial", "plan.unapplied"], report.to_dict()
    squash = report.by_code("history.squash_partial")[0]
    assert squash.migrations == ["catalog.0001_squashed_0003_colour"]
    assert squash.evidence == {
        "applied": ["catalog.0001_initial", "catalog.0002_weight"],
        "unapplied": ["catalog.0003_colour"],
    }
    assert report.by_code("plan.unapplied")[0].migrations == ["catalog.0003_colour"]

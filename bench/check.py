"""Time ``migfix check`` against Django's own three read-outs on the same broken project.

Builds a throw-away copy of ``tests/fixtures/django/shop`` on SQLite, migrates it, adds rows
and an unapplied migration with data hazards (the scenario of
tests/checker/test_data_and_schema.py), then times, over several rounds (median):

  A. ``manage.py showmigrations`` + ``makemigrations --check --dry-run`` + ``migrate --check``
     run one after another, and
  B. ``migfix check --json`` (which also predicts the data failures).

Usage: .venv/bin/python bench/check.py [--rounds 5] [--python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "tests" / "fixtures" / "django" / "shop"
HAZARDS = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.AddField("product", "price", models.IntegerField()),
        migrations.AlterField("product", "sku", models.CharField(max_length=20, unique=True)),
    ]
"""
MODELS = """
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20, unique=True)
    barcode = models.CharField(max_length=20, blank=True)
    price = models.IntegerField()
"""
DJANGO_COMMANDS = (
    ["showmigrations"],
    ["makemigrations", "--check", "--dry-run"],
    ["migrate", "--check"],
)


def build(root: Path, python: str, env: dict[str, str]) -> None:
    shutil.copytree(TEMPLATE, root, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    with sqlite3.connect(root / "db.sqlite3") as db:
        db.executemany(
            "INSERT INTO catalog_product (name, sku, barcode) VALUES (?, ?, '')",
            [(f"p{i}", f"S{i % 50}") for i in range(1000)],
        )
    (root / "catalog" / "migrations" / "0002_hazards.py").write_text(HAZARDS)
    (root / "catalog" / "models.py").write_text(MODELS)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="the project's interpreter")
    args = parser.parse_args()
    args.python = os.path.abspath(args.python)
    migfix = str(Path(sys.executable).parent / "migfix")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("SHOP_DATABASE", None)
    with tempfile.TemporaryDirectory(prefix="migfix-bench-") as tmp:
        root = Path(tmp) / "shop"
        build(root, args.python, env)
        django_times, migfix_times, findings = [], [], []
        for _ in range(args.rounds):
            django_times.append(
                sum(timed([args.python, "manage.py", *c], root, env)[0] for c in DJANGO_COMMANDS)
            )
            seconds, out = timed([migfix, "check", "--json", "--python", args.python], root, env)
            migfix_times.append(seconds)
            findings = [f["code"] for f in json.loads(out)["findings"]]
    django_median, migfix_median = statistics.median(django_times), statistics.median(migfix_times)
    print("project: shop on SQLite, 1000 products, 1 unapplied migration with 2 data hazards")
    print(f"rounds: {args.rounds} (median)")
    print(
        f"Django's showmigrations + makemigrations --check --dry-run + migrate --check: "
        f"{django_median:.2f}s"
    )
    print(
        f"migfix check --json: {migfix_median:.2f}s "
        f"({migfix_median / django_median:.0%} of Django's three)"
    )
    print(f"migfix findings: {', '.join(findings)}")
    print("Django's three report: the unapplied migration (none predicts the data failures)")


if __name__ == "__main__":
    main()

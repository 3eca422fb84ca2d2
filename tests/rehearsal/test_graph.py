"""Rehearsals of the migration-graph playbooks: break a real project, follow migfix."""

from __future__ import annotations

from typing import Any

from rehearsal.project import DjangoProject
from rehearsal.rehearse import rehearse


def order_models(*fields: str) -> str:
    body = "\n".join(f"    {field}" for field in fields)
    return (
        "from django.db import models\n\n\n"
        "class Order(models.Model):\n"
        "    name = models.CharField(max_length=100)\n"
        f"{body}\n"
    )


def shop(make_project: Any) -> DjangoProject:
    """An ``orders`` app with one applied migration and three rows."""
    project = make_project(apps=("orders",))
    project.write("orders/models.py", order_models())
    assert project.manage("makemigrations", "orders").returncode == 0
    project.migrate_ok()
    for name in ("first", "second", "third"):
        project.execute("INSERT INTO orders_order (name) VALUES (%s)", (name,))
    return project


def test_conflicting_leaf_nodes(make_project: Any, engine: Any) -> None:
    """Two branches each added 0002 to orders; the merge of both fails to migrate."""
    project = shop(make_project)
    note = 'note = models.TextField(default="")'
    coupon = 'coupon = models.CharField(max_length=20, default="")'
    project.write("orders/models.py", order_models(note))
    assert project.manage("makemigrations", "orders", "--name", "order_note").returncode == 0
    kept = project.read("orders/migrations/0002_order_note.py")
    project.remove("orders/migrations/0002_order_note.py")
    project.write("orders/models.py", order_models(coupon))
    assert project.manage("makemigrations", "orders", "--name", "order_coupon").returncode == 0
    project.write("orders/migrations/0002_order_note.py", kept)
    project.write("orders/models.py", order_models(note, coupon))

    failing = project.manage("migrate")
    assert "Conflicting migrations detected" in failing.output

    result = rehearse(
        engine, project, failing, "conflicting-leaf-nodes", names=["makemigrations --merge orders"]
    )
    merges = [m for m in project.migrations("orders") if "merge" in m]
    assert len(merges) == 1, project.migrations("orders")
    assert set(project.columns("orders_order")) >= {"note", "coupon"}
    assert result.answer.findings, "the graph.conflict finding belongs with the answer"

"""The small shop every rehearsal breaks: an ``orders`` app with a few migrations and rows.

Migration files are written out the way ``makemigrations`` writes them (same operations,
same names), which keeps each scenario fast and its names known in advance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .project import DjangoProject

ORDER = "name = models.CharField(max_length=100)"


def models_py(*classes: tuple[str, Sequence[str]]) -> str:
    """``models.py`` with one class per ``(name, field lines)``."""
    text = "from django.conf import settings\nfrom django.db import models\n"
    for name, fields in classes:
        text += f"\n\nclass {name}(models.Model):\n"
        text += "".join(f"    {line}\n" for line in fields) or "    pass\n"
    return text


def migration(
    dependencies: Sequence[tuple[str, str] | str], operations: Sequence[str], extra: str = ""
) -> str:
    deps = ",\n".join(f"        {d if isinstance(d, str) else repr(d)}" for d in dependencies)
    ops = ",\n".join(f"        {op}" for op in operations)
    return (
        "from django.conf import settings\n"
        "from django.db import migrations, models\n"
        "import django.db.models.deletion\n\n"
        f"{extra}\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [\n{deps}\n    ]\n\n"
        f"    operations = [\n{ops}\n    ]\n"
    )


def create_model(name: str, *fields: str) -> str:
    columns = [
        "('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, "
        "verbose_name='ID'))",
        *fields,
    ]
    return f"migrations.CreateModel(name={name!r}, fields=[{', '.join(columns)}])"


def add_field(model: str, name: str, field: str) -> str:
    return f"migrations.AddField(model_name={model!r}, name={name!r}, field={field})"


INITIAL = migration([], [create_model("Order", "('name', models.CharField(max_length=100))")])


def shop(make_project: Callable[..., DjangoProject], *apps: str, rows: int = 3) -> DjangoProject:
    """``orders.0001_initial`` applied, with *rows* orders in the table."""
    project = make_project(apps=("orders", *apps))
    project.write("orders/models.py", models_py(("Order", [ORDER])))
    project.write("orders/migrations/0001_initial.py", INITIAL)
    project.migrate_ok()
    for n in range(rows):
        project.execute("INSERT INTO orders_order (name) VALUES (%s)", (f"order {n + 1}",))
    return project


def expect(run: Any, *fragments: str) -> None:
    """The break must fail the real command with the real message."""
    assert run.returncode != 0, run.describe()
    for fragment in fragments:
        assert fragment in run.output, f"{fragment!r} not in:\n{run.describe()}"

"""Break a real Django project in known ways and save the output as CI logs.

Each scenario produces one real migration failure (Django here, SQLite or PostgreSQL);
the output is then wrapped the way CI systems print it (GitHub Actions timestamps and
``##[error]``, GitLab ANSI colours and section markers, docker compose prefixes), so that
the evaluation covers what users paste from CI. Run once:

    .venv/bin/python tests/eval/generate_ci_cases.py

It writes ``tests/eval/cases/<playbook-id>/ci-<slug>.txt``; the files are committed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_negatives import project  # noqa: E402

CASES = Path(__file__).parent / "cases"

INITIAL = """
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=20, unique=True)),
                ("total", models.IntegerField(default=0)),
            ],
        ),
    ]
"""


def migration(deps: str, ops: str, extra: str = "") -> str:
    head = "from django.db import migrations, models\n" + textwrap.dedent(extra)
    return head + textwrap.dedent(
        f"""

        class Migration(migrations.Migration):
            dependencies = [{deps}]
            operations = [{ops}]
        """
    )


def manage(root: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=root, capture_output=True, text=True, timeout=120
    )
    return (proc.stdout + proc.stderr).rstrip()


def sql(root: Path, statement: str) -> None:
    manage(
        root,
        "shell",
        "-c",
        f"from django.db import connection; connection.cursor().execute({statement!r})",
    )


def setup(root: Path, backend: str = "sqlite") -> Path:
    project(
        root, backend, "migfix_eval_ci", {"sqlite": 0, "postgresql": 5432, "mysql": 3306}[backend]
    )
    (root / "shop" / "migrations" / "0001_initial.py").write_text(INITIAL)
    return root / "shop" / "migrations"


def conflict(root: Path) -> tuple[str, str]:
    mig = setup(root)
    manage(root, "migrate")
    for name in ("0002_order_note", "0002_order_coupon"):
        field = name.split("_")[-1]
        op = f'migrations.AddField("order", "{field}", models.CharField(max_length=50, default=""))'
        (mig / f"{name}.py").write_text(migration("('shop', '0001_initial')", op))
    return "migrate", manage(root, "migrate")


def node_not_found(root: Path) -> tuple[str, str]:
    mig = setup(root)
    op = 'migrations.AddField("order", "note", models.TextField(default=""))'
    (mig / "0002_order_note.py").write_text(migration("('shop', '0001_squashed_0004_old')", op))
    return "migrate", manage(root, "migrate")


def inconsistent(root: Path) -> tuple[str, str]:
    mig = setup(root)
    op = 'migrations.AddField("order", "note", models.TextField(default=""))'
    (mig / "0002_order_note.py").write_text(migration("('shop', '0001_initial')", op))
    manage(root, "migrate")
    sql(root, "DELETE FROM django_migrations WHERE app='shop' AND name='0001_initial'")
    return "migrate", manage(root, "migrate")


def table_exists(root: Path) -> tuple[str, str]:
    setup(root)
    manage(root, "migrate", "contenttypes")
    sql(root, "CREATE TABLE shop_order (id integer primary key, code varchar(20))")
    return "migrate", manage(root, "migrate")


def duplicate_column(root: Path) -> tuple[str, str]:
    mig = setup(root)
    manage(root, "migrate")
    sql(root, "ALTER TABLE shop_order ADD COLUMN note text")
    op = 'migrations.AddField("order", "note", models.TextField(null=True))'
    (mig / "0002_order_note.py").write_text(migration("('shop', '0001_initial')", op))
    return "migrate", manage(root, "migrate")


def missing_table(root: Path) -> tuple[str, str]:
    setup(root)
    manage(root, "migrate", "--fake")
    return "migrate && python manage.py loaddata orders", manage(
        root, "shell", "-c", "from shop.models import Order; print(Order.objects.count())"
    )


def irreversible(root: Path) -> tuple[str, str]:
    mig = setup(root)
    (mig / "0002_fill_totals.py").write_text(
        migration(
            "('shop', '0001_initial')",
            "migrations.RunPython(fill)",
            "\ndef fill(apps, schema_editor):\n    pass\n",
        )
    )
    manage(root, "migrate")
    return "migrate shop 0001", manage(root, "migrate", "shop", "0001")


def unknown_app(root: Path) -> tuple[str, str]:
    setup(root)
    return "makemigrations orders", manage(root, "makemigrations", "orders")


def circular(root: Path) -> tuple[str, str]:
    mig = setup(root)
    (mig / "0001_initial.py").write_text(
        INITIAL.replace("dependencies = []", "dependencies = [('shop', '0002_order_note')]")
    )
    op = 'migrations.AddField("order", "note", models.TextField(default=""))'
    (mig / "0002_order_note.py").write_text(migration("('shop', '0001_initial')", op))
    return "migrate", manage(root, "migrate")


def bad_file(root: Path) -> tuple[str, str]:
    mig = setup(root)
    (mig / "0002_order_note.py").write_text(
        "<<<<<<< HEAD\n"
        + migration("('shop', '0001_initial')", "")
        + "=======\n>>>>>>> feature/notes\n"
    )
    return "migrate", manage(root, "migrate")


def missing_migrations(root: Path) -> tuple[str, str]:
    setup(root)
    manage(root, "migrate")
    models_py = root / "shop" / "models.py"
    models_py.write_text(models_py.read_text() + "    note = models.TextField(default='')\n")
    return "makemigrations --check --dry-run", manage(
        root, "makemigrations", "--check", "--dry-run"
    )


def unapplied(root: Path) -> tuple[str, str]:
    mig = setup(root)
    manage(root, "migrate")
    op = 'migrations.AddField("order", "note", models.TextField(default=""))'
    (mig / "0002_order_note.py").write_text(migration("('shop', '0001_initial')", op))
    return "showmigrations shop", manage(root, "showmigrations", "shop")


def missing_column(root: Path) -> tuple[str, str]:
    setup(root)
    manage(root, "migrate")
    models_py = root / "shop" / "models.py"
    models_py.write_text(models_py.read_text() + "    note = models.TextField(default='')\n")
    return "python manage.py shell -c 'Order.objects.first()'", manage(
        root, "shell", "-c", "from shop.models import Order; Order.objects.first()"
    )


def unique_violation(root: Path) -> tuple[str, str]:
    mig = setup(root)
    op = 'migrations.AddField("order", "ref", models.CharField(max_length=10, default=""))'
    (mig / "0002_order_ref.py").write_text(migration("('shop', '0001_initial')", op))
    manage(root, "migrate")
    manage(
        root,
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor(); c.execute(\"INSERT INTO shop_order (code, total, ref) VALUES ('a', 1, 'x'), ('b', 2, 'x')\")",
    )
    op = 'migrations.AlterField("order", "ref", models.CharField(max_length=10, default="", unique=True))'
    (mig / "0003_order_ref_unique.py").write_text(migration("('shop', '0002_order_ref')", op))
    return "migrate", manage(root, "migrate")


def not_null(root: Path) -> tuple[str, str]:
    mig = setup(root)
    op = 'migrations.AddField("order", "note", models.TextField(null=True))'
    (mig / "0002_order_note.py").write_text(migration("('shop', '0001_initial')", op))
    manage(root, "migrate")
    manage(
        root,
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute(\"INSERT INTO shop_order (code, total) VALUES ('a', 1)\")",
    )
    op = 'migrations.AlterField("order", "note", models.TextField())'
    (mig / "0003_alter_order_note.py").write_text(migration("('shop', '0002_order_note')", op))
    return "migrate", manage(root, "migrate")


SCENARIOS: list[tuple[str, str, Callable[[Path], tuple[str, str]]]] = [
    ("conflicting-leaf-nodes", "migrate", conflict),
    ("node-not-found", "migrate", node_not_found),
    ("inconsistent-history", "migrate", inconsistent),
    ("table-already-exists", "migrate", table_exists),
    ("duplicate-column", "migrate", duplicate_column),
    ("missing-table", "query", missing_table),
    ("irreversible-migration", "backwards", irreversible),
    ("unknown-app-label", "makemigrations", unknown_app),
    ("circular-dependency", "migrate", circular),
    ("bad-migration-file", "conflict-markers", bad_file),
    ("missing-migrations", "check", missing_migrations),
    ("unapplied-migrations", "showmigrations", unapplied),
    ("missing-column", "query", missing_column),
    ("unique-constraint-violation", "migrate", unique_violation),
    ("not-null-without-default", "migrate", not_null),
]


def github(command: str, output: str) -> str:
    stamp = "2024-06-03T14:0{m}:{s:02d}.{f:07d}Z"
    lines = [
        f"##[group]Run python manage.py {command}",
        f"python manage.py {command}",
        "##[endgroup]",
    ]
    lines += output.splitlines() + ["##[error]Process completed with exit code 1."]
    return (
        "\n".join(
            stamp.format(m=1 + i // 60, s=i % 60, f=1234567 + i * 31) + " " + line
            for i, line in enumerate(lines)
        )
        + "\n"
    )


def gitlab(command: str, output: str) -> str:
    head = '\x1b[0Ksection_start:1717423200:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script" stage of the job script\x1b[0;m\x1b[0;m\n'
    body = f"\x1b[32;1m$ python manage.py {command}\x1b[0;m\n" + "\n".join(
        f"\x1b[31;1m{line}\x1b[0;m" if line and not line.startswith(" ") else line
        for line in output.splitlines()
    )
    tail = "\n\x1b[0Ksection_end:1717423260:step_script\r\x1b[0K\x1b[31;1mERROR: Job failed: exit code 1\n\x1b[0;m\n"
    return head + body + tail


def compose_prefix(command: str, output: str) -> str:
    lines = [f"$ docker compose run --rm web python manage.py {command}"]
    lines += [f"web-1  | {line}" for line in output.splitlines()]
    return "\r\n".join(lines) + "\r\n"


def main() -> None:
    wrappers = (("github", github), ("gitlab", gitlab), ("compose", compose_prefix))
    for n, (label, slug, scenario) in enumerate(SCENARIOS):
        with tempfile.TemporaryDirectory() as tmp:
            command, output = scenario(Path(tmp))
        name, wrap = wrappers[n % len(wrappers)]
        folder = CASES / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"ci-{name}-{slug}.txt").write_bytes(wrap(command, output).encode())
        print(f"{label}: {output.splitlines()[-1][:120] if output else '(no output)'}")


if __name__ == "__main__":
    main()

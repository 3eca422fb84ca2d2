"""Rehearsals of the migration-graph and history playbooks: break, ask migfix, follow."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import pytest
from rehearsal.project import PYTHON, DjangoProject, Run
from rehearsal.rehearse import rehearse
from rehearsal.shop import ORDER, add_field, create_model, expect, migration, models_py, shop

from migfix.server.answer import Step

NOTE = "note = models.TextField(null=True)"
COUPON = "coupon = models.CharField(max_length=20, null=True)"
NOTE_OP = add_field("order", "note", "models.TextField(null=True)")
COUPON_OP = add_field("order", "coupon", "models.CharField(max_length=20, null=True)")

pytestmark = pytest.mark.slow


def test_conflicting_leaf_nodes(make_project: Any, engine: Any) -> None:
    """Two branches each added 0002 to orders; after the git merge, migrate refuses."""
    project = shop(make_project)
    initial = ("orders", "0001_initial")
    project.write("orders/migrations/0002_order_note.py", migration([initial], [NOTE_OP]))
    project.write("orders/migrations/0002_order_coupon.py", migration([initial], [COUPON_OP]))
    project.write("orders/models.py", models_py(("Order", [ORDER, NOTE, COUPON])))

    failing = project.manage("migrate")
    expect(
        failing, "Conflicting migrations detected", "0002_order_coupon, 0002_order_note in orders"
    )

    result = rehearse(
        engine, project, failing, "conflicting-leaf-nodes", names=["makemigrations --merge orders"]
    )
    merges = [m for m in project.migrations("orders") if "merge" in m]
    assert len(merges) == 1, project.migrations("orders")
    assert {"note", "coupon"} <= set(project.columns("orders_order"))
    assert any(f["code"] == "graph.conflict" for f in result.answer.findings)


def test_inconsistent_history(make_project: Any, engine: Any) -> None:
    """billing.0001 was applied on a branch; the rebase made it depend on orders.0002."""
    project = shop(make_project, "billing")
    invoice = create_model("Invoice", "('number', models.CharField(max_length=20))")
    project.write(
        "billing/models.py", models_py(("Invoice", ["number = models.CharField(max_length=20)"]))
    )
    project.write("billing/migrations/0001_initial.py", migration([], [invoice]))
    project.migrate_ok()
    project.execute("INSERT INTO billing_invoice (number) VALUES ('INV-1')")
    # After the rebase: orders gained 0002, and billing.0001 now declares it needs it.
    project.write(
        "orders/migrations/0002_order_note.py", migration([("orders", "0001_initial")], [NOTE_OP])
    )
    project.write("orders/models.py", models_py(("Order", [ORDER, NOTE])))
    path = "billing/migrations/0001_initial.py"
    project.write(path, migration([("orders", "0002_order_note")], [invoice]))

    failing = project.manage("migrate")
    expect(
        failing,
        "InconsistentMigrationHistory",
        "Migration billing.0001_initial is applied before its dependency orders.0002_order_note",
    )

    def drop_dependency(step: Step) -> bool:
        """The human part of the step: remove the dependency line, as the text says."""
        if "Remove only the line" not in step.text:
            return False
        line = "('orders', '0002_order_note')"
        assert line in step.text, step.text
        source = project.read(path)
        edited = "\n".join(x for x in source.splitlines() if x.strip().rstrip(",") != line)
        assert edited != source, "the line to remove is in the file"
        project.write(path, edited + "\n")
        return True

    rehearse(
        engine,
        project,
        failing,
        "inconsistent-history",
        names=["migrate orders 0002_order_note", "billing/migrations/0001_initial.py"],
        manual=drop_dependency,
    )
    assert "('orders', '0002_order_note')" in project.read(path), "the file was put back"
    assert "0002_order_note" in project.applied("orders")


def shop_with_note_and_coupon(make_project: Any) -> Any:
    """The shop with ``0002_order_note`` and ``0003_order_coupon`` written and applied."""
    project = shop(make_project)
    project.write(
        "orders/migrations/0002_order_note.py", migration([("orders", "0001_initial")], [NOTE_OP])
    )
    project.write(
        "orders/migrations/0003_order_coupon.py",
        migration([("orders", "0002_order_note")], [COUPON_OP]),
    )
    project.write("orders/models.py", models_py(("Order", [ORDER, NOTE, COUPON])))
    project.migrate_ok()
    return project


def test_inconsistent_history_after_a_deleted_row(make_project: Any, engine: Any) -> None:
    """Someone deleted 0002's row from django_migrations "to re-run it"; 0003 stays applied."""
    project = shop_with_note_and_coupon(make_project)
    project.execute(
        "DELETE FROM django_migrations WHERE app = 'orders' AND name = '0002_order_note'"
    )
    failing = project.manage("migrate")
    expect(failing, "Migration orders.0003_order_coupon is applied before its dependency")
    rehearse(engine, project, failing, "inconsistent-history", names=["orders"])


def test_custom_user_model_swap(make_project: Any, engine: Any) -> None:
    """AUTH_USER_MODEL moved to accounts.User after orders.0001 (FK to the user) was applied."""
    project = make_project(apps=("orders",))
    project.write(
        "orders/models.py",
        models_py(
            (
                "Order",
                [
                    ORDER,
                    "owner = models.ForeignKey(settings.AUTH_USER_MODEL, "
                    "on_delete=models.CASCADE, null=True)",
                ],
            )
        ),
    )
    project.write(
        "orders/migrations/0001_initial.py",
        migration(
            ["migrations.swappable_dependency(settings.AUTH_USER_MODEL)"],
            [
                create_model(
                    "Order",
                    "('name', models.CharField(max_length=100))",
                    "('owner', models.ForeignKey(null=True, on_delete=django.db.models.deletion."
                    "CASCADE, to=settings.AUTH_USER_MODEL))",
                )
            ],
        ),
    )
    project.migrate_ok()
    project.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
        " is_staff, is_active, date_joined) VALUES ('!', false, 'ada', '', '', '', false, true,"
        " CURRENT_TIMESTAMP)"
    )
    project.execute("INSERT INTO orders_order (name, owner_id) VALUES ('first', 1)")
    project.add_app(
        "accounts",
        models_py(("User", [])).replace(
            "class User(models.Model)",
            "from django.contrib.auth.models import AbstractUser\n\n\nclass User(AbstractUser)",
        ),
    )
    project.extra_settings = 'AUTH_USER_MODEL = "accounts.User"'
    project.write_settings()
    assert project.manage("makemigrations", "accounts").returncode == 0

    failing = project.manage("migrate")
    expect(
        failing,
        "InconsistentMigrationHistory",
        "Migration orders.0001_initial is applied before its dependency accounts.0001_initial",
    )

    def map_onto_auth_user(step: Step) -> bool:
        """The human part: point the new model at auth_user with integer keys, as told."""
        if 'db_table = "auth_user"' not in step.text:
            return False
        project.write(
            "accounts/models.py",
            "from django.contrib.auth.models import AbstractUser\n\n\n"
            "class User(AbstractUser):\n"
            "    class Meta:\n"
            '        db_table = "auth_user"\n',
        )
        project.write(
            "accounts/apps.py",
            "from django.apps import AppConfig\n\n\n"
            "class AccountsConfig(AppConfig):\n"
            '    name = "accounts"\n'
            '    default_auto_field = "django.db.models.AutoField"\n',
        )
        return True

    # Moving the user content type to the new app changes that one row by design.
    rehearse(
        engine,
        project,
        failing,
        "custom-user-model-swap",
        names=["makemigrations accounts", "VALUES ('accounts', '0001_initial'"],
        manual=map_onto_auth_user,
        expect_lost=["django_content_type row 4 changed ['app_label']"],
    )
    assert project.query("SELECT username FROM auth_user") == [("ada",)]


def test_node_not_found(make_project: Any, engine: Any) -> None:
    """A clean-up commit deleted 0002 ("unused"), but 0003 depends on it."""
    project = shop_with_note_and_coupon(make_project)
    project.commit("orders: note and coupon")
    project.remove("orders/migrations/0002_order_note.py")
    project.commit("orders: remove an unused migration")

    failing = project.manage("migrate")
    expect(
        failing,
        "NodeNotFoundError",
        "Migration orders.0003_order_coupon dependencies reference nonexistent parent node "
        "('orders', '0002_order_note')",
    )
    rehearse(
        engine, project, failing, "node-not-found", names=["orders/migrations/0002_order_note.py"]
    )
    assert project.exists("orders/migrations/0002_order_note.py")


def test_squashed_migration(make_project: Any, engine: Any) -> None:
    """0001-0003 squashed and the originals deleted while this database had applied 0002 only."""
    project = shop(make_project, "billing")
    initial = ("orders", "0001_initial")
    project.write("orders/migrations/0002_order_note.py", migration([initial], [NOTE_OP]))
    project.migrate_ok()
    project.write(
        "orders/migrations/0003_order_coupon.py",
        migration([("orders", "0002_order_note")], [COUPON_OP]),
    )
    project.write("orders/models.py", models_py(("Order", [ORDER, NOTE, COUPON])))
    project.write(
        "billing/models.py",
        models_py(
            ("Invoice", ["order = models.ForeignKey('orders.Order', on_delete=models.CASCADE)"])
        ),
    )
    project.write(
        "billing/migrations/0001_initial.py",
        migration(
            [("orders", "0003_order_coupon")],
            [
                create_model(
                    "Invoice",
                    "('order', models.ForeignKey(on_delete=django.db.models."
                    "deletion.CASCADE, to='orders.order'))",
                )
            ],
        ),
    )
    project.commit("orders: coupon; billing")
    squash = project.manage("squashmigrations", "orders", "0003", "--noinput")
    assert squash.returncode == 0, squash.describe()
    for name in ("0001_initial", "0002_order_note", "0003_order_coupon"):
        project.remove(f"orders/migrations/{name}.py")
    project.commit("orders: squash 0001-0003 and drop the replaced migrations")

    failing = project.manage("migrate")
    expect(
        failing,
        "NodeNotFoundError",
        "Django tried to replace migration orders.0003_order_coupon",
        "some of the replaced migrations are already applied",
    )
    rehearse(
        engine,
        project,
        failing,
        "squashed-migration",
        names=["orders/migrations/0003_order_coupon.py"],
    )


def test_irreversible_migration(make_project: Any, engine: Any) -> None:
    """A forward-only RunPython backfill blocks migrating orders back to 0001."""
    project = shop(make_project)
    project.write(
        "orders/migrations/0002_backfill_names.py",
        migration(
            [("orders", "0001_initial")],
            ["migrations.RunPython(backfill)"],
            extra=(
                "def backfill(apps, schema_editor):\n"
                "    Order = apps.get_model('orders', 'Order')\n"
                "    Order.objects.filter(name='').update(name='unnamed')"
            ),
        ),
    )
    project.migrate_ok()

    failing = project.manage("migrate", "orders", "0001")
    expect(failing, "IrreversibleError", "in orders.0002_backfill_names is not reversible")

    def add_reverse(step: Step) -> bool:
        """The human part: give the RunPython a reverse, as the step tells."""
        if "reverse_code" not in step.text and "noop" not in step.text:
            return False
        path = "orders/migrations/0002_backfill_names.py"
        source = project.read(path)
        project.write(
            path,
            source.replace(
                "migrations.RunPython(backfill)",
                "migrations.RunPython(backfill, reverse_code=migrations.RunPython.noop)",
            ),
        )
        return True

    result = rehearse(
        engine,
        project,
        failing,
        "irreversible-migration",
        names=["migrate orders 0001_initial"],
        manual=add_reverse,
    )
    assert "manual" in result.rehearsal.log() or "0002_backfill_names" in result.rehearsal.log()


def test_unapplied_migrations(make_project: Any, engine: Any) -> None:
    """A pull brought orders.0002; runserver warns about the unapplied migration."""
    project = shop(make_project)
    project.write(
        "orders/migrations/0002_order_note.py", migration([("orders", "0001_initial")], [NOTE_OP])
    )
    project.write("orders/models.py", models_py(("Order", [ORDER, NOTE])))

    warning = runserver_warning(project)
    assert "You have 1 unapplied migration(s)" in warning.output, warning.describe()
    rehearse(engine, project, warning, "unapplied-migrations", names=["migrate"])
    assert "0002_order_note" in project.applied("orders")


def runserver_warning(project: DjangoProject) -> Run:
    """What ``runserver`` prints at start-up, read until the migrations warning."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [str(PYTHON), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        args,
        cwd=project.root,
        env=project.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 30
    try:
        assert server.stdout is not None
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "apply them" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    return Run(tuple(args), 0, "".join(lines), "")

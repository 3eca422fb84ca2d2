"""Produce real non-migration errors by running Django, psql, node and Python here.

The evaluation set needs negatives that look like what people paste (full tracebacks
from a real project, on each backend) but are not migration problems. Run once:

    .venv/bin/python tests/eval/generate_negatives.py [SLUG ...]

It writes ``tests/eval/cases/none/run-<slug>.txt``; the files are committed, so the
evaluation never depends on this script or on the databases being up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

OUT = Path(__file__).parent / "cases" / "none"
ONLY = set(sys.argv[1:])  # slugs to (re)write; all of them when none is given

SETTINGS = """
SECRET_KEY = "eval-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["testserver", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.staticfiles", "shop"]
ROOT_URLCONF = "site_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True}]
STATIC_URL = "/static/"
DATABASES = {"default": %s}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

MODELS = """
from django.db import models

class Order(models.Model):
    code = models.CharField(max_length=20, unique=True)
    total = models.IntegerField(default=0)
"""

VIEWS = """
from django.shortcuts import render

def index(request):
    return render(request, "shop/index.html")
"""

URLS = """
from django.urls import path
from shop import views

urlpatterns = [path("", views.index, name="index")]
"""

DATABASES = {
    "sqlite": '{"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}',
    "postgresql": '{"ENGINE": "django.db.backends.postgresql", "NAME": "%s", "HOST": "127.0.0.1", "PORT": %s, "USER": "postgres"}',
    "mysql": '{"ENGINE": "django.db.backends.mysql", "NAME": "%s", "HOST": "127.0.0.1", "PORT": %s, "USER": "root"}',
}

# (slug, backend, manage.py arguments or a shell snippet, extra settings or file edits)
SHELL_CASES: list[tuple[str, str, str]] = [
    ("template-does-not-exist", "sqlite", "from django.test import Client; Client().get('/')"),
    (
        "no-reverse-match",
        "sqlite",
        "from django.urls import reverse; reverse('order-detail', args=[3])",
    ),
    (
        "field-error",
        "sqlite",
        "from shop.models import Order; list(Order.objects.filter(customer__name='x'))",
    ),
    ("does-not-exist", "sqlite", "from shop.models import Order; Order.objects.get(code='A-1')"),
    (
        "multiple-objects-returned",
        "sqlite",
        "from shop.models import Order; Order.objects.bulk_create([Order(code='a', total=1), Order(code='b', total=1)]); Order.objects.get(total=1)",
    ),
    (
        "integrity-error-view",
        "sqlite",
        "from shop.models import Order; Order.objects.create(code='a'); Order.objects.create(code='a')",
    ),
    (
        "attribute-error-queryset",
        "sqlite",
        "from shop.models import Order; Order.objects.all().first_or_none()",
    ),
    (
        "validation-error",
        "sqlite",
        "from shop.models import Order; Order(code='x'*30).full_clean()",
    ),
    (
        "disallowed-host",
        "sqlite",
        "from django.test import RequestFactory; RequestFactory(HTTP_HOST='evil.example.com').get('/').get_host()",
    ),
    ("type-error-none", "sqlite", "o = None; o['code']"),
    (
        "template-syntax-error",
        "sqlite",
        "from django.template import Template; Template('{% frobnicate %}')",
    ),
    (
        "staticfiles-manifest",
        "sqlite",
        "from django.contrib.staticfiles.storage import ManifestStaticFilesStorage; ManifestStaticFilesStorage().url('css/app.css')",
    ),
    (
        "pg-integrity-duplicate-runtime",
        "postgresql",
        "from shop.models import Order; Order.objects.create(code='a'); Order.objects.create(code='a')",
    ),
    (
        "pg-data-error-runtime",
        "postgresql",
        "from django.db import connection; connection.cursor().execute(\"SELECT 'abc'::integer\")",
    ),
    # Application errors whose messages look like a migration's (the playbooks that claim
    # them are ``migration_only``): a view saving a duplicate or too long value, a bad FK.
    (
        "mysql-duplicate-entry-runtime",
        "mysql",
        "from shop.models import Order; Order.objects.create(code='a'); Order.objects.create(code='a')",
    ),
    (
        "pg-value-too-long-runtime",
        "postgresql",
        "from shop.models import Order; Order.objects.create(code='x' * 30)",
    ),
    (
        "sqlite-foreign-key-runtime",
        "sqlite",
        "from django.db import transaction\nfrom django.contrib.auth.models import User\n"
        "user = User.objects.create(username='ann')\nwith transaction.atomic():\n"
        "    User.groups.through.objects.create(user_id=user.id, group_id=999)",
    ),
    (
        "mysql-foreign-key-runtime",
        "mysql",
        "from django.contrib.auth.models import User; user = User.objects.create(username='ann'); "
        "User.groups.through.objects.create(user_id=user.id, group_id=999)",
    ),
    (
        "mysql-does-not-exist",
        "mysql",
        "from shop.models import Order; Order.objects.get(code='nope')",
    ),
    (
        "pg-field-error",
        "postgresql",
        "from shop.models import Order; Order.objects.order_by('-created')[0]",
    ),
]


def project(root: Path, backend: str, db_name: str, port: int) -> None:
    (root / "shop" / "migrations").mkdir(parents=True)
    (root / "shop" / "templates").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "migrations" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(MODELS)
    (root / "shop" / "views.py").write_text(VIEWS)
    (root / "site_urls.py").write_text(URLS)
    database = DATABASES[backend] % (db_name, port) if backend != "sqlite" else DATABASES[backend]
    (root / "settings.py").write_text(SETTINGS % database)
    (root / "manage.py").write_text(
        textwrap.dedent(
            """\
            import os, sys
            if __name__ == "__main__":
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
                from django.core.management import execute_from_command_line
                execute_from_command_line(sys.argv)
            """
        )
    )


def run(root: Path, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )
    return (proc.stdout + proc.stderr).strip()


def save(slug: str, command: str, output: str) -> None:
    if ONLY and slug not in ONLY:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"run-{slug}.txt").write_text(f"$ {command}\n{output}\n")
    print("wrote", slug, len(output))


def main() -> None:
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    for backend in ("sqlite", "postgresql", "mysql"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            db = "migfix_eval_neg"
            port = {"sqlite": 0, "postgresql": 5432, "mysql": 3306}[backend]
            project(root, backend, db, port)
            if backend == "postgresql":
                subprocess.run(
                    [
                        "psql",
                        "-h",
                        "127.0.0.1",
                        "-U",
                        "postgres",
                        "-c",
                        f"DROP DATABASE IF EXISTS {db}",
                    ],
                    capture_output=True,
                )
                subprocess.run(
                    ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {db}"],
                    capture_output=True,
                )
            if backend == "mysql":
                subprocess.run(
                    [
                        "mysql",
                        "-h127.0.0.1",
                        "-uroot",
                        "-e",
                        f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}",
                    ],
                    capture_output=True,
                )
            run(root, "makemigrations", "shop")
            run(root, "migrate")
            for slug, case_backend, snippet in SHELL_CASES:
                if case_backend == backend:
                    save(
                        slug,
                        f'python manage.py shell -c "{snippet}"',
                        run(root, "shell", "-c", snippet),
                    )
        # Connection failures: the server is down, or the database is not there.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            if backend == "postgresql":
                project(root, backend, "shop", 5499)
                save(
                    "pg-connection-refused",
                    "python manage.py runserver --noreload (first request)",
                    run(
                        root,
                        "shell",
                        "-c",
                        "from django.db import connection; connection.ensure_connection()",
                    ),
                )
                project_missing = Path(tmp) / "missing"
                project_missing.mkdir()
                project(project_missing, backend, "no_such_db", 5432)
                save(
                    "pg-database-missing",
                    "python manage.py dbshell",
                    run(
                        project_missing,
                        "shell",
                        "-c",
                        "from shop.models import Order; Order.objects.count()",
                    ),
                )
            elif backend == "mysql":
                project(root, backend, "shop", 3399)
                save(
                    "mysql-connection-refused",
                    "python manage.py shell",
                    run(
                        root,
                        "shell",
                        "-c",
                        "from django.db import connection; connection.ensure_connection()",
                    ),
                )
                project_missing = Path(tmp) / "missing"
                project_missing.mkdir()
                project(project_missing, backend, "no_such_db", 3306)
                save(
                    "mysql-unknown-database",
                    "python manage.py check --database default",
                    run(project_missing, "check", "--database", "default"),
                )
            else:
                project(root, backend, "", 0)
                (root / "site_urls.py").write_text(
                    "from django.urls import path\nfrom shop.views import order_list\nurlpatterns = [path('', order_list)]\n"
                )
                save("import-error-view", "python manage.py check", run(root, "check"))
                (root / "site_urls.py").write_text(URLS)
                (root / "settings.py").write_text(
                    (root / "settings.py").read_text() + "\nINSTALLED_APPS += ['rest_framework']\n"
                )
                save("module-not-found-app", "python manage.py runserver", run(root, "check"))
                (root / "settings.py").write_text(
                    (root / "settings.py")
                    .read_text()
                    .replace('SECRET_KEY = "eval-not-secret"', 'SECRET_KEY = ""')
                    .replace("\nINSTALLED_APPS += ['rest_framework']\n", "")
                )
                save(
                    "improperly-configured-secret-key",
                    "python manage.py runserver",
                    run(root, "shell", "-c", "from django.test import Client; Client().get('/')"),
                )
                (root / "settings.py").write_text(
                    (root / "settings.py")
                    .read_text()
                    .replace('SECRET_KEY = ""', 'SECRET_KEY = "x"')
                )
                (root / "shop" / "models.py").write_text(
                    MODELS
                    + "\nclass Line(models.Model):\n    order = models.ForeignKey(Order, on_delete=models.CASCADE)\n    other = models.ForeignKey(Order, on_delete=models.CASCADE)\n"
                )
                save("system-check-clash", "python manage.py check", run(root, "check"))
                (root / "shop" / "models.py").write_text(
                    MODELS + "\nclass Broken(models.Model)\n    pass\n"
                )
                save("syntax-error-models", "python manage.py runserver", run(root, "check"))
    # Non-Django tools, run for real where they are installed here.
    psql = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", "5499", "-U", "postgres", "-c", "select 1"],
        capture_output=True,
        text=True,
    )
    save("psql-connection-refused", "psql -h 127.0.0.1 -p 5499 -U postgres", psql.stderr.strip())
    node = subprocess.run(
        ["node", "-e", "const items = undefined; items.map(x => x)"], capture_output=True, text=True
    )
    save("node-type-error", "node build.js", node.stderr.strip())
    node = subprocess.run(
        ["node", "-e", "require('left-pad-nope')"], capture_output=True, text=True
    )
    save("node-module-not-found", "node server.js", node.stderr.strip())
    py = subprocess.run(
        [sys.executable, "-c", "import json; json.loads('{\"a\": 1,}')"],
        capture_output=True,
        text=True,
    )
    save("python-json-decode", "python scripts/load_fixtures.py", py.stderr.strip())
    py = subprocess.run(
        [sys.executable, "-c", "def f(n): return f(n + 1)\nf(0)"], capture_output=True, text=True
    )
    save("python-recursion", "python tasks.py", "\n".join(py.stderr.strip().splitlines()[-12:]))


if __name__ == "__main__":
    main()

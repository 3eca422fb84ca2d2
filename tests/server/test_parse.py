"""Parsing real pastes: chained tracebacks, CI logs, command outputs, questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from migfix.indexer.errors import InputError
from migfix.server.parse import MAX_BYTES, normalise, parse

CASES = Path(__file__).resolve().parent.parent / "eval" / "cases"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "conflicting-leaf-nodes.txt"

CHAINED_PG = """Traceback (most recent call last):
  File "/app/.venv/lib/python3.12/site-packages/django/db/backends/utils.py", line 105, in _execute
    return self.cursor.execute(sql, params)
  File "/app/.venv/lib/python3.12/site-packages/psycopg/cursor.py", line 97, in execute
    raise ex.with_traceback(None)
psycopg.errors.UndefinedTable: relation "orders_order" does not exist
LINE 1: SELECT COUNT(*) AS "__count" FROM "orders_order"

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/manage.py", line 22, in <module>
    main()
django.db.utils.ProgrammingError: relation "orders_order" does not exist
LINE 1: SELECT COUNT(*) AS "__count" FROM "orders_order"
"""


def test_chained_exceptions_in_order_final_last() -> None:
    parsed = parse(CHAINED_PG)
    assert [e.name for e in parsed.exceptions] == ["UndefinedTable", "ProgrammingError"]
    assert parsed.final is not None and parsed.final.qualname == "django.db.utils.ProgrammingError"
    assert parsed.final.message.startswith('relation "orders_order" does not exist')
    assert parsed.tables == ["orders_order"]
    assert parsed.backend == "postgresql"


def test_during_handling_chain() -> None:
    text = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
        "KeyError: 'default'\n\nDuring handling of the above exception, another exception occurred:\n\n"
        'Traceback (most recent call last):\n  File "y.py", line 2, in <module>\n'
        "django.core.exceptions.ImproperlyConfigured: settings.DATABASES is improperly configured.\n"
    )
    assert [e.name for e in parse(text).exceptions] == ["KeyError", "ImproperlyConfigured"]


def test_command_error_message_spans_lines_and_command_is_the_one_run() -> None:
    parsed = parse(EXAMPLE.read_text())
    assert parsed.final is not None and parsed.final.name == "CommandError"
    assert "makemigrations --merge" in parsed.final.message
    assert parsed.command == "migrate"  # not the command the message recommends
    assert parsed.apps == ["orders"]
    assert parsed.migrations == ["0004_order_coupon", "0004_order_note"]


def test_github_actions_log_is_cleaned() -> None:
    text = (
        "2024-06-03T14:01:00.1234567Z ##[group]Run python manage.py migrate\n"
        "2024-06-03T14:01:01.1234567Z \x1b[31mdjango.db.utils.OperationalError: no such table: shop_order\x1b[0m\r\n"
        "2024-06-03T14:01:02.1234567Z ##[error]Process completed with exit code 1.\n"
    )
    clean = normalise(text)
    assert "\x1b" not in clean and "2024-06-03" not in clean and "\r" not in clean
    parsed = parse(text)
    assert parsed.final is not None and parsed.final.name == "OperationalError"
    assert parsed.tables == ["shop_order"]
    assert parsed.backend == "sqlite"
    assert parsed.command == "migrate"


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.glob("*/ci-gitlab-*.txt"))[:3])
def test_gitlab_logs_lose_ansi_and_section_markers(name: str) -> None:
    path = next(CASES.glob(f"*/{name}"))
    clean = parse(path.read_text()).text
    assert "\x1b" not in clean
    assert "section_start" not in clean and "section_end" not in clean


def test_docker_compose_prefix_and_crlf() -> None:
    text = "web-1  | Operations to perform:\r\nweb-1  |   Apply all migrations: shop\r\nweb-1  |   Applying shop.0003_order_status...\r\n"
    parsed = parse(text)
    assert "web-1" not in parsed.text
    assert "migrate" in parsed.outputs
    assert parsed.failing_migration == "shop.0003_order_status"
    assert parsed.apps[0] == "shop"


def test_showmigrations_listing() -> None:
    parsed = parse(
        "orders\n [X] 0001_initial\n [ ] 0002_order_coupon\n [ ] 0002_order_note\nauth\n [X] 0001_initial\n"
    )
    assert parsed.outputs == ["showmigrations"]
    assert parsed.apps == ["orders", "auth"]
    assert parsed.unapplied == ["0002_order_coupon", "0002_order_note"]


def test_showmigrations_plan() -> None:
    parsed = parse(
        "[X]  contenttypes.0001_initial\n[X]  shop.0001_initial\n[ ]  shop.0002_order_note\n"
    )
    assert "showmigrations-plan" in parsed.outputs
    assert parsed.unapplied == ["shop.0002_order_note"]


def test_makemigrations_prompt() -> None:
    text = (CASES / "not-null-without-default" / "partial-prompt.txt").read_text()
    parsed = parse(text)
    assert "makemigrations-prompt" in parsed.outputs
    assert parsed.columns == ["note"]
    assert parsed.models == ["order"]


@pytest.mark.parametrize(
    ("text", "backend"),
    [
        (
            "django.db.utils.ProgrammingError: (1146, \"Table 'shop.shop_order' doesn't exist\")",
            "mysql",
        ),
        ("django.db.utils.OperationalError: no such column: shop_order.note", "sqlite"),
        (
            '  File "/srv/venv/lib/python3.11/site-packages/MySQLdb/cursors.py", line 179, in execute',
            "mysql",
        ),
        (
            'psycopg2.errors.DuplicateColumn: column "note" of relation "shop_order" already exists',
            "postgresql",
        ),
    ],
)
def test_backend_from_driver_or_message_style(text: str, backend: str) -> None:
    assert parse(text).backend == backend


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("Django Version: 4.2.11\nException Type: OperationalError", "4.2.11"),
        ("see https://docs.djangoproject.com/en/5.1/topics/migrations/", "5.1"),
        ('  File "/usr/lib/python3/dist-packages/Django-4.2.11.dist-info/x"', "4.2.11"),
    ],
)
def test_django_version(text: str, version: str) -> None:
    assert parse(text).django_version == version


def test_mysql_columns_and_constraints() -> None:
    parsed = parse(
        "django.db.utils.IntegrityError: (1062, \"Duplicate entry 'x' for key 'shop_order_ref_key'\")"
    )
    assert parsed.constraints == ["shop_order_ref_key"]
    parsed = parse(
        "django.db.utils.OperationalError: (1054, \"Unknown column 'shop_order.note' in 'field list'\")"
    )
    assert parsed.columns == ["note"]


def test_plain_question() -> None:
    parsed = parse("two of us both made 0003, how do I merge them?")
    assert parsed.is_question and not parsed.exceptions
    assert parsed.signals()["kind"] == "question"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
        (b"a" * (MAX_BYTES + 1), "larger"),
        (bytes(range(128, 256)) * 10, "not UTF-8"),
        (b"\x1b[31m\x1b[0m\n", "empty"),
    ],
)
def test_bad_input_is_one_line_error(data: bytes, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse(data)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_utf8_inside_text_is_tolerated() -> None:
    parsed = parse(b"django.db.utils.OperationalError: no such table: shop_order \xff\xfe\n")
    assert parsed.tables == ["shop_order"]

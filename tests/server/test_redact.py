"""Secrets never survive redaction; ordinary text does."""

from __future__ import annotations

import pytest

from migfix.server.parse import parse
from migfix.server.redact import MASK, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("DATABASE_URL=postgres://shop:s3cr3t-pw@db.internal:5432/shop", "s3cr3t-pw"),
        ("mysql://root:hunter2@127.0.0.1/app", "hunter2"),
        ("SECRET_KEY = 'django-insecure-8x!k2@p#q'", "django-insecure-8x!k2@p#q"),
        (
            """DATABASES = {"default": {"PASSWORD": "correct-horse", "USER": "app"}}""",
            "correct-horse",
        ),
        (
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCY",
            "wJalrXUtnFEMIK7MDENGbPxRfiCY",
        ),
        (
            "token: ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        ),
        ("SLACK_BOT=xoxb-1234567890-abcdefghijkl", "xoxb-1234567890-abcdefghijkl"),
        ("Authorization: Bearer abcdef0123456789abcdef", "abcdef0123456789abcdef"),
        ("$ mysql -uroot -pTopSecret shop < dump.sql", "TopSecret"),
        ("PGPASSWORD=pa55 psql -h db -U app", "pa55"),
    ],
)
def test_secret_is_masked(text: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text
    assert MASK in result.text
    assert result.count >= 1


@pytest.mark.parametrize(
    "text",
    [
        'django.db.utils.OperationalError: FATAL:  password authentication failed for user "app"',
        "psql -h 127.0.0.1 -p 5432 -U postgres",
        "CommandError: Conflicting migrations detected; multiple leaf nodes in the migration graph",
        "Applying shop.0002_order_token... OK",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact(text).text == text


def test_redaction_is_idempotent() -> None:
    once = redact("SECRET_KEY='abc' postgres://u:p4ss@h/db").text
    assert redact(once).text == once
    assert redact(once).count == 0


def test_parse_redacts_before_extracting_signals() -> None:
    parsed = parse(
        "django.db.utils.OperationalError: could not connect to postgres://app:pw123@db/shop"
    )
    assert "pw123" not in parsed.text
    assert "pw123" not in str(parsed.signals())
    assert parsed.signals()["redacted"] == 1

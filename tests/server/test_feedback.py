"""The feedback store keeps verdicts and unanswered questions, redacted, on both backends."""

from __future__ import annotations

import json
import sqlite3

import pytest

from migfix.server.feedback import Feedback, FeedbackStore, StoreConfigError

PASTE = (
    "django.db.utils.OperationalError: connection to server failed\n"
    "DATABASE_URL=postgres://app:hunter2secret@db.internal:5432/shop\n"
)


def test_feedback_is_stored_with_the_question_redacted(store: FeedbackStore) -> None:
    first = store.add_feedback(
        Feedback(
            helpful=True, playbook_id="conflicting-leaf-nodes", confidence=0.91, question=PASTE
        )
    )
    second = store.add_feedback(Feedback(helpful=False, comment="token xoxb-1234567890-abcdefghij"))
    rows = store.feedback()
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["helpful"] is True and rows[1]["helpful"] is False
    assert rows[0]["playbook_id"] == "conflicting-leaf-nodes"
    assert rows[0]["confidence"] == pytest.approx(0.91)
    assert "hunter2secret" not in rows[0]["question"]
    assert "db.internal:5432/shop" in rows[0]["question"]
    assert "xoxb-1234567890" not in rows[1]["comment"]


def test_unanswered_questions_round_trip_in_order(store: FeedbackStore) -> None:
    store.add_unanswered(PASTE, nearest=["missing-table", "lock-timeout"], source="slack")
    store.add_unanswered("how do I bake bread?")
    rows = store.unanswered()
    assert [r.source for r in rows] == ["slack", "web"]
    assert rows[0].nearest == ["missing-table", "lock-timeout"]
    assert "hunter2secret" not in rows[0].question
    line = json.loads(rows[1].to_json())
    assert line["question"] == "how do I bake bread?" and line["nearest"] == []


def test_reopening_keeps_existing_rows(database_url: str) -> None:
    FeedbackStore(database_url).add_unanswered("first")
    assert [r.question for r in FeedbackStore(database_url).unanswered()] == ["first"]


def test_sqlite_file_is_a_real_database(tmp_path) -> None:
    path = tmp_path / "nested" / "fb.sqlite3"
    FeedbackStore(f"sqlite:///{path}").add_feedback(Feedback(helpful=True))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM migfix_feedback").fetchone() == (1,)


def test_unknown_url_scheme_is_a_clear_error() -> None:
    with pytest.raises(StoreConfigError, match="use sqlite:///PATH or postgresql://"):
        FeedbackStore("mysql://root@localhost/x")


@pytest.mark.postgresql
def test_unreachable_postgres_is_a_one_line_error(postgres_server) -> None:
    with pytest.raises(StoreConfigError) as info:
        FeedbackStore("postgresql://postgres@127.0.0.1:1/nowhere")
    assert "\n" not in str(info.value)

from __future__ import annotations

from pathlib import Path

from migfix.indexer.passages import markdown_to_text, passages_for, readable_signature
from migfix.indexer.playbook import load_playbooks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"


def test_a_playbook_yields_summary_symptoms_why_and_one_passage_per_route():
    playbook = next(p for p in load_playbooks(FIXTURES / "valid") if p.id == "fixture-table")

    passages = passages_for(playbook)

    assert [p.passage_id for p in passages] == [
        "fixture-table#summary",
        "fixture-table#symptoms",
        "fixture-table#why",
        "fixture-table#fix-1",
        "fixture-table#fix-2",
    ]
    by_section = {p.section: p.text for p in passages}
    assert "no such table: shop_order" in by_section["symptoms"]
    assert "```" not in by_section["symptoms"]
    assert "no such table: table" in by_section["summary"]
    assert "OperationalError, ProgrammingError" in by_section["summary"]
    assert "The migration was faked" in by_section["fix-2"]
    assert "[destructive]" not in by_section["fix-2"] and "Drop what is left" in by_section["fix-2"]


def test_text_hash_follows_the_text():
    playbook = load_playbooks(FIXTURES / "valid")[0]
    first, second = passages_for(playbook)[:2]

    assert first.text_sha256 != second.text_sha256
    assert first.to_dict()["text_sha256"] == first.text_sha256


def test_markdown_keeps_code_and_drops_markup():
    text = markdown_to_text(
        "Run `migrate --check`, **then**:\n\n```sh\npython manage.py migrate\n```\n"
    )

    assert text == "Run migrate --check, then:\npython manage.py migrate"


def test_readable_signature_names_groups_and_drops_regex_syntax():
    assert readable_signature(r"no such table: (?P<table>\w+)") == "no such table: table"
    assert readable_signature(
        r"^(?:CommandError: )?No installed app with label '(?P<app>[^']+)'\.$"
    ) == ("CommandError: No installed app with label 'app'.")
    assert (
        readable_signature(r"Migration .* is applied before [a-z]{2,3}")
        == "Migration is applied before"
    )

"""Renderers: every face shows each step's risk and flags destructive steps."""

from __future__ import annotations

import io
import json

from rich.console import Console

from migfix.server.answer import Answer, PlaybookRef, Step
from migfix.server.render import render_markdown, render_terminal

MATCHED = Answer(
    status="matched",
    playbook=PlaybookRef("conflicting-leaf-nodes", "Conflicting migrations", 0.97),
    summary="Two leaves in one app.",
    signals={"exception": "CommandError", "apps": ["orders"]},
    cause="The two branches changed different things",
    other_causes=["Both branches altered the same field"],
    steps=[
        Step(1, "safe", "Back up the migration file.", "cp orders/migrations/0002_a.py /tmp/"),
        Step(
            2,
            "destructive",
            "Precondition: not applied anywhere. Delete it.",
            "rm orders/migrations/0002_a.py",
        ),
    ],
    verify=["python manage.py migrate --check"],
    sources=["Django docs: https://docs.djangoproject.com/"],
    alternatives=[PlaybookRef("node-not-found", "Node not found", 0.8)],
)
NO_MATCH = Answer(
    status="no_match",
    message="No confident match: TemplateDoesNotExist.",
    alternatives=[PlaybookRef("missing-table", "Missing table", 0.2)],
    signals={"exception": "TemplateDoesNotExist"},
)


def terminal(answer: Answer) -> str:
    out = io.StringIO()
    render_terminal(answer, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def test_terminal_matched() -> None:
    text = terminal(MATCHED)
    assert "Conflicting migrations" in text and "0.97" in text
    assert "safe" in text and "DESTRUCTIVE" in text
    assert "rm orders/migrations/0002_a.py" in text
    assert text.index("Back up") < text.index("Delete it")
    assert "python manage.py migrate --check" in text
    assert "Recognised: exception: CommandError" in text


def test_terminal_no_match_lists_nearest() -> None:
    text = terminal(NO_MATCH)
    assert "No confident match" in text and "missing-table" in text


def test_markdown_matched() -> None:
    md = render_markdown(MATCHED)
    assert md.startswith("## Conflicting migrations")
    assert "1. [safe] Back up" in md
    assert "2. **[DESTRUCTIVE]** Precondition" in md
    assert "   ```sh\n   rm orders/migrations/0002_a.py\n   ```" in md
    assert "### Verify" in md and "### Sources" in md


def test_markdown_no_match() -> None:
    md = render_markdown(NO_MATCH)
    assert md.startswith("## No confident match")
    assert "`missing-table`" in md


def test_json_follows_the_contract() -> None:
    data = json.loads(json.dumps(MATCHED.to_dict()))
    assert set(data) >= {
        "status",
        "playbook",
        "alternatives",
        "signals",
        "findings",
        "steps",
        "verify",
        "sources",
        "timings",
    }
    assert data["playbook"] == {
        "id": "conflicting-leaf-nodes",
        "title": "Conflicting migrations",
        "confidence": 0.97,
    }
    assert set(data["steps"][0]) >= {"n", "risk", "text", "command", "applies_when"}
    assert MATCHED.exit_code == 0 and NO_MATCH.exit_code == 1

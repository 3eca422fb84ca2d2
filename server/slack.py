"""The ``/migfix`` Slack slash command.

Slack gives a slash command 3 seconds, and an answer can take longer (model, checker), so
the handler verifies the signature, acknowledges at once with an ephemeral message and
posts the full answer to ``response_url`` from a background task. ``/migfix share ...``
posts in the channel; destructive steps are then withheld, because a channel is where a
`DROP TABLE` gets copied by someone it was not meant for.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from migfix.indexer.errors import InputError
from migfix.server.answer import Answer

router = APIRouter(tags=["slack"])
log = logging.getLogger(__name__)

#: Block Kit limits (Slack docs; slack_sdk validates the same numbers).
MAX_SECTION_CHARS = 3000
MAX_BLOCKS = 50
RISK_MARK = {
    "safe": ":large_green_circle: safe",
    "caution": ":large_orange_circle: caution",
    "destructive": ":red_circle: destructive",
}

HELP = (
    "*migfix* gets you out of broken Django migrations.\n"
    "• `/migfix <traceback or question>`: an answer only you see\n"
    "• `/migfix share <traceback or question>`: post the answer in this channel "
    "(destructive steps are left out; ask privately for those)\n"
    "• `/migfix help`: this message"
)


@router.post("/slack/commands", include_in_schema=False)
async def slash_command(request: Request, background: BackgroundTasks) -> JSONResponse:
    settings = request.app.state.settings
    if settings.slack_signing_secret is None:
        return JSONResponse(
            {"error": "Slack is not configured: set MIGFIX_SLACK_SIGNING_SECRET"}, 404
        )
    body = await request.body()
    verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
    if not verifier.is_valid_request(body, dict(request.headers)):
        return JSONResponse({"error": "invalid Slack signature or stale timestamp"}, 401)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    text = form.get("text", "").strip()
    response_url = form.get("response_url", "")
    word, _, rest = text.partition(" ")
    if not text or word.lower() == "help":
        return JSONResponse({"response_type": "ephemeral", "text": HELP})
    if not response_url.startswith(("https://", "http://")):
        return JSONResponse(
            {"response_type": "ephemeral", "text": "No response_url in the request."}
        )
    in_channel = word.lower() == "share"
    question = rest.strip() if in_channel else text
    if not question:
        return JSONResponse({"response_type": "ephemeral", "text": "Nothing to explain. " + HELP})
    background.add_task(answer_to_slack, request.app, question, response_url, in_channel)
    return JSONResponse({"response_type": "ephemeral", "text": ":mag: Looking into it…"})


def answer_to_slack(app: Any, question: str, response_url: str, in_channel: bool) -> None:
    """Runs in the thread pool after the ack: explain, then post Block Kit to Slack."""
    client = WebhookClient(response_url, timeout=10)
    try:
        answer: Answer = app.state.engine.explain(question)
    except InputError as exc:
        client.send(text=f"migfix could not read that: {exc}", response_type="ephemeral")
        return
    if answer.status != "matched":
        app.state.store.add_unanswered(
            question, [a.id for a in answer.alternatives], source="slack"
        )
    base_url = app.state.settings.base_url
    blocks = answer_blocks(answer, base_url=base_url, in_channel=in_channel)
    response = client.send(
        text=fallback_text(answer),
        blocks=blocks,
        response_type="in_channel" if in_channel else "ephemeral",
        replace_original=False,
    )
    if response.status_code != 200:
        log.warning("Slack response_url answered %s: %s", response.status_code, response.body)


def fallback_text(answer: Answer) -> str:
    """The plain text Slack shows in notifications."""
    if answer.status == "matched" and answer.playbook:
        return f"migfix: {answer.playbook.title}"
    return "migfix: no confident match"


def answer_blocks(
    answer: Answer, *, base_url: str, in_channel: bool = False
) -> list[dict[str, Any]]:
    """The Answer as Block Kit: diagnosis, numbered steps with risk, commands, verify, link."""
    if answer.status != "matched" or answer.playbook is None:
        return _no_match_blocks(answer, base_url)
    playbook = answer.playbook
    link = f"{base_url}/playbooks/{playbook.id}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": playbook.title[:150]}},
        _section(answer.summary or answer.message or playbook.title),
        _context(f"Playbook <{link}|{playbook.id}> · confidence {playbook.confidence:.0%}"),
    ]
    if answer.cause:
        blocks.append(_section(f"*Why:* {answer.cause}"))
    for finding in answer.findings:
        blocks.append(
            _section(f":mag_right: *{finding.get('code', '')}*: {finding.get('message', '')}")
        )
    withheld = [s.n for s in answer.steps if in_channel and s.risk == "destructive"]
    for step in answer.steps:
        if step.n in withheld:
            continue
        text = f"*{step.n}.* {RISK_MARK.get(step.risk, step.risk)}\n{step.text}"
        if step.applies_when:
            text += f"\n_Applies when: {', '.join(step.applies_when)}_"
        if step.precondition and step.precondition not in step.text:
            text += f"\n_Precondition: {step.precondition}_"
        if step.command:
            text += f"\n```{step.command}```"
        blocks.append(_section(text))
    if withheld:
        numbers = ", ".join(str(n) for n in withheld)
        blocks.append(
            _context(
                f":no_entry: Step(s) {numbers} are destructive and not shown in the channel: "
                f"run `/migfix` privately or read <{link}|the playbook>."
            )
        )
    if answer.verify:
        verify = "\n".join(answer.verify)
        blocks.append(_section(f"*Verify*\n```{verify}```"))
    blocks.append(
        _context(f"<{link}|Full playbook> · answers are advice: read each step before running it")
    )
    return _fit(blocks, link)


def _no_match_blocks(answer: Answer, base_url: str) -> list[dict[str, Any]]:
    text = answer.message or "migfix has no confident match for this."
    blocks = [_section(f":grey_question: {text}")]
    if answer.alternatives:
        nearest = ", ".join(
            f"<{base_url}/playbooks/{a.id}|{a.title}> ({a.confidence:.0%})"
            for a in answer.alternatives
        )
        blocks.append(_section(f"Nearest playbooks: {nearest}"))
    return blocks


def _section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION_CHARS:
        cut = text[: MAX_SECTION_CHARS - 20]
        # Never leave a code block open: Slack would render the rest as code.
        text = cut + ("```" if cut.count("```") % 2 else "") + "\n…(truncated)"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}]}


def _fit(blocks: list[dict[str, Any]], link: str) -> list[dict[str, Any]]:
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], _context(f"More steps in <{link}|the playbook>.")]

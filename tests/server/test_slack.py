"""The /migfix slash command: real HMAC signatures, a real uvicorn server, and a real
HTTP receiver on 127.0.0.1 standing in for Slack's ``response_url``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from migfix.server.answer import Answer, PlaybookRef, Step
from migfix.server.app import create_app
from migfix.server.explain import Engine
from migfix.server.settings import Settings
from migfix.server.slack import MAX_SECTION_CHARS, answer_blocks

from .conftest import SIGNING_SECRET, live_server

EXAMPLE = (Path(__file__).parents[2] / "examples" / "conflicting-leaf-nodes.txt").read_text()


class Receiver:
    """A response_url: records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(json.loads(body))
                receiver.arrived.set()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/commands/T1/123/abc"

    def wait(self, timeout: float = 20) -> dict[str, Any]:
        assert self.arrived.wait(timeout), "nothing was posted to response_url"
        return self.posts[-1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[str]:
    with live_server(create_app(settings, engine=engine)) as url:
        yield url


def signed(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Sign like Slack does: v0= + hex HMAC-SHA256 of v0:{timestamp}:{body}."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command(text: str, response_url: str) -> bytes:
    return urlencode(
        {
            "command": "/migfix",
            "text": text,
            "response_url": response_url,
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T1",
            "trigger_id": "1.2.3",
        }
    ).encode()


def test_signed_command_is_acked_then_answered_in_block_kit(
    server: str, receiver: Receiver
) -> None:
    body = command(EXAMPLE, receiver.url)
    started = time.monotonic()
    ack = httpx.post(f"{server}/slack/commands", content=body, headers=signed(body))
    assert time.monotonic() - started < 3
    assert ack.status_code == 200 and ack.json()["response_type"] == "ephemeral"
    posted = receiver.wait()
    assert posted["response_type"] == "ephemeral"
    text = "\n".join(
        b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in posted["blocks"]
    )
    assert posted["blocks"][0]["type"] == "header"
    assert "*1.*" in text and "*2.*" in text
    assert "```python manage.py makemigrations --merge orders```" in text
    assert "safe" in text
    assert "<https://migfix.example.test/playbooks/conflicting-leaf-nodes|" in text


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "stale timestamp", "edited body", "no headers"],
)
def test_bad_signatures_get_401(server: str, receiver: Receiver, tamper: str) -> None:
    body = command(EXAMPLE, receiver.url)
    headers = {
        "wrong secret": lambda: signed(body, secret="not-the-secret"),
        "stale timestamp": lambda: signed(body, timestamp=int(time.time()) - 6 * 60),
        "edited body": lambda: signed(body.replace(b"orders", b"x")),
        "no headers": lambda: {"Content-Type": "application/x-www-form-urlencoded"},
    }[tamper]()
    response = httpx.post(f"{server}/slack/commands", content=body, headers=headers)
    assert response.status_code == 401
    assert "signature" in response.json()["error"]
    time.sleep(0.3)
    assert receiver.posts == []


def test_timestamp_inside_the_window_is_accepted(server: str, receiver: Receiver) -> None:
    body = command("help", receiver.url)
    response = httpx.post(
        f"{server}/slack/commands",
        content=body,
        headers=signed(body, timestamp=int(time.time()) - 240),
    )
    assert response.status_code == 200


def test_help_is_ephemeral_and_posts_nothing(server: str, receiver: Receiver) -> None:
    for text in ("help", ""):
        body = command(text, receiver.url)
        response = httpx.post(f"{server}/slack/commands", content=body, headers=signed(body))
        assert response.json()["response_type"] == "ephemeral"
        assert "/migfix share" in response.json()["text"]
    time.sleep(0.3)
    assert receiver.posts == []


def test_share_posts_in_channel(server: str, receiver: Receiver) -> None:
    body = command(f"share {EXAMPLE}", receiver.url)
    ack = httpx.post(f"{server}/slack/commands", content=body, headers=signed(body))
    assert ack.json()["response_type"] == "ephemeral"
    assert receiver.wait()["response_type"] == "in_channel"


class SlowEngine(Engine):
    """The real engine behind a 4-second pause: the ack must not wait for it."""

    def explain(self, text: str | bytes, **kw: Any) -> Answer:
        time.sleep(4)
        return super().explain(text, **kw)


def test_ack_comes_within_3_seconds_when_the_engine_is_slow(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    slow = SlowEngine(engine.playbooks, engine.matcher.retriever)
    with live_server(create_app(settings, engine=slow)) as url:
        body = command(EXAMPLE, receiver.url)
        started = time.monotonic()
        ack = httpx.post(f"{url}/slack/commands", content=body, headers=signed(body), timeout=10)
        acked = time.monotonic() - started
        posted = receiver.wait(timeout=30)
        answered = time.monotonic() - started
    assert ack.status_code == 200 and acked < 3
    assert answered >= 4 and posted["blocks"]


def test_unconfigured_slack_is_refused(tmp_path: Path, engine: Engine, receiver: Receiver) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}")
    with live_server(create_app(settings, engine=engine)) as url:
        body = command("help", receiver.url)
        response = httpx.post(f"{url}/slack/commands", content=body, headers=signed(body))
    assert response.status_code == 404
    assert "MIGFIX_SLACK_SIGNING_SECRET" in response.json()["error"]


def _answer_with_destructive_step() -> Answer:
    return Answer(
        status="matched",
        playbook=PlaybookRef("table-already-exists", "Table already exists", 0.93),
        summary="The table exists but Django has no record of creating it.",
        steps=[
            Step(1, "safe", "Back up the database.", "pg_dump shop > shop.sql"),
            Step(
                2,
                "destructive",
                "Drop the stray table.",
                "DROP TABLE orders_order;",
                ("dev",),
                "the table holds no data you need",
            ),
            Step(3, "safe", "Apply the migrations.", "python manage.py migrate orders"),
        ],
        verify=["python manage.py migrate --check"],
    )


def test_in_channel_answers_withhold_destructive_steps() -> None:
    answer = _answer_with_destructive_step()
    private = json.dumps(answer_blocks(answer, base_url="https://m.test", in_channel=False))
    shared = json.dumps(answer_blocks(answer, base_url="https://m.test", in_channel=True))
    assert "DROP TABLE" in private and ":red_circle: destructive" in private
    assert "Precondition: the table holds no data you need" in private
    assert "DROP TABLE" not in shared
    assert "pg_dump shop" in shared and "migrate orders" in shared
    assert "Step(s) 2 are destructive" in shared


def test_blocks_stay_inside_slack_limits() -> None:
    answer = _answer_with_destructive_step()
    answer.steps = [Step(n, "safe", "x" * 5000, "echo hi") for n in range(1, 80)]
    blocks = answer_blocks(answer, base_url="https://m.test")
    assert len(blocks) <= 50
    for block in blocks:
        text = block["text"]["text"] if "text" in block else block["elements"][0]["text"]
        assert len(text) <= MAX_SECTION_CHARS
        assert text.count("```") % 2 == 0


def test_no_match_lists_the_nearest_playbooks() -> None:
    answer = Answer(
        status="no_match",
        message="No confident match.",
        alternatives=[PlaybookRef("missing-table", "Missing table", 0.41)],
    )
    text = json.dumps(answer_blocks(answer, base_url="https://m.test"))
    assert (
        "No confident match." in text
        and "<https://m.test/playbooks/missing-table|Missing table>" in text
    )

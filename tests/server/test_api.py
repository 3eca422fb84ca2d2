"""The JSON API against the real engine: answers, errors, limits, playbooks, feedback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from migfix.server.app import create_app
from migfix.server.explain import Engine
from migfix.server.feedback import FeedbackStore
from migfix.server.settings import Settings

from .conftest import live_server

EXAMPLE = (Path(__file__).parents[2] / "examples" / "conflicting-leaf-nodes.txt").read_text()
UNRELATED = "How long should sourdough proof? DATABASE_URL=postgres://u:s3cretpw@db/x"


def test_explain_returns_the_answer(client: TestClient) -> None:
    response = client.post("/api/explain", json={"text": EXAMPLE})
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "matched"
    assert answer["playbook"]["id"] == "conflicting-leaf-nodes"
    assert 0 < answer["playbook"]["confidence"] <= 1
    assert [s["n"] for s in answer["steps"]] == list(range(1, len(answer["steps"]) + 1))
    assert any("orders" in (s["command"] or "") for s in answer["steps"])


def test_follow_up_is_read_with_the_earlier_paste(client: TestClient) -> None:
    alone = client.post(
        "/api/explain", json={"text": "I ran it again, same thing. What now?"}
    ).json()
    assert alone["status"] == "no_match"
    follow_up = client.post(
        "/api/explain", json={"text": "I ran it again, same thing. What now?", "context": [EXAMPLE]}
    ).json()
    assert follow_up["status"] == "matched"
    assert follow_up["playbook"]["id"] == "conflicting-leaf-nodes"


def test_unanswered_questions_are_stored_redacted(client: TestClient, settings: Settings) -> None:
    assert client.post("/api/explain", json={"text": UNRELATED}).json()["status"] == "no_match"
    client.post("/api/explain", json={"text": EXAMPLE})
    rows = FeedbackStore(settings.database_url).unanswered()
    assert len(rows) == 1
    assert "sourdough" in rows[0].question and "s3cretpw" not in rows[0].question


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 422),
        ({}, 422),
        ({"text": 42}, 422),
        ({"text": "   \n\t "}, 400),
        ({"text": "ok", "context": "not a list"}, 422),
    ],
)
def test_bad_input_gets_a_json_error(
    client: TestClient, body: dict[str, object], status: int
) -> None:
    response = client.post("/api/explain", json=body)
    assert response.status_code == status
    assert isinstance(response.json()["error"], str) and response.json()["error"]


def test_malformed_json_gets_a_json_error(client: TestClient) -> None:
    response = client.post(
        "/api/explain",
        content=b'{"text": "unterminated',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["error"]


def test_body_over_the_limit_is_413_by_content_length(client: TestClient) -> None:
    response = client.post("/api/explain", json={"text": "x" * 1_000_001})
    assert response.status_code == 413
    assert response.json() == {"error": "request body larger than 1000000 bytes"}


def test_streamed_body_over_the_limit_is_413_without_content_length(
    settings: Settings, engine: Engine
) -> None:
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to judge by
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 65536

    with live_server(create_app(settings, engine=engine)) as url:
        try:
            response = httpx.post(f"{url}/api/explain", content=chunks(), timeout=30)
        except httpx.HTTPError:
            pytest.fail("the server should answer 413, not drop the connection")
    assert response.status_code == 413
    assert response.json()["error"].startswith("request body larger than")


def test_answers_come_within_the_time_budget(tmp_path: Path, engine: Engine) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}", time_budget=1e-9)
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.post("/api/explain", json={"text": EXAMPLE})
    assert response.status_code == 504
    assert "time budget" in response.json()["error"]


def test_playbooks_list_and_detail(client: TestClient, engine: Engine) -> None:
    listed = client.get("/api/playbooks").json()
    assert sorted(p["id"] for p in listed) == sorted(engine.playbooks)
    assert "conflicting-leaf-nodes" in engine.playbooks
    first = listed[0]
    assert first["url"] == f"https://migfix.example.test/playbooks/{first['id']}"
    detail = client.get(f"/api/playbooks/{first['id']}").json()
    assert list(detail["sections"])[:2] == ["Symptoms", "Why it happens"]
    assert all(
        s["risk"] in {"safe", "caution", "destructive"}
        for r in detail["routes"]
        for s in r["steps"]
    )
    missing = client.get("/api/playbooks/no-such-thing")
    assert missing.status_code == 404 and "no-such-thing" in missing.json()["error"]


def test_feedback_is_recorded(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/api/feedback",
        json={
            "helpful": False,
            "playbook": "conflicting-leaf-nodes",
            "confidence": 0.9,
            "question": EXAMPLE,
        },
    )
    assert response.status_code == 201
    rows = FeedbackStore(settings.database_url).feedback()
    assert [(r["id"], r["helpful"], r["playbook_id"]) for r in rows] == [
        (response.json()["id"], False, "conflicting-leaf-nodes")
    ]
    assert client.post("/api/feedback", json={"playbook": "x"}).status_code == 422
    assert client.post("/api/feedback", json={"helpful": True, "confidence": 7}).status_code == 422


def test_check_without_a_project_is_a_json_error(client: TestClient) -> None:
    response = client.post("/api/check")
    assert response.status_code == 409
    assert "--project" in response.json()["error"]


def test_health_docs_and_unknown_routes(client: TestClient, engine: Engine) -> None:
    health = client.get("/healthz").json()
    assert health == {
        "status": "ok",
        "playbooks": len(engine.playbooks),
        "project": False,
        "slack": True,
    }
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/explain", "/api/check", "/api/playbooks", "/api/feedback", "/healthz"} <= set(
        paths
    )
    assert "/slack/commands" not in paths
    unknown = client.get("/api/nothing-here")
    assert unknown.status_code == 404 and unknown.json() == {"error": "Not Found"}


def test_playbook_pages_render_html(client: TestClient) -> None:
    page = client.get("/playbooks/conflicting-leaf-nodes")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h2>Fix</h2>" in page.text and "makemigrations --merge" in page.text
    assert "signatures:" not in page.text  # front matter is not part of the page
    assert client.get("/playbooks/nope").status_code == 404
    index = client.get("/playbooks")
    assert 'href="/playbooks/conflicting-leaf-nodes"' in index.text


MANAGE = """import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""
SETTINGS = """SECRET_KEY = "test"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "orders"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
USE_TZ = True
"""
MIGRATION = """from django.db import migrations
class Migration(migrations.Migration):
    dependencies = [{dependencies}]
    operations = []
"""


def _project_with_two_leaves(root: Path) -> Path:
    """A real Django project whose orders app has two migrations on the same parent."""
    (root / "shop").mkdir(parents=True)
    (root / "manage.py").write_text(MANAGE)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "settings.py").write_text(SETTINGS)
    migrations = root / "orders" / "migrations"
    migrations.mkdir(parents=True)
    (root / "orders" / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_initial.py").write_text(MIGRATION.format(dependencies=""))
    for name in ("0002_order_coupon", "0002_order_note"):
        (migrations / f"{name}.py").write_text(
            MIGRATION.format(dependencies='("orders", "0001_initial")')
        )
    return root


@pytest.mark.slow
def test_check_reports_the_projects_findings(tmp_path: Path, engine: Engine) -> None:
    project = _project_with_two_leaves(tmp_path / "shop")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}", project=project, time_budget=120
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        assert client.get("/healthz").json()["project"] is True
        response = client.post("/api/check")
    assert response.status_code == 200
    conflict = [f for f in response.json()["findings"] if f["code"] == "graph.conflict"]
    assert conflict and conflict[0]["app"] == "orders"
    assert sorted(conflict[0]["migrations"]) == [
        "orders.0002_order_coupon",
        "orders.0002_order_note",
    ]
    assert not (project / "db.sqlite3").exists() or (project / "db.sqlite3").stat().st_size == 0


@pytest.mark.slow
def test_explain_with_a_project_carries_its_findings(tmp_path: Path, engine: Engine) -> None:
    project = _project_with_two_leaves(tmp_path / "shop")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}", project=project, time_budget=120
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        answer = client.post("/api/explain", json={"text": EXAMPLE}).json()
        unreadable = client.post("/api/explain", json={"text": " \n "})
    assert answer["playbook"]["id"] == "conflicting-leaf-nodes"
    conflict = [f for f in answer["findings"] if f["code"] == "graph.conflict"]
    assert conflict and sorted(conflict[0]["migrations"]) == [
        "orders.0002_order_coupon",
        "orders.0002_order_note",
    ]
    assert unreadable.status_code == 400
    # Without the project, the same paste has no findings: they came from the checker.
    alone = TestClient(create_app(Settings(database_url=settings.database_url), engine=engine))
    with alone:
        assert alone.post("/api/explain", json={"text": EXAMPLE}).json()["findings"] == []


@pytest.mark.slow
def test_explain_with_a_project_stays_within_the_time_budget(
    tmp_path: Path, engine: Engine
) -> None:
    project = _project_with_two_leaves(tmp_path / "shop")
    budget = 0.2  # less than it takes to start the project's interpreter
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}", project=project, time_budget=budget
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        started = time.perf_counter()
        response = client.post("/api/explain", json={"text": EXAMPLE})
        elapsed = time.perf_counter() - started
    assert elapsed < budget + 1.0
    assert response.status_code == 504, response.text
    assert "time budget" in response.json()["error"]

"""The JSON API: explain, check, playbooks, feedback, health.

Every handler answers JSON, errors included (``{"error": "..."}``), and every answer
comes within ``settings.time_budget``: the engine and the checker are CPU- or
subprocess-bound, so they run in worker threads and the event loop stays free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from migfix.indexer.errors import InputError, MigfixError
from migfix.indexer.playbook import Playbook
from migfix.server.answer import Answer
from migfix.server.feedback import Feedback

router = APIRouter(prefix="/api", tags=["api"])
T = TypeVar("T")

MAX_TEXT = 1_000_000
ERROR = {"content": {"application/json": {"example": {"error": "what went wrong"}}}}


class ExplainRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="Traceback, log or question.")
    context: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Earlier pastes of the same conversation, oldest first; explained together.",
    )


class FeedbackRequest(BaseModel):
    helpful: bool = Field(description="true: this fixed it; false: it did not.")
    playbook: str | None = Field(default=None, max_length=200)
    confidence: float | None = Field(default=None, ge=0, le=1)
    question: str = Field(default="", max_length=MAX_TEXT)
    comment: str = Field(default="", max_length=10_000)


def error(status: int, message: str) -> JSONResponse:
    """The one error shape every face of the service uses."""
    return JSONResponse({"error": message}, status_code=status)


async def within_budget(request: Request, work: Callable[[], T]) -> T:
    """Run *work* in a thread; raise TimeoutError past the budget, abandoning the thread."""
    with anyio.fail_after(request.app.state.settings.time_budget):
        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)


@router.post(
    "/explain",
    responses={
        200: {"description": "The Answer (see migfix.server.answer)"},
        400: ERROR,
        504: ERROR,
    },
)
async def explain(body: ExplainRequest, request: Request) -> JSONResponse:
    """Explain a pasted traceback, log or question; follow-ups send earlier pastes in `context`."""
    text = "\n\n".join([*body.context, body.text])
    state = request.app.state

    def work() -> Answer:
        answer = explain_text(state, text)
        if answer.status != "matched":
            state.store.add_unanswered(text, [a.id for a in answer.alternatives], source="web")
        return answer

    try:
        answer = await within_budget(request, work)
    except InputError as exc:
        return error(400, str(exc))
    except TimeoutError:
        return error(504, f"no answer within the time budget of {state.settings.time_budget:g}s")
    return JSONResponse(answer.to_dict())


def explain_text(state: Any, text: str) -> Answer:
    """The engine's answer; with a project (``migfix serve --project``), about that project.

    The checker gets the whole time budget as its timeout and ``within_budget`` cuts the
    request off at the same moment. A project that cannot be checked does not cost the
    user the answer to the paste: it is given without the project, saying why.
    """
    settings = state.settings
    if settings.project is None:
        answer: Answer = state.engine.explain(text)
        return answer
    from migfix.server.parse import parse
    from migfix.server.project import ProjectTarget, explain_with_project

    parse(text)  # refuse unreadable input before starting the checker
    target = ProjectTarget(settings.project, timeout=settings.time_budget)
    try:
        result = explain_with_project(state.engine, text, target)
    except InputError:
        raise
    except MigfixError as exc:
        answer = state.engine.explain(text)
        note = f"The project could not be checked: {str(exc).splitlines()[0]}"
        answer.message = f"{answer.message} {note}".strip()
        return answer
    if isinstance(result, list):  # only without a paste, which the request always has
        return result[0] if result else state.engine.explain(text)
    return result


@router.post(
    "/check", responses={200: {"description": "The checker's report"}, 409: ERROR, 501: ERROR}
)
async def check(request: Request) -> JSONResponse:
    """Run the read-only checker on the configured project (``migfix serve --project``)."""
    settings = request.app.state.settings
    if settings.project is None:
        return error(409, "no project configured: start the server with --project PATH")
    try:
        from migfix.checker import run_check
    except ImportError:
        return error(501, "the checker is not available in this build")
    try:
        report = await within_budget(
            request, lambda: run_check(settings.project, timeout=settings.time_budget)
        )
    except TimeoutError:
        return error(504, f"the check took longer than {settings.time_budget:g}s")
    except MigfixError as exc:
        return error(422, str(exc))
    return JSONResponse(report.to_dict())


@router.get("/playbooks")
async def playbooks(request: Request) -> list[dict[str, Any]]:
    """Every playbook in the knowledge base, without its body."""
    return [_summary(p, request) for p in request.app.state.engine.playbooks.values()]


@router.get("/playbooks/{playbook_id}", responses={404: ERROR})
async def playbook(playbook_id: str, request: Request) -> Any:
    """One playbook: metadata, sections as Markdown, and its fix routes."""
    found: Playbook | None = request.app.state.engine.playbooks.get(playbook_id)
    if found is None:
        return error(404, f"no playbook with id {playbook_id!r}")
    return _summary(found, request) | {
        "related": list(found.related),
        "sections": {s.title: s.text for s in found.sections},
        "routes": [
            {
                "title": route.title,
                "confirmed_by": list(route.confirmed_by),
                "steps": [
                    {
                        "risk": s.risk,
                        "text": s.text,
                        "command": s.command,
                        "applies_when": list(s.applies_when),
                        "precondition": s.precondition,
                    }
                    for s in route.steps
                ],
            }
            for route in found.routes
        ],
    }


@router.post("/feedback", status_code=201, responses={201: {"description": "Recorded"}})
async def feedback(body: FeedbackRequest, request: Request) -> dict[str, int]:
    """Record "this fixed it / it did not" for an answer."""
    store = request.app.state.store
    record = Feedback(
        helpful=body.helpful,
        playbook_id=body.playbook,
        confidence=body.confidence,
        question=body.question,
        comment=body.comment,
        source="web",
    )
    return {"id": await anyio.to_thread.run_sync(store.add_feedback, record)}


def _summary(found: Playbook, request: Request) -> dict[str, Any]:
    return {
        "id": found.id,
        "title": found.title,
        "summary": found.summary,
        "category": found.category,
        "backends": list(found.backends),
        "url": f"{request.app.state.settings.base_url}/playbooks/{found.id}",
    }

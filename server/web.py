"""The web chat page and the playbook pages that answers (and Slack) link to.

Everything is served by the app itself, with no CDN and no build step, so the page works
on an air-gapped network where the database that broke usually lives.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt

from migfix.indexer.playbook import Playbook

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
# Playbooks are ours, but raw HTML in them would still reach the page unescaped: keep it off.
_markdown = MarkdownIt("commonmark", {"html": False})


@router.get("/", response_class=HTMLResponse)
async def chat(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "chat.html", {"project": request.app.state.settings.project}
    )


@router.get("/playbooks", response_class=HTMLResponse)
async def playbook_index(request: Request) -> HTMLResponse:
    playbooks = sorted(request.app.state.engine.playbooks.values(), key=lambda p: p.id)
    return templates.TemplateResponse(request, "playbooks.html", {"playbooks": playbooks})


@router.get("/playbooks/{playbook_id}", response_class=HTMLResponse)
async def playbook_page(playbook_id: str, request: Request) -> HTMLResponse:
    found: Playbook | None = request.app.state.engine.playbooks.get(playbook_id)
    if found is None:
        return templates.TemplateResponse(
            request, "missing.html", {"playbook_id": playbook_id}, status_code=404
        )
    return templates.TemplateResponse(
        request, "playbook.html", {"playbook": found, "body": render_body(found)}
    )


@cache
def _render(source: str) -> str:
    body = source.split("\n---\n", 1)[1] if source.startswith("---\n") else source
    return _markdown.render(body)


def render_body(playbook: Playbook) -> str:
    """The playbook's Markdown without its front matter, as HTML (cached per content)."""
    return _render(playbook.source)

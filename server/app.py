"""The FastAPI app factory: JSON API, web chat, playbook pages, Slack slash command.

The engine (index + embedding model) is loaded once, before the first request, and
shared by every request and worker thread: loading it per request would cost seconds.
Run it with ``migfix serve`` or ``uvicorn --factory migfix.server.app:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from migfix.server import api, slack, web
from migfix.server.feedback import FeedbackStore
from migfix.server.settings import Settings

if TYPE_CHECKING:
    from migfix.server.explain import Engine


def load_engine(settings: Settings) -> Engine:
    """Load and warm the engine; the CLI calls this first to report errors in one line."""
    from migfix.server.explain import Engine

    engine = Engine.load(index_dir=settings.index_dir, semantic=settings.semantic)
    engine.warm()
    return engine


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    store: FeedbackStore | None = None,
) -> FastAPI:
    """Build the app; pass a warm *engine* to share one between apps (tests, replicas)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.engine is None:
            app.state.engine = await anyio.to_thread.run_sync(load_engine, settings)
        yield

    app = FastAPI(
        title="migfix",
        summary="Get Django teams out of broken migrations.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = store or FeedbackStore(settings.database_url)
    app.include_router(api.router)
    app.include_router(web.router)
    app.include_router(slack.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.get("/healthz", tags=["api"])
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness and what this instance serves."""
        return {
            "status": "ok",
            "playbooks": len(request.app.state.engine.playbooks),
            "project": settings.project is not None,
            "slack": settings.slack_signing_secret is not None,
        }

    return app


class BodyLimit:
    """413 for bodies over *max_bytes*, judged by Content-Length and by counting the stream.

    The body is read at most one chunk past the limit, so a client cannot make the server
    buffer an arbitrarily large upload by lying about (or omitting) Content-Length.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"error": f"request body larger than {self.max_bytes} bytes"}, status_code=413
        )
        await response(scope, receive, send)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
        for e in exc.errors()
    ]
    return JSONResponse({"error": "; ".join(problems) or "invalid request"}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )

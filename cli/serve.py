"""``migfix serve`` (web chat, JSON API, Slack) and ``migfix feedback export``.

Settings come from ``MIGFIX_*`` environment variables; the options here override them.
The engine is loaded and warmed before uvicorn starts, so that a missing index or a bad
database URL is one line on stderr instead of a traceback from inside the server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import click

from migfix.indexer.errors import MigfixError


def _fail(command: str, message: str) -> None:
    click.echo(f"migfix {command}: {message.splitlines()[0] if message else 'failed'}", err=True)
    sys.exit(2)


def _settings(command: str, **overrides: Any) -> Any:
    from pydantic import ValidationError

    from migfix.server.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problem = exc.errors()[0]
        _fail(command, f"MIGFIX_{str(problem['loc'][0]).upper()}: {problem['msg']}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help=(
        "Django project to check: enables /api/check, and /api/explain answers about it. "
        "Env: MIGFIX_PROJECT."
    ),
)
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--no-semantic", is_flag=True, help="Lexical retrieval only (no embedding model).")
def serve(
    host: str, port: int, project: Path | None, index_dir: Path | None, no_semantic: bool
) -> None:
    """Serve the web chat at /, the JSON API at /api (docs: /docs) and Slack at /slack/commands."""
    import uvicorn

    from migfix.server.app import create_app, load_engine
    from migfix.server.feedback import FeedbackStore

    settings = _settings(
        "serve", project=project, index_dir=index_dir, semantic=False if no_semantic else None
    )
    try:
        store = FeedbackStore(settings.database_url)
        click.echo("migfix serve: loading the index and the model…", err=True)
        app = create_app(settings, engine=load_engine(settings), store=store)
    except MigfixError as exc:
        _fail("serve", str(exc))
    click.echo(f"migfix serve: open http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


@click.group("feedback")
def feedback() -> None:
    """The feedback store (MIGFIX_DATABASE_URL; SQLite by default)."""


@feedback.command("export")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", show_default=True
)
def export(output: IO[str]) -> None:
    """Write the questions that got no confident answer as JSON Lines (already redacted)."""
    from migfix.server.feedback import FeedbackStore

    settings = _settings("feedback export")
    try:
        rows = FeedbackStore(settings.database_url).unanswered()
    except MigfixError as exc:
        _fail("feedback export", str(exc))
    for row in rows:
        output.write(row.to_json() + "\n")
    click.echo(f"migfix feedback export: {len(rows)} unanswered question(s)", err=True)

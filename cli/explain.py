"""``migfix explain``: a paste in, an Answer out (terminal, JSON, Markdown or JSON Lines).

Exit status: 0 matched, 1 no confident match, 2 usage error or unreadable input.
Heavy imports (the engine, rich, the index, torch) happen inside the command, and torch
only when no signature decides the answer.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click
from migfix.indexer.errors import InputError, MigfixError

MAX_LINE = 1_000_000


def _fail(message: str) -> None:
    click.echo(f"migfix explain: {message}", err=True)
    sys.exit(2)


def _read(stream: IO[bytes]) -> bytes:
    from migfix.server.parse import MAX_BYTES

    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputError(f"input is larger than {MAX_BYTES:,} bytes; paste the end of the log")
    return data


@click.command("explain")
@click.argument("file", required=False, type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@click.option("--markdown", is_flag=True, help="Print the Answer as Markdown.")
@click.option(
    "--jsonl",
    is_flag=True,
    help='Batch: read {"id", "text"} JSON Lines, write one Answer per line.',
)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the search index lives.",
)
@click.option(
    "--no-semantic", is_flag=True, help="Lexical retrieval only (never loads the embedding model)."
)
def explain(
    file: IO[bytes] | None,
    as_json: bool,
    markdown: bool,
    jsonl: bool,
    index_dir: str | None,
    no_semantic: bool,
) -> None:
    """Explain a traceback, CI log, command output or question (FILE, or standard input)."""
    if sum((as_json, markdown, jsonl)) > 1:
        raise click.UsageError("choose one of --json, --markdown and --jsonl")
    stream = file if file is not None else sys.stdin.buffer
    if file is None and sys.stdin.isatty():
        raise click.UsageError("paste the text on standard input or give a FILE")
    from migfix.server.explain import Engine

    try:
        engine = Engine.load(index_dir=index_dir, semantic=not no_semantic)
        if jsonl:
            sys.exit(_batch(engine, stream))
        answer = engine.explain(_read(stream))
    except MigfixError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        _fail(f"cannot read the input: {exc.strerror or exc}")
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2))
    elif markdown:
        from migfix.server.render import render_markdown

        click.echo(render_markdown(answer), nl=False)
    else:
        from migfix.server.render import render_terminal
        from rich.console import Console

        render_terminal(answer, Console(highlight=False))
    sys.exit(answer.exit_code)


def _batch(engine: Any, stream: IO[bytes]) -> int:
    """One Answer per input line, carrying its ``id``; a bad line gets an error object."""
    worst = 0
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        record: dict[str, Any]
        case_id: Any = number
        try:
            if len(raw) > MAX_LINE:
                raise InputError(f"line {number} is larger than {MAX_LINE:,} bytes")
            try:
                item = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise InputError(f"line {number} is not JSON") from None
            if isinstance(item, dict):
                case_id = item.get("id", number)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise InputError(f'line {number} needs an object with a "text" string')
            answer = engine.explain(item["text"])
            record = {"id": case_id, **answer.to_dict()}
            worst = max(worst, answer.exit_code)
        except MigfixError as exc:
            record = {"id": case_id, "status": "error", "message": str(exc).splitlines()[0]}
            worst = 2
        sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
    return worst

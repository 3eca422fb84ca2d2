"""``migfix explain``: a paste in, an Answer out (terminal, JSON, Markdown or JSON Lines).

With ``--project``, the read-only checker looks at the project first and the answer speaks
about it (its names, the cause its findings confirm); with ``--project`` and nothing
pasted it does what ``migfix doctor`` does.

Exit status: 0 matched (or, without a paste, nothing wrong), 1 no confident match (or
problems found), 2 usage error, unreadable input or a project that cannot be checked.
Heavy imports (the engine, rich, the index, torch) happen inside the command, and torch
only when no signature decides the answer.
"""

from __future__ import annotations

import json
import sys
from typing import IO, TYPE_CHECKING, Any

import click

from migfix.cli.options import ProjectOptions, project_options
from migfix.indexer.errors import InputError, MigfixError

if TYPE_CHECKING:
    from migfix.server.answer import Answer

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
@project_options
def explain(
    file: IO[bytes] | None,
    as_json: bool,
    markdown: bool,
    jsonl: bool,
    index_dir: str | None,
    no_semantic: bool,
    where: ProjectOptions,
) -> None:
    """Explain a traceback, CI log, command output or question (FILE, or standard input).

    With --project, the answer uses what the read-only checker finds in the project.
    """
    if sum((as_json, markdown, jsonl)) > 1:
        raise click.UsageError("choose one of --json, --markdown and --jsonl")
    project = where.project
    if jsonl and project is not None:
        raise click.UsageError("--jsonl answers many pastes; it does not take --project")
    stream = file if file is not None else sys.stdin.buffer
    no_paste = file is None and sys.stdin.isatty()
    if no_paste and project is None:
        raise click.UsageError("paste the text on standard input or give a FILE")
    from migfix.server.explain import Engine

    answers: list[Answer]
    try:
        if jsonl:
            sys.exit(_batch(Engine.load(index_dir=index_dir, semantic=not no_semantic), stream))
        data = None if no_paste else _read(stream)
        if project is not None and (data is None or (file is None and not data.strip())):
            from migfix.cli.doctor import run_doctor

            sys.exit(
                run_doctor(where.target(), as_json=as_json, markdown=markdown, command="explain")
            )
        assert data is not None
        engine = Engine.load(index_dir=index_dir, semantic=not no_semantic)
        if project is None:
            answers = [engine.explain(data)]
        else:
            from migfix.server.project import explain_with_project

            result = explain_with_project(engine, data, where.target())
            answers = result if isinstance(result, list) else [result]
    except MigfixError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        _fail(f"cannot read the input: {exc.strerror or exc}")
    _print(answers, as_json=as_json, markdown=markdown)
    sys.exit(max((answer.exit_code for answer in answers), default=0))


def _print(answers: list[Answer], *, as_json: bool, markdown: bool) -> None:
    """One Answer as before; several (never from a paste today) one after another."""
    if as_json:
        data: Any = answers[0].to_dict() if len(answers) == 1 else [a.to_dict() for a in answers]
        click.echo(json.dumps(data, indent=2))
    elif markdown:
        from migfix.server.render import render_markdown

        for answer in answers:
            click.echo(render_markdown(answer), nl=False)
    else:
        from rich.console import Console

        from migfix.server.render import render_terminal

        console = Console(highlight=False)
        for answer in answers:
            render_terminal(answer, console)


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

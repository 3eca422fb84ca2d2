"""``migfix doctor``: diagnose a project from the checker's findings alone, no paste needed.

The checker looks at the project read-only; each error finding's playbook becomes one
answer, most urgent first (a broken graph before history, history before schema and
data), with the project's own names in the commands. Warnings are listed apart.

Exit status: 0 nothing wrong, 1 problems found, 2 usage or environment error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from migfix.indexer.errors import MigfixError

if TYPE_CHECKING:
    from migfix.checker.findings import Finding
    from migfix.server.answer import Answer


@click.command("doctor")
@click.option(
    "--project",
    type=click.Path(path_type=Path),
    default=None,
    help="Project folder (or its manage.py). Default: manage.py here or above.",
)
@click.option("--settings", default=None, help="Settings module (default: from manage.py).")
@click.option(
    "--python",
    "python",
    type=click.Path(path_type=Path),
    default=None,
    help="The project's interpreter (default: .venv/venv in the project, else this one).",
)
@click.option("--database", default="default", show_default=True, help="Database alias.")
@click.option("--json", "as_json", is_flag=True, help="Print the answers as a JSON object.")
@click.option("--markdown", is_flag=True, help="Print the answers as Markdown.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds before a hanging project or database is cut off.",
)
def doctor(
    project: Path | None,
    settings: str | None,
    python: Path | None,
    database: str,
    as_json: bool,
    markdown: bool,
    timeout: float,
) -> None:
    """Diagnose a Django project's migrations from what the read-only checker finds."""
    if as_json and markdown:
        raise click.UsageError("choose one of --json and --markdown")
    from migfix.server.explain import Engine
    from migfix.server.project import ProjectTarget, check, diagnose

    target = ProjectTarget(
        Path(project) if project else Path.cwd(),
        settings=settings,
        python=str(python) if python else None,
        database=database,
        timeout=timeout,
    )
    try:
        facts = check(target)
        answers = diagnose(Engine.load(semantic=False), facts)
    except MigfixError as exc:
        click.echo(f"migfix doctor: {str(exc).splitlines()[0]}", err=True)
        sys.exit(2)
    blocking = [f for f in facts.findings if f.severity == "error" and not f.playbook]
    warnings = [f for f in facts.findings if f.severity != "error"]
    if as_json:
        data = {
            "answers": [answer.to_dict() for answer in answers],
            "unexplained": [f.to_dict() for f in blocking],
            "warnings": [f.to_dict() for f in warnings],
        }
        click.echo(json.dumps(data, indent=2))
    elif markdown:
        from migfix.server.render import render_markdown

        for answer in answers:
            click.echo(render_markdown(answer))
        for finding in [*blocking, *warnings]:
            click.echo(f"- {finding.severity}: `{finding.code}` {finding.message}")
    else:
        _render(answers, blocking, warnings)
    if blocking and not answers:
        sys.exit(2)  # the checker could not look (settings, database): nothing to diagnose
    sys.exit(1 if answers or blocking else 0)


def _render(answers: list[Answer], blocking: list[Finding], warnings: list[Finding]) -> None:
    from migfix.server.render import render_terminal
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    if not answers and not blocking:
        console.print("[green]No migration problems found.[/]")
    for n, answer in enumerate(answers, start=1):
        if len(answers) > 1:
            console.rule(f"Problem {n} of {len(answers)}")
        render_terminal(answer, console)
    for finding in blocking:
        console.print(f"[bold red]{finding.code}[/] {escape(finding.message)}")
    if warnings:
        console.print("\n[yellow]Also noticed[/]")
        for finding in warnings:
            console.print(f"  [bold]{finding.code}[/] {escape(finding.message)}")

"""``migfix doctor``: diagnose a project from the checker's findings alone, no paste needed.

The checker looks at the project read-only; each error finding's playbook becomes one
answer, most urgent first (a broken graph before history, history before schema and
data), with the project's own names in the commands. Warnings are listed apart.

Exit status: 0 nothing wrong, 1 problems found, 2 usage or environment error.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from migfix.cli.options import ProjectOptions, project_options
from migfix.indexer.errors import MigfixError

if TYPE_CHECKING:
    from migfix.checker.findings import Finding
    from migfix.server.answer import Answer
    from migfix.server.explain import Engine
    from migfix.server.project import ProjectTarget


@click.command("doctor")
@project_options
@click.option("--json", "as_json", is_flag=True, help="Print the answers as a JSON object.")
@click.option("--markdown", is_flag=True, help="Print the answers as Markdown.")
def doctor(where: ProjectOptions, as_json: bool, markdown: bool) -> None:
    """Diagnose a Django project's migrations from what the read-only checker finds."""
    if as_json and markdown:
        raise click.UsageError("choose one of --json and --markdown")
    sys.exit(run_doctor(where.target(), as_json=as_json, markdown=markdown))


def run_doctor(
    target: ProjectTarget,
    *,
    as_json: bool = False,
    markdown: bool = False,
    command: str = "doctor",
    engine: Engine | None = None,
) -> int:
    """Check the project, print one answer per error finding; return the exit status.

    ``migfix explain --project`` with nothing pasted does exactly this.
    """
    from migfix.server.explain import Engine
    from migfix.server.project import check, diagnose

    try:
        facts = check(target)
        answers = diagnose(engine or Engine.load(semantic=False), facts)
    except MigfixError as exc:
        click.echo(f"migfix {command}: {str(exc).splitlines()[0]}", err=True)
        return 2
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
        return 2  # the checker could not look (settings, database): nothing to diagnose
    return 1 if answers or blocking else 0


def _render(answers: list[Answer], blocking: list[Finding], warnings: list[Finding]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from migfix.server.render import render_terminal

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

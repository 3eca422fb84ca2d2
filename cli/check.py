"""``migfix check``: inspect a Django project's migrations read-only and report findings.

Exit status gates CI and deploys: 0 clean, 1 a finding at or above ``--fail-on``,
2 usage or environment failure (no project, no interpreter, settings or database broken).
"""

from __future__ import annotations

import json
import sys

import click

from migfix.checker.findings import SEVERITIES
from migfix.checker.report import Report
from migfix.cli.options import ProjectOptions, project_options
from migfix.indexer.errors import MigfixError

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@click.command("check")
@project_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="error",
    show_default=True,
    help="Exit 1 when a finding at or above this severity exists.",
)
def check(where: ProjectOptions, as_json: bool, fail_on: str) -> None:
    """Inspect a Django project's migrations and database read-only; never changes anything."""
    from migfix.checker.runner import run_check

    try:
        report = run_check(
            where.project,
            settings=where.settings,
            python=where.python,
            database=where.database,
            timeout=where.timeout,
        )
    except MigfixError as exc:
        click.echo(f"migfix check: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        render(report)
    sys.exit(exit_status(report, fail_on))


def exit_status(report: Report, fail_on: str) -> int:
    if report.environment_failed():
        return 2
    worst = report.worst_severity()
    if worst is not None and SEVERITIES.index(worst) >= SEVERITIES.index(fail_on):
        return 1
    return 0


def render(report: Report) -> None:
    """Findings grouped by severity, worst first, each with the playbook that explains it."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)  # piped output keeps one line per fact
    console.print(
        f"[bold]migfix check[/] {escape(report.project or '')} · settings {report.settings} · "
        f"Django {report.django_version or '?'} · {report.vendor or '?'} "
        f"'{report.database}'"
    )
    if not report.findings:
        console.print("[green]No problems found.[/]")
    for severity in reversed(SEVERITIES):
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        console.print(f"\n[{STYLE[severity]}]{severity.upper()} ({len(group)})[/]")
        for finding in group:
            playbook = f" [dim](playbook: {finding.playbook})[/]" if finding.playbook else ""
            where = f" [dim]{', '.join(finding.migrations)}[/]" if finding.migrations else ""
            console.print(f"  [bold]{finding.code}[/]{playbook}{where}")
            console.print(f"    {escape(finding.message)}")
    for error in report.probe_errors:
        console.print(f"[dim]note: {escape(error)}[/]")
    total = report.timings.get("wall") or report.timings.get("total")
    if total is not None:
        console.print(f"[dim]checked in {total:.2f}s[/]")

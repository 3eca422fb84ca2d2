"""``migfix kb lint``: check playbooks against the format and safety rules.

Exit codes: 0 clean, 1 lint errors, 2 usage errors (e.g. the directory does not exist).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from migfix.indexer.lint import lint_directory, playbook_files


@click.group("kb")
def kb() -> None:
    """Knowledge-base tools."""


@kb.command("lint")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option(
    "--coverage/--no-coverage",
    default=True,
    show_default=True,
    help="Require a playbook for every taxonomy id (turn off for a partial KB).",
)
def lint(directory: Path | None, coverage: bool) -> None:
    """Lint the playbooks in DIRECTORY (default: the installed knowledge base)."""
    if directory is None:
        directory = Path(str(resources.files("migfix.kb")))
    if not directory.is_dir():
        click.echo(f"migfix kb lint: {directory}: no such directory", err=True)
        raise SystemExit(2)
    errors = lint_directory(directory, coverage=coverage)
    for error in errors:
        click.echo(str(error))
    count = len(playbook_files(directory))
    if errors:
        files = len({error.path for error in errors})
        click.echo(f"{len(errors)} error(s) in {files} file(s); {count} playbook(s) checked.")
        raise SystemExit(1)
    click.echo(f"{count} playbook(s) checked, no errors.")

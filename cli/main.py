"""The ``migfix`` command.

Subcommands live in their own modules and are imported only when invoked, so that
``migfix explain`` never pays for FastAPI or torch unless it needs them.

Exit codes: 0 success, 1 findings or no confident match, 2 usage or environment error.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

#: command name -> "module:attribute" (a click.Command)
COMMANDS: dict[str, str] = {
    "explain": "migfix.cli.explain:explain",
    "check": "migfix.cli.check:check",
    "doctor": "migfix.cli.doctor:doctor",
    "index": "migfix.cli.index:index",
    "kb": "migfix.cli.kb:kb",
    "serve": "migfix.cli.serve:serve",
    "feedback": "migfix.cli.serve:feedback",
}

HELP = {
    "explain": "Explain a pasted traceback, log or question (stdin or FILE).",
    "check": "Inspect a Django project's migrations read-only and report findings.",
    "doctor": "Diagnose a project from the checker's findings alone.",
    "index": "Build the search index from the knowledge base.",
    "kb": "Knowledge-base tools (lint).",
    "serve": "Run the web chat, JSON API and Slack endpoint.",
    "feedback": "Feedback store tools (export).",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return _not_built(name)
            raise
        command: click.Command = getattr(module, attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        # Short help without importing every subcommand module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, HELP[name]) for name in self.list_commands(ctx)])


def _not_built(name: str) -> click.Command:
    @click.command(name, help=HELP[name])
    def stub() -> None:
        raise click.ClickException(f"'migfix {name}' is not available in this build.")

    return stub


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="migfix")
def cli() -> None:
    """migfix: get Django teams out of broken migrations.

    \b
    Examples:
      migfix explain < traceback.txt
      migfix check --project . --json
      migfix serve --port 8000
    """

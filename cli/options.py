"""The options that point a command at a Django project, shared by check, doctor and explain.

One definition, so the three commands spell, default and document them the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from migfix.server.project import ProjectTarget

PROJECT_OPTIONS = (
    click.option(
        "--project",
        type=click.Path(path_type=Path),
        default=None,
        help="Project folder (or its manage.py). Default: manage.py here or above.",
    ),
    click.option("--settings", default=None, help="Settings module (default: from manage.py)."),
    click.option(
        "--python",
        "python",
        type=click.Path(path_type=Path),
        default=None,
        help="The project's interpreter (default: .venv/venv in the project, else this one).",
    ),
    click.option("--database", default="default", show_default=True, help="Database alias."),
    click.option(
        "--timeout",
        type=click.FloatRange(min=1),
        default=60.0,
        show_default=True,
        help="Seconds before a hanging project or database is cut off.",
    ),
)


@dataclass(frozen=True)
class ProjectOptions:
    """What the options say: where the project is and how to reach its database."""

    project: Path | None
    settings: str | None
    python: Path | None
    database: str
    timeout: float

    def target(self) -> ProjectTarget:
        """A :class:`ProjectTarget` (the current folder when no project is given)."""
        from migfix.server.project import ProjectTarget

        return ProjectTarget(
            Path(self.project) if self.project else Path.cwd(),
            settings=self.settings,
            python=str(self.python) if self.python else None,
            database=self.database,
            timeout=self.timeout,
        )


def project_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--project --settings --python --database --timeout`` to a click command.

    The command receives them as one ``where: ProjectOptions`` argument.
    """

    @functools.wraps(command)
    def with_project(
        *args: Any,
        project: Path | None,
        settings: str | None,
        python: Path | None,
        database: str,
        timeout: float,
        **kwargs: Any,
    ) -> Any:
        where = ProjectOptions(project, settings, python, database, timeout)
        return command(*args, where=where, **kwargs)

    for option in reversed(PROJECT_OPTIONS):
        with_project = option(with_project)
    return with_project

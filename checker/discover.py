"""Find the project, its settings module and its interpreter, the way a user would.

Host side (migfix's own Python): these decide *where* the probe runs.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from migfix.indexer.errors import MigfixError

SETTINGS_IN_MANAGE = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""")


class ProjectNotFound(MigfixError, FileNotFoundError):
    """No manage.py where the user pointed, or no way to tell the settings module."""


@dataclass(frozen=True)
class Target:
    project: Path
    settings: str
    python: Path


def find_project(start: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding ``manage.py``: ``start`` itself (or its manage.py), else a parent."""
    origin = Path(start) if start is not None else Path.cwd()
    if origin.is_file() and origin.name == "manage.py":
        return origin.parent.resolve()
    if start is not None and not origin.is_dir():
        raise ProjectNotFound(f"--project {origin}: no such directory")
    if start is not None:
        if (origin / "manage.py").is_file():
            return origin.resolve()
        raise ProjectNotFound(f"no manage.py in {origin}")
    for folder in [origin.resolve(), *origin.resolve().parents]:
        if (folder / "manage.py").is_file():
            return folder
    raise ProjectNotFound(f"no manage.py in {origin} or any folder above it (use --project)")


def find_settings(project: Path, explicit: str | None = None) -> str:
    """``--settings``, else ``DJANGO_SETTINGS_MODULE``, else what manage.py sets as default."""
    if explicit:
        return explicit
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"]
    match = SETTINGS_IN_MANAGE.search((project / "manage.py").read_text(errors="replace"))
    if match is None:
        raise ProjectNotFound(
            f"cannot tell the settings module from {project / 'manage.py'} (use --settings)"
        )
    return match.group(1)


def find_python(project: Path, explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--python``, else the project's ``.venv``/``venv``, else the running interpreter."""
    if explicit:
        path = Path(os.path.abspath(explicit))  # not resolve(): a venv's python is a symlink
        if not path.is_file() or not os.access(path, os.X_OK):
            raise ProjectNotFound(f"--python {path}: not an executable file")
        return path
    for name in (".venv", "venv"):
        for candidate in (
            project / name / "bin" / "python",
            project / name / "Scripts" / "python.exe",
        ):
            if candidate.is_file():
                return candidate
    return Path(sys.executable)


def find_target(
    project: str | os.PathLike[str] | None = None,
    *,
    settings: str | None = None,
    python: str | os.PathLike[str] | None = None,
) -> Target:
    root = find_project(project)
    return Target(
        project=root, settings=find_settings(root, settings), python=find_python(root, python)
    )

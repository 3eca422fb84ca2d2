"""The migfix exception tree.

Every error migfix raises on purpose derives from :class:`MigfixError` and also from
the built-in it resembles, the way Django's own exceptions do, so callers can catch
either. A message says what went wrong, where, and the next command to run.

    MigfixError
    ├── PlaybookError (ValueError)        a kb/*.md file that does not parse
    ├── InputError (ValueError)           pasted text migfix cannot read
    ├── IndexMissingError (FileNotFoundError)
    ├── StaleIndexError (RuntimeError)
    ├── CorruptIndexError (RuntimeError)
    └── IndexTargetError (FileExistsError)
"""

from __future__ import annotations

from pathlib import Path


class MigfixError(Exception):
    """Base class of every error migfix raises deliberately."""


class PlaybookError(MigfixError, ValueError):
    """A playbook that does not follow the format; carries the file and line."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line else f"{self.path}: "
        super().__init__(f"{where}{message}")


class InputError(MigfixError, ValueError):
    """Input that cannot be explained (empty, binary, too large)."""


class IndexMissingError(MigfixError, FileNotFoundError):
    """No index at the expected place."""


class StaleIndexError(MigfixError, RuntimeError):
    """The index was built from another KB or another model."""


class CorruptIndexError(MigfixError, RuntimeError):
    """The index files are unreadable or inconsistent with each other."""


class IndexTargetError(MigfixError, FileExistsError):
    """An index directory that holds other files: building there would replace them."""

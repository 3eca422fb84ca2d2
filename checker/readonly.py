"""Keep the probe's database session read-only, and prove it.

Three layers: the backend's own read-only session switch, a transaction that is always
rolled back, and an ``execute_wrapper`` that refuses any statement that is not a read
(so a bug in migfix or a surprising Django code path cannot write). Probe module.
"""

from __future__ import annotations

import re
from typing import Any, Callable, List

READ_STATEMENT = re.compile(
    r"^\s*(\(\s*)?(SELECT|WITH|SHOW|EXPLAIN|DESCRIBE|DESC|PRAGMA|SET|BEGIN|START\s+TRANSACTION"
    r"|SAVEPOINT|RELEASE|ROLLBACK)\b",
    re.I,
)
#: PRAGMAs that assign change the file (journal_mode, user_version ...), except these.
HARMLESS_PRAGMA_ASSIGNMENT = re.compile(r"^\s*PRAGMA\s+(query_only|foreign_keys)\s*=", re.I)

SESSION_READ_ONLY = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "sqlite": "PRAGMA query_only = ON",
}


class WriteBlocked(PermissionError):
    """A statement that is not a read reached the probe's connection."""


def is_read(sql: str) -> bool:
    if not READ_STATEMENT.match(sql):
        return False
    if re.match(r"^\s*PRAGMA\b", sql, re.I) and "=" in sql:
        return bool(HARMLESS_PRAGMA_ASSIGNMENT.match(sql))
    return True


class ReadOnlyGuard:
    """``execute_wrapper`` that records and refuses non-read statements."""

    def __init__(self) -> None:
        self.blocked: List[str] = []

    def __call__(self, execute: Callable[..., Any], sql: Any, params: Any, many: bool,
                 context: Any) -> Any:
        text = sql if isinstance(sql, str) else str(sql)
        if not is_read(text):
            self.blocked.append(text[:300])
            raise WriteBlocked("migfix refused a non-read statement: %s" % text[:120])
        return execute(sql, params, many, context)


def make_session_read_only(connection: Any) -> None:
    """Switch the session to the backend's read-only mode before anything else runs."""
    statement = SESSION_READ_ONLY.get(connection.vendor)
    if statement:
        with connection.cursor() as cursor:
            cursor.execute(statement)

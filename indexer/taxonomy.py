"""The playbook ids the knowledge base must cover (``kb-taxonomy.md``, v1).

Kept in code so that ``migfix kb lint`` can check coverage in an installed package,
where the design notes are not available; a test compares it with the taxonomy file.
"""

from __future__ import annotations

import re
from pathlib import Path

GRAPH_IDS: tuple[str, ...] = (
    "conflicting-leaf-nodes",
    "inconsistent-history",
    "custom-user-model-swap",
    "node-not-found",
    "circular-dependency",
    "lazy-reference-unresolved",
    "bad-migration-file",
    "missing-migrations",
    "unapplied-migrations",
    "squashed-migration",
    "irreversible-migration",
    "unknown-app-label",
)
DATABASE_IDS: tuple[str, ...] = (
    "table-already-exists",
    "duplicate-column",
    "missing-table",
    "missing-column",
    "not-null-without-default",
    "unique-constraint-violation",
    "foreign-key-violation",
    "type-cast-error",
    "migrations-table-missing",
    "pending-trigger-events",
    "lock-timeout",
    "sqlite-schema-editor-limits",
)
TAXONOMY_IDS: tuple[str, ...] = GRAPH_IDS + DATABASE_IDS

#: The answer for text that is not a migration problem; never a playbook file.
NO_MATCH_ID = "none"

_ROW_RE = re.compile(r"^\|\s*([a-z0-9][a-z0-9-]*)\s*\|", re.M)


def ids_in_taxonomy_file(path: Path) -> tuple[str, ...]:
    """The ids listed in the first column of the taxonomy's tables, in file order."""
    text = path.read_text(encoding="utf-8")
    return tuple(m.group(1) for m in _ROW_RE.finditer(text) if m.group(1) != "id")

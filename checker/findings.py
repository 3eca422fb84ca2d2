"""Findings: what the checker saw, as plain data.

This module is part of the probe that runs under the *user's* interpreter, so it uses
the standard library only and stays compatible with Python 3.8 (Django 4.2's floor).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

SEVERITIES = ("info", "warning", "error")

#: Each finding code and the playbook that explains it. Codes are stable API.
PLAYBOOK_FOR_CODE: Dict[str, str] = {
    "graph.conflict": "conflicting-leaf-nodes",
    "graph.node_not_found": "node-not-found",
    "graph.circular": "circular-dependency",
    "graph.bad_migration": "bad-migration-file",
    "graph.conflict_markers": "bad-migration-file",
    "graph.missing_init": "missing-migrations",
    "history.inconsistent": "inconsistent-history",
    "history.missing_on_disk": "node-not-found",
    "history.squash_partial": "squashed-migration",
    "history.duplicate_rows": "inconsistent-history",
    "history.table_missing": "migrations-table-missing",
    "history.user_model_swapped": "custom-user-model-swap",
    "plan.unapplied": "unapplied-migrations",
    "state.missing_migrations": "missing-migrations",
    "schema.missing_table": "missing-table",
    "schema.missing_column": "missing-column",
    "schema.table_exists_unrecorded": "table-already-exists",
    "schema.column_exists_unrecorded": "duplicate-column",
    "data.nulls_block_not_null": "not-null-without-default",
    "data.duplicates_block_unique": "unique-constraint-violation",
    "data.orphans_block_foreign_key": "foreign-key-violation",
    "data.values_block_cast": "type-cast-error",
    "project.load_error": "",
    "db.unreachable": "",
    "project.timeout": "",
    "probe.write_blocked": "",
}


@dataclass
class Finding:
    code: str
    severity: str
    message: str
    app: Optional[str] = None
    migrations: List[str] = field(default_factory=list)
    evidence: Dict[str, Any] = field(default_factory=dict)

    @property
    def playbook(self) -> Optional[str]:
        return PLAYBOOK_FOR_CODE.get(self.code) or None

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["playbook"] = self.playbook
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Finding":
        """Rebuild a finding from ``to_dict()`` output (``playbook`` is derived, not stored)."""
        return cls(
            code=data["code"],
            severity=data["severity"],
            message=data["message"],
            app=data.get("app"),
            migrations=list(data.get("migrations") or []),
            evidence=dict(data.get("evidence") or {}),
        )

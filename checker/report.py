"""The checker's whole answer about one project and database, as plain data.

Shared by the probe (user's interpreter, Python 3.8+, standard library only) and by
migfix itself, so it keeps to Python 3.8 syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .findings import SEVERITIES, Finding

#: Codes that mean the check could not look at the project or database at all.
ENVIRONMENT_CODES = ("project.load_error", "project.timeout", "db.unreachable")


@dataclass
class Report:
    findings: List[Finding] = field(default_factory=list)
    django_version: Optional[str] = None
    python: Optional[str] = None
    vendor: Optional[str] = None
    database: str = "default"
    #: the alias's NAME (a file path on SQLite), for backup commands
    database_name: Optional[str] = None
    project: Optional[str] = None
    settings: Optional[str] = None
    timings: Dict[str, float] = field(default_factory=dict)
    probe_errors: List[str] = field(default_factory=list)

    def codes(self) -> List[str]:
        return [finding.code for finding in self.findings]

    def by_code(self, code: str) -> List[Finding]:
        return [finding for finding in self.findings if finding.code == code]

    def worst_severity(self) -> Optional[str]:
        """The highest severity present, so callers can gate CI on it."""
        ranks = [SEVERITIES.index(f.severity) for f in self.findings if f.severity in SEVERITIES]
        return SEVERITIES[max(ranks)] if ranks else None

    def environment_failed(self) -> bool:
        return any(finding.code in ENVIRONMENT_CODES for finding in self.findings)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "django_version": self.django_version,
            "python": self.python,
            "vendor": self.vendor,
            "database": self.database,
            "database_name": self.database_name,
            "project": self.project,
            "settings": self.settings,
            "timings": dict(self.timings),
            "probe_errors": list(self.probe_errors),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Report":
        return cls(
            findings=[Finding.from_dict(item) for item in data.get("findings") or []],
            django_version=data.get("django_version"),
            python=data.get("python"),
            vendor=data.get("vendor"),
            database=data.get("database") or "default",
            database_name=data.get("database_name") or None,
            project=data.get("project"),
            settings=data.get("settings"),
            timings={k: float(v) for k, v in (data.get("timings") or {}).items()},
            probe_errors=[str(e) for e in data.get("probe_errors") or []],
        )

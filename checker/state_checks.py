"""Model changes without a migration: what ``makemigrations --check`` would report.

Runs Django's autodetector in memory, never ``call_command``, so no file is written and
no prompt or ``sys.exit(3)`` can happen. Probe module: Python 3.8, standard library + Django.
"""

from __future__ import annotations

from typing import Any, Dict, List

from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ProjectState

from .findings import Finding


class RecordingQuestioner(MigrationQuestioner):
    """Answers like ``--noinput`` would, and notes the fields that need a default."""

    def __init__(self) -> None:
        super().__init__(specified_apps=None, dry_run=True)
        self.needs_default: List[str] = []

    def ask_not_null_addition(self, field_name: str, model_name: str) -> None:
        self.needs_default.append("%s.%s" % (model_name, field_name))
        return None

    def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> None:
        self.needs_default.append("%s.%s" % (model_name, field_name))
        return None


def missing_migrations(loader: MigrationLoader) -> List[Finding]:
    questioner = RecordingQuestioner()
    autodetector = MigrationAutodetector(
        loader.project_state(), ProjectState.from_apps(apps), questioner
    )
    changes: Dict[str, List[Any]] = autodetector.changes(graph=loader.graph)
    findings = []
    for app_label in sorted(changes):
        operations = [
            op.describe() for migration in changes[app_label] for op in migration.operations
        ]
        evidence: Dict[str, Any] = {"operations": operations}
        needs = [n for n in questioner.needs_default if n.split(".")[0] in _models_of(app_label)]
        if needs:
            evidence["needs_default"] = needs
        findings.append(Finding(
            code="state.missing_migrations",
            severity="error",
            app=app_label,
            message="Your models in app(s): '%s' have changes that are not yet reflected in a "
            "migration (%s)" % (app_label, "; ".join(operations)),
            evidence=evidence,
        ))
    return findings


def _models_of(app_label: str) -> List[str]:
    try:
        return [model._meta.model_name for model in apps.get_app_config(app_label).get_models()]
    except LookupError:
        return []

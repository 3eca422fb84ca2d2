"""Read migration files as text and ``ast`` before Django imports them.

A conflict marker or syntax error makes ``MigrationLoader`` stop at the first bad file
with a bare traceback; reading the files first lets the probe name every bad file and
line, without executing any of them. Probe module: Python 3.8, standard library only.
"""

from __future__ import annotations

import ast
import os
import re
from typing import Dict, List, Optional

from .findings import Finding

CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})(\s|$)")


def scan_migrations_dir(app_label: str, module_name: str, path: str,
                        has_init: bool) -> List[Finding]:
    """Findings for one app's migrations folder (``path``), in file-name order."""
    names = sorted(
        name for name in os.listdir(path)
        if name.endswith(".py") and name != "__init__.py" and name[0] not in "_~"
    )
    if not has_init:
        if not names:
            return []
        return [Finding(
            code="graph.missing_init",
            severity="error",
            app=app_label,
            message=(
                "%s has migration files but no __init__.py, so Django treats app '%s' as "
                "having no migrations" % (_relative(path), app_label)
            ),
            evidence={"path": path, "files": names},
        )]
    findings = []
    for name in names:
        finding = scan_migration_file(app_label, module_name, os.path.join(path, name))
        if finding is not None:
            findings.append(finding)
    return findings


def scan_migration_file(app_label: str, module_name: str, path: str) -> Optional[Finding]:
    migration = os.path.basename(path)[:-3]
    with open(path, encoding="utf-8", errors="replace") as handle:
        source = handle.read()
    markers = [
        number for number, line in enumerate(source.splitlines(), 1) if CONFLICT_MARKER.match(line)
    ]
    if markers:
        return Finding(
            code="graph.conflict_markers",
            severity="error",
            app=app_label,
            migrations=["%s.%s" % (app_label, migration)],
            message="git conflict markers in %s at line %s" % (
                _relative(path), ", ".join(str(n) for n in markers)),
            evidence={"file": path, "lines": markers, "module": "%s.%s" % (module_name, migration)},
        )
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return Finding(
            code="graph.bad_migration",
            severity="error",
            app=app_label,
            migrations=["%s.%s" % (app_label, migration)],
            message="SyntaxError in %s line %s: %s" % (_relative(path), exc.lineno, exc.msg),
            evidence={"file": path, "line": exc.lineno, "error": "SyntaxError: %s" % exc.msg},
        )
    if not _defines_migration(tree):
        return Finding(
            code="graph.bad_migration",
            severity="error",
            app=app_label,
            migrations=["%s.%s" % (app_label, migration)],
            message="Migration %s in app %s has no Migration class" % (migration, app_label),
            evidence={"file": path, "error": "BadMigrationError: no Migration class"},
        )
    return None


def _defines_migration(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (alias.asname or alias.name) == "Migration" for alias in node.names
        ):
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "Migration" for t in node.targets
        ):
            return True
    return False


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def scan_apps(locations: Dict[str, "tuple"]) -> List[Finding]:
    """``locations``: app label -> (migrations module name, folder, has __init__.py)."""
    findings = []
    for app_label in sorted(locations):
        module_name, path, has_init = locations[app_label]
        findings.extend(scan_migrations_dir(app_label, module_name, path, has_init))
    return findings

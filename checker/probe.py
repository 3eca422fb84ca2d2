"""The probe: runs under the project's own interpreter and prints one JSON report.

``python -m <package>.probe --settings S --database D --project P``. Standard library
and the project's Django only, Python 3.8 syntax. The project may print to stdout, so
the report is framed by markers; stage names go to stderr so the runner can tell where
a hung probe stopped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from .findings import Finding
from .report import Report

BEGIN = "<<<MIGFIX-REPORT>>>"
END = "<<<END-MIGFIX-REPORT>>>"
STAGE = "MIGFIX-STAGE "


class Probe:
    def __init__(self, report: Report) -> None:
        self.report = report

    def stage(self, name: str) -> None:
        sys.stderr.write("%s%s\n" % (STAGE, name))
        sys.stderr.flush()

    def timed(self, name: str, action: Callable[[], Any]) -> Any:
        self.stage(name)
        start = time.perf_counter()
        try:
            return action()
        finally:
            self.report.timings[name] = round(time.perf_counter() - start, 4)

    def add(self, findings: List[Finding]) -> None:
        self.report.findings.extend(findings)

    def attempt(self, name: str, action: Callable[[], List[Finding]]) -> None:
        """Run one check; a crash in it is a probe error, not the end of the check."""
        try:
            self.add(self.timed(name, action))
        except Exception as exc:
            self.report.probe_errors.append("%s: %s: %s" % (name, type(exc).__name__, exc))


def load_error(stage: str, exc: BaseException) -> Finding:
    return Finding(
        code="project.load_error",
        severity="error",
        message="%s failed: %s: %s" % (stage, type(exc).__name__, exc),
        evidence={"stage": stage, "exception": type(exc).__name__, "error": str(exc),
                  "traceback": traceback.format_exc(limit=-3)},
    )


def setup_django(probe: Probe, settings_module: str, project: str) -> bool:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    if project not in sys.path:
        sys.path.insert(0, project)
    try:
        import django
    except ImportError as exc:
        probe.add([load_error("import django", exc)])
        return False
    probe.report.django_version = django.get_version()
    from django.conf import settings

    try:
        probe.timed("settings", lambda: settings.INSTALLED_APPS)
    except BaseException as exc:
        probe.add([load_error("settings", exc)])
        return False
    try:
        probe.timed("setup", django.setup)
    except BaseException as exc:
        probe.add([load_error("setup", exc)])
        return False
    return True


def migration_locations(project: str) -> Dict[str, Tuple[str, str, bool]]:
    """Project-local migrations folders: label -> (module, folder, has __init__.py)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    root = os.path.realpath(project)
    found = {}
    for config in apps.get_app_configs():
        module_name = MigrationLoader.migrations_module(config.label)[0]
        if module_name is None:
            continue
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            folder = os.path.join(config.path, "migrations")
            if not os.path.isdir(folder):
                continue
            has_init = False
        else:
            folder = list(spec.submodule_search_locations)[0]
            has_init = bool(spec.origin) and spec.origin.endswith("__init__.py")
        if os.path.realpath(folder).startswith(root + os.sep):
            found[config.label] = (module_name, folder, has_init)
    return found


def connect(probe: Probe, alias: str) -> Optional[Any]:
    """The connection, made read-only, or None (with a finding) when it cannot be used."""
    from django.db import connections

    if alias not in connections.databases:
        probe.add([Finding(
            code="project.load_error", severity="error",
            message="database alias '%s' is not in DATABASES (%s)" % (
                alias, ", ".join(sorted(connections.databases))),
            evidence={"stage": "database", "alias": alias},
        )])
        return None
    connection = connections[alias]
    probe.report.vendor = connection.vendor
    name = str(connection.settings_dict.get("NAME") or "")
    probe.report.database_name = name or None
    if connection.vendor == "sqlite" and not _sqlite_exists(name):
        probe.add([Finding(
            code="history.table_missing", severity="warning",
            message="SQLite database file %s does not exist yet: nothing has been migrated" % name,
            evidence={"database": name, "exists": False},
        )])
        return None
    from .readonly import make_session_read_only

    try:
        probe.timed("connect", connection.ensure_connection)
        make_session_read_only(connection)
    except Exception as exc:
        probe.add([Finding(
            code="db.unreachable", severity="error",
            message="cannot connect to database '%s' (%s): %s" % (alias, connection.vendor, exc),
            evidence={"alias": alias, "vendor": connection.vendor,
                      "exception": type(exc).__name__, "error": str(exc).strip()},
        )])
        return None
    return connection


def _sqlite_exists(name: str) -> bool:
    if name in ("", ":memory:") or name.startswith("file:"):
        return True
    return os.path.exists(name)


def check(probe: Probe, args: argparse.Namespace) -> None:
    if not setup_django(probe, args.settings, args.project):
        return
    from .scan import scan_apps

    scanned = probe.timed("scan", lambda: scan_apps(migration_locations(args.project)))
    probe.add(scanned)
    connection = connect(probe, args.database)
    if connection is None:
        graph_checks(probe, None, args.database, loadable=not _unloadable(scanned))
        return
    from django.db import transaction

    from .readonly import ReadOnlyGuard

    guard = ReadOnlyGuard()
    connection.execute_wrappers.append(guard)
    try:
        with transaction.atomic(using=args.database):
            try:
                graph_checks(probe, connection, args.database, loadable=not _unloadable(scanned))
            finally:
                transaction.set_rollback(True, using=args.database)  # nothing is ever kept
    finally:
        connection.execute_wrappers.remove(guard)
    if guard.blocked:
        probe.add([Finding(
            code="probe.write_blocked", severity="error",
            message="migfix refused %d non-read statement(s); please report this"
            % len(guard.blocked),
            evidence={"statements": guard.blocked},
        )])


def _unloadable(scanned: List[Finding]) -> bool:
    return any(f.code in ("graph.conflict_markers", "graph.bad_migration") for f in scanned)


def graph_checks(probe: Probe, connection: Optional[Any], alias: str, loadable: bool) -> None:
    from . import graph_checks as graph

    has_table, applied = False, set()
    if connection is not None:
        try:
            has_table, applied = probe.timed("recorder", lambda: graph.recorded(connection))
        except Exception as exc:
            probe.add([Finding(
                code="history.table_missing", severity="error",
                message="django_migrations cannot be read: %s: %s" % (type(exc).__name__, exc),
                evidence={"exception": type(exc).__name__, "error": str(exc).strip()},
            )])
        if not has_table and not probe.report.by_code("history.table_missing"):
            probe.add([Finding(
                code="history.table_missing", severity="warning",
                message="the django_migrations table does not exist on database '%s': "
                "nothing has been migrated" % alias,
                evidence={"database": alias, "exists": False},
            )])
        if has_table:
            probe.attempt("duplicate_rows", lambda: graph.duplicate_rows(connection))
    if not loadable:
        probe.report.probe_errors.append(
            "graph checks skipped: some migration files cannot be loaded (see findings)")
        return
    try:
        result = probe.timed("loader", lambda: graph.load_graph(connection if has_table else None))
    except Exception as exc:
        probe.add([load_error("loading migrations", exc)])
        return
    probe.add(result.findings)
    loader = result.loader
    if loader is None:
        return
    from .state_checks import missing_migrations

    probe.attempt("conflicts", lambda: graph.conflicts(loader))
    probe.attempt("history", lambda: (
        graph.inconsistent_history(loader, applied, alias)
        + graph.missing_on_disk(loader, applied)
        + graph.partial_squashes(loader, applied)
    ))
    plan = graph.unapplied_plan(loader, applied)
    probe.add(graph.plan_finding(plan))
    broken = result.broken_apps
    probe.attempt("state", lambda: [f for f in missing_migrations(loader) if f.app not in broken])
    if connection is not None:
        probe.attempt("schema", lambda: schema_and_data(probe, loader, connection, applied, plan))


def schema_and_data(probe: Probe, loader: Any, connection: Any, applied: Any,
                    plan: List[Any]) -> List[Finding]:
    from .preflight import Preflight
    from .schema_checks import (
        DatabaseSchema,
        applied_changes,
        missing_schema,
        tables_of,
        unrecorded_schema,
        walk_plan,
    )

    schema = DatabaseSchema(connection)
    nodes = [key for key in loader.graph.nodes if key in applied]
    # Django's state for these nodes also holds their unapplied ancestors (an inconsistent
    # history): expect only what a recorded migration created or changed.
    state = loader.project_state(nodes=nodes, at_end=True)
    touched, creators = applied_changes(loader, set(applied))
    expected = tables_of(state, set(loader.migrated_apps), touched) if nodes else {}
    findings = missing_schema(expected, schema, creators)
    if plan:
        preflight = Preflight(connection, schema)
        states: Dict[Any, Any] = {}
        created: Dict[Any, Any] = {}
        added = probe.timed(
            "preflight", lambda: walk_plan(loader, state, plan, preflight, states, created))
        findings += unrecorded_schema(added, schema, expected, states, created)
        findings += preflight.findings
        probe.report.probe_errors.extend(preflight.errors)
    return findings


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="migfix-probe")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--database", default="default")
    parser.add_argument("--project", required=True)
    args = parser.parse_args(argv)
    report = Report(database=args.database, project=args.project, settings=args.settings,
                    python="%s (%s)" % (platform.python_version(), sys.executable))
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # the project's prints must not corrupt the report
    start = time.perf_counter()
    try:
        check(Probe(report), args)
    except BaseException as exc:  # SystemExit from project code included: still report
        report.probe_errors.append("probe: %s: %s" % (type(exc).__name__, exc))
    finally:
        sys.stdout = real_stdout
    report.timings["total"] = round(time.perf_counter() - start, 4)
    real_stdout.write("\n%s\n%s\n%s\n" % (BEGIN, json.dumps(report.to_dict(), default=str), END))
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

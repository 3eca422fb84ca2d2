"""Compare the schema the applied migrations imply with the real database.

The expected tables and columns come from ``loader.project_state(applied)``; walking
the unapplied plan from there names the migration that would create a table or column
that is already present (the cause of "already exists"). Probe module: Python 3.8.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from .findings import Finding
from .graph_checks import Key, label

#: table -> (model label, columns)
Tables = Dict[str, Tuple[str, Set[str]]]


def tables_of(state: ProjectState, migrated_apps: Set[str]) -> Tables:
    tables: Tables = {}
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label not in migrated_apps or not meta.managed or meta.proxy or meta.swapped:
            continue
        columns = {f.column for f in meta.local_concrete_fields if f.column}
        tables[meta.db_table] = (meta.label, columns)
    return tables


class DatabaseSchema:
    """Tables and their columns as ``connection.introspection`` sees them (lazily)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        with connection.cursor() as cursor:
            names = connection.introspection.table_names(cursor)
        self.fold: Callable[[str], str] = (
            (lambda n: n.lower()) if connection.vendor == "mysql" else (lambda n: n)
        )
        self.tables = {self.fold(n): n for n in names}
        self._columns: Dict[str, Set[str]] = {}

    def has_table(self, table: str) -> bool:
        return self.fold(table) in self.tables

    def columns(self, table: str) -> Set[str]:
        key = self.fold(table)
        if key not in self._columns:
            with self.connection.cursor() as cursor:
                description = self.connection.introspection.get_table_description(
                    cursor, self.tables[key])
            self._columns[key] = {self.fold(col.name) for col in description}
        return self._columns[key]

    def has_column(self, table: str, column: str) -> bool:
        return self.has_table(table) and self.fold(column) in self.columns(table)


def missing_schema(expected: Tables, schema: DatabaseSchema) -> List[Finding]:
    findings = []
    for table in sorted(expected):
        model, columns = expected[table]
        app = model.split(".")[0]
        if not schema.has_table(table):
            findings.append(Finding(
                code="schema.missing_table",
                severity="error",
                app=app,
                message="table %s (model %s) is created by an applied migration but does "
                "not exist in the database" % (table, model),
                evidence={"table": table, "model": model},
            ))
            continue
        for column in sorted(columns):
            if not schema.has_column(table, column):
                findings.append(Finding(
                    code="schema.missing_column",
                    severity="error",
                    app=app,
                    message="column %s.%s (model %s) is added by an applied migration but "
                    "does not exist in the database" % (table, column, model),
                    evidence={"table": table, "column": column, "model": model},
                ))
    return findings


def walk_plan(
    loader: MigrationLoader,
    applied_state: ProjectState,
    plan: List[Key],
    on_operation: Optional[Callable[[Key, Any, ProjectState, ProjectState], None]] = None,
) -> Dict[Key, Tables]:
    """Step through the unapplied plan; return what each migration adds to the schema."""
    migrated = set(loader.migrated_apps)
    state = applied_state
    before = tables_of(state, migrated)
    added: Dict[Key, Tables] = {}
    for key in plan:
        migration = loader.graph.nodes[key]
        for operation in migration.operations:
            after = state.clone()
            operation.state_forwards(key[0], after)
            if on_operation is not None:
                on_operation(key, operation, state, after)
            state = after
        tables = tables_of(state, migrated)
        added[key] = {
            table: (model, columns - before.get(table, ("", set()))[1])
            for table, (model, columns) in tables.items()
            if table not in before or columns - before[table][1]
        }
        before = tables
    return added


def unrecorded_schema(added: Dict[Key, Tables], schema: DatabaseSchema,
                      expected: Tables) -> List[Finding]:
    """Tables/columns already present that an unapplied migration would create."""
    findings = []
    for key, tables in added.items():
        for table in sorted(tables):
            model, columns = tables[table]
            if table not in expected and schema.has_table(table):
                findings.append(Finding(
                    code="schema.table_exists_unrecorded",
                    severity="error",
                    app=key[0],
                    migrations=[label(key)],
                    message="table %s already exists, but no applied migration creates it; "
                    "%s would create it and fail" % (table, label(key)),
                    evidence={"table": table, "model": model, "created_by": label(key)},
                ))
            elif table in expected:
                for column in sorted(columns):
                    if schema.has_column(table, column):
                        findings.append(Finding(
                            code="schema.column_exists_unrecorded",
                            severity="error",
                            app=key[0],
                            migrations=[label(key)],
                            message="column %s.%s already exists, but no applied migration "
                            "adds it; %s would add it and fail" % (table, column, label(key)),
                            evidence={"table": table, "column": column, "model": model,
                                      "added_by": label(key)},
                        ))
    return findings

"""Predict the data errors ``migrate`` would hit, before it runs.

For each operation of each unapplied migration, with the model state just before it,
count the rows that would break it (NULLs under NOT NULL, duplicates under UNIQUE,
orphans under a FOREIGN KEY, text that will not cast). Plain SELECTs only, each in a
savepoint so one failing query does not end the check. Probe module: Python 3.8.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, Optional, Sequence

from django.db import models, transaction
from django.db.migrations import operations
from django.db.migrations.state import ProjectState

from .findings import Finding
from .graph_checks import Key, label
from .schema_checks import DatabaseSchema

NOT_PROVIDED = models.NOT_PROVIDED
TEXT_TYPES = {
    "CharField", "TextField", "SlugField", "EmailField", "URLField", "GenericIPAddressField",
}
INTEGER = re.compile(r"^\s*[-+]?\d+\s*$")
BOOLEAN_WORDS = {"t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0"}
SAMPLE = 5


def _casts_to(internal_type: str) -> Optional[Callable[[Any], bool]]:
    def decimal_ok(value: Any) -> bool:
        try:
            Decimal(str(value).strip())
            return True
        except InvalidOperation:
            return False

    def uuid_ok(value: Any) -> bool:
        try:
            uuid.UUID(str(value).strip())
            return True
        except ValueError:
            return False

    if internal_type.endswith("IntegerField") or internal_type.endswith("AutoField"):
        return lambda value: isinstance(value, int) or bool(INTEGER.match(str(value)))
    if internal_type in ("FloatField", "DecimalField"):
        return decimal_ok
    if internal_type == "BooleanField":
        return lambda value: str(value).strip().lower() in BOOLEAN_WORDS
    if internal_type == "UUIDField":
        return uuid_ok
    return None


def _has_effective_default(field: Any) -> bool:
    """Mirror ``BaseDatabaseSchemaEditor._effective_default``: a value Django fills in."""
    if field.has_default() or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
        return True
    if field.blank and field.empty_strings_allowed:
        return True
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


class Preflight:
    """Called for each operation of the unapplied plan; collects findings."""

    def __init__(self, connection: Any, schema: DatabaseSchema) -> None:
        self.connection = connection
        self.schema = schema
        self.findings: List[Finding] = []
        self.errors: List[str] = []

    def __call__(self, key: Key, operation: Any, before: ProjectState, after: ProjectState) -> None:
        try:
            self._check(key, operation, before, after)
        except Exception as exc:  # a failed read must not end the whole check
            self.errors.append("preflight %s %s: %s: %s" % (
                label(key), operation.describe(), type(exc).__name__, exc))

    def _check(self, key: Key, op: Any, before: ProjectState, after: ProjectState) -> None:
        if isinstance(op, operations.AddField):
            model = after.apps.get_model(key[0], op.model_name)
            self._add_field(key, model, model._meta.get_field(op.name))
        elif isinstance(op, operations.AlterField):
            old_model = before.apps.get_model(key[0], op.model_name)
            model = after.apps.get_model(key[0], op.model_name)
            self._alter_field(key, model, old_model._meta.get_field(op.name),
                              model._meta.get_field(op.name))
        elif isinstance(op, operations.AddConstraint):
            constraint = op.constraint
            if (isinstance(constraint, models.UniqueConstraint) and constraint.fields
                    and constraint.condition is None and not constraint.expressions):
                model = before.apps.get_model(key[0], op.model_name)
                self._unique(key, model, list(constraint.fields), constraint.name)
        elif isinstance(op, operations.AlterUniqueTogether):
            model = before.apps.get_model(key[0], op.name)
            old = {tuple(t) for t in model._meta.unique_together}
            for fields in sorted({tuple(t) for t in (op.unique_together or ())} - old):
                self._unique(key, model, list(fields), "unique_together %s" % (fields,))

    def _table(self, model: Any) -> Optional[str]:
        table = model._meta.db_table
        return table if self.schema.has_table(table) else None

    def _count(self, query: str) -> int:
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute(query)
            return int(cursor.fetchone()[0])

    def _rows(self, query: str) -> List[Sequence[Any]]:
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute(query)
            return list(cursor.fetchall())

    def _add_field(self, key: Key, model: Any, field: Any) -> None:
        table = self._table(model)
        if table is None or field.many_to_many or not field.concrete:
            return
        q = self.connection.ops.quote_name
        if not field.null and not _has_effective_default(field):
            query = "SELECT COUNT(*) FROM %s" % q(table)
            rows = self._count(query)
            if rows:
                self._nulls(key, model, field, rows, "AddField", query)
        elif field.unique and not field.primary_key and not field.null:
            query = "SELECT COUNT(*) FROM %s" % q(table)
            rows = self._count(query)
            if rows > 1:
                self.findings.append(self._finding(
                    "data.duplicates_block_unique", key, model,
                    "%s adds unique column %s.%s with one default for all %d existing rows" % (
                        label(key), table, field.column, rows),
                    {"table": table, "columns": [field.column], "groups": 1, "rows": rows,
                     "operation": "AddField", "query": query},
                ))
        if field.many_to_one and field.db_constraint:
            self._orphans(key, model, field, "AddField")

    def _alter_field(self, key: Key, model: Any, old: Any, new: Any) -> None:
        table = self._table(model)
        if table is None or new.many_to_many or not new.concrete:
            return
        q = self.connection.ops.quote_name
        if old.null and not new.null and not _has_effective_default(new):
            query = "SELECT COUNT(*) FROM %s WHERE %s IS NULL" % (q(table), q(old.column))
            nulls = self._count(query)
            if nulls:
                self._nulls(key, model, new, nulls, "AlterField", query)
        if new.unique and not new.primary_key and not (old.unique or old.primary_key):
            self._unique(key, model, [new.name], "unique %s" % new.name, column_of=old)
        if new.many_to_one and new.db_constraint and (
            not old.many_to_one
            or old.related_model._meta.db_table != new.related_model._meta.db_table
        ):
            self._orphans(key, model, new, "AlterField", column=old.column)
        self._cast(key, model, old, new)

    def _nulls(self, key: Key, model: Any, field: Any, count: int, kind: str, query: str) -> None:
        table = model._meta.db_table
        self.findings.append(self._finding(
            "data.nulls_block_not_null", key, model,
            "%s makes %s.%s NOT NULL without a default, but %d row(s) would be NULL" % (
                label(key), table, field.column, count),
            {"table": table, "column": field.column, "rows": count, "operation": kind,
             "query": query},
        ))

    def _unique(self, key: Key, model: Any, fields: List[str], name: str,
                column_of: Any = None) -> None:
        table = self._table(model)
        if table is None:
            return
        q = self.connection.ops.quote_name
        columns = [column_of.column] if column_of is not None else [
            model._meta.get_field(f).column for f in fields]
        if not all(self.schema.has_column(table, c) for c in columns):
            return
        cols = ", ".join(q(c) for c in columns)
        where = " AND ".join("%s IS NOT NULL" % q(c) for c in columns)
        grouped = "SELECT %s, COUNT(*) FROM %s WHERE %s GROUP BY %s HAVING COUNT(*) > 1" % (
            cols, q(table), where, cols)
        groups = self._count("SELECT COUNT(*) FROM (%s) dup" % grouped)
        if not groups:
            return
        sample = self._rows(grouped + " ORDER BY COUNT(*) DESC LIMIT %d" % SAMPLE)
        self.findings.append(self._finding(
            "data.duplicates_block_unique", key, model,
            "%s adds %s on %s(%s), but %d group(s) of rows share a value" % (
                label(key), name, table, ", ".join(columns), groups),
            {"table": table, "columns": columns, "groups": groups,
             "sample": [[_plain(v) for v in row] for row in sample], "query": grouped},
        ))

    def _orphans(self, key: Key, model: Any, field: Any, kind: str,
                 column: Optional[str] = None) -> None:
        table = self._table(model)
        target = field.related_model._meta.db_table
        column = column or field.column
        if table is None or not self.schema.has_column(table, column):
            return
        q = self.connection.ops.quote_name
        target_column = field.target_field.column
        if not self.schema.has_table(target):
            return
        query = (
            "SELECT COUNT(*) FROM %s child LEFT JOIN %s parent ON child.%s = parent.%s "
            "WHERE child.%s IS NOT NULL AND parent.%s IS NULL" % (
                q(table), q(target), q(column), q(target_column), q(column), q(target_column))
        )
        orphans = self._count(query)
        if orphans:
            self.findings.append(self._finding(
                "data.orphans_block_foreign_key", key, model,
                "%s adds a foreign key %s.%s -> %s.%s, but %d row(s) point at nothing" % (
                    label(key), table, column, target, target_column, orphans),
                {"table": table, "column": column, "target": "%s.%s" % (target, target_column),
                 "rows": orphans, "operation": kind, "query": query},
            ))

    def _cast(self, key: Key, model: Any, old: Any, new: Any) -> None:
        if old.get_internal_type() not in TEXT_TYPES:
            return
        accepts = _casts_to(new.get_internal_type())
        table = self._table(model)
        if accepts is None or table is None or not self.schema.has_column(table, old.column):
            return
        q = self.connection.ops.quote_name
        query = "SELECT DISTINCT %s FROM %s WHERE %s IS NOT NULL" % (
            q(old.column), q(table), q(old.column))
        bad = [row[0] for row in self._rows(query) if not accepts(row[0])]
        if not bad:
            return
        vendor = self.connection.vendor
        finding = self._finding(
            "data.values_block_cast", key, model,
            "%s changes %s.%s from %s to %s, but %d distinct value(s) will not cast" % (
                label(key), table, old.column, old.get_internal_type(), new.get_internal_type(),
                len(bad)),
            {"table": table, "column": old.column, "from": old.get_internal_type(),
             "to": new.get_internal_type(), "values": len(bad),
             "sample": [_plain(v) for v in bad[:SAMPLE]], "query": query},
        )
        if vendor == "sqlite":
            finding.severity = "warning"
            finding.evidence["note"] = "SQLite keeps such values as text instead of failing"
        self.findings.append(finding)

    def _finding(self, code: str, key: Key, model: Any, message: str,
                 evidence: Dict[str, Any]) -> Finding:
        evidence = dict(evidence, model=model._meta.label)
        return Finding(code=code, severity="error", app=key[0], migrations=[label(key)],
                       message=message, evidence=evidence)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)

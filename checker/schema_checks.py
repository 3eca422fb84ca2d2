"""Compare the schema the applied migrations imply with the real database.

The expected tables and columns come from ``loader.project_state(applied)``; walking
the unapplied plan from there names the migration that would create a table or column
that is already present (the cause of "already exists"). Probe module: Python 3.8.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from .findings import Finding
from .graph_checks import Key, label

#: table -> (model label, columns)
Tables = Dict[str, Tuple[str, Set[str]]]


#: (app, model_name lower) -> field names an applied migration created or changed
Touched = Dict[Tuple[str, str], Set[str]]


def tables_of(state: ProjectState, migrated_apps: Set[str],
              touched: Optional[Touched] = None) -> Tables:
    """Tables of the state's managed models; with *touched*, only what those name."""
    tables: Tables = {}
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label not in migrated_apps or not meta.managed or meta.proxy or meta.swapped:
            continue
        fields = list(meta.local_concrete_fields)
        if touched is not None:
            owner = _owner(model)
            if owner is None:
                key = (meta.app_label, meta.model_name)
                if key not in touched:
                    continue
                fields = [f for f in fields if f.name in touched[key] or f.primary_key]
            elif owner[0] not in touched or owner[1] not in touched[owner[0]]:
                continue
        columns = {f.column for f in fields if f.column}
        tables[meta.db_table] = (meta.label, columns)
    return tables


def _owner(model: Any) -> Optional[Tuple[Tuple[str, str], str]]:
    """For an auto-created many-to-many table: (owning model key, field name)."""
    owner = model._meta.auto_created
    if not owner:
        return None
    for field in owner._meta.local_many_to_many:
        if field.remote_field.through is model:
            return (owner._meta.app_label, owner._meta.model_name), field.name
    return (owner._meta.app_label, owner._meta.model_name), ""


def _flatten(operations: List[Any], database: bool = False) -> List[Any]:
    """Operations, with SeparateDatabaseAndState opened (its state or database side)."""
    flat: List[Any] = []
    for operation in operations:
        if isinstance(operation, ops.SeparateDatabaseAndState):
            inner = operation.database_operations if database else operation.state_operations
            flat.extend(_flatten(list(inner), database))
        else:
            flat.append(operation)
    return flat


def applied_changes(
    loader: MigrationLoader, applied: Set[Key]
) -> Tuple[Touched, Dict[Tuple[str, str], Key]]:
    """What the *recorded* migrations did, model by model, and who created each model.

    ``loader.project_state(applied)`` also contains the unapplied ancestors of applied
    migrations (an inconsistent history, a swapped user model), whose tables nobody
    recorded as created; only what an applied migration created or changed is expected.
    """
    touched: Touched = {}
    creators: Dict[Tuple[str, str], Key] = {}
    fields_of: Dict[Tuple[str, str], Set[str]] = {}
    for key in _full_plan(loader):
        migration = loader.graph.nodes[key]
        done = key in applied
        for operation in _flatten(list(migration.operations)):
            app = key[0]
            if isinstance(operation, ops.CreateModel):
                model = (app, operation.name_lower)
                names = {name for name, _ in operation.fields}
                fields_of[model] = set(names)
                creators.setdefault(model, key)
                for name, field in operation.fields:
                    if getattr(field, "many_to_many", False):
                        creators.setdefault((app, "%s_%s" % (model[1], name.lower())), key)
                if done:
                    touched.setdefault(model, set()).update(names)
            elif isinstance(operation, ops.RenameModel):
                old, new = (app, operation.old_name_lower), (app, operation.new_name_lower)
                fields_of[new] = fields_of.pop(old, set())
                if old in creators:
                    creators[new] = creators[old]
                if old in touched:
                    touched[new] = touched.pop(old)
                if done:
                    touched.setdefault(new, set()).update(fields_of[new])
            elif isinstance(operation, ops.DeleteModel):
                model = (app, operation.name_lower)
                fields_of.pop(model, None)
                touched.pop(model, None)
            elif isinstance(operation, ops.RenameField):
                model = (app, operation.model_name_lower)
                names = fields_of.setdefault(model, set())
                names.discard(operation.old_name)
                names.add(operation.new_name)
                if model in touched and operation.old_name in touched[model]:
                    touched[model].discard(operation.old_name)
                    touched[model].add(operation.new_name)
                if done:
                    touched.setdefault(model, set()).add(operation.new_name)
            elif isinstance(operation, ops.RemoveField):
                model = (app, operation.model_name_lower)
                fields_of.setdefault(model, set()).discard(operation.name)
                touched.get(model, set()).discard(operation.name)
                if done:
                    touched.setdefault(model, set())
            elif isinstance(operation, (ops.AddField, ops.AlterField)):
                model = (app, operation.model_name_lower)
                if isinstance(operation, ops.AddField) and operation.field.many_to_many:
                    creators.setdefault((app, "%s_%s" % (model[1], operation.name_lower)), key)
                fields_of.setdefault(model, set()).add(operation.name)
                if done:
                    touched.setdefault(model, set()).add(operation.name)
            elif done and isinstance(operation, (ops.AlterModelTable,)):
                model = (app, operation.name_lower)
                touched.setdefault(model, set())
    return touched, creators


def _full_plan(loader: MigrationLoader) -> List[Key]:
    plan: List[Key] = []
    seen: Set[Key] = set()
    for leaf in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(key)
    return plan


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
        self._descriptions: Dict[str, List[Any]] = {}

    def has_table(self, table: str) -> bool:
        return self.fold(table) in self.tables

    def description(self, table: str) -> List[Any]:
        key = self.fold(table)
        if key not in self._descriptions:
            with self.connection.cursor() as cursor:
                self._descriptions[key] = list(
                    self.connection.introspection.get_table_description(
                        cursor, self.tables[key]))
        return self._descriptions[key]

    def columns(self, table: str) -> Set[str]:
        key = self.fold(table)
        if key not in self._columns:
            self._columns[key] = {self.fold(col.name) for col in self.description(table)}
        return self._columns[key]

    def differences(self, table: str, shape: Optional["Shape"],
                    only: Optional[List[str]] = None) -> List[str]:
        """How the existing *table* differs from *shape*, in words; [] when it matches.

        Column names always; NULL-ness (not for primary keys: SQLite reports
        ``integer PRIMARY KEY`` as nullable) and a coarse type family where the
        backend's introspection names a field type.
        """
        if shape is None:
            return []
        wanted = {self.fold(name): spec for name, spec in shape.items()}
        actual = {self.fold(col.name): col for col in self.description(table)}
        names = [self.fold(n) for n in only] if only is not None else sorted(wanted)
        found: List[str] = []
        for name in names:
            if name not in wanted:
                continue
            kind, null, primary_key, _ = wanted[name]
            column = actual.get(name)
            if column is None:
                found.append("column %s is missing (the migration creates it)" % name)
                continue
            null_ok = getattr(column, "null_ok", None)
            if not primary_key and null_ok is not None and bool(null_ok) != null:
                found.append(
                    "column %s is %s in the database but %s in the migration" % (
                        name, "NULL" if null_ok else "NOT NULL", "NULL" if null else "NOT NULL"))
            existing = family(self._field_type(column))
            if kind and existing and kind != existing:
                found.append("column %s is %s in the database but %s in the migration" % (
                    name, existing, kind))
        if only is None:
            for name in sorted(set(actual) - set(wanted)):
                column = actual[name]
                null_ok = getattr(column, "null_ok", None)
                if null_ok is not None and not null_ok and getattr(column, "default", None) is None:
                    found.append("extra column %s is NOT NULL without a default (not in the "
                                 "migration: inserts through Django would fail)" % name)
        return found

    def _field_type(self, column: Any) -> Optional[str]:
        try:
            return str(self.connection.introspection.get_field_type(column.type_code, column))
        except Exception:
            return None

    def has_column(self, table: str, column: str) -> bool:
        return self.has_table(table) and self.fold(column) in self.columns(table)


def missing_schema(expected: Tables, schema: DatabaseSchema,
                   creators: Optional[Dict[Tuple[str, str], Key]] = None) -> List[Finding]:
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
                evidence={"table": table, "model": model,
                          "created_by": _creator(model, creators or {})},
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


def _creator(model: str, creators: Dict[Tuple[str, str], Key]) -> Optional[str]:
    """The migration whose CreateModel made *model*'s table (for M2M tables, the owner's)."""
    app, _, name = model.partition(".")
    found = creators.get((app, name.lower()))
    return label(found) if found else None


def walk_plan(
    loader: MigrationLoader,
    applied_state: ProjectState,
    plan: List[Key],
    on_operation: Optional[Callable[[Key, Any, ProjectState, ProjectState], None]] = None,
    states: Optional[Dict[Key, ProjectState]] = None,
    created: Optional[Dict[Key, Set[str]]] = None,
) -> Dict[Key, Tables]:
    """Step through the unapplied plan; return what each migration adds to the schema.

    Besides what is new in the state, a migration adds what its own CreateModel/AddField
    operations name: with an inconsistent history the applied state already holds an
    unapplied ancestor's models, but running that ancestor would still create them.
    """
    migrated = set(loader.migrated_apps)
    state = applied_state
    before = tables_of(state, migrated)
    added: Dict[Key, Tables] = {}
    for key in plan:
        migration = loader.graph.nodes[key]
        for operation in migration.operations:
            after = state.clone()
            try:
                operation.state_forwards(key[0], after)
            except Exception:  # an operation on a model the state lacks: skip, keep going
                continue
            if on_operation is not None:
                on_operation(key, operation, state, after)
            state = after
        tables = tables_of(state, migrated)
        added[key] = {
            table: (model, columns - before.get(table, ("", set()))[1])
            for table, (model, columns) in tables.items()
            if table not in before or columns - before[table][1]
        }
        new = {table for table in tables if table not in before}
        for table, (model, columns, creates) in _declared(key, migration, state, migrated).items():
            known = added[key].setdefault(table, (model, set()))
            known[1].update(columns)
            if creates:
                new.add(table)
        if states is not None:
            states[key] = state
        if created is not None:
            created[key] = new
        before = tables
    return added


def _declared(key: Key, migration: Any, state: ProjectState,
              migrated: Set[str]) -> Dict[str, Tuple[str, Set[str], bool]]:
    """Tables and columns the migration's own database operations create (and if the table)."""
    declared: Dict[str, Tuple[str, Set[str], bool]] = {}
    for operation in _flatten(list(migration.operations), database=True):
        try:
            if isinstance(operation, ops.CreateModel):
                model = state.apps.get_model(key[0], operation.name)
                meta = model._meta
                if meta.app_label not in migrated or not meta.managed or meta.proxy:
                    continue
                declared[meta.db_table] = (
                    meta.label, {f.column for f in meta.local_concrete_fields if f.column}, True)
                for field in meta.local_many_to_many:
                    through = field.remote_field.through
                    if through._meta.auto_created:
                        declared[through._meta.db_table] = (
                            through._meta.label,
                            {f.column for f in through._meta.local_concrete_fields}, True)
            elif isinstance(operation, ops.AddField):
                model = state.apps.get_model(key[0], operation.model_name)
                meta = model._meta
                if meta.app_label not in migrated or not meta.managed or meta.proxy:
                    continue
                field = meta.get_field(operation.name)
                if field.many_to_many:
                    through = field.remote_field.through
                    if through._meta.auto_created:
                        declared[through._meta.db_table] = (
                            through._meta.label,
                            {f.column for f in through._meta.local_concrete_fields}, True)
                elif field.column:
                    entry = declared.setdefault(meta.db_table, (meta.label, set(), False))
                    entry[1].add(field.column)
        except (LookupError, AttributeError):  # renamed or removed later in the migration
            continue
    return declared


def unrecorded_schema(added: Dict[Key, Tables], schema: DatabaseSchema,
                      expected: Tables, models: Optional[Dict[Key, ProjectState]] = None,
                      created: Optional[Dict[Key, Set[str]]] = None) -> List[Finding]:
    """Tables/columns already present that an unapplied migration would create.

    ``evidence["differences"]`` says how the existing table or column differs from what
    the migration would create (empty: it matches), so ``--fake`` can be refused.
    """
    findings = []
    models = models or {}
    for key, tables in added.items():
        for table in sorted(tables):
            model, columns = tables[table]
            creates = table not in expected or table in (created or {}).get(key, set())
            if creates and schema.has_table(table):
                shape = _shape(models.get(key), model, schema.connection)
                findings.append(Finding(
                    code="schema.table_exists_unrecorded",
                    severity="error",
                    app=key[0],
                    migrations=[label(key)],
                    message="table %s already exists, but no applied migration creates it; "
                    "%s would create it and fail" % (table, label(key)),
                    evidence={"table": table, "model": model, "created_by": label(key),
                              "differences": schema.differences(table, shape)},
                ))
            elif not creates:
                shape = None
                for column in sorted(columns):
                    if schema.has_column(table, column):
                        if shape is None:
                            shape = _shape(models.get(key), model, schema.connection) or {}
                        wanted = {column: shape[column]} if column in shape else None
                        findings.append(Finding(
                            code="schema.column_exists_unrecorded",
                            severity="error",
                            app=key[0],
                            migrations=[label(key)],
                            message="column %s.%s already exists, but no applied migration "
                            "adds it; %s would add it and fail" % (table, column, label(key)),
                            evidence={"table": table, "column": column, "model": model,
                                      "added_by": label(key),
                                      "differences": schema.differences(
                                          table, wanted, only=[column])},
                        ))
    return findings


#: column -> (coarse type family or None, nullable, primary key, has a default)
Shape = Dict[str, Tuple[Optional[str], bool, bool, bool]]

#: Django field types (internal or introspected) -> a family safe to compare across backends.
FAMILIES = (
    ("integer", ("AutoField", "IntegerField", "BooleanField")),
    ("text", ("CharField", "TextField", "SlugField", "EmailField", "URLField",
              "FilePathField", "FileField", "ImageField", "GenericIPAddressField")),
    ("number", ("DecimalField", "FloatField")),
    ("date/time", ("DateTimeField", "DateField", "TimeField")),
    ("binary", ("BinaryField",)),
)


def family(field_type: Optional[str]) -> Optional[str]:
    """A coarse family for a Django field type; None when a comparison would be a guess."""
    if not field_type:
        return None
    for name, members in FAMILIES:
        if any(field_type == m or field_type.endswith(m) for m in members):
            return name
    return None


def _internal_type(field: Any) -> Optional[str]:
    target = field
    while getattr(target, "remote_field", None) is not None and target.is_relation:
        target = target.target_field
    try:
        return str(target.get_internal_type())
    except Exception:
        return None


def _shape(state: Optional[ProjectState], model_label: str, connection: Any) -> Optional[Shape]:
    """The columns the migration would create for *model_label*, in the state after it."""
    if state is None:
        return None
    try:
        model = state.apps.get_model(model_label)
    except (LookupError, ValueError):
        return None
    shape: Shape = {}
    for field in model._meta.local_concrete_fields:
        if not field.column:
            continue
        try:
            if field.db_type(connection) is None:
                continue
        except Exception:
            pass
        shape[field.column] = (family(_internal_type(field)), bool(field.null),
                               bool(field.primary_key), field.has_default())
    return shape

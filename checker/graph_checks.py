"""The migration graph and the recorded history, through Django's own loader.

Django stops at the first problem (one ``NodeNotFoundError``, one inconsistent pair);
these checks list every one, and work around a dangling dependency in memory so the
remaining checks still run. Probe module: Python 3.8, standard library + Django.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from django.conf import settings
from django.db.migrations.exceptions import CircularDependencyError, NodeNotFoundError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from .findings import Finding

Key = Tuple[str, str]


def label(key: Key) -> str:
    return "%s.%s" % key


class LoadResult:
    """A loader (or None when the graph could not be built) and what went wrong."""

    def __init__(self, loader: Optional[MigrationLoader], findings: List[Finding],
                 broken_apps: Optional[Set[str]] = None) -> None:
        self.loader = loader
        self.findings = findings
        #: apps whose migrations the graph lacks (a squash Django cannot use, its
        #: replaced files gone): their model state is unknown, not empty
        self.broken_apps = broken_apps or set()


def load_graph(connection: Any) -> LoadResult:
    """Build the graph; on dangling dependencies, report each and rebuild without them."""
    try:
        return LoadResult(MigrationLoader(connection, ignore_no_migrations=True), [])
    except NodeNotFoundError:
        pass
    except CircularDependencyError as exc:
        return LoadResult(None, [_circular(exc)])
    probe = _DiskOnlyLoader(None, load=False, ignore_no_migrations=True)
    probe.load_disk()
    applied = recorded(connection)[1] if connection is not None else set()
    unusable = unusable_squashes(probe.disk_migrations, applied)
    dangling = dangling_dependencies(probe.disk_migrations, probe.unmigrated_apps, unusable)
    findings = [_not_found(key, missing, unusable) for key, missing in dangling]
    pruned = _DiskOnlyLoader.pruning(_substitutes(dangling, probe.disk_migrations, unusable))
    broken = {key[0] for key in unusable}
    try:
        return LoadResult(pruned(connection, ignore_no_migrations=True), findings, broken)
    except CircularDependencyError as exc:
        return LoadResult(None, findings + [_circular(exc)])
    except NodeNotFoundError:
        return LoadResult(None, findings)


def _not_found(key: Key, missing: Key, unusable: Dict[Key, List[Key]]) -> Finding:
    squashes = unusable.get(missing)
    if squashes:  # Django's own wording (#23556)
        message = (
            "Migration %s depends on nonexistent node %r. Django tried to replace migration "
            "%s with any of [%s] but wasn't able to because some of the replaced migrations "
            "are already applied." % (label(key), missing, label(missing),
                                      ", ".join(label(s) for s in squashes)))
    else:
        message = "Migration %s dependencies reference nonexistent parent node %r" % (
            label(key), missing)
    evidence: Dict[str, Any] = {"migration": label(key), "missing": label(missing)}
    if squashes:
        evidence["squashed_by"] = [label(s) for s in squashes]
    return Finding(
        code="graph.node_not_found",
        severity="error",
        app=key[0],
        migrations=[label(key), label(missing)],
        message=message,
        evidence=evidence,
    )


def unusable_squashes(disk: Dict[Key, Any], applied: Set[Key]) -> Dict[Key, List[Key]]:
    """Replaced migrations with no file whose squash Django cannot use (partly applied).

    Django then drops the squash from the graph, so a dependency on the replaced name
    points at nothing: replaced key -> the squashes that would have stood in for it.
    """
    unusable: Dict[Key, List[Key]] = {}
    for key in sorted(disk):
        replaces = [tuple(r) for r in (getattr(disk[key], "replaces", None) or [])]
        done = [r for r in replaces if r in applied]
        if done and len(done) < len(replaces):
            for replaced in replaces:
                if replaced not in disk:
                    unusable.setdefault(replaced, []).append(key)  # type: ignore[arg-type]
    return unusable


def _substitutes(dangling: List[Tuple[Key, Key]], disk: Dict[Key, Any],
                 unusable: Dict[Key, List[Key]]) -> List[Tuple[Key, Key, Optional[Key]]]:
    """Each dropped dependency and, within one app, the nearest earlier migration instead.

    Dropping ``0003 -> 0002`` (file deleted) alone would leave 0001 and 0003 as two leaves:
    an invented conflict. Pointing 0003 at the latest earlier migration keeps one chain.
    """
    result: List[Tuple[Key, Key, Optional[Key]]] = []
    for key, missing in dangling:
        substitute = None
        if missing[0] == key[0] and missing not in unusable and not missing[1].startswith("__"):
            earlier = [
                k for k in disk
                if k[0] == key[0] and k[1] < missing[1] and k[1] < key[1]
                and not getattr(disk[k], "replaces", None)
            ]
            substitute = max(earlier) if earlier else None
        result.append((key, missing, substitute))
    return result


class _DiskOnlyLoader(MigrationLoader):
    """A loader that drops (or re-points) named dependencies in memory after reading files."""

    drop: List[Tuple[Key, Key, Optional[Key]]] = []

    @classmethod
    def pruning(cls, drop: List[Tuple[Key, Key, Optional[Key]]]) -> type:
        return type("PrunedLoader", (cls,), {"drop": list(drop)})

    def load_disk(self) -> None:
        super().load_disk()
        for key, missing, substitute in self.drop:
            migration = self.disk_migrations.get(key)
            if migration is not None:
                dependencies = [d for d in migration.dependencies if tuple(d) != missing]
                if substitute is not None and substitute not in map(tuple, dependencies):
                    dependencies.append(substitute)
                migration.dependencies = dependencies
                migration.run_before = [d for d in migration.run_before if tuple(d) != missing]


def dangling_dependencies(disk: Dict[Key, Any], unmigrated: Set[str],
                          unusable: Optional[Dict[Key, List[Key]]] = None
                          ) -> List[Tuple[Key, Key]]:
    nodes = set(disk)
    replaced = {tuple(r) for m in disk.values() for r in (getattr(m, "replaces", None) or [])}
    replaced -= set(unusable or {})
    apps_with_migrations = {app for app, _ in nodes}
    dangling = []
    for key in sorted(disk):
        for dep in list(disk[key].dependencies) + list(disk[key].run_before):
            app, name = dep[0], dep[1]
            if app == "__setting__":
                continue
            if name in ("__first__", "__latest__"):
                if app not in apps_with_migrations and app not in unmigrated:
                    dangling.append((key, (app, name)))
            elif (app, name) not in nodes and (app, name) not in replaced:
                dangling.append((key, (app, name)))
    return dangling


def _circular(exc: CircularDependencyError) -> Finding:
    nodes = [part.strip() for part in str(exc).split(",") if part.strip()]
    return Finding(
        code="graph.circular",
        severity="error",
        app=nodes[0].split(".")[0] if nodes else None,
        migrations=nodes,
        message="CircularDependencyError: %s" % exc,
        evidence={"cycle": nodes},
    )


def conflicts(loader: MigrationLoader) -> List[Finding]:
    return [
        Finding(
            code="graph.conflict",
            severity="error",
            app=app,
            migrations=["%s.%s" % (app, name) for name in sorted(names)],
            message="Conflicting migrations detected; multiple leaf nodes in the migration "
            "graph: (%s in %s)" % (", ".join(sorted(names)), app),
            evidence={"leaves": sorted(names)},
        )
        for app, names in sorted(loader.detect_conflicts().items())
    ]


def recorded(connection: Any) -> Tuple[bool, Set[Key]]:
    """(django_migrations exists, rows as recorded) straight from the recorder."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False, set()
    return True, set(recorder.applied_migrations())


def inconsistent_history(loader: MigrationLoader, applied: Set[Key], alias: str) -> List[Finding]:
    """Every applied migration with an unapplied dependency (Django raises on the first)."""
    user_app = settings.AUTH_USER_MODEL.split(".")[0]
    findings = []
    for key in sorted(applied):
        if key not in loader.graph.nodes:
            continue
        for parent in sorted(loader.graph.node_map[key].parents, key=lambda n: n.key):
            parent_key = parent.key
            if parent_key in applied:
                continue
            squash = loader.replacements.get(parent_key)
            if squash is not None and all(tuple(r) in applied for r in squash.replaces):
                continue
            swapped = parent_key[0] == user_app and parent_key[0] != "auth"
            findings.append(Finding(
                code="history.user_model_swapped" if swapped else "history.inconsistent",
                severity="error",
                app=key[0],
                migrations=[label(key), label(parent_key)],
                message="Migration %s is applied before its dependency %s on database '%s'." % (
                    label(key), label(parent_key), alias),
                evidence=dict(
                    {"applied": label(key), "dependency": label(parent_key), "database": alias},
                    **({"auth_user_model": settings.AUTH_USER_MODEL} if swapped else {}),
                ),
            ))
    return findings


def missing_on_disk(loader: MigrationLoader, applied: Set[Key]) -> List[Finding]:
    """Applied rows of installed, migrated apps whose file is gone (and not squashed away)."""
    replaced = {tuple(r) for m in loader.replacements.values() for r in m.replaces}
    findings = []
    for key in sorted(applied):
        if key[0] not in loader.migrated_apps or key in loader.disk_migrations or key in replaced:
            continue
        findings.append(Finding(
            code="history.missing_on_disk",
            severity="warning",
            app=key[0],
            migrations=[label(key)],
            message="%s is recorded as applied but its file no longer exists" % label(key),
            evidence={"migration": label(key)},
        ))
    return findings


def unapplied_plan(loader: MigrationLoader, applied: Set[Key]) -> List[Key]:
    """Unapplied migrations in the order ``migrate`` would run them."""
    plan: List[Key] = []
    seen: Set[Key] = set()
    effective = set(applied) | set(loader.applied_migrations or {})
    for target in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(target):
            if key not in effective and key not in seen:
                seen.add(key)
                plan.append(key)
    return plan


def plan_finding(plan: List[Key]) -> List[Finding]:
    if not plan:
        return []
    apps = sorted({app for app, _ in plan})
    return [Finding(
        code="plan.unapplied",
        severity="warning",
        migrations=[label(key) for key in plan],
        message="You have %d unapplied migration(s) for app(s): %s" % (len(plan), ", ".join(apps)),
        evidence={"count": len(plan), "apps": apps},
    )]


def partial_squashes(loader: MigrationLoader, applied: Set[Key]) -> List[Finding]:
    findings = []
    for key, migration in sorted(loader.replacements.items()):
        replaces = [tuple(r) for r in migration.replaces]
        done = [r for r in replaces if r in applied]
        if done and len(done) < len(replaces):
            findings.append(Finding(
                code="history.squash_partial",
                severity="warning",
                app=key[0],
                migrations=[label(key)],
                message="Squashed migration %s is partly applied (%d of %d replaced)" % (
                    label(key), len(done), len(replaces)),
                evidence={
                    "applied": [label(r) for r in done],
                    "unapplied": [label(r) for r in replaces if r not in applied],
                },
            ))
    return findings


def duplicate_rows(connection: Any) -> List[Finding]:
    table = connection.ops.quote_name(MigrationRecorder.Migration._meta.db_table)
    query = "SELECT app, name, COUNT(*) FROM %s GROUP BY app, name HAVING COUNT(*) > 1" % table
    with connection.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall()
    return [
        Finding(
            code="history.duplicate_rows",
            severity="warning",
            app=app,
            migrations=["%s.%s" % (app, name)],
            message="%s.%s is recorded %d times in django_migrations" % (app, name, count),
            evidence={"rows": int(count), "query": query},
        )
        for app, name, count in sorted(rows)
    ]

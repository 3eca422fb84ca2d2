"""Compose an Answer from a playbook, the signals and the checker's findings.

A playbook is written with placeholders (``<app>``, ``<migration>``); people copy the
commands, so every name that is known gets filled in and every one that is not is named
in the step ("fill in <migration>"). Steps that the known Django version or backend rule
out are dropped, and a route is chosen from the findings when there are any.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from migfix.checker.findings import Finding
from migfix.indexer.playbook import BACKENDS, PLACEHOLDER_RE, FixStep, Playbook, Route
from migfix.server.answer import Answer, PlaybookRef, Step
from migfix.server.match import Candidate
from migfix.server.parse import Parsed

PLACEHOLDER_HELP = {
    "app": "the app label",
    "migration": "the migration's name, e.g. 0003_order_note",
    "dependency_app": "the app of the missing dependency",
    "dependency": "the dependency migration's name",
    "previous": "the last migration before the one in question",
    "merged": "the merge migration's name",
    "table": "the table name",
    "column": "the column name",
    "model": "the model's class name, e.g. Order",
    "field": "the field name",
    "constraint": "the constraint name",
    "database": "the database's NAME in settings.DATABASES, not its alias",
    "database_alias": "the database alias, a key of settings.DATABASES such as default",
    "settings": "your settings module",
    "squashed": "the squashed migration's name",
    "user_app": "the app that defines the custom user model",
}
_BOUND = re.compile(r"^django\s*(>=|<=|<|>)\s*(\d+)\.(\d+)$")
#: What a placeholder stands for depends on where it is written. ``--database=<database>``
#: is a manage.py alias; anywhere else (``pg_dump <database>``, ``createdb <database>``,
#: ``GRANT ... ON <database>.*``) it is the database's name.
_ALIAS_BEFORE = re.compile(r"--database[= ]$")
#: Migration operations write models in lower case without the app (``model_name="order"``),
#: and lazy references as the lower-cased label (``to="orders.order"``).
_LOWER_MODEL_BEFORE = re.compile(r"""(?:\bmodel_name\s*=\s*|\bto\s*=\s*)["'](?:[\w<>]+\.)?$""")
#: A paste names the alias in "... on database 'default'"; other quoted database names in
#: messages (MySQL's "Table 'shop.orders_order'") are the database's name.
_ALIAS_IN_MESSAGE = "database '{}'"


@dataclass(frozen=True)
class RouteChoice:
    route: Route
    reason: str
    others: tuple[str, ...]


def route_score(route: Route, codes: set[str]) -> tuple[bool, int]:
    """How well the findings' codes confirm *route*: every listed code present, then how many."""
    listed = set(route.confirmed_by)
    hits = len(codes & listed)
    return hits > 0 and listed <= codes, hits


def choose_route(
    playbook: Playbook,
    findings: list[Finding],
    *,
    avoid: Callable[[Route], bool] | None = None,
) -> RouteChoice | None:
    """The route the findings confirm best; ties (and no findings) go by playbook order.

    More confirming findings win: a route confirmed by ``history.inconsistent`` *and* a
    schema finding beats one that only shares the generic ``history.inconsistent``. Between
    equals, a route whose codes are all present wins; *avoid* (e.g. a dev-only reset) only
    breaks ties between equally confirmed routes.
    """
    if not playbook.routes:
        return None
    codes = {f.code for f in findings}

    def key(route: Route) -> tuple[int, bool, bool]:
        complete, hits = route_score(route, codes)
        return hits, complete, not (avoid and avoid(route))

    chosen = max(playbook.routes, key=key)  # max() keeps the first of equals: playbook order
    confirmed = route_score(chosen, codes)[1] > 0
    reason = "confirmed by the checker's findings" if confirmed else "the most common cause"
    others = tuple(r.title for r in playbook.routes if r is not chosen and r.title)
    return RouteChoice(chosen, reason, others)


def placeholder_values(
    candidate: Candidate,
    parsed: Parsed,
    findings: list[Finding],
    report: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Names for the placeholders: the signature's groups, then findings, then parsed names.

    ``database`` is the database's name and ``database_alias`` its alias; the checker's
    report knows both for the project (``database``, ``database_name``), a paste says the
    alias in "on database 'default'".
    """
    values: dict[str, str] = {}

    def put(name: str, value: str | None) -> None:
        if value and name not in values:
            values[name] = value

    report = report or {}
    put("database", _str(report.get("database_name")))
    put("database_alias", _str(report.get("database")))
    for name, value in candidate.groups.items():
        if name == "database" and value and _ALIAS_IN_MESSAGE.format(value) in parsed.text:
            name = "database_alias"
        put(name, value)
    for finding in findings:
        put("database", _str(finding.evidence.get("database_name")))
        put("database_alias", _str(finding.evidence.get("alias")))
    for finding in findings:
        put("app", finding.app)
        if finding.migrations:
            put("migration", finding.migrations[0].rpartition(".")[2])
        for key in (
            "table",
            "column",
            "constraint",
            "model",
            "field",
            "dependency_app",
            "dependency",
        ):
            value = finding.evidence.get(key)
            put(key, value if isinstance(value, str) else None)
    if parsed.failing_migration:
        app, _, migration = parsed.failing_migration.partition(".")
        put("app", app)
        put("migration", migration)
    put("app", parsed.apps[0] if parsed.apps else None)
    put("migration", parsed.migrations[0] if parsed.migrations else None)
    put("table", parsed.tables[0] if parsed.tables else None)
    put("column", parsed.columns[0] if parsed.columns else None)
    put("constraint", parsed.constraints[0] if parsed.constraints else None)
    put("model", parsed.models[0] if parsed.models else None)
    # A migration name must not carry its app prefix inside "<app>/migrations/<migration>.py".
    if "." in values.get("migration", ""):
        app, _, migration = values["migration"].rpartition(".")
        put("app", app)
        values["migration"] = migration
    # Findings name models by label ("orders.Order"); <model> is the class name.
    if "." in values.get("model", ""):
        app, _, model = values["model"].rpartition(".")
        put("app", app)
        values["model"] = model
    return values


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def placeholder_key(text: str, match: re.Match[str]) -> str:
    """Which value a placeholder needs where it is written (``<database>``: name or alias)."""
    name = match.group(1)
    if name == "database" and _ALIAS_BEFORE.search(text, 0, match.start()):
        return "database_alias"
    return name


def fill_value(text: str, match: re.Match[str], key: str, value: str) -> str:
    """*value* as the command at *match* expects it."""
    if key == "model":
        value = value.rpartition(".")[2]
        if _LOWER_MODEL_BEFORE.search(text, 0, match.start()):
            value = value.lower()
    return value


def fill(text: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace known placeholders; return the text and the names still to fill in.

    ``database_alias`` in the missing list is written ``<database>`` in the text.
    """
    missing: list[str] = []

    def sub(match: re.Match[str]) -> str:
        key = placeholder_key(text, match)
        if key in values:
            return fill_value(text, match, key, values[key])
        if key in PLACEHOLDER_HELP and key not in missing:
            missing.append(key)
        return match.group(0)

    return PLACEHOLDER_RE.sub(sub, text), missing


def fill_note(missing: list[str]) -> str:
    """The note naming each placeholder no one knows, and what belongs there."""
    parts = [f"<{_LABEL.get(m, m)}>: {PLACEHOLDER_HELP[m]}" for m in missing]
    return " (Fill in " + "; ".join(parts) + ".)"


_LABEL = {"database_alias": "database"}


def step_applies(step: FixStep, django_version: str | None, backend: str | None) -> bool:
    """False when the known Django version or backend rules the step out."""
    backends = [c for c in step.applies_when if c in BACKENDS]
    if backend and backends and backend not in backends:
        return False
    if django_version:
        version = tuple(int(p) for p in django_version.split(".")[:2])
        for condition in step.applies_when:
            bound = _BOUND.match(condition.replace(" ", ""))
            if bound and not _satisfies(
                version, bound.group(1), (int(bound.group(2)), int(bound.group(3)))
            ):
                return False
    return True


def _satisfies(version: tuple[int, ...], op: str, bound: tuple[int, int]) -> bool:
    return {
        ">=": version >= bound,
        ">": version > bound,
        "<": version < bound,
        "<=": version <= bound,
    }[op]


def compose_steps(route: Route, values: dict[str, str], parsed: Parsed) -> list[Step]:
    kept = [s for s in route.steps if step_applies(s, parsed.django_version, parsed.backend)]
    # Dropping a step must never leave a destructive one first: then keep them all.
    if kept and kept[0].risk == "destructive":
        kept = list(route.steps)
    steps = []
    for n, step in enumerate(kept, start=1):
        text, missing = fill(step.text, values)
        command, missing_cmd = fill(step.command, values) if step.command else (None, [])
        for name in missing_cmd:
            if name not in missing:
                missing.append(name)
        if missing:
            text += fill_note(missing)
        steps.append(
            Step(
                n=n,
                risk=step.risk or "caution",
                text=" ".join(text.split()),
                command=command,
                applies_when=step.applies_when,
                precondition=fill(step.precondition, values)[0] if step.precondition else None,
            )
        )
    return steps


def compose(
    playbook: Playbook,
    candidate: Candidate,
    parsed: Parsed,
    *,
    alternatives: list[PlaybookRef],
    findings: list[Finding] | None = None,
    message: str = "",
    report: Mapping[str, Any] | None = None,
    avoid: Callable[[Route], bool] | None = None,
) -> Answer:
    """*report* is the checker's report as a dict (its alias and, when known, the name)."""
    findings = findings or []
    values = placeholder_values(candidate, parsed, findings, report)
    choice = choose_route(playbook, findings, avoid=avoid)
    steps = compose_steps(choice.route, values, parsed) if choice else []
    verify_section = playbook.section("Verify")
    verify = (
        [fill(block.rstrip("\n"), values)[0] for block in verify_section.code_blocks]
        if verify_section
        else []
    )
    related = [f for f in findings if f.playbook == playbook.id]
    other = [f for f in findings if f.playbook != playbook.id]
    signals: dict[str, Any] = parsed.signals()
    signals["placeholders"] = values or None
    signals = {k: v for k, v in signals.items() if v is not None}
    return Answer(
        status="matched",
        playbook=PlaybookRef(playbook.id, playbook.title, candidate.confidence),
        summary=playbook.summary,
        message=message,
        alternatives=alternatives,
        signals=signals,
        findings=[f.to_dict() for f in related],
        other_findings=[f.to_dict() for f in other],
        cause=choice.route.title if choice else None,
        other_causes=list(choice.others) if choice else [],
        steps=steps,
        verify=verify,
        sources=sources(playbook),
    )


def sources(playbook: Playbook) -> list[str]:
    """One entry per bullet of ``## Sources``, joined across its wrapped lines."""
    section = playbook.section("Sources")
    if section is None:
        return []
    items: list[str] = []
    for line in section.text.split("\n"):
        if re.match(r"^\s*[-*] ", line):
            items.append(line.strip()[2:].strip())
        elif line.strip() and items:
            items[-1] += " " + line.strip()
    return items

"""Compose an Answer from a playbook, the signals and the checker's findings.

A playbook is written with placeholders (``<app>``, ``<migration>``); people copy the
commands, so every name that is known gets filled in and every one that is not is named
in the step ("fill in <migration>"). Steps that the known Django version or backend rule
out are dropped, and a route is chosen from the findings when there are any.
"""

from __future__ import annotations

import re
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
    "model": "the model name",
    "field": "the field name",
    "constraint": "the constraint name",
    "database": "the database alias or name",
    "settings": "your settings module",
    "squashed": "the squashed migration's name",
    "user_app": "the app that defines the custom user model",
}
_BOUND = re.compile(r"^django\s*(>=|<=|<|>)\s*(\d+)\.(\d+)$")


@dataclass(frozen=True)
class RouteChoice:
    route: Route
    reason: str
    others: tuple[str, ...]


def choose_route(playbook: Playbook, findings: list[Finding]) -> RouteChoice | None:
    """The first route confirmed by a finding's code, else the playbook's first route."""
    if not playbook.routes:
        return None
    codes = {f.code for f in findings}
    chosen = next((r for r in playbook.routes if codes & set(r.confirmed_by)), None)
    reason = "confirmed by the checker's findings" if chosen else "the most common cause"
    chosen = chosen or playbook.routes[0]
    others = tuple(r.title for r in playbook.routes if r is not chosen and r.title)
    return RouteChoice(chosen, reason, others)


def placeholder_values(
    candidate: Candidate, parsed: Parsed, findings: list[Finding]
) -> dict[str, str]:
    """Names for the placeholders: the signature's groups, then findings, then parsed names."""
    values: dict[str, str] = {}

    def put(name: str, value: str | None) -> None:
        if value and name not in values:
            values[name] = value

    for name, value in candidate.groups.items():
        put(name, value)
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
    return values


def fill(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """Replace known placeholders; return the text and the names still to fill in."""
    missing: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name in PLACEHOLDER_HELP and name not in missing:
            missing.append(name)
        return match.group(0)

    return PLACEHOLDER_RE.sub(sub, text), missing


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
            text += (
                " (Fill in " + "; ".join(f"<{m}>: {PLACEHOLDER_HELP[m]}" for m in missing) + ".)"
            )
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
) -> Answer:
    findings = findings or []
    values = placeholder_values(candidate, parsed, findings)
    choice = choose_route(playbook, findings)
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

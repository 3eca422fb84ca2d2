"""Answers that know the user's project: the checker's findings meet the explain engine.

A playbook is written for every project; a user has one. Given the project, migfix runs
the read-only checker and uses what it saw to speak about *this* project: real app and
migration names in the commands, the cause the findings confirm, no step that the state
shows to be unnecessary, and no ``--fake`` unless the schema is known to be there.
Without a paste (``migfix doctor``), the findings alone pick the playbooks.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from migfix.checker.findings import Finding
from migfix.indexer.playbook import PLACEHOLDER_RE, Playbook, Route
from migfix.server.answer import Answer, Step
from migfix.server.compose import choose_route, compose, fill
from migfix.server.explain import Engine
from migfix.server.match import Candidate
from migfix.server.parse import parse

#: Finding-code prefixes, most urgent first: nothing runs until the graph loads, the
#: history must be consistent before migrate starts, then schema, data and plain lag.
URGENCY = ("graph.", "history.", "schema.", "data.", "state.", "plan.")
#: Folders under a project that hold no project migrations.
SKIP_DIRS = frozenset({".venv", "venv", "site-packages", "node_modules", ".git"})
SCHEMA_EXISTS = ("schema.table_exists_unrecorded", "schema.column_exists_unrecorded")
#: Commands and SQL that only make sense on one backend.
BACKEND_TOOLS = {
    "postgresql": re.compile(r"^\s*(pg_dump|pg_restore|psql)\b|^\s*\\d"),
    "mysql": re.compile(r"^\s*(mysqldump|mysql)\b|^\s*SHOW CREATE", re.I),
    "sqlite": re.compile(r"^\s*sqlite3\b|^\s*PRAGMA\b", re.I),
}


@dataclass(frozen=True)
class ProjectTarget:
    """Where the user's project is and how to reach its database."""

    path: Path
    settings: str | None = None
    python: str | None = None
    database: str = "default"
    timeout: float = 60.0


@dataclass(frozen=True)
class Gate:
    """A step left out of, or rewritten in, an answer, and the fact that decided it."""

    step: str
    reason: str


@dataclass
class ProjectFacts:
    """What the checker saw: its findings and the database they are about."""

    findings: list[Finding]
    backend: str | None = None
    alias: str = "default"
    root: Path | None = None
    target: ProjectTarget | None = None
    reported_name: str | None = None
    #: The checker's report as a dict (``Report.to_dict()``), for compose.
    report: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def database_name(self) -> str | None:
        """The checker reports it; a report without it (older) makes us ask the project."""
        return database_name(self.target, self.reported_name)


def check(target: ProjectTarget) -> ProjectFacts:
    """Run the checker on the project (read-only); its findings are the project's facts."""
    from migfix.checker import run_check

    report = run_check(
        target.path,
        settings=target.settings,
        python=target.python,
        database=target.database,
        timeout=target.timeout,
    )
    return ProjectFacts(
        findings=list(report.findings),
        backend=report.vendor,
        alias=report.database,
        root=Path(report.project) if report.project else target.path,
        target=target,
        reported_name=report.database_name,
        report=report.to_dict(),
    )


#: Prints the database's NAME from the project's settings: no connection, no password.
_NAME_SCRIPT = (
    "import sys, django; from django.conf import settings; django.setup(); "
    "print(settings.DATABASES[sys.argv[1]].get('NAME') or '')"
)


def database_name(target: ProjectTarget | None, reported: str | None = None) -> str | None:
    """The database's name, for backup commands (``pg_dump <database>``).

    ``Report.database_name`` carries it; only a report without it (an older one) costs
    one more interpreter start to read ``settings.DATABASES[alias]["NAME"]``.
    """
    name = reported or (_ask_name(target) if target is not None else None)
    return Path(name).name if name and "/" in name else (name or None)


def _ask_name(target: ProjectTarget) -> str | None:
    from migfix.checker.discover import find_target

    found = find_target(target.path, settings=target.settings, python=target.python)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=found.settings, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(found.project), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [str(found.python), "-c", _NAME_SCRIPT, target.database],
            cwd=found.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=target.timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    name = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    return name[0] if name else None


def explain_with_project(
    engine: Engine, text: str | bytes | None, target: ProjectTarget
) -> Answer | list[Answer]:
    """One Answer for a paste, or one per error finding (most urgent first) without one."""
    facts = check(target)
    if text is None or not str(text).strip():
        return diagnose(engine, facts)
    answer = engine.explain(text, findings=facts.findings, report=facts.report)
    if answer.status != "matched" or answer.playbook is None:
        return answer
    playbook = engine.playbooks[answer.playbook.id]
    route = preferred_route(playbook, answer, facts) or next(
        (r for r in playbook.routes if r.title == answer.cause), None
    )
    if route is not None:
        answer = recompose(playbook, route, text, answer, facts)
    return tailor(answer, facts)


def preferred_route(playbook: Playbook, answer: Answer, facts: ProjectFacts) -> Route | None:
    """An equally confirmed route that is safer for this project than the one compose chose.

    Two rules, both from the project's state: never ``--fake`` when the checker says the
    schema differs, and treat a route that only applies to a development database (the
    "recreate it" escape hatch) as the last resort, not the default.
    """
    chosen = next((r for r in playbook.routes if r.title == answer.cause), None)
    if chosen is None:
        return None
    differs = any(f.code.startswith("schema.") and _differences(f) for f in facts.findings)

    def unsafe(route: Route) -> bool:
        return differs and any(_fakes(step.command) for step in route.steps)

    def last_resort(route: Route) -> bool:
        return bool(route.steps) and all("dev" in step.applies_when for step in route.steps)

    def avoid(route: Route) -> bool:
        return not route.steps or unsafe(route) or last_resort(route)

    if not (unsafe(chosen) or last_resort(chosen)):
        return None
    choice = choose_route(playbook, facts.findings, avoid=avoid)
    if choice is None or choice.route is chosen or avoid(choice.route):
        return None
    return choice.route


def recompose(
    playbook: Playbook, route: Route, text: str | bytes, answer: Answer, facts: ProjectFacts
) -> Answer:
    """The same answer, composed from *route* (compose picks the first route it is given).

    Compose tells ``<database>`` the name (``pg_dump``) from the alias (``--database=``).
    """
    groups = {k: v for k, v in (answer.signals.get("placeholders") or {}).items() if v}
    ref = answer.playbook
    assert ref is not None
    again = compose(
        replace(playbook, routes=(route,)),
        Candidate(ref.id, ref.confidence, "signature", groups=groups),
        parse(text),
        alternatives=answer.alternatives,
        findings=facts.findings,
        message=answer.message,
        report=facts.report,
    )
    again.other_causes = [r.title for r in playbook.routes if r is not route and r.title]
    again.timings = answer.timings
    return again


def _fakes(command: str | None) -> bool:
    return bool(command) and any(
        "migrate" in words and "--fake" in words
        for words in map(_words, (command or "").splitlines())
    )


def _differences(finding: Finding) -> list[str]:
    """The checker's words for how an existing table or column differs from its migration."""
    return [str(d) for d in finding.evidence.get("differences") or []]


def diagnose(engine: Engine, facts: ProjectFacts) -> list[Answer]:
    """The playbook of each error finding, most urgent first, one Answer per playbook."""
    findings = facts.findings
    errors = sorted(
        (f for f in findings if f.severity == "error" and f.playbook in engine.playbooks),
        key=urgency,
    )
    answers: list[Answer] = []
    seen: set[str] = set()
    for finding in errors:
        playbook_id = finding.playbook or ""
        if playbook_id in seen:
            continue
        seen.add(playbook_id)
        playbook = engine.playbooks[playbook_id]
        candidate = Candidate(playbook_id, 1.0, "checker")
        answer = compose(
            playbook,
            candidate,
            parse(finding.message),
            alternatives=[],
            findings=[finding, *(f for f in findings if f is not finding)],
            message=f"Diagnosed from the checker's finding {finding.code}.",
            report=facts.report,
        )
        route = preferred_route(playbook, answer, facts)
        if route is not None:
            answer = recompose(playbook, route, finding.message, answer, facts)
        answers.append(tailor(answer, facts))
    return answers


def urgency(finding: Finding) -> tuple[int, str]:
    rank = next((i for i, p in enumerate(URGENCY) if finding.code.startswith(p)), len(URGENCY))
    return rank, finding.code


def tailor(answer: Answer, facts: ProjectFacts) -> Answer:
    """Fill names the findings know, then drop or gate steps the project's state rules out."""
    findings = facts.findings
    values = names_from(facts, answer)
    steps: list[Step] = []
    gates: list[Gate] = []
    for original in answer.steps:
        step = fill_step(for_backend(original, facts), values, facts)
        if original.command and step.command is None:
            gates.append(
                Gate(
                    _short(step.text), f"its commands are for another database than {facts.backend}"
                )
            )
            continue
        gate = fake_gate(step, findings)
        if gate is not None:
            gates.append(gate)
            steps.append(
                replace(
                    step, risk="caution", command=None, text=f"Do not run this step: {gate.reason}"
                )
            )
            continue
        gate = unnecessary(step, facts)
        if gate is not None:
            gates.append(gate)
            continue
        steps.append(step)
    answer.steps = [replace(step, n=n) for n, step in enumerate(steps, start=1)]
    answer.verify = [fill_text(block, values) for block in answer.verify]
    notes = [f"Left out '{g.step}': {g.reason}." for g in gates]
    detail = schema_differences(findings)
    if detail and not any(detail in note for note in notes):
        notes.append(f"The existing schema differs from what the migrations expect: {detail}.")
    if notes:
        answer.message = " ".join([answer.message, *notes]).strip()
    return answer


def schema_differences(findings: list[Finding]) -> str:
    """How existing tables and columns differ from what their migrations would create."""
    return "; ".join(
        f"{f.evidence.get('table', '?')}: {', '.join(diffs)}"
        for f in findings
        if f.code.startswith("schema.") and (diffs := _differences(f))
    )


def names_from(facts: ProjectFacts, answer: Answer) -> dict[str, str]:
    """Placeholder values the findings and migration files know about the answer's problem."""
    values: dict[str, str] = {}
    placeholders = answer.signals.get("placeholders") or {}
    values.update({k: v for k, v in placeholders.items() if isinstance(v, str)})
    playbook_id = answer.playbook.id if answer.playbook else None
    related = [f for f in facts.findings if f.playbook == playbook_id] or facts.findings
    for finding in related:
        for key, value in _finding_names(finding).items():
            values.setdefault(key, value)
    if "previous" not in values and facts.root and "app" in values and "migration" in values:
        previous = previous_migration(facts.root, values["app"], values["migration"])
        if previous:
            values["previous"] = previous
    return values


def previous_migration(root: Path, app: str, migration: str) -> str | None:
    """The parent of *migration* in its own app, read from the file (never imported)."""
    for path in root.glob(f"**/{app}/migrations/{migration}.py"):
        if any(part in SKIP_DIRS for part in path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "dependencies" for t in node.targets
            ):
                for dep in getattr(node.value, "elts", []):
                    try:
                        dep_app, name = ast.literal_eval(dep)
                    except (ValueError, TypeError, SyntaxError):
                        continue
                    if dep_app == app:
                        return str(name)
        return None
    return None


def _finding_names(finding: Finding) -> dict[str, str]:
    names: dict[str, str] = {}
    if finding.app:
        names["app"] = finding.app
    if finding.migrations:
        app, _, name = finding.migrations[0].rpartition(".")
        names["migration"] = name
        if app and "app" not in names:
            names["app"] = app
    evidence = finding.evidence
    columns = evidence.get("columns")
    if isinstance(columns, list) and len(columns) == 1 and isinstance(columns[0], str):
        names["column"] = columns[0]
    for key, value in evidence.items():
        if isinstance(value, str) and value and key != "database":  # an alias, not a name
            if key in ("dependency", "previous", "squashed", "merged") and "." in value:
                app, _, value = value.rpartition(".")
                names.setdefault(f"{key}_app" if key == "dependency" else "app", app)
            names.setdefault(key, value)
    user_model = evidence.get("auth_user_model")
    if isinstance(user_model, str) and "." in user_model:
        names.setdefault("user_app", user_model.partition(".")[0])
    if "column" in names and "field" not in names:
        names["field"] = names["column"]  # the same unless db_column or a foreign key's _id
    return names


def fill_text(text: str, values: dict[str, str]) -> str:
    """Replace the placeholders *values* knows (compose's rules); leave the others to see."""
    filled: str = fill(text, values)[0]
    return filled


def for_backend(step: Step, facts: ProjectFacts) -> Step:
    """Keep only the command lines for the project's database (no mysqldump on SQLite)."""
    if not step.command or not facts.backend:
        return step
    lines = [
        line
        for line in step.command.splitlines()
        if next((b for b, tool in BACKEND_TOOLS.items() if tool.match(line)), facts.backend)
        == facts.backend
    ]
    return replace(step, command="\n".join(lines) if any(line.strip() for line in lines) else None)


def fill_step(step: Step, values: dict[str, str], facts: ProjectFacts) -> Step:
    """Fill with the project's alias, and its database name when a command needs it."""
    command = step.command
    values = {**values, "database_alias": facts.alias}
    if command and "database" not in values and "database" in fill(command, values)[1]:
        name = facts.database_name
        if name:
            values["database"] = name
    if command:
        command = fill_text(command, values)
    text = step.text
    if command and not PLACEHOLDER_RE.search(command):
        text = re.sub(r"\s*\(Fill in [^)]*\)\.?$", "", text)
    return replace(step, command=command, text=fill_text(text, values))


def fake_gate(step: Step, findings: list[Finding]) -> Gate | None:
    """Refuse ``migrate --fake`` unless the findings show the schema it records is there."""
    if not step.command:
        return None
    for line in step.command.splitlines():
        words = _words(line)
        if "migrate" not in words or "--fake" not in words:
            continue
        args = [w for w in words[words.index("migrate") + 1 :] if not w.startswith("-")]
        app = args[0] if args else None
        schema = [
            f for f in findings if f.code.startswith("schema.") and (app is None or f.app == app)
        ]
        detail = schema_differences(schema)
        if detail:
            return Gate(
                line.strip(),
                f"the database schema differs from what the migration "
                f"would create ({detail}), so faking it would record a schema that is not there",
            )
        if not schema:
            return Gate(
                line.strip(),
                "the checker found no table or column of "
                f"{app or 'this project'} that this would record as already there",
            )
    return None


def unnecessary(step: Step, facts: ProjectFacts) -> Gate | None:
    """A one-command step the project's state makes pointless (e.g. merging one leaf)."""
    lines = [line for line in (step.command or "").splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    line, words = lines[0].strip(), _words(lines[0])
    for rule in (nothing_to_unapply, nothing_to_merge, fake_initial_cannot_help):
        gate = rule(line, words, facts)
        if gate is not None:
            return gate
    return None


def nothing_to_unapply(line: str, words: list[str], facts: ProjectFacts) -> Gate | None:
    """``migrate <app> <target>`` back, when nothing of the app after *target* is applied."""
    if "migrate" not in words or facts.root is None or any(w.startswith("--") for w in words):
        return None
    args = words[words.index("migrate") + 1 :]
    if len(args) != 2:
        return None
    app, target = args
    unapplied = {m for f in facts.findings if f.code == "plan.unapplied" for m in f.migrations}
    later = [
        f"{app}.{name}"
        for name in app_migrations(facts.root, app)
        if target == "zero" or name.split("_")[0] > target.split("_")[0]
    ]
    if later and all(name in unapplied for name in later):
        return Gate(line, f"no migration of {app} after {target} is applied: nothing to undo")
    return None


def nothing_to_merge(line: str, words: list[str], facts: ProjectFacts) -> Gate | None:
    """``makemigrations --merge <app>`` when the checker sees a single leaf in that app."""
    if "makemigrations" not in words or "--merge" not in words:
        return None
    apps = [w for w in words[words.index("makemigrations") + 1 :] if not w.startswith("-")]
    conflicts = {f.app for f in facts.findings if f.code == "graph.conflict"}
    if apps and not conflicts & set(apps):
        return Gate(line, f"the checker sees one leaf in {apps[0]}: nothing to merge")
    return None


def fake_initial_cannot_help(line: str, words: list[str], facts: ProjectFacts) -> Gate | None:
    """``--fake-initial`` when every migration blocked by existing schema is not initial."""
    if "migrate" not in words or "--fake-initial" not in words:
        return None
    blocked = [b for f in facts.findings if f.code in SCHEMA_EXISTS if (b := _blocked(f))]
    if blocked and not any(b.initial for b in blocked):
        names = ", ".join(b.label for b in blocked)
        return Gate(
            line,
            f"{names} is not an initial migration, so --fake-initial would run it "
            "and fail the same way",
        )
    return None


def app_migrations(root: Path, app: str) -> list[str]:
    """Migration names on disk for *app* (file stems), outside virtualenvs."""
    names: set[str] = set()
    for path in root.glob(f"**/{app}/migrations/[0-9]*.py"):
        if not any(part in SKIP_DIRS for part in path.relative_to(root).parts):
            names.add(path.stem)
    return sorted(names)


@dataclass(frozen=True)
class Blocked:
    """A migration that a schema finding says cannot run, and whether it is initial."""

    label: str
    initial: bool


def _blocked(finding: Finding) -> Blocked | None:
    label = str(
        finding.evidence.get("created_by")
        or finding.evidence.get("added_by")
        or (finding.migrations[0] if finding.migrations else "")
    )
    if not label:
        return None
    initial = finding.evidence.get("initial")
    if not isinstance(initial, bool):  # the checker may not say: Django names them 0001_*
        initial = label.rpartition(".")[2].startswith("0001_")
    return Blocked(label, initial)


def _short(text: str) -> str:
    first = text.split(". ")[0]
    return first if len(first) <= 70 else first[:67] + "..."


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()

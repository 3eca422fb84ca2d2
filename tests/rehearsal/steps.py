"""Follow an Answer's fix steps in a real project, the way a careful developer would.

The rules are the issue's: run ``[safe]`` and ``[caution]`` steps whose ``Applies when``
fits the scenario; run a ``[destructive]`` step only on a development database and only
when the step itself says it applies there; never run a command that still holds a
placeholder; refuse commands a rehearsal cannot run safely.  A step that fails stops
the rehearsal with its output: that is the evidence that the advice is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import django

from migfix.indexer.playbook import BACKENDS, PLACEHOLDER_RE
from migfix.server.answer import Answer, Step

from .project import DjangoProject, Run

ENVIRONMENTS = ("dev", "production", "ci")
#: First words of shell commands a rehearsal may run (in the project's tmp dir only).
SHELL_COMMANDS = frozenset(
    {
        "python",
        "python3",
        "cp",
        "mv",
        "rm",
        "mkdir",
        "git",
        "sqlite3",
        "pg_dump",
        "psql",
        "cat",
        "ls",
        "echo",
        "grep",
        "test",
    }
)
SQL_START = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|ALTER|DROP|CREATE|BEGIN|COMMIT|WITH|PRAGMA|SHOW)\b", re.I
)
#: Shells that wait for a person to type (a step with a heredoc or pipe feeds them).
INTERACTIVE = re.compile(r"manage\.py\s+(dbshell|shell)\s*$")
CODE = re.compile(r"^\s*(from |import |def |class |@|[\w.]+\(|\w+\s*=)")
_BOUND = re.compile(r"^django\s*(>=|<=|<|>)\s*(\d+)\.(\d+)$")
#: Enough "yes" answers for makemigrations' confirmation prompts (``--merge`` asks once).
YES = "y\n" * 8

#: The human part of a step (e.g. "edit the migration"), called before its commands;
#: returns True if the step asked for something it did.
Manual = Callable[[Step], bool]


@dataclass(frozen=True)
class Scenario:
    backend: str
    environment: str = "dev"


@dataclass
class Outcome:
    step: Step
    action: str  # "ran" | "skipped" | "manual" | "prose"
    reason: str = ""
    runs: list[Run] = field(default_factory=list)


@dataclass
class Rehearsal:
    outcomes: list[Outcome] = field(default_factory=list)

    def ran(self) -> list[int]:
        return [o.step.n for o in self.outcomes if o.action in ("ran", "manual")]

    def log(self) -> str:
        return "\n".join(
            f"step {o.step.n} [{o.step.risk}] {o.action}{': ' + o.reason if o.reason else ''}"
            for o in self.outcomes
        )


def applies(step: Step, scenario: Scenario) -> str | None:
    """Why *step* does not apply to *scenario*, or None when it does."""
    words = set(step.applies_when)
    environments = words & set(ENVIRONMENTS)
    if environments and scenario.environment not in environments:
        return f"applies to {', '.join(sorted(environments))} only"
    backends = words & set(BACKENDS)
    if backends and scenario.backend not in backends:
        return f"applies to {', '.join(sorted(backends))} only"
    for word in words:
        bound = _BOUND.match(word)
        if bound and not _version_ok(bound.group(1), (int(bound.group(2)), int(bound.group(3)))):
            return f"needs {word}"
    if step.risk == "destructive" and not (scenario.environment == "dev" and "dev" in words):
        return "destructive and not marked 'Applies when: dev'"
    return None


def _version_ok(op: str, bound: tuple[int, int]) -> bool:
    have: tuple[int, int] = (int(django.VERSION[0]), int(django.VERSION[1]))
    return {
        ">=": have >= bound,
        ">": have > bound,
        "<=": have <= bound,
        "<": have < bound,
    }[op]


def unfilled(answer: Answer) -> list[str]:
    """Placeholders still in the answer's commands (each one fails a rehearsal)."""
    return [
        f"step {step.n}: <{name}>"
        for step in answer.steps
        if step.command
        for name in PLACEHOLDER_RE.findall(step.command)
    ]


def follow(
    answer: Answer, project: DjangoProject, scenario: Scenario, manual: Manual | None = None
) -> Rehearsal:
    """Carry out *answer*'s steps in order; raise AssertionError at the first failure."""
    assert answer.status == "matched", f"no answer to follow: {answer.status} {answer.message}"
    left = unfilled(answer)
    assert not left, f"placeholders left in {answer.playbook and answer.playbook.id}: {left}"
    rehearsal = Rehearsal()
    for step in answer.steps:
        reason = applies(step, scenario)
        if reason:
            rehearsal.outcomes.append(Outcome(step, "skipped", reason))
            continue
        units = _blocks(step.command) if step.command else []
        shell = [u for u in units if not _is_code(u)]
        # The human part first: an edit the text asks for (a code sample, or prose).
        acted = manual(step) if manual else False
        assert acted or len(shell) == len(units), (
            f"step {step.n} asks for a code edit that this rehearsal does not make:\n"
            f"{step.text}\n{step.command}"
        )
        if not shell:
            rehearsal.outcomes.append(Outcome(step, "manual" if acted else "prose"))
            continue
        runs = [_run_block(project, unit) for unit in shell]
        rehearsal.outcomes.append(Outcome(step, "ran", runs=[r for r in runs if r]))
        for run in runs:
            assert run is None or run.returncode == 0, (
                f"step {step.n} of {answer.playbook and answer.playbook.id} failed:\n"
                f"{step.text}\n{run.describe()}\n{rehearsal.log()}"
            )
    return rehearsal


def _blocks(command: str) -> list[tuple[str, str]]:
    """A step's command text as runnable units: ``(kind, text)`` with kind sql/psql/shell.

    Playbooks mix fences in one step (``sqlmigrate`` in sh, then the SQL to compare), so
    consecutive lines of one kind form one unit; a SQL statement runs to its ``;``.
    """
    units: list[tuple[str, str]] = []
    in_sql = False
    for line in command.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "--")):
            continue
        if line.lstrip().startswith("\\"):
            kind = "psql"
        elif in_sql or SQL_START.match(line):
            kind = "sql"
        else:
            kind = "shell"
        in_sql = kind == "sql" and not line.rstrip().endswith(";")
        if units and units[-1][0] == kind and kind != "psql":
            units[-1] = (kind, units[-1][1] + "\n" + line)
        else:
            units.append((kind, line))
    return units


def _is_code(unit: tuple[str, str]) -> bool:
    """A Python sample (``migrations.RunPython(...)``), not a command to run."""
    kind, text = unit
    return kind == "shell" and text.split()[0] not in SHELL_COMMANDS and bool(CODE.match(text))


def _run_block(project: DjangoProject, unit: tuple[str, str]) -> Run | None:
    kind, text = unit
    if kind == "sql":
        project.executescript(text)
        return None
    if kind == "psql":
        assert project.backend == "postgresql", f"a psql command on {project.backend}: {text!r}"
        return project.run(["psql", "-X", "-c", text.strip()])
    continued = False
    for line in text.splitlines():
        if not continued:
            word = line.split()[0]
            assert word in SHELL_COMMANDS, f"a rehearsal cannot run this command safely: {line!r}"
            assert not INTERACTIVE.search(line), f"a rehearsal cannot type into {line!r}"
        continued = line.rstrip().endswith("\\")
    return project.shell(text, input=YES)

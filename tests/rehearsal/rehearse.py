"""One rehearsal, end to end: failing output + project in, repaired project out.

The assertions are the issue's definition of "the advice is right": the answer names the
expected playbook and the project's real names with no placeholder left, following it
works, then ``migrate`` succeeds, ``migrate --check`` is clean, every model's table and
column exists (a clean ``--check`` after a wrong ``--fake`` proves nothing) and no row
that existed before the fix was lost (except the ones a scenario changes by design).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from migfix.server.answer import Answer
from migfix.server.project import ProjectTarget, explain_with_project

from .project import DjangoProject, Run, Snapshot
from .steps import Manual, Rehearsal, Scenario, follow


@dataclass
class Result:
    answer: Answer
    rehearsal: Rehearsal
    before: Snapshot
    after: Snapshot


def commands(answer: Answer) -> str:
    return "\n".join(step.command for step in answer.steps if step.command)


def rehearse(
    engine: Any,
    project: DjangoProject,
    failing: Run | None,
    playbook: str,
    *,
    names: Sequence[str],
    manual: Manual | None = None,
    expect_lost: Sequence[str] = (),
) -> Result:
    """Follow migfix's answer to *failing*'s output, or with None its first doctor answer."""
    if playbook not in engine.playbooks:
        pytest.skip(f"kb/{playbook}.md is not written yet: nothing to rehearse")
    before = project.snapshot()
    pasted = failing.output if failing is not None else None
    result = explain_with_project(engine, pasted, ProjectTarget(project.root))
    answer = result if isinstance(result, Answer) else (result[0] if result else None)
    assert answer is not None, "doctor found nothing to answer"
    assert answer.status == "matched", f"{answer.status}: {answer.message}\n{pasted}"
    assert answer.playbook is not None and answer.playbook.id == playbook, (
        f"matched {answer.playbook and answer.playbook.id}, expected {playbook}\n{pasted}"
    )
    text = commands(answer)
    missing = [name for name in names if name not in text]
    assert not missing, f"the commands do not name {missing}:\n{text}"
    rehearsal = follow(answer, project, Scenario(project.backend), manual)
    migrate = project.manage("migrate", "--noinput")
    assert migrate.returncode == 0, f"{migrate.describe()}\n{rehearsal.log()}"
    check = project.manage("migrate", "--check")
    assert check.returncode == 0, f"{check.describe()}\n{rehearsal.log()}"
    gaps = project.schema_gaps()
    assert not gaps, f"migrate is clean but the schema is not: {gaps}\n{rehearsal.log()}"
    after = project.snapshot()
    lost = [p for p in before.lost_in(after) if not any(p.startswith(e) for e in expect_lost)]
    assert not lost, f"rows lost: {lost}\n{rehearsal.log()}"
    return Result(answer, rehearsal, before, after)

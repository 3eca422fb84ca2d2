"""The Answer: one result, rendered by the CLI, the JSON API, the web chat and Slack.

Field names follow the contract in DESIGN.md; ``to_dict()`` is the JSON shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["matched", "no_match", "error"]


@dataclass(frozen=True)
class PlaybookRef:
    id: str
    title: str
    confidence: float


@dataclass(frozen=True)
class Step:
    n: int
    risk: str
    text: str
    command: str | None = None
    applies_when: tuple[str, ...] = ()
    precondition: str | None = None


@dataclass
class Answer:
    status: Status
    playbook: PlaybookRef | None = None
    summary: str = ""
    message: str = ""
    alternatives: list[PlaybookRef] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    other_findings: list[dict[str, Any]] = field(default_factory=list)
    cause: str | None = None
    other_causes: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        """The CLI's exit status: 0 answered, 1 no confident match, 2 error."""
        return {"matched": 0, "no_match": 1}.get(self.status, 2)

"""Read-only Django checker: ``run_check(project) -> Report``.

Importing this package imports neither Django nor torch; the probe runs in the
project's own interpreter.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_check", "Report", "Finding"]


def __getattr__(name: str) -> Any:
    if name == "run_check":
        from migfix.checker.runner import run_check

        return run_check
    if name == "Report":
        from migfix.checker.report import Report

        return Report
    if name == "Finding":
        from migfix.checker.findings import Finding

        return Finding
    raise AttributeError(name)

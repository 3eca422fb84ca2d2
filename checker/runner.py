"""Ship the probe to the project's interpreter, run it with a deadline, read its report.

The probe modules are copied into a throw-away package so the user never installs
migfix into their project's environment. A probe that hangs (a project that blocks on
import, a database that never answers) is killed with its whole process group and
reported as a finding.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from migfix.checker.discover import Target, find_target
from migfix.checker.findings import Finding
from migfix.checker.probe import BEGIN, END, STAGE
from migfix.checker.report import Report

PROBE_PACKAGE = "migfix_probe"
#: The modules that run under the user's interpreter (standard library + Django only).
PROBE_MODULES = (
    "findings",
    "report",
    "scan",
    "readonly",
    "graph_checks",
    "state_checks",
    "schema_checks",
    "preflight",
    "probe",
)
#: Stages during which a hang is the database's doing, not the project's.
DATABASE_STAGES = ("connect", "recorder", "duplicate_rows", "loader", "schema", "preflight")


def run_check(
    project: str | os.PathLike[str] | None = None,
    *,
    settings: str | None = None,
    python: str | os.PathLike[str] | None = None,
    database: str = "default",
    timeout: float = 60.0,
) -> Report:
    """Check a project read-only and return its report (raises ProjectNotFound on bad input)."""
    target = find_target(project, settings=settings, python=python)
    with tempfile.TemporaryDirectory(prefix="migfix-probe-") as workdir:
        _ship(Path(workdir))
        return _run(target, database, timeout, Path(workdir))


def _ship(workdir: Path) -> None:
    package = workdir / PROBE_PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text('"""migfix probe (copied; not installed)."""\n')
    here = Path(__file__).parent
    for name in PROBE_MODULES:
        shutil.copyfile(here / f"{name}.py", package / f"{name}.py")


def _run(target: Target, database: str, timeout: float, workdir: Path) -> Report:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(target.project)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the user's project
    env["DJANGO_SETTINGS_MODULE"] = target.settings
    command = [
        str(target.python),
        "-m",
        f"{PROBE_PACKAGE}.probe",
        "--settings",
        target.settings,
        "--database",
        database,
        "--project",
        str(target.project),
    ]
    report = Report(
        database=database,
        project=str(target.project),
        settings=target.settings,
        python=str(target.python),
    )
    start = time.perf_counter()
    try:
        process = subprocess.Popen(
            command,
            cwd=target.project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        report.findings.append(
            Finding(
                code="project.load_error",
                severity="error",
                message=f"cannot run {target.python}: {exc}",
                evidence={"stage": "interpreter", "error": str(exc)},
            )
        )
        return report
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        report.findings.append(_timeout(stderr, timeout, database))
        report.timings["total"] = round(time.perf_counter() - start, 4)
        return report
    parsed = _parse(stdout)
    if parsed is None:
        tail = (stderr or "").strip().splitlines()[-5:]
        report.findings.append(
            Finding(
                code="project.load_error",
                severity="error",
                message=f"the probe produced no report (exit {process.returncode}): "
                + (tail[-1] if tail else "no output"),
                evidence={"stage": "probe", "exit": process.returncode, "stderr": tail},
            )
        )
        return report
    parsed.timings["wall"] = round(time.perf_counter() - start, 4)
    return parsed


def _parse(stdout: str) -> Report | None:
    import json

    begin, end = stdout.rfind(BEGIN), stdout.rfind(END)
    if begin < 0 or end < begin:
        return None
    try:
        return Report.from_dict(json.loads(stdout[begin + len(BEGIN) : end]))
    except (ValueError, KeyError, TypeError):
        return None


def _timeout(stderr: str, timeout: float, database: str) -> Finding:
    stages = [
        line[len(STAGE) :].strip() for line in (stderr or "").splitlines() if line.startswith(STAGE)
    ]
    stage = stages[-1] if stages else "start"
    if stage in DATABASE_STAGES:
        return Finding(
            code="db.unreachable",
            severity="error",
            message=f"database '{database}' did not answer within {timeout:g}s (during {stage})",
            evidence={"stage": stage, "timeout": timeout, "alias": database},
        )
    return Finding(
        code="project.timeout",
        severity="error",
        message=f"the project did not finish loading within {timeout:g}s (during {stage})",
        evidence={"stage": stage, "timeout": timeout},
    )

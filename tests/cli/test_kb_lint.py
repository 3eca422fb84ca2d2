"""``migfix kb lint`` as a user runs it: output lines, summary and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from migfix.cli.main import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"


def run(*args: str):
    return CliRunner().invoke(cli, ["kb", "lint", *args])


def test_clean_kb_exits_0_with_a_summary():
    result = run("--no-coverage", str(FIXTURES / "valid"))

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 playbook(s) checked, no errors."


def test_errors_print_path_line_rule_and_exit_1():
    result = run("--no-coverage", str(FIXTURES / "broken" / "risk-tag"))

    lines = result.output.strip().split("\n")
    assert result.exit_code == 1
    assert re.fullmatch(r".*/risk-tag/fixture-table\.md:\d+: \[risk-tag\] .+", lines[0])
    assert lines[-1] == "1 error(s) in 1 file(s); 1 playbook(s) checked."


def test_coverage_is_on_by_default():
    result = run(str(FIXTURES / "valid"))

    assert result.exit_code == 1
    assert result.output.count("[coverage]") == 24


def test_a_missing_directory_is_a_one_line_usage_error():
    result = run(str(FIXTURES / "does-not-exist"))

    assert result.exit_code == 2
    assert len(result.output.strip().split("\n")) == 1
    assert "no such directory" in result.output
    assert "Traceback" not in result.output

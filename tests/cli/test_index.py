"""``migfix index`` as a user runs it, with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from migfix.cli.main import cli
from migfix.indexer.passages import passages_for_all
from migfix.indexer.playbook import load_playbooks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"
VALID = str(FIXTURES / "valid")


def run(*args: str):
    return CliRunner().invoke(cli, ["index", *args])


@pytest.mark.model
def test_build_then_rebuild_then_force(tmp_path):
    directory = str(tmp_path / "index")
    count = len(passages_for_all(load_playbooks(VALID)))

    first = run("--dir", directory, "--kb", VALID)
    second = run("--dir", directory, "--kb", VALID, "--json")
    forced = run("--dir", directory, "--kb", VALID, "--json", "--force")
    quiet = run("--dir", directory, "--kb", VALID, "--quiet")

    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"Indexed {count} passages from 2 playbooks into {directory}: ")
    assert f"({count} embedded, 0 reused)" in first.output
    report = json.loads(second.output)
    assert (report["count"], report["embedded"], report["reused"]) == (count, 0, count)
    assert report["size_bytes"] == sum(p.stat().st_size for p in Path(directory).iterdir())
    assert report["seconds"] >= 0
    assert json.loads(forced.output)["embedded"] == count
    assert quiet.exit_code == 0 and quiet.output == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kb", str(FIXTURES / "missing")], "no such directory"),
        (
            ["--kb", str(FIXTURES / "broken" / "front-matter")],
            "fixture-table.md:2: unknown front-matter key",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path, args, message):
    result = run("--dir", str(tmp_path / "index"), *args)

    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert not (tmp_path / "index").exists()


def test_an_unwritable_directory_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")

    result = run("--dir", str(blocker / "index"), "--kb", VALID)

    assert result.exit_code == 2
    assert result.output.startswith("migfix index: ") and result.output.count("\n") == 1


def test_a_directory_with_other_files_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")

    result = run("--dir", str(tmp_path), "--kb", VALID)

    assert result.exit_code == 2 and "not a migfix index" in result.output
    assert (tmp_path / "notes.txt").read_text() == "keep me"

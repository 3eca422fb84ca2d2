"""``migfix explain`` as users run it: a real subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "conflicting-leaf-nodes.txt"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def migfix(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from migfix.cli.main import cli; cli()", *args],
        input=stdin,
        capture_output=True,
        env=ENV,
        timeout=300,
    )


def test_file_argument_terminal_output() -> None:
    proc = migfix("explain", str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "makemigrations --merge orders" in out


def test_stdin_json_follows_the_answer_contract() -> None:
    proc = migfix("explain", "--json", stdin=EXAMPLE.read_bytes())
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["status"] == "matched"
    assert data["playbook"]["id"] == "conflicting-leaf-nodes"
    assert data["signals"]["apps"] == ["orders"]
    assert all({"n", "risk", "text", "command", "applies_when"} <= set(s) for s in data["steps"])
    assert not any("<app>" in (s["command"] or "") for s in data["steps"])


def test_markdown() -> None:
    proc = migfix("explain", "--markdown", str(EXAMPLE))
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("## ")


def test_signature_path_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from migfix.cli.main import cli\n"
        "try:\n"
        f"    cli(['explain', '--json', {str(EXAMPLE)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'faiss')\n"
        "heavy = sorted(m for m in heavy if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"HEAVY []" in proc.stderr


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        (b"", b"empty"),
        (b"\x00\x01\x02binary", b"binary"),
        (b"x" * 10_000_001, b"larger than"),
        (bytes(range(128, 256)) * 40, b"not UTF-8"),
    ],
)
def test_bad_input_one_line_exit_2(stdin: bytes, fragment: bytes) -> None:
    proc = migfix("explain", stdin=stdin)
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert migfix("explain", str(tmp_path / "missing.txt")).returncode == 2
    assert migfix("explain", "--json", "--markdown", str(EXAMPLE)).returncode == 2


def test_jsonl_keeps_ids_and_reports_bad_lines() -> None:
    text = EXAMPLE.read_text()
    lines = [json.dumps({"id": f"ci-{n}", "text": text}) for n in range(1000)]
    lines += ["not json", json.dumps({"id": "no-text"}), json.dumps({"id": "empty", "text": " "})]
    proc = migfix("explain", "--jsonl", stdin=("\n".join(lines) + "\n").encode())
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(out) == 1003
    assert [o["id"] for o in out[:1000]] == [f"ci-{n}" for n in range(1000)]
    assert all(
        o["status"] == "matched" and o["playbook"]["id"] == "conflicting-leaf-nodes"
        for o in out[:1000]
    )
    assert [o["status"] for o in out[1000:]] == ["error", "error", "error"]
    assert [o["id"] for o in out[1001:]] == ["no-text", "empty"]
    assert proc.returncode == 2

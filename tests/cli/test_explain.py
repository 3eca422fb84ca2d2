"""``migfix explain`` as users run it: a real subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
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


MIGRATION = (
    "from django.db import migrations\n\n\n"
    "class Migration(migrations.Migration):\n"
    "    dependencies = {dependencies}\n"
)


def shop(root: Path, *leaves: str) -> Path:
    """A real Django project on disk; its orders app gets one 0002 migration per leaf."""
    (root / "orders" / "migrations").mkdir(parents=True)
    (root / "manage.py").write_text(
        "import os, sys\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conf")\n'
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    (root / "conf.py").write_text(
        'SECRET_KEY = "x"\nINSTALLED_APPS = ["orders"]\n'
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", '
        f'"NAME": {str(root / "db.sqlite3")!r}}}}}\n'
    )
    for name in ("orders/__init__.py", "orders/models.py", "orders/migrations/__init__.py"):
        (root / name).write_text("")
    migrations = root / "orders" / "migrations"
    (migrations / "0001_initial.py").write_text(MIGRATION.format(dependencies="[]"))
    for leaf in leaves:
        (migrations / f"{leaf}.py").write_text(
            MIGRATION.format(dependencies='[("orders", "0001_initial")]')
        )
    return root


def project_args(root: Path) -> list[str]:
    return ["--project", str(root), "--python", sys.executable, "--timeout", "120"]


@pytest.mark.slow
def test_project_findings_are_in_the_answer_to_a_paste(tmp_path: Path) -> None:
    root = shop(tmp_path, "0002_a", "0002_b")
    proc = migfix("explain", "--json", *project_args(root), str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["playbook"]["id"] == "conflicting-leaf-nodes"
    conflict = [f for f in answer["findings"] if f["code"] == "graph.conflict"]
    assert conflict and sorted(conflict[0]["migrations"]) == ["orders.0002_a", "orders.0002_b"]
    assert any("makemigrations --merge orders" in (s["command"] or "") for s in answer["steps"])
    markdown = migfix("explain", "--markdown", *project_args(root), str(EXAMPLE))
    assert markdown.returncode == 0 and markdown.stdout.decode().startswith("## ")


@pytest.mark.slow
def test_project_without_a_paste_is_what_doctor_says(tmp_path: Path) -> None:
    root = shop(tmp_path, "0002_a", "0002_b")
    explained = migfix("explain", "--json", *project_args(root), stdin=b"")
    doctor = migfix("doctor", "--json", *project_args(root))
    assert explained.returncode == doctor.returncode == 1, explained.stderr
    ours, theirs = json.loads(explained.stdout), json.loads(doctor.stdout)
    assert ours["answers"][0]["playbook"]["id"] == "conflicting-leaf-nodes"
    assert [a["steps"] for a in ours["answers"]] == [a["steps"] for a in theirs["answers"]]


@pytest.mark.slow
def test_project_without_a_paste_and_nothing_wrong_exits_0(tmp_path: Path) -> None:
    root = shop(tmp_path, "0002_a")
    proc = migfix("explain", *project_args(root), stdin=b"  \n")
    assert proc.returncode == 0, proc.stderr
    assert "No migration problems found" in proc.stdout.decode()


def test_project_usage_and_environment_errors_exit_2(tmp_path: Path) -> None:
    jsonl = migfix("explain", "--jsonl", "--project", str(tmp_path), stdin=b"{}\n")
    assert jsonl.returncode == 2 and b"--jsonl" in jsonl.stderr
    missing = migfix("explain", "--project", str(tmp_path / "nope"), str(EXAMPLE))
    assert missing.returncode == 2
    assert missing.stderr.count(b"\n") == 1 and b"Traceback" not in missing.stderr
    assert missing.stdout == b""


def test_check_doctor_and_explain_share_the_project_options() -> None:
    from migfix.cli.check import check
    from migfix.cli.doctor import doctor
    from migfix.cli.explain import explain

    names = {"project", "settings", "python", "database", "timeout"}

    def options(command: click.Command) -> list[tuple[object, ...]]:
        return [
            (p.name, p.opts, p.default, getattr(p, "help", None))
            for p in command.params
            if p.name in names
        ]

    assert options(check) == options(doctor) == options(explain)
    assert len(options(explain)) == 5

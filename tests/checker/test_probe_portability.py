"""The probe must run under the user's interpreter: Python 3.8 syntax, stdlib + Django only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from migfix.checker.runner import PROBE_MODULES

CHECKER = Path(__file__).resolve().parents[2] / "checker"
STDLIB = set(sys.stdlib_module_names)


@pytest.mark.parametrize("name", PROBE_MODULES)
def test_probe_module_is_python38_stdlib_and_django_only(name: str) -> None:
    source = (CHECKER / f"{name}.py").read_text()
    tree = ast.parse(source, feature_version=(3, 8))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            top = (node.module or "").split(".")[0]
            assert top in STDLIB or top == "django", f"{name}.py imports {node.module}"
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            assert all(n.split(".")[0] in PROBE_MODULES for n in names), names
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                assert top in STDLIB or top == "django", f"{name}.py imports {alias.name}"
        assert not isinstance(node, ast.Match), name
    for method in ("removeprefix", "removesuffix"):
        assert f".{method}(" not in source


def test_importing_the_checker_loads_neither_django_nor_torch() -> None:
    code = (
        "import sys, migfix.checker; from migfix.checker import run_check; "
        "print(sorted(m for m in ('django', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

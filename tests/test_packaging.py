"""The wheel must contain every subpackage and every playbook.

Custom ``package-dir`` mappings turn off setuptools' discovery, so a forgotten
subpackage would silently be missing from the wheel; this test builds one and looks.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"kb": "migfix/kb", "indexer": "migfix/indexer", "checker": "migfix/checker",
          "server": "migfix/server", "cli": "migfix/cli"}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True,
    )
    (wheel,) = out.glob("migfix-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_package_directory_is_in_the_wheel(wheel_names):
    expected = set()
    for folder, target in MAPPED.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            expected.add(f"{target}/{relative.as_posix()}/__init__.py".replace("/./", "/"))

    missing = {name for name in expected if name not in wheel_names}

    assert not missing, f"add these packages to [tool.setuptools] packages: {sorted(missing)}"


def test_every_playbook_is_in_the_wheel(wheel_names):
    playbooks = {f"migfix/kb/{p.name}" for p in (ROOT / "kb").glob("*.md")}

    assert playbooks, "kb/ has no playbooks"
    assert playbooks <= wheel_names


def test_server_templates_and_static_files_are_in_the_wheel(wheel_names):
    server = ROOT / "server"
    assets = [p for d in ("templates", "static") for p in (server / d).rglob("*") if p.is_file()]

    missing = [
        p for p in assets if f"migfix/server/{p.relative_to(server).as_posix()}" not in wheel_names
    ]

    assert not missing


def test_generic_top_level_names_are_not_installed(wheel_names):
    top_level = {name.split("/")[0] for name in wheel_names if not name.startswith("migfix-")}

    assert top_level == {"migfix"}

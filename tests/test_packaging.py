"""The package declares what it imports and builds with or without isolation."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_names(specs) -> set[str]:
    names = set()
    for spec in specs:
        name = re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]
        names.add(name.lower().replace("_", "-"))
    return names


def imported_top_level_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "xbatcher_tab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"xbatcher_tab"}


def test_every_imported_package_is_declared():
    project = PYPROJECT["project"]
    declared = requirement_names(project["dependencies"])
    for extra, specs in project["optional-dependencies"].items():
        if extra not in ("test", "docs"):
            declared |= requirement_names(s for s in specs if not s.startswith("xbatcher-tab"))
    distributions = packages_distributions()
    missing = {}
    for module in imported_top_level_modules():
        provided_by = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not provided_by & declared:
            missing[module] = sorted(provided_by)
    assert not missing, f"imported but not declared: {missing}"
    assert {"scipy", "pyarrow", "cfgrib", "netcdf4"} <= declared


def test_extras_read_files_and_all_has_them():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"netcdf", "grib", "parquet", "dataframe"} <= set(extras)
    everything = extras["all"][0]
    for extra in ("netcdf", "grib", "parquet", "dataframe", "xgboost", "zarr"):
        assert extra in everything


@pytest.mark.slow
def test_wheel_builds_without_build_isolation(tmp_path):
    """With the setuptools of the environment (a Python 3.11 venv's, older than 77)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("xbatcher_tab-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "xbatcher_tab/py.typed" in names
    assert any(n.endswith("LICENSE") for n in names)
    assert "Classifier: License :: OSI Approved :: Apache Software License" in metadata
    assert "Provides-Extra: grib" in metadata and "Provides-Extra: netcdf" in metadata


def test_license_file():
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License") and "Version 2.0" in text

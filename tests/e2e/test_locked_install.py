"""The environment is exactly the lock (ADR 0019): what `make` installs is what `uv.lock`
names, a lock that no longer matches `pyproject.toml` stops `make` with what to do, and the
distribution declares what the code imports."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "adapters", "entrypoints")


def uv_version() -> str:
    found = re.search(r"^UV_VERSION\s*:=\s*(\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile pins no UV_VERSION"
    return found.group(1)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {canonical(p["name"]): p["version"] for p in lock["package"] if "version" in p}


def test_every_installed_package_is_the_locked_release() -> None:
    locked = locked_versions()
    installed = {canonical(d.metadata["Name"]): d.version for d in distributions()}
    assert installed, "no distributions found"
    unlocked = {name: v for name, v in installed.items() if name not in locked}
    different = {
        name: (v, locked[name])
        for name, v in installed.items()
        if name in locked and v != locked[name]
    }
    assert not unlocked, f"installed but not in uv.lock (run `make install`): {unlocked}"
    assert not different, f"installed version differs from uv.lock (installed, locked): {different}"
    assert installed["throughline"] == locked["throughline"]


def test_a_pyproject_that_no_longer_matches_its_lock_stops_make_and_says_run_make_lock(
    tmp_path: Path,
) -> None:
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    tools = ROOT / ".tools"
    assert (tools / f"uv-{uv_version()}" / "bin" / "uv").exists(), "run the tests through make"
    (tmp_path / ".tools").symlink_to(tools)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"anyio>=4",', '"anyio>=4",\n    "six>=1.16",'))
    done = subprocess.run(
        ["make", "install"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "uv.lock does not match pyproject.toml: run 'make lock'" in done.stderr
    assert not (tmp_path / ".venv").exists()  # stopped before installing anything


def test_the_committed_lock_matches_pyproject() -> None:
    uv = ROOT / ".tools" / f"uv-{uv_version()}" / "bin" / "uv"
    done = subprocess.run(
        [str(uv), "lock", "--locked", "--python", sys.executable],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"UV_PYTHON_DOWNLOADS": "never", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert done.returncode == 0, done.stderr


def imported_top_level_names() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(PACKAGES)


#: Import names whose distribution is named otherwise.
DISTRIBUTION_OF = {
    "jwt": "pyjwt",
    "prometheus_client": "prometheus-client",
    "dependency_injector": "dependency-injector",
    "swagger_ui": "swagger-ui-py",
    "opentelemetry": "opentelemetry-api",
    "fpdf": "fpdf2",
}


def test_every_package_the_code_imports_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        canonical(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])
        for requirement in [
            *project["dependencies"],
            *project["optional-dependencies"].get("otel", []),
        ]
    }
    undeclared = sorted(
        name
        for name in imported_top_level_names()
        if canonical(DISTRIBUTION_OF.get(name, name)) not in declared
    )
    assert not undeclared, f"imported by the code but not declared in pyproject.toml: {undeclared}"

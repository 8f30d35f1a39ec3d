"""The layout rules of CONVENTIONS §1: our packages are ours, and imports point one way."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["app", "records", "analytics", "lti"])
def test_top_level_package_resolves_inside_the_repo(package: str) -> None:
    # These names collide with distributions on PyPI; ours must win.
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_never_imports_flask() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("records", "analytics", "lti")
        for path in (ROOT / package).rglob("*.py")
        if any(
            line.strip().startswith(("import flask", "from flask"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []

"""The architecture holds: the import contracts of pyproject.toml are kept (layers, no cycles,
soccer_env independent of agents and experiments), and modules import at their top: an import
inside a function needs a `# lazy: <reason>` comment on its line (an optional dependency, a
fast `--help`), so that no import hides a cycle."""

from __future__ import annotations

import ast
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Packages whose function-level imports must say why they are lazy (extend as others follow).
LAZY_CHECKED_PACKAGES = ("soccer_env", "agents", "experiments")
LAZY = re.compile(r"#.*\blazy:\s*\S")


def test_import_contracts_are_kept():
    lint_imports = shutil.which("lint-imports")
    if lint_imports is None:
        pytest.fail("lint-imports not found: install the dev extra (pip install -e '.[dev]')")
    proc = subprocess.run([lint_imports, "--config", "pyproject.toml", "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def function_level_imports(source: str) -> list[tuple[int, str, bool]]:
    """(line, first line of the statement, has a `# lazy: reason`) of every import statement
    inside a function (at any depth) of a module's source."""
    lines = source.splitlines()
    found = {}
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                statement = lines[node.lineno - 1:node.end_lineno]
                found[node.lineno] = (statement[0].strip(),
                                      any(LAZY.search(line) for line in statement))
    return [(line, text, ok) for line, (text, ok) in sorted(found.items())]


def test_the_lazy_import_scan_sees_nested_and_commented_imports():
    source = ("import os\n"
              "def f():\n"
              "    import json\n"
              "    def g():\n"
              "        from pathlib import (\n"
              "            Path)  # lazy: a reason\n"
              "    import re  # lazy:\n")
    assert function_level_imports(source) == [
        (3, "import json", False), (5, "from pathlib import (", True), (7, "import re  # lazy:",
                                                                        False)]


@pytest.mark.parametrize("package", LAZY_CHECKED_PACKAGES)
def test_function_level_imports_say_why(package):
    missing = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, text, ok in function_level_imports(path.read_text()):
            if not ok:
                missing.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert not missing, ("imports inside functions need a '# lazy: <reason>' comment (or move "
                         "them to the module top):\n" + "\n".join(missing))


def test_tests_import_conftest_as_pytest_does():
    """`pytest` (what CI runs) puts tests/ on sys.path, not the repository root, so a test that
    imports `tests.conftest` works under `python -m pytest` and fails to collect under CI."""
    wrong = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            wrong += [f"{path.name}:{node.lineno}: {n}" for n in names
                      if n == "tests" or n.startswith("tests.")]
    assert not wrong, "import conftest, not tests.conftest:\n" + "\n".join(wrong)

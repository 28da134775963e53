"""The package's layout rules, read from the source's imports so they cannot drift:

- no import circle between reconcile's modules (counting imports inside functions and
  TYPE_CHECKING blocks: a circle there is still one a reader has to hold in their head);
- the CLI package is imported by nothing outside it (but `python -m reconcile`);
- the nightly path, the history and the report never reach the synthetic-data tools or the
  CLI, not even through another module;
- every SQL file sits in the folder of the stage that runs it;
- every exit code is defined in reconcile/errors.py only;
- the source distribution holds everything the tests read, so they run from it.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reconcile"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The reconcile modules `name` imports, anywhere in its source."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from reconcile.x import y` imports reconcile.x.y if that is a module, else
            # reconcile.x (the package's own name counts only for a name it defines).
            submodules = [f"{node.module}.{a.name}" for a in node.names]
            targets = [t for t in submodules if t in MODULES]
            if len(targets) < len(submodules):
                targets.append(node.module)
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in GRAPH[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_is_read() -> None:
    assert "reconcile.nightly.engine" in GRAPH
    assert "reconcile.history.store" in GRAPH["reconcile.nightly.engine"]


def test_no_import_circles() -> None:
    circles = sorted(name for name in MODULES if name in reachable(name)
                     and name != "reconcile")  # the package's __init__ re-exports the API
    assert circles == [], f"modules that import themselves through others: {circles}"


def test_the_cli_is_imported_by_nothing_outside_it() -> None:
    importers = sorted(name for name, targets in GRAPH.items()
                       if not in_package(name, "reconcile.cli") and name != "reconcile.__main__"
                       and any(in_package(t, "reconcile.cli") for t in targets))
    assert importers == []


@pytest.mark.parametrize("package", ["reconcile.nightly", "reconcile.history",
                                     "reconcile.report", "reconcile.result"])
def test_the_product_never_reaches_the_synthetic_tools_or_the_cli(package: str) -> None:
    for name in (m for m in MODULES if in_package(m, package)):
        reached = {t for t in reachable(name)
                   if in_package(t, "reconcile.synth") or in_package(t, "reconcile.cli")}
        assert reached == set(), f"{name} reaches {sorted(reached)}"


def test_shared_modules_import_no_stage() -> None:
    """The top-level modules are what the stages share; they import no stage package."""
    stages = ("reconcile.nightly", "reconcile.history", "reconcile.report", "reconcile.synth",
              "reconcile.cli")
    for name in ("reconcile.errors", "reconcile.config", "reconcile.schema",
                 "reconcile.sqlfiles", "reconcile.locks", "reconcile.timestamps",
                 "reconcile.safe_text", "reconcile.faults", "reconcile.atomic"):
        assert not any(in_package(t, s) for t in GRAPH[name] for s in stages), name


def test_sql_folders_mirror_the_stages() -> None:
    top = sorted(p.name for p in (ROOT / "sql").iterdir())
    assert top == ["history", "nightly", "report"]
    assert sorted(p.name for p in (ROOT / "sql" / "nightly").iterdir()) == [
        "checks", "content", "findings.sql", "narrow_context.sql", "sources", "staging",
        "truth"]
    assert {p.name for p in (ROOT / "sql" / "history").iterdir()} == {
        "catalog.sql", "migrations", "record_findings.sql", "views"}


def test_every_exit_code_is_defined_in_errors_only() -> None:
    """reconcile/errors.py defines every EXIT_* code; other modules import them from there
    (no second definition, no alias)."""
    defined: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            for target in targets:
                if isinstance(target, ast.Name) and target.id.startswith("EXIT_"):
                    defined.setdefault(name, []).append(target.id)
    assert set(defined) == {"reconcile.errors"}, defined
    assert {"EXIT_OK", "EXIT_BAD_INPUT", "EXIT_LOCKED"} <= set(defined["reconcile.errors"])


SDIST_INCLUDE = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                    ["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])


def top_level_names_the_tests_read() -> set[str]:
    """The repository's top-level files and folders a test reads, as the tests spell them
    (`ROOT / "sample_data"`, `Path(__file__).resolve().parent.parent / "docs"`), with the
    tests themselves and pyproject.toml (read here)."""
    spelled = re.compile(r'(?:ROOT|parent\.parent|parents\[1\])\s*/\s*"([^"/]+)')
    found = {"tests", "pyproject.toml"}
    for path in (ROOT / "tests").glob("*.py"):
        found |= set(spelled.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_sdist_holds_every_top_level_name_the_tests_read() -> None:
    read = top_level_names_the_tests_read()
    assert {"sql", "sample_data", "docs", ".ci", "README.md"} <= read  # the scan finds them
    assert sorted(read - SDIST_INCLUDE) == [], "add them to [tool.hatch.build.targets.sdist]"


def test_the_sdist_holds_every_top_level_name_in_version_control() -> None:
    """Benchmarks and the changelog too: docs pages name files under benchmarks/, and
    tests/test_docs.py checks they exist."""
    git = shutil.which("git")
    listed = subprocess.run([git, "-C", str(ROOT), "ls-files"], capture_output=True,
                            text=True, check=False) if git else None
    if listed is None or listed.returncode != 0:
        pytest.skip("not a git checkout (an unpacked sdist, say)")
    tracked = {line.split("/", 1)[0] for line in listed.stdout.splitlines()}
    assert sorted(tracked - SDIST_INCLUDE - {".gitignore"}) == []

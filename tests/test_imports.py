"""What importing a part of reconcile loads, and what the generator takes from the oracle:

- the command line, a nightly `reconcile run` included, never loads the generator, the
  oracle or verify: only `generate` and `verify` do (and `generate --help`, for its rates);
- `import reconcile` loads none of its modules, each public name on first use;
- the oracle (reconcile.synth.reference) imports and labels a drop without DuckDB and
  without any other part of reconcile, as its docstring promises;
- the generator asks the oracle (reconcile.synth.reference) only to label: it imports the
  oracle's public labelling API, in one module, so a change inside the oracle can change
  its answers in labels.csv but never the tables a seed generates.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reconcile

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
# The test-data code a nightly run must not load.
SYNTHETIC = ("reconcile.synth.generator", "reconcile.synth.reference", "reconcile.synth.verify")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """code run by a fresh interpreter in the checkout (so it imports this reconcile)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def _synthetic_modules_after(*args: str) -> list[str]:
    """The modules of SYNTHETIC loaded by a fresh interpreter that imports the CLI and runs
    `reconcile ARGS` through its entry point (which must exit 0)."""
    code = f"""
import sys
from reconcile.cli.main import main
try:
    main({list(args)!r}, prog_name="reconcile")
except SystemExit as done:
    if done.code:
        raise
print(sorted(m for m in sys.modules if m.startswith({SYNTHETIC!r})))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.splitlines()[-1])


# --- what importing loads ---------------------------------------------------------------

def test_the_command_line_loads_no_test_data_code() -> None:
    assert _synthetic_modules_after("--help") == []
    assert _synthetic_modules_after("run", "--help") == []
    assert _synthetic_modules_after("verify", "--help") == []


@pytest.mark.slow
def test_a_nightly_run_loads_no_test_data_code(tmp_path: Path) -> None:
    out = tmp_path / "out"
    loaded = _synthetic_modules_after("run", str(SAMPLE), "--out", str(out), "--as-of",
                                      "2026-11-23T01:30:00+08:00", "-q")
    assert loaded == []
    assert (out / "findings.csv").is_file()


def test_generate_help_loads_the_generator_for_its_rates() -> None:
    """The epilog listing the failure modes is written when the help is shown."""
    assert "reconcile.synth.generator" in _synthetic_modules_after("generate", "--help")


def test_importing_the_package_imports_none_of_its_modules() -> None:
    done = _python("import sys, reconcile\n"
                   "loaded = sorted(m for m in sys.modules if m.startswith('reconcile.'))\n"
                   "sys.exit(f'import reconcile loaded {loaded}' if loaded else 0)\n")
    assert done.returncode == 0, done.stderr


def test_every_public_name_of_the_package_resolves() -> None:
    for name in reconcile.__all__:
        assert getattr(reconcile, name) is not None, name
    assert set(reconcile.__all__) <= set(dir(reconcile))


def test_the_oracle_labels_a_drop_without_duckdb_or_the_engine() -> None:
    code = f"""
import csv, sys
from datetime import datetime
from pathlib import Path
sys.modules["duckdb"] = None  # importing it now raises ImportError

import reconcile.synth.reference as oracle

tables = {{path.stem: list(csv.DictReader(path.open(encoding="utf-8", newline="")))
          for path in Path({str(SAMPLE)!r}).glob("*.csv") if path.stem != "expected_findings"}}
findings = oracle.reference(tables, datetime.fromisoformat("2026-11-23T01:30:00+08:00"))
assert len(findings) == len(tables["send_batch"]) > 0, len(findings)
others = sorted(m for m in sys.modules if m.startswith("reconcile")
                and m not in ("reconcile", "reconcile.synth")
                and not m.startswith("reconcile.synth.reference"))
sys.exit(f"the oracle loaded {{others}}" if others else 0)
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr


# --- what the generator takes from the oracle ----------------------------------------

GENERATOR = ROOT / "reconcile" / "synth" / "generator"
ORACLE = "reconcile.synth.reference"
# What the generator may ask of the oracle: the function that labels rows, the settings it
# takes and the flags its findings carry.
LABELLING_API = {"reference", "Settings", "FLAGS"}


def _package_of(path: Path) -> str:
    """The package a module file is in (for __init__.py, the package itself)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1])


def _oracle_imports_in(source: str, package: str) -> list[tuple[str, str]]:
    """(module, name) of every import in source, a module of `package`, that reaches the
    oracle, inside functions and TYPE_CHECKING blocks too; importing a module of the oracle
    whole gives (module, "*"): every name of it is then in reach, private ones too."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, "*") for alias in node.names if _in_oracle(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative to the module's package
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                if _in_oracle(module):
                    found.append((module, alias.name))
                elif _in_oracle(f"{module}.{alias.name}"):  # from reconcile.synth import reference
                    found.append((f"{module}.{alias.name}", "*"))
    return found


def _in_oracle(module: str) -> bool:
    return module == ORACLE or module.startswith(ORACLE + ".")


def _oracle_imports() -> dict[str, list[tuple[str, str]]]:
    """The generator's imports from the oracle, by file."""
    found = {}
    for path in sorted(GENERATOR.rglob("*.py")):
        imports = _oracle_imports_in(path.read_text(encoding="utf-8"), _package_of(path))
        if imports:
            found[path.relative_to(ROOT).as_posix()] = imports
    return found


def test_the_generator_imports_only_the_oracles_public_labelling_api() -> None:
    from reconcile.synth import reference

    imports = _oracle_imports()
    assert imports, "no generator module imports the oracle: labels.csv needs it"
    for where, pairs in imports.items():
        for module, name in pairs:
            assert module == ORACLE, f"{where}: imports {module}, not the oracle's package"
            assert name != "*", f"{where}: imports the whole oracle module"
            assert not name.startswith("_"), f"{where}: imports the private {name}"
            assert name in reference.__all__, f"{where}: {name} is not in the oracle's API"
            assert name in LABELLING_API, f"{where}: asks the oracle for {name}, not a label"


def test_one_generator_module_talks_to_the_oracle() -> None:
    assert list(_oracle_imports()) == ["reconcile/synth/generator/labels.py"]


def test_the_import_reader_sees_every_way_of_reaching_the_oracle() -> None:
    source = ("import reconcile.synth.reference.text\n"
              "from reconcile.synth import reference\n"
              "from ..reference.content import _ASCII_SPACE\n"
              "from . import labels\n"
              "def later() -> None:\n"
              "    from reconcile.synth.reference import luhn_valid\n")
    assert sorted(_oracle_imports_in(source, "reconcile.synth.generator")) == [
        ("reconcile.synth.reference", "*"),
        ("reconcile.synth.reference", "luhn_valid"),
        ("reconcile.synth.reference.content", "_ASCII_SPACE"),
        ("reconcile.synth.reference.text", "*"),
    ]

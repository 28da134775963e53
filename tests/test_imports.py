"""What importing a part of reconcile loads, and what the generator takes from the oracle:

- the generator asks the oracle (reconcile.synth.reference) only to label: it imports the
  oracle's public labelling API, in one module, so a change inside the oracle never
  changes the files a seed generates.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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

"""The `slow` marker only shortens a local loop (`pytest -m "not slow"`): CI runs the
README's test command, and that command must run every test, slow ones included."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"
# Options that leave tests out of a run.
DESELECTING = ("-m", "-k", "--deselect", "--ignore", "--ignore-glob", "--lf", "--last-failed",
               "--sw", "--stepwise", "-x", "--exitfirst", "--maxfail")
# pytest's short options that take a value, which ends a cluster of short options.
SHORT_WITH_VALUE = "rpcoW"


def readme_test_command() -> str:
    """The README's test command, found by .ci/run's own extraction (its awk program)."""
    script = CI_RUN.read_text(encoding="utf-8")
    found = re.search(r"^test_command=\$\((awk .*)\)$", script, re.MULTILINE)
    assert found, ".ci/run no longer sets test_command=$(awk ...): update this test"
    if shutil.which("awk") is None:
        pytest.skip("awk, which .ci/run uses to read the README, is not installed")
    extracted = subprocess.run(found.group(1), shell=True, cwd=ROOT, check=True,
                               capture_output=True, text=True)
    return extracted.stdout.strip()


def pytest_arguments(command: str) -> list[list[str]]:
    """The arguments of every pytest the command runs (`pytest` or `python -m pytest`)."""
    runs = []
    for part in re.split(r"&&|\|\||;", command):
        words = shlex.split(part)
        for at, word in enumerate(words):
            if Path(word).name == "pytest" and not (at and words[at - 1] == "-m"):
                runs.append(words[at + 1:])
                break
            if word == "pytest" and at and words[at - 1] == "-m":
                runs.append(words[at + 1:])
                break
    return runs


def leaves_tests_out(arguments: list[str]) -> list[str]:
    """The arguments that leave tests out: a long option of DESELECTING (`--deselect=...`
    too), or a cluster of short ones (`-qm`) holding -m, -k or -x before any short option
    that takes a value (`-rx` is -r's value x)."""
    found = []
    for argument in arguments:
        if argument.startswith("--"):
            if argument.split("=", 1)[0] in DESELECTING:
                found.append(argument)
        elif argument.startswith("-"):
            for letter in argument[1:]:
                if letter in "mkx":
                    found.append(argument)
                    break
                if letter in SHORT_WITH_VALUE:
                    break
    return found


def test_the_readme_test_command_runs_the_slow_tests() -> None:
    runs = pytest_arguments(readme_test_command())
    assert runs, "the README's test command runs no pytest"
    for arguments in runs:
        assert leaves_tests_out(arguments) == [], \
            f"the README's test command leaves tests out: {arguments}"
        # Nothing but options: every test path of testpaths runs.
        assert all(a.startswith("-") for a in arguments), arguments


def test_pytests_own_configuration_deselects_nothing() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ini = options["tool"]["pytest"]["ini_options"]
    assert leaves_tests_out(shlex.split(ini["addopts"])) == []
    assert ini["testpaths"] == ["tests"]
    assert any(m.split(":")[0] == "slow" for m in ini["markers"])
    assert "PYTEST_ADDOPTS" not in CI_RUN.read_text(encoding="utf-8")


@pytest.mark.parametrize(("arguments", "left_out"), [
    (["-q"], []),
    (["-q", "-ra"], []),
    (["-m", "not slow"], ["-m"]),
    (["-mnot slow"], ["-mnot slow"]),
    (["-qm", "not slow"], ["-qm"]),
    (["-k", "flags"], ["-k"]),
    (["-rxs", "-pno:cacheprovider"], []),
    (["--deselect=tests/test_spark.py"], ["--deselect=tests/test_spark.py"]),
])
def test_deselecting_options_are_recognised(arguments: list[str], left_out: list[str]) -> None:
    assert leaves_tests_out(arguments) == left_out


def test_pytest_runs_are_found_in_a_command() -> None:
    assert pytest_arguments("python3 -m venv .venv && .venv/bin/pytest -q") == [["-q"]]
    assert pytest_arguments(".venv/bin/python -m pytest -m 'not slow'") == [["-m", "not slow"]]

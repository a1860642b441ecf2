"""The environment is the lock's.

requirements.lock (written by `make lock`, installed by `make setup`) pins every package
pyproject.toml pulls in at one version, with the hashes of its files. Every pin that applies
to this platform and Python must be installed at exactly that version: a venv that drifted (a
package upgraded by hand, a lock pulled but not installed) fails here, and so does a lock that
no longer holds what pyproject.toml asks for. The pins are read here with packaging alone, not
with the workbook's own reader (dbmarketing.reports.locked_versions), so that one cannot hide a
mistake of the other.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"


def read_lock() -> list[tuple[Requirement, int]]:
    """Each pin of the lock with the number of --hash lines that follow it."""
    entries: list[tuple[Requirement, int]] = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line[:1].isalnum():
            entries.append((Requirement(line.rstrip(" \\")), 0))
        elif line.strip().startswith("--hash=sha256:") and entries:
            requirement, hashes = entries[-1]
            entries[-1] = (requirement, hashes + 1)
    return entries


def applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate()


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"not an exact pin: {requirement}"
    return specifier.version


def test_the_lock_pins_every_package_exactly_with_the_hashes_of_its_files():
    entries = read_lock()
    assert len(entries) > 100  # the whole stack, not a stub
    for requirement, hashes in entries:
        pinned_version(requirement)
        assert hashes >= 1, f"{requirement} has no --hash"
    here = [canonicalize_name(r.name) for r, _ in entries if applies(r)]
    assert len(here) == len(set(here)), "a package pinned twice for this platform"
    for name in ("pandas", "duckdb", "splink", "scikit-learn", "psycopg", "papermill"):
        assert name in here


def test_every_locked_package_is_installed_at_exactly_its_version():
    wrong = []
    for requirement, _ in read_lock():
        if not applies(requirement):
            continue  # another platform's or Python's package (appnope on macOS, say)
        locked = pinned_version(requirement)
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or Version(installed) != Version(locked):
            wrong.append(f"{requirement.name} {installed or 'not installed'} (locked {locked})")
    # make setup alone does not see a package changed by hand: the lock and pyproject.toml did not change
    assert not wrong, "the environment is not the lock's (re-install it: rm .venv/.installed && make setup): " \
        + ", ".join(wrong)


def test_the_lock_holds_what_pyproject_asks_for():
    asked = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    locked = {canonicalize_name(r.name): pinned_version(r) for r, _ in read_lock() if applies(r)}
    missing = []
    for text in asked:
        requirement = Requirement(text)
        if not applies(requirement):
            continue
        version = locked.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(f"{text} (locked: {version})")
        for extra in requirement.extras:  # psycopg[binary] asks for psycopg-binary too
            for needed in map(Requirement, importlib.metadata.requires(requirement.name) or []):
                if needed.marker is not None and "extra" in str(needed.marker) \
                        and needed.marker.evaluate({"extra": extra}) \
                        and canonicalize_name(needed.name) not in locked:
                    missing.append(f"{needed.name} for {text}")
    assert not missing, "pyproject.toml asks for what requirements.lock does not hold, run make lock: " + \
        ", ".join(missing)

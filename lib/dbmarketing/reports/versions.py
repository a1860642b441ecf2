"""What a run computed with, for its manifest: the versions of Python and of the packages
that shape a report, and :func:`lock_file_info`, which lock file the environment was
installed from and whether it still is the lock's."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# Distributions whose versions go into the manifest (those installed).
VERSIONED_PACKAGES = ("dbmarketing", "pandas", "duckdb", "papermill", "nbconvert",
                      "scikit-learn", "splink", "statsmodels")

# The lock file `make setup` installs the environment from (`make lock` writes it), at the
# root of the project the package runs from (lib/dbmarketing/reports/versions.py -> ../../..).
LOCK_FILE = "requirements.lock"
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape a report (those installed)."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def locked_versions(text: str) -> dict[str, str]:
    """The pins of a lock file in requirements format that apply to this platform and Python.

    A pin is a line ``name==version`` with an optional environment marker (``; sys_platform ==
    'darwin'``), as uv and pip-tools write them; ``--hash`` continuation lines, comments and
    options are skipped. Returns ``{canonical name: version}``. Raises ValueError naming the
    line that is not an exact pin.
    """
    pins = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line[:1].isalnum():
            continue
        try:
            requirement = Requirement(line.rstrip("\\ "))
        except InvalidRequirement as exc:
            raise ValueError(f"line {number} is not a requirement: {exc}") from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise ValueError(f"line {number} is not an exact pin (name==version): {line.strip()}")
        if requirement.marker is None or requirement.marker.evaluate():
            pins[canonicalize_name(requirement.name)] = specifiers[0].version
    return pins


def lock_file_info(path: str | Path | None = None) -> dict | None:
    """The lock file the environment was installed from, for the manifest.

    Returns ``name`` and ``path`` of the file, the ``sha256`` of its bytes, and ``differs``:
    each package pinned for this platform whose installed version is not the pinned one,
    ``{"locked": version, "installed": version or None}``. ``differs`` is empty when the
    environment is the lock's (what ``make setup`` installs), so the sha256 names the versions
    a run computed with; a venv not re-installed since the lock changed shows up there. A lock
    that cannot be read as pins has ``error`` instead of ``differs``. None when there is no
    lock file (the package does not run from a project folder).

    path : the lock file; by default ``requirements.lock`` at the root of the project.
    """
    path = Path(path) if path is not None else PROJECT_ROOT / LOCK_FILE
    if not path.is_file():
        return None
    data = path.read_bytes()
    info = {"name": path.name, "path": str(path.resolve()), "sha256": hashlib.sha256(data).hexdigest()}
    try:
        pins = locked_versions(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        info["error"] = f"{path.name}: {exc}"
        return info
    differs = {}
    for name, version in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or not _same_version(installed, version):
            differs[name] = {"locked": version, "installed": installed}
    info["differs"] = differs
    return info


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)  # 1.0 and 1.0.0 are one version
    except InvalidVersion:
        return a == b

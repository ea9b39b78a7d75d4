"""Does the project environment already hold what ``scripts/setup.sh EXTRAS`` installs?

Run by setup.sh with the environment's own interpreter (standard library and pip only)::

    python scripts/env_state.py check  EXTRAS TORCH_REQUIREMENT   # exit 0: nothing to install
    python scripts/env_state.py record EXTRAS TORCH_REQUIREMENT   # after a successful install
    python scripts/env_state.py has    REQUIREMENT                # exit 0: an installed version satisfies it

The stamp (``.venv/nbexplain-setup.stamp``, JSON) holds a fingerprint of the last successful install -- a hash
of pyproject.toml, the torch requirement, the interpreter's version and the checkout's path -- and the extras
it installed. ``check`` passes when the fingerprint is unchanged, nbexplain is imported from this checkout and
every requirement of the asked extras is installed in a version that satisfies it (read from nbexplain's
installed metadata, where the build backend has already expanded ``dev`` -> ``notebooks`` -> ``imagenet``...),
so ``tour.sh`` after ``test.sh`` installs nothing, and a package removed by hand is noticed. Otherwise it prints
why pip must run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import importlib.util
import json
import sys
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # pip vendors it; every environment setup.sh makes has pip
    from pip._vendor.packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
STAMP = Path(sys.prefix) / "nbexplain-setup.stamp"


def fingerprint(torch_requirement: str) -> str:
    """What decides the install, hashed: a change to any part means pip must run again."""
    h = hashlib.sha256((REPO / "pyproject.toml").read_bytes())
    h.update(repr((torch_requirement, sys.version, str(REPO))).encode())
    return h.hexdigest()


def unmet(requirement: Requirement, extras: set[str]) -> str | None:
    """Why ``requirement`` (of nbexplain, for ``extras``) is not met, or None when it is."""
    if requirement.marker is not None and not any(
            requirement.marker.evaluate({"extra": e}) for e in extras | {""}):
        return None
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return f"{requirement.name} is not installed"
    if not requirement.specifier.contains(version, prereleases=True):
        return f"{requirement.name} {version} does not satisfy {requirement}"
    return None


def why_install(extras: set[str], torch_requirement: str) -> str | None:
    """The reason pip must run, or None when the environment already holds everything."""
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return "first install into this environment"
    if stamp.get("fingerprint") != fingerprint(torch_requirement):
        return "pyproject.toml, the torch pin, the interpreter or the checkout's path changed"
    spec = importlib.util.find_spec("nbexplain")
    if spec is None or spec.origin is None or REPO not in Path(spec.origin).resolve().parents:
        return "nbexplain is not installed from this checkout"
    try:
        requires = [Requirement(r) for r in metadata.requires("nbexplain") or []]
    except metadata.PackageNotFoundError:
        return "nbexplain's metadata is missing"
    known = set(metadata.metadata("nbexplain").get_all("Provides-Extra") or [])
    if extras - known:
        return f"extras {sorted(extras - known)} are not in the installed metadata"
    for requirement in [*requires, Requirement(torch_requirement)]:
        if reason := unmet(requirement, extras):
            return reason
    return None


def main(argv: list[str]) -> int:
    command, *rest = argv
    if command == "has":
        requirement = Requirement(rest[0])
        return 0 if unmet(requirement, set()) is None else 1
    extras = {e.strip() for e in rest[0].split(",") if e.strip()}
    torch_requirement = rest[1]
    if command == "check":
        reason = why_install(extras, torch_requirement)
        if reason:
            print(reason)
        return 1 if reason else 0
    if command == "record":
        recorded: set[str] = set()
        try:
            stamp = json.loads(STAMP.read_text())
            if stamp.get("fingerprint") == fingerprint(torch_requirement):
                recorded = set(stamp.get("extras", []))
        except (OSError, ValueError):
            pass
        STAMP.write_text(json.dumps({"fingerprint": fingerprint(torch_requirement),
                                     "extras": sorted(recorded | extras)}, indent=1) + "\n")
        return 0
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

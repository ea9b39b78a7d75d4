"""The README's two commands work for a newcomer: on a fresh machine, as root, where the system Python is
externally managed (PEP 668, Debian 12 / Ubuntu 24.04), without apt; and a second run re-uses the environment.

Each slow test works in one fresh clone of this repository (with the working tree's uncommitted changes on
top), where ``scripts/setup.sh`` makes ``.venv`` once for the module. ``python3`` on PATH is a shim that
behaves as an externally managed interpreter: it logs every call, refuses ``-m pip install`` outside a
virtual environment with pip's PEP 668 error and passes everything else (``-m venv``) to a real Python --
Debian's own /usr/bin/python3 when it is marked externally managed, else the interpreter behind this one.
The machine's Python is never modified.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 1800  # a cold first install on a slow network; ~1 min with pip's cache warm

PEP_668_ERROR = """error: externally-managed-environment

x This environment is externally managed
`-> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install.
"""

SHIM = """#!/usr/bin/env bash
# python3 as on Debian 12 / Ubuntu 24.04: pip refuses to install outside a virtual environment (PEP 668).
printf '%s\\n' "$*" >> {log}
if [ "${{1:-}}" = -m ] && [ "${{2:-}}" = pip ] && [[ " $* " == *" install "* ]] \\
    && [ "$({real} -c 'import sys; print(sys.prefix != sys.base_prefix)')" = False ]; then
  cat >&2 <<'EOF'
{error}EOF
  exit 1
fi
exec {real} "$@"
"""


def real_python() -> str:
    """Debian's externally managed python3 where there is one with venv, else the interpreter behind ours."""
    debian = Path("/usr/bin/python3")
    if debian.exists():
        probe = subprocess.run(
            [str(debian), "-c", "import sys, sysconfig, pathlib, venv, ensurepip; sys.exit(sys.version_info < (3, 10) "
             "or not (pathlib.Path(sysconfig.get_path('stdlib')) / 'EXTERNALLY-MANAGED').exists())"],
            capture_output=True)
        if probe.returncode == 0:
            return str(debian)
    return getattr(sys, "_base_executable", sys.executable)


def fresh_clone(dest: Path) -> Path:
    """``git clone`` of this repository plus the working tree's uncommitted changes: what CI checks out once
    they are committed. Ignored files (``.venv``, caches) do not come along."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, capture_output=True)

    def listed(repo: Path, *options: str) -> list[str]:
        out = subprocess.run(["git", "ls-files", "-z", *options], cwd=repo, check=True, capture_output=True).stdout
        return [p for p in out.decode().split("\0") if p]

    for rel in listed(dest):
        if not (ROOT / rel).is_file():
            (dest / rel).unlink()
    for rel in listed(ROOT, "-c", "-o", "--exclude-standard"):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    assert not (dest / ".venv").exists()
    return dest


def newcomer_path() -> list[str]:
    """This PATH without the virtual environment running these tests (a newcomer has none active)."""
    in_venv = sys.prefix != sys.base_prefix
    return [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and not (in_venv and Path(p).resolve().is_relative_to(Path(sys.prefix).resolve()))]


def path_without(tmp: Path, *commands: str) -> str:
    """A PATH directory holding every command of this PATH except ``commands`` (no apt-get: not Debian)."""
    farm = tmp / f"bin-without-{'-'.join(commands)}"
    farm.mkdir(exist_ok=True)
    for folder in newcomer_path():
        if not Path(folder).is_dir():
            continue
        for tool in Path(folder).iterdir():
            if tool.name not in commands and not (farm / tool.name).exists() and os.access(tool, os.X_OK):
                (farm / tool.name).symlink_to(tool)
    return str(farm)


class Newcomer:
    """A fresh clone and the environment of someone who just opened a terminal there."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.repo = fresh_clone(tmp / "nbexplain")
        self.real_python = real_python()
        shims = tmp / "shims"
        shims.mkdir()
        self.python_log = tmp / "python3-calls.log"
        self.python_log.touch()
        (shims / "python3").write_text(SHIM.format(log=self.python_log, real=self.real_python, error=PEP_668_ERROR))
        (shims / "python3").chmod(0o755)
        jupyter = tmp / "jupyter"
        # the interpreter running these tests (maybe a venv) is not on the newcomer's PATH
        path = [str(shims), *newcomer_path()]
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "NBX_REQUIRE_ALL", "NBX_CHROMIUM",
                                 "NBX_REINSTALL", "NBX_PYTHON", "JUPYTER_TOKEN")}
        self.env.update(PATH=os.pathsep.join(path), JUPYTER_CONFIG_DIR=str(jupyter / "config"),
                        JUPYTER_DATA_DIR=str(jupyter / "data"), JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
                        JUPYTERLAB_WORKSPACES_DIR=str(jupyter / "workspaces"), IPYTHONDIR=str(jupyter / "ipython"))

    def run(self, command: str, *args: str, timeout: float = 600, **env: str) -> tuple[subprocess.CompletedProcess, float]:
        """Run ``bash scripts/<command> args`` in the clone; returns the finished process and its seconds."""
        start = time.monotonic()
        done = subprocess.run(["bash", f"scripts/{command}", *args], cwd=self.repo, env={**self.env, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return done, time.monotonic() - start

    def python_calls(self) -> list[str]:
        return self.python_log.read_text().splitlines()

    def venv_python(self, code: str) -> str:
        return subprocess.run([str(self.repo / ".venv/bin/python"), "-c", code], cwd=self.tmp, env=self.env,
                              check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Newcomer:
    return Newcomer(tmp_path_factory.mktemp("newcomer"))


@pytest.fixture(scope="module")
def first_setup(newcomer: Newcomer) -> tuple[subprocess.CompletedProcess, float]:
    """The first ``scripts/setup.sh`` in the fresh clone: makes .venv and installs nbexplain[dev] into it."""
    done, seconds = newcomer.run("setup.sh", "dev", timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-6000:]
    return done, seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------
# setup.sh: the project environment
# ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_first_setup_makes_the_project_venv_and_installs_nothing_into_the_system_python(newcomer, first_setup):
    done, seconds = first_setup
    out = done.stdout
    # the shim really refuses, as Debian's python3 does
    refused = subprocess.run(["python3", "-m", "pip", "install", "nbexplain"], env=newcomer.env,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "externally-managed-environment" in refused.stderr
    calls = [c for c in newcomer.python_calls() if c != "-m pip install nbexplain"]
    assert any(c.startswith("-m venv .venv") for c in calls), calls
    assert not any(c.startswith("-m pip") for c in calls), calls  # pip ran only inside .venv
    # each step is announced and pip's own progress is shown
    for step in ("==> Making the project environment .venv", "==> Installing nbexplain[dev] into .venv",
                 "==> [1/2] torch==2.13.0", "==> [2/2] nbexplain[dev] (editable", "==> Ready: .venv"):
        assert step in out, out[-4000:]
    assert "Successfully installed" in out and "nbexplain-0.1.0" in out
    # the environment is the clone's, holds this checkout editable and the pinned CPU torch
    venv = newcomer.repo / ".venv"
    assert json.loads((venv / "nbexplain-setup.stamp").read_text())["extras"] == ["dev"]
    origin, torch_version, prefix = newcomer.venv_python(
        "import sys, importlib.util, importlib.metadata as m; print(importlib.util.find_spec('nbexplain').origin); "
        "print(m.version('torch')); print(sys.prefix)").splitlines()
    assert Path(origin).resolve() == (newcomer.repo / "nbexplain" / "__init__.py").resolve()
    assert torch_version.split("+")[0] == "2.13.0" and Path(prefix).resolve() == venv.resolve()
    # the machine's Python does not know nbexplain (nothing editable pointing into a clone that will be deleted)
    seen = subprocess.run([newcomer.real_python, "-c", "import importlib.util as u; s = u.find_spec('nbexplain'); "
                           "print(s.origin if s else '')"], cwd=newcomer.tmp, capture_output=True, text=True).stdout
    assert str(newcomer.repo) not in seen
    print(f"first setup.sh dev: {seconds:.0f} s with {newcomer.real_python}")


@pytest.mark.slow
def test_second_setup_reuses_the_environment_without_pip(newcomer, first_setup):
    calls_before = len(newcomer.python_calls())
    stamp = (newcomer.repo / ".venv" / "nbexplain-setup.stamp").read_text()
    for extras in ("dev", "notebooks"):  # tour.sh after test.sh: notebooks' packages are among dev's
        done, seconds = newcomer.run("setup.sh", extras, timeout=120)
        assert done.returncode == 0, done.stdout
        assert f"==> Re-using the project environment .venv: nbexplain[{extras}] is installed" in done.stdout
        assert "pip" not in done.stdout.replace("forces pip", "") and "Installing" not in done.stdout
        assert seconds < 10, f"a second setup.sh {extras} took {seconds:.1f} s"
        print(f"second setup.sh {extras}: {seconds:.2f} s")
    assert len(newcomer.python_calls()) == calls_before  # not even the system python3 was run
    assert (newcomer.repo / ".venv" / "nbexplain-setup.stamp").read_text() == stamp


@pytest.mark.slow
def test_setup_notices_what_changed_since_the_install(newcomer, first_setup):
    python = str(newcomer.repo / ".venv" / "bin" / "python")

    def check(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([python, "scripts/env_state.py", "check", *args], cwd=newcomer.repo,
                              capture_output=True, text=True)

    assert check("dev", "torch==2.13.0").returncode == 0
    assert "torch" in check("dev", "torch==2.12.0").stdout  # another pin: pip must run
    pyproject = newcomer.repo / "pyproject.toml"
    text = pyproject.read_text()
    try:
        pyproject.write_text(text + "\n# a changed dependency list\n")
        changed = check("dev", "torch==2.13.0")
        assert changed.returncode == 1 and "pyproject.toml" in changed.stdout
    finally:
        pyproject.write_text(text)
    assert check("dev", "torch==2.13.0").returncode == 0


# ---------------------------------------------------------------------------------------------------
# tour.sh: JupyterLab on the tour, from the repository root, as root
# ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_tour_opens_the_tour_from_the_repository_root(newcomer, first_setup):
    port, token = free_port(), secrets.token_hex(8)
    log = newcomer.tmp / "tour.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(["bash", "scripts/tour.sh", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                                 f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"],
                                cwd=newcomer.repo, env=newcomer.env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def get(path: str, method: str = "GET") -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                get("/api/status")
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        assert proc.poll() is None, f"tour.sh stopped:\n{log.read_text()[-4000:]}"
        assert get("/api/contents/notebooks/00_tour.ipynb?content=0") == 200
        assert get("/lab/tree/notebooks/00_tour.ipynb") == 200
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/api/contents?content=1", headers={"Authorization": f"token {token}"})) as r:
            served = {item["name"] for item in json.load(r)["content"]}
        assert {"notebooks", "nbexplain", "pyproject.toml", "README.md"} <= served  # the repository root
        get("/api/shutdown", method="POST")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
    text = log.read_text()
    assert "==> Re-using the project environment .venv: nbexplain[notebooks]" in text, text[-4000:]
    assert "/lab/tree/notebooks/00_tour.ipynb?token=" in text  # the URL printed is the tour's
    assert "Running as root is not" not in text


# ---------------------------------------------------------------------------------------------------
# test.sh: what is missing is said, skipped with the reason, and fails under NBX_REQUIRE_ALL=1
# ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_test_sh_without_apt_says_what_is_missing_and_skips_the_browser_tests(newcomer, first_setup):
    missing = newcomer.tmp / "no-such-chromium"
    path = newcomer.env["PATH"].split(os.pathsep)[0] + os.pathsep + path_without(
        newcomer.tmp, "apt-get", "apt", "apt-cache", "sudo", "node", "nodejs")
    done, _ = newcomer.run("test.sh", "tests/e2e", timeout=600, PATH=path, NBX_CHROMIUM=str(missing))
    out = done.stdout
    assert done.returncode == 0, out[-6000:]
    assert "==> Re-using the project environment .venv: nbexplain[dev]" in out  # test.sh's second run
    assert "(no apt-get on this machine)" in out
    assert "Missing on this machine (the tests that need it are SKIPPED; the rest runs):" in out
    assert f"Chromium at {missing}: browser tests (tests/e2e)" in out
    assert "node: JavaScript tests" in out
    assert "SKIPPED" in out and f"Chromium not found at {missing}" in out
    counts = pytest_counts(out)
    assert "skipped" in counts and "passed" not in counts, counts

    strict, _ = newcomer.run("test.sh", "tests/e2e", timeout=600, PATH=path, NBX_CHROMIUM=str(missing),
                             NBX_REQUIRE_ALL="1")
    assert strict.returncode != 0, strict.stdout[-6000:]
    assert "Missing on this machine (NBX_REQUIRE_ALL=1: the tests that need it FAIL):" in strict.stdout
    assert "NBX_REQUIRE_ALL=1 (CI): every test must run" in strict.stdout
    counts = pytest_counts(strict.stdout)
    assert "error" in counts and "skipped" not in counts, counts


def pytest_counts(output: str) -> str:
    """pytest's closing line ("43 errors in 1.07s"): what ran, whatever the terminal's width made of the
    summary lines above it (a wide one prints each error's whole message, which may say "skipped")."""
    lines = re.findall(r"^=+ (.+ in [0-9.]+s(?: \(.*\))?) =+$", output, flags=re.M)
    assert lines, output[-3000:]
    return lines[-1]


# ---------------------------------------------------------------------------------------------------
# fast: no install
# ---------------------------------------------------------------------------------------------------
def test_without_python_venv_setup_says_exactly_what_to_run(tmp_path):
    """A Debian python3 without python3-venv, no apt: setup.sh stops at once, naming the package to install."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shims = tmp_path / "shims"
    shims.mkdir()
    real = real_python()
    (shims / "python3").write_text(f"""#!/usr/bin/env bash
if [ "${{1:-}}" = -m ] && [ "${{2:-}}" = venv ]; then
  mkdir -p "$3/bin"  # what Debian's python3 -m venv leaves behind without ensurepip
  echo "The virtual environment was not created successfully because ensurepip is not available." >&2
  exit 1
fi
exec {real} "$@"
""")
    (shims / "python3").chmod(0o755)
    path = f"{shims}{os.pathsep}{path_without(tmp_path, 'apt-get', 'apt', 'apt-cache', 'sudo')}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBX_")}
    done = subprocess.run(["bash", "scripts/setup.sh", "dev"], cwd=repo, env={**env, "PATH": path},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode == 1
    assert "Debian/Ubuntu ship venv and ensurepip in the package python3-venv" in done.stdout
    assert "could not make .venv. Run (as root): apt-get install python3-venv" in done.stdout
    assert not (repo / ".venv").exists()  # no half-made environment to trip over next time


def test_require_all_turns_skips_for_missing_packages_into_failures(tmp_path):
    shutil.copy2(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_in_test.py").write_text(
        "import pytest\n\ndef test_reference():\n    pytest.importorskip('nbx_no_such_reference')\n\n"
        "@pytest.mark.xfail(reason='known', strict=True)\ndef test_known_failure():\n    assert False\n\n"
        "def test_plain():\n    pass\n")
    (tmp_path / "test_in_module.py").write_text(
        "import pytest\n\npytest.importorskip('nbx_no_such_reference')\n\ndef test_never_collected():\n    pass\n")

    def pytest_run(*files: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rfEs", *files],
                              cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)

    relaxed = pytest_run("test_in_test.py", "test_in_module.py", NBX_REQUIRE_ALL="")
    assert relaxed.returncode == 0, relaxed.stdout
    assert "2 skipped" in relaxed.stdout and "could not import 'nbx_no_such_reference'" in relaxed.stdout

    strict = pytest_run("test_in_test.py", NBX_REQUIRE_ALL="1")
    assert strict.returncode == 1, strict.stdout
    assert "1 failed, 1 passed, 1 xfailed" in strict.stdout  # an expected failure is no skip
    assert "NBX_REQUIRE_ALL=1 (CI): every test must run" in strict.stdout
    assert "could not import 'nbx_no_such_reference'" in strict.stdout
    strict_module = pytest_run("test_in_module.py", NBX_REQUIRE_ALL="1")
    assert strict_module.returncode != 0 and "NBX_REQUIRE_ALL=1 (CI)" in strict_module.stdout


def test_notebook_run_times_are_printed_beside_the_budget(tmp_path):
    import nbformat

    shutil.copy2(ROOT / "notebooks" / "conftest.py", tmp_path / "conftest.py")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("import time; time.sleep(0.5); x")]
    nbformat.write(notebook, tmp_path / "tiny.ipynb")
    done = subprocess.run([sys.executable, "-m", "pytest", "tiny.ipynb", "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout
    summary = done.stdout.split("notebook run times")[1]
    line = next(line for line in summary.splitlines() if "tiny.ipynb" in line)
    seconds = float(line.split()[0])
    assert 0.5 <= seconds < 60 and "(budget 90 s on an idle 2-core CPU)" in line

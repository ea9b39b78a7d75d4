"""Real-browser harness: one JupyterLab server per session, a fresh Chromium profile per test.

What it gives a test:

* ``jupyter_server`` (session): ``jupyter lab`` started here on a free 127.0.0.1 port with temporary
  root/config/data/runtime/settings dirs, a random token, news and update checks off, and a kernelspec
  pointing at this interpreter. Stopped with ``POST /api/shutdown`` (which ends the kernels), then the pid.
* ``page`` (function): a page in a fresh ``launch_persistent_context`` of Debian's Chromium.
* ``Notebook``: open a notebook in JupyterLab (``/lab/tree/...``) or Notebook 7 (``/notebooks/...``),
  wait until the kernel is idle, Run All through the Run menu, run one extra cell and read its output,
  read canvas pixels with ``getImageData``.

Every test under ``tests/e2e`` gets the ``e2e`` marker. They skip only when ``/usr/bin/chromium`` is missing,
and never in CI: with ``NBX_REQUIRE_ALL=1`` (``.ci/run``) tests/conftest.py reports the skip as a failure.
Never ``playwright install``: the browser is Debian's.
Set ``NBX_E2E_HEADED=1`` to watch, ``NBX_SCREENSHOT_DIR`` to have tests write README screenshots there.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_kit import CHROMIUM, CHROMIUM_ARGS, Pixels, canvas_pixels

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parents[1]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium); "
                                   "browser tests need it (never `playwright install`)")
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(skip)  # a failure instead under NBX_REQUIRE_ALL=1 (tests/conftest.py)


# ---------------------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JupyterServer:
    url: str
    token: str
    root: Path
    proc: subprocess.Popen
    log: Path

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """Write code cells as ``<root>/<name>``; returns the name."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nbformat.write(nb, self.root / name)
        return name

    def copy_notebook(self, source: Path, name: str | None = None) -> str:
        name = name or source.name
        shutil.copyfile(source, self.root / name)
        return name

    def shutdown_kernels(self) -> None:
        """End every session's kernel (frees the 2 cores between tests)."""
        try:
            for session in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        except (urllib.error.URLError, OSError):
            pass

    def stop(self) -> None:
        try:
            self.api("POST", "/api/shutdown", timeout=5)
        except (urllib.error.URLError, OSError):
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _write_config(config: Path, data: Path, settings: Path) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }))
    notif = settings / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # This interpreter as the python3 kernel, whatever `python` is on PATH.
    spec = data / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python", "metadata": {"debugger": False},
    }))


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter")
    root, config, data, runtime = (base / d for d in ("root", "config", "data", "runtime"))
    settings, workspaces, ipython = base / "settings", base / "workspaces", base / "ipython"
    for d in (root, runtime, workspaces, ipython):
        d.mkdir()
    _write_config(config, data, settings)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(data),
               JUPYTER_RUNTIME_DIR=str(runtime), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(workspaces), IPYTHONDIR=str(ipython),
               JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
    env.pop("JUPYTER_TOKEN", None)
    log = base / "server.log"
    token = secrets.token_hex(16)
    last_error = ""
    for _attempt in range(3):  # the free port may be taken between probing and binding
        port = free_port()
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                 f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                 f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False"],
                cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = JupyterServer(f"http://127.0.0.1:{port}", token, root, proc, log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                server.api("GET", "/api/status", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        if proc.poll() is None and time.monotonic() < deadline:
            break
        last_error = log.read_text()[-3000:]
        server.stop()
    else:
        pytest.fail(f"JupyterLab did not start; its log:\n{last_error}")
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------------
# the browser
# ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def page(playwright_instance, jupyter_server: JupyterServer, tmp_path: Path):
    """A page in a fresh Chromium profile; the test's kernels are shut down afterwards."""
    context = playwright_instance.chromium.launch_persistent_context(
        user_data_dir=str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM),
        headless=not os.environ.get("NBX_E2E_HEADED"), args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(30_000)
    page = context.pages[0] if context.pages else context.new_page()
    page.console_messages = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.console_messages.append(f"pageerror: {exc}\n{exc.stack}"))  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
        jupyter_server.shutdown_kernels()


# ---------------------------------------------------------------------------------------------------
# driving a notebook
# ---------------------------------------------------------------------------------------------------
OUTPUT_MARK = re.compile(r"NBX<<(.*?)>>NBX", re.S)



class Notebook:
    """One open notebook in JupyterLab (``ui="lab"``) or Notebook 7 (``ui="notebook"``)."""

    def __init__(self, page, server: JupyterServer, name: str, ui: str = "lab"):
        self.page, self.server, self.name, self.ui = page, server, name, ui

    # -- opening and running -------------------------------------------------------------------
    def open(self, timeout: float = 90) -> Notebook:
        # a workspace of its own: JupyterLab keeps workspaces on the server and would reopen earlier tests' tabs
        path = f"lab/workspaces/{secrets.token_hex(4)}/tree" if self.ui == "lab" else "notebooks"
        self.page.goto(f"{self.server.url}/{path}/{self.name}?token={self.server.token}")
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)
        return self

    def wait_kernel_idle(self, timeout: float = 90) -> None:
        """Wait until this notebook's kernel is connected to the page and idle.

        The toolbar's circle reads idle before any kernel is connected (Run All then opens a kernel
        dialog), so this asks the server that the notebook's kernel has a websocket connection and is
        idle, and then the page: JupyterLab's status bar reads ``Python 3 (ipykernel) | Idle``; Notebook 7
        has no status bar, its toolbar indicator's ``data-status`` must read idle.
        """
        def connected():
            for session in self.server.api("GET", "/api/sessions"):
                if session.get("path") == self.name:
                    kernel = self.server.api("GET", f"/api/kernels/{session['kernel']['id']}")
                    return kernel.get("connections", 0) > 0 and kernel.get("execution_state") == "idle"
            return False

        self.wait_until(connected, timeout, 0.25, f"a connected, idle kernel for {self.name}")
        if self.ui == "lab":
            self.page.locator("#jp-main-statusbar").get_by_text(
                re.compile(r"Python 3 \(ipykernel\)\s*\|\s*Idle")).wait_for(timeout=timeout * 1000)
        else:
            self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
                timeout=timeout * 1000)

    def run_all(self) -> None:
        """Run > Run All Cells, through the menu bar (command ``runmenu:run-all``)."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
        self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

    def wait_all_run(self, timeout: float = 120) -> None:
        """Wait until every code cell has an execution count; fail at once if Run All stopped at an error."""
        js = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
                       .map(p => p.textContent.trim())"""
        deadline = time.monotonic() + timeout
        stopped = 0
        while time.monotonic() < deadline:
            prompts = self.page.evaluate(js)
            numbered = [bool(re.fullmatch(r"\[\d+\]:?", p)) for p in prompts]
            if prompts and all(numbered):
                return
            running = any("*" in p for p in prompts)
            stopped = stopped + 1 if any(numbered) and not running else 0
            if stopped >= 3:  # the kernel aborted the queue: a cell raised
                raise AssertionError("Run All stopped before the last cell; errors:\n"
                                     + "\n".join(self.output_errors()) + f"\nprompts: {prompts}")
            time.sleep(0.5)
        raise AssertionError(f"cells still running after {timeout}s: {self.page.evaluate(js)}")

    def run_cell(self, code: str, timeout: float = 60) -> str:
        """Append a code cell with ``code``, run it, return the text of its output.

        Print ``NBX<<...>>NBX`` in ``code`` and use :meth:`kernel_value` to get just that part.
        """
        page = self.page
        cells = page.locator(".jp-Notebook .jp-Cell")
        n = cells.count()
        cells.nth(n - 1).locator(".jp-InputArea-prompt").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")  # insert a cell below, in command mode
        new = cells.nth(n)
        new.wait_for()
        new.locator(".cm-content").click()
        page.keyboard.insert_text(code)
        page.keyboard.press("Shift+Enter")
        prompt = new.locator(".jp-InputArea-prompt")
        page.wait_for_function(
            "(el) => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=timeout * 1000)
        return new.locator(".jp-OutputArea").inner_text()

    def kernel_value(self, expression: str, timeout: float = 60) -> str:
        """``str(expression)`` evaluated in the kernel, via a new cell."""
        out = self.run_cell(f'print("NBX<<" + str({expression}) + ">>NBX")', timeout)
        found = OUTPUT_MARK.search(out)
        assert found, f"no value printed for {expression!r}; cell output was:\n{out}"
        return found.group(1)

    # -- reading the page -----------------------------------------------------------------------
    def output_errors(self) -> list[str]:
        """Text of every error output (a traceback). Warnings on stderr look alike in the DOM but have none."""
        texts = self.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                  ).all_inner_texts()
        return [t for t in texts if "Traceback (most recent call last)" in t or re.search(r"^-{20,}", t, re.M)]

    @staticmethod
    def canvas_pixels(locator) -> Pixels:
        """RGBA pixels of a canvas (its backing store, not the CSS size) read with getImageData."""
        return canvas_pixels(locator)

    @staticmethod
    def wait_until(predicate, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
        """Poll ``predicate`` until it returns something truthy; fail with ``message`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


@pytest.fixture
def open_notebook(page, jupyter_server: JupyterServer):
    """``open_notebook(name_or_cells, ui="lab")``: write (when given cells) and open a notebook; returns a Notebook."""

    def opener(notebook: str | list[str], ui: str = "lab", timeout: float = 90) -> Notebook:
        name = notebook
        if not isinstance(notebook, str):
            name = jupyter_server.write_notebook(f"t_{secrets.token_hex(4)}.ipynb", list(notebook))
        return Notebook(page, jupyter_server, name, ui).open(timeout)

    return opener


@pytest.fixture
def screenshot_dir() -> Path | None:
    """Where to write README screenshots (``NBX_SCREENSHOT_DIR``), or None."""
    value = os.environ.get("NBX_SCREENSHOT_DIR")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


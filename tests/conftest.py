"""Fixtures for every test folder (each folder's own fixtures live in its ``*_kit.py``)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the matplotlib figures a test opened (a .plot() call makes one), so none piles up."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# A test may skip only where a dependency may be missing: a reference package (``pytest.importorskip``),
# Debian's Chromium (tests/e2e/conftest.py), node. On a developer's machine the rest runs and the skip says what
# is missing. In CI (``NBX_REQUIRE_ALL=1``, set by ``.ci/run``) everything is installed on purpose, so a skip
# would hide a test that never ran: there every skip, of a test or of a whole module, is reported as a failure.
REQUIRE_ALL = os.environ.get("NBX_REQUIRE_ALL", "").strip() not in ("", "0")


def refuse_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under ``NBX_REQUIRE_ALL=1`` turn a skipped ``report`` into a failure naming the skip's reason."""
    if not (REQUIRE_ALL and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (f"NBX_REQUIRE_ALL=1 (CI): every test must run, but this one would be skipped: {reason}\n"
                       "Install what is missing (bash scripts/test.sh installs everything), or unset "
                       "NBX_REQUIRE_ALL to skip it on this machine.")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    refuse_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report = yield
    refuse_skip(report)
    return report


# -- what the tests measure, shown at the end of the run (export sizes, latencies in the page) -------------------
MEASURED_PREFIX = "[nbx-"
_measured: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _measured.extend(line for line in report.capstdout.splitlines() if line.startswith(MEASURED_PREFIX))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _measured:
        terminalreporter.section("measured by the tests (sizes, latencies; this machine, as loaded as it was)")
        for line in _measured:
            terminalreporter.write_line(line)

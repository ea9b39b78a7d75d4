"""Under nbval (``pytest notebooks --nbval-lax``): print each notebook's run time beside its budget.

A notebook must run offline in at most 90 s on an idle 2-core CPU. The time counted is the sum of its cells'
setup, call and teardown, so it includes starting and stopping the kernel. Printed at the end of the run so
growth is seen; a busy machine runs slower, so exceeding the budget is flagged, not failed.
"""

from __future__ import annotations

import pytest

BUDGET_S = 90.0
_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    notebook = report.nodeid.split("::")[0]
    if notebook.endswith(".ipynb"):
        _seconds[notebook] = _seconds.get(notebook, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _seconds:
        return
    terminalreporter.section("notebook run times")
    for notebook, seconds in sorted(_seconds.items()):
        over = "  OVER BUDGET" if seconds > BUDGET_S else ""
        terminalreporter.write_line(
            f"{seconds:6.1f} s  (budget {BUDGET_S:.0f} s on an idle 2-core CPU)  {notebook}{over}")

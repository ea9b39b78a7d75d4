"""A recording comm: widgets run without a kernel, and every message they send is kept for assertions."""

from __future__ import annotations

import comm
import numpy as np
import pytest
from comm.base_comm import BaseComm
from kit_models import TinyCNN  # noqa: F401 - the one small CNN of every test folder


class RecordingComm(BaseComm):
    """Keeps (msg_type, data, buffers) of everything the widget publishes."""

    def __init__(self, *args, **kwargs):
        self.sent: list[tuple[str, dict, list]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        self.sent.append((msg_type, data or {}, [bytes(b) for b in (buffers or [])]))

    def custom(self) -> list[tuple[dict, list]]:
        """Custom messages (the request protocol), with their buffers."""
        return [(d["content"], b) for t, d, b in self.sent if t == "comm_msg" and d.get("method") == "custom"]

    def updates(self) -> list[tuple[dict, list]]:
        return [(d, b) for t, d, b in self.sent if t == "comm_msg" and d.get("method") == "update"]


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch):
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))


def view_sends(widget, content: dict, buffers: list | None = None) -> None:
    """Deliver a custom message from the view to the widget, as the kernel would."""
    widget._handle_custom_msg(content, buffers or [])


@pytest.fixture
def tiny_cnn():
    return TinyCNN()


@pytest.fixture
def image():
    return (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)

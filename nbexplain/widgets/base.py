"""The one transport every widget shares: requests with ids, stale-result suppression, progress, errors.

Protocol (custom comm messages, arrays as binary buffers via :mod:`.codec`):

* view -> kernel ``{type: "request", id, action, params}``
* kernel -> view ``{type: "progress", id, fraction}`` while computing
* kernel -> view ``{type: "response", id, status: "ok" | "superseded" | "error", data?, error?}``

A kernel may handle a burst of a view's messages out of order (ipykernel 7 dispatches a comm message that
arrives while another is being handled concurrently with it). So every view stamps what it sends: a request
carries ``view`` (a token of that view) and its id, which grows with every message of that view; a state
write carries ``_nbx_write: [token, n]``, n growing likewise. A request older than one already received from
the same view for the same action is answered "superseded" without running; a write of a trait older than
one already applied from the same view is dropped.

Requests run one at a time on a worker thread, so the kernel stays free to receive newer ones. For each
action only the newest waiting request is kept; an older one is answered "superseded" without running, a
running one is cancelled at its next progress report, and a result is committed to the traits only if no
newer request of that action is waiting. The view ignores every response whose id is not the newest it
sent, so a stale result never overwrites a newer one. An exception goes to the ``error`` trait (shown
inside the widget) and the response, and the widget keeps serving later requests. Every request is
answered, a malformed one too (an id that is not an integer, params that are not an object, buffers that
point nowhere): with status "error" naming what was wrong, so a waiting view never stays busy.

What the view may write is declared (``_view_writes``); a write to any other trait is refused, and a
value the trait's validation rejects is refused too: the view is sent the kernel's value back and the
error is shown in the widget. View writes and the worker's commits never interleave (one state lock), and
an observer that a view write triggers must not compute inline (it would wait for a running computation
while holding that lock): it queues the work with :meth:`ExplainerWidget._compute_or_queue`.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import numbers
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import anywidget
import traitlets

from .._validation import check_keywords
from ..errors import Cancelled, InputError, NbexplainError
from .codec import pack_message, unpack_message

#: traits of every ipywidget that its own front end may write
_WIDGET_TRAITS = frozenset({"layout", "tabbable", "tooltip", "_dom_classes", "comm", "keys", "log"})
#: marks a required request field in :func:`field`
REQUIRED = object()
#: the state key under which a view stamps its writes: ``[token, n]`` (see the module docstring)
WRITE_STAMP = "_nbx_write"


def field(params: dict, name: str, default: Any = REQUIRED) -> Any:
    """``params[name]`` of a view request, or ``default``; a missing required field is an error naming it."""
    if name in params:
        return params[name]
    if default is REQUIRED:
        raise InputError(f"the request has no field {name!r}; it has {sorted(params)}")
    return default

Handler = Callable[[Any, dict, "RequestContext"], dict | None]


def handles(action: str):
    """Mark a widget method as the handler of requests for ``action``."""

    def mark(fn):
        fn._nbx_action = action
        return fn

    return mark


class NewestSeen:
    """The newest count received per (view, key): tells a message that arrived after a newer one of its view
    (requests: key = action, count = id; writes: key = trait, count = the write's)."""

    def __init__(self):
        self._newest: dict[tuple[str, str], int] = {}

    def late(self, view: str, key: str, count: int) -> bool:
        """Whether ``count`` is not newer than what ``view`` sent for ``key`` before; if it is, it is recorded."""
        if count <= self._newest.get((view, key), count - 1):
            return True
        self._newest[(view, key)] = int(count)
        return False


@dataclass
class Request:
    id: int
    action: str
    params: dict
    view: str | None = None  # the token of the view that sent it (None: from Python)


class RequestContext:
    """Given to a handler: report progress (which also cancels a superseded run) and check before committing."""

    def __init__(self, dispatcher: Dispatcher | None, request: Request | None):
        self._dispatcher = dispatcher
        self._request = request
        self._last_sent = 0.0

    @property
    def request_id(self) -> int | None:
        """The id of the request being answered (None for work started from Python)."""
        return None if self._request is None else self._request.id

    def check(self) -> None:
        """Raise :class:`Cancelled` when a newer request of the same action is waiting."""
        if self._dispatcher is not None and self._dispatcher.superseded(self._request):
            raise Cancelled(f"request {self._request.id} superseded")

    def progress(self, fraction: float) -> None:
        """Report the fraction done (sent at most every 0.1 s) and stop if superseded."""
        self.check()
        now = time.monotonic()
        if self._dispatcher is not None and (now - self._last_sent > 0.1 or fraction >= 1):
            self._last_sent = now
            self._dispatcher.send({"type": "progress", "id": self._request.id, "fraction": float(fraction)})


#: The context used when Python code (not the view) triggers a computation: no progress, no cancel.
DIRECT = RequestContext(None, None)


class Dispatcher:
    """Runs a widget's requests on one worker thread, newest-per-action, and sends the responses."""

    def __init__(self, widget: ExplainerWidget):
        self.widget = widget
        self._lock = threading.Condition()
        self._waiting: dict[str, Request] = {}
        self._running: Request | None = None
        self._thread: threading.Thread | None = None
        # whether a worker owns the queue: set and cleared under the lock (a worker that found the queue empty
        # is still alive for a moment after it decided to stop; a request submitted then would wait forever)
        self._working = False
        self._received = NewestSeen()  # the newest request id of each view and action
        self.idle = threading.Event()
        self.idle.set()

    def send(self, content: dict) -> None:
        state, buffers = pack_message(content)
        self.widget.send(state, buffers)

    def submit(self, request: Request) -> None:
        with self._lock:
            if self._arrived_late(request):
                dropped = request  # its view sent a newer one of this action already: nobody waits for it
            else:
                dropped = self._waiting.pop(request.action, None)
                self._waiting[request.action] = request
                self.idle.clear()
                if not self._working:
                    self._working = True
                    self._thread = threading.Thread(target=self._work, name="nbexplain-requests", daemon=True)
                    self._thread.start()
                self._lock.notify()
        if dropped is not None:
            self.send({"type": "response", "id": dropped.id, "status": "superseded"})

    def _arrived_late(self, request: Request) -> bool:
        """Whether a newer request of the same view and action was received before ``request`` (under the lock)."""
        return request.view is not None and self._received.late(request.view, request.action, request.id)

    def superseded(self, request: Request) -> bool:
        with self._lock:
            return request.action in self._waiting

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._running = None
                    self._working = False
                    self.idle.set()
                    return
                action = next(iter(self._waiting))
                request = self._running = self._waiting.pop(action)
            self.widget._run_request(request, RequestContext(self, request))


class ExplainerWidget(anywidget.AnyWidget):
    """Base of every nbexplain widget: request dispatch, the error channel and a PNG fallback.

    Subclasses set ``_esm``/``_css`` from :mod:`.assets`, declare traits, and mark handlers with
    :func:`handles`. ``error`` is ``{}`` or ``{action, type, message, traceback}``.
    """

    error = traitlets.Dict().tag(sync=True)
    #: id of the last view request whose result is in the traits (-1: set from Python)
    committed_request = traitlets.Int(-1).tag(sync=True)
    #: the traits the view may write; every other synced trait is read-only from the view
    _view_writes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **kwargs: Any):
        unknown = [k for k in kwargs if not self.has_trait(k)]
        if unknown:  # traitlets would ignore a misspelt keyword: name the nearest valid one instead
            own = [n for n, p in inspect.signature(type(self).__init__).parameters.items()
                   if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            check_keywords(unknown, own + sorted(self.class_trait_names(sync=True)), f"{type(self).__name__}()")
        super().__init__(**kwargs)
        self._dispatcher = Dispatcher(self)
        self._handlers: dict[str, Handler] = {}
        for klass in reversed(type(self).__mro__):  # subclasses override their bases' handlers
            for fn in vars(klass).values():
                if callable(fn) and hasattr(fn, "_nbx_action"):
                    self._handlers[fn._nbx_action] = fn
        self._apply_depth = 0
        self._compute_lock = threading.RLock()
        self._state_lock = threading.RLock()  # view writes and commits never interleave
        self._view_writing = 0
        self._writes = NewestSeen()  # the newest write count of each view and trait
        self.on_msg(self._on_view_message)

    # -- requests ------------------------------------------------------------------------------
    def _on_view_message(self, _widget: Any, content: dict, buffers: list) -> None:
        if not isinstance(content, dict) or content.get("type") != "request":
            return
        rid = content.get("id")
        try:
            if not isinstance(rid, numbers.Integral) or isinstance(rid, bool):
                raise InputError(f"a request id must be an integer; got {rid!r}")
            try:
                content = unpack_message(content, buffers)
            except (KeyError, IndexError, TypeError) as exc:
                raise InputError(f"the request's buffer_paths point nowhere ({type(exc).__name__}: {exc})") from exc
            action, params, view = content.get("action"), content.get("params"), content.get("view")
            if not isinstance(action, str):
                raise InputError(f"a request's action must be a string; got {action!r}")
            if view is not None and not isinstance(view, str):
                raise InputError(f"a request's view must be a string (the view's token); got {view!r}")
            params = {} if params is None else params
            if not isinstance(params, dict):
                raise InputError(f"the params of request {action!r} must be an object; got {type(params).__name__}")
        except InputError as exc:  # answer it: a view waiting for this id must not stay busy
            payload = error_payload(exc, str(content.get("action", "request")))
            self.error = payload
            safe_id = rid if isinstance(rid, (int, float, str)) and not isinstance(rid, bool) else None
            self._dispatcher.send({"type": "response", "id": safe_id, "status": "error", "error": payload})
            return
        self._dispatcher.submit(Request(int(rid), action, params, view))

    def _compute_or_queue(self, action: str, params: dict | None = None) -> bool:
        """During a view write, queue request ``action`` for the worker and return True; else return False
        (the caller computes now). Observers of view-writable traits call it first."""
        if self._view_writing:
            self._dispatcher.submit(Request(-1, action, dict(params or {})))
            return True
        return False

    # -- what the view may write ---------------------------------------------------------------
    def set_state(self, sync_data: dict) -> None:
        """A state update from the view: only declared traits, each validated; refused ones are reverted.

        The values are set under the state lock (so a commit of the worker never interleaves with them);
        the observers they trigger run after the lock is released, so an observer may wait for a running
        computation without blocking the worker's commit.
        """
        accepted: list[tuple[str, Any, list]] = []
        with self._state_lock:
            late = self._late_writes(sync_data)
            if late is None:
                return
            for name, value in sync_data.items():
                if name not in self.keys or name in late:
                    continue
                if name not in self._view_writes and name not in _WIDGET_TRAITS:
                    self._refuse(name, InputError(f"the view may not change {name!r}; it may change "
                                                  f"{sorted(self._view_writes) or 'nothing'}"))
                    continue
                changes: list = []
                before = getattr(self, name)
                self._collecting = changes
                try:
                    super().set_state({name: value})
                except Exception as exc:  # a rejected value: the kernel keeps its own
                    if getattr(self, name) is not before:  # a validator's own error (not a TraitError) left it set
                        self.set_trait(name, before)
                    self._collecting = None
                    self._refuse(name, exc)
                    continue
                finally:
                    self._collecting = None
                accepted.append((name, value, changes))
        self._view_writing += 1
        try:
            for name, value, changes in accepted:
                with self._lock_property(**{name: value}):
                    for change in changes:
                        try:
                            self.notify_change(change)
                        except Exception as exc:  # an observer refused it (and restored what it shows)
                            self._refuse(name, exc)
        finally:
            self._view_writing -= 1

    def _late_writes(self, sync_data: dict) -> set[str] | None:
        """The traits of a stamped write that a newer write of the same view has set already (dropped: the view
        shows the newer value); None for a malformed stamp (the write is refused). Under the state lock."""
        if WRITE_STAMP not in sync_data:
            return set()
        stamp = sync_data[WRITE_STAMP]
        if not (isinstance(stamp, list) and len(stamp) == 2 and isinstance(stamp[0], str)
                and isinstance(stamp[1], numbers.Integral) and not isinstance(stamp[1], bool)):
            names = [n for n in sync_data if n in self.keys]
            self.error = error_payload(InputError(f"a view's write stamp {WRITE_STAMP} must be [token, count]; got "
                                                  f"{stamp!r}: the write of {names} is refused"), "set state")
            if names:
                self.send_state(names)  # the view gets the kernel's values back
            return None
        token, count = stamp
        return {name for name in sync_data if name != WRITE_STAMP and self._writes.late(token, name, count)}

    _collecting: list | None = None

    def notify_change(self, change: Any) -> None:
        if self._collecting is not None:  # inside set_state: fired once the state lock is released
            self._collecting.append(change)
            return
        super().notify_change(change)

    def _refuse(self, name: str, exc: BaseException) -> None:
        self.error = error_payload(exc, f"set {name}")
        self.send_state(name)  # the view gets the kernel's value back

    def _run_request(self, request: Request, ctx: RequestContext) -> None:
        handler = self._handlers.get(request.action)
        try:
            if handler is None:
                raise NbexplainError(f"this widget has no action {request.action!r}; it has {sorted(self._handlers)}")
            with self._compute_lock:
                data = handler(self, request.params, ctx) or {}
            self.error = {}
            self._dispatcher.send({"type": "response", "id": request.id, "status": "ok", "data": data})
        except Cancelled:
            self._dispatcher.send({"type": "response", "id": request.id, "status": "superseded"})
        except Exception as exc:  # shown inside the widget; the worker keeps serving
            self.error = error_payload(exc, request.action)
            self._dispatcher.send({"type": "response", "id": request.id, "status": "error", "error": self.error})

    def request(self, action: str, params: dict | None = None, *, request_id: int | None = None) -> None:
        """Submit a request as the view would (used by tests and by Python code that wants async work)."""
        rid = request_id if request_id is not None else int(time.time() * 1000)
        self._dispatcher.submit(Request(rid, action, params or {}))

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until every submitted request has finished; True if idle before ``timeout``."""
        return self._dispatcher.idle.wait(timeout)

    # -- committing results --------------------------------------------------------------------
    @contextlib.contextmanager
    def _applying(self, ctx: RequestContext = DIRECT):
        """Commit a result to the traits atomically, unless a newer request made it stale."""
        ctx.check()
        with self._state_lock:
            self._apply_depth += 1
            try:
                with self.hold_sync():
                    yield
                    if ctx._request is not None and ctx._request.id >= 0:
                        self.committed_request = ctx._request.id
            finally:
                self._apply_depth -= 1

    @property
    def _is_applying(self) -> bool:
        return self._apply_depth > 0

    # -- static fallback -----------------------------------------------------------------------
    def _static_png(self) -> bytes | None:
        """PNG of the current state for viewers without JavaScript; subclasses override."""
        return None

    def _repr_mimebundle_(self, **kwargs: Any):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        try:
            png = self._static_png()
        except Exception:  # a fallback picture must never break the live widget
            png = None
        if png:
            data = dict(data)
            data["image/png"] = base64.b64encode(png).decode("ascii")
        return data, metadata


def error_payload(exc: BaseException, action: str) -> dict:
    """What the view shows for an exception: its type, message and traceback."""
    return {
        "action": action,
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:],
    }

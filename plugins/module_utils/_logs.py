# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app's logs: every pod's stream, merged in time order (app_log).

Each pod (and container) is read as a stream (``timestamps=true``), one line
at a time; the streams are merged with a heap on those timestamps, so no
stream is ever read whole before the merge and every line is held once. A
bounded ``follow`` reads each stream in a thread of its own until the time
is up, then merges what came. The output is capped by lines and bytes; the
result says what was cut.

The pure parts (durations, timestamps, the merge, the cap) come first and
are table-tested; the requests follow.
"""

from __future__ import annotations

import collections
import datetime
import functools
import heapq
import re
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from . import _resource as res
from ._cron import CRON_LABEL  # on a cron job's pods, which are not the app's
from ._errors import ApiError, ConnectionFailure, SkipperError, ValidationError
from ._service import Service
from ._spec import check_name, check_namespace

DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MAX_LINES = 10000
MAX_BYTES = 10 * 1024 * 1024
FOLLOW_MAX = 3600
LINE_OVERHEAD = 64  # bytes counted per line on top of its text (time, pod, container)
_NS = 1_000_000_000


# -- pure parts
def parse_duration(text: Any) -> int | None:
    """``1h30m``, ``90s``, ``2d`` or a plain number of seconds -> seconds; None when not a duration."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 0 else None
    value = str(text).strip()
    if value.isdigit():
        return int(value)
    match = DURATION.match(value)
    if not value or not match:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def parse_time(text: str) -> int | None:
    """An RFC 3339 timestamp -> nanoseconds since the epoch (None when it is not one).

    Takes any number of fraction digits and any offset, as the kubelet and
    users write them.
    """
    match = _STAMP.match(text)
    if not match:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.datetime.fromisoformat(whole + ("+00:00" if zone in ("Z", "z") else zone))
    except ValueError:
        return None
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return int(moment.timestamp()) * _NS + nanos


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$")


def format_time(nanos: int) -> str:
    """Nanoseconds since the epoch -> RFC 3339 in UTC with nine fraction digits (sorts as text)."""
    seconds, rest = divmod(nanos, _NS)
    return f"{_second(seconds)}.{rest:09d}Z"


@functools.lru_cache(maxsize=256)
def _second(seconds: int) -> str:
    """Logs hold many lines per second: each second is formatted once."""
    return f"{datetime.datetime.fromtimestamp(seconds, datetime.UTC):%Y-%m-%dT%H:%M:%S}"


class StampReader:
    """Splits ``<timestamp> <text>`` lines; the seconds part is parsed once per second of log, not per line."""

    def __init__(self) -> None:
        self._prefix = ""
        self._base = 0

    def split(self, line: str) -> tuple[int, str]:
        stamp, _sep, text = line.partition(" ")
        prefix = stamp[:19]
        if prefix != self._prefix or not stamp.endswith("Z") or len(stamp) < 20:
            nanos = parse_time(stamp)
            if nanos is None:
                # Not a timestamp (a line the runtime did not stamp): keep it whole, with the time before it.
                return self._base, line
            if stamp.endswith("Z"):
                self._prefix = prefix
                self._base = nanos - nanos % _NS
            return nanos, text
        fraction = stamp[20:-1] if stamp[19:20] == "." else ""
        if not fraction.isdigit() and fraction:
            return self._base, line
        return self._base + int(fraction[:9].ljust(9, "0") or 0), text


def check_options(params: dict[str, Any]) -> dict[str, Any]:
    """The app_log options, checked before any request; each error names the app and the field."""
    app = check_name(params["name"])
    options: dict[str, Any] = {"app": app, "namespace": check_namespace(params["namespace"])}
    query: dict[str, Any] = {"timestamps": "true"}
    options["since"] = None
    since = params.get("since")
    if since not in (None, ""):
        seconds = parse_duration(since)
        if seconds is not None:
            if seconds <= 0:
                raise ValidationError(f"app {app}: since: must be more than 0 seconds", app=app, field="since")
            query["sinceSeconds"] = seconds
        else:
            nanos = parse_time(str(since))
            if nanos is None:
                raise ValidationError(
                    f"app {app}: since: {since!r} is neither a duration (30s, 15m, 1h30m, 2d) nor an RFC 3339 "
                    "timestamp (2026-11-25T21:00:00Z)", app=app, field="since")
            # The API takes whole seconds; the lines of that second before the given time are dropped here.
            query["sinceTime"] = format_time(nanos - nanos % _NS)[:19] + "Z"
            options["since"] = nanos
    until = params.get("until")
    options["until"] = None
    if until not in (None, ""):
        nanos = parse_time(str(until))
        if nanos is None:
            seconds = parse_duration(until)
            if seconds is None:
                raise ValidationError(
                    f"app {app}: until: {until!r} is neither an RFC 3339 timestamp (2026-11-25T22:00:00Z) nor a "
                    "duration before now (10m)", app=app, field="until")
            nanos = time.time_ns() - seconds * _NS
        options["until"] = nanos
    for field in ("tail", "max_lines", "max_bytes"):
        value = params.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValidationError(f"app {app}: {field}: must be a whole number of at least 1, not {value!r}",
                                  app=app, field=field)
    options["tail"] = params.get("tail")
    if options["tail"] is not None:
        query["tailLines"] = options["tail"]
    if params.get("previous"):
        query["previous"] = "true"
    follow_for = params.get("follow_for")
    options["follow_for"] = None
    if follow_for not in (None, ""):
        seconds = parse_duration(follow_for)
        if seconds is None or not 0 < seconds <= FOLLOW_MAX:
            raise ValidationError(
                f"app {app}: follow_for: {follow_for!r} must be a duration from 1s to 1h (30s, 5m): a playbook "
                "must end", app=app, field="follow_for")
        if params.get("previous"):
            raise ValidationError(f"app {app}: follow_for: a previous container's log has ended; it cannot be followed",
                                  app=app, field="follow_for")
        options["follow_for"] = seconds
        query["follow"] = "true"
    options["container"] = params.get("container") or None
    options["max_lines"] = params.get("max_lines") or MAX_LINES
    options["max_bytes"] = params.get("max_bytes") or MAX_BYTES
    # With tail, the last lines are the point.
    options["keep"] = "last" if options["tail"] else (params.get("keep") or "last")
    if options["keep"] not in ("first", "last"):
        raise ValidationError(f"app {app}: keep: must be first or last", app=app, field="keep")
    options["query"] = query
    return options


Record = tuple[int, int, str, str, str]  # (time in ns, stream index, pod, container, text)


def merge(streams: Iterable[Iterator[Record]]) -> Iterator[Record]:
    """Every stream is in time order already: a heap merge keeps one line per stream in hand."""
    return heapq.merge(*streams)


class Cap:
    """Keeps the first or the last lines within a line and byte budget, and says what it cut."""

    def __init__(self, max_lines: int, max_bytes: int, keep: str = "last", tail: int | None = None) -> None:
        self.max_lines = min(max_lines, tail) if tail else max_lines
        self.limited_by_tail = bool(tail) and tail <= max_lines  # type: ignore[operator]
        self.max_bytes = max_bytes
        self.keep = keep
        self.kept: collections.deque[Record] = collections.deque()
        self.bytes = 0
        self.cut_lines = 0
        self.cut_bytes = 0
        self.cut_first: int | None = None
        self.cut_last: int | None = None
        self.full = False  # keep first: nothing more will be kept

    @staticmethod
    def size(record: Record) -> int:
        return len(record[4]) + LINE_OVERHEAD

    def _cut(self, record: Record) -> None:
        self.cut_lines += 1
        self.cut_bytes += len(record[4])
        if self.cut_first is None or record[0] < self.cut_first:
            self.cut_first = record[0]
        if self.cut_last is None or record[0] > self.cut_last:
            self.cut_last = record[0]

    def add(self, record: Record) -> None:
        size = self.size(record)
        if self.keep == "first":
            if self.full or len(self.kept) >= self.max_lines or self.bytes + size > self.max_bytes:
                self.full = True
                self._cut(record)
                return
            self.kept.append(record)
            self.bytes += size
            return
        self.kept.append(record)
        self.bytes += size
        while len(self.kept) > self.max_lines or (self.bytes > self.max_bytes and len(self.kept) > 1):
            old = self.kept.popleft()
            self.bytes -= self.size(old)
            self._cut(old)

    def note(self) -> dict[str, Any] | None:
        """What was cut, or None when nothing was."""
        if not self.cut_lines:
            return None
        if self.limited_by_tail and len(self.kept) >= self.max_lines and self.bytes <= self.max_bytes:
            return None  # the tail asked for: the last lines of the merge, nothing cut against the user's wish
        if len(self.kept) >= self.max_lines:
            reason = f"max_lines: {self.max_lines}"
        else:
            reason = f"max_bytes: {self.max_bytes}"
        where = "earliest" if self.keep == "last" else "latest"
        span = (f" from {format_time(self.cut_first)} to {format_time(self.cut_last or 0)}"
                if self.cut_first is not None else "")
        return {"lines": self.cut_lines, "bytes": self.cut_bytes, "kept": self.keep, "reason": reason,
                "message": f"the {where} {self.cut_lines} line(s) ({self.cut_bytes} bytes of text){span} were cut "
                           f"({reason}); {len(self.kept)} line(s) kept"}


def as_line(record: Record) -> dict[str, Any]:
    return {"time": format_time(record[0]), "pod": record[2], "container": record[3], "text": record[4]}


def as_text(record: Record, containers: int) -> str:
    source = f"{record[2]}/{record[3]}" if containers > 1 else record[2]
    return f"{format_time(record[0])} {source} {record[4]}"


# -- requests
def open_stream(svc: Service, path: str, query: dict[str, Any], read_timeout: float | None = None) -> Any:
    """One log stream, not read yet: the client's ``stream`` (its headers, never retried, its error wording)."""
    return svc.client.stream(path, query, read_timeout=read_timeout)


def stream_lines(resp: Any) -> Generator[str, None, None]:
    """The response's lines as they arrive, decoded; ends when the server ends the stream."""
    pending = b""
    try:
        for chunk in resp.stream(65536, decode_content=True):
            if not chunk:
                continue
            pending += chunk
            if b"\n" not in chunk:
                continue
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                yield raw.decode("utf-8", errors="replace")
        if pending:
            yield pending.decode("utf-8", errors="replace")
    finally:
        resp.release_conn()


def shutdown(resp: Any) -> None:
    """Stop a stream that another thread is reading (its blocked read returns at once)."""
    try:
        if hasattr(resp, "shutdown"):  # urllib3 2.3 and later
            resp.shutdown()
        else:  # pragma: no cover - older urllib3
            sock = getattr(getattr(resp, "connection", None), "sock", None)
            if sock is not None:
                import socket

                sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # pragma: no cover - already closed
        pass


def records(resp: Any, index: int, pod: str, container: str, until: int | None,
            since: int | None = None) -> Iterator[Record]:
    """One stream's lines as records, in time order; stops (and closes the stream) past ``until``."""
    reader = StampReader()
    lines = stream_lines(resp)
    try:
        for line in lines:
            nanos, text = reader.split(line)
            if until is not None and nanos > until:
                return
            if since is not None and nanos < since:
                continue
            yield (nanos, index, pod, container, text)
    finally:
        lines.close()


def app_pods(svc: Service, app: str, namespace: str) -> list[dict[str, Any]]:
    """The app's pods (not its cron jobs'), in name order; a missing app is an error."""
    pods = svc.list("Pod", namespace, f"{res.selector_string(app)},!{CRON_LABEL}")
    if not pods and svc.get("Deployment", namespace, app) is None:
        raise ValidationError(
            f"app {app}: not found in namespace {namespace} (no Deployment {app} and no pods labelled "
            f"{res.selector_string(app)}); check the name and the namespace", app=app, field="name")
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def _containers(pod: dict[str, Any], wanted: str | None, app: str) -> list[str]:
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if wanted is None:
        return names
    return [wanted] if wanted in names else []


class _Reader(threading.Thread):
    """Follows one stream until told to stop; lines go to a bounded queue of its own."""

    def __init__(self, resp: Any, index: int, pod: str, container: str, until: int | None, since: int | None,
                 keep_max: int, keep: str) -> None:
        super().__init__(daemon=True)
        self.resp = resp
        self.args = (index, pod, container, until, since)
        self.lines: collections.deque[Record] = collections.deque()
        self.keep_max = keep_max
        self.keep = keep
        self.dropped: list[Record] = []  # only the first and last dropped, for the note
        self.dropped_count = 0
        self.dropped_bytes = 0
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        try:
            for record in records(self.resp, *self.args):
                if self.stop.is_set():
                    return
                self.lines.append(record)
                if len(self.lines) > self.keep_max:
                    dropped = self.lines.popleft() if self.keep == "last" else self.lines.pop()
                    self.dropped_count += 1
                    self.dropped_bytes += len(dropped[4])
                    self.dropped[1:] = [dropped]
                    if len(self.dropped) == 1:
                        self.dropped.insert(0, dropped)
                    if self.keep == "first":
                        return
        except Exception as exc:  # noqa: BLE001  # a stream cut by shutdown, or by the server
            if not self.stop.is_set():
                self.error = str(exc)


def _drain(queue: collections.deque[Record]) -> Iterator[Record]:
    while queue:
        yield queue.popleft()


def read_logs(svc: Service, params: dict[str, Any]) -> dict[str, Any]:
    """The app_log runner: reads only, so check mode runs it too."""
    opts = check_options(params)
    app, namespace = opts["app"], opts["namespace"]
    # One connection per pod and container, open together: keep them all for reuse (before the first request).
    pool_size = getattr(svc.client, "pool_size", None)
    if pool_size is not None:
        pool_size(64)
    pods = app_pods(svc, app, namespace)
    streams: list[tuple[str, str]] = []
    unread: list[dict[str, str]] = []
    for pod in pods:
        pod_name = pod["metadata"]["name"]
        names = _containers(pod, opts["container"], app)
        if not names:
            unread.append({"pod": pod_name, "container": opts["container"] or "",
                           "reason": f"no container named {opts['container']}"})
        streams += [(pod_name, name) for name in names]
    if opts["container"] and pods and not streams:
        raise ValidationError(f"app {app}: container: no pod of the app has a container named {opts['container']}",
                              app=app, field="container")
    cap = Cap(opts["max_lines"], opts["max_bytes"], opts["keep"],
              None if opts["follow_for"] else opts["tail"])
    containers = len({container for _pod, container in streams})
    opened: list[tuple[Any, int, str, str]] = []
    deadline = time.monotonic() + (opts["follow_for"] or 0)
    try:
        for index, (pod_name, container) in enumerate(streams):
            query = dict(opts["query"], container=container)
            path = res.object_path("Pod", namespace, pod_name, "log")
            try:
                read_timeout = max(deadline - time.monotonic(), 0.1) + 1.0 if opts["follow_for"] else None
                resp = open_stream(svc, path, query, read_timeout)
            except ApiError as exc:
                if exc.status in (400, 404):  # not started yet, no previous container, gone since the list
                    unread.append({"pod": pod_name, "container": container, "reason": exc.message})
                    continue
                raise SkipperError(f"app {app}: cannot read the log of pod {namespace}/{pod_name} "
                                   f"(container {container}): {exc.message}") from None
            opened.append((resp, index, pod_name, container))
        if opts["follow_for"]:
            _follow(opened, opts, cap, deadline)
        else:
            for record in merge(records(resp, i, p, c, opts["until"], opts["since"]) for resp, i, p, c in opened):
                cap.add(record)
                if cap.full:
                    break
    except (ConnectionFailure, OSError) as exc:
        raise SkipperError(f"app {app}: a log stream broke off: {getattr(exc, 'message', exc)}") from None
    finally:
        for resp, *_rest in opened:
            if resp.isclosed():
                resp.release_conn()
            else:
                shutdown(resp)
    return result(app, namespace, pods, streams, unread, cap, containers, params.get("output") or "both")


def _follow(opened: list[tuple[Any, int, str, str]], opts: dict[str, Any], cap: Cap, deadline: float) -> None:
    """Read every stream in its own thread until the deadline, then merge what came."""
    readers = [_Reader(resp, i, p, c, opts["until"], opts["since"], opts["max_lines"], opts["keep"])
               for resp, i, p, c in opened]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(max(deadline - time.monotonic(), 0.0))
    for reader in readers:
        reader.stop.set()
        shutdown(reader.resp)
    for reader in readers:
        reader.join(2.0)
    for reader in readers:
        for dropped in reader.dropped:
            cap._cut(dropped)
        if reader.dropped_count > len(reader.dropped):
            cap.cut_lines += reader.dropped_count - len(reader.dropped)
            cap.cut_bytes += reader.dropped_bytes - sum(len(r[4]) for r in reader.dropped)
    for record in merge(_drain(reader.lines) for reader in readers):
        cap.add(record)


def result(app: str, namespace: str, pods: list[dict[str, Any]], streams: list[tuple[str, str]],
           unread: list[dict[str, str]], cap: Cap, containers: int, output: str) -> dict[str, Any]:
    out: dict[str, Any] = {"changed": False, "app": app, "namespace": namespace,
                           "pods": [p["metadata"]["name"] for p in pods],
                           "streams": [{"pod": p, "container": c} for p, c in streams],
                           "unread": unread, "truncated": cap.note()}
    kept = cap.kept
    if output in ("both", "lines"):
        out["lines"] = [as_line(r) for r in kept]
    if output in ("both", "stdout"):
        out["stdout_lines"] = [as_text(r, containers) for r in kept]
    out["line_count"] = len(kept)
    if out["truncated"]:
        out["warnings"] = [f"app {app}: {out['truncated']['message']}"]
    return out

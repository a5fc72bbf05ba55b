# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a command in a pod: the API server's exec stream over a WebSocket.

The stream is the ``channel.k8s.io`` family of WebSocket subprotocols: every
binary message starts with one byte naming its channel (0 stdin, 1 stdout,
2 stderr, 3 the final Status as JSON, 4 terminal resize) and ``v5`` adds
channel 255, whose message ``[255, 0]`` closes stdin so that a command
reading it sees the end. ``v5`` is offered first and ``v4`` second in the
same handshake; a server that only speaks ``v4`` can run commands, but not
ones that wait for the end of their input.

The socket is opened by the client (``Client.open_socket``, over its own
urllib3 pool): the same CA, client certificate, server name and proxy tunnel
as every other request; the headers are the client's ``identity_headers``
(token, impersonation, basic auth, User-Agent). Only the
WebSocket framing comes from ``websocket-client``, the library the
``kubernetes`` package itself streams with: maintained, pure Python, no
event loop.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from ._errors import ApiError, ConnectionFailure, SkipperError, ValidationError

try:
    import websocket

    HAS_WEBSOCKET = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_WEBSOCKET = False

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
CHUNK = 64 * 1024
# Runtimes that report a failed command through the error text rather than
# the NonZeroExitCode reason (KWOK's local exec, some CRI shims) end it with Go's
# os/exec wording.
_EXIT_TEXT = re.compile(r"exit (?:status|code) (\d+)\s*$")


class ExecError(SkipperError):
    """The command could not be started or its stream broke."""


def parse_status(doc: Any) -> tuple[int | None, str]:
    """The command's exit code from the channel 3 Status, and the Status's message.

    ``(0, "")`` on Success; ``(N, message)`` for NonZeroExitCode (the ExitCode
    cause) or an error whose text ends in an exit status; ``(None, message)``
    when the command did not run (no such executable, container gone).
    """
    if not isinstance(doc, dict):
        return None, "the exec stream ended with an unreadable status"
    if doc.get("status") == "Success":
        return 0, ""
    message = str(doc.get("message") or doc.get("reason") or "the command failed")
    if doc.get("reason") == "NonZeroExitCode":
        for cause in (doc.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                try:
                    return int(cause.get("message")), message
                except (TypeError, ValueError):
                    break
    found = _EXIT_TEXT.search(message)
    if found:
        return int(found.group(1)), message
    return None, message


def exec_path(namespace: str, pod: str, command: list[str], container: str | None, stdin: bool) -> str:
    query: list[tuple[str, str]] = [("command", arg) for arg in command]
    if container:
        query.append(("container", container))
    query += [("stdin", "true" if stdin else "false"), ("stdout", "true"), ("stderr", "true"), ("tty", "false")]
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/exec?{urlencode(query)}"


def _headers(client: Any) -> list[str]:
    """The client's identity headers as websocket-client takes them: ``Name: value`` lines."""
    return [f"{name}: {value}" for name, value in client.identity_headers()]


class ExecStream:
    """One exec call: open, send stdin, read (channel, bytes) until the server closes, then ``rc``."""

    def __init__(self, client: Any, namespace: str, pod: str, command: list[str], container: str | None = None,
                 stdin: bool = False, deadline: float | None = None) -> None:
        self.where = f"pod {namespace}/{pod}"
        self.deadline = deadline
        self.status: Any = None
        self.sent = 0  # stdin bytes sent so far
        self._send_lock = threading.Lock()  # send and close_stdin may come from a caller's thread
        self._send_failure: list[BaseException] = []
        sock = client.open_socket()
        url = client.host.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        url += exec_path(namespace, pod, command, container, stdin)
        self.ws = websocket.WebSocket(skip_utf8_validation=True, enable_multithread=True)
        try:
            self.ws.connect(url, socket=sock, header=_headers(client), subprotocols=list(PROTOCOLS),
                            timeout=client.connect_timeout)
        except websocket.WebSocketBadStatusException as exc:
            sock.close()
            raise _handshake_error(self.where, exc) from None
        except (websocket.WebSocketException, OSError) as exc:
            sock.close()
            raise ConnectionFailure(f"Failed to exec in {self.where}: the WebSocket handshake failed ({exc}); the "
                                    f"server must agree on {' or '.join(PROTOCOLS)}") from None
        self.protocol = self.ws.getsubprotocol() or ""
        if self.protocol not in PROTOCOLS:
            self.ws.close()
            raise ExecError(f"Failed to exec in {self.where}: the API server did not agree on an exec protocol "
                            f"(offered {', '.join(PROTOCOLS)}, got {self.protocol or 'none'})")
        self.ws.settimeout(self._left())

    def _left(self) -> float | None:
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.01)

    def send(self, data: bytes) -> None:
        for start in range(0, len(data), CHUNK):
            with self._send_lock:
                self.ws.send_binary(bytes((STDIN,)) + data[start:start + CHUNK])
            self.sent += len(data[start:start + CHUNK])

    def close_stdin(self) -> None:
        if self.protocol != PROTOCOLS[0]:
            raise ExecError(f"Failed to exec in {self.where}: the API server speaks only {self.protocol}, which "
                            "cannot close a command's input (Kubernetes 1.30 and later speak v5.channel.k8s.io)")
        with self._send_lock:
            self.ws.send_binary(bytes((CLOSE, STDIN)))

    def feed(self, chunks: Iterable[bytes]) -> None:
        """Send ``chunks`` on stdin, then close it (v5).

        Sent from this thread before any reading: one TLS connection must not be
        read and written from two threads at once (ssl objects are not thread
        safe before Python 3.12). The commands fed here read their input before
        they say much, and what they say waits in the socket buffers meanwhile.
        A send that fails because the command ended early is left to ``result``.
        """
        try:
            for chunk in chunks:
                self.ws.settimeout(self._left())
                self.send(chunk)
            if self.protocol == PROTOCOLS[0]:
                self.close_stdin()
        except (websocket.WebSocketTimeoutException, TimeoutError):
            self.close()
            raise ExecError(f"Failed to exec in {self.where}: the command did not finish in time") from None
        except (websocket.WebSocketException, OSError) as exc:
            self._send_failure.append(exc)

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(channel, data) for stdout and stderr until the server ends the stream; the Status is kept."""
        while True:
            self.ws.settimeout(self._left())
            try:
                opcode, data = self.ws.recv_data()
            except websocket.WebSocketTimeoutException:
                self.ws.close()
                raise ExecError(f"Failed to exec in {self.where}: the command did not finish in time") from None
            except websocket.WebSocketConnectionClosedException:
                return
            except (websocket.WebSocketException, OSError) as exc:
                if self.status is not None:
                    return  # the server closed the socket under our close reply: the command had ended
                raise ConnectionFailure(f"the exec stream of {self.where} broke: {exc}") from None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == ERROR:
                if payload:
                    try:
                        self.status = json.loads(payload)
                    except ValueError:
                        self.status = {"status": "Failure", "message": payload.decode(errors="replace")}
                continue
            if channel in (STDOUT, STDERR) and payload:
                yield channel, payload

    def result(self) -> tuple[int | None, str]:
        """(rc, message) once ``frames`` is exhausted; a stream that ended without a Status is an error."""
        if self.status is None and self._send_failure:
            exc = self._send_failure[0]
            if isinstance(exc, SkipperError):
                raise exc
            raise ConnectionFailure(f"the exec stream of {self.where} broke while sending: {exc}")
        if self.status is None:
            raise ConnectionFailure(f"the exec stream of {self.where} ended before the command's exit status came")
        return parse_status(self.status)

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except (websocket.WebSocketException, OSError):
            pass


def _handshake_error(where: str, exc: Any) -> SkipperError:
    status = getattr(exc, "status_code", 0) or 0
    body = getattr(exc, "resp_body", b"") or b""
    message = ""
    try:
        doc = json.loads(body)
        message = doc.get("message") or ""
    except (ValueError, TypeError, AttributeError):
        message = body.decode(errors="replace")[:300] if isinstance(body, bytes) else ""
    return ApiError(f"Failed to exec in {where}: {status} {message or exc}".rstrip(), status=status)


class Capture:
    """Bytes kept up to a limit; what goes past it is counted, not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        self.data = bytearray()  # never held twice
        return text


def run(stream: ExecStream, stdin: Iterable[bytes] | None = None,
        on_stdout: Callable[[bytes], None] | None = None,
        on_stderr: Callable[[bytes], None] | None = None) -> tuple[int | None, str]:
    """Send ``stdin`` (then close it), and read stdout and stderr into the sinks to the end: (rc, message)."""
    if stdin is not None:
        stream.feed(stdin)
    try:
        for channel, data in stream.frames():
            sink = on_stdout if channel == STDOUT else on_stderr
            if sink:
                sink(data)
    finally:
        stream.close()
    return stream.result()


def run_captured(client: Any, namespace: str, pod: str, command: list[str], container: str | None = None,
                 stdin: bytes | None = None, limit: int = 10 * 1024 * 1024,
                 deadline: float | None = None) -> dict[str, Any]:
    """Run and keep stdout and stderr (each up to ``limit`` bytes): rc, stdout, stderr, message, dropped."""
    out, err = Capture(limit), Capture(limit)
    stream = ExecStream(client, namespace, pod, command, container, stdin is not None, deadline)
    rc, message = run(stream, [stdin] if stdin is not None else None, out.add, err.add)
    return {"rc": rc, "message": message, "stdout": out.text(), "stderr": err.text(),
            "dropped": {"stdout": out.dropped, "stderr": err.dropped}}


# -- the app_exec module's runner


def _command(params: dict[str, Any], app: str) -> list[str]:
    if params.get("argv") is not None:
        argv = [str(a) for a in params["argv"]]
        field = "argv"
    else:
        import shlex

        try:
            argv = shlex.split(params.get("cmd") or "")
        except ValueError as exc:
            raise ValidationError(f"app {app}: cmd cannot be split into arguments: {exc}", app=app, field="cmd") from None
        field = "cmd"
    if not argv or not argv[0].strip():
        raise ValidationError(f"app {app}: {field} is empty: give the command to run", app=app, field=field)
    return argv


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _exists(svc: Any, namespace: str, pod: str, container: str | None, path: str, deadline: float | None) -> bool:
    """Whether ``path`` exists in the pod, by ``test -e`` run there."""
    found = run_captured(svc.client, namespace, pod, ["sh", "-c", 'test -e "$1"', "sh", path], container,
                         limit=4096, deadline=deadline)
    if found["rc"] in (0, 1):
        return found["rc"] == 0
    raise ExecError(f"Failed to check whether {path} exists in pod {namespace}/{pod}: "
                    f"{found['message'] or found['stderr'].strip() or 'rc ' + str(found['rc'])}")


def _skip_reason(svc: Any, namespace: str, pod: str, params: dict[str, Any], deadline: float | None) -> str:
    if params.get("creates") and _exists(svc, namespace, pod, params.get("container"), params["creates"], deadline):
        return f"skipped, since {params['creates']} exists"
    if params.get("removes") and not _exists(svc, namespace, pod, params.get("container"), params["removes"],
                                             deadline):
        return f"skipped, since {params['removes']} does not exist"
    return ""


def _one_pod(svc: Any, namespace: str, pod: str, argv: list[str], params: dict[str, Any], check_mode: bool,
             deadline: float | None) -> dict[str, Any]:
    skip = _skip_reason(svc, namespace, pod, params, deadline)
    base: dict[str, Any] = {"pod": pod, "cmd": argv}
    if skip:
        return {**base, "changed": False, "rc": 0, "stdout": "", "stderr": "", "stdout_lines": [],
                "stderr_lines": [], "msg": skip, "skipped": True}
    if check_mode:
        if not (params.get("creates") or params.get("removes")):
            return {**base, "changed": False, "skipped": True, "rc": 0, "stdout": "", "stderr": "",
                    "stdout_lines": [], "stderr_lines": [], "msg": "check mode: the command was not run"}
        return {**base, "changed": True, "rc": 0, "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": [],
                "msg": "check mode: the command would have run"}
    stdin = params.get("stdin")
    data = None
    if stdin is not None:
        data = (stdin + ("\n" if params.get("stdin_add_newline", True) and not stdin.endswith("\n") else "")).encode()
    started = time.time()
    out = run_captured(svc.client, namespace, pod, argv, params.get("container"), data,
                       params.get("output_limit") or 10 * 1024 * 1024, deadline)
    ended = time.time()
    result = {**base, "changed": True, "rc": out["rc"], "stdout": out["stdout"], "stderr": out["stderr"],
              "start": _stamp(started), "end": _stamp(ended), "delta": _delta(ended - started)}
    result["stdout_lines"] = _lines(result["stdout"])
    result["stderr_lines"] = _lines(result["stderr"])
    dropped = {k: v for k, v in out["dropped"].items() if v}
    if dropped:
        result["truncated"] = dropped
    if out["rc"] is None:
        del result["rc"]  # there was no exit code to report
        result["msg"] = f"the command did not run in pod {namespace}/{pod}: {out['message']}"
    elif out["rc"] not in (params.get("ok_rc") or [0]):
        result["msg"] = f"non-zero return code {out['rc']} in pod {namespace}/{pod}"
    return result


def _stamp(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)) + f".{int(when % 1 * 1e6):06d}"


def _delta(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:09.6f}"


def _failed(result: dict[str, Any], ok_rc: list[int]) -> bool:
    return not result.get("skipped") and result.get("rc") not in ok_rc


def run_app_exec(svc: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """app_exec: run the command in the chosen pod(s); a failed command raises with the whole result."""
    from ._pods import choose

    app, namespace = params["name"], params["namespace"]
    argv = _command(params, app)
    if params.get("pod") and params.get("all_pods"):
        raise ValidationError(f"app {app}: pod and all_pods exclude each other: name one pod or ask for all",
                              app=app, field="pod")
    for field in ("output_limit", "timeout"):
        if params.get(field) is not None and params[field] <= 0:
            raise ValidationError(f"app {app}: {field} must be a positive number, not {params[field]}",
                                  app=app, field=field)
    if not HAS_WEBSOCKET:
        raise SkipperError("app_exec needs the Python package websocket-client on the host that runs the module")
    deadline = time.monotonic() + params["timeout"] if params.get("timeout") else None
    pods = choose(svc, namespace, app, params.get("pod"), bool(params.get("all_pods")))
    ok_rc = params.get("ok_rc") or [0]
    results = [_one_pod(svc, namespace, p["metadata"]["name"], argv, params, check_mode, deadline) for p in pods]
    if params.get("all_pods"):
        failed = [r for r in results if _failed(r, ok_rc)]
        outcome: dict[str, Any] = {
            "changed": any(r["changed"] for r in results), "results": results, "cmd": argv,
            "rc": failed[0].get("rc") if failed else 0,
        }
        if all(r.get("skipped") for r in results):
            outcome["skipped"] = True
        if failed:
            names = ", ".join(r["pod"] for r in failed)
            raise SkipperError(f"the command failed in {len(failed)} of {len(results)} pod(s) of app {app}: {names}",
                               **outcome)
        return outcome
    result = results[0]
    if _failed(result, ok_rc):
        message = result.pop("msg")
        raise SkipperError(message, **result)
    result["failed"] = False  # else Ansible fails a result whose rc is not 0, which ok_rc may allow
    return result

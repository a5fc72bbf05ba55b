# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exec stream: channel framing and status parsing against a fake server on a socket pair."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from typing import Any

import pytest
import websocket
from ansible_collections.skipper.platform.plugins.module_utils import _exec
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, ConnectionFailure, ValidationError

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUCCESS = {"metadata": {}, "status": "Success"}
NON_ZERO = {"metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code: exit 3",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}


@pytest.mark.parametrize(("doc", "rc"), [
    (SUCCESS, 0),
    (NON_ZERO, 3),
    # KWOK's local exec, some CRI shims: the exit status only in the text
    ({"status": "Failure", "reason": "InternalError",
      "message": "error executing command in container: cmd wait: sh -c exit 7: exit status 7"}, 7),
    ({"status": "Failure", "reason": "InternalError",
      "message": 'cmd start: nope : exec: "nope": executable file not found in $PATH'}, None),
    ({"status": "Failure", "reason": "NonZeroExitCode",
      "details": {"causes": [{"reason": "ExitCode", "message": "x"}]}}, None),
    ("not a dict", None),
])
def test_parse_status(doc: Any, rc: int | None) -> None:
    assert _exec.parse_status(doc)[0] == rc


def test_exec_path_quotes_every_argument() -> None:
    path = _exec.exec_path("shop", "web-1", ["sh", "-c", "echo a&b=c"], "app", True)
    assert path == ("/api/v1/namespaces/shop/pods/web-1/exec?command=sh&command=-c&command=echo+a%26b%3Dc"
                    "&container=app&stdin=true&stdout=true&stderr=true&tty=false")


class FakeServer:
    """The API server's side of one exec: answers the handshake, records what comes in, sends scripted frames."""

    def __init__(self, frames: list[bytes], protocol: str | None = "v5.channel.k8s.io", status: int = 101,
                 wait_for_close: bool = False) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.frames = frames
        self.protocol = protocol
        self.status = status
        self.wait_for_close = wait_for_close
        self.request = b""
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        sock = self.ours
        while b"\r\n\r\n" not in self.request:
            self.request += sock.recv(4096)
        if self.status != 101:
            body = json.dumps({"kind": "Status", "message": 'pods "web-1" is forbidden'}).encode()
            sock.sendall(f"HTTP/1.1 {self.status} Forbidden\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            sock.close()
            return
        key = [line.split(":", 1)[1].strip() for line in self.request.decode().split("\r\n")
               if line.lower().startswith("sec-websocket-key:")][0]
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        head = f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
               f"Sec-WebSocket-Accept: {accept}\r\n"
        if self.protocol:
            head += f"Sec-WebSocket-Protocol: {self.protocol}\r\n"
        sock.sendall((head + "\r\n").encode())
        reader = self.reader = websocket.WebSocket()  # kept: its end of the socket stays open
        reader.sock = sock
        reader.frame_buffer = websocket._abnf.frame_buffer(sock.recv, True)  # noqa: SLF001
        if self.wait_for_close:
            while True:
                frame = reader.recv_frame()
                self.received.append(frame.data)
                if frame.data[:1] == bytes((_exec.CLOSE,)):
                    break
        for data in self.frames:
            sock.sendall(websocket.ABNF(1, 0, 0, 0, websocket.ABNF.OPCODE_BINARY, 0, data).format())
        sock.sendall(websocket.ABNF(1, 0, 0, 0, websocket.ABNF.OPCODE_CLOSE, 0, b"\x03\xe8").format())


class FakeClient:
    """What exec asks of the client: its address, its identity headers and a connected socket."""

    host = "https://127.0.0.1:6443"
    connect_timeout = 5.0

    def __init__(self, server: FakeServer) -> None:
        self.server = server

    def identity_headers(self) -> list[tuple[str, str]]:
        return [("User-Agent", "skipper.platform"), ("Authorization", "Bearer t0ken"), ("Impersonate-User", "jane")]

    def open_socket(self) -> socket.socket:
        return self.server.theirs


@pytest.fixture
def connect() -> Any:
    def _connect(server: FakeServer, **kwargs: Any) -> _exec.ExecStream:
        return _exec.ExecStream(FakeClient(server), "shop", "web-1", ["sh", "-c", "true"], **kwargs)

    return _connect


def test_frames_are_split_by_channel_and_the_status_kept(connect: Any) -> None:
    server = FakeServer([b"\x01", b"\x02", b"\x01out", b"\x02err", b"\x01more", b"\x03" + json.dumps(NON_ZERO).encode()])
    stream = connect(server)
    assert stream.protocol == "v5.channel.k8s.io"
    assert list(stream.frames()) == [(1, b"out"), (2, b"err"), (1, b"more")]
    assert stream.result() == (3, NON_ZERO["message"])
    request = server.request.decode()
    assert "Authorization: Bearer t0ken" in request
    assert "Impersonate-User: jane" in request
    assert "User-Agent: skipper.platform" in request
    assert "Sec-WebSocket-Protocol: v5.channel.k8s.io,v4.channel.k8s.io" in request


def test_stdin_is_sent_on_channel_0_then_closed(connect: Any) -> None:
    server = FakeServer([b"\x01got it", b"\x03" + json.dumps(SUCCESS).encode()], wait_for_close=True)
    stream = connect(server, stdin=True)
    out = bytearray()
    assert _exec.run(stream, [b"a" * 70000, b"end"], out.extend) == (0, "")
    assert out == b"got it"
    sent = b"".join(data[1:] for data in server.received if data[:1] == b"\x00")
    assert sent == b"a" * 70000 + b"end"
    assert server.received[-1] == bytes((255, 0))


def test_v4_runs_but_cannot_close_stdin(connect: Any) -> None:
    stream = connect(FakeServer([b"\x03" + json.dumps(SUCCESS).encode()], protocol="v4.channel.k8s.io"))
    assert stream.protocol == "v4.channel.k8s.io"
    with pytest.raises(_exec.ExecError, match="cannot close a command's input"):
        stream.close_stdin()
    assert list(stream.frames()) == []
    assert stream.result() == (0, "")


def test_a_stream_that_ends_without_a_status_is_an_error(connect: Any) -> None:
    stream = connect(FakeServer([b"\x01partial"]))
    with pytest.raises(ConnectionFailure, match="ended before the command's exit status came|broke"):
        assert list(stream.frames()) == [(1, b"partial")]
        stream.result()


def test_a_refused_handshake_names_the_pod_and_the_reason(connect: Any) -> None:
    with pytest.raises(ApiError, match=r"Failed to exec in pod shop/web-1: 403 pods \"web-1\" is forbidden"):
        connect(FakeServer([], status=403))


def test_no_agreed_protocol_is_refused(connect: Any) -> None:
    with pytest.raises(ConnectionFailure, match="the server must agree on v5.channel.k8s.io or v4.channel.k8s.io"):
        connect(FakeServer([], protocol=None))


def test_capture_keeps_up_to_the_limit_and_counts_the_rest() -> None:
    capture = _exec.Capture(5)
    for chunk in (b"abc", b"defg", b"hij"):
        capture.add(chunk)
    assert (capture.text(), capture.dropped) == ("abcde", 5)


@pytest.mark.parametrize(("params", "message"), [
    ({"argv": []}, "argv is empty"),
    ({"argv": [" "]}, "argv is empty"),
    ({"cmd": ""}, "cmd is empty"),
    ({"cmd": "echo 'open"}, "cannot be split"),
])
def test_bad_commands(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _exec._command(params, "web")  # noqa: SLF001


def test_cmd_is_split_like_a_shell_would() -> None:
    assert _exec._command({"cmd": "echo 'two words' three"}, "web") == ["echo", "two words", "three"]  # noqa: SLF001

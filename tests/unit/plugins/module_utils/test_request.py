"""Client.request retries, Client.stream and Service error messages, over a scripted connection pool."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import urllib3
from ansible_collections.skipper.platform.plugins.module_utils import _auth, _client, _service
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, ConnectionFailure


class Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "")
        self.data = json.dumps(body).encode() if body is not None else b""
        self.headers = headers or {}


class Pool:
    """Plays back responses (or raises exceptions) in order, recording each call."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, str]] = []
        self.kwargs: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        self.calls.append((method, url))
        self.kwargs.append(kwargs)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def client(pool: Any = None, host: str = "https://k8s.example:6443") -> _client.Client:
    """A client built from task parameters (a token, no kubeconfig); ``pool`` replaces its connection pool."""
    made = _client.Client({**dict.fromkeys(_auth.AUTH_ARG_SPEC), "host": host, "api_key": "secret-token-value",
                           "connect_timeout": 1.0, "request_timeout": 1.0}, env={})
    if pool is not None:
        made.pool = pool
    return made


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(_client.time, "sleep", slept.append)
    return slept


LIVE_SERVICE = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "shop", "uid": "7d5c0d2e-1111-4c1e-9a53-000000000001",
                             "resourceVersion": "4242"}}
STATUS_404 = {"kind": "Status", "reason": "NotFound", "message": 'deployments.apps "web" not found'}


@pytest.mark.parametrize(
    ("script", "result", "calls"),
    [
        pytest.param([Response(200, {"a": 1})], {"a": 1}, 1, id="first-try"),
        pytest.param([Response(503), Response(200, {"a": 1})], {"a": 1}, 2, id="5xx-retried"),
        pytest.param([Response(429, headers={"Retry-After": "1"}), Response(200, {"a": 1})], {"a": 1}, 2, id="429-retried"),
        pytest.param([urllib3.exceptions.ProtocolError("dropped"), Response(200, {"a": 1})], {"a": 1}, 2,
                     id="dropped-connection-retried"),
    ],
)
def test_transient_failures_are_retried(script: list[Any], result: Any, calls: int) -> None:
    pool = Pool(*script)
    assert client(pool).request("GET", "/api/v1/namespaces") == result
    assert len(pool.calls) == calls


def test_retries_stop_after_three_with_growing_backoff(no_sleep: list[float]) -> None:
    pool = Pool(*[Response(503, {"reason": "ServiceUnavailable", "message": "etcd is sleeping"})] * 4)
    with pytest.raises(ApiError) as caught:
        client(pool).request("GET", "/api/v1/namespaces")
    assert len(pool.calls) == 4
    assert no_sleep == sorted(no_sleep) and len(no_sleep) == 3
    assert caught.value.status == 503
    assert "etcd is sleeping" in caught.value.message


def test_a_retried_delete_that_finds_nothing_counts_as_deleted() -> None:
    pool = Pool(urllib3.exceptions.ProtocolError("answer lost"), Response(404, STATUS_404))
    assert client(pool).request("DELETE", "/apis/apps/v1/namespaces/a/deployments/web") is None


def test_a_first_try_404_is_an_error() -> None:
    with pytest.raises(ApiError) as caught:
        client(Pool(Response(404, STATUS_404))).request("DELETE", "/apis/apps/v1/namespaces/a/deployments/web")
    assert caught.value.status == 404


def test_unreachable_server_is_named_and_token_is_not() -> None:
    pool = Pool(*[urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: refused")] * 4)
    with pytest.raises(ConnectionFailure) as caught:
        client(pool).request("GET", "/api/v1/namespaces")
    assert "https://k8s.example:6443" in caught.value.message
    assert "secret-token-value" not in caught.value.message


def test_401_names_the_server_and_the_source_but_not_the_token() -> None:
    with pytest.raises(ApiError) as caught:
        client(Pool(Response(401, {"reason": "Unauthorized", "message": "Unauthorized"}))).request("GET", "/api")
    assert caught.value.message.startswith("401 Unauthorized: the API server at https://k8s.example:6443")
    assert "taken from the parameters" in caught.value.message
    assert "secret-token-value" not in caught.value.message


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda s: s.get("Deployment", "shop", "web"), None, id="get-missing-is-none"),
        pytest.param(lambda s: s.delete(LIVE_SERVICE), None, id="delete-missing-is-done"),
    ],
)
def test_service_treats_not_found_as_absent(call: Any, expected: Any) -> None:
    assert call(_service.Service(client(Pool(Response(404, STATUS_404))))) == expected


def test_service_errors_name_operation_object_and_reason() -> None:
    body = {"reason": "Invalid", "message": 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1'}
    svc = _service.Service(client(Pool(Response(422, body))))
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}
    with pytest.raises(ApiError) as caught:
        svc.apply(manifest, dry_run=True)
    assert caught.value.message.startswith("Failed to dry-run apply Deployment shop/web: 422 Invalid: ")


def test_service_names_the_object_when_the_server_is_unreachable() -> None:
    pool = Pool(*[urllib3.exceptions.NewConnectionError(None, "refused")] * 4)
    with pytest.raises(ConnectionFailure) as caught:
        _service.Service(client(pool)).get("Deployment", "shop", "web")
    assert caught.value.message.startswith("Failed to read Deployment shop/web: cannot reach the Kubernetes API server at ")


def test_list_items_get_kind_and_api_version() -> None:
    svc = _service.Service(client(Pool(Response(200, {"items": [{"metadata": {"name": "a"}}]}))))
    (item,) = svc.list("Ingress", "shop")
    assert (item["apiVersion"], item["kind"]) == ("networking.k8s.io/v1", "Ingress")


def test_no_retry_runs_past_the_deadline(no_sleep: list[float]) -> None:
    made = client(Pool(Response(503), Response(200, {"late": True})))
    deadline = _client.time.monotonic() + 0.1  # less than the first backoff
    with pytest.raises(ApiError) as caught:
        made.request("GET", "/apis/apps/v1/namespaces/a/deployments/web", deadline=deadline)
    assert caught.value.status == 503
    assert no_sleep == []


def test_requests_near_the_deadline_get_a_shorter_timeout() -> None:
    made = client(Pool())
    made.connect_timeout, made.request_timeout = 10.0, 30.0
    timeout = made._timeout(_client.time.monotonic() + 2)
    assert timeout.connect_timeout <= 2 and timeout.read_timeout <= 2
    assert made._timeout(None) is made.timeout  # a deadline is the caller's, never the client's


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Response(503), id="5xx"),
        pytest.param(Response(429, headers={"Retry-After": "1"}), id="429"),
        pytest.param(urllib3.exceptions.ProtocolError("dropped"), id="dropped-connection"),
    ],
)
def test_a_post_is_never_sent_twice(failure: Any) -> None:
    pool = Pool(failure, Response(201, {"created": "twice"}))
    with pytest.raises((ApiError, ConnectionFailure)):
        client(pool).request("POST", "/api/v1/namespaces", body={"metadata": {"name": "shop"}})
    assert len(pool.calls) == 1


def test_a_request_can_be_marked_unsafe_to_repeat() -> None:
    pool = Pool(Response(503), Response(200, {}))
    with pytest.raises(ApiError):
        client(pool).request("DELETE", "/api/v1/namespaces/shop", retry=False)
    assert len(pool.calls) == 1


def test_tls_verification_failure_is_not_retried_and_says_how_to_fix_it() -> None:
    failure = urllib3.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain")
    pool = Pool(failure, Response(200, {}))
    with pytest.raises(ConnectionFailure) as caught:
        client(pool).request("GET", "/api")
    assert len(pool.calls) == 1
    assert "TLS verification of the API server at https://k8s.example:6443 failed" in caught.value.message
    assert "ca_cert" in caught.value.message and "validate_certs" in caught.value.message


def test_an_answer_that_is_not_json_can_be_read_raw() -> None:
    class Raw:
        status, reason, headers, data = 200, "OK", {}, b"line one\nline two\n"

    assert client(Pool(Raw())).request("GET", "/api/v1/namespaces/a/pods/p/log", raw=True) == b"line one\nline two\n"
    svc = _service.Service(client(Pool(Raw())))
    assert svc.read_text("Pod", "a", "p", "log", {"tailLines": 2}) == "line one\nline two\n"


def test_a_list_404_means_the_api_is_not_served() -> None:
    not_served = {"kind": "Status", "reason": "NotFound", "message": "the server could not find the requested resource"}
    svc = _service.Service(client(Pool(Response(404, not_served))))
    with pytest.raises(ApiError) as caught:
        svc.list("Ingress", "shop")
    assert caught.value.message == ("Failed to list Ingress objects in namespace shop: the API server does not serve "
                                    "networking.k8s.io/v1 ingresses (404)")


def test_subresources_have_a_path() -> None:
    pool = Pool(Response(200, {"kind": "Scale", "spec": {"replicas": 3}}))
    assert _service.Service(client(pool)).get("Deployment", "shop", "web", subresource="scale") == {
        "kind": "Scale", "spec": {"replicas": 3}}
    assert pool.calls == [("GET", "https://k8s.example:6443/apis/apps/v1/namespaces/shop/deployments/web/scale")]


def test_deletes_carry_the_read_uid_and_resource_version() -> None:
    pool = Pool(Response(200, {}))
    bodies: list[Any] = []
    original = pool.request

    def spy(method: str, url: str, **kwargs: Any) -> Any:
        bodies.append(kwargs.get("body"))
        return original(method, url, **kwargs)

    pool.request = spy  # type: ignore[method-assign]
    _service.Service(client(pool)).delete(LIVE_SERVICE)
    sent = json.loads(bodies[0])
    assert sent["preconditions"] == {"uid": "7d5c0d2e-1111-4c1e-9a53-000000000001", "resourceVersion": "4242"}


def test_a_delete_whose_object_changed_since_it_was_read_says_so() -> None:
    conflict = {"kind": "Status", "reason": "Conflict",
                "message": "Precondition failed: UID in precondition: 7d5c..., UID in object meta: 9e1f..."}
    with pytest.raises(ApiError) as caught:
        _service.Service(client(Pool(Response(409, conflict)))).delete(LIVE_SERVICE)
    assert caught.value.message.startswith("Failed to delete Service shop/web: it changed after it was read")


class StreamResponse(Response):
    """A response whose body is read on demand, as with ``preload_content=False``."""

    released = False

    def read(self, cache_content: bool = False) -> bytes:
        return self.data

    def release_conn(self) -> None:
        self.released = True


def test_every_request_sends_the_identity_headers() -> None:
    pool = Pool(Response(200, {}))
    made = client(pool)
    made.request("GET", "/api")
    sent = pool.kwargs[0]["headers"]
    assert list(sent.items()) == [("Accept", "application/json"), *made.identity_headers()]
    assert sent["Authorization"] == "Bearer secret-token-value"


def test_a_stream_is_sent_once_with_the_identity_headers_and_left_unread() -> None:
    answer = StreamResponse(200)
    pool = Pool(answer)
    made = client(pool)
    resp = made.stream("/api/v1/namespaces/shop/pods/web-1/log", {"timestamps": "true", "previous": None},
                       read_timeout=7.5)
    assert resp is answer and not answer.released
    assert pool.calls == [("GET", "https://k8s.example:6443/api/v1/namespaces/shop/pods/web-1/log?timestamps=true")]
    sent = pool.kwargs[0]
    assert list(sent["headers"].items()) == [("Accept", "*/*"), *made.identity_headers()]
    assert (sent["preload_content"], sent["redirect"], sent["retries"]) == (False, False, False)
    assert (sent["timeout"].connect_timeout, sent["timeout"].read_timeout) == (1.0, 7.5)
    assert made.requests_made == 1


def test_a_stream_refused_is_worded_as_a_request_and_not_retried() -> None:
    answer = StreamResponse(401, {"reason": "Unauthorized", "message": "Unauthorized"})
    pool = Pool(answer, StreamResponse(200))
    with pytest.raises(ApiError) as caught:
        client(pool).stream("/api/v1/namespaces/shop/pods/web-1/log", {"timestamps": "true"})
    assert len(pool.calls) == 1 and answer.released
    assert caught.value.message.startswith("401 Unauthorized: the API server at https://k8s.example:6443")
    assert "secret-token-value" not in caught.value.message


def test_a_stream_to_an_unreachable_server_names_it_and_not_the_token() -> None:
    pool = Pool(urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: refused"),
                StreamResponse(200))
    with pytest.raises(ConnectionFailure) as caught:
        client(pool).stream("/api/v1/namespaces/shop/pods/web-1/log", {"timestamps": "true"})
    assert len(pool.calls) == 1
    assert caught.value.message.startswith("cannot reach the Kubernetes API server at https://k8s.example:6443: ")
    assert "secret-token-value" not in caught.value.message


def test_open_socket_connects_through_the_clients_pool() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        sock = client(host=f"http://127.0.0.1:{server.getsockname()[1]}").open_socket()
        try:
            accepted, _addr = server.accept()
            accepted.close()
            assert sock.getpeername() == server.getsockname()
        finally:
            sock.close()


def test_open_socket_to_an_unreachable_server_names_it() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(ConnectionFailure) as caught:
        client(host=f"https://127.0.0.1:{port}").open_socket()
    assert caught.value.message.startswith(f"cannot reach the Kubernetes API server at https://127.0.0.1:{port}: ")


def test_open_socket_through_a_proxy_needs_https() -> None:
    made = client(urllib3.ProxyManager("http://proxy.example:3128"), host="http://k8s.example:8080")
    with pytest.raises(ConnectionFailure, match="exec through the proxy needs an https:// API server, not "
                                                "http://k8s.example:8080"):
        made.open_socket()

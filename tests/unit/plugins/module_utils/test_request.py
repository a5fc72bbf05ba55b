"""Client.request retries and Service error messages, over a scripted connection pool."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from ansible_collections.skipper.platform.plugins.module_utils import _client, _service
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

    def request(self, method: str, url: str, **_kwargs: Any) -> Response:
        self.calls.append((method, url))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def client(pool: Pool) -> _client.Client:
    made = _client.Client.__new__(_client.Client)
    made.host = "https://k8s.example:6443"
    made.source = "parameters"
    made._token = "secret-token-value"
    made._extra_headers = []
    made.warnings = []
    made.connect_timeout = made.request_timeout = 1.0
    made.timeout = urllib3.Timeout(connect=1, read=1)
    made.pool = pool  # type: ignore[assignment]
    made.requests_made = 0
    made.deadline = None
    return made


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(_client.time, "sleep", slept.append)
    return slept


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
        pytest.param(lambda s: s.list("Ingress", "shop"), [], id="list-in-missing-namespace-is-empty"),
        pytest.param(lambda s: s.delete("Service", "shop", "web"), None, id="delete-missing-is-done"),
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
    made.deadline = _client.time.monotonic() + 0.1  # less than the first backoff
    with pytest.raises(ApiError) as caught:
        made.request("GET", "/apis/apps/v1/namespaces/a/deployments/web")
    assert caught.value.status == 503
    assert no_sleep == []


def test_requests_near_the_deadline_get_a_shorter_timeout() -> None:
    made = client(Pool())
    made.connect_timeout, made.request_timeout = 10.0, 30.0
    made.deadline = _client.time.monotonic() + 2
    timeout = made._timeout()
    assert timeout.connect_timeout <= 2 and timeout.read_timeout <= 2

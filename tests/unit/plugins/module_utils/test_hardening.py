"""Odd answers and odd kubeconfigs end as the collection's own errors, never tracebacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _client, _connection, _waiter
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, AuthConfigError
from test_request import Pool, Response, client


def test_a_redirect_is_an_error_naming_where_it_goes() -> None:
    pool = Pool(Response(301, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(ApiError) as caught:
        client(pool).request("GET", "/api")
    assert "redirects to https://elsewhere.example/" in caught.value.message


def test_an_answer_that_is_not_json_is_an_error() -> None:
    pool = Pool(Response(200))
    pool.script[0].data = b"<html>welcome</html>"
    with pytest.raises(ApiError) as caught:
        client(pool).request("GET", "/api")
    assert "not JSON" in caught.value.message


@pytest.mark.parametrize("retry_after", ["-1", "nan", "soon"])
def test_odd_retry_after_headers_do_not_break_the_retry(retry_after: str, no_sleep: list[float]) -> None:
    pool = Pool(Response(429, headers={"Retry-After": retry_after}), Response(200, {"ok": True}))
    assert client(pool).request("GET", "/api") == {"ok": True}
    assert all(0 <= s <= 5 for s in no_sleep)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(_client.time, "sleep", slept.append)
    return slept


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("- just\n- a list\n", "is not a kubeconfig", id="not-a-mapping"),
        pytest.param("clusters: [\n  token: abc-secret-123\n", "is not valid YAML at line", id="broken-yaml"),
    ],
)
def test_bad_kubeconfig_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config"
    path.write_text(content)
    with pytest.raises(AuthConfigError) as caught:
        _connection.connection_settings({"kubeconfig": str(path)})
    assert message in caught.value.message
    assert "abc-secret-123" not in caught.value.message


def kubeconfig(server: str, user: dict[str, Any]) -> str:
    import json

    return json.dumps({
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    })


def test_bad_base64_data_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(kubeconfig("https://k8s.example", {"client-certificate-data": "not base64!!", "client-key-data": "x"}))
    with pytest.raises(AuthConfigError) as caught:
        _connection.connection_settings({"kubeconfig": str(path)})
    assert "client-certificate-data is not valid base64" in caught.value.message


def test_several_kubeconfig_files_merge_and_the_first_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text(kubeconfig("https://first.example", {"token": "t1"}))
    second.write_text(kubeconfig("https://second.example", {"token": "t2"}))
    conn = _connection.connection_settings({"kubeconfig": f"{first}:{second}"})
    assert (conn["host"], conn["token"]) == ("https://first.example", "t1")


def test_a_paused_deployment_fails_at_once() -> None:
    deployment = {"metadata": {"generation": 2}, "spec": {"replicas": 1, "paused": True},
                  "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 0}}
    state, why = _waiter.rollout_state(deployment)
    assert state == "failed"
    assert "paused" in why


def _conflict(fields: list[str], manager: str) -> ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{manager}" using apps/v1', "field": f}
              for f in fields]
    return ApiError("Apply failed with 1 conflict", status=409, reason="Conflict", causes=causes)


def test_a_replicas_conflict_names_the_manager_and_both_ways_out() -> None:
    from ansible_collections.skipper.platform.plugins.module_utils._service import _wrap

    message = _wrap("apply", "Deployment shop/web", _conflict([".spec.replicas"], "skipper.platform-scale")).message
    assert "last set by skipper.platform-scale" in message
    assert "drop replicas from the app" in message and "force: true" in message
    other = _wrap("apply", "Deployment shop/web", _conflict([".spec.template.spec.containers[name=\"app\"].image"],
                                                            "kubectl-edit")).message
    assert "managed by kubectl-edit; set force: true" in other

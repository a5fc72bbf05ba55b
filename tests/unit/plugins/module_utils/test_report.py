"""What a run reports: summaries, routes, owners (table tests)."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _report


def ingress(name: str, rules: list[tuple[str, list[str]]], tls: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": [{"host": h, "http": {"paths": [{"path": p} for p in paths]}} for h, paths in rules]}
    if tls:
        spec["tls"] = [{"hosts": tls}]
    return {"metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("ingresses", "urls"),
    [
        pytest.param([], [], id="no-routes"),
        pytest.param([ingress("web--a", [("a.example", ["/"])])], ["http://a.example/"], id="plain"),
        pytest.param([ingress("web--a", [("a.example", ["/", "/api"])], tls=["a.example"])],
                     ["https://a.example/", "https://a.example/api"], id="tls-two-paths"),
        pytest.param([ingress("web--a", [("a.example", ["/"])]), ingress("web--b", [("b.example", ["/x"])], tls=["b.example"])],
                     ["http://a.example/", "https://b.example/x"], id="two-ingresses"),
        pytest.param([{"metadata": {"name": "empty"}}], [], id="ingress-without-spec"),
    ],
)
def test_routes_of(ingresses: list[dict[str, Any]], urls: list[str]) -> None:
    assert [r["url"] for r in _report.routes_of(ingresses)] == urls


@pytest.mark.parametrize(
    ("metadata", "owner"),
    [
        pytest.param({"labels": {"app.kubernetes.io/managed-by": "Helm"},
                      "annotations": {"meta.helm.sh/release-name": "shop"}}, "managed by Helm, release shop", id="helm"),
        pytest.param({"labels": {"app.kubernetes.io/managed-by": "argocd"}}, "managed by argocd", id="other-tool"),
        pytest.param({"labels": {"app.kubernetes.io/managed-by": "skipper.platform", "app.kubernetes.io/name": "api"}},
                     "app api of skipper.platform", id="another-app"),
        pytest.param({"ownerReferences": [{"kind": "ReplicaSet", "name": "web-1"}]}, "owned by ReplicaSet web-1",
                     id="owner-reference"),
        pytest.param({"managedFields": [{"manager": "kubectl-create"}, {"manager": "kubectl-edit"}]},
                     "no app.kubernetes.io/managed-by label; written by kubectl-create, kubectl-edit", id="managers"),
        pytest.param({}, "no app.kubernetes.io/managed-by label", id="nothing-known"),
    ],
)
def test_owner_of(metadata: dict[str, Any], owner: str) -> None:
    assert _report.owner_of({"metadata": metadata}) == owner


@pytest.mark.parametrize(
    ("labels", "ours"),
    [
        pytest.param({"app.kubernetes.io/managed-by": "skipper.platform", "app.kubernetes.io/name": "web"}, True, id="ours"),
        pytest.param({"app.kubernetes.io/managed-by": "skipper.platform", "app.kubernetes.io/name": "api"}, False,
                     id="another-app"),
        pytest.param({"app.kubernetes.io/name": "web"}, False, id="no-managed-by"),
    ],
)
def test_is_ours(labels: dict[str, str], ours: bool) -> None:
    assert _report.is_ours({"metadata": {"labels": labels}}, "web") is ours


@pytest.mark.parametrize(
    ("deployment", "replicas", "revision"),
    [
        pytest.param(None, {"desired": 2, "ready": 0, "available": 0}, None, id="not-deployed-yet"),
        pytest.param({"metadata": {"annotations": {"deployment.kubernetes.io/revision": "4"}},
                      "spec": {"replicas": 3}, "status": {"readyReplicas": 2, "availableReplicas": 1}},
                     {"desired": 3, "ready": 2, "available": 1}, 4, id="rolling"),
    ],
)
def test_app_summary(deployment: dict[str, Any] | None, replicas: dict[str, int], revision: int | None) -> None:
    spec = {"name": "web", "image": "r.example/web:1.0", "version": "1.0", "replicas": 2,
            "routes": [{"host": "a.example", "path": "/", "tls": True}]}
    summary = _report.app_summary(spec, "shop", deployment)
    assert summary["replicas"] == replicas and summary["revision"] == revision
    assert summary["urls"] == ["https://a.example/"]

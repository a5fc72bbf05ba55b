"""What a run reports: summaries, routes, owners (table tests)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _info, _report
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, ValidationError
from fake_service import FORBIDDEN, FakeService


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


# -- what app_info adds for the status view: formation, last deploy, usage, autoscaler

def deployment(name: str = "web", uid: str = "d-uid", revision: str | None = "3", progressing: dict[str, str] | None = None,
               requests: list[dict[str, str]] | None = None, formation: str | None = None) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "skipper.platform",
              "app.kubernetes.io/version": "1.0"}
    if formation:
        labels["skipper.platform/formation"] = formation
    containers = [{"name": f"c{i}", "image": "r.example/web:1.0", "resources": {"requests": r}}
                  for i, r in enumerate(requests or [{}])]
    conditions = [{"type": "Progressing", "status": "True", **progressing}] if progressing else []
    return {"metadata": {"name": name, "namespace": "shop", "uid": uid, "labels": labels,
                         "annotations": {"deployment.kubernetes.io/revision": revision} if revision else {}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}},
            "status": {"conditions": conditions}}


def replica_set(revision: str, created: str, owner_uid: str = "d-uid", history: str | None = None) -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/revision": revision}
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    return {"metadata": {"name": f"web-{revision}", "creationTimestamp": created, "annotations": annotations,
                         "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": owner_uid, "controller": True}]}}


DONE = {"reason": "NewReplicaSetAvailable", "lastUpdateTime": "2026-11-25T12:00:09Z"}


@pytest.mark.parametrize(
    ("progressing", "replica_sets", "expected"),
    [
        pytest.param(DONE, [replica_set("2", "2026-11-20T08:00:00Z"), replica_set("3", "2026-11-25T12:00:00Z")],
                     "2026-11-25T12:00:00Z", id="current-replica-set-created"),
        # An autoscaler scaled up after the deploy: the condition moved on, the ReplicaSet did not.
        pytest.param({"reason": "NewReplicaSetAvailable", "lastUpdateTime": "2026-11-26T03:00:00Z"},
                     [replica_set("3", "2026-11-25T12:00:00Z")], "2026-11-25T12:00:00Z", id="scaled-since"),
        pytest.param(DONE, None, "2026-11-25T12:00:09Z", id="replica-sets-unreadable"),
        pytest.param({"reason": "ReplicaSetUpdated", "lastUpdateTime": "2026-11-25T12:00:05Z"}, None,
                     "2026-11-25T12:00:05Z", id="rolling-out-unreadable"),
        pytest.param({"reason": "ProgressDeadlineExceeded", "lastUpdateTime": "2026-11-25T12:10:00Z"}, None, None,
                     id="failed-rollout-says-nothing"),
        pytest.param(None, None, None, id="no-condition"),
        # A rollback took revision 1's ReplicaSet up again as revision 3: its creation time is the old rollout's.
        pytest.param(DONE, [replica_set("3", "2026-11-01T00:00:00Z", history="1")], "2026-11-25T12:00:09Z",
                     id="rolled-back-to-a-reused-replica-set"),
        pytest.param(DONE, [replica_set("3", "2026-11-01T00:00:00Z", owner_uid="other-uid")], "2026-11-25T12:00:09Z",
                     id="another-deployments-replica-set"),
        pytest.param(DONE, [replica_set("2", "2026-11-20T08:00:00Z")], "2026-11-25T12:00:09Z",
                     id="current-revision-not-listed"),
    ],
)
def test_last_deployed(progressing: dict[str, str] | None, replica_sets: list[dict[str, Any]] | None,
                       expected: str | None) -> None:
    assert _report.last_deployed(deployment(progressing=progressing), replica_sets) == expected


def test_last_deployed_of_a_recorded_deployment(load: Any) -> None:
    live = load("deployment_live.yml")
    progressing = next(c for c in live["status"]["conditions"] if c["type"] == "Progressing")
    assert _report.last_deployed(live, None) == progressing["lastUpdateTime"]


def pod_metrics(app: str, *containers: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": f"{app}-pod", "labels": {"app.kubernetes.io/name": app}},
            "containers": [{"name": f"c{i}", "usage": u} for i, u in enumerate(containers)]}


@pytest.mark.parametrize(
    ("requests", "metrics", "expected"),
    [
        pytest.param([{"cpu": "100m", "memory": "128Mi"}],
                     [pod_metrics("web", {"cpu": "12345678n", "memory": "50000Ki"}),
                      pod_metrics("web", {"cpu": "25m", "memory": "64Mi"})],
                     {"pods": 2, "cpu": {"used": "37m", "requested": "200m", "percent": 19},
                      "memory": {"used": "113Mi", "requested": "256Mi", "percent": 44}}, id="two-pods"),
        pytest.param([{"cpu": "100m"}, {"cpu": "0.1", "memory": "1Gi"}],
                     [pod_metrics("web", {"cpu": "150m", "memory": "100Mi"}, {"cpu": "50m", "memory": "300Ki"})],
                     {"pods": 1, "cpu": {"used": "200m", "requested": "200m", "percent": 100},
                      "memory": {"used": "100Mi", "requested": "1024Mi", "percent": 10}}, id="two-containers"),
        pytest.param([{}], [pod_metrics("web", {"cpu": "3m", "memory": "200Ki"})],
                     {"pods": 1, "cpu": {"used": "3m", "requested": None, "percent": None},
                      "memory": {"used": "200Ki", "requested": None, "percent": None}}, id="no-requests"),
        pytest.param([{"cpu": "100m"}], [pod_metrics("api", {"cpu": "50m", "memory": "1Mi"})], None,
                     id="only-another-apps-pods"),
        pytest.param([{"cpu": "100m"}], [], None, id="no-sample-yet"),
        pytest.param([{"cpu": "100m"}], None, None, id="metrics-api-unavailable"),
    ],
)
def test_usage_of(requests: list[dict[str, str]], metrics: list[dict[str, Any]] | None,
                  expected: dict[str, Any] | None) -> None:
    assert _report.usage_of(deployment(requests=requests), metrics) == expected


def hpa(name: str, target: str, spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}, "maxReplicas": 6,
                     **(spec or {})},
            "status": status or {}}


ACTIVE = {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}
CPU_READING = {"type": "Resource",
               "resource": {"name": "cpu", "current": {"averageUtilization": 81, "averageValue": "81m"}}}
NO_METRICS = {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
              "message": "the HPA was unable to compute the replica count"}


@pytest.mark.parametrize(
    ("autoscalers", "expected"),
    [
        pytest.param([hpa("api", "api"),
                      hpa("web", "web", {"minReplicas": 2}, {"currentReplicas": 3, "desiredReplicas": 4, "conditions": [ACTIVE],
                                                             "currentMetrics": [CPU_READING]})],
                     {"name": "web", "min": 2, "max": 6, "current": 3, "desired": 4, "active": True, "inactive_reason": None,
                      "utilization": {"cpu": 81}},
                     id="scaling-up"),
        # As the API returns it right after its creation: desired 0 before any run is no answer either.
        pytest.param([hpa("web", "web", status={"desiredReplicas": 0})],
                     {"name": "web", "min": 1, "max": 6, "current": None, "desired": None, "active": None,
                      "inactive_reason": None, "utilization": {}},
                     id="not-run-yet-min-defaults-to-1"),
        # What the local cluster's autoscaler says without a metrics API: desired 0 is no answer.
        pytest.param([hpa("web", "web", {"minReplicas": 2}, {"currentReplicas": 2, "desiredReplicas": 0,
                                                             "conditions": [NO_METRICS]})],
                     {"name": "web", "min": 2, "max": 6, "current": 2, "desired": None, "active": False,
                      "inactive_reason": "FailedGetResourceMetric: the HPA was unable to compute the replica count",
                      "utilization": {}},
                     id="cannot-read-metrics"),
        pytest.param([hpa("web", "web-canary")], None, id="same-name-other-target"),
        pytest.param([hpa("web-hpa", "web")], None, id="other-name"),
        pytest.param([], None, id="none"),
        pytest.param(None, None, id="api-unavailable"),
    ],
)
def test_autoscale_of(autoscalers: list[dict[str, Any]] | None, expected: dict[str, Any] | None) -> None:
    assert _report.autoscale_of(deployment(), autoscalers) == expected


@pytest.mark.parametrize(
    ("cores", "text"),
    [pytest.param("0", "0m", id="zero"), pytest.param("0.0004", "0m", id="rounds-down"),
     pytest.param("0.0125", "13m", id="rounds-half-up"), pytest.param("2.5", "2500m", id="cores")],
)
def test_format_cpu(cores: str, text: str) -> None:
    assert _report.format_cpu(Decimal(cores)) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [pytest.param(0, "0Mi", id="zero"), pytest.param(200 * 1024, "200Ki", id="below-a-mebibyte"),
     pytest.param(3 * 2**30, "3072Mi", id="gibibytes"), pytest.param(int(1.5 * 2**20), "2Mi", id="rounds-half-up")],
)
def test_format_memory(amount: int, text: str) -> None:
    assert _report.format_memory(Decimal(amount)) == text


def test_describe_app_reports_formation_and_what_it_could_read() -> None:
    app = _report.describe_app(deployment(formation="shop-dev", progressing=DONE, requests=[{"cpu": "100m"}]), [],
                               [replica_set("3", "2026-11-25T12:00:00Z")], [hpa("web", "web")],
                               [pod_metrics("web", {"cpu": "10m", "memory": "1Mi"})])
    assert app["formation"] == "shop-dev"
    assert app["last_deployed"] == "2026-11-25T12:00:00Z"
    assert app["usage"]["cpu"] == {"used": "10m", "requested": "100m", "percent": 10}
    assert app["autoscale"]["max"] == 6


def test_describe_app_without_the_optional_apis(load: Any) -> None:
    app = _report.describe_app(load("deployment_live.yml"), [])
    assert app["formation"] is None
    assert app["usage"] is None and app["autoscale"] is None
    assert app["last_deployed"]
    assert app["version"] == app["image"].rsplit(":", 1)[1]


# -- read_apps: the optional reads never fail the status view

def test_read_apps_notes_unavailable_apis_and_filters_by_formation() -> None:
    svc = FakeService()
    svc.put(deployment("web", formation="shop-dev", progressing=DONE) | {"kind": "Deployment"})
    svc.put(deployment("api", uid="a-uid", formation="shop-other") | {"kind": "Deployment"})
    svc.fail[("list", "HorizontalPodAutoscaler")] = FORBIDDEN
    svc.fail[("list", "PodMetrics")] = ApiError("the API server does not serve metrics.k8s.io/v1beta1 pods (404)",
                                                status=404, reason="NotServed")
    everything = _info.read_apps(svc, "shop", None)
    assert [a["name"] for a in everything["apps"]] == ["api", "web"]
    assert [a["formation"] for a in everything["apps"]] == ["shop-other", "shop-dev"]
    assert all(a["usage"] is None and a["autoscale"] is None for a in everything["apps"])
    assert everything["unavailable"] == [
        "autoscaling/v2 horizontalpodautoscalers in namespace shop: forbidden for these credentials; autoscale is null",
        "metrics.k8s.io/v1beta1 pods in namespace shop: not served by the API server; usage is null",
    ]
    assert [a["name"] for a in _info.read_apps(svc, "shop", None, "shop-dev")["apps"]] == ["web"]


def test_read_apps_makes_one_request_when_there_is_no_app() -> None:
    svc = FakeService()
    assert _info.read_apps(svc, "shop", None) == {"changed": False, "apps": [], "unavailable": []}
    assert svc.calls == [("list", "Deployment")]


@pytest.mark.parametrize("status", [400, 500])
def test_read_apps_fails_on_other_errors_of_optional_reads(status: int) -> None:
    svc = FakeService()
    svc.put(deployment() | {"kind": "Deployment"})
    svc.fail[("list", "PodMetrics")] = ApiError(f"{status} boom", status=status)
    with pytest.raises(ApiError, match="boom"):
        _info.read_apps(svc, "shop", None)


@pytest.mark.parametrize("formation", ["", "a" * 64, "shop dev", "-shop", 7])
def test_read_apps_refuses_a_formation_that_is_no_label_value(formation: Any) -> None:
    with pytest.raises(ValidationError, match="formation .*must be a label value"):
        _info.read_apps(FakeService(), "shop", None, formation)


def _rs(revision: int, version: str, owner: str = "uid-web") -> dict[str, Any]:
    return {"metadata": {"name": f"web-{revision}", "creationTimestamp": f"2026-11-2{revision}T00:00:00Z",
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": owner}]},
            "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/version": version}},
                                  "spec": {"containers": [{"name": "app", "image": f"web:{version}"}]}}}}


def test_revisions_are_the_deployments_own_newest_first() -> None:
    live = {"metadata": {"name": "web", "uid": "uid-web", "annotations": {"deployment.kubernetes.io/revision": "3"}}}
    revisions = _report.revisions_of(live, [_rs(2, "1.1"), _rs(3, "1.2"), _rs(1, "1.0"), _rs(4, "9", owner="other")])
    assert revisions == [
        {"revision": 3, "version": "1.2", "image": "web:1.2", "created": "2026-11-23T00:00:00Z", "current": True},
        {"revision": 2, "version": "1.1", "image": "web:1.1", "created": "2026-11-22T00:00:00Z", "current": False},
        {"revision": 1, "version": "1.0", "image": "web:1.0", "created": "2026-11-21T00:00:00Z", "current": False},
    ]
    assert _report.revisions_of(live, None) is None


def test_volumes_and_links_are_read_back() -> None:
    annotations = {"skipper.platform/declared-links": '{"API_URL":"api.shop"}',
                   "skipper.platform/links": '{"SEARCH_URL":"search.shop"}'}
    live = {"metadata": {"name": "web", "namespace": "shop", "annotations": annotations},
            "spec": {"template": {"spec": {
                "containers": [{"name": "app", "env": [{"name": "API_URL", "value": "http://api.shop.svc.cluster.local:80"},
                                                       {"name": "SEARCH_URL", "value": "http://search.shop.svc.cluster.local:9"},
                                                       {"name": "OTHER", "value": "x"}],
                                "volumeMounts": [{"name": "data-files", "mountPath": "/files"},
                                                 {"name": "tmp", "mountPath": "/tmp"}]}],
                "volumes": [{"name": "data-files", "persistentVolumeClaim": {"claimName": "web-files"}},
                            {"name": "tmp", "emptyDir": {}}]}}}}
    claim = {"metadata": {"name": "web-files"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}},
             "status": {"phase": "Pending"}}
    assert _report.volumes_of(live, [claim]) == [{"claim": "web-files", "path": "/files", "size": "1Gi", "phase": "Pending"}]
    assert _report.volumes_of(live, None) == [{"claim": "web-files", "path": "/files", "size": None, "phase": None}]
    admin = {"metadata": {"name": "admin", "namespace": "shop",
                          "annotations": {"skipper.platform/declared-links": '{"WEB_URL":"web.shop"}'}},
             "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
                 {"name": "WEB_URL", "value": "http://web.shop.svc.cluster.local:8080"}]}]}}}}
    links = _report.links_of(live, [live, admin])
    assert links == {"out": [{"name": "API_URL", "url": "http://api.shop.svc.cluster.local:80", "app": "api.shop"},
                             {"name": "SEARCH_URL", "url": "http://search.shop.svc.cluster.local:9",
                              "app": "search.shop"}],
                     "in": [{"app": "admin", "namespace": "shop", "name": "WEB_URL"}]}


HOTFIX = {".": {}, "f:name": {}, "f:value": {}}


def test_foreign_fields_name_the_manager_and_the_field() -> None:
    obj = {"metadata": {"managedFields": [
        {"manager": "skipper.platform", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
         "fieldsV1": {"f:status": {"f:replicas": {}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
            "f:containers": {'k:{"name":"app"}': {"f:env": {".": {}, 'k:{"name":"HOTFIX"}': HOTFIX}}}}}}}},
    ]}}
    assert _report.foreign_fields(obj) == {
        "kubectl-edit": ["spec.template.spec.containers[name=app].env[name=HOTFIX]"]}

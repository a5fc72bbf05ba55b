"""app_scale's plan and rollback's choice and patch: pure parts by table, runners against a fake service."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils import _rollback, _scale
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, ValidationError
from fake_service import FakeService


class PatchingClient:
    """The two raw requests these runners make: apply to /scale and a JSON patch of a Deployment."""

    def __init__(self, svc: FakeService) -> None:
        self.svc = svc
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
                content_type: str = "application/json", **_kw: Any) -> Any:
        query = query or {}
        self.requests.append((method, path, dict(query)))
        name = path.split("/")[7]
        live = self.svc.objects[("Deployment", "shop", name)]
        dry = query.get("dryRun") == "All"
        if path.endswith("/scale"):
            assert content_type == "application/apply-patch+yaml" and query["fieldManager"] == "skipper.platform-scale"
            if not dry:
                live["spec"]["replicas"] = body["spec"]["replicas"]
                self.svc.put(live)
            return {"kind": "Scale", "spec": dict(body["spec"])}
        assert content_type == "application/json-patch+json" and query["fieldManager"] == "skipper.platform-rollback"
        result = copy.deepcopy(live)
        for op in body:
            *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
            target = result
            for part in parents:
                target = target[part]
            if op["op"] == "test":
                if target[last] != op["value"]:
                    raise ApiError("422 Invalid: testing value /metadata/resourceVersion failed", status=422)
                continue
            target[last] = copy.deepcopy(op["value"])
        return result if dry else self.svc.put(result)


def deployment(version: str, replicas: int = 2, uid: str = "dep-uid", extra_labels: dict[str, str] | None = None,
               revision: int = 1) -> dict[str, Any]:
    spec = {"name": "web", "version": version, "labels": dict(extra_labels or {}), "formation": None,
            "image": f"r/web:{version}", "port": 8080, "env": {}, "secrets": {}, "resources": {}, "probes": {},
            "replicas": replicas}
    manifest = res.deployment(spec, "shop")
    manifest["metadata"].update(uid=uid, resourceVersion="10",
                                annotations={"deployment.kubernetes.io/revision": str(revision)})
    return manifest


def replica_set(version: str, revision: int, history: str | None = None, uid: str = "dep-uid",
                **template_labels: str) -> dict[str, Any]:
    template = copy.deepcopy(deployment(version)["spec"]["template"])
    template["metadata"]["labels"].update({"pod-template-hash": f"h{revision}", **template_labels})
    annotations = {"deployment.kubernetes.io/revision": str(revision), "deployment.kubernetes.io/desired-replicas": "2"}
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"web-h{revision}", "namespace": "shop", "labels": res.selector_labels("web"),
                         "annotations": annotations,
                         "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": uid}]},
            "spec": {"template": template}}


HISTORY = [replica_set("1.0", 1), replica_set("2.0", 2), replica_set("3.0", 3)]


@pytest.mark.parametrize(("revision", "current", "sets", "restored"), [
    (None, "3.0", HISTORY, 2),                                     # back one
    (None, "4.0", HISTORY, 3),                                     # the new revision has no ReplicaSet yet
    (1, "3.0", HISTORY, 1),                                        # named
    (1, "1.0", [replica_set("2.0", 2), replica_set("3.0", 3), replica_set("1.0", 4, history="1")], 4),  # renumbered
    (None, "3.0", [*HISTORY, replica_set("9.0", 9, uid="someone-else")], 2),  # another Deployment's
])
def test_choose(revision: int | None, current: str, sets: list[dict[str, Any]], restored: int) -> None:
    chosen = _rollback.choose("web", deployment(current), sets, revision)
    assert _rollback.revision_of(chosen) == restored


@pytest.mark.parametrize(("revision", "sets", "message"), [
    (9, HISTORY, "app web: revision: revision 9 is not kept; the revisions kept are 1, 2, 3"),
    (None, [replica_set("3.0", 1)], "app web: no earlier revision to roll back to (revisions kept: 1, all running "
                                    "the current pod template)"),
    (None, [], "app web: no earlier revision to roll back to (revisions kept: none, all running the current pod "
               "template)"),
])
def test_choose_refuses(revision: int | None, sets: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        _rollback.choose("web", deployment("3.0"), sets, revision)
    assert err.value.message == message
    assert err.value.details["field"] == "revision"


def test_restore_patch_copies_the_template_without_the_hash_and_follows_the_version() -> None:
    live = deployment("3.0", extra_labels={"skipper.test/fail": "CrashLoopBackOff"}, revision=3)
    ops = _rollback.restore_patch(live, replica_set("2.0", 2))
    assert ops[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "10"}
    assert ops[1]["op"] == "replace" and ops[1]["path"] == "/spec/template"
    assert "pod-template-hash" not in ops[1]["value"]["metadata"]["labels"]
    assert "skipper.test/fail" not in ops[1]["value"]["metadata"]["labels"]
    assert ops[1]["value"]["spec"]["containers"][0]["image"] == "r/web:2.0"
    # The controller's annotations stay the Deployment's; none other differ here.
    assert [op["path"] for op in ops[2:]] == ["/metadata/labels/app.kubernetes.io~1version"]
    assert ops[2]["value"] == "2.0"


def test_restore_patch_takes_the_replica_sets_other_annotations_and_is_empty_when_nothing_differs() -> None:
    live = deployment("2.0", revision=3)
    rs = replica_set("2.0", 2)
    assert _rollback.restore_patch(live, rs) == []
    rs["metadata"]["annotations"]["example.com/note"] = "from 2.0"
    ops = _rollback.restore_patch(live, rs)
    assert ops[1] == {"op": "add", "path": "/metadata/annotations",
                      "value": {"deployment.kubernetes.io/revision": "3", "example.com/note": "from 2.0"}}


@pytest.fixture
def svc() -> FakeService:
    fake = FakeService()
    fake.client = PatchingClient(fake)  # type: ignore[assignment]
    fake.put(res.namespace_manifest("shop"))
    return fake


def test_rollback_dry_run_predicts_and_the_real_run_writes(svc: FakeService) -> None:
    svc.put(deployment("3.0", revision=3))
    for rs in HISTORY:
        svc.put(rs)
    check = _rollback.rollback(svc, "shop", "web", None, dry_run=True)  # type: ignore[arg-type]
    assert svc.objects[("Deployment", "shop", "web")]["spec"]["template"]["spec"]["containers"][0]["image"] == "r/web:3.0"
    real = _rollback.rollback(svc, "shop", "web", None, dry_run=False)  # type: ignore[arg-type]
    assert check["diff"] == real["diff"] and check["changed"] and real["changed"]
    assert {k: real[k] for k in ("revision", "version", "image")} == {"revision": 2, "version": "2.0", "image": "r/web:2.0"}
    assert real["previous"]["version"] == "3.0"
    assert real["diff"]["before"]["spec"]["template"]["spec"]["containers"][0]["image"] == "r/web:3.0"
    assert real["diff"]["after"]["spec"]["template"]["spec"]["containers"][0]["image"] == "r/web:2.0"
    live = svc.objects[("Deployment", "shop", "web")]
    assert live["metadata"]["labels"][res.VERSION_LABEL] == "2.0"
    assert [r[2].get("dryRun") for r in svc.client.requests] == ["All", None]  # type: ignore[attr-defined]


def test_rollback_to_the_running_revision_writes_nothing(svc: FakeService) -> None:
    svc.put(deployment("2.0", revision=2))
    for rs in HISTORY[:2]:
        svc.put(rs)
    result = _rollback.rollback(svc, "shop", "web", 2, dry_run=False)  # type: ignore[arg-type]
    assert not result["changed"] and result["diff"]["before"] == {} and svc.client.requests == []  # type: ignore[attr-defined]


def test_rollback_refuses_a_missing_or_paused_deployment(svc: FakeService) -> None:
    with pytest.raises(ValidationError, match="app web: cannot roll back: Deployment shop/web not found"):
        _rollback.rollback(svc, "shop", "web", None, dry_run=True)  # type: ignore[arg-type]
    paused = deployment("2.0")
    paused["spec"]["paused"] = True
    svc.put(paused)
    with pytest.raises(ValidationError, match="is paused; resume it first"):
        _rollback.rollback(svc, "shop", "web", None, dry_run=True)  # type: ignore[arg-type]


def scale_params(**extra: Any) -> dict[str, Any]:
    return {"name": "web", "namespace": "shop", "replicas": 3, "wait": False, "wait_timeout": 5, **extra}


def test_scale_dry_runs_then_writes_through_the_scale_subresource(svc: FakeService) -> None:
    svc.put(deployment("1.0", replicas=2))
    check = _scale.run(svc, scale_params(), True)  # type: ignore[arg-type]
    assert check["changed"] and check["diff"][0]["before"] == {"spec": {"replicas": 2}}
    assert svc.objects[("Deployment", "shop", "web")]["spec"]["replicas"] == 2
    real = _scale.run(svc, scale_params(), False)  # type: ignore[arg-type]
    assert real["diff"] == check["diff"] and real["objects"] == check["objects"]
    assert svc.objects[("Deployment", "shop", "web")]["spec"]["replicas"] == 3
    requests = svc.client.requests  # type: ignore[attr-defined]
    assert [(r[0], r[1].rsplit("/", 2)[-2:], r[2].get("dryRun")) for r in requests] == [
        ("PATCH", ["web", "scale"], "All"), ("PATCH", ["web", "scale"], "All"), ("PATCH", ["web", "scale"], None)]
    requests.clear()
    again = _scale.run(svc, scale_params(), False)  # type: ignore[arg-type]
    assert not again["changed"] and requests == []


@pytest.mark.parametrize(("extra", "message"), [
    ({"replicas": -1}, "app web: replicas: -1 is out of range: must be at least 0"),
    ({"name": "nothere"}, "app nothere: cannot scale: Deployment shop/nothere not found; deploy the app first"),
])
def test_scale_refuses_bad_input(svc: FakeService, extra: dict[str, Any], message: str) -> None:
    svc.put(deployment("1.0"))
    with pytest.raises(ValidationError) as err:
        _scale.run(svc, scale_params(**extra), False)  # type: ignore[arg-type]
    assert err.value.message == message
    assert svc.client.requests == []  # type: ignore[attr-defined]


def test_scale_refuses_an_autoscaled_app(svc: FakeService) -> None:
    svc.put(deployment("1.0"))
    svc.put({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
             "metadata": {"name": "by-hand", "namespace": "shop"},
             "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                      "minReplicas": 2, "maxReplicas": 5}})
    with pytest.raises(ValidationError) as err:
        _scale.run(svc, scale_params(), False)  # type: ignore[arg-type]
    assert "HorizontalPodAutoscaler shop/by-hand scales this app (min 2, max 5)" in err.value.message
    assert "skipper.platform.app_autoscale (min, max)" in err.value.message
    assert svc.client.requests == []  # type: ignore[attr-defined]

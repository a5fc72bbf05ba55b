"""The app runner's steps and error paths, against a fake service that keeps objects in memory."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _app
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils._errors import (
    ApiError,
    ValidationError,
)
from fake_service import FORBIDDEN, FakeService


def params(**extra: Any) -> dict[str, Any]:
    base = {"name": "web", "namespace": "shop", "image": "registry.example.com/shop/web", "version": "1.0",
            "port": 8080, "replicas": 2, "routes": [{"host": "shop.example.com", "path": "/", "tls": False}],
            "wait": True, "wait_timeout": 5, "state": "present"}
    base.update(extra)
    return base


@pytest.fixture
def svc() -> FakeService:
    fake = FakeService()
    fake.put(res.namespace_manifest("shop"))
    return fake


def test_plan_writes_nothing_and_execute_writes_only_what_differs(svc: FakeService) -> None:
    plan = _app.plan_app(svc, params())  # type: ignore[arg-type]
    assert svc.writes() == []
    assert [o["action"] for o in plan.objects] == ["created", "created", "created"]
    _app.execute(svc, plan)  # type: ignore[arg-type]
    assert [w[0] for w in svc.writes()] == ["apply", "apply", "apply"]
    svc.calls.clear()
    again = _app.plan_app(svc, params())  # type: ignore[arg-type]
    assert not again.changed and again.writes == []
    assert [c[0] for c in svc.calls if c[0] == "dry-run"] == ["dry-run"] * 3


def test_a_full_run_then_a_no_op_run(svc: FakeService) -> None:
    first = _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert first["changed"] and first["app"]["rollout"]["status"] == "succeeded"
    svc.calls.clear()
    second = _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert not second["changed"] and svc.writes() == []


@pytest.mark.parametrize(
    ("kind", "labels", "owner"),
    [
        pytest.param("Deployment", {"app.kubernetes.io/managed-by": "Helm"}, "managed by Helm, release shop",
                     id="helm-deployment"),
        pytest.param("Service", {}, "no app.kubernetes.io/managed-by label", id="hand-made-service"),
        pytest.param("Deployment", {"app.kubernetes.io/managed-by": "skipper.platform", "app.kubernetes.io/name": "api"},
                     "app api of skipper.platform", id="another-apps-deployment"),
    ],
)
def test_a_foreign_object_is_refused_before_any_dry_run_even_with_force(
        svc: FakeService, kind: str, labels: dict[str, str], owner: str) -> None:
    foreign = {"apiVersion": res.API_VERSIONS[kind], "kind": kind,
               "metadata": {"name": "web", "namespace": "shop", "labels": labels,
                            "annotations": {"meta.helm.sh/release-name": "shop"}},
               "spec": {"replicas": 1} if kind == "Deployment" else {}}
    svc.put(foreign)
    with pytest.raises(ValidationError) as caught:
        _app.run(svc, params(force=True), check_mode=False)  # type: ignore[arg-type]
    assert f"{kind} shop/web exists but is not this app's ({owner})" in caught.value.message
    assert "even with force: true" in caught.value.message
    assert not [c for c in svc.calls if c[0] in ("dry-run", "apply", "delete")]


def test_a_foreign_ingress_of_a_new_route_is_refused(svc: FakeService) -> None:
    name = res.ingress_name("web", "shop.example.com")
    svc.put({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
             "metadata": {"name": name, "namespace": "shop", "managedFields": [{"manager": "kubectl-create"}]}})
    with pytest.raises(ValidationError) as caught:
        _app.run(svc, params(), check_mode=True)  # type: ignore[arg-type]
    assert "written by kubectl-create" in caught.value.message


def test_absent_refuses_a_foreign_object_and_deletes_ours_as_read(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    svc.calls.clear()
    result = _app.run(svc, params(state="absent"), check_mode=False)  # type: ignore[arg-type]
    assert [(w[0], w[1]) for w in svc.writes()] == [("delete", "Deployment"), ("delete", "Service"), ("delete", "Ingress")]
    assert result["changed"] and not [k for k in svc.objects if k[0] != "Namespace"]
    svc.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}})
    with pytest.raises(ValidationError):
        _app.run(svc, params(state="absent"), check_mode=False)  # type: ignore[arg-type]
    assert ("Service", "shop", "web") in svc.objects


def test_a_delete_of_an_object_replaced_since_it_was_read_fails_and_says_so(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    plan = _app.plan_removal(svc, params(state="absent"))  # type: ignore[arg-type]
    svc.put(svc.objects[("Service", "shop", "web")])  # someone updates it in between
    with pytest.raises(ApiError) as caught:
        _app.execute(svc, plan)  # type: ignore[arg-type]
    assert caught.value.details["changed"] is True  # the Deployment went first
    assert ("Service", "shop", "web") in svc.objects


def test_a_failure_after_a_write_reports_changed_and_the_objects(svc: FakeService) -> None:
    svc.fail[("apply", "Service", "web")] = ApiError("Failed to apply Service shop/web: 500 etcd down", status=500)
    with pytest.raises(ApiError) as caught:
        _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    details = caught.value.details
    assert details["changed"] is True
    assert [(o["kind"], o["action"]) for o in details["objects"]] == [
        ("Deployment", "created"), ("Service", "created"), ("Ingress", "created")]
    assert ("Deployment", "shop", "web") in svc.objects and ("Service", "shop", "web") not in svc.objects


def test_a_failed_dry_run_writes_nothing(svc: FakeService) -> None:
    svc.fail[("dry-run", "Ingress", res.ingress_name("web", "shop.example.com"))] = ApiError("422 Invalid", status=422)
    with pytest.raises(ApiError):
        _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert svc.writes() == []


def new_namespace_params() -> dict[str, Any]:
    return params(namespace="fresh", create_namespace=True)


def test_a_new_namespace_is_posted_then_everything_dry_run_before_any_write(svc: FakeService) -> None:
    result = _app.run(svc, new_namespace_params(), check_mode=False)  # type: ignore[arg-type]
    assert result["objects"][0] == {"kind": "Namespace", "namespace": None, "name": "fresh", "action": "created"}
    order = [c[0] for c in svc.calls if c[0] in ("create", "dry-run", "apply")]
    assert order == ["create", "dry-run", "dry-run", "dry-run", "apply", "apply", "apply"]


def test_a_failed_dry_run_removes_only_the_namespace_this_run_made(svc: FakeService) -> None:
    svc.fail[("dry-run", "Service", "web")] = ApiError("422 Invalid", status=422)
    with pytest.raises(ApiError) as caught:
        _app.run(svc, new_namespace_params(), check_mode=False)  # type: ignore[arg-type]
    assert ("Namespace", None, "fresh") not in svc.objects
    assert caught.value.details["changed"] is False
    assert [c[0] for c in svc.writes()] == ["create", "delete"]


def test_a_namespace_created_by_someone_else_during_the_run_is_left_alone(svc: FakeService) -> None:
    taken = ApiError('409 AlreadyExists: namespaces "fresh" already exists', status=409)
    svc.fail[("create", "Namespace", "fresh")] = taken
    with pytest.raises(ValidationError) as caught:
        _app.run(svc, new_namespace_params(), check_mode=False)  # type: ignore[arg-type]
    assert "namespace fresh was created by someone else during this run" in caught.value.message
    assert [c[0] for c in svc.writes()] == ["create"]  # no delete, no apply


def test_check_mode_in_a_new_namespace_predicts_the_real_run(svc: FakeService) -> None:
    check = _app.run(FakeServiceWith(svc), new_namespace_params(), check_mode=True)  # type: ignore[arg-type]
    real = _app.run(svc, new_namespace_params(), check_mode=False)  # type: ignore[arg-type]
    assert check["objects"] == real["objects"] and check["diff"] == real["diff"]


def FakeServiceWith(svc: FakeService) -> FakeService:  # noqa: N802 - reads like a constructor
    return copy.deepcopy(svc)


def test_forbidden_secret_reads_warn_and_go_on(svc: FakeService) -> None:
    svc.fail[("get", "Secret", "shop-db")] = FORBIDDEN
    result = _app.run(svc, params(secrets={"DB_PASSWORD": {"secret": "shop-db", "key": "password"}}),  # type: ignore[arg-type]
                      check_mode=False)
    assert result["changed"]
    assert any("could not check Secret shop/shop-db" in w for w in result["warnings"])


def test_forbidden_optional_reads_during_the_wait_degrade_the_report(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    svc.fail[("list", "ReplicaSet")] = FORBIDDEN
    svc.fail[("list", "Pod")] = FORBIDDEN
    svc.stall = True
    plan = _app.plan_app(svc, params(version="1.1"))  # type: ignore[arg-type]
    _app.execute(svc, plan)  # type: ignore[arg-type]
    plan.deployment["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}  # type: ignore[index]
    outcome = _app.wait(svc, plan, deadline=_app.time.monotonic())  # type: ignore[arg-type]
    assert outcome["status"] == "failed" and "rollout did not finish" in outcome["message"]
    assert any("cannot list replicasets" in w for w in plan.warnings)


@pytest.mark.parametrize(("first", "second", "changed"), [("a", "a", False), ("a", "b", True)])
def test_a_restart_id_restarts_only_when_it_changes(svc: FakeService, first: str, second: str, changed: bool) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    _app.run(svc, params(state="restarted", restart_id=first), check_mode=False)  # type: ignore[arg-type]
    svc.calls.clear()
    check = _app.run(svc, params(state="restarted", restart_id=second), check_mode=True)  # type: ignore[arg-type]
    real = _app.run(svc, params(state="restarted", restart_id=second), check_mode=False)  # type: ignore[arg-type]
    assert check["changed"] is real["changed"] is changed
    assert check.get("diff") == real.get("diff")
    assert len(svc.writes()) == (1 if changed else 0)


def test_restart_without_an_id_always_restarts(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    first = _app.run(svc, params(state="restarted"), check_mode=False)  # type: ignore[arg-type]
    second = _app.run(svc, params(state="restarted"), check_mode=False)  # type: ignore[arg-type]
    assert first["changed"] and second["changed"]


def test_restart_refuses_a_foreign_deployment(svc: FakeService) -> None:
    svc.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"replicas": 1}})
    with pytest.raises(ValidationError):
        _app.run(svc, params(state="restarted"), check_mode=False)  # type: ignore[arg-type]
    assert svc.writes() == []


def test_a_dropped_volume_keeps_its_claim_unless_told(svc: FakeService) -> None:
    volumes = [{"name": "files", "path": "/app/files", "size": "1Gi"}]
    first = _app.run(svc, params(volumes=volumes), check_mode=False)  # type: ignore[arg-type]
    assert {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "web-files", "action": "created"} in first["objects"]
    kept = _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert ("PersistentVolumeClaim", "shop", "web-files") in svc.objects
    assert any("web-files is no longer declared but is kept" in w for w in kept["warnings"])
    check = _app.run(svc, params(delete_volumes=True), check_mode=True)  # type: ignore[arg-type]
    assert {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "web-files", "action": "deleted"} in check["objects"]
    assert ("PersistentVolumeClaim", "shop", "web-files") in svc.objects
    _app.run(svc, params(delete_volumes=True), check_mode=False)  # type: ignore[arg-type]
    assert ("PersistentVolumeClaim", "shop", "web-files") not in svc.objects


def test_absent_keeps_claims_unless_told(svc: FakeService) -> None:
    _app.run(svc, params(volumes=[{"name": "files", "path": "/app/files", "size": "1Gi"}]), check_mode=False)  # type: ignore[arg-type]
    gone = _app.run(svc, params(state="absent"), check_mode=False)  # type: ignore[arg-type]
    assert ("Deployment", "shop", "web") not in svc.objects
    assert ("PersistentVolumeClaim", "shop", "web-files") in svc.objects
    assert any("web-files is kept" in w for w in gone["warnings"])
    _app.run(svc, params(state="absent", delete_volumes=True), check_mode=False)  # type: ignore[arg-type]
    assert ("PersistentVolumeClaim", "shop", "web-files") not in svc.objects


def test_replicas_are_sent_only_when_declared(svc: FakeService) -> None:
    plan = _app.plan_app(svc, params(replicas=None))  # type: ignore[arg-type]
    _app.execute(svc, plan)  # type: ignore[arg-type]
    assert "replicas" not in svc.objects[("Deployment", "shop", "web")]["spec"]


def _forget_owned_kinds(svc: FakeService) -> None:
    """The Deployment as an app deployed before it recorded its kinds has it."""
    del svc.objects[("Deployment", "shop", "web")]["metadata"]["annotations"][res.OWNS_ANNOTATION]


def test_objects_an_imperative_module_made_are_not_pruned(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    _forget_owned_kinds(svc)
    labels = {res.MANAGED_BY_LABEL: res.MANAGER, res.NAME_LABEL: "web", res.INSTANCE_LABEL: "web"}
    svc.put({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
             "metadata": {"name": "web", "namespace": "shop", "labels": labels,
                          "annotations": {res.DECLARED_BY_ANNOTATION: "app_autoscale"}}, "spec": {}})
    svc.put({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
             "metadata": {"name": "web-old", "namespace": "shop", "labels": labels}, "spec": {}})
    plan = _app.plan_app(svc, params())  # type: ignore[arg-type]
    deleted = [o["name"] for o in plan.objects if o["action"] == "deleted"]
    assert deleted == ["web-old"]


def test_a_forbidden_list_of_an_undeclared_kind_is_a_warning(svc: FakeService) -> None:
    svc.fail[("list", "CronJob")] = FORBIDDEN
    plan = _app.plan_app(svc, params())  # type: ignore[arg-type]
    assert any("cannot list cronjobs" in w for w in plan.warnings)


def test_a_route_another_app_serves_is_refused_naming_both(svc: FakeService) -> None:
    _app.run(svc, params(name="api"), check_mode=False)  # type: ignore[arg-type]
    svc.calls.clear()
    with pytest.raises(ValidationError) as caught:
        _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert "shop.example.com/ is claimed by app api and app web" in caught.value.message
    assert svc.writes() == []


def test_removing_a_linked_app_names_its_linkers_or_unlinks_them(svc: FakeService) -> None:
    _app.run(svc, params(name="api", routes=[]), check_mode=False)  # type: ignore[arg-type]
    _app.run(svc, params(links=[{"app": "api"}]), check_mode=False)  # type: ignore[arg-type]
    env = svc.objects[("Deployment", "shop", "web")]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "API_URL", "value": "http://api.shop.svc.cluster.local:8080"} in env
    warned = _app.run(svc, params(name="api", state="absent"), check_mode=True)  # type: ignore[arg-type]
    assert any("still linked from shop/web (API_URL)" in w for w in warned["warnings"])
    # A declared link is the inventory's: unlink names it rather than fight the inventory.
    unlinked = _app.run(svc, params(name="api", state="absent", unlink=True), check_mode=True)  # type: ignore[arg-type]
    assert any("app shop/web declares a link to it (API_URL)" in w for w in unlinked["warnings"])


def _lists(svc: FakeService) -> list[str]:
    return sorted(c[1] for c in svc.calls if c[0] == "list")


def test_the_deployment_records_the_kinds_its_app_owns(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    deployment = svc.objects[("Deployment", "shop", "web")]
    assert deployment["metadata"]["annotations"][res.OWNS_ANNOTATION] == "Ingress"
    _app.run(svc, params(routes=[]), check_mode=False)  # type: ignore[arg-type]
    deployment = svc.objects[("Deployment", "shop", "web")]
    assert deployment["metadata"]["annotations"][res.OWNS_ANNOTATION] == ""
    assert not [k for k in svc.objects if k[0] == "Ingress"]


def test_a_no_op_lists_only_the_kinds_recorded_or_declared(svc: FakeService) -> None:
    _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    svc.calls.clear()
    plan = _app.plan_app(svc, params())  # type: ignore[arg-type]
    assert not plan.changed
    assert _lists(svc) == ["Ingress"]
    _forget_owned_kinds(svc)
    svc.calls.clear()
    plan = _app.plan_app(svc, params())  # type: ignore[arg-type]
    assert plan.changed  # the record is written once
    assert _lists(svc) == ["CronJob", "HorizontalPodAutoscaler", "Ingress", "PersistentVolumeClaim"]


def test_a_dropped_kind_is_deleted_before_the_deployment_stops_recording_it(svc: FakeService) -> None:
    autoscale = {"min": 1, "max": 3, "cpu": 70, "memory": None}
    _app.run(svc, params(replicas=None, autoscale=autoscale), check_mode=False)  # type: ignore[arg-type]
    deployment = svc.objects[("Deployment", "shop", "web")]
    assert deployment["metadata"]["annotations"][res.OWNS_ANNOTATION] == "HorizontalPodAutoscaler,Ingress"
    svc.calls.clear()
    _app.run(svc, params(replicas=None), check_mode=False)  # type: ignore[arg-type]
    writes = [c[:2] for c in svc.writes() if c[0] in ("apply", "delete")]
    assert writes.index(("delete", "HorizontalPodAutoscaler")) < writes.index(("apply", "Deployment"))
    assert svc.objects[("Deployment", "shop", "web")]["metadata"]["annotations"][res.OWNS_ANNOTATION] == "Ingress"


def test_a_kept_claim_stays_recorded(svc: FakeService) -> None:
    volume = {"name": "files", "path": "/srv/files", "size": "1Gi", "access_mode": "ReadWriteOnce",
              "storage_class": None}
    _app.run(svc, params(volumes=[volume]), check_mode=False)  # type: ignore[arg-type]
    kept = _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert any("web-files is no longer declared" in w for w in kept["warnings"])
    deployment = svc.objects[("Deployment", "shop", "web")]
    assert deployment["metadata"]["annotations"][res.OWNS_ANNOTATION] == "Ingress,PersistentVolumeClaim"
    again = _app.run(svc, params(), check_mode=False)  # type: ignore[arg-type]
    assert not again["changed"] and any("web-files is no longer declared" in w for w in again["warnings"])
    gone = _app.run(svc, params(delete_volumes=True), check_mode=False)  # type: ignore[arg-type]
    assert gone["changed"] and ("PersistentVolumeClaim", "shop", "web-files") not in svc.objects
    assert svc.objects[("Deployment", "shop", "web")]["metadata"]["annotations"][res.OWNS_ANNOTATION] == "Ingress"


def test_the_services_of_the_app_and_its_links_come_from_one_list(svc: FakeService) -> None:
    _app.run(svc, params(name="api", routes=[]), check_mode=False)  # type: ignore[arg-type]
    links = [{"app": "api"}]
    _app.run(svc, params(links=links), check_mode=False)  # type: ignore[arg-type]
    svc.calls.clear()
    plan = _app.plan_app(svc, params(links=links))  # type: ignore[arg-type]
    assert not plan.changed
    assert [c for c in svc.calls if c[:2] == ("get", "Service")] == []
    assert _lists(svc) == ["Ingress", "Service"]
    env = {e["name"]: e["value"] for e in svc.objects[("Deployment", "shop", "web")]["spec"]["template"]["spec"]
           ["containers"][0]["env"]}
    assert env["API_URL"] == "http://api.shop.svc.cluster.local:8080"


def test_a_service_the_list_misses_is_read_by_name(svc: FakeService) -> None:
    svc.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "legacy", "namespace": "shop"},
             "spec": {"ports": [{"name": "http", "port": 7000}]}})
    svc.fail[("list", "Service")] = FORBIDDEN
    _app.run(svc, params(links=[{"app": "legacy"}]), check_mode=False)  # type: ignore[arg-type]
    env = {e["name"]: e["value"] for e in svc.objects[("Deployment", "shop", "web")]["spec"]["template"]["spec"]
           ["containers"][0]["env"]}
    assert env["LEGACY_URL"] == "http://legacy.shop.svc.cluster.local:7000"
    assert ("get", "Service", "legacy") in svc.calls


def test_a_link_the_credentials_may_not_read_names_the_link_and_the_right(svc: FakeService) -> None:
    svc.fail[("get", "Service", "mailer")] = FORBIDDEN
    with pytest.raises(ApiError) as caught:
        _app.plan_app(svc, params(links=[{"app": "mailer", "namespace": "platform"}]))  # type: ignore[arg-type]
    assert caught.value.status == 403
    assert caught.value.message.startswith("app web: links[0].app: cannot resolve link MAILER_URL: 403 Forbidden")
    assert caught.value.message.endswith("the credentials need get on services in namespace platform to link there")
    assert svc.writes() == []

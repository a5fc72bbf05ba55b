"""The autoscale value, its HorizontalPodAutoscaler, and the app_autoscale plan against a fake service."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _autoscale
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils._errors import ValidationError
from fake_service import FakeService


@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    ({"max": 4, "cpu": 50}, {"min": 1, "max": 4, "cpu": 50}),
    ({"min": 2, "max": 6, "cpu": 70, "memory": 80}, {"min": 2, "max": 6, "cpu": 70, "memory": 80}),
    ({"min": 3, "max": 3, "memory": "100"}, {"min": 3, "max": 3, "memory": 100}),
    ({"min": None, "max": 2, "cpu": 1, "memory": None}, {"min": 1, "max": 2, "cpu": 1}),
])
def test_check_autoscale_accepts(value: Any, expected: Any) -> None:
    assert _autoscale.check_autoscale("web", value) == expected


@pytest.mark.parametrize(("value", "field", "message"), [
    ({"min": 5, "max": 2, "cpu": 50}, "autoscale.min", "app web: autoscale.min: 5 is above autoscale.max (2)"),
    ({"min": 0, "max": 2, "cpu": 50}, "autoscale.min", "app web: autoscale.min: 0 is out of range: must be at least 1"),
    ({"max": 4, "cpu": 0}, "autoscale.cpu", "app web: autoscale.cpu: 0 is out of range: must be between 1 and 100"),
    ({"max": 4, "memory": 101}, "autoscale.memory",
     "app web: autoscale.memory: 101 is out of range: must be between 1 and 100"),
    ({"max": 4}, "autoscale", "app web: autoscale: give a target utilisation: cpu and/or memory, in percent of the requests"),
    ({"min": 1, "cpu": 50}, "autoscale.max", "app web: autoscale.max: is required: the most replicas the autoscaler may run"),
    ({"max": 4, "cpu": 50, "target": 3}, "autoscale.target",
     "app web: autoscale.target: unknown key (autoscale takes min, max, cpu, memory)"),
    ({"max": "many", "cpu": 50}, "autoscale.max", "app web: autoscale.max: 'many' is not a whole number"),
    ([1, 4], "autoscale", "app web: autoscale: must be a mapping such as {min: 2, max: 6, cpu: 70}"),
])
def test_check_autoscale_refuses(value: Any, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        _autoscale.check_autoscale("web", value)
    assert err.value.message == message
    assert err.value.details == {"app": "web", "field": field}


SPEC = {"name": "web", "version": "1.4.2", "labels": {"team": "shop"}, "formation": None}


def test_hpa_manifest_is_named_after_the_app_and_lists_metrics_in_a_fixed_order() -> None:
    hpa = _autoscale.hpa_manifest(SPEC, "shop", {"memory": 80, "max": 6, "min": 2, "cpu": 70})
    assert hpa == {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop", "labels": res.app_labels(SPEC)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Resource",
                 "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}},
            ],
        },
    }


def test_hpa_manifest_marks_what_the_module_made() -> None:
    hpa = _autoscale.hpa_manifest(SPEC, "shop", {"min": 1, "max": 2, "memory": 50}, declared_by="app_autoscale")
    assert hpa["metadata"]["annotations"] == {_autoscale.DECLARED_BY_ANNOTATION: "app_autoscale"}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["memory"]


def deployment(cpu_request: str | None = "100m") -> dict[str, Any]:
    spec = dict(SPEC)
    manifest = res.deployment({**spec, "image": "r/web:1.4.2", "port": 8080, "env": {}, "secrets": {},
                               "resources": {"cpu": {"request": cpu_request}} if cpu_request else {},
                               "probes": {}, "replicas": 2}, "shop")
    return manifest


@pytest.fixture
def svc() -> FakeService:
    fake = FakeService()
    fake.put(res.namespace_manifest("shop"))
    fake.put(deployment())
    return fake


def params(**extra: Any) -> dict[str, Any]:
    return {"name": "web", "namespace": "shop", "state": "present", "min": 1, "max": 4, "cpu": 50, "memory": None,
            "replicas": None, "force": False, "wait": True, "wait_timeout": 5, **extra}


def test_present_plans_then_writes_once_and_a_second_run_writes_nothing(svc: FakeService) -> None:
    check = _autoscale.run(svc, params(), True)  # type: ignore[arg-type]
    assert check["changed"] and svc.writes() == []
    assert check["objects"] == [{"kind": "HorizontalPodAutoscaler", "namespace": "shop", "name": "web",
                                 "action": "created"}]
    real = _autoscale.run(svc, params(), False)  # type: ignore[arg-type]
    assert real["diff"] == check["diff"]
    assert [w[:2] for w in svc.writes()] == [("apply", "HorizontalPodAutoscaler")]
    svc.calls.clear()
    again = _autoscale.run(svc, params(), False)  # type: ignore[arg-type]
    assert not again["changed"] and svc.writes() == []
    assert again["autoscale"]["max"] == 4


def test_a_foreign_autoscaler_of_the_same_name_is_never_taken_over(svc: FakeService) -> None:
    foreign = _autoscale.hpa_manifest(SPEC, "shop", {"min": 1, "max": 2, "cpu": 50})
    foreign["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    svc.put(foreign)
    with pytest.raises(ValidationError, match="was not made by skipper.platform .managed by Helm.; it is never taken"):
        _autoscale.run(svc, params(force=True), False)  # type: ignore[arg-type]
    assert svc.writes() == []


def test_inventorys_autoscaler_needs_force_and_then_warns(svc: FakeService) -> None:
    svc.put(_autoscale.hpa_manifest(SPEC, "shop", {"min": 1, "max": 2, "cpu": 50}))
    with pytest.raises(ValidationError, match="is declared in inventory"):
        _autoscale.run(svc, params(), False)  # type: ignore[arg-type]
    forced = _autoscale.run(svc, params(force=True), False)  # type: ignore[arg-type]
    assert forced["changed"]
    assert "puts the inventory's settings back" in forced["warnings"][0]


def test_another_autoscaler_of_the_app_is_refused(svc: FakeService) -> None:
    other = _autoscale.hpa_manifest({**SPEC, "name": "web-by-hand"}, "shop", {"min": 1, "max": 2, "cpu": 50})
    other["spec"]["scaleTargetRef"]["name"] = "web"
    svc.put(other)
    with pytest.raises(ValidationError, match="web-by-hand already scales Deployment shop/web"):
        _autoscale.run(svc, params(), False)  # type: ignore[arg-type]


def test_a_target_without_requests_warns() -> None:
    fake = FakeService()
    fake.put(res.namespace_manifest("shop"))
    fake.put(deployment(cpu_request=None))
    result = _autoscale.run(fake, params(memory=80), True)  # type: ignore[arg-type]
    assert [w.split(":")[1].strip() for w in result["warnings"]] == ["autoscale.cpu", "autoscale.memory"]


def test_bad_input_and_a_missing_app_fail_before_any_call() -> None:
    fake = FakeService()
    with pytest.raises(ValidationError, match="autoscale.min: 5 is above"):
        _autoscale.run(fake, params(min=5, max=2), False)  # type: ignore[arg-type]
    assert fake.calls == []
    with pytest.raises(ValidationError, match="app web: cannot autoscale it: Deployment shop/web not found"):
        _autoscale.run(fake, params(), False)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="replicas: required with state: absent"):
        _autoscale.run(fake, params(state="absent"), False)  # type: ignore[arg-type]

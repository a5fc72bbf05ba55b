"""Formation input (merging, defaults, unknown keys) and its Lease, with table tests and the fake service."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _formation, _lease
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils._errors import SkipperError, ValidationError
from fake_service import FakeService


@pytest.mark.parametrize(
    ("base", "over", "merged"),
    [
        pytest.param({"a": 1}, {"b": 2}, {"a": 1, "b": 2}, id="disjoint"),
        pytest.param({"r": {"cpu": {"request": "1", "limit": "2"}}}, {"r": {"cpu": {"limit": "3"}}},
                     {"r": {"cpu": {"request": "1", "limit": "3"}}}, id="nested-maps-merge"),
        pytest.param({"routes": [{"host": "a"}]}, {"routes": [{"host": "b"}]}, {"routes": [{"host": "b"}]},
                     id="lists-are-replaced"),
        pytest.param({"env": {"A": "1"}}, {"env": None}, {"env": None}, id="null-replaces"),
    ],
)
def test_deep_merge(base: dict[str, Any], over: dict[str, Any], merged: dict[str, Any]) -> None:
    assert _formation.deep_merge(base, over) == merged


@pytest.mark.parametrize(
    ("app", "environment", "domain", "production", "host"),
    [
        pytest.param("web", "staging", "shop.example.com", False, "web.staging.shop.example.com", id="env"),
        pytest.param("web", "prod", "shop.example.com", True, "web.shop.example.com", id="production"),
        pytest.param("web", None, "shop.example.com", False, "web.shop.example.com", id="no-environment"),
        pytest.param("web", "dev", None, False, None, id="no-domain"),
    ],
)
def test_default_host(app: str, environment: str | None, domain: str | None, production: bool, host: str | None) -> None:
    assert _formation.default_host(app, environment, domain, production) == host


def formation(**extra: Any) -> dict[str, Any]:
    base = {"name": "shop-dev", "namespace": "shop", "environment": "dev", "domain": "shop.localtest",
            "defaults": {"image": "registry.example.com/shop/web", "port": 8080}, "apps": {}}
    base.update(extra)
    return base


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        pytest.param({"replica": 2}, "app web: replica: unknown key; did you mean replicas?", id="typo"),
        pytest.param({"imgae": "x"}, "app web: imgae: unknown key; did you mean image?", id="swapped-letters"),
        pytest.param({"zzz": 1}, "app web: zzz: unknown key; known keys: image, version", id="nothing-close"),
        pytest.param("just a string", "app web: must be a mapping", id="not-a-mapping"),
    ],
)
def test_app_input_errors_name_the_app_and_the_key(declared: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _formation.app_params(formation(), "web", declared)
    assert caught.value.message.startswith(message)


def test_app_params_merge_defaults_versions_and_default_hosts() -> None:
    params = formation(versions={"web": "2.0"})
    merged = _formation.app_params(params, "web", {"version": "1.0", "routes": [{"tls": True}, {"host": "x.example"}]})
    assert merged["image"] == "registry.example.com/shop/web" and merged["port"] == 8080
    assert merged["version"] == "2.0"
    assert [r["host"] for r in merged["routes"]] == ["web.dev.shop.localtest", "x.example"]
    assert (merged["namespace"], merged["formation"]) == ("shop", "shop-dev")


def test_a_route_without_host_needs_a_domain() -> None:
    with pytest.raises(ValidationError) as caught:
        _formation.app_params(formation(domain=None), "web", {"version": "1.0", "routes": [{}]})
    assert "routes[0].host: no host given" in caught.value.message


def test_versions_for_unknown_apps_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        _formation.FormationRun(FakeService(), formation(apps={"web": {"version": "1"}}, versions={"wbe": "2"}),  # type: ignore[arg-type]
                                check_mode=True)
    assert "versions: wbe not in the formation's apps" in caught.value.message


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def make_lease(svc: FakeService, clock: Clock, identity: str) -> _lease.FormationLease:
    return _lease.FormationLease(svc, "shop", "shop-dev", timeout=10, identity=identity,  # type: ignore[arg-type]
                                 clock=clock, sleep=clock.sleep)


def test_a_held_lease_makes_a_second_run_wait_then_fail_naming_the_holder() -> None:
    svc, clock = FakeService(), Clock()
    svc.put(res.namespace_manifest("shop"))
    first = make_lease(svc, clock, "alice@ci pid 1")
    first.acquire()
    first._stop.set()  # renewed by hand below, in step with the fake clock
    second = make_lease(svc, clock, "bob@laptop pid 2")

    def wait_while_the_first_renews(seconds: float) -> None:
        clock.sleep(seconds)
        svc.objects[("Lease", "shop", "skipper-shop-dev")]["spec"]["renewTime"] = _lease._micro_time(clock.now)

    second.sleep = wait_while_the_first_renews
    with pytest.raises(_lease.LeaseHeld) as caught:
        second.acquire()
    assert "holder: alice@ci pid 1" in caught.value.message
    assert "waited 10 s" in caught.value.message
    assert svc.objects[("Lease", "shop", "skipper-shop-dev")]["spec"]["holderIdentity"] == "alice@ci pid 1"


def test_an_expired_lease_is_taken_over_and_a_released_one_is_gone() -> None:
    svc, clock = FakeService(), Clock()
    svc.put(res.namespace_manifest("shop"))
    first = make_lease(svc, clock, "alice@ci pid 1")
    first.acquire()
    first._stop.set()
    clock.now += _lease.DURATION + 1
    second = make_lease(svc, clock, "bob@laptop pid 2")
    second.acquire()
    lease = svc.objects[("Lease", "shop", "skipper-shop-dev")]
    assert lease["spec"]["holderIdentity"] == "bob@laptop pid 2"
    assert lease["spec"]["leaseTransitions"] == 1
    second.release()
    assert ("Lease", "shop", "skipper-shop-dev") not in svc.objects


@pytest.mark.parametrize(
    ("spec", "expired"),
    [
        pytest.param({}, True, id="no-holder"),
        pytest.param({"holderIdentity": "a", "renewTime": "2027-01-15T08:00:00.000000Z", "leaseDurationSeconds": 30},
                     False, id="fresh"),
        pytest.param({"holderIdentity": "a", "renewTime": "2027-01-15T07:59:00.000000Z", "leaseDurationSeconds": 30},
                     True, id="stale"),
    ],
)
def test_expired(spec: dict[str, Any], expired: bool) -> None:
    now = 1_800_000_000.0 + 0  # 2027-01-15T08:00:00Z
    assert _lease.expired({"spec": spec}, now) is expired


def test_lease_errors_are_skipper_errors() -> None:
    assert issubclass(_lease.LeaseHeld, SkipperError)


def converge(svc: FakeService, check_mode: bool = False, **extra: Any) -> dict[str, Any]:
    params = formation(apps={"web": {"version": "1.0", "routes": [{}]}, "api": {"version": "2.0"}}, wait_timeout=5)
    params.update(extra)
    return _formation.converge_formation(svc, params, check_mode)  # type: ignore[arg-type]


def test_a_converge_that_writes_holds_the_lease_and_a_no_op_takes_none() -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    first = converge(svc)
    assert first["changed"]
    assert [c[:2] for c in svc.calls if c[1] == "Lease"] == [("get", "Lease"), ("create", "Lease"), ("delete", "Lease")]
    svc.calls.clear()
    again = converge(svc)
    assert not again["changed"]
    assert svc.writes() == []  # no Lease either
    assert not [c for c in svc.calls if c[1] == "Lease"]


def test_check_mode_takes_no_lease_and_predicts_the_run() -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    check = converge(copy_of(svc), check_mode=True)
    real = converge(svc)
    assert check["objects"] == real["objects"] and check["diff"] == real["diff"]


def copy_of(svc: FakeService) -> FakeService:
    return copy.deepcopy(svc)


def test_a_failed_plan_writes_nothing_and_names_every_failing_app() -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    svc.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
             "spec": {"replicas": 1}})
    with pytest.raises(SkipperError) as caught:
        converge(svc)
    assert caught.value.message.startswith("formation shop-dev: 1 of 2 app(s) could not be planned, so nothing was "
                                           "written: api: app api: Deployment shop/api exists but is not this app's")
    assert svc.writes() == []
    details = caught.value.details
    assert details["changed"] is False and details["objects"] == [] and details["diff"] == []
    assert all(entry["objects"] == [] for entry in details["apps"].values())
    assert details["apps"]["api"]["failed"] is True


def test_instances_bound_every_app() -> None:
    with pytest.raises(ValidationError) as caught:
        _formation.app_params(formation(instances={"min": 2, "max": 4}), "web", {"version": "1.0"})
    assert caught.value.message == "app web: replicas: 1 is below the environment's minimum of 2 instances"


def test_links_between_the_formations_apps_need_no_read_and_both_come_up_together() -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    result = _formation.converge_formation(svc, formation(apps={  # type: ignore[arg-type]
        "web": {"version": "1.0", "links": [{"app": "api"}, {"app": "api", "public": True, "name": "API_PUBLIC"}]},
        "api": {"version": "2.0", "port": 9000, "routes": [{"tls": True}]}}, wait_timeout=5,
        tls_issuer="letsencrypt"), False)
    assert result["changed"]
    env = svc.objects[("Deployment", "shop", "web")]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "API_URL", "value": "http://api.shop.svc.cluster.local:9000"} in env
    assert {"name": "API_PUBLIC", "value": "https://api.dev.shop.localtest"} in env
    annotations = svc.objects[("Deployment", "shop", "web")]["metadata"]["annotations"]
    assert annotations["skipper.platform/declared-links"] == '{"API_PUBLIC":"api.shop","API_URL":"api.shop"}'


def test_a_link_to_an_app_outside_the_formation_is_refused_before_any_write() -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    with pytest.raises(SkipperError) as caught:
        _formation.converge_formation(svc, formation(apps={  # type: ignore[arg-type]
            "web": {"version": "1.0", "links": [{"app": "search"}]}}, wait_timeout=5), False)
    assert "links[0].app: search is not an app of this formation" in caught.value.message
    assert svc.writes() == []


def test_two_apps_on_one_host_and_path_are_refused_naming_both() -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    with pytest.raises(ValidationError) as caught:
        _formation.converge_formation(svc, formation(apps={  # type: ignore[arg-type]
            "web": {"version": "1.0", "routes": [{"host": "shop.example.com"}]},
            "api": {"version": "1.0", "routes": [{"host": "shop.example.com", "path": "/"}]}}), False)
    assert "shop.example.com/ is claimed by app api and app web" in caught.value.message
    assert svc.writes() == []


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        pytest.param({"version": "1.0", "rollback_on_failure": "maybe"},
                     "app web: rollback_on_failure: 'maybe' must be true or false", id="rollback-string"),
        pytest.param({"version": "1.0", "routes": "web.example.com"}, "app web: routes: must be a list",
                     id="routes-string"),
        pytest.param({"version": "1.0", "autoscale": {"min": 0, "max": 2, "cpu": 50}},
                     "app web: autoscale.min: 0 is below the environment's minimum of 1 instances", id="autoscale-min"),
        pytest.param({"version": "1.0", "autoscale": {"min": 1, "max": 9, "cpu": 50}},
                     "app web: autoscale.max: 9 is above the environment's maximum of 4 instances", id="autoscale-max"),
    ],
)
def test_inventory_values_of_the_wrong_type_or_range_name_the_field(declared: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _formation.app_params(formation(instances={"min": 1, "max": 4}), "web", declared)
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        pytest.param({"version": "1.0", "env": ["A=1"]}, "app web: env: must be a mapping", id="env-list"),
        pytest.param({"version": 1.10}, "app web: version: 1.1 is a number", id="version-float"),
        pytest.param({"version": "1.0", "routes": [{"host": "web.example.com", "tls": "nope"}]},
                     "app web: routes[0].tls: 'nope' must be true or false", id="tls-string"),
    ],
)
def test_a_formation_with_a_value_of_the_wrong_type_writes_nothing(app: dict[str, Any], message: str) -> None:
    svc = FakeService()
    svc.put(res.namespace_manifest("shop"))
    with pytest.raises(SkipperError) as caught:
        _formation.converge_formation(svc, formation(apps={"web": app}, wait_timeout=5), False)  # type: ignore[arg-type]
    assert message in caught.value.message
    assert svc.writes() == []

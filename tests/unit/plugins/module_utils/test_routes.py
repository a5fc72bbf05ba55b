# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils import _route_runner as runner
from ansible_collections.skipper.platform.plugins.module_utils import _routes as routes
from ansible_collections.skipper.platform.plugins.module_utils._errors import ValidationError
from fake_service import FORBIDDEN, FakeService


@pytest.mark.parametrize(("env", "production", "expected"), [
    ("dev", False, "web.dev.example.com"),
    ("prod", True, "web.example.com"),
    (None, False, "web.example.com"),
])
def test_default_host(env: str | None, production: bool, expected: str) -> None:
    assert routes.default_host("web", env, "example.com", production) == expected


def test_default_host_needs_a_domain() -> None:
    with pytest.raises(ValidationError, match="app web: host: no host given and no domain"):
        routes.default_host("web", "dev", "", False)


def test_conflicts_name_both_owners() -> None:
    claims = [("shop.example.com", "/", "app web"), ("shop.example.com", "/api", "route group shop"),
              ("shop.example.com", "/api/", "app api"), ("shop.example.com", "/", "app web"),
              ("other.example.com", "/api", "app api")]
    assert routes.conflicts(claims) == ["shop.example.com/api is claimed by app api and route group shop"]


def test_no_conflict_without_a_shared_host_and_path() -> None:
    assert routes.conflicts([("a.example.com", "/", "app a"), ("b.example.com", "/", "app b"),
                             ("a.example.com", "/x", "app b")]) == []


def group(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"name": "shop", "hostname": "shop.example.com",
                              "paths": [{"path": "/api", "app": "api", "strip_prefix": True}, {"path": "/", "app": "web"}]}
    params.update(changes)
    return routes.check_group(params)


def test_check_group_normalizes_and_sorts_paths() -> None:
    checked = group(paths=[{"path": "/api/", "app": "api"}, {"path": "/", "app": "web"}], hostname="Shop.Example.com")
    assert checked["host"] == "shop.example.com"
    assert [(p["path"], p["app"], p["index"]) for p in checked["paths"]] == [("/", "web", 1), ("/api", "api", 0)]
    assert checked["kind"] == "Ingress" and checked["controller"] == "nginx" and checked["issuer"] is None


def test_check_group_makes_a_default_host() -> None:
    assert group(hostname=None, domain="example.com", environment="staging")["host"] == "shop.staging.example.com"
    assert group(hostname=None, domain="example.com", environment="prod", production=True)["host"] == "shop.example.com"


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"name": "Shop"}, "name", "DNS-1035 label"),
    ({"hostname": None}, "hostname", "give hostname, or domain"),
    ({"hostname": "shop example.com"}, "hostname", "is not a hostname"),
    ({"paths": []}, "paths", "at least one"),
    ({"paths": [{"path": "api", "app": "api"}]}, "paths[0].path", "'api' must start with /"),
    ({"paths": [{"path": None, "app": "api"}]}, "paths[0].path", "must start with /"),
    ({"paths": [{"path": "/a b", "app": "api"}]}, "paths[0].path", "is not a URL path prefix"),
    ({"paths": [{"path": "/a?b=1", "app": "api"}]}, "paths[0].path", "is not a URL path prefix"),
    ({"paths": [{"path": "//api", "app": "api"}]}, "paths[0].path", "is not a URL path prefix"),
    ({"paths": [{"path": "/api", "app": "api"}, {"path": "/api/", "app": "web"}]}, "paths[1].path",
     "/api is already routed by paths[0]"),
    ({"paths": [{"path": "/", "app": "Web"}]}, "paths[0].app", "is not an app name"),
    ({"paths": [{"path": "/", "app": "web", "strip_prefix": True}]}, "paths[0].strip_prefix", "no prefix to strip"),
    ({"paths": [{"path": "/", "app": "web", "port": 80}]}, "paths[0]", "unknown keys: port"),
    ({"tls": True}, "issuer", "TLS needs a cert-manager ClusterIssuer"),
    ({"kind": "Route", "ingress_class": "nginx"}, "ingress_class", "has no ingress class"),
    ({"ingress_class": "Nginx_Class"}, "ingress_class", "is not an IngressClass name"),
    ({"kind": "Gateway"}, "kind", "must be one of Ingress, Route"),
])
def test_check_group_refuses(changes: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        group(**changes)
    assert caught.value.details["field"] == field
    assert f": {field}: " in caught.value.message and reason in caught.value.message


@pytest.mark.parametrize(("path", "expected"), [
    ("/", "shop.path"),
    ("/api", "shop.path.api"),
    ("/api/v1", "shop.path.api.v1"),
    ("/api-v1", "shop.path.api-v1"),
])
def test_object_names_read_like_the_path(path: str, expected: str) -> None:
    assert routes.object_name("shop", path) == expected


def test_other_paths_get_a_hashed_name_and_no_two_paths_share_one() -> None:
    paths = ["/", "/api", "/Api", "/api/v1", "/api.v1", "/path", "/api_v1", "/-x", "/" + "a" * 64]
    names = [routes.object_name("shop", p) for p in paths]
    assert len(set(names)) == len(names)
    assert routes.object_name("shop", "/Api").startswith("shop.path-")
    assert all(len(n) <= 253 for n in names)


def test_nginx_strips_with_a_regex_path_and_tls_asks_once() -> None:
    objects = routes.manifests(group(tls=True, issuer="letsencrypt", ingress_class="nginx"), "shop-prod")
    root, api = objects
    assert [o["metadata"]["name"] for o in objects] == ["shop.path", "shop.path.api"]
    assert root["metadata"]["labels"] == {res.COMPONENT_LABEL: "route-group", res.MANAGED_BY_LABEL: res.MANAGER,
                                          routes.GROUP_LABEL: "shop"}
    assert root["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt",
                                               routes.ROUTE_PATH_ANNOTATION: "/",
                                               res.ROUTE_HOST_ANNOTATION: "shop.example.com"}
    assert root["spec"] == {
        "ingressClassName": "nginx",
        "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
        "rules": [{"host": "shop.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}],
    }
    assert api["metadata"]["annotations"] == {routes.NGINX_REWRITE_ANNOTATION: "/$2",
                                              routes.NGINX_REGEX_ANNOTATION: "true",
                                              routes.ROUTE_PATH_ANNOTATION: "/api",
                                              res.ROUTE_HOST_ANNOTATION: "shop.example.com"}
    assert api["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/api(/|$)(.*)"
    assert api["spec"]["rules"][0]["http"]["paths"][0]["pathType"] == "ImplementationSpecific"
    assert api["spec"]["tls"] == root["spec"]["tls"]


def test_traefik_names_the_middleware() -> None:
    api = routes.manifests(group(controller="traefik"), "shop-prod")[1]
    assert api["metadata"]["annotations"][routes.TRAEFIK_MIDDLEWARES_ANNOTATION] == \
        "shop-prod-shop-strip-prefix@kubernetescrd"
    assert api["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/api"
    assert routes.NGINX_REWRITE_ANNOTATION not in api["metadata"]["annotations"]


def test_routes_hold_one_path_each() -> None:
    root, api = routes.manifests(group(kind="Route", tls=True, issuer="letsencrypt"), "shop-prod")
    assert root["apiVersion"] == "route.openshift.io/v1" and root["kind"] == "Route"
    assert root["spec"] == {"host": "shop.example.com", "to": {"kind": "Service", "name": "web", "weight": 100},
                            "port": {"targetPort": "http"},
                            "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"},
                            "wildcardPolicy": "None"}
    assert api["spec"]["path"] == "/api"
    assert api["metadata"]["annotations"][routes.OPENSHIFT_REWRITE_ANNOTATION] == "/"
    assert api["metadata"]["annotations"][routes.ROUTE_ISSUER_NAME_ANNOTATION] == "letsencrypt"


def test_claims_read_the_path_asked_for() -> None:
    objects = routes.manifests(group(), "shop-prod") + routes.manifests(group(name="os", kind="Route"), "shop-prod")
    assert routes.claims_of(objects) == [
        ("shop.example.com", "/", "route group shop"), ("shop.example.com", "/api", "route group shop"),
        ("shop.example.com", "/", "route group os"), ("shop.example.com", "/api", "route group os"),
    ]


# -- the runner, over the in-memory service


@pytest.fixture
def svc() -> FakeService:
    fake = FakeService()
    fake.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    for app in ("web", "api"):
        fake.put({"apiVersion": "v1", "kind": "Service",
                  "metadata": {"name": app, "namespace": "shop", "labels": {res.MANAGED_BY_LABEL: res.MANAGER}},
                  "spec": {"ports": [{"name": "http", "port": 8080}]}})
    return fake


PARAMS = {"name": "shop", "namespace": "shop", "hostname": "shop.example.com",
          "paths": [{"path": "/api", "app": "api", "strip_prefix": True}, {"path": "/", "app": "web"}]}


def test_check_mode_predicts_the_run_and_a_second_run_writes_nothing(svc: FakeService) -> None:
    check = runner.run(svc, dict(PARAMS), check_mode=True)
    assert svc.writes() == []
    real = runner.run(svc, dict(PARAMS), check_mode=False)
    assert check["changed"] and real["changed"]
    assert check["objects"] == real["objects"] and check["diff"] == real["diff"]
    svc.calls.clear()
    again = runner.run(svc, dict(PARAMS), check_mode=False)
    assert not again["changed"] and svc.writes() == []
    assert [o["action"] for o in again["objects"]] == ["unchanged", "unchanged"]


def test_a_removed_path_deletes_its_object_and_absent_the_group(svc: FakeService) -> None:
    runner.run(svc, dict(PARAMS), check_mode=False)
    fewer = runner.run(svc, {**PARAMS, "paths": [{"path": "/", "app": "web"}]}, check_mode=False)
    assert [(o["name"], o["action"]) for o in fewer["objects"]] == [("shop.path", "unchanged"),
                                                                    ("shop.path.api", "deleted")]
    gone = runner.run(svc, {"name": "shop", "namespace": "shop", "state": "absent"}, check_mode=False)
    assert [(o["name"], o["action"]) for o in gone["objects"]] == [("shop.path", "deleted")]
    assert svc.list("Ingress", "shop") == []


def test_a_missing_app_or_a_clash_stops_before_any_write(svc: FakeService) -> None:
    with pytest.raises(ValidationError, match=r"route shop: paths\[0\]\.app: app ghost not found in namespace shop"):
        runner.run(svc, {**PARAMS, "paths": [{"path": "/", "app": "ghost"}]}, check_mode=False)
    svc.put({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
             "metadata": {"name": "web--shop-example-com", "namespace": "shop",
                          "labels": {res.MANAGED_BY_LABEL: res.MANAGER, res.NAME_LABEL: "web"}},
             "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [
                 {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "web"}}}]}}]}})
    with pytest.raises(ValidationError, match="shop.example.com/api is claimed by app web and route group shop"):
        runner.run(svc, dict(PARAMS), check_mode=False)
    assert svc.writes() == []


def test_an_object_of_the_same_name_made_by_someone_else_is_refused(svc: FakeService) -> None:
    svc.put({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
             "metadata": {"name": "shop.path", "namespace": "shop", "labels": {"app.kubernetes.io/managed-by": "Helm"}},
             "spec": {}})
    with pytest.raises(ValidationError, match="Ingress shop/shop.path exists but is not this route group's"):
        runner.run(svc, dict(PARAMS), check_mode=False)
    assert svc.writes() == []


def test_kind_route_needs_the_route_api(svc: FakeService) -> None:
    svc.fail[("list", "Route")] = FORBIDDEN
    with pytest.raises(ValidationError, match="route shop: kind: Route: cannot use OpenShift Routes"):
        runner.run(svc, {**PARAMS, "kind": "Route"}, check_mode=True)

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _links as links
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils import _routes as routes
from ansible_collections.skipper.platform.plugins.module_utils._app import Plan
from ansible_collections.skipper.platform.plugins.module_utils._errors import ValidationError
from fake_service import FORBIDDEN, FakeService

OURS = {res.MANAGED_BY_LABEL: res.MANAGER}


@pytest.mark.parametrize(("target", "custom", "expected"), [
    ("api", None, "API_URL"),
    ("search-v2", None, "SEARCH_V2_URL"),
    ("a", None, "A_URL"),
    ("api", "BACKEND", "BACKEND"),
])
def test_env_name(target: str, custom: str | None, expected: str) -> None:
    assert links.env_name(target, custom) == expected


def test_check_links_normalizes() -> None:
    given = [{"app": "api"}, {"app": "search", "namespace": "search-prod", "public": True, "name": "SEARCH_ENDPOINT"}]
    assert links.check_links("web", given) == [
        {"app": "api", "namespace": None, "public": False, "name": "API_URL"},
        {"app": "search", "namespace": "search-prod", "public": True, "name": "SEARCH_ENDPOINT"},
    ]


def test_check_links_allows_the_same_name_in_another_namespace() -> None:
    assert links.check_links("web", [{"app": "web", "namespace": "other"}], namespace="shop")[0]["name"] == "WEB_URL"


def test_a_link_to_the_same_app_both_ways_is_two_links() -> None:
    found = links.check_links("web", [{"app": "api"}, {"app": "api", "public": True, "name": "API_PUBLIC_URL"}])
    assert [link["name"] for link in found] == ["API_URL", "API_PUBLIC_URL"]


@pytest.mark.parametrize(("given", "namespace", "field", "reason"), [
    ([{"app": "web"}], None, "links[0].app", "cannot link to itself"),
    ([{"app": "web", "namespace": "shop"}], "shop", "links[0].app", "cannot link to itself"),
    ([{"namespace": "shop"}], None, "links[0].app", "needs the app"),
    ([{"app": "Api"}], None, "links[0].app", "is not an app name"),
    ([{"app": "api", "namespace": "Shop_Prod"}], None, "links[0].namespace", "is not a namespace name"),
    ([{"app": "api", "name": "9LIVES"}], None, "links[0].name", "is not a variable name"),
    ([{"app": "api", "name": "API-URL"}], None, "links[0].name", "is not a variable name"),
    ([{"app": "api", "public": "yes"}], None, "links[0].public", "must be true or false"),
    ([{"app": "api", "port": 80}], None, "links[0]", "unknown keys: port"),
    ([{"app": "api"}, {"app": "api"}], None, "links[1].name", "API_URL is already set by links[0]"),
    ([{"app": "api"}, {"app": "search", "name": "API_URL"}], None, "links[1].name", "already set by links[0]"),
    ([{"app": "api"}, {"app": "api", "name": "OTHER"}], None, "links[1].app", "the same link as links[0]"),
    ({"app": "api"}, None, "links", "must be a list"),
])
def test_check_links_refuses(given: Any, namespace: str | None, field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        links.check_links("web", given, namespace)
    assert caught.value.details == {"app": "web", "field": field}
    assert caught.value.message.startswith(f"app web: {field}: ")
    assert reason in caught.value.message


def _service(name: str, namespace: str, port: int = 8080) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace, "labels": OURS},
            "spec": {"ports": [{"name": "metrics", "port": 9090}, {"name": "http", "port": port}]}}


def _ingress(name: str, namespace: str, host: str, paths: list[tuple[str, str]], tls: bool = False,
             labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": [{"host": host, "http": {"paths": [
        {"path": path, "pathType": "Prefix", "backend": {"service": {"name": app, "port": {"name": "http"}}}}
        for path, app in paths]}}]}
    if tls:
        spec["tls"] = [{"hosts": [host], "secretName": f"{name}-tls"}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace, "labels": {**OURS, **(labels or {})},
                         "annotations": annotations or {}},
            "spec": spec}


@pytest.fixture
def svc() -> FakeService:
    fake = FakeService()
    for namespace in ("shop", "search-prod"):
        fake.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    fake.put(_service("api", "shop", 9000))
    fake.put(_service("search", "search-prod"))
    fake.put(_ingress("search--search-example-com", "search-prod", "search.example.com", [("/", "search")], tls=True,
                      labels={res.NAME_LABEL: "search"}))
    return fake


def test_resolve_gives_internal_and_public_urls(svc: FakeService) -> None:
    wanted = links.check_links("web", [{"app": "api"}, {"app": "search", "namespace": "search-prod", "public": True}])
    assert links.resolve(svc, "shop", wanted) == {
        "API_URL": "http://api.shop.svc.cluster.local:9000",
        "SEARCH_URL": "https://search.example.com",
    }


def test_resolve_prefers_the_apps_own_https_route(svc: FakeService) -> None:
    svc.put(_ingress("group.path.search", "search-prod", "www.example.com", [("/search", "search")],
                     labels={routes.GROUP_LABEL: "group"}))
    svc.put(_ingress("search--old-example-com", "search-prod", "old.example.com", [("/", "search")],
                     labels={res.NAME_LABEL: "search"}))
    found = links.public_urls("search", svc.list("Ingress", "search-prod"))
    assert found == ["https://search.example.com", "http://old.example.com", "http://www.example.com/search"]


def test_a_route_group_path_is_a_public_url_with_the_path_asked_for(svc: FakeService) -> None:
    svc.put(_ingress("group.path.api", "shop", "www.example.com", [("/api(/|$)(.*)", "api")],
                     labels={routes.GROUP_LABEL: "group"}, annotations={routes.ROUTE_PATH_ANNOTATION: "/api"}))
    wanted = links.check_links("web", [{"app": "api", "public": True}])
    assert links.resolve(svc, "shop", wanted) == {"API_URL": "http://www.example.com/api"}


def test_an_openshift_route_is_read_when_no_ingress_leads_to_the_app(svc: FakeService) -> None:
    svc.put({"apiVersion": "route.openshift.io/v1", "kind": "Route",
             "metadata": {"name": "shop.path.api", "namespace": "shop", "labels": OURS},
             "spec": {"host": "shop.example.com", "path": "/api", "to": {"kind": "Service", "name": "api"},
                      "tls": {"termination": "edge"}}})
    wanted = links.check_links("web", [{"app": "api", "public": True}])
    assert links.resolve(svc, "shop", wanted) == {"API_URL": "https://shop.example.com/api"}


def test_resolve_refuses_a_missing_app(svc: FakeService) -> None:
    with pytest.raises(ValidationError) as caught:
        links.resolve(svc, "shop", links.check_links("web", [{"app": "api", "namespace": "other"}]), app="web")
    assert caught.value.message == ("app web: links[0].app: cannot link API_URL to app api: it was not found in "
                                    "namespace other (no Service other/api); deploy it first")


def test_resolve_refuses_a_public_link_to_an_app_without_routes(svc: FakeService) -> None:
    with pytest.raises(ValidationError) as caught:
        links.resolve(svc, "shop", links.check_links("web", [{"app": "api", "public": True}]), app="web")
    assert caught.value.details["field"] == "links[0].public"
    assert "app web: links[0].public: cannot link API_URL publicly to app api in namespace shop" in caught.value.message


def test_resolve_reads_each_namespace_once_for_public_links(svc: FakeService) -> None:
    svc.put(_service("admin", "search-prod"))
    svc.put(_ingress("admin--admin-example-com", "search-prod", "admin.example.com", [("/", "admin")],
                     labels={res.NAME_LABEL: "admin"}))
    wanted = links.check_links("web", [{"app": "search", "namespace": "search-prod", "public": True},
                                       {"app": "admin", "namespace": "search-prod", "public": True}])
    links.resolve(svc, "shop", wanted)
    assert [c for c in svc.calls if c[0] == "list"] == [("list", "Ingress")]


def _deployment(name: str, namespace: str, env: list[dict[str, str]], annotations: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations,
                         "labels": {**OURS, res.NAME_LABEL: name}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x:1", "env": env}]}}}}


def test_the_record_is_stable_json() -> None:
    assert links.record({"B_URL": "b.ns", "A_URL": "a.ns"}) == '{"A_URL":"a.ns","B_URL":"b.ns"}'
    deployment = _deployment("web", "shop", [], {links.LINKS_ANNOTATION: links.record({"B_URL": "b.ns"})})
    assert links.recorded(deployment) == {"B_URL": "b.ns"}
    assert links.recorded(_deployment("web", "shop", [], {links.LINKS_ANNOTATION: "not json"})) == {}
    assert links.recorded(None) == {}


def test_the_claim_holds_every_link_and_leaves_the_apps_own_variables_out() -> None:
    live = _deployment("web", "shop", [{"name": "LOG_LEVEL", "value": "info"},
                                       {"name": "B_URL", "value": "http://b.shop.svc.cluster.local:8080"}],
                       {links.LINKS_ANNOTATION: links.record({"B_URL": "b.shop"})})
    patch, values = links.claim(live, add={"C_URL": ("https://c.example.com", "c.other")})
    assert patch == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop",
                     "annotations": {links.LINKS_ANNOTATION: '{"B_URL":"b.shop","C_URL":"c.other"}'}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
            {"name": "B_URL", "value": "http://b.shop.svc.cluster.local:8080"},
            {"name": "C_URL", "value": "https://c.example.com"},
        ]}]}}},
    }
    assert values == {"B_URL": "http://b.shop.svc.cluster.local:8080", "C_URL": "https://c.example.com"}


def test_the_last_unlink_gives_up_every_field() -> None:
    live = _deployment("web", "shop", [{"name": "B_URL", "value": "u"}],
                       {links.LINKS_ANNOTATION: links.record({"B_URL": "b.shop"})})
    patch, values = links.claim(live, remove=["B_URL"])
    assert patch == {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}
    assert values == {}


def test_declared_links_have_an_annotation_of_their_own() -> None:
    declared = links.check_links("web", [{"app": "api"}, {"app": "search", "namespace": "search-prod"}])
    assert links.declared_annotations("shop", declared) == {
        links.DECLARED_ANNOTATION: '{"API_URL":"api.shop","SEARCH_URL":"search.search-prod"}'}
    assert links.declared_annotations("shop", []) == {}


def test_linked_from_finds_imperative_and_declared_links(svc: FakeService) -> None:
    svc.put(_deployment("web", "shop", [], {links.LINKS_ANNOTATION: links.record({"API_URL": "api.shop",
                                                                                  "S_URL": "search.search-prod"})}))
    svc.put(_deployment("admin", "shop", [], {links.DECLARED_ANNOTATION: links.record({"BACKEND": "api.shop"})}))
    svc.put(_deployment("cron", "shop", [], {}))
    assert links.linked_from(svc, "shop", "api", "shop") == [("shop", "admin", "BACKEND"), ("shop", "web", "API_URL")]
    assert links.linked_from(svc, "shop", "api", "other") == []


def test_plan_unlink_removes_only_that_variable(svc: FakeService) -> None:
    svc.put(_deployment("web", "shop", [{"name": "LOG_LEVEL", "value": "info"}, {"name": "API_URL", "value": "u1"},
                                        {"name": "S_URL", "value": "u2"}],
                        {links.LINKS_ANNOTATION: links.record({"API_URL": "api.shop", "S_URL": "search.search-prod"})}))
    plan = Plan("api", "shop")
    links.plan_unlink(svc, plan, "shop", "web", "API_URL")
    assert plan.objects == [{"kind": "Deployment", "namespace": "shop", "name": "web", "action": "updated"}]
    assert [c for c in svc.calls if c[0] == "dry-run"] == [("dry-run", "Deployment", "web")]
    assert len(plan.writes) == 1


def test_plan_unlink_names_a_declared_link_instead(svc: FakeService) -> None:
    svc.put(_deployment("admin", "shop", [{"name": "BACKEND", "value": "u"}],
                        {links.DECLARED_ANNOTATION: json.dumps({"BACKEND": "api.shop"})}))
    plan = Plan("api", "shop")
    links.plan_unlink(svc, plan, "shop", "admin", ["BACKEND"])
    assert plan.objects == [] and plan.writes == []
    assert plan.warnings == ["app api: app shop/admin declares a link to it (BACKEND): remove it from that app's links"]


class _Client:
    def __init__(self, items: list[dict[str, Any]] | None, error: Exception | None = None) -> None:
        self.items, self.error = items, error
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, path: str, query: dict[str, Any]) -> dict[str, Any]:
        self.asked.append((method, path, query))
        if self.error:
            raise self.error
        return {"items": self.items}


def test_linked_from_reads_every_namespace_in_one_list(svc: FakeService) -> None:
    elsewhere = _deployment("shop-web", "other", [], {links.LINKS_ANNOTATION: links.record({"API_URL": "api.shop"})})
    svc.client = _Client([elsewhere])  # type: ignore[assignment]
    assert links.linked_from(svc, None, "api", "shop") == [("other", "shop-web", "API_URL")]
    assert svc.client.asked == [("GET", "/apis/apps/v1/deployments",  # type: ignore[attr-defined]
                                 {"labelSelector": "app.kubernetes.io/managed-by=skipper.platform"})]


def test_linked_from_falls_back_on_the_targets_namespace_when_listing_everywhere_is_forbidden(svc: FakeService) -> None:
    svc.put(_deployment("web", "shop", [], {links.LINKS_ANNOTATION: links.record({"API_URL": "api.shop"})}))
    svc.client = _Client(None, FORBIDDEN)  # type: ignore[assignment]
    assert links.linked_from(svc, None, "api", "shop") == [("shop", "web", "API_URL")]


@pytest.mark.parametrize(("declared", "expected"), [
    ([], None),
    ([{"host": "shop.example.com", "path": "/", "tls": False}], "http://shop.example.com"),
    ([{"host": "a.example.com", "path": "/", "tls": False}, {"host": "b.example.com", "path": "/shop", "tls": True}],
     "https://b.example.com/shop"),
    ([{"host": "b.example.com", "path": "/shop", "tls": True}, {"host": "a.example.com", "path": "/", "tls": True}],
     "https://a.example.com"),
])
def test_public_url_of_declared_routes_matches_the_live_choice(declared: list[dict[str, Any]],
                                                               expected: str | None) -> None:
    assert links.public_url(declared) == expected
    live = [_ingress(f"web-{i}", "shop", r["host"], [(r["path"], "web")], tls=r["tls"], labels={res.NAME_LABEL: "web"})
            for i, r in enumerate(declared)]
    found = links.public_urls("web", live)
    assert (found[0] if found else None) == expected

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _resource, _spec

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def spec(**changes: Any) -> dict[str, Any]:
    """A normalized app (through _spec, as the runner does) with changes to the input."""
    params: dict[str, Any] = {
        "name": "web", "image": "registry.example.com/shop/web", "version": "1.4.2", "port": 8080, "replicas": 2,
        "env": {"LOG_LEVEL": "info", "APP_MODE": "prod"},
        "secrets": {"DB_PASSWORD": {"secret": "web-db", "key": "password"}},
        "resources": {"cpu": {"request": "0.25", "limit": "500m"}, "memory": {"request": "128Mi", "limit": "0.25Gi"}},
        "probes": {"readiness": {"path": "/healthz"}},
        "labels": {"team": "shop"},
        "routes": None,
        "tls_issuer": "letsencrypt",
    }
    params.update(changes)
    return _spec.normalize_app(params)


def minimal() -> dict[str, Any]:
    return _spec.normalize_app({"name": "web", "image": "web:1.0.0"})


FULL_ROUTES = [
    {"host": "shop.example.com", "path": "/api", "tls": True},
    {"host": "shop.example.com"},
    {"host": "admin.example.com", "tls": True, "issuer": "internal-ca"},
    {"host": "*.preview.example.com"},
]


def test_deployment_is_the_apply_body_of_the_fixture(load) -> None:
    assert _resource.deployment(spec(), "shop-prod") == load("deployment_sent.yml")


def test_deployment_keeps_three_revisions_and_selects_on_stable_labels() -> None:
    body = _resource.deployment(spec(), "shop-prod")["spec"]
    assert body["revisionHistoryLimit"] == 3
    assert body["selector"] == {"matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}}
    template_labels = body["template"]["metadata"]["labels"]
    assert body["selector"]["matchLabels"].items() <= template_labels.items()


def test_selector_does_not_change_with_version_or_labels() -> None:
    one = _resource.deployment(spec(), "shop-prod")["spec"]["selector"]
    other = _resource.deployment(spec(version="2.0.0", labels={"team": "payments"}), "shop-prod")["spec"]["selector"]
    assert one == other


def test_env_is_sorted_then_secret_refs_sorted() -> None:
    container = _resource.container(spec(
        env={"ZONE": "eu", "APP_MODE": "prod", "LOG_LEVEL": "info"},
        secrets={"TOKEN": {"secret": "api", "key": "token"}, "DB_PASSWORD": {"secret": "web-db", "key": "pw"}},
    ))
    assert [e["name"] for e in container["env"]] == ["APP_MODE", "LOG_LEVEL", "ZONE", "DB_PASSWORD", "TOKEN"]
    assert container["env"][3] == {"name": "DB_PASSWORD",
                                   "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "pw"}}}


@pytest.mark.parametrize(
    ("probe", "built"),
    [
        pytest.param({"path": "/healthz"}, {"httpGet": {"path": "/healthz", "port": "http"}}, id="http-named-port"),
        pytest.param({"path": "/healthz", "port": 9090, "initial_delay": 0, "period": 5, "timeout": 2,
                      "failure_threshold": 6},
                     {"httpGet": {"path": "/healthz", "port": 9090}, "initialDelaySeconds": 0, "periodSeconds": 5,
                      "timeoutSeconds": 2, "failureThreshold": 6}, id="http-all-options"),
        pytest.param({"command": ["pg_isready", "-q"]}, {"exec": {"command": ["pg_isready", "-q"]}}, id="command"),
    ],
)
def test_probe(probe: dict[str, Any], built: dict[str, Any]) -> None:
    assert _resource.container(spec(probes={"liveness": probe}))["livenessProbe"] == built


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from walk(sub, f"{path}.{key}")
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from walk(sub, f"{path}[{index}]")


@pytest.mark.parametrize(
    "app",
    [
        pytest.param(minimal(), id="minimal"),
        pytest.param(spec(), id="typical"),
        pytest.param(spec(replicas=0, routes=FULL_ROUTES, resources={"cpu": {"limit": 1}, "memory": None},
                          probes={"startup": {"command": ["true"], "initial_delay": 0}}), id="full"),
    ],
)
def test_no_manifest_sends_null_or_empty_values(app: dict[str, Any]) -> None:
    # Server-side apply would take an empty list or map as "own this field, empty".
    for manifest in _resource.app_manifests(app, "shop-prod"):
        # An emptyDir is the one empty map that means something: the /tmp volume's source.
        empty = [path for path, value in walk(manifest)
                 if (value is None or value in ({}, [], "")) and not path.endswith(".emptyDir")]
        assert empty == [], f"{manifest['kind']} {manifest['metadata']['name']}"


def test_minimal_app_is_a_deployment_and_a_service() -> None:
    manifests = _resource.app_manifests(minimal(), "default")
    assert [m["kind"] for m in manifests] == ["Deployment", "Service"]
    container = manifests[0]["spec"]["template"]["spec"]["containers"][0]
    assert set(container) == {"name", "image", "ports", "envFrom", "securityContext", "volumeMounts"}
    assert container["envFrom"] == [{"secretRef": {"name": "web-secrets", "optional": True}}]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "privileged": False,
        "readOnlyRootFilesystem": True, "runAsNonRoot": True}
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    pod = manifests[0]["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert "replicas" not in manifests[0]["spec"]
    assert manifests[1]["spec"] == {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"},
        "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}],
    }


@pytest.mark.parametrize(
    ("app", "host", "name"),
    [
        pytest.param("web", "shop.example.com", "web--shop-example-com", id="dots-to-dashes"),
        pytest.param("web", "a" * 58, "web--" + "a" * 58, id="exactly-63-no-hash"),
    ],
)
def test_ingress_name_derives_from_the_host(app: str, host: str, name: str) -> None:
    assert _resource.ingress_name(app, host) == name


@pytest.mark.parametrize(
    ("app", "host"),
    [
        pytest.param("web", "a" * 60, id="64-chars"),
        pytest.param("web", "review-1234-feature-payments.preview.eu-west-1.shop.example.com", id="deep-host"),
        pytest.param("a" * 50, "shop.example.com", id="longest-app-name"),
        pytest.param("web", "x" * 47 + "." + "y" * 20 + ".example.com", id="cut-at-a-dash"),
    ],
)
def test_long_ingress_names_get_a_hash_suffix(app: str, host: str) -> None:
    name = _resource.ingress_name(app, host)
    assert len(name) <= 63
    assert DNS1123_LABEL.match(name)
    assert name.startswith(app + "-")
    assert re.search(r"-[0-9a-f]{10}$", name)
    assert _resource.ingress_name(app, host) == name
    assert _resource.ingress_name(app, host + "x") != name


def test_wildcard_and_dashed_hosts_carry_a_hash() -> None:
    assert re.fullmatch(r"web--wildcard-preview-example-com-[0-9a-f]{10}", _resource.ingress_name("web", "*.preview.example.com"))
    assert re.fullmatch(r"web--api-v2-example-com-[0-9a-f]{10}", _resource.ingress_name("web", "api-v2.example.com"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("web", "api-v2.example.com"), ("web", "api.v2.example.com"), id="dash-or-dot"),
        pytest.param(("web", "api.example.com"), ("web-api", "example.com"), id="app-or-host"),
        pytest.param(("web", "x.example.com"), ("web-x", "example.com"), id="app-prefix"),
    ],
)
def test_no_two_apps_or_hosts_share_an_ingress_name(first: tuple[str, str], second: tuple[str, str]) -> None:
    assert _resource.ingress_name(*first) != _resource.ingress_name(*second)


def test_distinct_hosts_get_distinct_ingress_names() -> None:
    app = spec(routes=[{"host": "api-v2.example.com"}, {"host": "api.v2.example.com"}])
    names = [m["metadata"]["name"] for m in _resource.ingresses(app, "shop-prod")]
    assert len(set(names)) == 2


def test_one_ingress_per_host_with_its_paths_sorted() -> None:
    ingresses = _resource.ingresses(spec(routes=FULL_ROUTES), "shop-prod")
    assert [i["metadata"]["name"] for i in ingresses] == [
        _resource.ingress_name("web", "*.preview.example.com"), "web--admin-example-com", "web--shop-example-com"]
    shop = ingresses[2]
    (rule,) = shop["spec"]["rules"]
    assert rule["host"] == "shop.example.com"
    assert rule["http"]["paths"] == [
        {"path": p, "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}
        for p in ("/", "/api")
    ]


def test_route_order_does_not_change_the_ingresses() -> None:
    forward = _resource.ingresses(spec(routes=FULL_ROUTES), "shop-prod")
    backward = _resource.ingresses(spec(routes=list(reversed(FULL_ROUTES))), "shop-prod")
    assert forward == backward


@pytest.mark.parametrize(
    ("routes", "issuer", "tls"),
    [
        pytest.param([{"host": "shop.example.com", "tls": True}], "letsencrypt",
                     [{"hosts": ["shop.example.com"], "secretName": "web--shop-example-com-tls"}], id="default-issuer"),
        pytest.param([{"host": "shop.example.com", "tls": True, "issuer": "internal-ca"}], "internal-ca",
                     [{"hosts": ["shop.example.com"], "secretName": "web--shop-example-com-tls"}], id="route-issuer"),
        pytest.param([{"host": "shop.example.com"}, {"host": "shop.example.com", "path": "/api", "tls": True}],
                     "letsencrypt", [{"hosts": ["shop.example.com"], "secretName": "web--shop-example-com-tls"}],
                     id="one-tls-path-secures-the-host"),
        pytest.param([{"host": "shop.example.com"}], None, None, id="plain-http"),
    ],
)
def test_tls_adds_the_issuer_annotation_and_a_tls_secret(routes: list[dict[str, Any]], issuer: str | None,
                                                         tls: list[dict[str, Any]] | None) -> None:
    (ingress,) = _resource.ingresses(spec(routes=routes), "shop-prod")
    annotations = ingress["metadata"]["annotations"]
    assert annotations.get("cert-manager.io/cluster-issuer") == issuer
    assert annotations["skipper.platform/route-host"] == "shop.example.com"
    assert ingress["spec"].get("tls") == tls


def test_labels_carry_version_and_manager_and_user_labels() -> None:
    for manifest in _resource.app_manifests(spec(routes=[{"host": "shop.example.com"}]), "shop-prod"):
        assert manifest["metadata"]["labels"] == {
            "app.kubernetes.io/instance": "web", "app.kubernetes.io/managed-by": "skipper.platform",
            "app.kubernetes.io/name": "web", "app.kubernetes.io/version": "1.4.2", "team": "shop"}
        assert manifest["metadata"]["namespace"] == "shop-prod"


@pytest.mark.parametrize(
    ("kind", "namespace", "path"),
    [
        pytest.param("Deployment", "shop-prod", "/apis/apps/v1/namespaces/shop-prod/deployments/web", id="deployment"),
        pytest.param("Ingress", "shop-prod", "/apis/networking.k8s.io/v1/namespaces/shop-prod/ingresses/web",
                     id="ingress"),
        pytest.param("Namespace", None, "/api/v1/namespaces/web", id="cluster-scoped"),
    ],
)
def test_object_path(kind: str, namespace: str | None, path: str) -> None:
    assert _resource.object_path(kind, namespace, "web") == path


def test_urls() -> None:
    routes = spec(routes=[{"host": "shop.example.com", "path": "/api", "tls": True},
                          {"host": "admin.example.com"}])["routes"]
    assert _resource.urls(routes) == ["https://shop.example.com/api", "http://admin.example.com/"]

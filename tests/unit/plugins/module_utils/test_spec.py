# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _spec
from ansible_collections.skipper.platform.plugins.module_utils._errors import (
    ValidationError,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        pytest.param("1024Mi", "1Gi", id="1024Mi-is-1Gi"),
        pytest.param("0.5", "500m", id="half-cpu-is-500m"),
        pytest.param(0.5, "500m", id="float-from-yaml"),
        pytest.param("1000m", "1", id="1000m-is-1"),
        pytest.param("2000", "2k", id="2000-is-2k"),
        pytest.param(2000, "2k", id="int-from-yaml"),
        pytest.param("128Mi", "128Mi", id="128Mi-stays"),
        pytest.param("1.5Gi", "1536Mi", id="fractional-Gi-to-Mi"),
        pytest.param("0.5Ki", "512", id="below-1Ki-is-decimal"),
        pytest.param("100M", "100M", id="100M-stays"),
        pytest.param("1e3", "1k", id="exponent-1e3-is-1k"),
        pytest.param("250m", "250m", id="250m-stays"),
        pytest.param("0", "0", id="zero"),
        pytest.param("0.0001", "100u", id="sub-milli-keeps-nano-precision"),
        pytest.param(" 1Gi ", "1Gi", id="surrounding-space"),
    ],
)
def test_canonical_quantity_matches_what_the_api_server_stores(given: Any, stored: str) -> None:
    assert _spec.canonical_quantity(given) == stored


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("12XB", id="unknown-suffix"),
        pytest.param("-1", id="negative"),
        pytest.param("abc", id="not-a-number"),
        pytest.param("", id="empty"),
        pytest.param("1 Gi", id="space-before-suffix"),
    ],
)
def test_canonical_quantity_rejects_malformed_values_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        _spec.canonical_quantity(bad, app="web", field="resources.memory.limit")
    assert err.value.message.startswith("app web: resources.memory.limit: ")
    assert repr(bad.strip()) in err.value.message
    assert err.value.details == {"app": "web", "field": "resources.memory.limit"}


def app(**changes: Any) -> dict[str, Any]:
    """A valid app as the module passes it (unset options are None), with changes."""
    params: dict[str, Any] = {
        "name": "web", "image": "registry.example.com/shop/web", "version": "1.4.2",
        "port": 8080, "replicas": 2, "env": None, "secrets": None, "resources": None,
        "probes": None, "labels": None, "routes": None, "tls_issuer": "letsencrypt",
    }
    params.update(changes)
    return params


def test_normalize_app_returns_the_spec_the_builders_use() -> None:
    spec = _spec.normalize_app(app(
        env={"LOG_LEVEL": "info", "DEBUG": False, "WORKERS": 4},
        secrets={"DB_PASSWORD": {"secret": "web-db", "key": "password"}},
        resources={"cpu": {"request": "0.25", "limit": 1}, "memory": {"limit": "1024Mi"}},
        probes={"readiness": {"path": "/healthz", "period": "5"}, "liveness": None},
        labels={"team": "shop"},
        routes=[{"host": "Shop.Example.com", "tls": True}, {"host": "shop.example.com", "path": "/api"}],
    ))
    assert spec == {
        "name": "web",
        "image": "registry.example.com/shop/web:1.4.2",
        "version": "1.4.2",
        "port": 8080,
        "replicas": 2,
        "env": {"LOG_LEVEL": "info", "DEBUG": "false", "WORKERS": "4"},
        "secrets": {"DB_PASSWORD": {"secret": "web-db", "key": "password"}},
        "resources": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"limit": "1Gi"}},
        "probes": {"readiness": {"path": "/healthz", "period": 5}},
        "labels": {"team": "shop"},
        "routes": [
            {"host": "shop.example.com", "path": "/", "tls": True, "issuer": "letsencrypt"},
            {"host": "shop.example.com", "path": "/api", "tls": False, "issuer": None},
        ],
        "volumes": [],
        "security": _spec.SECURITY_DEFAULTS,
    }


@pytest.mark.parametrize(
    ("image", "version", "reference", "tag"),
    [
        pytest.param("nginx:1.27.0", None, "nginx:1.27.0", "1.27.0", id="tag-in-image"),
        pytest.param("registry:5000/shop/web", "1.4.2", "registry:5000/shop/web:1.4.2", "1.4.2",
                     id="registry-port-is-not-a-tag"),
        pytest.param("web:1.4.2", "1.4.2", "web:1.4.2", "1.4.2", id="same-tag-and-version"),
        pytest.param("web@sha256:abc", "1.4.2", "web:1.4.2@sha256:abc", "1.4.2", id="digest-labelled-by-version"),
    ],
)
def test_split_image(image: str, version: str | None, reference: str, tag: str) -> None:
    assert _spec.split_image("web", image, version) == (reference, tag)


@pytest.mark.parametrize(
    ("changes", "app_name", "field", "reason"),
    [
        pytest.param({"version": None}, "web", "image", "has no tag", id="image-without-tag-or-version"),
        pytest.param({"image": "nginx:latest", "version": None}, "web", "image", "tagged 'latest'",
                     id="image-tagged-latest"),
        pytest.param({"version": "latest"}, "web", "version", "'latest' is not a version", id="version-latest"),
        pytest.param({"image": "web:1.4.2", "version": "1.5.0"}, "web", "image", "tagged '1.4.2' but version",
                     id="image-tag-disagrees-with-version"),
        pytest.param({"name": "Web"}, "Web", "name", "DNS-1035", id="name-uppercase"),
        pytest.param({"name": "a" * 51}, "a" * 51, "name", "at most 50", id="name-longer-than-50"),
        pytest.param({"name": "1web"}, "1web", "name", "starting with a letter", id="name-starts-with-digit"),
        pytest.param({"port": 0}, "web", "port", "between 1 and 65535", id="port-0"),
        pytest.param({"port": 70000}, "web", "port", "between 1 and 65535", id="port-70000"),
        pytest.param({"replicas": -1}, "web", "replicas", "at least 0", id="replicas-negative"),
        pytest.param({"resources": {"memory": {"limit": "12XB"}}}, "web", "resources.memory.limit",
                     "'12XB' is not a Kubernetes quantity", id="malformed-quantity"),
        pytest.param({"resources": {"memory": {"request": "2Gi", "limit": "1024Mi"}}}, "web", "resources.memory",
                     "request 2Gi is above limit 1Gi", id="request-above-limit"),
        pytest.param({"resources": {"gpu": {"limit": 1}}}, "web", "resources.gpu", "only cpu and memory",
                     id="unknown-resource"),
        pytest.param({"routes": [{"host": "not a host!"}]}, "web", "routes[0].host", "is not a hostname",
                     id="route-host-invalid"),
        pytest.param({"routes": [{"host": "shop.example.com", "path": "api"}]}, "web", "routes[0].path",
                     "must be an absolute URL path", id="route-path-without-slash"),
        pytest.param({"routes": [{"host": "a.example.com"}, {"host": "a.example.com", "path": "/"}]}, "web",
                     "routes[1]", "routed twice", id="route-twice"),
        pytest.param({"routes": [{"host": "a.example.com", "tls": True}], "tls_issuer": None}, "web",
                     "routes[0].issuer", "needs a cert-manager issuer", id="tls-without-issuer"),
        pytest.param({"env": {"DB_PASSWORD": "x"}, "secrets": {"DB_PASSWORD": {"secret": "db", "key": "pw"}}},
                     "web", "secrets.DB_PASSWORD", "also set in env", id="env-and-secret-same-name"),
        pytest.param({"secrets": {"DB_PASSWORD": {"secret": "db"}}}, "web", "secrets.DB_PASSWORD",
                     "'secret'", id="secret-ref-without-key"),
        pytest.param({"env": {"1BAD": "x"}}, "web", "env.1BAD", "not a valid environment variable name",
                     id="env-name-invalid"),
        pytest.param({"labels": {"app.kubernetes.io/part-of": "shop"}}, "web", "labels.app.kubernetes.io/part-of",
                     "set by skipper.platform", id="label-reserved-prefix"),
        pytest.param({"probes": {"readiness": {"path": "/a", "command": ["true"]}}}, "web", "probes.readiness",
                     "either path", id="probe-path-and-command"),
    ],
)
def test_normalize_app_errors_name_the_app_and_field(changes: dict[str, Any], app_name: str, field: str,
                                                     reason: str) -> None:
    with pytest.raises(ValidationError) as err:
        _spec.normalize_app(app(**changes))
    assert err.value.message.startswith(f"app {app_name}: {field}: ")
    assert reason in err.value.message
    assert err.value.details == {"app": app_name, "field": field}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        pytest.param({"probes": {"liveness": {"command": "cat /tmp/ok"}}}, "probes.liveness.command", "must be a list",
                     id="probe-command-string"),
        pytest.param({"labels": {"Bad_Prefix/x": "y"}}, "labels.Bad_Prefix/x", "must be a DNS subdomain", id="label-prefix"),
        pytest.param({"secrets": {"DB": {"secret": "foo.Bar/../x", "key": "k"}}}, "secrets.DB", "not a valid Secret name",
                     id="secret-name-path"),
        pytest.param({"env": {".": "x"}}, "env..", "not a valid environment variable name", id="env-dot"),
    ],
)
def test_more_bad_input_is_refused(change: dict[str, Any], field: str, reason: str) -> None:
    params = {"name": "web", "image": "registry.example.com/web", "version": "1.0", **change}
    with pytest.raises(ValidationError) as caught:
        _spec.normalize_app(params)
    assert caught.value.message.startswith(f"app web: {field}: ")
    assert reason in caught.value.message


@pytest.mark.parametrize("namespace", ["shop/x", "Shop", "a" * 64, "", "ns?x=1"])
def test_namespace_must_be_a_dns_label(namespace: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _spec.check_namespace(namespace)
    assert "must be a DNS-1123 label" in caught.value.message


@pytest.mark.parametrize(
    ("volumes", "field", "reason"),
    [
        pytest.param([{"name": "files", "size": "1Gi"}], "volumes[0].path", "missing", id="no-path"),
        pytest.param([{"name": "files", "path": "app/files", "size": "1Gi"}], "volumes[0].path", "absolute",
                     id="relative-path"),
        pytest.param([{"name": "files", "path": "/app/files", "size": "1 GB"}], "volumes[0].size",
                     "not a Kubernetes quantity", id="malformed-size"),
        pytest.param([{"name": "files", "path": "/app/files"}], "volumes[0].size", "missing", id="no-size"),
        pytest.param([{"name": "files", "path": "/app/files", "size": "0"}], "volumes[0].size", "above zero",
                     id="zero-size"),
        pytest.param([{"name": "files", "path": "/app/files", "size": 5}], "volumes[0].size",
                     "5 is under 1Mi (a number without a unit is bytes): give a unit, such as 5Gi", id="bare-number"),
        pytest.param([{"name": "files", "path": "/app/files", "size": "512Ki"}], "volumes[0].size", "under 1Mi",
                     id="tiny-size"),
        pytest.param([{"name": "Files", "path": "/f", "size": "1Gi"}], "volumes[0].name", "DNS-1123", id="bad-name"),
        pytest.param([{"name": "tmp", "path": "/f", "size": "1Gi"}], "volumes[0].name", "writable /tmp",
                     id="tmp-name"),
        pytest.param([{"name": "a", "path": "/tmp", "size": "1Gi"}], "volumes[0].path", "writable emptyDir",
                     id="tmp-path"),
        pytest.param([{"name": "a", "path": "/f", "size": "1Gi"}, {"name": "b", "path": "/f/", "size": "1Gi"}],
                     "volumes[1].path", "mounted twice", id="same-path"),
        pytest.param([{"name": "a", "path": "/f", "size": "1Gi", "mode": "rw"}], "volumes[0]", "unknown keys: mode",
                     id="unknown-key"),
        pytest.param([{"name": "a", "path": "/f", "size": "1Gi", "access_mode": "RWO"}], "volumes[0].access_mode",
                     "not one of", id="bad-mode"),
    ],
)
def test_bad_volumes_name_the_field(volumes: list[dict[str, Any]], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        _spec.normalize_app(app(volumes=volumes))
    assert exc.value.details["field"] == field
    assert reason in exc.value.message
    assert exc.value.message.startswith(f"app web: {field}: ")


def test_volumes_are_normalized() -> None:
    spec = _spec.normalize_app(app(volumes=[{"name": "files", "path": "/app/files/", "size": "1024Mi",
                                             "storage_class": "fast"}], security={"writable_tmp": False}))
    assert spec["volumes"] == [{"name": "files", "path": "/app/files", "size": "1Gi", "access_mode": "ReadWriteOnce",
                                "storage_class": "fast", "read_only": False}]


@pytest.mark.parametrize(
    ("security", "field", "reason"),
    [
        pytest.param({"privileged": True, "allow_privilege_escalation": False}, "security.allow_privilege_escalation",
                     "always may escalate", id="privileged-no-escalation"),
        pytest.param({"run_as_user": 0}, "security.run_as_user", "root", id="root-user"),
        pytest.param({"run_as_non_root": "yes"}, "security.run_as_non_root", "true or false", id="not-bool"),
        pytest.param({"root": True}, "security", "unknown keys: root", id="unknown"),
    ],
)
def test_bad_security_names_the_field(security: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        _spec.normalize_app(app(security=security))
    assert exc.value.details["field"] == field
    assert reason in exc.value.message


def test_privileged_may_escalate_unless_told() -> None:
    spec = _spec.normalize_app(app(security={"privileged": True, "run_as_non_root": False}))
    assert spec["security"]["allow_privilege_escalation"] is True


def test_replicas_are_none_unless_declared() -> None:
    assert _spec.normalize_app({"name": "web", "image": "web:1.0.0"})["replicas"] is None


# A formation hands inventory values to normalize_app as they are, with no
# argument spec in between: a value of the wrong type must be refused naming
# the app and the field, never crash or be read as something else.
@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        pytest.param({"env": ["A=1"]}, "env", "must be a mapping", id="env-list"),
        pytest.param({"env": "A=1"}, "env", "must be a mapping", id="env-string"),
        pytest.param({"secrets": ["db"]}, "secrets", "must be a mapping", id="secrets-list"),
        pytest.param({"resources": "100m"}, "resources", "must be a mapping", id="resources-string"),
        pytest.param({"probes": ["/healthz"]}, "probes", "must be a mapping", id="probes-list"),
        pytest.param({"labels": ["team=shop"]}, "labels", "must be a mapping", id="labels-list"),
        pytest.param({"routes": {"host": "a.example.com"}}, "routes", "must be a list", id="routes-mapping"),
        pytest.param({"routes": [{"host": "a.example.com", "tls": "nope"}]}, "routes[0].tls", "must be true or false",
                     id="route-tls-string"),
        pytest.param({"routes": [{"host": "a.example.com", "tls": True, "issuer": ["le"]}]}, "routes[0].issuer",
                     "not the name of a cert-manager issuer", id="route-issuer-list"),
        pytest.param({"volumes": [{"name": "d", "path": "/d", "size": "1Gi", "read_only": "sometimes"}]},
                     "volumes[0].read_only", "must be true or false", id="volume-read-only-string"),
        pytest.param({"image": ["registry.example.com/web"]}, "image", "is not an image reference", id="image-list"),
        pytest.param({"image": "registry.example.com/web's"}, "image", "is not an image reference",
                     id="image-quote"),
        pytest.param({"version": 1.1}, "version", "quote the version", id="version-float-from-yaml"),
        pytest.param({"version": True}, "version", "must be text", id="version-bool"),
        pytest.param({"version": ["1.0"]}, "version", "must be text", id="version-list"),
    ],
)
def test_values_of_the_wrong_type_name_the_field(change: dict[str, Any], field: str, reason: str) -> None:
    params = {"name": "web", "image": "registry.example.com/web", "version": "1.0", **change}
    with pytest.raises(ValidationError) as caught:
        _spec.normalize_app(params)
    assert caught.value.message.startswith(f"app web: {field}: ")
    assert reason in caught.value.message


def test_a_whole_number_version_and_a_plain_read_only_flag_are_fine() -> None:
    spec = _spec.normalize_app({"name": "web", "image": "registry.example.com/web", "version": 2,
                                "volumes": [{"name": "d", "path": "/d", "size": "1Gi", "read_only": True}]})
    assert spec["image"] == "registry.example.com/web:2"
    assert spec["volumes"][0]["read_only"] is True


@pytest.mark.parametrize(("given", "meant"), [("no", False), ("yes", True), ("false", False), ("True", True),
                                              (0, False), (1, True)])
def test_ansible_boolean_words_keep_their_meaning(given: Any, meant: bool) -> None:
    routes = _spec.check_routes("web", [{"host": "a.example.com", "tls": given, "issuer": "le"}], None)
    assert routes[0]["tls"] is meant
    volumes = _spec.check_volumes("web", [{"name": "d", "path": "/d", "size": "1Gi", "read_only": given}])
    assert volumes[0]["read_only"] is meant


def test_an_ipv6_registry_is_an_image_reference() -> None:
    assert _spec.split_image("web", "[::1]:5000/shop/web", "1.0") == ("[::1]:5000/shop/web:1.0", "1.0")

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.skipper.platform.plugins.module_utils import _policy, _resource, _spec
from ansible_collections.skipper.platform.plugins.module_utils._errors import ValidationError
from ansible_collections.skipper.platform.plugins.modules import policy_check

FIXTURES = Path(__file__).parent / "fixtures" / "policy"
ALL_ERROR = {name: "error" for name in _policy.RULES}
ALLOWED = ["registry.example.com", "registry.example.com:5000"]
APP_FIELD = "spec.template.spec.containers[app]"


def fixture(name: str) -> list[dict[str, Any]]:
    """The objects of a fixture: a List, as ansible-test's yamllint allows one document a file."""
    items: list[dict[str, Any]] = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))["items"]
    return items


def compliant() -> list[dict[str, Any]]:
    return fixture("compliant.yml")


def web(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in manifests if m["kind"] == "Deployment")


def app_container(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return web(manifests)["spec"]["template"]["spec"]["containers"][0]


def only(rule: str, level: str) -> dict[str, str]:
    levels = {name: "off" for name in _policy.RULES}
    levels[rule] = level
    return levels


def app(**changes: Any) -> list[dict[str, Any]]:
    """What the app module renders for an app, as the runner will pass it."""
    params: dict[str, Any] = {"name": "web", "image": "registry.example.com/shop/web", "version": "1.4.2",
                              "tls_issuer": "letsencrypt"}
    params.update(changes)
    return _resource.app_manifests(_spec.normalize_app(params), "shop")


def test_compliant_objects_pass_every_rule_at_error_in_production() -> None:
    assert _policy.evaluate(compliant(), ALL_ERROR, production=True, allowed_registries=ALLOWED) == []


def test_default_app_passes_the_default_policy_with_warnings_only() -> None:
    violations = _policy.evaluate(app(), production=True, allowed_registries=ALLOWED)
    assert _policy.summary(violations)[0] == 0, [_policy.describe(v) for v in violations]
    assert {v["rule"] for v in violations} == {"resources-requests", "resources-limits", "readiness-probe",
                                               "liveness-probe", "min-replicas-production"}
    assert all(v["level"] == "warning" for v in violations)


def test_a_fully_set_app_passes_every_rule() -> None:
    manifests = app(replicas=2, resources={"cpu": {"request": "100m", "limit": "1"}, "memory": {"limit": "256Mi"}},
                    probes={"readiness": {"path": "/ready"}, "liveness": {"path": "/live"}},
                    env={"LOG_LEVEL": "debug"}, secrets={"DB_PASSWORD": {"secret": "db", "key": "password"}})
    assert _policy.evaluate(manifests, ALL_ERROR, production=True, allowed_registries=ALLOWED) == []


def _set(path: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    """Change one field of the compliant Deployment's app container (``None`` deletes it)."""

    def change(manifests: list[dict[str, Any]]) -> None:
        target: Any = app_container(manifests)
        keys = path.split(".")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value

    return change


def _replicas(value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(manifests: list[dict[str, Any]]) -> None:
        if value is None:
            web(manifests)["spec"].pop("replicas")
        else:
            web(manifests)["spec"]["replicas"] = value

    return change


def _env(name: str, value: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(manifests: list[dict[str, Any]]) -> None:
        app_container(manifests)["env"].append({"name": name, "value": value})

    return change


def _pod_non_root(value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(manifests: list[dict[str, Any]]) -> None:
        web(manifests)["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = value

    return change


# (case, change to the compliant objects, rule, field, words of the message)
BREAKS = [
    ("latest tag", _set("image", "registry.example.com/shop/web:latest"), "image-tag", f"{APP_FIELD}.image",
     "is tagged latest"),
    ("no tag", _set("image", "registry.example.com/shop/web"), "image-tag", f"{APP_FIELD}.image", "has no tag"),
    ("registry port, no tag", _set("image", "registry.example.com:5000/shop/web"), "image-tag", f"{APP_FIELD}.image",
     "has no tag"),
    ("Docker Hub image", _set("image", "nginx:1.27"), "allowed-registries", f"{APP_FIELD}.image",
     "'nginx:1.27' is not from an allowed registry (registry.example.com, registry.example.com:5000)"),
    ("look-alike registry", _set("image", "registry.example.com.evil.io/shop/web:1.0"), "allowed-registries",
     f"{APP_FIELD}.image", "not from an allowed registry"),
    ("no CPU request", _set("resources", {"limits": {"memory": "1Gi"}, "requests": {"memory": "1Gi"}}),
     "resources-requests", f"{APP_FIELD}.resources.requests.cpu", "no cpu request"),
    ("no memory limit", _set("resources.limits.memory", None), "resources-limits",
     f"{APP_FIELD}.resources.limits.memory", "no memory limit"),
    ("no CPU limit", _set("resources.limits.cpu", None), "resources-limits", f"{APP_FIELD}.resources.limits.cpu",
     "no cpu limit"),
    ("no readiness probe", _set("readinessProbe", None), "readiness-probe", f"{APP_FIELD}.readinessProbe",
     "no readinessProbe"),
    ("no liveness probe", _set("livenessProbe", None), "liveness-probe", f"{APP_FIELD}.livenessProbe",
     "no livenessProbe"),
    ("pod runs as root", _pod_non_root(None), "run-as-non-root", f"{APP_FIELD}.securityContext.runAsNonRoot",
     "is not set in the container's or the pod's securityContext"),
    ("container overrides the pod", _set("securityContext.runAsNonRoot", False), "run-as-non-root",
     f"{APP_FIELD}.securityContext.runAsNonRoot", "runAsNonRoot is false"),
    ("user 0", _set("securityContext.runAsUser", 0), "run-as-non-root", f"{APP_FIELD}.securityContext.runAsUser",
     "runAsUser is 0"),
    ("privileged", _set("securityContext.privileged", True), "no-privileged",
     f"{APP_FIELD}.securityContext.privileged", "the container is privileged"),
    ("escalation unset", _set("securityContext.allowPrivilegeEscalation", None), "no-privilege-escalation",
     f"{APP_FIELD}.securityContext.allowPrivilegeEscalation", "is not set (it defaults to true)"),
    ("escalation allowed", _set("securityContext.allowPrivilegeEscalation", True), "no-privilege-escalation",
     f"{APP_FIELD}.securityContext.allowPrivilegeEscalation", "allowPrivilegeEscalation is true"),
    ("writable root", _set("securityContext.readOnlyRootFilesystem", False), "read-only-root-filesystem",
     f"{APP_FIELD}.securityContext.readOnlyRootFilesystem", "readOnlyRootFilesystem is false"),
    ("one replica", _replicas(1), "min-replicas-production", "spec.replicas", "replicas is 1; production needs"),
    ("replicas unset", _replicas(None), "min-replicas-production", "spec.replicas", "replicas is not set (1)"),
    ("password in env", _env("DB_PASSWORD", "hunter2-plain"), "no-plain-secrets",
     f"{APP_FIELD}.env[DB_PASSWORD].value", "its name says it is a secret"),
]


def _of(violations: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    """The violations of one rule in the web Deployment's app container or the Deployment itself."""
    return [v for v in violations if v["rule"] == rule and v["name"] == "web" and v["container"] in ("app", None)]


@pytest.mark.parametrize("level", ["error", "warning"])
@pytest.mark.parametrize(("case", "change", "rule", "field", "words"), BREAKS, ids=[b[0] for b in BREAKS])
def test_each_rule_reports_at_its_level(case: str, change: Any, rule: str, field: str, words: str, level: str) -> None:
    manifests = compliant()
    change(manifests)
    violations = _policy.evaluate(manifests, {**ALL_ERROR, rule: level}, production=True, allowed_registries=ALLOWED)
    mine = _of(violations, rule)
    assert len(mine) == 1, [_policy.describe(v) for v in violations]
    violation = mine[0]
    container = None if field == "spec.replicas" else "app"
    assert {k: v for k, v in violation.items() if k != "message"} == {
        "rule": rule, "level": level, "app": "web", "kind": "Deployment", "namespace": "shop", "name": "web",
        "container": container, "field": field}
    assert words in violation["message"]
    # Only this rule's level changed: the summary counts it where it belongs.
    errors, warnings = _policy.summary(violations)
    assert warnings == sum(1 for v in violations if v["rule"] == rule and level == "warning")
    assert errors == len(violations) - warnings


@pytest.mark.parametrize(("case", "change", "rule", "field", "words"), BREAKS, ids=[b[0] for b in BREAKS])
def test_each_rule_can_be_off(case: str, change: Any, rule: str, field: str, words: str) -> None:
    manifests = compliant()
    change(manifests)
    for off in ("off", False):  # YAML reads an unquoted off as false
        violations = _policy.evaluate(manifests, {**ALL_ERROR, rule: off}, production=True, allowed_registries=ALLOWED)
        assert [v for v in violations if v["rule"] == rule] == []


@pytest.mark.parametrize(("rule", "level"), [(name, rule.level) for name, rule in _policy.RULES.items()])
def test_default_levels(rule: str, level: str) -> None:
    security = ("image-tag", "allowed-registries", "run-as-non-root", "no-privileged", "no-privilege-escalation",
                "read-only-root-filesystem", "no-plain-secrets")
    assert level == ("error" if rule in security else "warning")
    assert _policy.check_levels({})[rule] == level
    assert _policy.check_levels(None)[rule] == level


def test_every_rule_has_a_breaking_case() -> None:
    assert {b[2] for b in BREAKS} == set(_policy.RULES)


def test_levels_override_defaults() -> None:
    levels = _policy.check_levels({"image-tag": "warning", "liveness-probe": "off", "resources-limits": "error"})
    assert levels["image-tag"] == "warning" and levels["liveness-probe"] == "off"
    assert levels["resources-limits"] == "error" and levels["no-privileged"] == "error"


@pytest.mark.parametrize(("levels", "words"), [
    ({"image-tags": "error"}, "policy rules: image-tags: unknown rule; did you mean image-tag?"),
    ({"liveness": "off"}, "liveness: unknown rule; did you mean liveness-probe"),
    ({"nothing-like-it-at-all": "off"}, "unknown rule; the rules are image-tag, allowed-registries,"),
    ({"image-tag": "fatal"}, "policy rules: image-tag: level 'fatal' is not one of error, warning, off"),
    ({"image-tag": "Error"}, "image-tag: level 'Error' is not one of error, warning, off"),
    ({"no-privileged": True}, "no-privileged: level True is not one of error, warning, off"),
    ({"no-privileged": None}, "no-privileged: level None is not one of"),
    (["image-tag"], "policy rules: must be a mapping"),
])
def test_bad_levels_fail_naming_the_rule(levels: Any, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        _policy.check_levels(levels)
    assert words in info.value.message
    with pytest.raises(ValidationError):
        _policy.evaluate(compliant(), levels)


def test_bad_level_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        _policy.check_levels({"image-tag": "fatal"})
    assert info.value.details == {"field": "rules.image-tag"}


def test_production_off_skips_replicas() -> None:
    manifests = compliant()
    _replicas(None)(manifests)
    assert _policy.evaluate(manifests, ALL_ERROR, production=False, allowed_registries=ALLOWED) == []
    violations = _policy.evaluate(manifests, ALL_ERROR, production=True, allowed_registries=ALLOWED)
    assert [v["rule"] for v in violations] == ["min-replicas-production"]


def test_zero_replicas_is_stopped_on_purpose() -> None:
    manifests = compliant()
    _replicas(0)(manifests)
    assert _policy.evaluate(manifests, ALL_ERROR, production=True, allowed_registries=ALLOWED) == []


def test_autoscaler_minimum_counts_for_a_deployment_without_replicas() -> None:
    levels = only("min-replicas-production", "error")
    assert _policy.evaluate(fixture("autoscaled.yml"), levels, production=True) == []
    # without the autoscaler it has one replica
    alone = [m for m in fixture("autoscaled.yml") if m["kind"] == "Deployment"]
    [violation] = _policy.evaluate(alone, levels, production=True)
    assert violation["name"] == "api" and violation["app"] == "api" and "not set (1)" in violation["message"]


def test_autoscaler_with_one_minimum_or_elsewhere_does_not_count() -> None:
    levels = only("min-replicas-production", "error")
    manifests = fixture("autoscaled.yml")
    manifests[1]["spec"].pop("minReplicas")
    [violation] = _policy.evaluate(manifests, levels, production=True)
    assert "its autoscaler keeps as few as 1 replica" in violation["message"]
    manifests = fixture("autoscaled.yml")
    manifests[1]["metadata"]["namespace"] = "other"
    assert len(_policy.evaluate(manifests, levels, production=True)) == 1
    manifests = fixture("autoscaled.yml")
    manifests[1]["spec"]["scaleTargetRef"]["kind"] = "StatefulSet"
    assert len(_policy.evaluate(manifests, levels, production=True)) == 1


def test_autoscaler_over_an_app() -> None:
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2,
                    "maxReplicas": 4}}
    levels = only("min-replicas-production", "error")
    assert len(_policy.evaluate(app(), levels, production=True)) == 1
    assert _policy.evaluate(app() + [hpa], levels, production=True) == []


@pytest.mark.parametrize("image", [
    "registry.example.com/shop/web@sha256:4c1b5e0d8e3e2d7a5f6b9c0a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e",
    "registry.example.com/shop/web:latest@sha256:4c1b5e0d8e3e2d7a5f6b9c0a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e",
    "registry.example.com:5000/shop/web:1.0",
    "registry.example.com/shop/web:v1-latest",
])
def test_fixed_images_pass(image: str) -> None:
    manifests = compliant()
    _set("image", image)(manifests)
    assert _policy.evaluate(manifests, only("image-tag", "error")) == []


@pytest.mark.parametrize(("image", "allowed", "passes"), [
    ("nginx:1.27", ["docker.io"], True),
    ("nginx:1.27", ["docker.io/library"], True),
    ("bitnami/redis:7", ["docker.io/library"], False),
    ("bitnami/redis:7", ["docker.io/bitnami"], True),
    ("localhost:5000/web:1", ["localhost:5000"], True),
    ("Registry.Example.com/shop/web:1", ["registry.example.com/shop/"], True),
    ("registry.example.com/shopping/web:1", ["registry.example.com/shop"], False),
    ("ghcr.io/acme/web:1", ["registry.example.com", "ghcr.io/acme"], True),
])
def test_allowed_registries(image: str, allowed: list[str], passes: bool) -> None:
    manifests = compliant()
    _set("image", image)(manifests)
    violations = _policy.evaluate(manifests, only("allowed-registries", "error"), allowed_registries=allowed)
    assert (_of(violations, "allowed-registries") == []) is passes


def test_allowed_registries_off_without_a_list() -> None:
    manifests = compliant()
    _set("image", "quay.io/other/web:1.0")(manifests)
    assert _policy.evaluate(manifests, ALL_ERROR, allowed_registries=[]) == []
    assert _policy.evaluate(manifests, ALL_ERROR, allowed_registries=[""]) == []


SECRET_LOOKING = [
    ("DB_PASSWORD", "s3cr3t-Value", "its name says it is a secret"),
    ("stripe-api-key", "plainvalue", "its name says it is a secret"),
    ("REDIS_PASS", "plainvalue", "its name says it is a secret"),
    ("RAILS_MASTER_KEY", "plainvalue", "its name says it is a secret"),
    ("GITHUB_TOKEN", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token"),
    ("TLS_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "a private key"),
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
    ("DATABASE_URL", "postgres://shop:Sup3rS3cret@db.shop.svc:5432/shop", "a URL with a password"),
    ("SESSION", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl", "a JSON web token"),
    ("SIGNING", "q7Xv9Lm2Rt8Kp4Zw1Nc6Hb3Jd5Fs0Ga8Ye2Ui7Ow", "a random key or token"),
]
NOT_SECRET = [
    ("DB_PASSWORD_FILE", "/run/secrets/db"),
    ("SECRET_NAME", "web-db"),
    ("TOKEN_TTL", "3600"),
    ("OAUTH_TOKEN_URL", "https://auth.example.com/token"),
    ("DATABASE_URL", "postgres://db.shop.svc:5432/shop"),
    ("GIT_COMMIT", "3f9c2a1b7e5d4c6f8a0b1c2d3e4f5a6b7c8d9e0f"),
    ("REQUEST_ID_PREFIX", "0b6f3a0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
    ("FEATURE_SECRET_SAUCE", "true"),
    ("API_KEY", ""),
    ("GREETING", "Hello, world! This sentence is long enough to be a token."),
    ("JAVA_OPTS", "-XX:MaxRAMPercentage=75.0 -Dfile.encoding=UTF-8"),
    ("LOG_FORMAT", "abcdefghijklmnopqrstuvwxyzabcdefghij"),
    ("PASSENGER_MAX_POOL", "6"),
    ("PASSWORD_MIN_LENGTH", "12"),
]


@pytest.mark.parametrize(("name", "value", "words"), SECRET_LOOKING, ids=[s[0] for s in SECRET_LOOKING])
def test_secret_looking_env_values_are_reported_without_the_value(name: str, value: str, words: str) -> None:
    manifests = compliant()
    _env(name, value)(manifests)
    [violation] = _policy.evaluate(manifests, ALL_ERROR, allowed_registries=ALLOWED)
    assert violation["rule"] == "no-plain-secrets" and violation["level"] == "error"
    assert violation["field"] == f"{APP_FIELD}.env[{name}].value"
    assert words in violation["message"]
    text = repr(violation) + _policy.describe(violation) + str(_policy.failure_message([violation]))
    for part in [value] + [line for line in value.splitlines() if len(line) > 4]:
        assert part not in text


@pytest.mark.parametrize(("name", "value"), NOT_SECRET, ids=[s[0] for s in NOT_SECRET])
def test_other_env_values_pass(name: str, value: str) -> None:
    manifests = compliant()
    _env(name, value)(manifests)
    assert _policy.evaluate(manifests, ALL_ERROR, allowed_registries=ALLOWED) == []


def test_app_env_secret_fails_and_secret_refs_pass() -> None:
    [violation] = _policy.evaluate(app(env={"API_TOKEN": "abc123-plain"}), only("no-plain-secrets", "error"))
    assert violation["field"] == f"{APP_FIELD}.env[API_TOKEN].value" and "abc123-plain" not in repr(violation)
    refs = app(secrets={"API_TOKEN": {"secret": "api", "key": "token"}})
    assert _policy.evaluate(refs, only("no-plain-secrets", "error")) == []


def test_app_with_latest_fails_before_the_runner_would_write() -> None:
    manifests = app()
    app_container(manifests)["image"] = "registry.example.com/shop/web:latest"
    violations = _policy.evaluate(manifests)
    assert [(v["rule"], v["level"]) for v in violations if v["level"] == "error"] == [("image-tag", "error")]
    message = _policy.failure_message(violations)
    assert message == ("policy: 1 error; app web: Deployment shop/web: container app: "
                       f"{APP_FIELD}.image: rule image-tag: 'registry.example.com/shop/web:latest' is tagged latest; "
                       "deploy a fixed version or a digest")


def test_cronjob_and_job_need_no_probes() -> None:
    cron = [m for m in compliant() if m["kind"] == "CronJob"]
    levels = {**ALL_ERROR, "allowed-registries": "off"}
    assert _policy.evaluate(cron, levels) == []
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "shop"},
           "spec": cron[0]["spec"]["jobTemplate"]["spec"]}
    assert _policy.evaluate([job], levels) == []
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
           "spec": cron[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]}
    assert {v["rule"] for v in _policy.evaluate([pod], levels)} == {"readiness-probe", "liveness-probe"}


def test_cronjob_fields_and_init_containers() -> None:
    cron = copy.deepcopy([m for m in compliant() if m["kind"] == "CronJob"])
    pod = cron[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["containers"][0]["securityContext"]["privileged"] = True
    pod["initContainers"] = [{"name": "fetch", "image": "busybox"}]
    violations = _policy.evaluate(cron, ALL_ERROR, allowed_registries=ALLOWED)
    prefix = "spec.jobTemplate.spec.template.spec"
    assert [(v["container"], v["rule"], v["field"]) for v in violations] == [
        ("fetch", "image-tag", f"{prefix}.initContainers[fetch].image"),
        ("fetch", "allowed-registries", f"{prefix}.initContainers[fetch].image"),
        ("fetch", "resources-requests", f"{prefix}.initContainers[fetch].resources.requests.cpu"),
        ("fetch", "resources-requests", f"{prefix}.initContainers[fetch].resources.requests.memory"),
        ("fetch", "resources-limits", f"{prefix}.initContainers[fetch].resources.limits.cpu"),
        ("fetch", "resources-limits", f"{prefix}.initContainers[fetch].resources.limits.memory"),
        ("fetch", "run-as-non-root", f"{prefix}.initContainers[fetch].securityContext.runAsNonRoot"),
        ("fetch", "no-privilege-escalation", f"{prefix}.initContainers[fetch].securityContext.allowPrivilegeEscalation"),
        ("fetch", "read-only-root-filesystem", f"{prefix}.initContainers[fetch].securityContext.readOnlyRootFilesystem"),
        ("report", "no-privileged", f"{prefix}.containers[report].securityContext.privileged"),
    ]
    assert all(v["kind"] == "CronJob" and v["name"] == "report" and v["app"] == "report" for v in violations)


def test_other_kinds_are_ignored_and_lists_are_read() -> None:
    manifests = compliant()
    _set("image", "registry.example.com/shop/web:latest")(manifests)
    as_list = [{"apiVersion": "v1", "kind": "List", "items": manifests},
               {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"PASSWORD": "x"}}]
    assert [v["rule"] for v in _policy.evaluate(as_list, ALL_ERROR, allowed_registries=ALLOWED)] == ["image-tag"]


@pytest.mark.parametrize(("manifests", "words"), [
    (["kind: Deployment"], "manifests[0]: must be a Kubernetes object (a mapping), not str"),
    ([{"metadata": {"name": "x"}}], "manifests[0]: has no kind"),
])
def test_malformed_manifests_fail(manifests: list[Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        _policy.evaluate(manifests)


def test_order_is_stable_and_independent_of_input_order() -> None:
    manifests = app() + fixture("autoscaled.yml") + [m for m in compliant() if m["kind"] == "Pod"]
    for m in manifests:
        for c in (_policy._get(m, *_policy.POD_SPEC_PATHS.get(m["kind"], ("x",))) or {}).get("containers", []):
            c["image"] = c["image"].split(":")[0]
    forward = _policy.evaluate(manifests, production=True)
    assert forward == _policy.evaluate(list(reversed(manifests)), production=True)
    assert [v["app"] for v in forward] == sorted(v["app"] for v in forward)
    assert (forward[0]["name"], forward[0]["rule"]) == ("api", "image-tag")  # its autoscaler keeps 3


def test_describe_without_namespace_or_container() -> None:
    violation = {"rule": "min-replicas-production", "level": "warning", "app": "web", "kind": "Deployment",
                 "namespace": None, "name": "web", "container": None, "field": "spec.replicas", "message": "m"}
    assert _policy.describe(violation) == "app web: Deployment web: spec.replicas: rule min-replicas-production: m"
    assert _policy.failure_message([violation]) is None


def test_documentation_lists_every_rule_with_its_default_level() -> None:
    text = " ".join(yaml.safe_load(policy_check.DOCUMENTATION)["description"])
    for name, rule in _policy.RULES.items():
        assert f"V({name}) ({rule.level}):" in text


def base_params(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"manifests": None, "src": None, "apps": None, "namespace": "default", "rules": {},
                              "production": False, "allowed_registries": [], "fail_on_error": True}
    params.update(changes)
    return params


def test_module_checks_apps_manifests_and_src_together(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yml").write_text((FIXTURES / "autoscaled.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "sub" / "b.yaml").write_text("---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                                             "  containers: [{name: c, image: 'busybox:latest'}]\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not read", encoding="utf-8")
    result = policy_check.check(base_params(
        src=str(tmp_path), namespace="shop", production=True,
        apps=[{"name": "web", "image": "registry.example.com/web", "version": "1.0", "replicas": 1},
              {"name": "cart", "image": "registry.example.com/cart:2.0", "namespace": "carts", "wait": False}],
        manifests=[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}]))
    assert result["changed"] is False and result["passed"] is False and result["checked"] == 4
    assert {(v["name"], v["namespace"]) for v in result["violations"]} >= {("web", "shop"), ("cart", "carts")}
    errors = [(v["name"], v["namespace"], v["rule"]) for v in result["violations"] if v["level"] == "error"]
    assert errors == [
        ("api", "shop", "run-as-non-root"), ("api", "shop", "no-privilege-escalation"),
        ("api", "shop", "read-only-root-filesystem"),
        ("p", "shop", "image-tag"), ("p", "shop", "run-as-non-root"), ("p", "shop", "no-privilege-escalation"),
        ("p", "shop", "read-only-root-filesystem")]
    assert result["error_count"] == 7
    # the app's Deployment (replicas 1 in production) warns; the autoscaled api does not
    assert ("web", "min-replicas-production") in [(v["name"], v["rule"]) for v in result["violations"]]
    assert ("api", "min-replicas-production") not in [(v["name"], v["rule"]) for v in result["violations"]]
    assert result["warning_count"] == len(result["violations"]) - 7


@pytest.mark.parametrize(("text", "words"), [
    ("kind: Pod\nmetadata: {name: p\n  password: hunter2\n", "line 3: "),
    ("- just\n- a list\n", "document 1: not a Kubernetes object"),
    ("---\nkind: Pod\n---\n42\n", "document 2: not a Kubernetes object"),
])
def test_module_src_errors_name_file_and_place_not_content(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        policy_check.check(base_params(src=str(path)))
    assert info.value.message.startswith(f"src {path}:") and words in info.value.message
    assert "hunter2" not in info.value.message


def test_module_src_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file or folder"):
        policy_check.check(base_params(src=str(tmp_path / "nope")))
    with pytest.raises(ValidationError, match="the folder has no .yml, .yaml or .json file"):
        policy_check.check(base_params(src=str(tmp_path)))


def test_module_bad_app_and_rules_fail_before_checking() -> None:
    with pytest.raises(ValidationError, match="app web: image: 'web' has no tag"):
        policy_check.check(base_params(apps=[{"name": "web", "image": "web"}]))
    with pytest.raises(ValidationError, match="image-tags: unknown rule; did you mean image-tag"):
        policy_check.check(base_params(apps=[{"name": "web", "image": "web:1"}], rules={"image-tags": "off"}))
    with pytest.raises(ValidationError, match="namespace Shop: must be a DNS-1123 label"):
        policy_check.check(base_params(apps=[{"name": "web", "image": "web:1"}], namespace="Shop"))


def test_module_keeps_given_namespaces_and_fills_missing_ones() -> None:
    manifests = compliant()
    web(manifests)["metadata"].pop("namespace")
    _set("image", "registry.example.com/shop/web:latest")(manifests)
    as_list = {"apiVersion": "v1", "kind": "List", "items": manifests}
    result = policy_check.check(base_params(manifests=[as_list], namespace="elsewhere"))
    assert result["checked"] == 3
    assert {(v["name"], v["namespace"]) for v in result["violations"]} == {("web", "elsewhere")}
    assert "namespace" not in web(manifests)["metadata"]  # the input is left alone

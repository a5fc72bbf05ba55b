# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy over rendered manifests (pure: no I/O).

Every object with a pod template (Deployment, StatefulSet, DaemonSet,
ReplicaSet, Job, CronJob, Pod) is checked against named rules, each at a
level: ``error`` (the run stops before any write), ``warning`` or ``off``.
Other kinds are read only for what they say about a workload (an
autoscaler's minimum). A violation names the app, the object, the container
and the field, and never carries an env var's value.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from . import _resource as res
from ._errors import ValidationError

LEVELS = ("error", "warning", "off")
NAME_LABEL = res.NAME_LABEL


class Rule(NamedTuple):
    level: str
    description: str


RULES: dict[str, Rule] = {
    "image-tag": Rule("error", "every image has a tag other than latest, or a digest"),
    "allowed-registries": Rule("error", "every image comes from one of the allowed registries (off when none is given)"),
    "resources-requests": Rule("warning", "every container requests CPU and memory (a limit alone counts as the request)"),
    "resources-limits": Rule("warning", "every container has CPU and memory limits"),
    "readiness-probe": Rule("warning", "every long-running container has a readiness probe (not Jobs and CronJobs)"),
    "liveness-probe": Rule("warning", "every long-running container has a liveness probe (not Jobs and CronJobs)"),
    "run-as-non-root": Rule("error", "runAsNonRoot is true in the container's or the pod's securityContext"),
    "no-privileged": Rule("error", "no container is privileged"),
    "no-privilege-escalation": Rule("error", "every container sets allowPrivilegeEscalation to false"),
    "read-only-root-filesystem": Rule("error", "every container sets readOnlyRootFilesystem to true"),
    "min-replicas-production": Rule("warning", "in production, a Deployment or StatefulSet keeps at least 2 replicas "
                                               "(its own or its autoscaler's minimum)"),
    "no-plain-secrets": Rule("error", "no env var holds a literal value that looks like a secret"),
}
RULE_ORDER = {name: index for index, name in enumerate(RULES)}

# Where each kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
RUN_TO_COMPLETION = ("Job", "CronJob")
SCALED = ("Deployment", "StatefulSet")
MIN_PRODUCTION_REPLICAS = 2

# Names that usually hold a credential, and endings that say they hold
# something else (where to find it, how long it lives).
SECRET_NAME_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY",
                     "ACCESS_KEY", "ENCRYPTION_KEY", "SIGNING_KEY", "MASTER_KEY", "CREDENTIAL")
SECRET_NAME_PARTS = ("PASS",)  # DB_PASS, but not PASSENGER_COUNT
NOT_SECRET_ENDINGS = ("FILE", "PATH", "DIR", "NAME", "REF", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "LENGTH", "SIZE",
                      "HEADER", "ENDPOINT", "URL", "URI", "TYPE", "ENABLED", "ID", "KEY_ID", "FIELD", "PARAM", "MOUNT")
HARMLESS_VALUES = ("true", "false", "yes", "no", "on", "off", "none", "null")
SECRET_VALUE_PATTERNS = (
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")),
    ("a live payment key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}\b")),
    ("a URL with a password", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
RANDOM_TOKEN = re.compile(r"^[A-Za-z0-9+/=_.~-]{32,}$")
RANDOM_ENTROPY = 4.0  # bits per character; English words and hex stay below


def check_levels(levels: Mapping[str, Any] | None) -> dict[str, str]:
    """Every rule's level: the defaults, overridden by ``levels``.

    YAML 1.1 reads an unquoted ``off`` as false, so false is taken as ``off``.
    """
    if levels is None:
        levels = {}
    if not isinstance(levels, Mapping):
        raise ValidationError("policy rules: must be a mapping of rule name to level (error, warning or off)",
                              field="rules")
    out = {name: rule.level for name, rule in RULES.items()}
    for name, level in levels.items():
        if name not in RULES:
            near = difflib.get_close_matches(str(name), list(RULES), n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(near)}? " if near else ""
            raise ValidationError(f"policy rules: {name}: unknown rule; {hint}the rules are {', '.join(RULES)}",
                                  field=f"rules.{name}")
        if level is False:
            level = "off"
        if not isinstance(level, str) or level not in LEVELS:
            raise ValidationError(f"policy rules: {name}: level {level!r} is not one of {', '.join(LEVELS)}",
                                  field=f"rules.{name}")
        out[name] = level
    return out


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def flatten(manifests: Iterable[Any]) -> list[dict[str, Any]]:
    """The objects, with those of ``List`` objects in their place; a non-object fails, naming its index."""
    out: list[dict[str, Any]] = []
    for index, manifest in enumerate(manifests):
        if manifest is None:
            continue
        if not isinstance(manifest, Mapping):
            raise ValidationError(f"manifests[{index}]: must be a Kubernetes object (a mapping), not "
                                  f"{type(manifest).__name__}", field=f"manifests[{index}]")
        kind = manifest.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValidationError(f"manifests[{index}]: has no kind; give whole Kubernetes objects",
                                  field=f"manifests[{index}]")
        if kind.endswith("List") and isinstance(manifest.get("items"), list):
            out.extend(flatten(manifest["items"]))
        else:
            out.append(dict(manifest))
    return out


def split_image(image: str) -> tuple[str, str, str]:
    """(repository with registry, tag, digest) of an image reference; ``nginx`` is ``docker.io/library/nginx``."""
    repo, _at, digest = image.partition("@")
    last = repo.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if tag:
        repo = repo[: -len(tag) - 1]
    first, slash, rest = repo.partition("/")
    if not slash:
        repo = f"docker.io/library/{repo}"
    elif not ("." in first or ":" in first or first == "localhost"):
        repo = f"docker.io/{repo}"
    else:
        repo = f"{first.lower()}/{rest}"
    return repo, tag, digest


def _registry_allowed(image: str, allowed: Sequence[str]) -> bool:
    repo, _tag, _digest = split_image(image)
    for entry in allowed:
        entry = str(entry).strip().rstrip("/")
        host, slash, path = entry.partition("/")
        entry = f"{host.lower()}{slash}{path}"
        if entry and (repo == entry or repo.startswith(f"{entry}/")):
            return True
    return False


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_name(name: str) -> bool:
    """Whether an env var's name says it holds a credential (``DB_PASSWORD``, not ``DB_PASSWORD_FILE``)."""
    upper = re.sub(r"[-.]", "_", name.upper())
    parts = upper.split("_")
    if not any(word in upper for word in SECRET_NAME_WORDS) and not any(p in parts for p in SECRET_NAME_PARTS):
        return False
    return not any(upper == end or upper.endswith(f"_{end}") for end in NOT_SECRET_ENDINGS)


def secret_value(value: str) -> str | None:
    """What a value looks like when it looks like a secret (never the value), else None."""
    for what, pattern in SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return what
    if (RANDOM_TOKEN.match(value) and re.search(r"[a-z]", value) and re.search(r"[A-Z]", value)
            and re.search(r"[0-9]", value) and _entropy(value) >= RANDOM_ENTROPY):
        return "a random key or token"
    return None


class _Workload:
    """One object with a pod template, and how to name its parts in messages."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest = manifest
        self.kind = str(manifest["kind"])
        meta = _map(manifest.get("metadata"))
        self.name = str(meta.get("name") or "?")
        self.namespace = str(meta["namespace"]) if meta.get("namespace") else None
        labels = _map(meta.get("labels"))
        self.app = str(labels.get(NAME_LABEL) or self.name)
        self.pod_path = POD_SPEC_PATHS[self.kind]
        self.pod = _map(_get(manifest, *self.pod_path))
        self.prefix = ".".join(self.pod_path)


def evaluate(manifests: Iterable[Any], levels: Mapping[str, Any] | None = None, production: bool = False,
             allowed_registries: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The violations of the rules not ``off``, in a stable order: app, object, container, rule, field.

    ``levels`` may name only some rules (the others keep their default);
    ``allowed-registries`` is off without ``allowed_registries`` and
    ``min-replicas-production`` without ``production``.
    """
    active = {name: level for name, level in check_levels(levels).items() if level != "off"}
    allowed = [str(r) for r in allowed_registries or () if str(r).strip()]
    if not allowed:
        active.pop("allowed-registries", None)
    if not production:
        active.pop("min-replicas-production", None)
    objects = flatten(manifests)
    hpa_min = _autoscaler_minimums(objects)
    out: list[dict[str, Any]] = []
    for manifest in objects:
        if not isinstance(manifest.get("kind"), str) or manifest["kind"] not in POD_SPEC_PATHS:
            continue
        work = _Workload(manifest)

        def add(rule: str, container: str | None, field: str, message: str, work: _Workload = work) -> None:
            if rule in active:
                out.append({"rule": rule, "level": active[rule], "app": work.app, "kind": work.kind,
                            "namespace": work.namespace, "name": work.name, "container": container,
                            "field": field, "message": message})

        _check_pod(work, add, allowed)
        if work.kind in SCALED and "min-replicas-production" in active:
            _check_replicas(work, add, hpa_min)
    return sorted(out, key=lambda v: (v["app"], v["namespace"] or "", v["kind"], v["name"], v["container"] or "",
                                      RULE_ORDER[v["rule"]], v["field"]))


def _autoscaler_minimums(objects: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """(namespace, kind, name) of each autoscaled workload to the autoscaler's minReplicas (default 1)."""
    out: dict[tuple[str, str, str], int] = {}
    for obj in objects:
        if obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        target = _get(obj, "spec", "scaleTargetRef")
        if not isinstance(target, Mapping):
            continue
        low = _get(obj, "spec", "minReplicas")
        low = low if isinstance(low, int) and not isinstance(low, bool) else 1
        key = (str(_get(obj, "metadata", "namespace") or ""), str(target.get("kind")), str(target.get("name")))
        out[key] = max(out.get(key, 0), low)
    return out


def _check_replicas(work: _Workload, add: Any, hpa_min: dict[tuple[str, str, str], int]) -> None:
    replicas = _get(work.manifest, "spec", "replicas")
    if replicas == 0:
        return  # scaled to zero on purpose
    count = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    for (namespace, kind, name), low in hpa_min.items():
        if kind == work.kind and name == work.name and namespace in ("", work.namespace or ""):
            if low >= MIN_PRODUCTION_REPLICAS:
                return
            add("min-replicas-production", None, "spec.replicas",
                f"its autoscaler keeps as few as {low} replica{'' if low == 1 else 's'}; production needs at least "
                f"{MIN_PRODUCTION_REPLICAS}")
            return
    if count >= MIN_PRODUCTION_REPLICAS:
        return
    said = f"replicas is {count}" if replicas is not None else "replicas is not set (1)"
    add("min-replicas-production", None, "spec.replicas",
        f"{said}; production needs at least {MIN_PRODUCTION_REPLICAS} (or an autoscaler with minReplicas "
        f"{MIN_PRODUCTION_REPLICAS} or more)")


def _check_pod(work: _Workload, add: Any, allowed: list[str]) -> None:
    pod = work.pod
    pod_security = _map(pod.get("securityContext"))
    groups = (("initContainers", _list(pod.get("initContainers"))), ("containers", _list(pod.get("containers"))))
    for group, containers in groups:
        for container in containers:
            name = str(container.get("name") or "?")
            at = f"{work.prefix}.{group}[{name}]"
            long_running = group == "containers" and work.kind not in RUN_TO_COMPLETION
            _check_image(container, at, name, add, allowed)
            _check_resources(container, at, name, add)
            if long_running:
                for probe, rule in (("readinessProbe", "readiness-probe"), ("livenessProbe", "liveness-probe")):
                    if not isinstance(container.get(probe), Mapping):
                        add(rule, name, f"{at}.{probe}", f"no {probe}")
            _check_security(container, pod_security, at, name, add)
            _check_env(container, at, name, add)


def _check_image(container: Mapping[str, Any], at: str, name: str, add: Any, allowed: list[str]) -> None:
    image = container.get("image")
    field = f"{at}.image"
    if not isinstance(image, str) or not image.strip():
        add("image-tag", name, field, "no image")
        return
    _repo, tag, digest = split_image(image)
    if not digest:
        if not tag:
            add("image-tag", name, field, f"{image!r} has no tag; deploy a fixed version or a digest")
        elif tag == "latest":
            add("image-tag", name, field, f"{image!r} is tagged latest; deploy a fixed version or a digest")
    if allowed and not _registry_allowed(image, allowed):
        add("allowed-registries", name, field, f"{image!r} is not from an allowed registry ({', '.join(allowed)})")


def _check_resources(container: Mapping[str, Any], at: str, name: str, add: Any) -> None:
    requests = _map(_get(container, "resources", "requests"))
    limits = _map(_get(container, "resources", "limits"))
    for resource in ("cpu", "memory"):
        # The API server takes a missing request from the limit.
        if requests.get(resource) in (None, "") and limits.get(resource) in (None, ""):
            add("resources-requests", name, f"{at}.resources.requests.{resource}", f"no {resource} request")
        if limits.get(resource) in (None, ""):
            add("resources-limits", name, f"{at}.resources.limits.{resource}", f"no {resource} limit")


def _check_security(container: Mapping[str, Any], pod_security: Mapping[str, Any], at: str, name: str,
                    add: Any) -> None:
    security = _map(container.get("securityContext"))
    field = f"{at}.securityContext"
    non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
    user = security.get("runAsUser", pod_security.get("runAsUser"))
    if non_root is not True:
        said = "is false" if non_root is False else "is not set in the container's or the pod's securityContext"
        add("run-as-non-root", name, f"{field}.runAsNonRoot", f"runAsNonRoot {said}")
    elif user == 0:
        add("run-as-non-root", name, f"{field}.runAsUser", "runAsUser is 0 (root) although runAsNonRoot is true")
    if security.get("privileged") is True:
        add("no-privileged", name, f"{field}.privileged", "the container is privileged")
    if security.get("allowPrivilegeEscalation") is not False:
        said = "is true" if security.get("allowPrivilegeEscalation") is True else "is not set (it defaults to true)"
        add("no-privilege-escalation", name, f"{field}.allowPrivilegeEscalation",
            f"allowPrivilegeEscalation {said}; set it to false")
    if security.get("readOnlyRootFilesystem") is not True:
        said = "is false" if security.get("readOnlyRootFilesystem") is False else "is not set"
        add("read-only-root-filesystem", name, f"{field}.readOnlyRootFilesystem",
            f"readOnlyRootFilesystem {said}; set it to true and mount a writable volume where the app writes")


def _check_env(container: Mapping[str, Any], at: str, name: str, add: Any) -> None:
    for env in _list(container.get("env")):
        var = str(env.get("name") or "?")
        value = env.get("value")
        if value is None or "valueFrom" in env:
            continue
        text = str(value).strip()
        if not text or text.lower() in HARMLESS_VALUES:
            continue
        looks = secret_value(text)
        if looks:
            said = f"a literal value that looks like {looks}"
        elif secret_name(var):
            said = "a literal value and its name says it is a secret"
        else:
            continue
        add("no-plain-secrets", name, f"{at}.env[{var}].value",
            f"env {var} holds {said}; take it from a Secret (valueFrom.secretKeyRef, or the app's secrets)")


def summary(violations: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """(errors, warnings)."""
    levels = [v["level"] for v in violations]
    return levels.count("error"), levels.count("warning")


def describe(violation: Mapping[str, Any]) -> str:
    """One violation as a line: ``app web: Deployment shop/web: container app: <field>: rule <rule>: <message>``."""
    where = f"{violation['namespace']}/{violation['name']}" if violation.get("namespace") else violation["name"]
    parts = [f"app {violation['app']}", f"{violation['kind']} {where}"]
    if violation.get("container"):
        parts.append(f"container {violation['container']}")
    parts += [violation["field"], f"rule {violation['rule']}", violation["message"]]
    return ": ".join(parts)


def failure_message(violations: Sequence[Mapping[str, Any]]) -> str | None:
    """The message that fails a task on the errors among ``violations``; None when there is none."""
    errors = [v for v in violations if v["level"] == "error"]
    if not errors:
        return None
    head = f"policy: {len(errors)} error{'s' if len(errors) != 1 else ''}"
    return "; ".join([head] + [describe(v) for v in errors])

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An environment's namespace and its guard rails: quota, limits, a deployer account, a marker.

The namespace carries the formation's labels; a ResourceQuota holds the
environment's CPU share; a LimitRange bounds each container's memory and
fills in defaults; a ServiceAccount ``skipper-deployer`` is bound to the
least Role the modules need (``DEPLOYER_RULES``, the rules README lists); a
ConfigMap ``skipper-formation`` marks the namespace as a formation's, with
its settings. Everything goes through the same dry-run-and-compare plan as
an app, so check mode is exact and a no-op writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _resource as res
from ._app import Plan, execute, plan_objects
from ._diff import compare
from ._errors import ApiError, ValidationError
from ._report import owner_of
from ._service import Service
from ._spec import canonical_quantity, check_name, check_namespace, quantity_value

DEPLOYER = "skipper-deployer"
QUOTA = "skipper-quota"
LIMITS = "skipper-limits"
MARKER = "skipper-formation"
ENVIRONMENT_LABEL = "skipper.platform/environment"

# The least a deployer needs in its namespace (README, "Least privilege").
DEPLOYER_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "delete"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["list"]},
]


def _fail(namespace: str, field: str, reason: str) -> ValidationError:
    return ValidationError(f"environment {namespace}: {field}: {reason}", field=field)


def _bounds(namespace: str, field: str, given: Any, keys: tuple[str, str]) -> dict[str, str]:
    if given is None:
        return {}
    if not isinstance(given, Mapping) or set(given) - set(keys):
        raise _fail(namespace, field, f"must be a mapping with {keys[0]} and/or {keys[1]}")
    out = {k: canonical_quantity(given[k], namespace, f"{field}.{k}") for k in keys if given.get(k) is not None}
    low, high = (out.get(k) for k in keys)
    if low and high and quantity_value(low) > quantity_value(high):
        raise _fail(namespace, field, f"{keys[0]} {low} is above {keys[1]} {high}")
    return out


def _labels(params: Mapping[str, Any]) -> dict[str, str]:
    labels = {str(k): str(v) for k, v in (params.get("labels") or {}).items()}
    labels[res.MANAGED_BY_LABEL] = res.MANAGER
    if params.get("formation"):
        labels[res.FORMATION_LABEL] = params["formation"]
    if params.get("environment"):
        labels[ENVIRONMENT_LABEL] = params["environment"]
    return dict(sorted(labels.items()))


def environment_manifests(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every object of the environment, the Namespace first (pure)."""
    namespace = check_namespace(params["namespace"])
    if params.get("formation"):
        check_name(params["formation"])
    labels = _labels(params)

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": namespace, "labels": labels}

    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}]
    if params.get("cpu") is not None:
        cpu = canonical_quantity(params["cpu"], namespace, "cpu")
        objects.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta(QUOTA),
                        "spec": {"hard": {"limits.cpu": cpu, "requests.cpu": cpu}}})
    memory = _bounds(namespace, "memory", params.get("memory"), ("min", "max"))
    default_cpu = _bounds(namespace, "default_cpu", params.get("default_cpu"), ("request", "limit"))
    if params.get("cpu") is not None and not default_cpu:
        # A CPU quota makes the API refuse pods without CPU requests and limits: give every container some.
        default_cpu = {"request": "100m", "limit": "500m"}
    if memory or default_cpu:
        limit: dict[str, Any] = {"type": "Container"}
        if memory.get("min"):
            limit["min"] = {"memory": memory["min"]}
        if memory.get("max"):
            limit["max"] = {"memory": memory["max"]}
        defaults = {"cpu": default_cpu.get("limit"), "memory": memory.get("max")}
        requests = {"cpu": default_cpu.get("request"), "memory": memory.get("min")}
        if any(defaults.values()):
            limit["default"] = {k: v for k, v in defaults.items() if v}
        if any(requests.values()):
            limit["defaultRequest"] = {k: v for k, v in requests.items() if v}
        objects.append({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta(LIMITS), "spec": {"limits": [limit]}})
    if params.get("deployer", True):
        objects += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(DEPLOYER)},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(DEPLOYER),
             "rules": DEPLOYER_RULES},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(DEPLOYER),
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": DEPLOYER},
             "subjects": [{"kind": "ServiceAccount", "name": DEPLOYER, "namespace": namespace}]},
        ]
    marker = {k: str(params[k]) for k in ("formation", "environment", "domain") if params.get(k)}
    marker["production"] = "true" if params.get("production") else "false"
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(MARKER), "data": dict(sorted(marker.items()))})
    return objects


def converge_environment(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    manifests = environment_manifests(params)
    namespace = manifests[0]["metadata"]["name"]
    plan = Plan(namespace, namespace)
    plan.force = bool(params.get("force"))
    try:
        namespace_live = svc.get("Namespace", None, namespace)
    except ApiError as exc:
        if exc.status == 403:
            raise ValidationError(f"environment {namespace}: these credentials may not read namespaces; an "
                                  "environment is set up with cluster rights (a deployer token can only run the "
                                  "formation)", field="namespace") from None
        raise
    live: dict[tuple[str, str], dict[str, Any] | None] = {("Namespace", namespace): namespace_live}
    # The namespace itself may have been made by someone else (an admin, a
    # tool): labelling it is harmless. Everything inside must be ours.
    for manifest in manifests[1:]:
        key = (manifest["kind"], manifest["metadata"]["name"])
        found = svc.get(key[0], namespace, key[1]) if namespace_live is not None else None
        labels = ((found or {}).get("metadata") or {}).get("labels") or {}
        if found is not None and labels.get(res.MANAGED_BY_LABEL) != res.MANAGER:
            raise ValidationError(
                f"environment {namespace}: {key[0]} {namespace}/{key[1]} exists but skipper.platform did not make it "
                f"({owner_of(found)}); it is never taken over: rename or remove it", field=key[0])
        live[key] = found
    if namespace_live is None:
        plan.record("Namespace", None, namespace, "created", {}, compare(None, manifests[0], manifests[0])[2])
        plan.new_namespace = manifests[0]
        plan_objects(svc, plan, manifests[1:], live, dry_run_now=False)
    else:
        plan_objects(svc, plan, manifests, live)
    if not check_mode:
        execute(svc, plan)
    result: dict[str, Any] = {
        "changed": plan.changed, "objects": plan.objects, "diff": plan.diffs,
        "environment": {"namespace": namespace, "formation": params.get("formation"),
                        "service_account": DEPLOYER if params.get("deployer", True) else None},
    }
    return result

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Autoscaling: the ``autoscale`` value (pure), its HorizontalPodAutoscaler, and the app_autoscale runner.

The HPA is named after the app and scales its Deployment. It is written
under the collection's own field manager (``skipper.platform``), whoever
declares it: ``app`` from inventory, or ``app_autoscale`` by hand. The
annotation ``DECLARED_BY_ANNOTATION`` tells them apart: ``app_autoscale``
sets it, so the ``app`` runner deletes only HPAs without it when inventory
drops ``autoscale``, and its own apply (same manager, annotation left out)
removes it when inventory takes an HPA over. One manager means that
take-over is a plain apply, never a field conflict; the annotation is what
keeps the two from fighting: ``app_autoscale`` refuses to change an HPA that
inventory declares unless ``force: true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import (
    _app,  # the module, not its names: _app imports this one's features (a cycle)
    _scale,  # likewise: _scale imports _app
)
from . import _resource as res
from ._diff import compare
from ._errors import ValidationError
from ._report import is_ours, owner_of
from ._service import Service, describe
from ._spec import check_int, check_name, check_namespace, fail

DECLARED_BY_ANNOTATION = res.DECLARED_BY_ANNOTATION
DECLARED_BY_MODULE = "app_autoscale"
HPA = "HorizontalPodAutoscaler"
AUTOSCALE_KEYS = ("min", "max", "cpu", "memory")
METRICS = ("cpu", "memory")  # the order they appear in the HPA


def check_autoscale(app: str, value: Any) -> dict[str, int] | None:
    """``{min, max, cpu, memory}`` checked and normalized; None when autoscale is not declared.

    ``min`` defaults to 1 (the API's default), ``max`` is required, and at
    least one of ``cpu`` and ``memory`` (target utilisation in percent of the
    pods' requests, 1 to 100) is.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise fail(app, "autoscale", "must be a mapping such as {min: 2, max: 6, cpu: 70}")
    unknown = sorted(str(k) for k in value if k not in AUTOSCALE_KEYS)
    if unknown:
        raise fail(app, f"autoscale.{unknown[0]}",
                   f"unknown key (autoscale takes {', '.join(AUTOSCALE_KEYS)})")
    if value.get("max") is None:
        raise fail(app, "autoscale.max", "is required: the most replicas the autoscaler may run")
    low = check_int(app, "autoscale.min", value["min"] if value.get("min") is not None else 1, 1)
    high = check_int(app, "autoscale.max", value["max"], 1)
    if low > high:
        raise fail(app, "autoscale.min", f"{low} is above autoscale.max ({high})")
    out = {"min": low, "max": high}
    for metric in METRICS:
        if value.get(metric) is not None:
            out[metric] = check_int(app, f"autoscale.{metric}", value[metric], 1, 100)
    if not any(metric in out for metric in METRICS):
        raise fail(app, "autoscale", "give a target utilisation: cpu and/or memory, in percent of the requests")
    return out


def hpa_manifest(spec: dict[str, Any], namespace: str, autoscale: dict[str, Any],
                 declared_by: str | None = None) -> dict[str, Any]:
    """The autoscaling/v2 HPA of an app: named after it, scaling its Deployment, metrics cpu then memory.

    ``declared_by`` (``app_autoscale``) marks an HPA made by hand rather than
    declared in inventory.
    """
    meta: dict[str, Any] = {"name": spec["name"], "namespace": namespace, "labels": res.app_labels(spec)}
    if declared_by:
        meta["annotations"] = {DECLARED_BY_ANNOTATION: declared_by}
    metrics = [
        {"type": "Resource",
         "resource": {"name": metric, "target": {"type": "Utilization", "averageUtilization": autoscale[metric]}}}
        for metric in METRICS if autoscale.get(metric) is not None
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": HPA,
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec["name"]},
            "minReplicas": autoscale["min"],
            "maxReplicas": autoscale["max"],
            "metrics": metrics,
        },
    }


def declared_by_module(hpa: dict[str, Any]) -> bool:
    return ((hpa.get("metadata") or {}).get("annotations") or {}).get(DECLARED_BY_ANNOTATION) == DECLARED_BY_MODULE


def spec_from_deployment(deployment: dict[str, Any]) -> dict[str, Any]:
    """What ``_resource.app_labels`` needs, read back from a deployed app: its HPA is labelled like the rest."""
    labels = (deployment.get("metadata") or {}).get("labels") or {}
    own = {k: v for k, v in labels.items() if not k.startswith(("app.kubernetes.io/", "skipper.platform/"))}
    return {"name": deployment["metadata"]["name"], "version": labels.get(res.VERSION_LABEL, ""),
            "labels": own, "formation": labels.get(res.FORMATION_LABEL)}


def _requests_missing(deployment: dict[str, Any], autoscale: dict[str, Any]) -> list[str]:
    """Metrics the autoscaler cannot compute: utilisation is a share of the containers' requests."""
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return [m for m in METRICS if m in autoscale and
            not all(((c.get("resources") or {}).get("requests") or {}).get(m) for c in containers)]


def _app_deployment(svc: Service, namespace: str, app: str, what: str) -> dict[str, Any]:
    deployment = svc.get("Deployment", namespace, app)
    if deployment is None:
        raise ValidationError(f"app {app}: cannot {what}: Deployment {namespace}/{app} not found; deploy the app first",
                              app=app, field="name")
    if not is_ours(deployment, app):
        raise ValidationError(
            f"app {app}: cannot {what}: {describe('Deployment', namespace, app)} is not an app of skipper.platform "
            f"({owner_of(deployment)})", app=app, field="name")
    return deployment


def _check_hpa_owner(hpa: dict[str, Any] | None, app: str, namespace: str, force: bool, plan: _app.Plan) -> None:
    if hpa is None:
        return
    what = describe(HPA, namespace, app)
    if not is_ours(hpa, app):
        raise ValidationError(
            f"app {app}: {what} exists but was not made by skipper.platform ({owner_of(hpa)}); it is never taken "
            "over or deleted, even with force: true: remove it yourself first", app=app, field="name")
    if not declared_by_module(hpa):
        if not force:
            raise ValidationError(
                f"app {app}: {what} is declared in inventory (the app's autoscale option): change it there, or set "
                "force: true to change it here until the next deploy puts the inventory's back", app=app,
                field="name")
        plan.note(f"app {app}: {what} is declared in inventory (the app's autoscale option); the next deploy of "
                  "the app puts the inventory's settings back")


def _find_targeting(svc: Service, namespace: str, app: str) -> list[dict[str, Any]]:
    """HPAs of another name (made by hand) that scale the app too: two autoscalers fight over one Deployment."""
    items, _why = svc.list_optional(HPA, namespace)
    return [h for h in items or [] if _scale.scales_app(h, app) and h["metadata"]["name"] != app]


def plan_autoscale(svc: Service, params: dict[str, Any]) -> _app.Plan:
    """Reads, ownership, dry run and comparison for app_autoscale; writes nothing."""
    app = check_name(params["name"])
    namespace = check_namespace(params["namespace"])
    plan = _app.Plan(app, namespace)
    plan.force = bool(params.get("force"))
    state = params.get("state") or "present"
    if state == "present":
        autoscale = check_autoscale(app, {k: params.get(k) for k in AUTOSCALE_KEYS}) or {}
        deployment = _app_deployment(svc, namespace, app, "autoscale it")
        plan.deployment = deployment
        live = svc.get(HPA, namespace, app)
        _check_hpa_owner(live, app, namespace, plan.force, plan)
        others = _find_targeting(svc, namespace, app)
        if others:
            raise ValidationError(
                f"app {app}: {describe(HPA, namespace, others[0]['metadata']['name'])} already scales "
                f"Deployment {namespace}/{app}; two autoscalers would fight over it: remove that one first",
                app=app, field="name")
        for metric in _requests_missing(deployment, autoscale):
            plan.note(f"app {app}: autoscale.{metric}: the app's containers request no {metric}, so the autoscaler "
                      f"cannot compute {metric} utilisation: set resources.{metric}.request on the app")
        manifest = hpa_manifest(spec_from_deployment(deployment), namespace, autoscale, declared_by=DECLARED_BY_MODULE)
        _app.plan_objects(svc, plan, [manifest], {(HPA, app): live})
        return plan
    # absent: remove the HPA, then hold the replicas where the user says.
    replicas = params.get("replicas")
    if replicas is None:
        raise ValidationError(
            f"app {app}: replicas: required with state: absent, so the app does not stay at whatever the autoscaler "
            "left it", app=app, field="replicas")
    replicas = _scale.check_replicas(app, replicas)
    deployment = _app_deployment(svc, namespace, app, "stop autoscaling it")
    plan.deployment = deployment
    live = svc.get(HPA, namespace, app)
    if live is not None and not live["metadata"].get("deletionTimestamp"):
        _check_hpa_owner(live, app, namespace, plan.force, plan)
        plan.record(HPA, namespace, app, "deleted", compare(live, None, None)[1], {})
        plan.writes.append(lambda: svc.delete(live))
    _scale.plan_scale(svc, plan, app, namespace, replicas, deployment, other_autoscalers=_find_targeting(svc, namespace, app))
    return plan


def hpa_state(hpa: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the module reports of the HPA it left."""
    if not hpa:
        return None
    spec = hpa.get("spec") or {}
    status = hpa.get("status") or {}
    targets_ = {m["resource"]["name"]: m["resource"]["target"].get("averageUtilization")
                for m in spec.get("metrics") or [] if m.get("type") == "Resource"}
    return {"name": hpa["metadata"]["name"], "min": int(spec.get("minReplicas", 1)),
            "max": int(spec.get("maxReplicas", 0)), "cpu": targets_.get("cpu"), "memory": targets_.get("memory"),
            "current": status.get("currentReplicas"), "desired": status.get("desiredReplicas")}


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    plan = plan_autoscale(svc, params)
    result: dict[str, Any] = {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs}
    if (params.get("state") or "present") == "absent":
        result["app"] = _scale.execute_and_wait(svc, plan, params, check_mode)
        result["autoscale"] = None
    elif check_mode:
        wanted = check_autoscale(plan.name, {k: params.get(k) for k in AUTOSCALE_KEYS}) or {}
        result["autoscale"] = {"name": plan.name, "min": wanted["min"], "max": wanted["max"], "cpu": wanted.get("cpu"),
                               "memory": wanted.get("memory"), "current": None, "desired": None}
    else:
        _app.execute(svc, plan)
        result["autoscale"] = hpa_state(svc.get(HPA, plan.namespace, plan.name))
    if plan.warnings:
        result["warnings"] = list(plan.warnings)
    return result

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scaling an app by hand: replicas through the Deployment's ``/scale`` subresource.

The write is a server-side apply of an ``autoscaling/v1`` Scale under a
field manager of its own (``skipper.platform-scale``), forced, because
scaling is an explicit command: it takes ``spec.replicas`` over from whoever
held it (an earlier deploy that declared ``replicas``). The API tracks that
manager on the Deployment itself, so a later deploy that still declares
``replicas`` fails with a conflict naming ``skipper.platform-scale``
rather than silently undoing the scale. An HPA that scales the app would
undo it within seconds, so scaling such an app fails and says how to change
the HPA's bounds instead.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from . import _app  # the module, not its names: _app imports this one's features (a cycle)
from . import _resource as res
from ._errors import ApiError, RolloutError, SkipperError, ValidationError
from ._report import is_ours, owner_of, replica_counts, revision_of
from ._service import APPLY_CONTENT_TYPE, Service, conflict_managers, describe
from ._spec import check_int, check_name, check_namespace

SCALE_MANAGER = "skipper.platform-scale"
HPA = "HorizontalPodAutoscaler"


def scales_app(hpa: dict[str, Any], app: str) -> bool:
    """Whether an HPA (of any name, made by anyone) scales the app's Deployment."""
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return (ref.get("kind"), ref.get("name")) == ("Deployment", app) and \
        str(ref.get("apiVersion", "apps/v1")).startswith("apps/")


def check_replicas(app: str, value: Any) -> int:
    return check_int(app, "replicas", value, 0)


def scale_body(namespace: str, app: str, replicas: int) -> dict[str, Any]:
    """The scale manager's whole claim: ``spec.replicas`` and nothing else."""
    return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": app, "namespace": namespace},
            "spec": {"replicas": replicas}}


def apply_scale(svc: Service, namespace: str, app: str, replicas: int, dry_run: bool,
                deadline: float | None = None) -> dict[str, Any]:
    """Server-side apply to ``/scale`` (``Service.apply`` derives its path from the body's kind, Scale has none)."""
    what = f"{describe('Deployment', namespace, app)} (scale)"
    query = {"fieldManager": SCALE_MANAGER, "force": "true", "dryRun": "All" if dry_run else None}
    try:
        return svc.client.request(  # type: ignore[no-any-return]
            "PATCH", res.object_path("Deployment", namespace, app, "scale"), query,
            scale_body(namespace, app, replicas), APPLY_CONTENT_TYPE, deadline=deadline)
    except ApiError as exc:
        managers, _fields = conflict_managers(exc)
        extra = f" (held by {', '.join(managers)})" if managers else ""
        raise ApiError(f"Failed to {'dry-run ' if dry_run else ''}scale {what} to {replicas}{extra}: {exc.message}",
                       status=exc.status, reason=exc.reason, causes=exc.causes) from None


def desired_replicas(deployment: dict[str, Any]) -> int:
    return int((deployment.get("spec") or {}).get("replicas", 1))


def autoscaler_error(app: str, namespace: str, hpa: dict[str, Any]) -> ValidationError:
    spec = hpa.get("spec") or {}
    bounds = f"min {spec.get('minReplicas', 1)}, max {spec.get('maxReplicas', '?')}"
    return ValidationError(
        f"app {app}: replicas: {describe(HPA, namespace, hpa['metadata']['name'])} scales this app ({bounds}) and "
        "would undo a scale by hand: change its bounds with skipper.platform.app_autoscale (min, max), or stop "
        "autoscaling with skipper.platform.app_autoscale state: absent and replicas", app=app, field="replicas")


def plan_scale(svc: Service, plan: _app.Plan, app: str, namespace: str, replicas: int, deployment: dict[str, Any],
               other_autoscalers: list[dict[str, Any]] | None = None) -> None:
    """Plan ``spec.replicas`` = ``replicas`` through ``/scale``: a dry run when it differs, else nothing.

    ``other_autoscalers`` are HPAs (other than one this plan deletes) that
    scale the app: any makes this an error.
    """
    for hpa in other_autoscalers or []:
        raise autoscaler_error(app, namespace, hpa)
    current = desired_replicas(deployment)
    if current == replicas:
        plan.record("Deployment", namespace, app, "unchanged")
        return
    apply_scale(svc, namespace, app, replicas, dry_run=True)
    plan.record("Deployment", namespace, app, "updated", {"spec": {"replicas": current}},
                {"spec": {"replicas": replicas}})
    plan.writes.append(functools.partial(_scale_and_read, svc, namespace, app, replicas))


def _scale_and_read(svc: Service, namespace: str, app: str, replicas: int) -> dict[str, Any] | None:
    apply_scale(svc, namespace, app, replicas, dry_run=False)
    # The Scale answer is not the Deployment: read it, so the wait starts from its new generation.
    return svc.get("Deployment", namespace, app)


def execute_and_wait(svc: Service, plan: _app.Plan, params: dict[str, Any], check_mode: bool,
                     waits: bool = True) -> dict[str, Any] | None:
    """Write the plan, wait for the replicas (unless check mode or ``wait: false``) and say how the app stands."""
    if not check_mode:
        _app.execute(svc, plan)
    deployment = plan.deployment
    if deployment is None:
        return None
    if check_mode or not waits or not params.get("wait", True):
        outcome = {"status": "not_waited", "message": "check mode" if check_mode else "wait is false"}
    else:
        deadline = time.monotonic() + float(params.get("wait_timeout", 300))
        try:
            outcome, deployment = _app.wait_for_rollout(
                svc, plan.name, plan.namespace, deadline, plan, first=None if plan.deployment_written else deployment)
        except SkipperError as exc:
            raise plan.failed(exc) from None
        plan.deployment = deployment
    app = {"name": plan.name, "namespace": plan.namespace, "replicas": replica_counts(deployment),
           "revision": revision_of(deployment), "rollout": outcome}
    if outcome["status"] == "failed":
        raise plan.failed(RolloutError(outcome["message"], app=app))
    return app


def plan_app_scale(svc: Service, params: dict[str, Any]) -> _app.Plan:
    app = check_name(params["name"])
    namespace = check_namespace(params["namespace"])
    replicas = check_replicas(app, params.get("replicas"))
    plan = _app.Plan(app, namespace)
    deployment = svc.get("Deployment", namespace, app)
    if deployment is None:
        raise ValidationError(f"app {app}: cannot scale: Deployment {namespace}/{app} not found; deploy the app first",
                              app=app, field="name")
    if not is_ours(deployment, app):
        raise ValidationError(f"app {app}: cannot scale: {describe('Deployment', namespace, app)} is not an app of "
                              f"skipper.platform ({owner_of(deployment)})", app=app, field="name")
    plan.deployment = deployment
    autoscalers, why = svc.list_optional(HPA, namespace)
    if autoscalers is None:
        plan.note(f"app {app}: could not check for an autoscaler ({res.served_as(HPA)} in namespace {namespace}: "
                  f"{why}); one would undo this scale")
    plan_scale(svc, plan, app, namespace, replicas, deployment,
               other_autoscalers=[h for h in autoscalers or [] if scales_app(h, app)])
    return plan


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    plan = plan_app_scale(svc, params)
    app = execute_and_wait(svc, plan, params, check_mode)
    result: dict[str, Any] = {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs, "app": app}
    if plan.warnings:
        result["warnings"] = list(plan.warnings)
    return result

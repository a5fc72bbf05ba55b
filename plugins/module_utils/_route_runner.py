# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``route`` runner: keep a route group's Ingresses (or Routes) as declared.

Plan as the app runner does (``_app.Plan``, ``_app.plan_objects``): check
the input, read the namespace's objects of skipper.platform, check every
backend app and every host and path claim, dry-run each object, compare,
and plan deletes for paths no longer in the group; then write the
differences. Check mode stops before the writes.
"""

from __future__ import annotations

import functools
from typing import Any

from . import _app
from . import _routes as routes
from ._diff import compare
from ._errors import ValidationError
from ._report import owner_of
from ._service import Service
from ._spec import check_namespace


def _live_objects(svc: Service, namespace: str, group: dict[str, Any] | None) -> list[dict[str, Any]]:
    """skipper.platform's Ingresses and Routes in the namespace (Routes only where the API serves them)."""
    selector = routes.group_selector()
    ingresses = svc.list("Ingress", namespace, selector)
    found, why = svc.list_optional("Route", namespace, selector)
    if found is None and group is not None and group["kind"] == "Route":
        raise ValidationError(f"route {group['name']}: kind: Route: cannot use OpenShift Routes in namespace {namespace}: the API "
                              f"route.openshift.io/v1 routes is {why}; use kind: Ingress", field="kind")
    return ingresses + (found or [])


def _mine(obj: dict[str, Any], group: str) -> bool:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(routes.GROUP_LABEL) == group


def _check_backends(svc: Service, group: dict[str, Any], namespace: str) -> None:
    for entry in group["paths"]:
        if svc.get("Service", namespace, entry["app"]) is None:
            field = f"paths[{entry['index']}].app"
            raise ValidationError(f"route {group['name']}: {field}: app {entry['app']} not found in namespace "
                                  f"{namespace} (no Service {namespace}/{entry['app']}); deploy it first", field=field)


def plan_group(svc: Service, params: dict[str, Any]) -> tuple[_app.Plan, dict[str, Any] | None]:
    present = params.get("state", "present") == "present"
    group = routes.check_group(params) if present else None
    name = group["name"] if group else routes.check_group_name(params.get("name"))
    plan = _app.Plan(name, check_namespace(params.get("namespace")))
    namespace = plan.namespace
    if group is not None:
        _app.namespace_exists(svc, plan, create=False)
    everything = _live_objects(svc, namespace, group)
    own = {(o["kind"], o["metadata"]["name"]): o for o in everything
           if _mine(o, name) and not o["metadata"].get("deletionTimestamp")}
    manifests: list[dict[str, Any]] = []
    if group is not None:
        _check_backends(svc, group, namespace)
        others = [o for o in everything if not _mine(o, name)]
        clashes = routes.conflicts(routes.group_claims(group) + routes.claims_of(others))
        if clashes:
            raise ValidationError(f"route {name}: paths: {'; '.join(clashes)}", field="paths")
        manifests = routes.manifests(group, namespace)
        live: dict[tuple[str, str], dict[str, Any] | None] = dict(own)
        for manifest in manifests:
            key = (manifest["kind"], manifest["metadata"]["name"])
            if key not in live:
                # A new path's object: one read, so an object of that name made by anyone else is refused.
                live[key] = svc.get(key[0], namespace, key[1])
                if live[key] is not None:
                    raise ValidationError(
                        f"route {name}: {key[0]} {namespace}/{key[1]} exists but is not this route group's "
                        f"({owner_of(live[key] or {})}); skipper.platform never takes it over: rename the group or "
                        "remove that object", field="name")
        _app.plan_objects(svc, plan, manifests, live)
    wanted = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    for key, obj in sorted(own.items()):
        if key not in wanted:
            plan.record(key[0], namespace, key[1], "deleted", compare(obj, None, None)[1], {})
            plan.writes.append(functools.partial(svc.delete, obj))
    return plan, group


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    plan, group = plan_group(svc, params)
    if not check_mode:
        _app.execute(svc, plan)
    summary: dict[str, Any] = {"name": plan.name, "namespace": plan.namespace}
    if group is not None:
        summary.update(host=group["host"], kind=group["kind"], urls=routes.urls(group),
                       paths=[{"path": p["path"], "app": p["app"], "strip_prefix": p["strip_prefix"]}
                              for p in group["paths"]])
        if group["kind"] == "Ingress" and group["controller"] == "traefik" and any(
                p["strip_prefix"] for p in group["paths"]):
            summary["middleware"] = routes.strip_middleware(group["name"])
    result: dict[str, Any] = {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs, "route": summary}
    if plan.warnings:
        result["warnings"] = list(plan.warnings)
    return result

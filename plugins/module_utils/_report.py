# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run reports about an app, and whose an object is (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import _resource as res
from ._spec import quantity_value
from ._waiter import replicas_of, rollout_state

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
# Set by the deployment controller on a ReplicaSet it reuses for a new revision.
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
# The Progressing condition's reasons while a pod template rolls out, and once it has.
ROLLOUT_REASONS = ("NewReplicaSetCreated", "FoundNewReplicaSet", "ReplicaSetUpdated", "NewReplicaSetAvailable")
MEBIBYTE = Decimal(2) ** 20
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"


def revision_of(deployment: dict[str, Any] | None) -> int | None:
    revision = (((deployment or {}).get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    return int(revision) if revision else None


def replica_counts(deployment: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in replicas_of(deployment).items() if k in ("desired", "ready", "available")}


def app_summary(spec: dict[str, Any], namespace: str, deployment: dict[str, Any] | None) -> dict[str, Any]:
    """The app as a deploy leaves it (``deployment`` is None before it exists)."""
    replicas = replica_counts(deployment) if deployment else {"desired": spec["replicas"], "ready": 0, "available": 0}
    return {
        "name": spec["name"],
        "namespace": namespace,
        "image": spec["image"],
        "version": spec["version"],
        "replicas": replicas,
        "revision": revision_of(deployment),
        "urls": res.urls(spec["routes"]),
    }


def routes_of(ingresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every host and path the Ingresses serve, with its URL."""
    routes = []
    for ing in ingresses:
        spec = ing.get("spec") or {}
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        for rule in spec.get("rules") or []:
            host = rule.get("host", "")
            for path in ((rule.get("http") or {}).get("paths")) or []:
                where = path.get("path", "/")
                scheme = "https" if host in tls_hosts else "http"
                routes.append({"host": host, "path": where, "tls": host in tls_hosts,
                               "url": f"{scheme}://{host}{where}", "ingress": ing["metadata"]["name"]})
    return routes


def describe_app(deployment: dict[str, Any], ingresses: list[dict[str, Any]],
                 replica_sets: list[dict[str, Any]] | None = None,
                 autoscalers: list[dict[str, Any]] | None = None,
                 pod_metrics: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What app_info shows of one app, read back from its objects.

    ``replica_sets``, ``autoscalers`` and ``pod_metrics`` are what the
    namespace's lists returned, or None when they could not be read (an API
    that is not served or not allowed): the fields drawn from them are then
    null, except ``last_deployed``, which falls back on the Deployment alone.
    """
    meta = deployment.get("metadata") or {}
    labels = meta.get("labels") or {}
    main = main_container(deployment)
    state, why = rollout_state(deployment)
    return {
        "name": labels.get(res.NAME_LABEL, meta.get("name")),
        "namespace": meta.get("namespace"),
        "formation": labels.get(res.FORMATION_LABEL),
        "image": main.get("image"),
        "version": labels.get(res.VERSION_LABEL),
        "replicas": replica_counts(deployment),
        "resources": main.get("resources") or {},
        "routes": routes_of(ingresses),
        "conditions": [{k: c.get(k) for k in ("type", "status", "reason", "message")}
                       for c in (deployment.get("status") or {}).get("conditions") or []],
        "revision": revision_of(deployment),
        "rollout": {"status": {"done": "succeeded", "failed": "failed"}.get(state, "progressing"), "message": why},
        "last_deployed": last_deployed(deployment, replica_sets),
        "usage": usage_of(deployment, pod_metrics),
        "autoscale": autoscale_of(deployment, autoscalers),
    }


def _template_containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []


def main_container(deployment: dict[str, Any]) -> dict[str, Any]:
    """The app's own container (named ``app``), else the first one."""
    containers = _template_containers(deployment) or [{}]
    return next((c for c in containers if c.get("name") == res.CONTAINER), containers[0])


def owned_by(obj: dict[str, Any], deployment: dict[str, Any]) -> bool:
    meta = deployment.get("metadata") or {}
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("kind") == "Deployment" and (
                owner.get("uid") == meta["uid"] if meta.get("uid") else owner.get("name") == meta.get("name")):
            return True
    return False


def current_replica_set(deployment: dict[str, Any], replica_sets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The Deployment's ReplicaSet of its current revision: the pods of its current pod template."""
    revision = revision_of(deployment)
    if revision is None:
        return None
    return next((rs for rs in replica_sets if revision_of(rs) == revision and owned_by(rs, deployment)), None)


def last_deployed(deployment: dict[str, Any], replica_sets: list[dict[str, Any]] | None) -> str | None:
    """When the Deployment's pod template last changed (RFC 3339, UTC), or None when nothing tells.

    The deployment controller creates a ReplicaSet the moment the pod template
    changes, and nothing else moves that ReplicaSet's creationTimestamp: not a
    scale by hand or by an autoscaler, not pods replaced after an eviction or
    a crash. So the current revision's ReplicaSet is the source. The
    Progressing condition's lastUpdateTime, the other candidate, moves on with
    any progress the controller sees, an autoscaler's scale-up included, so
    it is only the fallback: when the ReplicaSets cannot be read, and when the
    current ReplicaSet was reused (a rollback to a template still in the
    history, which the controller marks with the revision-history
    annotation): its creationTimestamp is then the earlier rollout's, while
    the condition was updated when the rollback rolled out.
    """
    progressing: dict[str, Any] = next((c for c in (deployment.get("status") or {}).get("conditions") or []
                                        if c.get("type") == "Progressing"), {})
    from_condition = progressing.get("lastUpdateTime") if progressing.get("reason") in ROLLOUT_REASONS else None
    current = current_replica_set(deployment, replica_sets or [])
    if current is None:
        return from_condition
    rs_meta = current.get("metadata") or {}
    created = rs_meta.get("creationTimestamp")
    if (rs_meta.get("annotations") or {}).get(REVISION_HISTORY_ANNOTATION):
        return from_condition or created
    return created or from_condition


def _quantity(text: Any) -> Decimal | None:
    try:
        return quantity_value(str(text))
    except ValueError:
        return None


def format_cpu(cores: Decimal) -> str:
    """Cores as whole millicores, the way ``kubectl top`` shows them: ``250m``."""
    return f"{int((cores * 1000).to_integral_value(ROUND_HALF_UP))}m"


def format_memory(amount: Decimal) -> str:
    """Bytes in whole mebibytes (kibibytes below one): ``96Mi``."""
    if 0 < amount < MEBIBYTE:
        return f"{int((amount / 1024).to_integral_value(ROUND_HALF_UP))}Ki"
    return f"{int((amount / MEBIBYTE).to_integral_value(ROUND_HALF_UP))}Mi"


USAGE_FORMATS = {"cpu": format_cpu, "memory": format_memory}


def usage_of(deployment: dict[str, Any], pod_metrics: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """CPU and memory the app's pods use, against what the current pod template requests for as many pods.

    None when there are no samples of the app's pods (no metrics API, or no
    sample yet). ``percent`` is None for a resource the app does not request.
    """
    app = ((deployment.get("metadata") or {}).get("labels") or {}).get(res.NAME_LABEL)
    mine = [m for m in pod_metrics or [] if ((m.get("metadata") or {}).get("labels") or {}).get(res.NAME_LABEL) == app]
    if not mine:
        return None
    result: dict[str, Any] = {"pods": len(mine)}
    for resource, fmt in USAGE_FORMATS.items():
        used = sum((_quantity(q) or Decimal(0) for m in mine for c in m.get("containers") or []
                    if (q := (c.get("usage") or {}).get(resource)) is not None), Decimal(0))
        per_pod = [_quantity(q) for c in _template_containers(deployment)
                   if (q := ((c.get("resources") or {}).get("requests") or {}).get(resource)) is not None]
        requested = sum((q for q in per_pod if q is not None), Decimal(0)) * len(mine)
        result[resource] = {
            "used": fmt(used),
            "requested": fmt(requested) if requested else None,
            "percent": int((used * 100 / requested).to_integral_value(ROUND_HALF_UP)) if requested else None,
        }
    return result


def autoscale_of(deployment: dict[str, Any], autoscalers: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The HorizontalPodAutoscaler that scales this Deployment: its bounds and the replicas it has and wants.

    The one named after the app, as skipper.platform names it; an
    autoscaler of that name that scales something else is not this app's.
    ``active`` is its ScalingActive condition (None before it first ran).
    ``desired`` is None unless it is active: the API shows 0 before the first
    run and while the autoscaler cannot compute a count (it cannot read its
    metrics, say), and then ``inactive_reason`` says why.
    """
    name = (deployment.get("metadata") or {}).get("name")
    for hpa in autoscalers or []:
        spec = hpa.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if (hpa.get("metadata") or {}).get("name") != name or (target.get("kind"), target.get("name")) != ("Deployment", name):
            continue
        status = hpa.get("status") or {}
        scaling = next((c for c in status.get("conditions") or [] if c.get("type") == "ScalingActive"), None)
        active = None if scaling is None else scaling.get("status") == "True"
        return {
            "name": name,
            "min": int(spec.get("minReplicas", 1)),  # the API's default
            "max": int(spec.get("maxReplicas", 0)),
            "current": _int_or_none(status.get("currentReplicas")),
            "desired": _int_or_none(status.get("desiredReplicas")) if active else None,
            "active": active,
            "inactive_reason": f"{scaling.get('reason')}: {scaling.get('message')}" if scaling and not active else None,
            "utilization": _utilization(status),
        }
    return None


def _utilization(status: dict[str, Any]) -> dict[str, int]:
    """The autoscaler's last reading of each resource, in percent of the pods' requests."""
    out = {}
    for metric in status.get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        value = (resource.get("current") or {}).get("averageUtilization")
        if metric.get("type") == "Resource" and resource.get("name") and value is not None:
            out[str(resource["name"])] = int(value)
    return dict(sorted(out.items()))


def kept_revisions(deployment: dict[str, Any], replica_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Deployment's own ReplicaSets that carry a revision, oldest first: the revisions it keeps."""
    mine = [rs for rs in replica_sets if owned_by(rs, deployment) and revision_of(rs) is not None]
    return sorted(mine, key=lambda rs: revision_of(rs) or 0)


def revisions_of(deployment: dict[str, Any], replica_sets: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The revisions the Deployment keeps, newest first, with version, image and time: what a rollback can go back to."""
    if replica_sets is None:
        return None
    out = []
    for rs in reversed(kept_revisions(deployment, replica_sets)):
        meta = rs.get("metadata") or {}
        template = (rs.get("spec") or {}).get("template") or {}
        containers = ((template.get("spec") or {}).get("containers")) or [{}]
        main = next((c for c in containers if c.get("name") == res.CONTAINER), containers[0])
        out.append({"revision": revision_of(rs),
                    "version": ((template.get("metadata") or {}).get("labels") or {}).get(res.VERSION_LABEL),
                    "image": main.get("image"), "created": meta.get("creationTimestamp"),
                    "current": revision_of(rs) == revision_of(deployment)})
    return out


def volumes_of(deployment: dict[str, Any], claims: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The claims the pods mount, where, and (when the claims could be read) their size and phase."""
    pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    by_volume = {v.get("name"): (v.get("persistentVolumeClaim") or {}).get("claimName")
                 for v in pod.get("volumes") or [] if v.get("persistentVolumeClaim")}
    found = {(c.get("metadata") or {}).get("name"): c for c in claims or []}
    out = []
    for mount in main_container(deployment).get("volumeMounts") or []:
        claim_name = by_volume.get(mount.get("name"))
        if not claim_name:
            continue
        claim = found.get(claim_name)
        entry: dict[str, Any] = {"claim": claim_name, "path": mount.get("mountPath"), "size": None, "phase": None}
        if claim is not None:
            entry["size"] = (((claim.get("status") or {}).get("capacity") or {}).get("storage")
                             or (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage"))
            entry["phase"] = (claim.get("status") or {}).get("phase")
        out.append(entry)
    return out


def links_of(deployment: dict[str, Any], deployments: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Links out (the app's link variables and their URLs) and in (the apps whose links point here)."""
    meta = deployment.get("metadata") or {}
    me = f"{meta.get('name')}.{meta.get('namespace')}"
    env = {e.get("name"): e.get("value") for e in main_container(deployment).get("env") or [] if "value" in e}
    out = [{"name": var, "url": env.get(var), "app": ref} for var, ref in sorted(link_records(deployment).items())]
    into = []
    for other in deployments:
        other_meta = other.get("metadata") or {}
        for var, ref in sorted(link_records(other).items()):
            if ref == me:
                into.append({"app": other_meta.get("name"), "namespace": other_meta.get("namespace"), "name": var})
    return {"out": out, "in": into}


def link_record(deployment: Mapping[str, Any] | None, annotation: str) -> dict[str, str]:
    """One link record on a Deployment, variable -> ``app.namespace``; an unreadable record counts as none."""
    text = (((deployment or {}).get("metadata") or {}).get("annotations") or {}).get(annotation)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def link_records(deployment: dict[str, Any]) -> dict[str, str]:
    """Variable -> ``app.namespace`` from both link records on a Deployment (declared, and app_link's)."""
    return {**link_record(deployment, res.DECLARED_LINKS_ANNOTATION), **link_record(deployment, res.LINKS_ANNOTATION)}


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def is_ours(obj: dict[str, Any], app: str, formation: str | None = None) -> bool:
    """Made by skipper.platform for this app (and, for a formation, not for another formation)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(res.MANAGED_BY_LABEL) != res.MANAGER or labels.get(res.NAME_LABEL) != app:
        return False
    return formation is None or labels.get(res.FORMATION_LABEL) in (None, formation)


def owner_of(obj: dict[str, Any]) -> str:
    """Whose an object is, as far as its labels, annotations and managers tell."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    managed_by = labels.get(res.MANAGED_BY_LABEL)
    if managed_by == res.MANAGER:
        formation = labels.get(res.FORMATION_LABEL)
        return f"app {labels.get(res.NAME_LABEL, '?')} of " + (f"formation {formation}" if formation else res.MANAGER)
    if managed_by:
        release = annotations.get(HELM_RELEASE_ANNOTATION)
        return f"managed by {managed_by}" + (f", release {release}" if release else "")
    owners = [f"{o.get('kind')} {o.get('name')}" for o in meta.get("ownerReferences") or []]
    if owners:
        return f"owned by {', '.join(owners)}"
    managers = sorted({m.get("manager") for m in meta.get("managedFields") or [] if m.get("manager")})
    if managers:
        return f"no app.kubernetes.io/managed-by label; written by {', '.join(managers)}"
    return "no app.kubernetes.io/managed-by label"


# Managers whose fields on our objects are expected: ours, and the control plane's own bookkeeping.
EXPECTED_MANAGERS = ("skipper.platform", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver")


def foreign_fields(obj: dict[str, Any]) -> dict[str, list[str]]:
    """Fields of an object of ours that another field manager set (a hotfix by kubectl edit, say), by manager.

    Status and subresource writes (an autoscaler's scale) are not counted.
    """
    out: dict[str, list[str]] = {}
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        manager = str(entry.get("manager") or "")
        if entry.get("subresource") or manager.startswith(EXPECTED_MANAGERS):
            continue
        paths = [p for p in _field_paths(entry.get("fieldsV1") or {}, "") if not p.startswith("status")]
        if paths:
            out.setdefault(manager, []).extend(paths)
    return {m: sorted(set(p)) for m, p in sorted(out.items())}


def _field_paths(fields: dict[str, Any], prefix: str) -> list[str]:
    """Readable paths of the fields a managedFields entry owns: the deepest owned element of each branch."""
    paths = []
    for key, sub in fields.items():
        if key == ".":
            continue
        if key.startswith("f:"):
            path = f"{prefix}.{key[2:]}" if prefix else key[2:]
        elif key.startswith("k:"):
            try:
                item = json.loads(key[2:])
                path = f"{prefix}[{','.join(f'{k}={v}' for k, v in item.items())}]"
            except ValueError:
                path = f"{prefix}[{key[2:]}]"
        else:
            path = f"{prefix}[{key[2:]}]"
        children = {k: v for k, v in (sub or {}).items() if k != "."}
        # A list element the manager added is named by its key; otherwise the owned children are named.
        if (key.startswith("k:") and "." in (sub or {})) or not children:
            paths.append(path)
        else:
            paths.extend(_field_paths(children, path))
    return paths

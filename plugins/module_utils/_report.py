# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run reports about an app, and whose an object is (pure functions)."""

from __future__ import annotations

from typing import Any

from . import _resource as res
from ._waiter import replicas_of, rollout_state

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
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


def describe_app(deployment: dict[str, Any], ingresses: list[dict[str, Any]]) -> dict[str, Any]:
    """What app_info shows of one app, read back from its objects."""
    meta = deployment.get("metadata") or {}
    labels = meta.get("labels") or {}
    containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or [{}]
    main = next((c for c in containers if c.get("name") == res.CONTAINER), containers[0])
    state, why = rollout_state(deployment)
    return {
        "name": labels.get(res.NAME_LABEL, meta.get("name")),
        "namespace": meta.get("namespace"),
        "image": main.get("image"),
        "version": labels.get(res.VERSION_LABEL),
        "replicas": replica_counts(deployment),
        "resources": main.get("resources") or {},
        "routes": routes_of(ingresses),
        "conditions": [{k: c.get(k) for k in ("type", "status", "reason", "message")}
                       for c in (deployment.get("status") or {}).get("conditions") or []],
        "revision": revision_of(deployment),
        "rollout": {"status": {"done": "succeeded", "failed": "failed"}.get(state, "progressing"), "message": why},
    }


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

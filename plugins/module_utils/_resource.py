# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure builders: a normalized app spec in, complete manifests out.

Every manifest is the whole object we own, because server-side apply removes
fields we owned and then left out. Nothing here sends nulls, empty lists or
empty maps, and lists come out in a stable order.
"""

from __future__ import annotations

import hashlib
from typing import Any

MANAGER = "skipper.platform"
RESTART_MANAGER = "skipper.platform-restart"
RESTART_ANNOTATION = "skipper.platform/restarted-at"
RESTART_ID_ANNOTATION = "skipper.platform/restart-id"
RESTART_ANNOTATIONS = (RESTART_ANNOTATION, RESTART_ID_ANNOTATION)
ROUTE_HOST_ANNOTATION = "skipper.platform/route-host"
# On an object an imperative module made (app_autoscale, cron): the app's inventory does not remove it.
DECLARED_BY_ANNOTATION = "skipper.platform/declared-by"
# On a Deployment, JSON {variable: "app.namespace"}: the links app_link added ...
LINKS_ANNOTATION = "skipper.platform/links"
# ... and those the app's inventory declares (two managers never claim one annotation).
DECLARED_LINKS_ANNOTATION = "skipper.platform/declared-links"
# On a Deployment, the kinds beside it the app has objects of ("Ingress,PersistentVolumeClaim"; "" for none): a
# no-op run lists only those and the declared ones. Without it (an app deployed before it was kept) all are listed.
OWNS_ANNOTATION = "skipper.platform/owns"
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
VERSION_LABEL = "app.kubernetes.io/version"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
COMPONENT_LABEL = "app.kubernetes.io/component"
FORMATION_LABEL = "skipper.platform/formation"
REVISION_HISTORY = 3
CONTAINER = "app"
PORT_NAME = "http"
TMP_VOLUME = "tmp"
VOLUME_PREFIX = "data-"  # pod volume names of the app's claims, apart from the /tmp emptyDir

# Fixed paths for the kinds we own: no discovery round-trips.
KINDS = {
    "Namespace": ("/api/v1", "namespaces", False),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "Service": ("/api/v1", "services", True),
    "Ingress": ("/apis/networking.k8s.io/v1", "ingresses", True),
    "Secret": ("/api/v1", "secrets", True),
    "Pod": ("/api/v1", "pods", True),
    "ReplicaSet": ("/apis/apps/v1", "replicasets", True),
    "Event": ("/api/v1", "events", True),
    "Lease": ("/apis/coordination.k8s.io/v1", "leases", True),
    "HorizontalPodAutoscaler": ("/apis/autoscaling/v2", "horizontalpodautoscalers", True),
    # Served by metrics-server (an aggregated API) where it is installed; read only.
    "PodMetrics": ("/apis/metrics.k8s.io/v1beta1", "pods", True),
    "ResourceQuota": ("/api/v1", "resourcequotas", True),
    "LimitRange": ("/api/v1", "limitranges", True),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims", True),
    "CronJob": ("/apis/batch/v1", "cronjobs", True),
    "Job": ("/apis/batch/v1", "jobs", True),
    # OpenShift's, or a cluster with its CRD installed.
    "Route": ("/apis/route.openshift.io/v1", "routes", True),
}
API_VERSIONS = {"Namespace": "v1", "Deployment": "apps/v1", "Service": "v1", "Ingress": "networking.k8s.io/v1",
                "Secret": "v1", "Pod": "v1", "Event": "v1", "ReplicaSet": "apps/v1",
                "Lease": "coordination.k8s.io/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
                "PodMetrics": "metrics.k8s.io/v1beta1", "ResourceQuota": "v1", "LimitRange": "v1", "ServiceAccount": "v1",
                "ConfigMap": "v1", "Role": "rbac.authorization.k8s.io/v1",
                "RoleBinding": "rbac.authorization.k8s.io/v1", "PersistentVolumeClaim": "v1",
                "CronJob": "batch/v1", "Job": "batch/v1", "Route": "route.openshift.io/v1"}


def collection_path(kind: str, namespace: str | None) -> str:
    prefix, plural, namespaced = KINDS[kind]
    if namespaced:
        return f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{prefix}/{plural}"


def object_path(kind: str, namespace: str | None, name: str, subresource: str | None = None) -> str:
    """The object's path, or one of its subresources' (``scale``, ``status``, ``log``, ``exec``)."""
    path = f"{collection_path(kind, namespace)}/{name}"
    return f"{path}/{subresource}" if subresource else path


def served_as(kind: str) -> str:
    """How the API serves a kind, for messages: ``networking.k8s.io/v1 ingresses``."""
    return f"{API_VERSIONS[kind]} {KINDS[kind][1]}"


def selector_labels(app: str) -> dict[str, str]:
    """Only what never changes: Deployment selectors are immutable."""
    return {NAME_LABEL: app, INSTANCE_LABEL: app}


def selector_string(app: str) -> str:
    return ",".join(f"{k}={v}" for k, v in selector_labels(app).items())


def app_labels(spec: dict[str, Any]) -> dict[str, str]:
    labels = dict(spec["labels"])
    labels.update(selector_labels(spec["name"]))
    labels[VERSION_LABEL] = spec["version"]
    labels[MANAGED_BY_LABEL] = MANAGER
    if spec.get("formation"):
        labels[FORMATION_LABEL] = spec["formation"]
    return dict(sorted(labels.items()))


def _meta(spec: dict[str, Any], namespace: str, name: str, **extra: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace, "labels": app_labels(spec)}
    meta.update({k: v for k, v in extra.items() if v})
    return meta


def _probe(spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("command"):
        probe: dict[str, Any] = {"exec": {"command": [str(c) for c in spec["command"]]}}
    else:
        probe = {"httpGet": {"path": spec["path"], "port": spec.get("port", PORT_NAME)}}
    for key, field in (("initial_delay", "initialDelaySeconds"), ("period", "periodSeconds"),
                       ("timeout", "timeoutSeconds"), ("failure_threshold", "failureThreshold")):
        if key in spec:
            probe[field] = spec[key]
    return probe


def app_secret_name(app: str) -> str:
    """The app's own Secret (``app_secret`` fills it); every pod reads it, if it exists, as environment."""
    return f"{app}-secrets"


def claim_name(app: str, volume: str) -> str:
    return f"{app}-{volume}"


def container_security(security: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": security["allow_privilege_escalation"],
        "privileged": security["privileged"],
        "readOnlyRootFilesystem": security["read_only_root_filesystem"],
        "runAsNonRoot": security["run_as_non_root"],
    }
    if not security["privileged"]:
        context["capabilities"] = {"drop": ["ALL"]}
    for key, field in (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup")):
        if security.get(key) is not None:
            context[field] = security[key]
    return dict(sorted(context.items()))


def pod_security(security: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if security.get("fs_group") is not None:
        context["fsGroup"] = security["fs_group"]
    return dict(sorted(context.items()))


def volume_mounts(spec: dict[str, Any]) -> list[dict[str, Any]]:
    mounts = [{"name": f"{VOLUME_PREFIX}{v['name']}", "mountPath": v["path"], **({"readOnly": True} if v["read_only"] else {})}
              for v in spec.get("volumes", [])]
    if (spec.get("security") or {}).get("writable_tmp"):
        mounts.append({"name": TMP_VOLUME, "mountPath": "/tmp"})
    return sorted(mounts, key=lambda m: m["mountPath"])


def pod_volumes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    volumes = [{"name": f"{VOLUME_PREFIX}{v['name']}",
                "persistentVolumeClaim": {"claimName": claim_name(spec["name"], v["name"])}}
               for v in spec.get("volumes", [])]
    if (spec.get("security") or {}).get("writable_tmp"):
        volumes.append({"name": TMP_VOLUME, "emptyDir": {}})
    return sorted(volumes, key=lambda v: v["name"])


def pod_spec(spec: dict[str, Any], app_container: dict[str, Any]) -> dict[str, Any]:
    """A pod spec around one container: the app's security context and volumes (also a cron job's pods)."""
    body: dict[str, Any] = {"containers": [app_container]}
    if spec.get("security"):
        body["securityContext"] = pod_security(spec["security"])
    volumes = pod_volumes(spec)
    if volumes:
        body["volumes"] = volumes
    return body


def container(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec["image"],
        "ports": [{"name": PORT_NAME, "containerPort": spec["port"], "protocol": "TCP"}],
    }
    # The app's own Secret, when app_secret made one; optional, so pods start without it.
    result["envFrom"] = [{"secretRef": {"name": app_secret_name(spec["name"]), "optional": True}}]
    env = [{"name": k, "value": v} for k, v in sorted(spec["env"].items())]
    env += [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": ref["secret"], "key": ref["key"]}}}
        for k, ref in sorted(spec["secrets"].items())
    ]
    if env:
        result["env"] = env
    resources: dict[str, dict[str, str]] = {}
    for resource, bounds in sorted(spec["resources"].items()):
        for bound, field in (("request", "requests"), ("limit", "limits")):
            if bound in bounds:
                resources.setdefault(field, {})[resource] = bounds[bound]
    if resources:
        result["resources"] = resources
    for kind in ("readiness", "liveness", "startup"):
        if kind in spec["probes"]:
            result[f"{kind}Probe"] = _probe(spec["probes"][kind])
    if spec.get("security"):
        result["securityContext"] = container_security(spec["security"])
    mounts = volume_mounts(spec)
    if mounts:
        result["volumeMounts"] = mounts
    return result


def deployment(spec: dict[str, Any], namespace: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "revisionHistoryLimit": REVISION_HISTORY,
        "selector": {"matchLabels": selector_labels(spec["name"])},
        "template": {
            "metadata": {"labels": app_labels(spec)},
            "spec": pod_spec(spec, container(spec)),
        },
    }
    if spec.get("replicas") is not None:
        body = {"replicas": spec["replicas"], **body}
    meta = _meta(spec, namespace, spec["name"], annotations=dict(sorted((spec.get("annotations") or {}).items())))
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": body}


def service(spec: dict[str, Any], namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, namespace, spec["name"]),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(spec["name"]),
            "ports": [{"name": PORT_NAME, "port": spec["port"], "targetPort": PORT_NAME, "protocol": "TCP"}],
        },
    }


def ingress_name(app: str, host: str) -> str:
    """Named after the host, not its place in the list, so reordering routes changes nothing.

    ``<app>--<host with dots as dashes>``: app names never hold ``--`` and
    such hosts no ``-``, so no two apps or hosts can meet on one name. Other
    hosts (dashes, a wildcard, or too long) keep a readable prefix and end
    with a hash of app and host.
    """
    readable = f"{app}--{host.replace('*', 'wildcard').replace('.', '-')}"
    if len(readable) <= 63 and "-" not in host and "*" not in host and "--" not in app:
        return readable
    digest = hashlib.sha256(f"{app}/{host}".encode()).hexdigest()[:10]
    return f"{readable[:52].rstrip('-')}-{digest}"


def ingresses(spec: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    by_host: dict[str, list[dict[str, Any]]] = {}
    for route in spec["routes"]:
        by_host.setdefault(route["host"], []).append(route)
    result = []
    for host in sorted(by_host):
        routes = sorted(by_host[host], key=lambda r: r["path"])
        name = ingress_name(spec["name"], host)
        tls = any(r["tls"] for r in routes)
        annotations = {ROUTE_HOST_ANNOTATION: host}
        if tls:
            annotations["cert-manager.io/cluster-issuer"] = next(r["issuer"] for r in routes if r["tls"])
        body: dict[str, Any] = {
            "rules": [{
                "host": host,
                "http": {"paths": [
                    {"path": r["path"], "pathType": "Prefix",
                     "backend": {"service": {"name": spec["name"], "port": {"name": PORT_NAME}}}}
                    for r in routes
                ]},
            }],
        }
        if tls:
            body = {"tls": [{"hosts": [host], "secretName": f"{name}-tls"}], **body}
        result.append({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta(spec, namespace, name, annotations=dict(sorted(annotations.items()))),
            "spec": body,
        })
    return result


def claims(spec: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """The app's PersistentVolumeClaims. Their size can grow later; class and access mode are fixed."""
    result = []
    for volume in spec.get("volumes", []):
        body: dict[str, Any] = {"accessModes": [volume["access_mode"]],
                                "resources": {"requests": {"storage": volume["size"]}}}
        if volume["storage_class"] is not None:
            body["storageClassName"] = volume["storage_class"]
        meta = _meta(spec, namespace, claim_name(spec["name"], volume["name"]))
        # The version label would change on every release; a claim outlives them.
        meta["labels"] = {k: v for k, v in meta["labels"].items() if k != VERSION_LABEL}
        result.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": body})
    return result


def app_manifests(spec: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """Every object the app declares, claims first (the pods mount them)."""
    return [*claims(spec, namespace), deployment(spec, namespace), service(spec, namespace),
            *ingresses(spec, namespace)]


def namespace_manifest(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGER}}}


def restart_patch(name: str, namespace: str, when: str, restart_id: str | None = None) -> dict[str, Any]:
    """The restart manager's whole claim: a stamp, or the id of the restart asked for."""
    annotation = {RESTART_ID_ANNOTATION: restart_id} if restart_id is not None else {RESTART_ANNOTATION: when}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"metadata": {"annotations": annotation}}},
    }


def urls(spec_routes: list[dict[str, Any]]) -> list[str]:
    return [f"{'https' if r['tls'] else 'http'}://{r['host']}{r['path']}" for r in spec_routes]

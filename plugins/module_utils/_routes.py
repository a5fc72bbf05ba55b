# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route groups: one host, several path prefixes, each to an app (pure functions).

A group becomes one object per path, an Ingress or an OpenShift Route, named
after the group and the path (``shop.path.api``; the root is ``shop.path``).
One object per path because a Route holds a single path, and because prefix
stripping is set per Ingress (by annotation), so a stripped and an unstripped
path cannot share one. Every object carries the managed-by label and
``skipper.platform/route-group: <group>``, and no app name label, so no
app's own run ever counts a group's object as its own.

The dots in those names keep them apart from an app's own Ingresses
(``<app>--<host>``, never a dot), and an object of the same name that is not
this group's is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import _resource as res
from ._errors import ValidationError
from ._spec import DNS1035, DNS1123_LABEL, HOSTNAME

GROUP_LABEL = "skipper.platform/route-group"
COMPONENT = "route-group"
# The path as the user gave it, beside a rewritten (regex) one.
ROUTE_PATH_ANNOTATION = "skipper.platform/route-path"
CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
# cert-manager's openshift-routes add-on reads these on a Route.
ROUTE_ISSUER_KIND_ANNOTATION = "cert-manager.io/issuer-kind"
ROUTE_ISSUER_NAME_ANNOTATION = "cert-manager.io/issuer-name"
NGINX_REWRITE_ANNOTATION = "nginx.ingress.kubernetes.io/rewrite-target"
NGINX_REGEX_ANNOTATION = "nginx.ingress.kubernetes.io/use-regex"
TRAEFIK_MIDDLEWARES_ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares"
OPENSHIFT_REWRITE_ANNOTATION = "haproxy.router.openshift.io/rewrite-target"
GROUP_KEYS = ("path", "app", "strip_prefix")
KINDS = ("Ingress", "Route")
CONTROLLERS = ("nginx", "traefik")
GROUP_NAME_MAX = 50
NAME_MAX = 253
# Characters a path may hold (RFC 3986 path characters, no query or fragment).
PATH_CHARS = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")


def default_host(app: str, env: str | None, domain: str, production: bool) -> str:
    """``<app>.<env>.<domain>``, or ``<app>.<domain>`` in production (and when there is no environment)."""
    if not domain:
        raise ValidationError(f"app {app}: host: no host given and no domain to make one from (set domain)",
                              app=app, field="host")
    if production or not env:
        return f"{app}.{domain}"
    return f"{app}.{env}.{domain}"


def normal_path(path: str) -> str:
    """``/api/`` and ``/api`` are one prefix: compare and name them without the trailing slash."""
    return path.rstrip("/") or "/"


def conflicts(claims: Iterable[tuple[str, str, str]]) -> list[str]:
    """One message for each host and path that two owners claim.

    ``claims`` holds ``(host, path, owner)`` with ``owner`` as a message
    names it (``app web``, ``route group shop``). The same owner claiming a
    host and path twice is no conflict.
    """
    owners: dict[tuple[str, str], list[str]] = {}
    for host, path, owner in claims:
        key = (host.lower(), normal_path(path))
        if owner not in owners.setdefault(key, []):
            owners[key].append(owner)
    return [f"{host}{path} is claimed by {' and '.join(sorted(names))}"
            for (host, path), names in sorted(owners.items()) if len(names) > 1]


def _fail(group: str, field: str, reason: str) -> ValidationError:
    return ValidationError(f"route {group}: {field}: {reason}", field=field)


def check_group_name(name: Any) -> str:
    if not isinstance(name, str) or len(name) > GROUP_NAME_MAX or not DNS1035.match(name):
        raise ValidationError(f"route {name}: name: must be a DNS-1035 label of at most {GROUP_NAME_MAX} characters "
                              "(lower-case letters, digits and '-', starting with a letter)", field="name")
    return name


def check_group(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a route group; return ``{name, host, kind, tls, issuer, ingress_class, controller, paths}``."""
    name = check_group_name(params.get("name"))
    host = params.get("hostname")
    if not host:
        domain = params.get("domain")
        if not domain:
            raise _fail(name, "hostname", "give hostname, or domain (with environment and production) to make one from")
        host = default_host(name, params.get("environment"), str(domain), bool(params.get("production")))
    host = str(host).strip().lower()
    if len(host) > 253 or not HOSTNAME.match(host):
        raise _fail(name, "hostname", f"{host!r} is not a hostname")
    kind = params.get("kind") or "Ingress"
    if kind not in KINDS:
        raise _fail(name, "kind", f"{kind!r} must be one of {', '.join(KINDS)}")
    controller = params.get("controller") or "nginx"
    if controller not in CONTROLLERS:
        raise _fail(name, "controller", f"{controller!r} must be one of {', '.join(CONTROLLERS)}")
    ingress_class = params.get("ingress_class")
    if ingress_class is not None:
        if kind == "Route":
            raise _fail(name, "ingress_class", "an OpenShift Route has no ingress class; leave it out with kind: Route")
        if not DNS1123_LABEL.match(str(ingress_class)) or len(str(ingress_class)) > 63:
            raise _fail(name, "ingress_class", f"{ingress_class!r} is not an IngressClass name")
    tls = bool(params.get("tls", False))
    issuer = params.get("issuer")
    if tls and not issuer:
        raise _fail(name, "issuer", "TLS needs a cert-manager ClusterIssuer")
    paths = params.get("paths")
    if not isinstance(paths, list) or not paths:
        raise _fail(name, "paths", "give at least one {path, app}")
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(paths):
        field = f"paths[{index}]"
        if not isinstance(entry, Mapping):
            raise _fail(name, field, "must be a mapping such as {path: /api, app: api}")
        unknown = sorted(str(k) for k in set(entry) - set(GROUP_KEYS))
        if unknown:
            raise _fail(name, field, f"unknown keys: {', '.join(unknown)} (known: {', '.join(GROUP_KEYS)})")
        path = entry.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise _fail(name, f"{field}.path", f"{path!r} must start with / (for example /api)")
        if not PATH_CHARS.match(path) or "//" in path:
            raise _fail(name, f"{field}.path", f"{path!r} is not a URL path prefix (no spaces, query, fragment or //)")
        path = normal_path(path)
        if path in seen:
            raise _fail(name, f"{field}.path", f"{path} is already routed by paths[{seen[path]}]")
        seen[path] = index
        app = entry.get("app")
        if not isinstance(app, str) or len(app) > 50 or not DNS1035.match(app):
            raise _fail(name, f"{field}.app", f"{app!r} is not an app name")
        strip = entry.get("strip_prefix", False)
        if not isinstance(strip, bool):
            raise _fail(name, f"{field}.strip_prefix", f"{strip!r} must be true or false")
        if strip and path == "/":
            raise _fail(name, f"{field}.strip_prefix", "the root path has no prefix to strip")
        out.append({"path": path, "app": app, "strip_prefix": strip, "index": index})
    return {"name": name, "host": host, "kind": kind, "tls": tls, "issuer": issuer if tls else None,
            "ingress_class": ingress_class, "controller": controller,
            "paths": sorted(out, key=lambda p: p["path"])}


def object_name(group: str, path: str) -> str:
    """``<group>.path`` for ``/``, ``<group>.path.api.v1`` for ``/api/v1``.

    Paths whose segments are not all DNS labels (upper case, dots, other
    characters) or that would make a name too long end in a hash instead:
    ``<group>.path-<hash>``. Both forms are one-to-one with the path.
    """
    segments = [s for s in path.split("/") if s]
    readable = ".".join([group, "path", *segments])
    if all(DNS1123_LABEL.match(s) and len(s) <= 63 for s in segments) and len(readable) <= NAME_MAX:
        return readable
    return f"{group}.path-{hashlib.sha256(path.encode()).hexdigest()[:12]}"


def strip_middleware(group: str) -> str:
    """The Traefik Middleware (StripPrefix) the group's stripped paths name: the user creates it."""
    return f"{group}-strip-prefix"


def group_labels(group: str) -> dict[str, str]:
    return {res.COMPONENT_LABEL: COMPONENT, res.MANAGED_BY_LABEL: res.MANAGER, GROUP_LABEL: group}


def group_selector(group: str | None = None) -> str:
    return f"{res.MANAGED_BY_LABEL}={res.MANAGER}" + (f",{GROUP_LABEL}={group}" if group else "")


def tls_secret(group: str) -> str:
    return f"{group}-tls"


def urls(group: Mapping[str, Any]) -> list[str]:
    scheme = "https" if group["tls"] else "http"
    return [f"{scheme}://{group['host']}{p['path']}" for p in group["paths"]]


def _ingress(group: Mapping[str, Any], namespace: str, entry: Mapping[str, Any], first: bool) -> dict[str, Any]:
    name = object_name(group["name"], entry["path"])
    annotations = {res.ROUTE_HOST_ANNOTATION: group["host"], ROUTE_PATH_ANNOTATION: entry["path"]}
    path: dict[str, Any] = {"path": entry["path"], "pathType": "Prefix"}
    if entry["strip_prefix"] and group["controller"] == "nginx":
        # /api/x reaches the app as /x; /api alone as /.
        path = {"path": f"{re.escape(entry['path'])}(/|$)(.*)", "pathType": "ImplementationSpecific"}
        annotations[NGINX_REGEX_ANNOTATION] = "true"
        annotations[NGINX_REWRITE_ANNOTATION] = "/$2"
    elif entry["strip_prefix"]:
        annotations[TRAEFIK_MIDDLEWARES_ANNOTATION] = f"{namespace}-{strip_middleware(group['name'])}@kubernetescrd"
    if group["tls"] and first:
        # One Certificate per group: the first path's Ingress asks for it, every one serves it.
        annotations[CLUSTER_ISSUER_ANNOTATION] = group["issuer"]
    path["backend"] = {"service": {"name": entry["app"], "port": {"name": res.PORT_NAME}}}
    spec: dict[str, Any] = {}
    if group["ingress_class"]:
        spec["ingressClassName"] = group["ingress_class"]
    if group["tls"]:
        spec["tls"] = [{"hosts": [group["host"]], "secretName": tls_secret(group["name"])}]
    spec["rules"] = [{"host": group["host"], "http": {"paths": [path]}}]
    return {"apiVersion": res.API_VERSIONS["Ingress"], "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace, "labels": group_labels(group["name"]),
                         "annotations": dict(sorted(annotations.items()))},
            "spec": spec}


def _route(group: Mapping[str, Any], namespace: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    name = object_name(group["name"], entry["path"])
    annotations = {res.ROUTE_HOST_ANNOTATION: group["host"], ROUTE_PATH_ANNOTATION: entry["path"]}
    if entry["strip_prefix"]:
        annotations[OPENSHIFT_REWRITE_ANNOTATION] = "/"
    spec: dict[str, Any] = {"host": group["host"]}
    if entry["path"] != "/":
        spec["path"] = entry["path"]
    spec["to"] = {"kind": "Service", "name": entry["app"], "weight": 100}
    spec["port"] = {"targetPort": res.PORT_NAME}
    if group["tls"]:
        spec["tls"] = {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
        annotations[ROUTE_ISSUER_KIND_ANNOTATION] = "ClusterIssuer"
        annotations[ROUTE_ISSUER_NAME_ANNOTATION] = group["issuer"]
    spec["wildcardPolicy"] = "None"
    return {"apiVersion": res.API_VERSIONS["Route"], "kind": "Route",
            "metadata": {"name": name, "namespace": namespace, "labels": group_labels(group["name"]),
                         "annotations": dict(sorted(annotations.items()))},
            "spec": spec}


def manifests(group: Mapping[str, Any], namespace: str) -> list[dict[str, Any]]:
    """The group's objects, one per path, in path order."""
    if group["kind"] == "Route":
        return [_route(group, namespace, entry) for entry in group["paths"]]
    return [_ingress(group, namespace, entry, index == 0) for index, entry in enumerate(group["paths"])]


def owner_name(obj: Mapping[str, Any]) -> str:
    """Who claims an object's host and path, as a message says it."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(GROUP_LABEL):
        return f"route group {labels[GROUP_LABEL]}"
    if labels.get(res.NAME_LABEL):
        return f"app {labels[res.NAME_LABEL]}"
    return f"{obj.get('kind')} {(obj.get('metadata') or {}).get('name')}"


def claims_of(objects: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """``(host, path, owner)`` for every host and path that Ingresses or Routes serve."""
    out = []
    for obj in objects:
        owner = owner_name(obj)
        meta = obj.get("metadata") or {}
        shown = (meta.get("annotations") or {}).get(ROUTE_PATH_ANNOTATION)
        spec = obj.get("spec") or {}
        if obj.get("kind") == "Route":
            if spec.get("host"):
                out.append((spec["host"], shown or spec.get("path") or "/", owner))
            continue
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                out.append((rule.get("host") or "*", shown or path.get("path") or "/", owner))
    return out


def group_claims(group: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [(group["host"], p["path"], f"route group {group['name']}") for p in group["paths"]]

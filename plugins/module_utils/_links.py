# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Links: app A gets ``<B>_URL``, the address of app B, inside or outside the cluster.

A link is an environment variable of A's container ``app`` plus a record on
A's Deployment (an annotation holding JSON ``{"B_URL": "b.shop-prod"}``), so
an unlink removes exactly the variables a link added, and the removal of B
can find every app that links to it.

The day-2 module ``app_link`` writes its variables and its record as a
server-side apply of a partial Deployment under a field manager of its own
(``skipper.platform-link``). The container's ``env`` list is keyed by name,
so the full apply of ``app`` (manager ``skipper.platform``), which does not
send those variables, leaves them alone, and the link manager's next apply,
which leaves one out, removes exactly that one. ``app``'s declared links
carry their record in an annotation of their own (``DECLARED_ANNOTATION``):
two managers never claim one annotation.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _resource as res
from ._diff import compare
from ._errors import ApiError, SkipperError, ValidationError
from ._report import link_record
from ._routes import ROUTE_PATH_ANNOTATION
from ._service import UNAVAILABLE, Service
from ._spec import DNS1035, DNS1123_LABEL

if TYPE_CHECKING:  # pragma: no cover
    from ._app import Plan

LINK_MANAGER = "skipper.platform-link"
# Written by app_link under LINK_MANAGER.
LINKS_ANNOTATION = res.LINKS_ANNOTATION
# For the links an app declares (``app``'s ``links:``), written by the app's own full apply.
DECLARED_ANNOTATION = res.DECLARED_LINKS_ANNOTATION
RECORD_ANNOTATIONS = (LINKS_ANNOTATION, DECLARED_ANNOTATION)
LINK_KEYS = ("app", "namespace", "public", "name")
# A variable a shell can read: a URL variable has no reason to be anything else.
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CLUSTER_DOMAIN = "svc.cluster.local"


def env_name(target: str, custom: str | None = None) -> str:
    """``B_URL`` for app ``b``: upper-cased, dashes to underscores; a custom name as given."""
    if custom:
        return custom
    return f"{target.upper().replace('-', '_')}_URL"


def _fail(app: str, field: str, reason: str) -> ValidationError:
    return ValidationError(f"app {app}: {field}: {reason}", app=app, field=field)


def check_links(app: str, links: Any, namespace: str | None = None) -> list[dict[str, Any]]:
    """Validate an app's links: ``[{app, namespace?, public?, name?}]`` in, normalized out.

    Each entry comes out as ``{app, namespace, public, name}`` with
    ``namespace`` None for the app's own namespace and ``name`` the variable
    (``B_URL`` unless a custom name is given). ``namespace`` is the linking
    app's namespace, when known: a link to the same app there is a link to
    itself.
    """
    if links is None:
        return []
    if not isinstance(links, list):
        raise _fail(app, "links", "must be a list such as [{app: api}, {app: search, public: true}]")
    out: list[dict[str, Any]] = []
    seen_vars: dict[str, int] = {}
    seen_targets: dict[tuple[str, str | None, bool], int] = {}
    for index, link in enumerate(links):
        field = f"links[{index}]"
        if isinstance(link, str):
            link = {"app": link}
        if not isinstance(link, Mapping) or not link.get("app"):
            raise _fail(app, f"{field}.app", "each link needs the app it links to, such as {app: api}")
        unknown = sorted(str(k) for k in set(link) - set(LINK_KEYS))
        if unknown:
            raise _fail(app, field, f"unknown keys: {', '.join(unknown)} (known: {', '.join(LINK_KEYS)})")
        target = str(link["app"])
        if len(target) > 50 or not DNS1035.match(target):
            raise _fail(app, f"{field}.app", f"{target!r} is not an app name (a DNS-1035 label of at most 50 characters)")
        target_ns = link.get("namespace")
        if target_ns is not None:
            target_ns = str(target_ns)
            if len(target_ns) > 63 or not DNS1123_LABEL.match(target_ns):
                raise _fail(app, f"{field}.namespace", f"{target_ns!r} is not a namespace name")
        if target == app and (target_ns is None or target_ns == namespace):
            raise _fail(app, f"{field}.app", "an app cannot link to itself")
        public = link.get("public", False)
        if not isinstance(public, bool):
            raise _fail(app, f"{field}.public", f"{public!r} must be true or false")
        custom = link.get("name")
        if custom is not None and (not isinstance(custom, str) or not VAR_NAME.match(custom)):
            raise _fail(app, f"{field}.name", f"{custom!r} is not a variable name (letters, digits and _, not "
                        "starting with a digit)")
        var = env_name(target, custom)
        if var in seen_vars:
            raise _fail(app, f"{field}.name", f"{var} is already set by links[{seen_vars[var]}]; give one of them "
                        "another name")
        key = (target, None if target_ns == namespace else target_ns, public)
        if key in seen_targets:
            raise _fail(app, f"{field}.app", f"the same link as links[{seen_targets[key]}]")
        seen_vars[var] = index
        seen_targets[key] = index
        out.append({"app": target, "namespace": target_ns, "public": public, "name": var})
    return out


def target_ref(target: str, namespace: str) -> str:
    """How a record names the app linked to: ``b.shop-prod``."""
    return f"{target}.{namespace}"


def internal_url(target: str, namespace: str, port: int) -> str:
    return f"http://{target}.{namespace}.{CLUSTER_DOMAIN}:{port}"


def service_port(service: Mapping[str, Any]) -> int | None:
    """The Service's ``http`` port (the one skipper.platform names), else its first."""
    ports = (service.get("spec") or {}).get("ports") or []
    chosen = next((p for p in ports if p.get("name") == res.PORT_NAME), ports[0] if ports else None)
    return int(chosen["port"]) if chosen and chosen.get("port") else None


def public_urls(target: str, ingresses: list[dict[str, Any]], routes: list[dict[str, Any]] | None = None) -> list[str]:
    """The public URLs that lead to app ``target``, best first.

    From every Ingress rule whose backend is the app's Service (its own
    Ingresses and route groups' alike) and every OpenShift Route to it: its
    own first, then HTTPS first, then the shortest path. The root path gives
    the bare origin, ``https://shop.example.com``.
    """
    found: list[tuple[tuple[bool, bool, int, str, str], str]] = []
    for ing in ingresses:
        meta = ing.get("metadata") or {}
        own = (meta.get("labels") or {}).get(res.NAME_LABEL) == target
        spec = ing.get("spec") or {}
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        shown_path = (meta.get("annotations") or {}).get(ROUTE_PATH_ANNOTATION)
        for rule in spec.get("rules") or []:
            host = rule.get("host")
            if not host:
                continue
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = ((path.get("backend") or {}).get("service") or {}).get("name")
                if backend != target:
                    continue
                where = shown_path or path.get("path") or "/"
                found.append(((not own, host not in tls_hosts, len(where), host, where),
                              _url(host in tls_hosts, host, where)))
    for route in routes or []:
        spec = route.get("spec") or {}
        if (spec.get("to") or {}).get("name") != target or not spec.get("host"):
            continue
        where = spec.get("path") or "/"
        tls = bool(spec.get("tls"))
        found.append(((True, not tls, len(where), spec["host"], where), _url(tls, spec["host"], where)))
    return [url for _key, url in sorted(found)]


def public_url(routes: Iterable[Mapping[str, Any]]) -> str | None:
    """The URL a public link gives for an app's declared routes (``{host, path, tls}``), None without routes.

    The same choice and form as ``public_urls`` makes from live objects:
    HTTPS first, then the shortest path; the root path as the bare origin.
    """
    ranked = sorted(((not r.get("tls"), len(r.get("path") or "/"), r["host"], r.get("path") or "/"),
                     _url(bool(r.get("tls")), r["host"], r.get("path") or "/")) for r in routes)
    return ranked[0][1] if ranked else None


def _url(tls: bool, host: str, path: str) -> str:
    return f"{'https' if tls else 'http'}://{host}{'' if path == '/' else path}"


def resolve(svc: Service, namespace: str, links: list[dict[str, Any]], app: str | None = None,
            known: Mapping[str, dict[str, Any]] | None = None) -> dict[str, str]:
    """Variable -> URL for each normalized link of an app in ``namespace`` (reads only).

    One Service read per link, unless ``known`` (Services of ``namespace``
    the caller read already, by name) has it; for public links, one Ingress list per target
    namespace, and a Route list only when no Ingress leads to the app. A
    missing target app, or a public link to an app without routes, is a
    ValidationError naming the link: ``links[<index>]``, the link's own
    ``index`` key when it has one, else its place in ``links``.
    """
    who = f"app {app}" if app else f"namespace {namespace}"
    ingresses: dict[str, list[dict[str, Any]]] = {}
    urls: dict[str, str] = {}
    for position, link in enumerate(links):
        # A caller resolving some of an app's links gives each its place in the whole list.
        index = link.get("index", position)
        target, target_ns = link["app"], link.get("namespace") or namespace
        field = f"links[{index}].app"
        if known is not None and target_ns == namespace and target in known:
            service: dict[str, Any] | None = known[target]
        else:
            service = _read_for_link(functools.partial(svc.get, "Service", target_ns, target), who, field, link["name"],
                                     "get", "services", target_ns)
        if service is None:
            raise ValidationError(f"{who}: {field}: cannot link {link['name']} to app {target}: it was not found in "
                                  f"namespace {target_ns} (no Service {target_ns}/{target}); deploy it first",
                                  app=app, field=field)
        if not link.get("public"):
            port = service_port(service)
            if port is None:
                raise ValidationError(f"{who}: {field}: Service {target_ns}/{target} has no port to link to",
                                      app=app, field=field)
            urls[link["name"]] = internal_url(target, target_ns, port)
            continue
        if target_ns not in ingresses:
            ingresses[target_ns] = _read_for_link(
                functools.partial(svc.list, "Ingress", target_ns, f"{res.MANAGED_BY_LABEL}={res.MANAGER}"), who,
                f"links[{index}].public", link["name"], "list", "ingresses", target_ns)
        found = public_urls(target, ingresses[target_ns])
        if not found:
            routes, _why = svc.list_optional("Route", target_ns, f"{res.MANAGED_BY_LABEL}={res.MANAGER}")
            found = public_urls(target, [], routes or [])
        if not found:
            raise ValidationError(f"{who}: links[{index}].public: cannot link {link['name']} publicly to app {target} in namespace "
                                  f"{target_ns}: it has no route; give it a route or link without public: true",
                                  app=app, field=f"links[{index}].public")
        urls[link["name"]] = found[0]
    return urls


def _read_for_link(read: Any, who: str, field: str, variable: str, verb: str, resource: str, namespace: str) -> Any:
    """A read a link needs; refused by RBAC, the error names the link and the right to grant."""
    try:
        return read()
    except ApiError as exc:
        if exc.status != 403:
            raise
        raise ApiError(f"{who}: {field}: cannot resolve link {variable}: {exc.message}; the credentials need "
                       f"{verb} on {resource} in namespace {namespace} to link there", status=403,
                       reason=exc.reason) from None


def recorded(deployment: Mapping[str, Any] | None, annotation: str = LINKS_ANNOTATION) -> dict[str, str]:
    """A Deployment's record of links, variable -> ``app.namespace``; an unreadable record counts as none."""
    return link_record(deployment, annotation)


def record(entries: Mapping[str, str]) -> str:
    """The annotation's value: compact JSON in name order, so equal records are equal strings."""
    return json.dumps(dict(sorted(entries.items())), separators=(",", ":"))


def container_env(deployment: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The ``app`` container's env entries by name."""
    containers = ((((deployment or {}).get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    main = next((c for c in containers if c.get("name") == res.CONTAINER), None)
    return {e["name"]: e for e in (main or {}).get("env") or [] if e.get("name")}


def declared_annotations(namespace: str, links: list[dict[str, Any]]) -> dict[str, str]:
    """The record of an app's declared links, for its own full apply (never the link manager's annotation)."""
    if not links:
        return {}
    return {DECLARED_ANNOTATION: record({link["name"]: target_ref(link["app"], link.get("namespace") or namespace)
                                         for link in links})}


def claim(deployment: Mapping[str, Any], add: Mapping[str, tuple[str, str]] | None = None,
          remove: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """The link manager's next apply on a Deployment: what it holds, plus ``add``, less ``remove``.

    ``add`` maps a variable to (URL, ``app.namespace``). Returns the patch and
    the variables it leaves set, by name. Every link the manager holds is sent
    again, because a variable left out of its apply is removed.
    """
    meta = deployment.get("metadata") or {}
    env = container_env(deployment)
    held = recorded(deployment)
    gone = set(remove)
    values = {var: env[var]["value"] for var in held if var not in gone and "value" in env.get(var, {})}
    targets = {var: held[var] for var in values}
    for var, (url, ref) in (add or {}).items():
        values[var], targets[var] = url, ref
    return link_patch(meta["name"], meta["namespace"], values, targets), dict(sorted(values.items()))


def plan_unlink(svc: Service, plan: Plan, namespace: str, app: str, var: str | Iterable[str]) -> None:
    """Plan the removal of the variable(s) ``var`` that app_link gave app ``app``; reads and one dry run.

    Give all of one app's variables in one call: each call builds the link
    manager's whole claim from the Deployment as read. A declared link
    (``app``'s ``links:``) is not removed here but named in a note: the
    inventory that declares it would put it back.
    """
    wanted = [var] if isinstance(var, str) else list(var)
    live = svc.get("Deployment", namespace, app)
    if live is None:
        return
    declared = recorded(live, DECLARED_ANNOTATION)
    for name in wanted:
        if name in declared:
            plan.note(f"app {plan.name}: app {namespace}/{app} declares a link to it ({name}): remove it from that "
                      "app's links")
    held = [name for name in wanted if name in recorded(live)]
    if not held:
        return
    patch, _values = claim(live, remove=held)
    predicted = svc.apply(patch, dry_run=True, manager=LINK_MANAGER)
    changed, before, after = compare(live, predicted, patch)
    if changed:
        plan.record("Deployment", namespace, app, "updated", before, after)
        plan.writes.append(functools.partial(svc.apply, patch, dry_run=False, manager=LINK_MANAGER))


def link_patch(name: str, namespace: str, values: Mapping[str, str], targets: Mapping[str, str]) -> dict[str, Any]:
    """The link manager's whole claim on Deployment ``name``: every linked variable and the record.

    ``values`` maps each variable to its URL, ``targets`` each to
    ``app.namespace``. Without links, the claim is empty: the apply then
    gives up every field the manager held.
    """
    manifest: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment",
                                "metadata": {"name": name, "namespace": namespace}}
    if values:
        manifest["metadata"]["annotations"] = {LINKS_ANNOTATION: record(targets)}
        manifest["spec"] = {"template": {"spec": {"containers": [{
            "name": res.CONTAINER,
            "env": [{"name": var, "value": values[var]} for var in sorted(values)],
        }]}}}
    return manifest


def _everywhere(svc: Service, selector: str) -> list[dict[str, Any]] | None:
    """skipper.platform's Deployments in every namespace, or None when the credentials may not list them."""
    request = getattr(svc.client, "request", None)
    if request is None:
        return None
    prefix, plural, _namespaced = res.KINDS["Deployment"]
    try:
        doc = request("GET", f"{prefix}/{plural}", {"labelSelector": selector})
    except ApiError as exc:
        if exc.status in UNAVAILABLE:
            return None
        raise ApiError(f"Failed to list Deployment objects in all namespaces: {exc.message}", status=exc.status,
                       reason=exc.reason) from None
    except SkipperError as exc:
        raise type(exc)(f"Failed to list Deployment objects in all namespaces: {exc.message}") from None
    return list((doc or {}).get("items") or [])


def linked_from(svc: Service, namespace: str | None, target: str, target_namespace: str) -> list[tuple[str, str, str]]:
    """``(namespace, app, variable)`` for each app that links to app ``target`` of ``target_namespace``.

    Reads the records (app_link's and declared links') on skipper.platform's
    Deployments in ``namespace``, or in every namespace when it is None: one
    list request. Credentials that may not list Deployments across
    namespaces get the target's own namespace instead.
    """
    selector = f"{res.MANAGED_BY_LABEL}={res.MANAGER}"
    deployments = _everywhere(svc, selector) if namespace is None else None
    if deployments is None:
        deployments = svc.list("Deployment", namespace or target_namespace, selector)
    wanted = target_ref(target, target_namespace)
    found = []
    for deployment in deployments:
        meta = deployment.get("metadata") or {}
        app = (meta.get("labels") or {}).get(res.NAME_LABEL) or meta.get("name", "")
        for annotation in RECORD_ANNOTATIONS:
            for var, ref in recorded(deployment, annotation).items():
                if ref == wanted:
                    found.append((str(meta.get("namespace", "")), str(app), var))
    return sorted(set(found))

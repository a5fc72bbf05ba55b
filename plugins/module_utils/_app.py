# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app runner: converge one app and return the result dict.

A real run is the check-mode run plus writes. Every object is dry-run first
(server-side apply, dryRun=All); if any dry run fails nothing is written.
Then only the objects whose dry-run result differs from the live object are
applied. ``changed`` and ``diff`` come from ``_diff.compare`` on those same
two objects, in check mode and in the real run alike.
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable
from typing import Any

from . import _resource as res
from ._diff import compare
from ._errors import ApiError, RolloutError, SkipperError, ValidationError
from ._service import Service, describe
from ._spec import check_name, check_namespace, normalize_app
from ._waiter import replicas_of, rollout_state, stuck_pods, wait_until


class Plan:
    """What one run will do to each object, and what it showed."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.diffs: list[dict[str, Any]] = []
        self.writes: list[Callable[[], Any]] = []
        self.writes_done = 0
        self.changed = False

    def record(self, kind: str, namespace: str | None, name: str, action: str,
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        self.objects.append({"kind": kind, "namespace": namespace, "name": name, "action": action})
        if action != "unchanged":
            self.changed = True
            header = describe(kind, namespace, name)
            self.diffs.append({"before_header": header, "after_header": header,
                               "before": before or {}, "after": after or {}})

    def execute(self) -> list[Any]:
        """Run the planned writes in order and return their results."""
        results = []
        for write in self.writes:
            try:
                results.append(write())
            except SkipperError as exc:
                raise self.failed(exc) from None
            self.writes_done += 1
        return results

    def failed(self, exc: SkipperError) -> SkipperError:
        """A failure after a write still says what changed."""
        exc.details.update(changed=self.writes_done > 0, objects=self.objects, diff=self.diffs)
        return exc


def _owned_selector(app: str | None = None) -> str:
    """Objects skipper.platform made, for one app or for all."""
    return f"{res.MANAGED_BY_LABEL}={res.MANAGER}" + (f",{res.NAME_LABEL}={app}" if app else "")


def _check_secret_refs(svc: Service, spec: dict[str, Any], namespace: str, namespace_exists: bool) -> None:
    by_secret: dict[str, list[tuple[str, str]]] = {}
    for var, ref in sorted(spec["secrets"].items()):
        by_secret.setdefault(ref["secret"], []).append((var, ref["key"]))
    for secret_name, refs in by_secret.items():
        secret = svc.get("Secret", namespace, secret_name) if namespace_exists else None
        if secret is None:
            var = refs[0][0]
            raise ValidationError(
                f"app {spec['name']}: secrets.{var}: Secret {secret_name} not found in namespace {namespace}",
                app=spec["name"], field=f"secrets.{var}",
            )
        # Only the key names are kept; values are dropped here and never logged.
        keys = set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())
        del secret
        for var, key in refs:
            if key not in keys:
                raise ValidationError(
                    f"app {spec['name']}: secrets.{var}: Secret {namespace}/{secret_name} has no key {key!r}",
                    app=spec["name"], field=f"secrets.{var}",
                )


def _namespace_state(svc: Service, namespace: str, create: bool, plan: Plan) -> bool:
    """True when the namespace exists now; plans its creation when allowed."""
    try:
        if svc.get("Namespace", None, namespace) is not None:
            return True
    except ApiError as exc:
        if exc.status == 403:
            # Namespace-scoped credentials (AWX, CI) may not read namespaces:
            # the dry runs that follow will say if it is missing.
            return True
        raise
    if not create:
        raise ValidationError(
            f"namespace {namespace} not found: create it first or set create_namespace: true",
            field="namespace",
        )
    manifest = res.namespace_manifest(namespace)
    plan.record("Namespace", None, namespace, "created", {}, compare(None, manifest, manifest)[2])
    return False


def _refuse_foreign(obj: dict[str, Any], app: str, what: str) -> None:
    """Never take over or delete what another app or tool made under the same name."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(res.MANAGED_BY_LABEL) != res.MANAGER or labels.get(res.NAME_LABEL) != app:
        owner = labels.get(res.MANAGED_BY_LABEL) or "no app.kubernetes.io/managed-by label"
        raise ValidationError(
            f"app {app}: {what} {obj['metadata'].get('namespace')}/{obj['metadata']['name']} exists but is not this "
            f"app's (managed by {owner}, app {labels.get(res.NAME_LABEL, '?')}); leaving it alone",
            app=app, field="name")


def converge_app(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    spec = normalize_app(params)
    namespace = check_namespace(params["namespace"])
    plan = Plan()
    manifests = res.app_manifests(spec, namespace)
    deployment_live = svc.get("Deployment", namespace, spec["name"])
    # A Deployment found proves the namespace exists, without reading it.
    namespace_exists = deployment_live is not None or _namespace_state(
        svc, namespace, params.get("create_namespace", False), plan)
    service_live = svc.get("Service", namespace, spec["name"]) if namespace_exists else None
    _check_secret_refs(svc, spec, namespace, namespace_exists)
    ingress_live = {i["metadata"]["name"]: i for i in
                    (svc.list("Ingress", namespace, _owned_selector(spec["name"])) if namespace_exists else [])}
    live = {("Deployment", spec["name"]): deployment_live, ("Service", spec["name"]): service_live}
    live.update({("Ingress", name): obj for name, obj in ingress_live.items()})
    for manifest in manifests:
        if manifest["kind"] == "Ingress" and manifest["metadata"]["name"] not in ingress_live and namespace_exists:
            # Only when a route's Ingress is new: one read, not on the no-op path.
            other = svc.get("Ingress", namespace, manifest["metadata"]["name"])
            if other is not None:
                _refuse_foreign(other, spec["name"], "Ingress")

    force = bool(params.get("force"))
    if not namespace_exists and not check_mode:
        svc.apply(res.namespace_manifest(namespace), dry_run=False)
    try:
        predicted = [svc.apply(m, dry_run=True, force=force) if namespace_exists or not check_mode else m
                     for m in manifests]
    except SkipperError:
        if not namespace_exists and not check_mode:
            svc.delete("Namespace", None, namespace)  # leave nothing half-made behind
        raise

    applied_deployment = None
    for manifest, result in zip(manifests, predicted, strict=True):
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        current = live.get((kind, name))
        changed, before, after = compare(current, result, manifest)
        plan.record(kind, namespace, name, "unchanged" if not changed else ("created" if current is None else "updated"),
                    before, after)
        if changed:
            plan.writes.append(functools.partial(svc.apply, manifest, dry_run=False, force=force))
    wanted = {m["metadata"]["name"] for m in manifests if m["kind"] == "Ingress"}
    for name, obj in sorted(ingress_live.items()):
        if name not in wanted:
            before = compare(obj, None, None)[1]
            plan.record("Ingress", namespace, name, "deleted", before, {})
            plan.writes.append(functools.partial(svc.delete, "Ingress", namespace, name))

    if not check_mode:
        for result in plan.execute():
            if isinstance(result, dict) and result.get("kind") == "Deployment":
                applied_deployment = result

    current_deployment = applied_deployment or deployment_live
    info = app_summary(spec, namespace, current_deployment)
    outcome = {"status": "not_waited", "message": "check mode" if check_mode else "wait is false"}
    if check_mode:
        if current_deployment is not None and applied_deployment is None and not plan.changed:
            state, why = rollout_state(current_deployment)
            if state == "done":
                outcome = {"status": "succeeded", "message": why}
    elif params.get("wait", True):
        try:
            outcome, current_deployment = wait_for_rollout(
                svc, spec["name"], namespace, float(params.get("wait_timeout", 300)),
                first=None if applied_deployment is not None else deployment_live)
        except SkipperError as exc:
            raise plan.failed(exc) from None
        info = app_summary(spec, namespace, current_deployment)
    info["rollout"] = outcome
    result = {"changed": plan.changed, "objects": plan.objects, "app": info, "diff": plan.diffs}
    if outcome["status"] == "failed":
        raise RolloutError(outcome["message"], **result)
    return result


def wait_for_rollout(svc: Service, app: str, namespace: str, timeout: float,
                     first: dict[str, Any] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    started = time.monotonic()
    fatal: list[dict[str, str]] = []
    selectors: dict[str | None, str] = {}  # revision -> its pods' selector; found once per wait

    def new_pods(deployment: dict[str, Any]) -> list[dict[str, Any]]:
        revision = ((deployment.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision")
        if revision not in selectors:
            selectors[revision] = _revision_selector(svc, app, namespace, revision)
        return svc.list("Pod", namespace, selectors[revision])

    def fetch() -> dict[str, Any]:
        deployment = svc.get("Deployment", namespace, app)
        if deployment is None:
            raise SkipperError(f"app {app}: Deployment {namespace}/{app} disappeared during the rollout")
        # After a short grace, look at the new pods too: a bad image or a crash
        # loop will not get better by waiting for the whole timeout.
        if time.monotonic() - started > 3 and rollout_state(deployment)[0] != "done":
            fatal[:] = [p for p in stuck_pods(new_pods(deployment)) if p["fatal"]]
        return deployment

    def decide(deployment: dict[str, Any]) -> tuple[str, str]:
        if fatal:
            return "failed", "; ".join(f"pod {p['pod']}: {p['reason']}" for p in fatal)
        return rollout_state(deployment)

    # A hanging API server must not stretch the wait far past its timeout:
    # requests and retries stop at the deadline (with a little room for the
    # last look at the pods).
    svc.client.deadline = time.monotonic() + timeout + 5
    try:
        state, why, deployment = wait_until(fetch, decide, timeout, first=first)
        if state == "done":
            return {"status": "succeeded", "message": why}, deployment
        if state == "timeout":
            stuck = stuck_pods(new_pods(deployment))
            detail = "; ".join(f"pod {p['pod']}: {p['reason']}" for p in stuck[:3]) or why
            why = f"app {app}: rollout did not finish within {timeout:g} s ({why}): {detail}"
        else:
            why = f"app {app}: rollout failed: {why}"
        return {"status": "failed", "message": why}, deployment
    finally:
        svc.client.deadline = None


def _revision_selector(svc: Service, app: str, namespace: str, revision: str | None) -> str:
    """Selects the pods of one revision; an old version's crash loop is not this rollout's."""
    selector = res.selector_string(app)
    if not revision:
        return selector
    for replica_set in svc.list("ReplicaSet", namespace, selector):
        meta = replica_set.get("metadata") or {}
        if (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision:
            template_hash = (meta.get("labels") or {}).get("pod-template-hash")
            return f"{selector},pod-template-hash={template_hash}" if template_hash else selector
    return selector


def app_summary(spec: dict[str, Any], namespace: str, deployment: dict[str, Any] | None) -> dict[str, Any]:
    replicas = replicas_of(deployment) if deployment else {"desired": spec["replicas"], "ready": 0, "available": 0}
    revision = ((deployment or {}).get("metadata") or {}).get("annotations", {}).get("deployment.kubernetes.io/revision")
    return {
        "name": spec["name"],
        "namespace": namespace,
        "image": spec["image"],
        "version": spec["version"],
        "replicas": {k: replicas[k] for k in ("desired", "ready", "available")},
        "revision": int(revision) if revision else None,
        "urls": res.urls(spec["routes"]),
    }


def remove_app(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    name = check_name(params["name"])
    namespace = check_namespace(params["namespace"])
    plan = Plan()
    candidates = [("Deployment", svc.get("Deployment", namespace, name)), ("Service", svc.get("Service", namespace, name))]
    candidates += [("Ingress", i) for i in svc.list("Ingress", namespace, _owned_selector(name))]
    # Objects already being deleted count as gone; nothing of another owner is touched.
    found = [(kind, obj) for kind, obj in candidates if obj is not None and not obj["metadata"].get("deletionTimestamp")]
    for kind, obj in found:
        _refuse_foreign(obj, name, kind)
    for kind, obj in found:
        obj_name = obj["metadata"]["name"]
        before = compare(obj, None, None)[1]
        plan.record(kind, namespace, obj_name, "deleted", before, {})
        plan.writes.append(functools.partial(svc.delete, kind, namespace, obj_name))
    if not check_mode:
        plan.execute()
    return {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs,
            "app": {"name": name, "namespace": namespace}}


def restart_app(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    name = check_name(params["name"])
    namespace = check_namespace(params["namespace"])
    live = svc.get("Deployment", namespace, name)
    if live is None:
        raise SkipperError(f"app {name}: cannot restart: Deployment {namespace}/{name} not found; deploy it first")
    _refuse_foreign(live, name, "Deployment")
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = res.restart_patch(name, namespace, when)
    previous = (((live.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations", {})
    plan = Plan()
    key = res.RESTART_ANNOTATION
    plan.record("Deployment", namespace, name, "updated",
                {"spec": {"template": {"metadata": {"annotations": {key: previous.get(key, "")}}}}},
                {"spec": patch["spec"]})
    outcome = {"status": "not_waited", "message": "check mode" if check_mode else "wait is false"}
    deployment = live
    if not check_mode:
        deployment = svc.apply(patch, dry_run=False, force=True, manager=res.RESTART_MANAGER)
        if params.get("wait", True):
            outcome, deployment = wait_for_rollout(svc, name, namespace, float(params.get("wait_timeout", 300)))
    replicas = replicas_of(deployment)
    result = {"changed": True, "objects": plan.objects, "diff": plan.diffs,
              "app": {"name": name, "namespace": namespace, "restarted_at": when, "rollout": outcome,
                      "replicas": {k: replicas[k] for k in ("desired", "ready", "available")}}}
    if outcome["status"] == "failed":
        raise RolloutError(outcome["message"], **result)
    return result


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    state = params.get("state", "present")
    if state == "absent":
        return remove_app(svc, params, check_mode)
    if state == "restarted":
        return restart_app(svc, params, check_mode)
    return converge_app(svc, params, check_mode)


def _routes_of(ingresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    routes = []
    for ing in ingresses:
        spec = ing.get("spec") or {}
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        for rule in spec.get("rules") or []:
            for path in ((rule.get("http") or {}).get("paths")) or []:
                host = rule.get("host", "")
                routes.append({"host": host, "path": path.get("path", "/"), "tls": host in tls_hosts,
                               "url": f"{'https' if host in tls_hosts else 'http'}://{host}{path.get('path', '/')}",
                               "ingress": ing["metadata"]["name"]})
    return routes


def describe_app(deployment: dict[str, Any], ingresses: list[dict[str, Any]]) -> dict[str, Any]:
    meta = deployment.get("metadata") or {}
    labels = meta.get("labels") or {}
    containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or [{}]
    main = next((c for c in containers if c.get("name") == res.CONTAINER), containers[0])
    state, why = rollout_state(deployment)
    revision = (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision")
    return {
        "name": labels.get(res.NAME_LABEL, meta.get("name")),
        "namespace": meta.get("namespace"),
        "image": main.get("image"),
        "version": labels.get(res.VERSION_LABEL),
        "replicas": {k: v for k, v in replicas_of(deployment).items() if k in ("desired", "ready", "available")},
        "resources": main.get("resources") or {},
        "routes": _routes_of(ingresses),
        "conditions": [{k: c.get(k) for k in ("type", "status", "reason", "message")}
                       for c in (deployment.get("status") or {}).get("conditions") or []],
        "revision": int(revision) if revision else None,
        "rollout": {"status": {"done": "succeeded", "failed": "failed"}.get(state, "progressing"), "message": why},
    }


def read_apps(svc: Service, namespace: str, name: str | None) -> dict[str, Any]:
    namespace = check_namespace(namespace)
    selector = _owned_selector(check_name(name) if name else None)
    deployments = svc.list("Deployment", namespace, selector)
    ingresses = svc.list("Ingress", namespace, selector)
    apps = []
    for deployment in sorted(deployments, key=lambda d: d["metadata"]["name"]):
        app = (deployment["metadata"].get("labels") or {}).get(res.NAME_LABEL)
        mine = [i for i in ingresses if (i["metadata"].get("labels") or {}).get(res.NAME_LABEL) == app]
        apps.append(describe_app(deployment, mine))
    return {"changed": False, "apps": apps}

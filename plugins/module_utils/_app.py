# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app runner, in three steps that can each be called alone.

**plan** (``plan_app``, ``plan_removal``, ``plan_restart``) reads, checks
ownership, dry-runs every object with server-side apply (``dryRun=All``) and
compares: it writes nothing. **execute** writes the objects that differ.
**wait** follows the rollout until a deadline that the caller passes in. A
single app runs them in a row (``run``); a formation plans every app first,
stops before any write if one plan fails, then executes and waits
concurrently over one connection pool.

``changed`` and ``diff`` come from ``_diff.compare`` on the live object and
the dry-run result, in check mode and in the real run alike, so check mode
predicts the real run exactly and a no-op run writes nothing.
"""

from __future__ import annotations

import datetime
import functools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import _resource as res
from . import _routes
from ._diff import compare
from ._errors import ApiError, RolloutError, SkipperError, ValidationError
from ._report import app_summary, foreign_fields, is_ours, owner_of, replica_counts
from ._service import Service, conflict_managers, describe
from ._spec import check_name, check_namespace, normalize_app
from ._waiter import rollout_state, stuck_pods, wait_until

# How long a rollout may look bad before the new pods are inspected.
POD_GRACE = 3.0
# Room past the rollout deadline for the last look at the pods.
REQUEST_SLACK = 5.0


class Plan:
    """What one run will do to each object, what it shows, and the writes to get there."""

    def __init__(self, name: str, namespace: str) -> None:
        self.name = name
        self.namespace = namespace
        self.objects: list[dict[str, Any]] = []
        self.diffs: list[dict[str, Any]] = []
        self.writes: list[Callable[[], Any]] = []
        self.writes_done = 0
        self.changed = False
        self.warnings: list[str] = []
        self.spec: dict[str, Any] | None = None  # present: the normalized app
        self.deployment: dict[str, Any] | None = None  # the Deployment as last read or written
        self.deployment_written = False
        # A namespace to create first; the dry runs then happen inside it.
        self.new_namespace: dict[str, Any] | None = None
        self.dry_runs: list[Callable[[], Any]] = []
        self.force = False
        # Every skipper.platform Ingress of the namespace, when read (for route conflicts).
        self.ingresses: list[dict[str, Any]] | None = None
        # Kinds the app does not declare and may not list, with why.
        self.unlisted: list[str] = []

    def record(self, kind: str, namespace: str | None, name: str, action: str,
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        self.objects.append({"kind": kind, "namespace": namespace, "name": name, "action": action})
        if action != "unchanged":
            self.changed = True
            header = describe(kind, namespace, name)
            self.diffs.append({"before_header": header, "after_header": header,
                               "before": before or {}, "after": after or {}})

    def failed(self, exc: SkipperError) -> SkipperError:
        """A failure after a write still says what changed."""
        exc.details.update(changed=self.writes_done > 0, objects=self.objects, diff=self.diffs)
        if self.warnings:
            exc.details["warnings"] = list(self.warnings)
        return exc

    def note(self, warning: str) -> None:
        if warning not in self.warnings:
            self.warnings.append(warning)


def owned_selector(app: str | None = None) -> str:
    """Objects skipper.platform made, for one app or for all."""
    return f"{res.MANAGED_BY_LABEL}={res.MANAGER}" + (f",{res.NAME_LABEL}={app}" if app else "")


def _refuse_foreign(obj: dict[str, Any] | None, app: str, formation: str | None = None) -> None:
    """Never take over or delete what another app, formation or tool made under the same name, force or not."""
    if obj is None or is_ours(obj, app, formation):
        return
    meta = obj["metadata"]
    raise ValidationError(
        f"app {app}: {describe(obj['kind'], meta.get('namespace'), meta['name'])} exists but is not this app's "
        f"({owner_of(obj)}); skipper.platform never takes over or deletes an object it did not make, even with "
        "force: true: rename the app, or remove that object yourself",
        app=app, field="name")


def _forbidden(exc: ApiError) -> bool:
    return exc.status == 403


def _check_secret_refs(svc: Service, plan: Plan, spec: dict[str, Any]) -> None:
    by_secret: dict[str, list[tuple[str, str]]] = {}
    for var, ref in sorted(spec["secrets"].items()):
        by_secret.setdefault(ref["secret"], []).append((var, ref["key"]))
    namespace = plan.namespace
    for secret_name, refs in by_secret.items():
        try:
            secret = svc.get("Secret", namespace, secret_name) if plan.new_namespace is None else None
        except ApiError as exc:
            if not _forbidden(exc):
                raise
            # The key names can only be read with the values; a deployer
            # without `get secrets` still deploys, warned.
            plan.note(f"app {spec['name']}: could not check Secret {namespace}/{secret_name} (reading Secrets is "
                      "forbidden for these credentials); pods will not start if it or a referenced key is missing")
            continue
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


def namespace_exists(svc: Service, plan: Plan, create: bool) -> bool:
    """True when the namespace exists now; plans its creation when allowed."""
    try:
        if svc.get("Namespace", None, plan.namespace) is not None:
            return True
    except ApiError as exc:
        if _forbidden(exc):
            # Namespace-scoped credentials (AWX, CI) may not read namespaces:
            # the dry runs that follow will say if it is missing.
            return True
        raise
    if not create:
        raise ValidationError(
            f"namespace {plan.namespace} not found: create it first or set create_namespace: true",
            field="namespace",
        )
    manifest = res.namespace_manifest(plan.namespace)
    plan.record("Namespace", None, plan.namespace, "created", {}, compare(None, manifest, manifest)[2])
    plan.new_namespace = manifest
    return False


def plan_objects(svc: Service, plan: Plan, manifests: list[dict[str, Any]],
                 live: dict[tuple[str, str], dict[str, Any] | None], dry_run_now: bool = True) -> None:
    """Dry-run each manifest, compare it with its live object and plan a write where they differ.

    ``live`` maps (kind, name) to the object as read (None: it does not
    exist). Without ``dry_run_now`` (a namespace that does not exist yet) the
    plan shows the manifests as they are, and keeps the dry runs in
    ``plan.dry_runs`` for execute to run, all of them before any write.
    """
    forced: dict[int, bool] = {}

    def dry_run(index: int, manifest: dict[str, Any]) -> dict[str, Any]:
        try:
            return svc.apply(manifest, dry_run=True, force=plan.force)
        except ApiError as exc:
            if not _after_rollback(exc):
                raise
        # A rollback put the old template back; the inventory's next run deploys what it says, and says so.
        meta = manifest["metadata"]
        plan.note(f"app {plan.name}: {describe(manifest['kind'], meta.get('namespace'), meta['name'])} was rolled "
                  f"back by {ROLLBACK_MANAGER}; this run deploys the inventory's version {plan.spec and plan.spec.get('version')} again")
        forced[index] = True
        return svc.apply(manifest, dry_run=True, force=True)

    if dry_run_now:
        predicted = [dry_run(i, m) for i, m in enumerate(manifests)]
    else:
        predicted = manifests
        plan.dry_runs = [functools.partial(svc.apply, m, dry_run=True, force=plan.force) for m in manifests]
    for index, (manifest, result) in enumerate(zip(manifests, predicted, strict=True)):
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        current = live.get((kind, name))
        changed, before, after = compare(current, result, manifest)
        action = "unchanged" if not changed else ("created" if current is None else "updated")
        plan.record(kind, manifest["metadata"].get("namespace"), name, action, before, after)
        if changed:
            plan.writes.append(functools.partial(svc.apply, manifest, dry_run=False,
                                                 force=plan.force or forced.get(index, False)))


# app_rollback's field manager: the fields it restored go back to the inventory on the next run.
ROLLBACK_MANAGER = "skipper.platform-rollback"


def _after_rollback(exc: ApiError) -> bool:
    """A conflict only with the fields a rollback restored."""
    if exc.status != 409 or not exc.causes:
        return False
    managers, _fields = conflict_managers(exc)
    return managers == [ROLLBACK_MANAGER]


# Kinds an app may own besides its Deployment and Service, each found with one list by label.
OWNED_KINDS = ("PersistentVolumeClaim", "Ingress", "HorizontalPodAutoscaler", "CronJob")


def declared_elsewhere(obj: dict[str, Any]) -> bool:
    """Made by an imperative module (app_autoscale, cron, route) rather than by the app's inventory."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    return bool(annotations.get(res.DECLARED_BY_ANNOTATION)) or _routes.GROUP_LABEL in (meta.get("labels") or {})


def _owned_live(svc: Service, plan: Plan, kind: str, declared: bool,
                listed: Mapping[str, Mapping[str, dict[str, Any]]] | None, exists: bool) -> dict[str, dict[str, Any]] | None:
    """The app's objects of one kind, by name; None when they cannot be listed (and the app declares none)."""
    app = plan.name
    if not exists:
        return {}
    if listed is not None and kind in listed:
        items: list[dict[str, Any]] | None = [o for o in listed[kind].values() if is_ours(o, app)]
    elif kind == "Ingress" and plan.ingresses is not None:
        items = [o for o in plan.ingresses if is_ours(o, app)]
    elif declared:
        items = svc.list(kind, plan.namespace, owned_selector(app))
    else:
        items, why = svc.list_optional(kind, plan.namespace, owned_selector(app))
        if items is None:
            plan.unlisted.append(f"{res.KINDS[kind][1]} ({why})")
            return None
    return {o["metadata"]["name"]: o for o in items or [] if not declared_elsewhere(o)}


def _services_linked(svc: Service, spec: dict[str, Any], links: list[dict[str, Any]], namespace: str,
                     exists: bool | None) -> dict[str, dict[str, Any]]:
    """The app's own Service and those of the apps it links to in its namespace, from one list.

    Only skipper.platform's Services come this way (by label); any other,
    or all of them when the list is not allowed, is read by name as before.
    """
    targets = {link["app"] for link in links if link.get("namespace") in (None, namespace)}
    if not exists or not targets:
        return {}
    names = sorted(targets | {spec["name"]})
    items, _why = svc.list_optional("Service", namespace, f"{owned_selector()},{res.NAME_LABEL} in ({','.join(names)})")
    return {o["metadata"]["name"]: o for o in items or []
            if o["metadata"]["name"] in names and (o["metadata"].get("labels") or {}).get(res.NAME_LABEL) == o["metadata"]["name"]}


def _check_route_claims(plan: Plan, spec: dict[str, Any]) -> None:
    """Two apps (or an app and a route group) serving one host and path: refused, naming both."""
    if not spec["routes"] or plan.ingresses is None:
        return
    others = [o for o in plan.ingresses if not is_ours(o, spec["name"]) or declared_elsewhere(o)]
    mine = [(r["host"], r["path"], f"app {spec['name']}") for r in spec["routes"]]
    clashes = [c for c in _routes.conflicts(_routes.claims_of(others) + mine) if f"app {spec['name']}" in c]
    if clashes:
        raise ValidationError(f"app {spec['name']}: routes: {'; '.join(clashes)}; give each host and path one owner",
                              app=spec["name"], field="routes")


def plan_app(svc: Service, params: dict[str, Any], known_namespace: bool | None = None,
             listed: Mapping[str, Mapping[str, dict[str, Any]]] | None = None,
             peers: Mapping[str, Mapping[str, Any]] | None = None) -> Plan:
    """Reads, ownership, policy, dry runs and comparison for ``state: present``; no writes.

    ``known_namespace`` is for a caller that looked the namespace up already
    (a formation): True when it exists, False when the caller creates it
    (the dry runs are then left in ``plan.dry_runs`` for after that).
    ``listed`` is every object of the namespace of each listed kind, by kind
    and name, from one list per kind (a formation reads them once for all its
    apps): then this app reads nothing more of those kinds. ``peers`` are
    the other apps of that formation (see ``_features.resolve``).
    """
    spec = normalize_app(params)
    spec["formation"] = params.get("formation")
    plan = Plan(spec["name"], check_namespace(params["namespace"]))
    plan.spec = spec
    plan.force = bool(params.get("force"))
    namespace = plan.namespace
    declared = _features.declare(spec, params, plan)
    if listed is not None:
        deployment_live = listed["Deployment"].get(spec["name"])
    else:
        deployment_live = svc.get("Deployment", namespace, spec["name"]) if known_namespace is not False else None
    # A Deployment found proves the namespace exists, without reading it.
    exists = known_namespace if known_namespace is not None else (
        deployment_live is not None or namespace_exists(svc, plan, bool(params.get("create_namespace"))))
    services = _services_linked(svc, spec, declared.links, namespace, exists) if listed is None and peers is None else {}
    _features.resolve(svc, spec, declared, namespace, exists, plan, peers, services)
    if exists:
        plan.ingresses = (list(listed["Ingress"].values()) if listed is not None
                          else svc.list("Ingress", namespace, owned_selector()) if spec["routes"] else None)
        _check_route_claims(plan, spec)
    manifests = res.app_manifests(spec, namespace) + declared.manifests(spec, namespace)
    _features.check_policy(spec, params, manifests, plan)
    if listed is not None:
        service_live = listed["Service"].get(spec["name"])
    elif spec["name"] in services:
        service_live = services[spec["name"]]
    else:
        service_live = svc.get("Service", namespace, spec["name"]) if exists else None
    live: dict[tuple[str, str], dict[str, Any] | None] = {
        ("Deployment", spec["name"]): deployment_live, ("Service", spec["name"]): service_live}
    wanted_kinds = {m["kind"] for m in manifests}
    recorded = owned_kinds(deployment_live)
    owned: dict[str, dict[str, dict[str, Any]] | None] = {}
    for kind in OWNED_KINDS:
        needed = kind in wanted_kinds or declared.owns(kind)
        if not needed and listed is None and recorded is not None and kind not in recorded:
            owned[kind] = {}  # the app had none when it last ran: no list on the no-op path
            continue
        owned[kind] = _owned_live(svc, plan, kind, needed, listed, exists)
        live.update({(kind, name): obj for name, obj in (owned[kind] or {}).items()})
    if plan.unlisted:
        plan.note(f"app {plan.name}: cannot list {', '.join(plan.unlisted)} in namespace {namespace}; any of those "
                  "the app made earlier and no longer declares are left in place")
    for manifest in manifests:
        key = (manifest["kind"], manifest["metadata"]["name"])
        if key not in live and exists:
            # An object that is new to this app: one read, not on the no-op path.
            live[key] = (listed[key[0]].get(key[1]) if listed is not None and key[0] in listed
                         else svc.get(key[0], namespace, key[1]))
        found = live.get(key)
        if found is not None and declared_elsewhere(found) and key[0] != "Ingress":
            declared.note_takeover(found, plan)
        _refuse_foreign(live.get(key), spec["name"], spec["formation"])
    _check_secret_refs(svc, plan, spec)
    plan.deployment = deployment_live

    wanted = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    doomed: list[dict[str, Any]] = []
    kept: set[str] = set()
    for kind in OWNED_KINDS:
        objects = owned[kind]
        if objects is None:
            if recorded is not None and kind in recorded:
                kept.add(kind)  # not listable now: still recorded, so a later run with the rights looks again
            continue
        for name, obj in sorted(objects.items()):
            if obj["metadata"].get("deletionTimestamp"):
                continue
            if (kind, name) not in wanted and declared.prunes(kind, obj, plan):
                doomed.append(obj)
            else:
                kept.add(kind)
    owns_after = wanted_kinds | kept
    record_owned_kinds(manifests, owns_after)
    plan_objects(svc, plan, manifests, live, dry_run_now=exists)
    _note_foreign_fields(plan, [live.get((m["kind"], m["metadata"]["name"])) for m in manifests])
    first: list[Callable[[], Any]] = []
    for obj in doomed:
        plan.record(obj["kind"], namespace, obj["metadata"]["name"], "deleted", compare(obj, None, None)[1], {})
        (plan.writes if obj["kind"] in owns_after else first).append(functools.partial(svc.delete, obj))
    # A kind the Deployment stops recording goes before the Deployment's write, so a run that fails midway
    # never leaves an object of a kind the next run would not list.
    plan.writes[:0] = first
    return plan


def owned_kinds(deployment: Mapping[str, Any] | None) -> set[str] | None:
    """The kinds a Deployment records its app has objects of; None when it records none (or is not there)."""
    value = ((deployment or {}).get("metadata", {}).get("annotations") or {}).get(res.OWNS_ANNOTATION)
    if value is None:
        return None
    return {kind for kind in value.split(",") if kind}


def record_owned_kinds(manifests: list[dict[str, Any]], kinds: set[str]) -> None:
    """Put the kinds the app will own after this run on its Deployment's manifest."""
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    annotations = deployment["metadata"].setdefault("annotations", {})
    annotations[res.OWNS_ANNOTATION] = ",".join(sorted(k for k in kinds if k in OWNED_KINDS))
    deployment["metadata"]["annotations"] = dict(sorted(annotations.items()))


def _note_foreign_fields(plan: Plan, objects: list[dict[str, Any] | None]) -> None:
    """Fields another manager set on our objects stay in force whatever the inventory says: say so."""
    for obj in objects:
        if not obj:
            continue
        for manager, paths in foreign_fields(obj).items():
            shown = ", ".join(paths[:4]) + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")
            meta = obj["metadata"]
            plan.note(f"app {plan.name}: {describe(obj['kind'], meta.get('namespace'), meta['name'])} has fields set by "
                      f"{manager} that this inventory does not send ({shown}); they stay in force until removed: "
                      "declare them in the inventory, or remove them (for example with kubectl edit)")


def plan_removal(svc: Service, params: dict[str, Any]) -> Plan:
    """Everything ``state: absent`` deletes; objects of another owner stop the run.

    The app's claims go only with ``delete_volumes``; otherwise a note names
    each one kept. Apps that link to this one are named in a note, or with
    ``unlink`` lose that variable.
    """
    plan = Plan(check_name(params["name"]), check_namespace(params["namespace"]))
    name, namespace = plan.name, plan.namespace
    formation = params.get("formation")
    candidates = [svc.get("Deployment", namespace, name), svc.get("Service", namespace, name)]
    for kind in OWNED_KINDS:
        items, why = svc.list_optional(kind, namespace, owned_selector(name))
        if items is None:
            if kind == "Ingress":
                raise SkipperError(f"app {name}: cannot list {res.KINDS[kind][1]} in namespace {namespace} to "
                                   f"remove them: {why}")
            plan.note(f"app {name}: cannot list {res.KINDS[kind][1]} in namespace {namespace} ({why}); any the app "
                      "made are left in place")
            continue
        for obj in items:
            if kind == "Ingress" and _routes.GROUP_LABEL in (obj["metadata"].get("labels") or {}):
                continue
            if kind == "PersistentVolumeClaim" and not params.get("delete_volumes"):
                plan.note(f"app {name}: PersistentVolumeClaim {namespace}/{obj['metadata']['name']} is kept with its "
                          "data; set delete_volumes: true to delete it")
                continue
            candidates.append(obj)
    # Objects already being deleted count as gone.
    found = [obj for obj in candidates if obj is not None and not obj["metadata"].get("deletionTimestamp")]
    for obj in found:
        _refuse_foreign(obj, name, formation)
    for obj in found:
        plan.record(obj["kind"], namespace, obj["metadata"]["name"], "deleted", compare(obj, None, None)[1], {})
        plan.writes.append(functools.partial(svc.delete, obj))
    _features.plan_unlink(svc, plan, bool(params.get("unlink")))
    return plan


def plan_restart(svc: Service, params: dict[str, Any], now: str) -> Plan:
    """A pod-template annotation under a field manager of its own, so a later deploy keeps it.

    With ``restart_id`` the pods restart only when the id differs from the
    last restart's; without it every run restarts them (stamped ``now``).
    """
    plan = Plan(check_name(params["name"]), check_namespace(params["namespace"]))
    name, namespace = plan.name, plan.namespace
    live = svc.get("Deployment", namespace, name)
    if live is None:
        raise SkipperError(f"app {name}: cannot restart: Deployment {namespace}/{name} not found; deploy it first")
    _refuse_foreign(live, name)
    plan.deployment = live
    restart_id = params.get("restart_id")
    patch = res.restart_patch(name, namespace, now, restart_id)
    template_meta = ((live.get("spec") or {}).get("template") or {}).get("metadata") or {}
    previous = {k: v for k, v in (template_meta.get("annotations") or {}).items() if k in res.RESTART_ANNOTATIONS}
    wanted = patch["spec"]["template"]["metadata"]["annotations"]
    if restart_id is not None and previous.get(res.RESTART_ID_ANNOTATION) == restart_id:
        plan.record("Deployment", namespace, name, "unchanged")
        return plan
    plan.record("Deployment", namespace, name, "updated",
                {"spec": {"template": {"metadata": {"annotations": previous}}}},
                {"spec": {"template": {"metadata": {"annotations": wanted}}}})
    plan.writes.append(functools.partial(svc.apply, patch, dry_run=False, force=True, manager=res.RESTART_MANAGER))
    return plan


def execute(svc: Service, plan: Plan) -> None:
    """Write what the plan found different, in order; a failure still reports what was written."""
    if plan.new_namespace is not None and plan.writes:
        _make_namespace(svc, plan)
    for write in plan.writes:
        try:
            written = write()
        except SkipperError as exc:
            raise plan.failed(exc) from None
        plan.writes_done += 1
        if isinstance(written, dict) and written.get("kind") == "Deployment":
            plan.deployment = written
            plan.deployment_written = True


def post_namespace(svc: Service, manifest: dict[str, Any]) -> dict[str, Any]:
    """Create a namespace with POST: a 409 means someone else made it during this run, so it is not ours."""
    try:
        return svc.create(manifest)
    except ApiError as exc:
        if exc.status == 409:
            raise ValidationError(
                f"namespace {manifest['metadata']['name']} was created by someone else during this run, so it is "
                "not this run's to fill or remove; nothing was written: run again to deploy into it",
                field="namespace") from None
        raise


def _make_namespace(svc: Service, plan: Plan) -> None:
    """POST the namespace, then dry-run everything in it."""
    created = post_namespace(svc, plan.new_namespace or {})
    plan.writes_done += 1
    try:
        for dry_run in plan.dry_runs:
            dry_run()
    except SkipperError as exc:
        # Leave nothing half-made: only the namespace this run created, as it was created.
        try:
            svc.delete(created)
        except SkipperError as cleanup:
            exc = SkipperError(f"{exc.message} (and the namespace {plan.namespace} it made could not be removed: "
                               f"{cleanup.message})", **exc.details)
        else:
            plan.writes_done -= 1
        raise plan.failed(exc) from None


def wait(svc: Service, plan: Plan, deadline: float, rollback: bool = False) -> dict[str, Any]:
    """Follow the app's rollout until it is done, fails, or ``deadline`` (monotonic) passes.

    With ``rollback`` a failed rollout that this run started restores the
    previous revision, waits for it (a fresh allowance, as long as the first
    wait's) and reports ``rolled_back`` with the reasons.
    """
    started = time.monotonic()
    try:
        outcome, deployment = wait_for_rollout(
            svc, plan.name, plan.namespace, deadline, plan,
            first=None if plan.deployment_written else plan.deployment)
        plan.deployment = deployment
        if outcome["status"] == "failed" and rollback and plan.deployment_written:
            outcome = _roll_back(svc, plan, outcome, time.monotonic() + max(deadline - started, 30.0))
    except SkipperError as exc:
        raise plan.failed(exc) from None
    return outcome


def _roll_back(svc: Service, plan: Plan, failed: dict[str, str], deadline: float) -> dict[str, Any]:
    from . import _rollback  # here, not at the top: it builds on this module

    try:
        restored = _rollback.rollback(svc, plan.namespace, plan.name, None, dry_run=False)
    except SkipperError as exc:
        return {"status": "failed", "message": f"{failed['message']}; rolling back failed too: {exc.message}"}
    plan.writes_done += 1
    what = f"revision {restored.get('revision')} (version {restored.get('version')})"
    outcome, deployment = wait_for_rollout(svc, plan.name, plan.namespace, deadline, plan)
    plan.deployment = deployment
    if outcome["status"] != "succeeded":
        return {"status": "failed", "message": f"{failed['message']}; rolled back to {what}, which did not come up "
                f"either: {outcome['message']}"}
    return {"status": "rolled_back", "message": f"{failed['message']}; rolled back to {what}",
            "restored": {k: restored.get(k) for k in _rollback.RESTORED_KEYS}}


def _optional(svc: Service, plan: Plan, kind: str, selector: str, deadline: float, instead: str) -> Any:
    """A list that only enriches the report: when the API will not give it, a note, never a failure."""
    items, why = svc.list_optional(kind, plan.namespace, selector, deadline=deadline)
    if items is None:
        plan.note(f"app {plan.name}: cannot list {res.KINDS[kind][1]} in namespace {plan.namespace} ({why}); "
                  f"{instead}")
    return items


def wait_for_rollout(svc: Service, app: str, namespace: str, deadline: float, plan: Plan,
                     first: dict[str, Any] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    started = time.monotonic()
    timeout = max(deadline - started, 0.0)
    # No request or retry runs past the deadline (with a little room for the last look at the pods).
    request_deadline = deadline + REQUEST_SLACK
    fatal: list[dict[str, str]] = []
    selectors: dict[str | None, str | None] = {}  # revision -> its pods' selector; found once per wait

    def new_pods(deployment: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The pods of the Deployment's current revision; None when they cannot be told apart or read."""
        revision = ((deployment.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision")
        if revision not in selectors:
            selectors[revision] = _revision_selector(svc, plan, app, namespace, revision, request_deadline)
        selector = selectors[revision]
        if selector is None:
            return None
        return _optional(svc, plan, "Pod", selector, request_deadline,
                         "a failed rollout is reported without the pods' reasons")

    def fetch() -> dict[str, Any]:
        deployment = svc.get("Deployment", namespace, app, deadline=request_deadline)
        if deployment is None:
            raise SkipperError(f"app {app}: Deployment {namespace}/{app} disappeared during the rollout")
        # After a short grace, look at the new pods too: a bad image or a crash
        # loop will not get better by waiting for the whole timeout.
        if time.monotonic() - started > POD_GRACE and rollout_state(deployment)[0] != "done":
            fatal[:] = [p for p in stuck_pods(new_pods(deployment) or []) if p["fatal"]]
        return deployment

    def decide(deployment: dict[str, Any]) -> tuple[str, str]:
        if fatal:
            return "failed", "; ".join(f"pod {p['pod']}: {p['reason']}" for p in fatal)
        return rollout_state(deployment)

    state, why, deployment = wait_until(fetch, decide, timeout, first=first)
    if state == "done":
        return {"status": "succeeded", "message": why}, deployment
    if state == "timeout":
        stuck = stuck_pods(new_pods(deployment) or [])
        detail = "; ".join(f"pod {p['pod']}: {p['reason']}" for p in stuck[:3]) or why
        why = f"app {app}: rollout did not finish within {math.ceil(timeout)} s ({why}): {detail}"
    else:
        why = f"app {app}: rollout failed: {why}"
    return {"status": "failed", "message": why}, deployment


def _revision_selector(svc: Service, plan: Plan, app: str, namespace: str, revision: str | None,
                       deadline: float) -> str | None:
    """Selects the pods of one revision, so an old version's crash loop is not this rollout's.

    None when the ReplicaSets cannot be read: the rollout is then judged on
    the Deployment's status alone.
    """
    selector = res.selector_string(app)
    if not revision:
        return selector
    replica_sets = _optional(svc, plan, "ReplicaSet", selector, deadline,
                             "the rollout is judged on the Deployment's status alone, without early failure "
                             "detection from its pods")
    if replica_sets is None:
        return None
    for replica_set in replica_sets:
        meta = replica_set.get("metadata") or {}
        if (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision:
            template_hash = (meta.get("labels") or {}).get("pod-template-hash")
            return f"{selector},pod-template-hash={template_hash}" if template_hash else selector
    return selector


def _not_waited(check_mode: bool) -> dict[str, str]:
    return {"status": "not_waited", "message": "check mode" if check_mode else "wait is false"}


def _result(plan: Plan, app: dict[str, Any]) -> dict[str, Any]:
    result = {"changed": plan.changed, "objects": plan.objects, "app": app, "diff": plan.diffs}
    if plan.warnings:
        result["warnings"] = list(plan.warnings)
    if (app.get("rollout") or {}).get("status") in ("failed", "rolled_back"):
        raise RolloutError(app["rollout"]["message"], **result)
    return result


def _deadline(params: dict[str, Any]) -> float:
    return time.monotonic() + float(params.get("wait_timeout", 300))


def converge_app(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    plan = plan_app(svc, params)
    spec: dict[str, Any] = plan.spec or {}
    outcome = _not_waited(check_mode)
    if check_mode:
        # Nothing to roll out: say how the app stands now.
        if plan.deployment is not None and not plan.changed and rollout_state(plan.deployment)[0] == "done":
            outcome = {"status": "succeeded", "message": rollout_state(plan.deployment)[1]}
    else:
        execute(svc, plan)
        if params.get("wait", True):
            outcome = wait(svc, plan, _deadline(params), rollback=bool(params.get("rollback_on_failure")))
    info = app_summary(spec, plan.namespace, plan.deployment)
    info["rollout"] = outcome
    return _result(plan, info)


def remove_app(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    plan = plan_removal(svc, params)
    if not check_mode:
        execute(svc, plan)
    return _result(plan, {"name": plan.name, "namespace": plan.namespace})


def restart_app(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    plan = plan_restart(svc, params, now)
    outcome = _not_waited(check_mode)
    if not check_mode and plan.writes:
        execute(svc, plan)
        if params.get("wait", True):
            outcome = wait(svc, plan, _deadline(params))
    elif not plan.changed:
        outcome = {"status": "succeeded" if rollout_state(plan.deployment or {})[0] == "done" else "not_waited",
                   "message": "already restarted with this restart_id"}
    app = {"name": plan.name, "namespace": plan.namespace, "rollout": outcome,
           "replicas": replica_counts(plan.deployment or {})}
    if plan.changed:
        app["restarted_at"] = now
    return _result(plan, app)


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    state = params.get("state", "present")
    if state == "absent":
        return remove_app(svc, params, check_mode)
    if state == "restarted":
        return restart_app(svc, params, check_mode)
    return converge_app(svc, params, check_mode)


# Last, because the features build on the runner above (its Plan and steps).
from . import _features  # noqa: E402

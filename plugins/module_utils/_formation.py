# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge every app of a formation in one call.

A formation is one environment in one namespace. Its apps are merged onto
its defaults (deep merge), then: plan every app concurrently (reads,
ownership, dry runs); if any plan fails, stop before the first write and
name each failing app; otherwise write and wait for every app concurrently
over the one connection pool. One app's failed rollout does not stop the
others'; the run fails at the end naming each failed app and why. A real run
holds the formation's Lease, so two converges of one formation never mix.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import _app, _routes
from . import _resource as res
from ._diff import compare
from ._errors import SkipperError, ValidationError
from ._lease import FormationLease
from ._report import app_summary
from ._service import Service
from ._spec import check_int, check_name, check_namespace, check_routes, strict_bool

# Read once per formation, one list per kind, instead of once per app.
LISTED_KINDS = ("Deployment", "Service", "Ingress")
# Also read once, when the credentials may: otherwise each app lists its own.
OPTIONAL_KINDS = ("HorizontalPodAutoscaler", "PersistentVolumeClaim", "CronJob")
# Keys an app may carry in inventory (the app module's options).
APP_KEYS = ("image", "version", "port", "replicas", "env", "secrets", "resources", "probes", "labels", "routes",
            "autoscale", "links", "volumes", "cron", "security", "rollback_on_failure")


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` onto ``base``: mappings merge key by key, anything else is replaced."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return over


def _unknown_keys(where: str, given: Mapping[str, Any]) -> None:
    for key in given:
        if key not in APP_KEYS:
            close = difflib.get_close_matches(str(key), APP_KEYS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(APP_KEYS)}"
            raise ValidationError(f"{where}: {key}: unknown key; {hint}", field=str(key))


def default_host(app: str, environment: str | None, domain: str | None, production: bool) -> str | None:
    """``<app>.<env>.<domain>``, or ``<app>.<domain>`` in production; None without a domain."""
    return _routes.default_host(app, environment, domain, production) if domain else None


def check_instances(params: Mapping[str, Any], name: str, replicas: Any, field: str = "replicas") -> None:
    """The environment's bounds on an app's replicas (skpr's min/max instances); ``field`` is where the count came from."""
    bounds = params.get("instances") or {}
    if not bounds or replicas is None:
        return
    count = check_int(name, field, replicas, 0)
    low, high = (None if bounds.get(k) is None else check_int(params["name"], f"instances.{k}", bounds[k], 0)
                 for k in ("min", "max"))
    if low is not None and count < low:
        raise ValidationError(f"app {name}: {field}: {count} is below the environment's minimum of {low} instances",
                              app=name, field=field)
    if high is not None and count > high:
        raise ValidationError(f"app {name}: {field}: {count} is above the environment's maximum of {high} instances",
                              app=name, field=field)


def app_params(params: Mapping[str, Any], name: str, declared: Any) -> dict[str, Any]:
    """The app module's parameters for one app of the formation."""
    check_name(name)
    if declared is None:
        declared = {}
    if not isinstance(declared, Mapping):
        raise ValidationError(f"app {name}: must be a mapping of the app's keys (image, version, ...)", app=name)
    defaults = params.get("defaults") or {}
    _unknown_keys("defaults", defaults)
    _unknown_keys(f"app {name}", declared)
    merged = deep_merge(defaults, declared)
    version = (params.get("versions") or {}).get(name)
    if version is not None:
        merged["version"] = version
    declared_routes = merged.get("routes")
    if declared_routes is not None and not isinstance(declared_routes, list):
        check_routes(name, declared_routes, None)  # refuses it, naming the field
    routes = []
    for index, route in enumerate(declared_routes or []):
        if isinstance(route, Mapping) and not route.get("host"):
            host = default_host(name, params.get("environment"), params.get("domain"), bool(params.get("production")))
            if host is None:
                raise ValidationError(f"app {name}: routes[{index}].host: no host given and the formation has no "
                                      "domain to make one from (set domain)", app=name, field=f"routes[{index}].host")
            route = {**route, "host": host}
        routes.append(route)
    merged["routes"] = routes
    if not merged.get("autoscale"):
        check_instances(params, name, merged.get("replicas", 1))
    else:
        for bound in ("min", "max"):
            if isinstance(merged["autoscale"], Mapping) and merged["autoscale"].get(bound) is not None:
                check_instances(params, name, merged["autoscale"][bound], f"autoscale.{bound}")
    merged["rollback_on_failure"] = strict_bool(name, "rollback_on_failure", merged.get("rollback_on_failure"))
    merged.update(name=name, namespace=params["namespace"], formation=params["name"],
                  tls_issuer=params.get("tls_issuer"), force=params.get("force", False),
                  policy=params.get("policy"), production=bool(params.get("production")),
                  delete_volumes=bool(params.get("delete_volumes")))
    return merged


class FormationRun:
    """One converge: the plans of every app, their outcomes and what goes into the result."""

    def __init__(self, svc: Service, params: Mapping[str, Any], check_mode: bool) -> None:
        self.svc = svc
        self.params = params
        self.check_mode = check_mode
        self.name = check_name(params["name"])
        self.namespace = check_namespace(params["namespace"])
        instances = params.get("instances") or {}
        if not isinstance(instances, Mapping) or set(instances) - {"min", "max"}:
            raise ValidationError(f"formation {params['name']}: instances: must be a mapping with min and/or max",
                                  field="instances")
        self.workers = int(params.get("concurrency") or 8)
        if not 1 <= self.workers <= 64:
            raise ValidationError(f"formation {self.name}: concurrency: {self.workers} must be between 1 and 64",
                                  field="concurrency")
        declared = params.get("apps") or {}
        if not isinstance(declared, Mapping):
            raise ValidationError(f"formation {self.name}: apps must be a mapping of app name to app", field="apps")
        self.app_params = {str(name): app_params(params, str(name), app) for name, app in sorted(declared.items())}
        unknown_versions = sorted(set(params.get("versions") or {}) - set(self.app_params))
        if unknown_versions:
            raise ValidationError(f"formation {self.name}: versions: {', '.join(unknown_versions)} not in the "
                                  "formation's apps", field="versions")
        self.check_route_claims()
        self.plans: dict[str, _app.Plan] = {}
        self.listed: dict[str, dict[str, dict[str, Any]]] | None = None
        self.outcomes: dict[str, dict[str, str]] = {}
        self.errors: dict[str, str] = {}
        self.namespace_plan = _app.Plan(self.name, self.namespace)
        self.warnings: list[str] = []

    def _each(self, names: list[str], work: Callable[[str], Any]) -> dict[str, Any]:
        """Run ``work`` for every name over the shared pool; errors are kept per name, never raised."""
        results: dict[str, Any] = {}

        def one(name: str) -> None:
            try:
                results[name] = work(name)
            except SkipperError as exc:
                self.errors[name] = exc.message
                if name in self.plans:
                    self.plans[name].failed(exc)

        if len(names) <= 1 or self.workers == 1:
            for name in names:
                one(name)
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(names))) as pool:
                list(pool.map(one, names))
        return results

    def peers(self) -> dict[str, dict[str, Any]]:
        """Each app's port and routes as declared, for the links between the formation's apps."""
        out = {}
        for name, params in self.app_params.items():
            try:
                routes = check_routes(name, params.get("routes"), params.get("tls_issuer"))
            except ValidationError:
                routes = []  # the app's own plan says what is wrong
            out[name] = {"port": params.get("port") or 8080, "routes": routes}
        return out

    def check_route_claims(self) -> None:
        """Two apps of the formation serving one host and path: refused before anything is read."""
        claims = []
        for name, params in self.app_params.items():
            try:
                claims += [(r["host"], r["path"], f"app {name}")
                           for r in check_routes(name, params.get("routes"), params.get("tls_issuer"))]
            except ValidationError:
                continue
        clashes = _routes.conflicts(claims)
        if clashes:
            raise ValidationError(f"formation {self.name}: routes: {'; '.join(clashes)}; give each host and path one "
                                  "owner. Nothing was changed", field="routes")

    def namespace_exists(self) -> bool:
        probe = _app.Plan(self.name, self.namespace)
        exists = _app.namespace_exists(self.svc, probe, bool(self.params.get("create_namespace")))
        if not exists:
            manifest = res.namespace_manifest(self.namespace)
            self.namespace_plan.record("Namespace", None, self.namespace, "created", {},
                                       compare(None, manifest, manifest)[2])
            self.namespace_plan.new_namespace = manifest
        return exists

    def list_objects(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every Deployment, Service and Ingress of the namespace, by kind and name: one list per kind.

        Not only ours: an object of another owner under an app's name must be
        seen to be refused.
        """
        listed = {kind: {o["metadata"]["name"]: o for o in self.svc.list(kind, self.namespace)}
                  for kind in LISTED_KINDS}
        for kind in OPTIONAL_KINDS:
            items, _why = self.svc.list_optional(kind, self.namespace)
            if items is not None:
                listed[kind] = {o["metadata"]["name"]: o for o in items}
        return listed

    def plan(self, namespace_exists: bool) -> None:
        names = list(self.app_params)
        self.listed = self.list_objects() if namespace_exists else None
        peers = self.peers()
        self.plans.update(self._each(names, lambda n: _app.plan_app(self.svc, self.app_params[n], namespace_exists,
                                                                    self.listed, peers)))
        if namespace_exists:
            self._plan_pruning()

    def still_current(self) -> bool:
        """Whether the objects the plans were made from are still exactly as they were read."""
        if self.listed is None:
            return False
        versions = {kind: {name: o["metadata"].get("resourceVersion") for name, o in objects.items()}
                    for kind, objects in self.listed.items()}
        now = {kind: {name: o["metadata"].get("resourceVersion") for name, o in objects.items()}
               for kind, objects in self.list_objects().items()}
        return versions == now

    def _plan_pruning(self) -> None:
        live = set()
        for deployment in (self.listed or {}).get("Deployment", {}).values():
            labels = deployment["metadata"].get("labels") or {}
            if labels.get(res.MANAGED_BY_LABEL) == res.MANAGER and labels.get(res.FORMATION_LABEL) == self.name:
                live.add(labels.get(res.NAME_LABEL))
        gone = sorted(name for name in live - set(self.app_params) if name)
        if not gone:
            return
        if not self.params.get("prune"):
            self.warnings.append(f"formation {self.name}: app(s) {', '.join(gone)} run in namespace {self.namespace} "
                                 "but are no longer in the formation; set prune: true to remove them")
            return
        if self.params.get("production") and not self.params.get("confirm_production_delete"):
            raise ValidationError(
                f"formation {self.name} is production: pruning app(s) {', '.join(gone)} deletes them; set "
                "confirm_production_delete: true to allow it. Nothing was changed", field="prune")
        removal = {"namespace": self.namespace, "formation": self.name}
        self.plans.update(self._each(gone, lambda n: _app.plan_removal(self.svc, {**removal, "name": n})))

    def execute_and_wait(self) -> None:
        deadline = time.monotonic() + float(self.params.get("wait_timeout") or 300)
        waiting = bool(self.params.get("wait", True))

        def follow(name: str) -> None:
            plan = self.plans[name]
            if waiting and plan.spec is not None and name not in self.errors:
                rollback = bool(self.app_params.get(name, {}).get("rollback_on_failure"))
                self.outcomes[name] = _app.wait(self.svc, plan, deadline, rollback=rollback)
                if self.outcomes[name]["status"] in ("failed", "rolled_back"):
                    self.errors[name] = self.outcomes[name]["message"]

        # Every app's writes first, then the waits: the rollouts run side by
        # side in the cluster instead of one worker's app after another.
        self._each(list(self.plans), lambda name: _app.execute(self.svc, self.plans[name]))
        self._each(list(self.plans), follow)

    def finish(self) -> dict[str, Any]:
        """Write, wait, and return the result; fail naming each app that failed."""
        self.execute_and_wait()
        if self.errors:
            raise self.failure("converge")
        return self.result()

    def make_namespace(self) -> None:
        """Create the namespace, then dry-run every app inside it before any app is written."""
        created = _app.post_namespace(self.svc, self.namespace_plan.new_namespace or {})
        self.namespace_plan.writes_done = 1
        self._each(list(self.plans), lambda n: [dry_run() for dry_run in self.plans[n].dry_runs])
        if self.errors:
            try:
                self.svc.delete(created)
                self.namespace_plan.writes_done = 0
            except SkipperError as exc:
                self.warnings.append(f"namespace {self.namespace} could not be removed again: {exc.message}")
            return
        for plan in self.plans.values():
            plan.dry_runs = []

    def result(self) -> dict[str, Any]:
        apps: dict[str, Any] = {}
        objects = list(self.namespace_plan.objects)
        diffs = list(self.namespace_plan.diffs)
        warnings = list(self.warnings)
        for name in sorted(set(self.app_params) | set(self.plans)):
            plan = self.plans.get(name)
            entry: dict[str, Any] = {"changed": bool(plan and (plan.writes_done if not self.check_mode else plan.changed)),
                                     "objects": plan.objects if plan else []}
            if plan is not None and plan.spec is not None:
                entry.update(app_summary(plan.spec, self.namespace, plan.deployment))
                entry["rollout"] = self.outcomes.get(name) or self._not_waited(plan)
            elif plan is not None:
                entry["removed"] = True
            if name in self.errors:
                entry["failed"] = True
                entry["msg"] = self.errors[name]
            if plan is not None:
                objects += plan.objects
                diffs += plan.diffs
                warnings += plan.warnings
            apps[name] = entry
        if self.check_mode:
            changed = self.namespace_plan.changed or any(p.changed for p in self.plans.values())
        else:
            changed = bool(self.namespace_plan.writes_done) or any(p.writes_done for p in self.plans.values())
        out: dict[str, Any] = {"changed": changed, "apps": apps, "objects": objects, "diff": diffs,
                               "formation": {"name": self.name, "namespace": self.namespace}}
        if warnings:
            out["warnings"] = list(dict.fromkeys(warnings))
        return out

    def _not_waited(self, plan: _app.Plan) -> dict[str, str]:
        if self.check_mode and not plan.changed and plan.deployment is not None:
            state, why = _app.rollout_state(plan.deployment)
            if state == "done":
                return {"status": "succeeded", "message": why}
        return {"status": "not_waited", "message": "check mode" if self.check_mode else "wait is false"}

    def failure(self, stage: str) -> SkipperError:
        failed = sorted(self.errors)
        reasons = "; ".join(f"{name}: {self.errors[name]}" for name in failed)
        verb = "could not be planned, so nothing was written" if stage == "plan" else "failed"
        message = f"formation {self.name}: {len(failed)} of {len(self.app_params)} app(s) {verb}: {reasons}"
        out = self.result()
        if stage == "plan":
            # Nothing was written: what the plans would have done is not reported as done.
            out.update(objects=[], diff=[])
            for entry in out["apps"].values():
                entry["objects"] = []
        return SkipperError(message, **out)


def converge_formation(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    run = FormationRun(svc, params, check_mode)
    svc.client.pool_size(run.workers)
    exists = run.namespace_exists()
    if check_mode or not exists:
        # Check mode writes nothing, and a new namespace has no Lease to take yet.
        return _converge(run, exists)
    run.plan(exists)
    if run.errors:
        raise run.failure("plan")
    if not any(plan.writes for plan in run.plans.values()):
        # Nothing to write: no Lease either, so a no-op converge writes nothing at all.
        return run.finish()
    # Something changes: under the formation's Lease, plan again (another
    # converge may have finished meanwhile) and converge.
    lease = FormationLease(svc, run.namespace, run.name, float(params.get("lock_timeout") or 120))
    with lease:
        if not run.still_current():
            # Another converge changed the formation meanwhile: plan again under the Lease.
            run = FormationRun(svc, params, check_mode)
            run.plan(run.namespace_exists())
            if run.errors:
                raise run.failure("plan")
        result = run.finish()
    if lease.lost:
        result.setdefault("warnings", []).append(lease.lost)
    return result


def _converge(run: FormationRun, exists: bool) -> dict[str, Any]:
    run.plan(exists)
    if run.errors:
        raise run.failure("plan")
    if run.check_mode:
        return run.result()
    if not exists and run.plans:
        run.make_namespace()
        if run.errors:
            raise run.failure("plan")
    return run.finish()

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an app declares beyond its Deployment, Service and routes.

``autoscale`` (an HPA), ``cron`` (CronJobs), ``links`` (environment
variables pointing at other apps), ``volumes`` (claims, built with the
Deployment) and the ``policy`` its manifests must pass. Each feature is
validated first (``declare``, pure), then resolved with reads (``resolve``:
the linked apps' URLs), then checked by policy, all before the first write.
Pruning follows one rule per kind: what the inventory dropped goes, except
claims (kept unless ``delete_volumes``) and what an imperative module made.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import _resource as res
from ._errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from ._app import Plan
    from ._service import Service

try:  # the features that land with their own modules
    from . import _autoscale, _cron, _links, _policy
except ImportError:  # pragma: no cover - until they land
    _autoscale = _cron = _links = _policy = None  # type: ignore[assignment]



class Declared:
    """One app's declared features, validated."""

    def __init__(self, spec: dict[str, Any], params: dict[str, Any]) -> None:
        app = spec["name"]
        self.app = app
        self.autoscale = _autoscale.check_autoscale(app, params.get("autoscale")) if _autoscale else None
        self.cron_declared = params.get("cron") is not None
        self.cron = _cron.check_cron(app, params.get("cron") or []) if _cron and self.cron_declared else []
        self.links = _links.check_links(app, params.get("links") or []) if _links else []
        self.link_env: dict[str, str] = {}
        self.delete_volumes = bool(params.get("delete_volumes"))

    def manifests(self, spec: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.autoscale and _autoscale:
            out.append(_autoscale.hpa_manifest(spec, namespace, self.autoscale))
        if _cron:
            out += [_cron.cronjob_manifest(spec, entry, namespace) for entry in self.cron]
        return out

    def owns(self, kind: str) -> bool:
        """Whether the app must be able to list this kind (it declares some, or has some to remove)."""
        return kind == "CronJob" and self.cron_declared

    def prunes(self, kind: str, obj: dict[str, Any], plan: Plan) -> bool:
        """Whether an object the inventory no longer declares is deleted (else a note says it stays)."""
        if kind == "CronJob":
            return self.cron_declared
        if kind == "PersistentVolumeClaim" and not self.delete_volumes:
            plan.note(f"app {self.app}: PersistentVolumeClaim {plan.namespace}/{obj['metadata']['name']} is no longer "
                      "declared but is kept with its data; set delete_volumes: true to delete it")
            return False
        return True

    def note_takeover(self, obj: dict[str, Any], plan: Plan) -> None:
        meta = obj.get("metadata") or {}
        maker = (meta.get("annotations") or {}).get(res.DECLARED_BY_ANNOTATION)
        plan.note(f"app {self.app}: {obj.get('kind')} {plan.namespace}/{meta.get('name')} was made by {maker}; the "
                  "inventory now declares it, so this run takes it over")


def declare(spec: dict[str, Any], params: dict[str, Any], plan: Plan) -> Declared:
    declared = Declared(spec, params)
    if declared.autoscale is not None:
        if spec["replicas"] is not None:
            plan.note(f"app {spec['name']}: replicas is ignored: autoscale is declared, so the autoscaler sets them")
        spec["replicas"] = None
    return declared


def resolve(svc: Service, spec: dict[str, Any], declared: Declared, namespace: str, exists: bool, plan: Plan) -> None:
    """The linked apps' URLs become environment variables (reads only)."""
    if not declared.links or _links is None:
        return
    env = _links.resolve(svc, namespace, declared.links)
    for var in env:
        if var in spec["env"] or var in spec["secrets"]:
            raise ValidationError(f"app {spec['name']}: links: {var} is also set in env or secrets; give the link a "
                                  "different name", app=spec["name"], field="links")
    spec["env"] = {**spec["env"], **env}
    declared.link_env = env
    spec["annotations"] = {res.LINKS_ANNOTATION: json.dumps(sorted(env), separators=(",", ":"))}


def check_policy(spec: dict[str, Any], params: dict[str, Any], manifests: list[dict[str, Any]], plan: Plan) -> None:
    """The policy's errors stop the run before any write; its warnings become the run's warnings."""
    if _policy is None:
        return
    policy = params.get("policy") or {}
    if not isinstance(policy, dict):
        raise ValidationError(f"app {spec['name']}: policy: must be a mapping with rules and allowed_registries",
                              app=spec["name"], field="policy")
    unknown = set(policy) - {"rules", "allowed_registries"}
    if unknown:
        raise ValidationError(f"app {spec['name']}: policy: unknown keys: {', '.join(sorted(unknown))}",
                              app=spec["name"], field="policy")
    levels = _policy.check_levels(policy.get("rules") or {})
    violations = _policy.evaluate(manifests, levels, production=bool(params.get("production")),
                                  allowed_registries=tuple(policy.get("allowed_registries") or ()))
    errors = [v for v in violations if v["level"] == "error"]
    for violation in violations:
        if violation["level"] == "warning":
            plan.note(_policy.format_violation(violation))
    if errors:
        lines = "; ".join(_policy.format_violation(v) for v in errors)
        raise ValidationError(f"app {spec['name']}: policy: {len(errors)} violation(s), nothing was changed: {lines}",
                              app=spec["name"], field="policy")


def plan_unlink(svc: Service, plan: Plan, unlink: bool) -> None:
    """Apps that link to an app being removed: named in a note, or (``unlink``) their variable is removed."""
    if _links is None:
        return
    linked = _links.linked_from(svc, None, plan.name, plan.namespace)
    if not linked:
        return
    if not unlink:
        names = ", ".join(f"{ns}/{app} ({var})" for ns, app, var in linked)
        plan.note(f"app {plan.name}: still linked from {names}; their variables now point nowhere: set unlink: true "
                  "to remove them, or remove the links")
        return
    for namespace, app, var in linked:
        _links.plan_unlink(svc, plan, namespace, app, var)

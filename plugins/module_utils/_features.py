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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _resource as res
from ._errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from ._app import Plan
    from ._service import Service

from . import _autoscale, _cron, _links, _policy
from ._errors import ApiError


class Declared:
    """One app's declared features, validated."""

    def __init__(self, spec: dict[str, Any], params: dict[str, Any]) -> None:
        app = spec["name"]
        self.app = app
        self.autoscale = _autoscale.check_autoscale(app, params.get("autoscale"))
        self.cron_declared = params.get("cron") is not None
        self.cron = _cron.check_cron(app, params.get("cron") or []) if self.cron_declared else []
        self.links = _links.check_links(app, params.get("links") or [], params.get("namespace"))
        self.link_env: dict[str, str] = {}
        self.delete_volumes = bool(params.get("delete_volumes"))

    def manifests(self, spec: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.autoscale:
            out.append(_autoscale.hpa_manifest(spec, namespace, self.autoscale))
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


def resolve(svc: Service, spec: dict[str, Any], declared: Declared, namespace: str, exists: bool, plan: Plan,
            peers: Mapping[str, Mapping[str, Any]] | None = None,
            services: Mapping[str, dict[str, Any]] | None = None) -> None:
    """The linked apps' URLs become environment variables (reads only).

    ``services`` are Services of the namespace the caller read already, by
    name: a link to one of them needs no read of its own.

    ``peers`` are the other apps of the caller's formation, by name, with the
    ``port`` and ``routes`` they declare: a link to one of them needs no
    read (it may not exist yet), and a link to an app of the same namespace
    that is not one of them is refused.
    """
    if not declared.links:
        return
    env: dict[str, str] = {}
    remote = []
    for index, link in enumerate(declared.links):
        same_namespace = link.get("namespace") in (None, namespace)
        if peers is None or not same_namespace:
            remote.append((index, link))
            continue
        peer = peers.get(link["app"])
        if peer is None:
            raise ValidationError(f"app {spec['name']}: links[{index}].app: {link['app']} is not an app of this "
                                  f"formation (namespace {namespace}); add it to the formation or remove the link",
                                  app=spec["name"], field=f"links[{index}].app")
        if link.get("public"):
            url = _links.public_url(peer.get("routes") or [])
            if url is None:
                raise ValidationError(f"app {spec['name']}: links[{index}].public: app {link['app']} has no route to "
                                      "link to publicly; give it a route or link without public: true",
                                      app=spec["name"], field=f"links[{index}].public")
            env[link["name"]] = url
        else:
            env[link["name"]] = _links.internal_url(link["app"], namespace, int(peer["port"]))
    if remote:
        resolved = _links.resolve(svc, namespace, [{**link, "index": index} for index, link in remote], spec["name"],
                                  services)
        env.update(resolved)
    for var in env:
        if var in spec["env"] or var in spec["secrets"]:
            raise ValidationError(f"app {spec['name']}: links: {var} is also set in env or secrets; give the link "
                                  "another name", app=spec["name"], field="links")
    spec["env"] = {**spec["env"], **env}
    declared.link_env = env
    spec["annotations"] = _links.declared_annotations(namespace, declared.links)


def check_policy(spec: dict[str, Any], params: dict[str, Any], manifests: list[dict[str, Any]], plan: Plan) -> None:
    """The policy's errors stop the run before any write; its warnings become the run's warnings."""
    policy = params.get("policy") or {}
    if not isinstance(policy, Mapping):
        raise ValidationError(f"app {spec['name']}: policy: must be a mapping with rules and allowed_registries",
                              app=spec["name"], field="policy")
    unknown = set(policy) - {"rules", "allowed_registries"}
    if unknown:
        raise ValidationError(f"app {spec['name']}: policy: unknown keys: {', '.join(sorted(map(str, unknown)))} "
                              "(known: rules, allowed_registries)", app=spec["name"], field="policy")
    levels = _policy.check_levels(policy.get("rules") or {})
    violations = _policy.evaluate(manifests, levels, production=bool(params.get("production")),
                                  allowed_registries=tuple(policy.get("allowed_registries") or ()))
    warned: dict[str, list[str]] = {}
    for violation in violations:
        if violation["level"] == "warning":
            # One warning per object and container, naming each rule: a formation of many apps stays readable.
            where, _sep, what = _policy.describe(violation).partition(f": {violation['field']}: ")
            warned.setdefault(where, []).append(what or _policy.describe(violation))
    for where, rules in warned.items():
        plan.note(f"{where}: policy warning(s): {'; '.join(rules)} (set the rules' levels in policy to change this)")
    errors = [v for v in violations if v["level"] == "error"]
    if errors:
        raise ValidationError(f"app {spec['name']}: policy: {len(errors)} violation(s), so nothing was written: "
                              + "; ".join(_policy.describe(v) for v in errors), app=spec["name"], field="policy")


def plan_unlink(svc: Service, plan: Plan, unlink: bool) -> None:
    """Apps that link to an app being removed: named in a note, or (``unlink``) their variables are removed.

    All namespaces are searched when the credentials may list Deployments
    cluster-wide; otherwise the app's own namespace only.
    """
    try:
        linked = _links.linked_from(svc, None, plan.name, plan.namespace)
    except ApiError as exc:
        if exc.status not in (401, 403):
            raise
        linked = _links.linked_from(svc, plan.namespace, plan.name, plan.namespace)
    if not linked:
        return
    if not unlink:
        names = ", ".join(f"{ns}/{app} ({var})" for ns, app, var in linked)
        plan.note(f"app {plan.name}: still linked from {names}; those variables now point nowhere: set unlink: true "
                  "to remove them, or remove the links")
        return
    by_app: dict[tuple[str, str], list[str]] = {}
    for namespace, app, var in linked:
        by_app.setdefault((namespace, app), []).append(var)
    for (namespace, app), variables in sorted(by_app.items()):
        _links.plan_unlink(svc, plan, namespace, app, variables)

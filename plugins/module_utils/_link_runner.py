# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``app_link`` runner: add or remove one link on an app's Deployment.

Plan, as for an app: read the Deployment, build the link manager's whole
claim (every link it holds, with this one added or left out), dry-run it
and compare; write only when the dry run differs from the live object, then
wait for the rollout the new pod template starts.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from . import _app
from . import _links as links
from ._diff import compare
from ._errors import RolloutError, ValidationError
from ._report import is_ours, owner_of, replica_counts
from ._service import Service
from ._spec import check_name, check_namespace
from ._waiter import rollout_state

# check_links names a declared list's fields; this module's options are named otherwise.
OPTION_OF = {"app": "to", "namespace": "to_namespace", "public": "public", "name": "name"}


def _as_options(exc: ValidationError, app: str) -> ValidationError:
    """The message of a check made for ``links[0]``, said with app_link's option names."""
    field = str(exc.details.get("field") or "")
    option = OPTION_OF.get(field.rpartition(".")[2], field) if field.startswith("links[0]") else field
    message = exc.message.replace(f"{field}:", f"{option}:", 1) if field else exc.message
    return ValidationError(message, app=app, field=option)


def link_of(params: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(app, namespace, the normalized link) from the module's options; raises before any request."""
    app = check_name(params.get("app"))
    namespace = check_namespace(params.get("namespace"))
    wanted = {"app": params.get("to"), "namespace": params.get("to_namespace") or namespace,
              "public": bool(params.get("public")), "name": params.get("name")}
    try:
        link = links.check_links(app, [wanted], namespace)[0]
    except ValidationError as exc:
        raise _as_options(exc, app) from None
    link["namespace"] = link["namespace"] or namespace
    return app, namespace, link


def plan_link(svc: Service, params: dict[str, Any]) -> tuple[_app.Plan, dict[str, Any], dict[str, str]]:
    """Reads, the target's URL, a dry run and the comparison; no writes."""
    app, namespace, link = link_of(params)
    present = params.get("state", "present") == "present"
    plan = _app.Plan(app, namespace)
    live = svc.get("Deployment", namespace, app)
    summary = {"app": app, "namespace": namespace, "to": link["app"], "to_namespace": link["namespace"],
               "name": link["name"], "public": link["public"], "url": None}
    if live is None and not present:
        return plan, summary, {}  # no app, no link
    if live is None:
        raise ValidationError(f"app {app}: cannot link it: Deployment {namespace}/{app} not found; deploy the app "
                              "first", app=app, field="app")
    if not is_ours(live, app):
        raise ValidationError(f"app {app}: Deployment {namespace}/{app} is not skipper.platform's ({owner_of(live)}); "
                              "links are added only to apps skipper.platform deployed", app=app, field="app")
    plan.deployment = live
    env = links.container_env(live)
    held = links.recorded(live)
    var, ref = link["name"], links.target_ref(link["app"], link["namespace"])
    url = None
    add: dict[str, tuple[str, str]] = {}
    remove: list[str] = []
    if present:
        try:
            url = links.resolve(svc, namespace, [link], app)[var]
        except ValidationError as exc:
            raise _as_options(exc, app) from None
        if var in env and var not in held and env[var].get("value") != url:
            raise ValidationError(f"app {app}: name: the app already has a variable {var} that no link set (from its "
                                  "env, secrets or declared links); give the link another name", app=app, field="name")
        add[var] = (url, ref)
    elif held.get(var) == ref:
        remove.append(var)
    patch, values = links.claim(live, add, remove)
    predicted = svc.apply(patch, dry_run=True, manager=links.LINK_MANAGER)
    changed, before, after = compare(live, predicted, patch)
    plan.record("Deployment", namespace, app, "updated" if changed else "unchanged", before, after)
    if changed:
        plan.writes.append(functools.partial(svc.apply, patch, dry_run=False, manager=links.LINK_MANAGER))
    summary["url"] = url
    return plan, summary, values


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    plan, summary, values = plan_link(svc, params)
    outcome = {"status": "not_waited", "message": "check mode" if check_mode else "wait is false"}
    if not plan.changed:
        outcome = {"status": "succeeded" if rollout_state(plan.deployment or {})[0] == "done" else "not_waited",
                   "message": "nothing changed"}
    elif not check_mode:
        _app.execute(svc, plan)
        if params.get("wait", True):
            outcome = _app.wait(svc, plan, time.monotonic() + float(params.get("wait_timeout") or 300))
    result: dict[str, Any] = {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs, "link": summary,
                              "links": dict(sorted(values.items())), "rollout": outcome,
                              "replicas": replica_counts(plan.deployment or {})}
    if outcome["status"] == "failed":
        raise RolloutError(outcome["message"], **result)
    return result

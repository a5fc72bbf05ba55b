# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback: put an earlier revision's pod template back into the app's Deployment.

It does what ``kubectl rollout undo`` does. Each revision lives on as a
ReplicaSet (the Deployment keeps 3 old ones) holding the pod template of that
revision plus the ``pod-template-hash`` label; the rollback copies that
template, less the hash label, into the Deployment, and the Deployment's
annotations become that ReplicaSet's (the controller copied them there at the
time) while the controller's own bookkeeping annotations stay. The deployment
controller then reuses the old ReplicaSet and gives it the next revision
number, recording the ones it had in ``deployment.kubernetes.io/revision-history``,
so a named revision is also found there after it was rolled back to.

One departure: the Deployment's ``app.kubernetes.io/version`` label follows the
restored template's, so what app_info reports is the version that runs.

The write is a JSON patch (``replace`` of ``spec.template``), not a
server-side apply: an apply of the old template would leave in place every
field another manager owns that the old template lacks (a label a later
version added), so the template would not be the old one. The patch starts
with a ``test`` of the resourceVersion the ReplicaSets were matched against,
so a Deployment changed in between is left alone. It runs under the field
manager ``skipper.platform-rollback``: the fields it changes become that
manager's, and a deploy of another version from inventory then fails with a
conflict naming it (unless ``force: true``), instead of silently undoing the
rollback.
"""

from __future__ import annotations

import copy
from typing import Any

from . import _app  # the module, not its names: _app imports this one's features (a cycle)
from . import _resource as res
from ._diff import compare
from ._errors import ApiError, ValidationError
from ._report import (
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    is_ours,
    kept_revisions,
    main_container,
    owner_of,
    revision_of,
)
from ._scale import execute_and_wait
from ._service import Service, describe
from ._spec import check_int, check_name, check_namespace

ROLLBACK_MANAGER = _app.ROLLBACK_MANAGER
RESTORED_KEYS = ("revision", "version", "image")
HASH_LABEL = "pod-template-hash"
JSON_PATCH = "application/json-patch+json"
# The Deployment's own annotations that a rollback keeps and never takes from the ReplicaSet (as kubectl).
KEEP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", REVISION_ANNOTATION,
                    REVISION_HISTORY_ANNOTATION, "deployment.kubernetes.io/desired-replicas",
                    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to")


def history(deployment: dict[str, Any], replica_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Deployment's ReplicaSets that carry a revision, oldest first."""
    return kept_revisions(deployment, replica_sets)


def earlier_numbers(replica_set: dict[str, Any]) -> list[int]:
    """The revision numbers a ReplicaSet had before a rollback gave it a new one."""
    text = ((replica_set.get("metadata") or {}).get("annotations") or {}).get(REVISION_HISTORY_ANNOTATION) or ""
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def pod_template(replica_set_or_deployment: dict[str, Any]) -> dict[str, Any]:
    """The pod template without the hash label the ReplicaSet adds."""
    template = copy.deepcopy((replica_set_or_deployment.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return template


def choose(app: str, deployment: dict[str, Any], replica_sets: list[dict[str, Any]],
           revision: int | None) -> dict[str, Any]:
    """The ReplicaSet to restore: revision N (now or before a rollback renumbered it), or the one before.

    Without a revision it is the newest one whose template differs from the
    Deployment's: the previous version, also when the current revision has no
    ReplicaSet yet.
    """
    kept = history(deployment, replica_sets)
    numbers = ", ".join(str(revision_of(rs)) for rs in kept) or "none"
    if revision is not None:
        for rs in kept:
            if revision_of(rs) == revision or revision in earlier_numbers(rs):
                return rs
        raise ValidationError(
            f"app {app}: revision: revision {revision} is not kept; the revisions kept are {numbers}",
            app=app, field="revision")
    current = pod_template(deployment)
    earlier = [rs for rs in kept if pod_template(rs) != current]
    if not earlier:
        raise ValidationError(
            f"app {app}: no earlier revision to roll back to (revisions kept: {numbers}, all running the current "
            "pod template)", app=app, field="revision")
    return earlier[-1]


def version_of(obj: dict[str, Any]) -> dict[str, Any]:
    """Revision, version label and image of a Deployment or ReplicaSet, from its pod template."""
    template = (obj.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    return {"revision": revision_of(obj), "version": labels.get(res.VERSION_LABEL),
            "image": main_container(obj).get("image")}


def restore_patch(deployment: dict[str, Any], replica_set: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON patch that puts the ReplicaSet's template (and annotations) back; [] when nothing differs."""
    template = pod_template(replica_set)
    meta = deployment["metadata"]
    ops: list[dict[str, Any]] = []
    if template != pod_template(deployment):
        ops.append({"op": "replace", "path": "/spec/template", "value": template})
    live_annotations = meta.get("annotations") or {}
    annotations = {k: v for k, v in live_annotations.items() if k in KEEP_ANNOTATIONS}
    annotations.update({k: v for k, v in ((replica_set["metadata"].get("annotations") or {}).items())
                        if k not in KEEP_ANNOTATIONS})
    if annotations != live_annotations:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": annotations})
    version = ((template.get("metadata") or {}).get("labels") or {}).get(res.VERSION_LABEL)
    if version and (meta.get("labels") or {}).get(res.VERSION_LABEL) not in (None, version):
        ops.append({"op": "replace", "path": "/metadata/labels/" + res.VERSION_LABEL.replace("~", "~0").replace("/", "~1"),
                    "value": version})
    if ops:
        ops.insert(0, {"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]})
    return ops


def _patch(svc: Service, deployment: dict[str, Any], ops: list[dict[str, Any]], dry_run: bool) -> dict[str, Any]:
    meta = deployment["metadata"]
    what = describe("Deployment", meta["namespace"], meta["name"])
    query = {"fieldManager": ROLLBACK_MANAGER, "dryRun": "All" if dry_run else None}
    try:
        return svc.client.request(  # type: ignore[no-any-return]
            "PATCH", res.object_path("Deployment", meta["namespace"], meta["name"]), query, ops, JSON_PATCH,
            retry=False)
    except ApiError as exc:
        if exc.status in (409, 422) and "test" in exc.message.lower():
            raise ApiError(f"Failed to roll back {what}: it changed after it was read, so it was left alone; run again",
                           status=exc.status, reason=exc.reason) from None
        raise ApiError(f"Failed to {'dry-run ' if dry_run else ''}roll back {what}: {exc.message}",
                       status=exc.status, reason=exc.reason, causes=exc.causes) from None


def rollback(svc: Service, namespace: str, app: str, revision: int | None, dry_run: bool) -> dict[str, Any]:
    """Restore the previous revision's pod template (or revision ``revision``'s) into the app's Deployment.

    Returns what was restored, ``revision`` (its number before the rollback),
    ``version`` (label) and ``image``, and with them ``changed``,
    ``previous`` (the same three of what ran before), ``deployment`` (as
    written, or as the dry run predicts it) and ``diff`` (one ``{before_header,
    after_header, before, after}`` showing only what differs). With
    ``dry_run`` nothing is written and the result is what the real run would
    do. Raises ValidationError when the Deployment or the revision is missing,
    or the Deployment is paused.
    """
    deployment = svc.get("Deployment", namespace, app)
    what = describe("Deployment", namespace, app)
    if deployment is None:
        raise ValidationError(f"app {app}: cannot roll back: {what} not found", app=app, field="name")
    if not is_ours(deployment, app):
        raise ValidationError(f"app {app}: cannot roll back: {what} is not an app of skipper.platform "
                              f"({owner_of(deployment)})", app=app, field="name")
    if (deployment.get("spec") or {}).get("paused"):
        raise ValidationError(f"app {app}: cannot roll back: {what} is paused; resume it first "
                              "(kubectl rollout resume)", app=app, field="name")
    replica_sets = svc.list("ReplicaSet", namespace, res.selector_string(app))
    target = choose(app, deployment, replica_sets, revision)
    previous = version_of(deployment)
    restored = version_of(target)
    ops = restore_patch(deployment, target)
    result = _patch(svc, deployment, ops, dry_run) if ops else deployment
    changed, before, after = compare(deployment, result, None) if ops else (False, {}, {})
    return {
        **restored,
        "changed": changed,
        "previous": previous,
        "deployment": result,
        "diff": {"before_header": what, "after_header": what, "before": before, "after": after},
    }


def run(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """app_rollback: restore, then wait for the rollout of the restored template."""
    app = check_name(params["name"])
    namespace = check_namespace(params["namespace"])
    revision = params.get("revision")
    if revision is not None:
        revision = check_int(app, "revision", revision, 1)
    outcome = rollback(svc, namespace, app, revision, dry_run=check_mode)
    plan = _app.Plan(app, namespace)
    diff = outcome["diff"]
    plan.record("Deployment", namespace, app, "updated" if outcome["changed"] else "unchanged",
                diff["before"], diff["after"])
    plan.deployment = outcome["deployment"]
    if not check_mode and outcome["changed"]:
        plan.writes_done = 1
        plan.deployment_written = True
    summary = execute_and_wait(svc, plan, params, check_mode)
    app_info: dict[str, Any] = dict(summary or {})
    app_info.update({k: v for k, v in version_of(plan.deployment or {}).items() if k != "revision"})
    return {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs,
            "restored": {k: outcome[k] for k in RESTORED_KEYS}, "previous": outcome["previous"], "app": app_info}

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app's own secret values: the Secret ``<app>-secrets`` and its previous generation.

Every pod of the app reads ``<app>-secrets`` as environment (``envFrom``,
optional). Before a run changes it, its whole content is copied to
``<app>-secrets-previous``, so ``rolled_back`` can make the current values
those of the generation before. Values live in these two Secrets only: the
plan compares them in memory and reports key names with a marker (added,
changed, removed, unchanged), never a value or a hash of one.

``plan`` reads and decides; ``execute`` writes in a fixed order (the previous
generation first); check mode stops after ``plan``, so it predicts the real
run's ``changed`` and diff exactly.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping
from typing import Any

from . import _resource as res
from ._app import Plan, namespace_exists, restart_app
from ._errors import SkipperError, ValidationError
from ._lookup import SECRET_KEY
from ._report import is_ours, owner_of
from ._service import Service, describe
from ._spec import check_name, check_namespace

PREVIOUS_SUFFIX = "-previous"
COMPONENT = "secrets"
STATES = ("present", "absent", "rolled_back")
MARKERS = ("added", "changed", "removed", "unchanged")
HIDDEN = "(hidden)"
MAX_BYTES = 1024 * 1024  # the API server's limit for one Secret


def app_secret_name(app: str) -> str:
    """The Secret the app's pods read their secret values from."""
    return res.app_secret_name(app)


def previous_secret_name(app: str) -> str:
    return app_secret_name(app) + PREVIOUS_SUFFIX


def secret_labels(app: str) -> dict[str, str]:
    labels = dict(res.selector_labels(app))
    labels[res.MANAGED_BY_LABEL] = res.MANAGER
    labels[res.COMPONENT_LABEL] = COMPONENT
    return dict(sorted(labels.items()))


def check_values(app: str, values: Any) -> dict[str, bytes]:
    """Key names and text values; numbers become text, anything else is refused naming the key (never the value)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValidationError(f"app {app}: values: must be a dictionary of key names to values", app=app, field="values")
    checked = {}
    for key, value in values.items():
        _check_key(app, "values", key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(f"app {app}: values.{key}: must be text or a number, not a {type(value).__name__} "
                                  "(the value is not shown)", app=app, field=f"values.{key}")
        checked[str(key)] = str(value).encode("utf-8")
    return checked


def check_remove(app: str, remove: Any) -> list[str]:
    if remove is None:
        return []
    if not isinstance(remove, list):
        raise ValidationError(f"app {app}: remove: must be a list of key names", app=app, field="remove")
    for key in remove:
        _check_key(app, "remove", key)
    return sorted({str(k) for k in remove})


def _check_key(app: str, field: str, key: Any) -> None:
    if not isinstance(key, str) or len(key) > 253 or not SECRET_KEY.match(key):
        raise ValidationError(f"app {app}: {field}: {key!r} is not a valid key name (letters, digits, '-', '_' and "
                              "'.')", app=app, field=field)


def decode(secret: Mapping[str, Any] | None) -> dict[str, bytes] | None:
    if secret is None:
        return None
    try:
        return {k: base64.b64decode(v or "", validate=True) for k, v in (secret.get("data") or {}).items()}
    except (binascii.Error, ValueError):
        meta = secret.get("metadata") or {}
        raise SkipperError(f"{describe('Secret', meta.get('namespace'), meta.get('name', '?'))} holds data that is "
                           "not base64") from None


def encode(data: Mapping[str, bytes]) -> dict[str, str]:
    return {k: base64.b64encode(v).decode("ascii") for k, v in sorted(data.items())}


def markers(before: Mapping[str, bytes] | None, after: Mapping[str, bytes] | None) -> dict[str, str]:
    """Each key's fate, by comparing values in memory; the result holds names and markers only."""
    before, after = before or {}, after or {}
    result = {}
    for key in sorted(set(before) | set(after)):
        if key not in before:
            result[key] = "added"
        elif key not in after:
            result[key] = "removed"
        else:
            result[key] = "unchanged" if before[key] == after[key] else "changed"
    return result


def desired(state: str, current: dict[str, bytes] | None, previous: dict[str, bytes] | None,
            values: Mapping[str, bytes], remove: list[str], app: str) -> dict[str, bytes] | None:
    """The current Secret's data after the run (None: no Secret).

    Pure: the table tests drive it. ``rolled_back`` makes the current values
    the previous generation's, so a second run finds nothing to do.
    """
    if state == "absent":
        return None
    if state == "rolled_back":
        if previous is None:
            raise ValidationError(f"app {app}: state: rolled_back needs a previous generation, and Secret "
                                  f"{previous_secret_name(app)} does not exist (no change was made through app_secret "
                                  "since the values were first set)", app=app, field="state")
        return dict(previous)
    both = sorted(set(values) & set(remove))
    if both:
        raise ValidationError(f"app {app}: the keys {', '.join(both)} are both in values and in remove", app=app,
                              field="remove")
    after = dict(current or {})
    after.update(values)
    for key in remove:
        after.pop(key, None)
    if current is None and not after:
        return None
    return after


def _diff_view(data: Mapping[str, bytes] | None, marks: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a diff shows of a Secret's data: the key names, with the change marker after; never a value."""
    if data is None:
        return {}
    if marks is None:
        return {"data": {key: HIDDEN for key in sorted(data)}}
    return {"data": {key: f"{HIDDEN} {marks.get(key, 'unchanged')}" for key in sorted(data)}}


def _manifest(app: str, namespace: str, name: str, data: Mapping[str, bytes],
              live: dict[str, Any] | None) -> dict[str, Any]:
    """The whole Secret to PUT (the live one with our labels and this data) or POST."""
    if live is not None:
        obj = dict(live)
        meta = dict(obj["metadata"])
        meta["labels"] = {**(meta.get("labels") or {}), **secret_labels(app)}
        obj["metadata"] = meta
        obj["data"] = encode(data)
        obj.pop("stringData", None)
        obj.setdefault("apiVersion", "v1")
        obj.setdefault("kind", "Secret")
        return obj
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": secret_labels(app)},
            "data": encode(data)}


def _refuse_foreign(obj: dict[str, Any] | None, app: str) -> None:
    if obj is None or is_ours(obj, app):
        return
    meta = obj["metadata"]
    raise ValidationError(
        f"app {app}: {describe('Secret', meta.get('namespace'), meta['name'])} exists but is not this app's "
        f"({owner_of(obj)}); skipper.platform never takes over or deletes an object it did not make: remove or rename "
        "that Secret yourself", app=app, field="app")


def _size_check(app: str, data: Mapping[str, bytes] | None) -> None:
    if data is not None and sum(len(k) + len(v) for k, v in data.items()) > MAX_BYTES:
        raise ValidationError(f"app {app}: values: the Secret would hold more than 1 MiB, the API server's limit",
                              app=app, field="values")


def plan(svc: Service, params: Mapping[str, Any]) -> tuple[Plan, dict[str, Any]]:
    """Read both Secrets, decide, and queue the writes; nothing is written here."""
    app = check_name(params["app"])
    namespace = check_namespace(params["namespace"])
    state = params.get("state") or "present"
    if state not in STATES:
        raise ValidationError(f"app {app}: state: must be one of {', '.join(STATES)}", app=app, field="state")
    values = check_values(app, params.get("values"))
    remove = check_remove(app, params.get("remove"))
    if state != "present" and (values or remove):
        raise ValidationError(f"app {app}: values and remove go with state: present only, not {state}", app=app,
                              field="values" if values else "remove")
    if state == "present" and params.get("values") is None and params.get("remove") is None:
        raise ValidationError(f"app {app}: state: present needs values (keys to set) or remove (keys to delete)",
                              app=app, field="values")
    run = Plan(app, namespace)
    namespace_exists(svc, run, create=False)
    name, previous_name = app_secret_name(app), previous_secret_name(app)
    live = svc.get("Secret", namespace, name)
    live_previous = svc.get("Secret", namespace, previous_name)
    _refuse_foreign(live, app)
    _refuse_foreign(live_previous, app)
    current, previous = decode(live), decode(live_previous)
    after = desired(state, current, previous, values, remove, app)
    _size_check(app, after)
    marks = markers(current, after)
    changed_current = current != after
    report: dict[str, Any] = {"secret": name, "namespace": namespace, "key_changes": marks,
                              "previous": {"secret": previous_name, "key_names": sorted(previous or {})}}
    if changed_current:
        if state == "present" and current is not None:
            # The generation being replaced becomes the previous one.
            if previous != current:
                run.record("Secret", namespace, previous_name, "updated" if live_previous else "created",
                           _diff_view(previous), _diff_view(current, markers(previous, current)))
                run.writes.append(_write(svc, _manifest(app, namespace, previous_name, current, live_previous),
                                         live_previous is not None))
            else:
                run.record("Secret", namespace, previous_name, "unchanged")
            report["previous"]["key_names"] = sorted(current)
        if after is None and live is not None:
            run.record("Secret", namespace, name, "deleted", _diff_view(current), {})
            run.writes.append(functools.partial(svc.delete, live))
        elif after is not None:
            run.record("Secret", namespace, name, "updated" if live else "created", _diff_view(current),
                       _diff_view(after, marks))
            run.writes.append(_write(svc, _manifest(app, namespace, name, after, live), live is not None))
    else:
        run.record("Secret", namespace, name, "unchanged")
    if state == "absent" and live_previous is not None:
        run.record("Secret", namespace, previous_name, "deleted", _diff_view(previous), {})
        run.writes.append(functools.partial(svc.delete, live_previous))
        report["previous"]["key_names"] = []
    del live, live_previous, current, previous, after
    return run, report


def _write(svc: Service, manifest: dict[str, Any], exists: bool) -> Callable[[], Any]:
    return functools.partial(svc.replace if exists else svc.create, manifest)


def _execute(run: Plan) -> None:
    for write in run.writes:
        try:
            write()
        except SkipperError as exc:
            # Messages from the API name the object, never the data; the plan's diff holds key names only.
            raise run.failed(exc) from None
        run.writes_done += 1


def converge(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    run, report = plan(svc, params)
    if not check_mode:
        _execute(run)
    result: dict[str, Any] = {"changed": run.changed, "objects": run.objects, "diff": run.diffs, **report,
                              "restart": None}
    if params.get("restart") and run.changed:
        result["restart"] = _restart(svc, params, run, check_mode)
        for warning in result["restart"].pop("warnings", []):
            run.note(warning)
    if run.warnings:
        result["warnings"] = list(run.warnings)
    return result


def _restart(svc: Service, params: Mapping[str, Any], run: Plan, check_mode: bool) -> dict[str, Any]:
    """Roll the app's pods through app's own restart path, so they read the new values."""
    if svc.get("Deployment", run.namespace, run.name) is None:
        run.note(f"app {run.name}: not restarted: Deployment {run.namespace}/{run.name} does not exist yet; its pods "
                 "will read the secret values when it is deployed")
        return {"restarted": False, "rollout": None}
    restart_params = {"name": run.name, "namespace": run.namespace, "restart_id": None,
                      "wait": params.get("wait", True), "wait_timeout": params.get("wait_timeout", 300)}
    try:
        outcome = restart_app(svc, restart_params, check_mode)
    except SkipperError as exc:
        # The secret values were written: say so beside the restart's failure.
        exc.details.update(changed=run.writes_done > 0 or bool(exc.details.get("changed")), objects=run.objects,
                           diff=run.diffs)
        raise
    run.objects.extend(outcome["objects"])
    return {"restarted": bool(outcome["changed"]), "rollout": outcome["app"].get("rollout"),
            "warnings": outcome.get("warnings", [])}

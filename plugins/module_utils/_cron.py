# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app's cron jobs: CronJobs from cron entries, runs on demand, run history.

Pure parts first (table-tested): ``check_cron`` validates an app's ``cron:``
entries and ``cronjob_manifest`` builds one entry's CronJob; both are called
by ``app`` (through ``_features``) and by the ``cron`` module, so their
signatures are stable. Then the ``cron`` module's runner (plan with
``_app.plan_objects``, so check mode and diff are exact; ``run: now``) and
``cron_info``'s reader.

Ownership: an app whose inventory declares ``cron:`` (even empty) owns every
CronJob of the app except those the ``cron`` module made, which carry the
annotation ``skipper.platform/declared-by: skipper.platform.cron``; an app
without ``cron:`` leaves CronJobs alone.
"""

from __future__ import annotations

import copy
import datetime
import functools
import re
import secrets
import time
import zoneinfo
from collections.abc import Mapping
from typing import Any

from . import _resource as res
from ._errors import ApiError, SkipperError, ValidationError
from ._service import Service, describe
from ._spec import DNS1123_LABEL, LABEL_NAME, LABEL_VALUE, check_name, check_namespace, is_subdomain

CRON_LABEL = "skipper.platform/cron"  # on the CronJob, its Jobs and their pods: the entry's name
DECLARED_BY_ANNOTATION = res.DECLARED_BY_ANNOTATION
DECLARED_BY_CRON = "skipper.platform.cron"  # its value on what the cron module made
CRONJOB_NAME_MAX = 52  # a CronJob's Jobs get an 11-character suffix within 63
POLICIES = ("Allow", "Forbid", "Replace")
MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, low, high, names counted from low)
FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
          ("month", 1, 12, MONTHS), ("day of week", 0, 6, DAYS))
ENTRY_KEYS = ("name", "schedule", "command", "timezone", "concurrency_policy", "suspend",
              "successful_history_limit", "failed_history_limit", "starting_deadline", "active_deadline",
              "backoff_limit", "labels")
DEFAULTS = {"concurrency_policy": "Forbid", "suspend": False, "successful_history_limit": 3,
            "failed_history_limit": 1}
TIMEZONE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
INSTANTIATE_ANNOTATION = "cronjob.kubernetes.io/instantiate"  # "manual" on a Job made from a CronJob by hand
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


# -- pure parts
def _fail(app: str, field: str, reason: str) -> ValidationError:
    return ValidationError(f"app {app}: {field}: {reason}", app=app, field=field)


def _value(app: str, field: str, part: str, low: int, high: int, names: tuple[str, ...]) -> int:
    upper = part.upper()
    if names and upper in names:
        return names.index(upper) + low
    if not part.isdigit():
        raise _fail(app, field, f"{part!r} is not a number" + (f" or one of {', '.join(names)}" if names else ""))
    number = int(part)
    if not low <= number <= high:
        raise _fail(app, field, f"{number} is out of range {low}-{high}")
    return number


def check_schedule(app: str, field: str, schedule: Any) -> str:
    """Five fields (minute hour day-of-month month day-of-week) or a macro such as @daily, as the controller reads them."""
    if not isinstance(schedule, str) or not schedule.strip():
        raise _fail(app, field, "must be a cron schedule such as '0 3 * * *' or @daily")
    text = " ".join(schedule.split())
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise _fail(app, field, "give the time zone in timezone, not in the schedule")
    if text.startswith("@"):
        if text not in MACROS:
            raise _fail(app, field, f"{text!r} is not one of {', '.join(MACROS)}")
        return text
    parts = text.split(" ")
    if len(parts) != 5:
        raise _fail(app, field, f"{text!r} has {len(parts)} field(s); a schedule has 5: minute hour day-of-month "
                                "month day-of-week (or a macro such as @daily)")
    for (what, low, high, names), part in zip(FIELDS, parts, strict=True):
        where = f"{field} ({what} {part!r})"
        for item in part.split(","):
            base, slash, step = item.partition("/")
            if slash:
                if not step.isdigit() or int(step) < 1:
                    raise _fail(app, where, f"the step {step!r} must be a whole number of at least 1")
            if base in ("*", "?"):
                if base == "?" and what not in ("day of month", "day of week"):
                    raise _fail(app, where, "'?' is only allowed for the day of month or of week")
                continue
            first, dash, last = base.partition("-")
            start = _value(app, where, first, low, high, names)
            if dash:
                end = _value(app, where, last, low, high, names)
                if end < start:
                    raise _fail(app, where, f"the range {base} runs backwards")
    return text


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(app: str, field: str, zone: Any) -> str:
    if not isinstance(zone, str) or not TIMEZONE.match(zone) or zone == "Local":
        raise _fail(app, field, f"{zone!r} is not a time zone name such as Europe/Paris or UTC")
    zones = _zones()
    if zones and zone not in zones:
        raise _fail(app, field, f"unknown time zone {zone!r} (names come from the tz database, such as "
                                "Europe/Paris, America/New_York or UTC)")
    return zone


def _whole(app: str, field: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            raise _fail(app, field, f"{value!r} is not a whole number") from None
    if value < low:
        raise _fail(app, field, f"{value} must be at least {low}")
    return value


def check_pod_labels(app: str, field: str, labels: Any) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise _fail(app, field, "must be a mapping of label names to values")
    out = {}
    for key, value in labels.items():
        key = str(key)
        prefix, _slash, name = key.rpartition("/")
        if (prefix and not is_subdomain(prefix)) or len(name) > 63 or not LABEL_NAME.match(name):
            raise _fail(app, f"{field}.{key}", "not a valid label name")
        if key.startswith(("app.kubernetes.io/", "skipper.platform/")):
            raise _fail(app, f"{field}.{key}", f"labels under {key.split('/')[0]}/ are set by skipper.platform")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if len(text) > 63 or not LABEL_VALUE.match(text):
            raise _fail(app, f"{field}.{key}", f"{text!r} is not a valid label value")
        out[key] = text
    return dict(sorted(out.items()))


def check_entry(app: str, entry: Any, where: str) -> dict[str, Any]:
    """One cron entry, normalized; ``where`` prefixes the field names (``cron[0]``, or empty for the module)."""
    def field(name: str) -> str:
        return f"{where}.{name}" if where else name

    if not isinstance(entry, Mapping):
        raise _fail(app, where or "cron", "must be a mapping with name, schedule and command")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise _fail(app, field(unknown[0]), f"unknown key; a cron entry takes {', '.join(ENTRY_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or len(name) > 63 or not DNS1123_LABEL.match(name):
        raise _fail(app, field("name"), f"{name!r} is not a DNS label (lower-case letters, digits and '-', starting "
                                        "and ending with a letter or digit)")
    if len(f"{app}-{name}") > CRONJOB_NAME_MAX:
        raise _fail(app, field("name"), f"the CronJob's name {app}-{name} would be longer than {CRONJOB_NAME_MAX} "
                                        "characters; shorten the entry's name")
    out: dict[str, Any] = {"name": name, "schedule": check_schedule(app, field("schedule"), entry.get("schedule"))}
    command = entry.get("command")
    if isinstance(command, str) or not isinstance(command, list | tuple) or not command:
        raise _fail(app, field("command"), "must be a non-empty list of arguments, such as [drush, cron]")
    if any(isinstance(c, dict | list | tuple) or c is None for c in command):
        raise _fail(app, field("command"), "every argument must be a string or a number")
    out["command"] = [str(c) for c in command]
    zone = entry.get("timezone")
    out["timezone"] = None if zone in (None, "") else check_timezone(app, field("timezone"), zone)
    policy = entry.get("concurrency_policy")
    policy = DEFAULTS["concurrency_policy"] if policy in (None, "") else policy
    if policy not in POLICIES:
        raise _fail(app, field("concurrency_policy"), f"{policy!r} must be one of {', '.join(POLICIES)}")
    out["concurrency_policy"] = policy
    suspend = entry.get("suspend")
    if suspend is not None and not isinstance(suspend, bool):
        raise _fail(app, field("suspend"), f"{suspend!r} must be true or false")
    out["suspend"] = bool(suspend)
    for key in ("successful_history_limit", "failed_history_limit"):
        value = entry.get(key)
        out[key] = DEFAULTS[key] if value is None else _whole(app, field(key), value, 0)
    for key, low in (("starting_deadline", 1), ("active_deadline", 1), ("backoff_limit", 0)):
        value = entry.get(key)
        out[key] = None if value is None else _whole(app, field(key), value, low)
    out["labels"] = check_pod_labels(app, field("labels"), entry.get("labels"))
    return out


def check_cron(app: str, entries: Any) -> list[dict[str, Any]]:
    """An app's ``cron:`` list, normalized and in name order; errors name ``cron[i].<field>``. Stable signature."""
    if entries is None:
        return []
    if not isinstance(entries, list | tuple):
        raise _fail(app, "cron", "must be a list of entries with name, schedule and command")
    out = [check_entry(app, entry, f"cron[{i}]") for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for i, entry in enumerate(out):
        if entry["name"] in seen:
            raise _fail(app, f"cron[{i}].name", f"{entry['name']} is given twice")
        seen.add(entry["name"])
    return sorted(out, key=lambda e: e["name"])


def cronjob_name(app: str, entry_name: str) -> str:
    return f"{app}-{entry_name}"


def job_container(app_container: dict[str, Any], command: list[str]) -> dict[str, Any]:
    """The app's container for a job: the command replaced, no ports and no probes."""
    out = {k: copy.deepcopy(v) for k, v in app_container.items()
           if k not in ("ports", "readinessProbe", "livenessProbe", "startupProbe", "command", "args", "lifecycle")}
    out["command"] = list(command)
    return dict(sorted(out.items(), key=lambda kv: (kv[0] != "name", kv[0])))


def build_cronjob(app: str, namespace: str, labels: Mapping[str, str], pod_spec: dict[str, Any],
                  entry: dict[str, Any], annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The CronJob of one entry around a pod spec whose only container is the job's.

    The app's labels, but ``app.kubernetes.io/instance`` is the CronJob's
    name: the app's Service, its Deployment's pods and the pods app_log and
    app_exec pick select name and instance, so a running job's pod is none of
    them. ``managed-by`` and ``name`` still find it as the app's.
    """
    meta_labels = dict(sorted({**labels, res.INSTANCE_LABEL: cronjob_name(app, entry["name"]),
                               CRON_LABEL: entry["name"]}.items()))
    pod_labels = dict(sorted({**meta_labels, **entry.get("labels", {})}.items()))
    job_spec: dict[str, Any] = {}
    if entry.get("active_deadline") is not None:
        job_spec["activeDeadlineSeconds"] = entry["active_deadline"]
    if entry.get("backoff_limit") is not None:
        job_spec["backoffLimit"] = entry["backoff_limit"]
    job_spec["template"] = {"metadata": {"labels": pod_labels},
                            "spec": {**pod_spec, "restartPolicy": "Never"}}
    spec: dict[str, Any] = {"schedule": entry["schedule"]}
    if entry.get("timezone"):
        spec["timeZone"] = entry["timezone"]
    spec["concurrencyPolicy"] = entry["concurrency_policy"]
    spec["suspend"] = entry["suspend"]
    spec["successfulJobsHistoryLimit"] = entry["successful_history_limit"]
    spec["failedJobsHistoryLimit"] = entry["failed_history_limit"]
    if entry.get("starting_deadline") is not None:
        spec["startingDeadlineSeconds"] = entry["starting_deadline"]
    spec["jobTemplate"] = {"metadata": {"labels": meta_labels}, "spec": job_spec}
    meta: dict[str, Any] = {"name": cronjob_name(app, entry["name"]), "namespace": namespace, "labels": meta_labels}
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}


def cronjob_manifest(spec: dict[str, Any], entry: dict[str, Any], namespace: str) -> dict[str, Any]:
    """One entry's CronJob from a normalized app spec: the app's image, env, secrets, volumes. Stable signature."""
    app_container = job_container(res.container(spec), entry["command"])
    return build_cronjob(spec["name"], namespace, res.app_labels(spec), res.pod_spec(spec, app_container), entry)


def from_deployment(deployment: dict[str, Any], entry: dict[str, Any], namespace: str) -> dict[str, Any]:
    """One entry's CronJob from the app's live Deployment (the cron module), marked as the module's."""
    app = deployment["metadata"]["name"]
    template = (deployment.get("spec") or {}).get("template") or {}
    pod = template.get("spec") or {}
    containers = pod.get("containers") or []
    app_container = next((c for c in containers if c.get("name") == res.CONTAINER), containers[0] if containers else None)
    if app_container is None:
        raise SkipperError(f"app {app}: Deployment {namespace}/{app} has no container")
    keep = {k: v for k, v in app_container.items()
            if k in ("name", "image", "env", "envFrom", "resources", "securityContext", "volumeMounts")}
    pod_spec: dict[str, Any] = {"containers": [job_container(keep, entry["command"])]}
    for key in ("securityContext", "volumes", "serviceAccountName", "imagePullSecrets"):
        if pod.get(key):
            pod_spec[key] = copy.deepcopy(pod[key])
    labels = dict(deployment["metadata"].get("labels") or {})
    return build_cronjob(app, namespace, labels, pod_spec, entry, {DECLARED_BY_ANNOTATION: DECLARED_BY_CRON})


def job_manifest(cronjob: dict[str, Any], suffix: str | None = None) -> dict[str, Any]:
    """A Job from a CronJob's jobTemplate, owned by it, as ``kubectl create job --from=cronjob/...`` makes it."""
    meta = cronjob["metadata"]
    template = cronjob["spec"]["jobTemplate"]
    suffix = suffix or secrets.token_hex(4)
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    annotations = dict((template.get("metadata") or {}).get("annotations") or {})
    annotations[INSTANTIATE_ANNOTATION] = "manual"
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": f"{meta['name']}-m{suffix}"[:63], "namespace": meta["namespace"], "labels": labels,
            "annotations": dict(sorted(annotations.items())),
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": meta["name"], "uid": meta["uid"],
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": copy.deepcopy(template["spec"]),
    }


def _condition(job: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return dict(cond)
    return None


def job_result(job: dict[str, Any]) -> str:
    """succeeded, failed or running, from the Job's conditions."""
    if _condition(job, "Complete") or _condition(job, "SuccessCriteriaMet"):
        return "succeeded"
    if _condition(job, "Failed") or _condition(job, "FailureTarget"):
        return "failed"
    return "running"


def _stamp(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def describe_run(job: dict[str, Any]) -> dict[str, Any]:
    """A run (Job) as cron_info and run: now show it."""
    status = job.get("status") or {}
    meta = job["metadata"]
    result = job_result(job)
    start = status.get("startTime") or meta.get("creationTimestamp")
    end = status.get("completionTime")
    if end is None and result == "failed":
        end = (_condition(job, "Failed") or _condition(job, "FailureTarget") or {}).get("lastTransitionTime")
    started, ended = _stamp(start), _stamp(end)
    duration = (ended - started).total_seconds() if started and ended else None
    failed = _condition(job, "Failed")
    return {"job": meta["name"], "start": start, "end": end, "duration": duration, "result": result,
            "manual": (meta.get("annotations") or {}).get(INSTANTIATE_ANNOTATION) == "manual",
            "reason": (failed or {}).get("reason"), "message": (failed or {}).get("message")}


def pod_exit_code(pod: dict[str, Any]) -> int | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated") or (status.get("lastState") or {}).get("terminated")
        if terminated and "exitCode" in terminated:
            return int(terminated["exitCode"])
    return None


def pods_by_job(pods: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Pods grouped by their Job's name, newest first in each group."""
    out: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        job = next((labels[k] for k in JOB_NAME_LABELS if k in labels), None)
        if job:
            out.setdefault(job, []).append(pod)
    for group in out.values():
        group.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)
    return out


# -- the cron module
def check_params(params: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    app = check_name(params["app"])
    namespace = check_namespace(params["namespace"])
    if params.get("state") == "absent":
        name = params.get("name")
        if not isinstance(name, str) or not DNS1123_LABEL.match(name) or len(f"{app}-{name}") > CRONJOB_NAME_MAX:
            raise _fail(app, "name", f"{name!r} is not a DNS label of a cron job of the app")
        return app, namespace, None
    entry = {k: params.get(k) for k in ENTRY_KEYS if params.get(k) is not None}
    if params.get("state") == "suspended":
        entry["suspend"] = True
    for key in ("schedule", "command"):
        if key not in entry:
            raise _fail(app, key, f"required with state {params.get('state') or 'present'}")
    return app, namespace, check_entry(app, entry, "")


def _refuse(live: dict[str, Any] | None, app: str) -> None:
    """The module changes only the app's CronJobs that it made itself."""
    if live is None:
        return
    meta = live["metadata"]
    labels = meta.get("labels") or {}
    what = describe("CronJob", meta.get("namespace"), meta["name"])
    if labels.get(res.MANAGED_BY_LABEL) != res.MANAGER or labels.get(res.NAME_LABEL) != app:
        raise ValidationError(f"app {app}: {what} exists but was not made by skipper.platform for this app; it is "
                              "left alone: pick another name or remove it yourself", app=app, field="name")
    if (meta.get("annotations") or {}).get(DECLARED_BY_ANNOTATION) != DECLARED_BY_CRON:
        raise ValidationError(f"app {app}: {what} is declared in the app's cron list; change it there (or drop it "
                              "from the list first)", app=app, field="name")


def run_cron(svc: Service, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """The cron module: present, suspended or absent, then an optional run now."""
    from ._app import Plan, execute, plan_objects  # the app runner, which may import this module
    from ._diff import compare

    app, namespace, entry = check_params(params)
    name = cronjob_name(app, entry["name"] if entry else params["name"])
    live = svc.get("CronJob", namespace, name)
    _refuse(live, app)
    plan = Plan(app, namespace)
    plan.force = bool(params.get("force"))
    if entry is None:
        if live is not None and not live["metadata"].get("deletionTimestamp"):
            plan.record("CronJob", namespace, name, "deleted", compare(live, None, None)[1], {})
            plan.writes.append(functools.partial(svc.delete, live))
        else:
            plan.record("CronJob", namespace, name, "unchanged")
        if params.get("run"):
            raise _fail(app, "run", "cannot run a cron job with state absent")
    else:
        deployment = svc.get("Deployment", namespace, app)
        if deployment is None:
            raise ValidationError(f"app {app}: Deployment {namespace}/{app} not found; deploy the app first (the "
                                  "cron job takes its image, env and secrets)", app=app, field="app")
        labels = deployment["metadata"].get("labels") or {}
        if labels.get(res.MANAGED_BY_LABEL) != res.MANAGER:
            raise ValidationError(f"app {app}: Deployment {namespace}/{app} was not made by skipper.platform",
                                  app=app, field="app")
        manifest = from_deployment(deployment, entry, namespace)
        plan_objects(svc, plan, [manifest], {("CronJob", name): live})
    if not check_mode:
        execute(svc, plan)
    result: dict[str, Any] = {"changed": plan.changed, "objects": plan.objects, "diff": plan.diffs,
                              "cronjob": {"name": name, "namespace": namespace, "app": app}}
    if entry is not None:
        result["cronjob"].update(schedule=entry["schedule"], timezone=entry["timezone"], suspended=entry["suspend"])
    if params.get("run") == "now":
        result["changed"] = True
        if check_mode:
            result["run"] = {"status": "not_run", "message": "check mode"}
        else:
            result["run"] = run_now(svc, namespace, name, params)
            if result["run"]["result"] != "succeeded" and params.get("fail_on_error", True):
                verb = "did not end in time" if result["run"]["result"] == "timeout" else "failed"
                raise SkipperError(f"app {app}: cron job {name}: run {result['run']['job']} {verb}: "
                                   f"{result['run']['message']}", **result)
    if plan.warnings:
        result["warnings"] = list(plan.warnings)
    return result


def run_now(svc: Service, namespace: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Create a Job from the CronJob and wait for its end (or ``wait_timeout``); its rc and log tail."""
    cronjob = svc.get("CronJob", namespace, name)
    if cronjob is None:
        raise SkipperError(f"CronJob {namespace}/{name} not found, so it cannot be run")
    job = svc.create(job_manifest(cronjob))
    job_name = job["metadata"]["name"]
    timeout = float(params.get("wait_timeout") or 300)
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        state = job_result(job)
        if state != "running" or time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
        delay = min(delay * 1.5, 2.0)
        job = svc.get("Job", namespace, job_name, deadline=deadline + 5) or job
    run = describe_run(job)
    pods = pods_by_job(svc.list("Pod", namespace, f"{JOB_NAME_LABELS[0]}={job_name}")).get(job_name, [])
    run["pod"] = pods[0]["metadata"]["name"] if pods else None
    run["rc"] = pod_exit_code(pods[0]) if pods else None
    run["log"] = _log_tail(svc, namespace, pods[0], int(params.get("log_lines", 20))) if pods else []
    if state == "running":
        run["result"] = "timeout"
        run["message"] = f"still running after {timeout:g} s (wait_timeout); the job goes on"
    elif run["result"] == "failed":
        why = ": ".join(x for x in (run.get("reason"), run.get("message")) if x)
        rc = f"exit code {run['rc']}" if run["rc"] is not None else "no exit code"
        run["message"] = f"{rc}; {why}" if why else rc
    else:
        run["message"] = "succeeded"
    return run


def _log_tail(svc: Service, namespace: str, pod: dict[str, Any], lines: int) -> list[str]:
    if lines <= 0:
        return []
    try:
        text = svc.read_text("Pod", namespace, pod["metadata"]["name"], "log", {"tailLines": lines})
    except ApiError as exc:
        return [f"(log not available: {exc.message})"]
    return (text or "").splitlines()[-lines:]


# -- cron_info
def read_cron(svc: Service, params: dict[str, Any]) -> dict[str, Any]:
    """Each cron job of an app (or of every app in the namespace) with its last runs, newest first."""
    namespace = check_namespace(params["namespace"])
    app = check_name(params["app"]) if params.get("app") else None
    selector = f"{res.MANAGED_BY_LABEL}={res.MANAGER}" + (f",{res.NAME_LABEL}={app}" if app else "") + f",{CRON_LABEL}"
    runs_wanted = int(params.get("runs", 5))
    log_lines = int(params.get("log_lines", 0))
    cronjobs = sorted(svc.list("CronJob", namespace, selector), key=lambda c: c["metadata"]["name"])
    jobs: list[dict[str, Any]] = svc.list("Job", namespace, selector) if cronjobs and runs_wanted else []
    pods = pods_by_job(svc.list("Pod", namespace, selector)) if jobs else {}
    out = []
    for cronjob in cronjobs:
        meta, spec, status = cronjob["metadata"], cronjob.get("spec") or {}, cronjob.get("status") or {}
        uid = meta.get("uid")
        mine = [j for j in jobs if any(o.get("uid") == uid for o in j["metadata"].get("ownerReferences") or [])]
        mine.sort(key=lambda j: ((j.get("status") or {}).get("startTime") or j["metadata"].get("creationTimestamp") or "",
                                 j["metadata"]["name"]), reverse=True)
        runs = []
        for job in mine[:runs_wanted]:
            run = describe_run(job)
            job_pods = pods.get(job["metadata"]["name"], [])
            run["pod"] = job_pods[0]["metadata"]["name"] if job_pods else None
            run["rc"] = pod_exit_code(job_pods[0]) if job_pods else None
            if log_lines > 0:
                run["log"] = _log_tail(svc, namespace, job_pods[0], log_lines) if job_pods else []
            runs.append(run)
        labels = meta.get("labels") or {}
        container = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "containers", [{}])[0]
        out.append({
            "name": labels.get(CRON_LABEL), "cronjob": meta["name"], "app": labels.get(res.NAME_LABEL),
            "namespace": namespace, "schedule": spec.get("schedule"), "timezone": spec.get("timeZone"),
            "suspended": bool(spec.get("suspend")), "concurrency_policy": spec.get("concurrencyPolicy"),
            "command": container.get("command"), "image": container.get("image"),
            "declared_by": "cron module" if (meta.get("annotations") or {}).get(DECLARED_BY_ANNOTATION) else "app",
            "last_schedule_time": status.get("lastScheduleTime"),
            "last_successful_time": status.get("lastSuccessfulTime"),
            "active": len(status.get("active") or []),
            "runs": runs,
        })
    return {"changed": False, "cron_jobs": out}

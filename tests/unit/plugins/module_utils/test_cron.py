# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cron entries, their CronJobs and Jobs (pure), and the cron module's runner on a fake service."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _cron
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils._errors import SkipperError, ValidationError
from ansible_collections.skipper.platform.plugins.module_utils._spec import normalize_app
from test_logs import Pods


@pytest.mark.parametrize("schedule", [
    "0 3 * * *", "*/15 * * * *", "0 0 1 JAN *", "0 9-17/2 * * MON-FRI", "5,10,59 0,23 1-31 1-12 0-6",
    "@daily", "@hourly", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "0  3 * *  *",
    "0 0 ? * *", "5/10 * * * *", "0 0 * * sun",
])
def test_good_schedules(schedule: str) -> None:
    assert _cron.check_schedule("web", "cron[0].schedule", schedule) == " ".join(schedule.split())


@pytest.mark.parametrize(("schedule", "words"), [
    ("60 * * * *", "(minute '60'): 60 is out of range 0-59"),
    ("0 24 * * *", "(hour '24'): 24 is out of range 0-23"),
    ("0 0 0 * *", "(day of month '0'): 0 is out of range 1-31"),
    ("0 0 32 * *", "out of range 1-31"),
    ("0 0 * 13 *", "(month '13'): 13 is out of range 1-12"),
    ("0 0 * * 7", "(day of week '7'): 7 is out of range 0-6"),
    ("0 0 * * FUNDAY", "is not a number or one of SUN"),
    ("*/0 * * * *", "the step '0' must be a whole number"),
    ("5-1 * * * *", "the range 5-1 runs backwards"),
    ("0 3 * *", "has 4 field(s)"),
    ("0 3 * * * *", "has 6 field(s)"),
    ("@often", "is not one of @yearly"),
    ("TZ=UTC 0 3 * * *", "give the time zone in timezone"),
    ("? 3 * * *", "'?' is only allowed"),
    ("", "must be a cron schedule"),
])
def test_bad_schedules(schedule: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        _cron.check_schedule("web", "cron[0].schedule", schedule)
    assert err.value.message.startswith("app web: cron[0].schedule") and words in err.value.message
    assert err.value.details["app"] == "web" and err.value.details["field"].startswith("cron[0].schedule")


def entry(**extra: Any) -> dict[str, Any]:
    return {"name": "nightly", "schedule": "0 3 * * *", "command": ["drush", "cron"], **extra}


def test_check_cron_normalizes_in_name_order() -> None:
    result = _cron.check_cron("web", [entry(name="b", command=["x", 1]), entry(name="a", timezone="Europe/Paris")])
    assert [e["name"] for e in result] == ["a", "b"]
    assert result[0] == {"name": "a", "schedule": "0 3 * * *", "command": ["drush", "cron"], "timezone": "Europe/Paris",
                         "concurrency_policy": "Forbid", "suspend": False, "successful_history_limit": 3,
                         "failed_history_limit": 1, "starting_deadline": None, "active_deadline": None,
                         "backoff_limit": None, "labels": {}}
    assert result[1]["command"] == ["x", "1"]
    assert _cron.check_cron("web", []) == [] and _cron.check_cron("web", None) == []


@pytest.mark.parametrize(("entries", "field", "words"), [
    ("nightly", "cron", "must be a list"),
    (["x"], "cron[0]", "must be a mapping"),
    ([entry(name="Nightly")], "cron[0].name", "is not a DNS label"),
    ([entry(name="night_ly")], "cron[0].name", "is not a DNS label"),
    ([entry(name="n" * 49)], "cron[0].name", "longer than 52"),
    ([entry(), entry()], "cron[1].name", "given twice"),
    ([entry(schedule="0 25 * * *")], "cron[0].schedule (hour '25')", "out of range 0-23"),
    ([entry(timezone="Mars/Olympus")], "cron[0].timezone", "unknown time zone 'Mars/Olympus'"),
    ([entry(timezone="../etc/passwd")], "cron[0].timezone", "is not a time zone name"),
    ([entry(timezone="Local")], "cron[0].timezone", "is not a time zone name"),
    ([entry(command="drush cron")], "cron[0].command", "non-empty list"),
    ([entry(command=[])], "cron[0].command", "non-empty list"),
    ([entry(command=[["x"]])], "cron[0].command", "string or a number"),
    ([entry(concurrency_policy="Never")], "cron[0].concurrency_policy", "one of Allow, Forbid, Replace"),
    ([entry(suspend="yes")], "cron[0].suspend", "true or false"),
    ([entry(successful_history_limit=-1)], "cron[0].successful_history_limit", "at least 0"),
    ([entry(backoff_limit="many")], "cron[0].backoff_limit", "not a whole number"),
    ([entry(starting_deadline=0)], "cron[0].starting_deadline", "at least 1"),
    ([entry(labels={"app.kubernetes.io/part-of": "x"})], "cron[0].labels.app.kubernetes.io/part-of", "set by"),
    ([entry(labels={"a": "b c"})], "cron[0].labels.a", "not a valid label value"),
    ([entry(image="other")], "cron[0].image", "unknown key"),
])
def test_bad_entries(entries: Any, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        _cron.check_cron("web", entries)
    assert err.value.message.startswith(f"app web: {field}: ") and words in err.value.message, err.value.message
    assert err.value.details["app"] == "web"


def app_spec(**extra: Any) -> dict[str, Any]:
    spec = normalize_app({"name": "web", "image": "registry.example.com/web", "version": "1.0.0", "port": 8080,
                          "env": {"LOG_LEVEL": "info"}, "secrets": {"DB": {"secret": "db", "key": "password"}},
                          "probes": {"readiness": {"path": "/healthz"}}, "labels": {"team": "shop"}, **extra})
    spec["formation"] = None
    return spec


def test_cronjob_manifest() -> None:
    [e] = _cron.check_cron("web", [entry(timezone="UTC", active_deadline=600, backoff_limit=0,
                                         labels={"skipper.test/exit-code": "3"})])
    cronjob = _cron.cronjob_manifest(app_spec(), e, "shop")
    labels = {**res.app_labels(app_spec()), "skipper.platform/cron": "nightly",
              "app.kubernetes.io/instance": "web-nightly"}
    assert cronjob["metadata"] == {"name": "web-nightly", "namespace": "shop", "labels": labels}
    assert labels["team"] == "shop" and labels["app.kubernetes.io/managed-by"] == "skipper.platform"
    assert labels["app.kubernetes.io/name"] == "web"  # found as the app's; not selected by its Service
    spec = cronjob["spec"]
    assert {k: v for k, v in spec.items() if k != "jobTemplate"} == {
        "schedule": "0 3 * * *", "timeZone": "UTC", "concurrencyPolicy": "Forbid", "suspend": False,
        "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}
    job = spec["jobTemplate"]
    assert job["metadata"] == {"labels": labels}
    assert job["spec"]["activeDeadlineSeconds"] == 600 and job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]
    assert pod["metadata"]["labels"] == {**labels, "skipper.test/exit-code": "3"}
    assert pod["spec"]["restartPolicy"] == "Never"
    [container] = pod["spec"]["containers"]
    assert container["command"] == ["drush", "cron"] and container["image"] == "registry.example.com/web:1.0.0"
    assert not {"ports", "readinessProbe", "livenessProbe", "startupProbe"} & set(container)
    assert {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}} in container["env"]


def deployment(**labels: str) -> dict[str, Any]:
    manifest = res.deployment(app_spec(), "shop")
    manifest["metadata"]["labels"].update(labels)
    manifest["metadata"]["uid"] = "d1"
    return manifest


def test_from_deployment_marks_the_module() -> None:
    [e] = _cron.check_cron("web", [entry()])
    from_live = _cron.from_deployment(deployment(), e, "shop")
    declared = _cron.cronjob_manifest(app_spec(), e, "shop")
    assert from_live["metadata"]["annotations"] == {"skipper.platform/declared-by": "skipper.platform.cron"}
    assert from_live["spec"] == declared["spec"]  # same job as the app's own list would make


def test_job_manifest_like_kubectl() -> None:
    [e] = _cron.check_cron("web", [entry()])
    cronjob = _cron.cronjob_manifest(app_spec(), e, "shop")
    cronjob["metadata"]["uid"] = "c1"
    job = _cron.job_manifest(cronjob, "abcd1234")
    assert job["metadata"]["name"] == "web-nightly-mabcd1234"
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "web-nightly",
                                                   "uid": "c1", "controller": True, "blockOwnerDeletion": True}]
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["spec"] == cronjob["spec"]["jobTemplate"]["spec"]
    long = dict(cronjob, metadata={**cronjob["metadata"], "name": "w" * 52})
    assert len(_cron.job_manifest(long)["metadata"]["name"]) <= 63


def job(name: str, result: str, start: str = "2026-01-01T00:00:00Z", end: str | None = "2026-01-01T00:00:08Z",
        owner: str = "c1", manual: bool = False) -> dict[str, Any]:
    conditions = {"succeeded": [{"type": "Complete", "status": "True"}],
                  "failed": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                              "message": "Job has reached the specified backoff limit",
                              "lastTransitionTime": end}],
                  "running": []}[result]
    status: dict[str, Any] = {"startTime": start, "conditions": conditions}
    if result == "succeeded":
        status["completionTime"] = end
    labels = {"app.kubernetes.io/name": "web", "app.kubernetes.io/managed-by": "skipper.platform",
              "skipper.platform/cron": "nightly"}
    meta = {"name": name, "namespace": "shop", "labels": labels, "creationTimestamp": start,
            "ownerReferences": [{"kind": "CronJob", "uid": owner}]}
    if manual:
        meta["annotations"] = {"cronjob.kubernetes.io/instantiate": "manual"}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "status": status}


@pytest.mark.parametrize(("result", "end", "duration"), [
    ("succeeded", "2026-01-01T00:00:08Z", 8.0), ("failed", "2026-01-01T00:01:00Z", 60.0), ("running", None, None)])
def test_describe_run(result: str, end: str | None, duration: float | None) -> None:
    run = _cron.describe_run(job("j", result, end=end))
    assert (run["result"], run["end"], run["duration"]) == (result, end, duration)
    assert (run["reason"] is not None) == (result == "failed")


def test_pod_exit_code_and_grouping() -> None:
    pod = {"metadata": {"name": "j-1", "labels": {"batch.kubernetes.io/job-name": "j"}, "creationTimestamp": "b"},
           "status": {"containerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]}}
    older = {"metadata": {"name": "j-0", "labels": {"job-name": "j"}, "creationTimestamp": "a"}, "status": {}}
    assert _cron.pod_exit_code(pod) == 3 and _cron.pod_exit_code(older) is None
    assert [p["metadata"]["name"] for p in _cron.pods_by_job([older, pod])["j"]] == ["j-1", "j-0"]


# -- the runner, on a fake service
@pytest.fixture
def svc() -> Pods:
    fake = Pods()
    fake.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    fake.put(deployment())
    return fake


def params(**extra: Any) -> dict[str, Any]:
    return {"app": "web", "namespace": "shop", "name": "nightly", "schedule": "0 3 * * *", "command": ["drush", "cron"],
            "state": "present", **extra}


def test_four_steps_and_absent(svc: Pods) -> None:
    first = _cron.run_cron(svc, params(), True)
    assert first["changed"] and first["objects"][0]["action"] == "created" and not svc.writes()
    second = _cron.run_cron(svc, params(), False)
    assert second["changed"] and second["diff"] == first["diff"] and len(svc.writes()) == 1
    assert not _cron.run_cron(svc, params(), True)["changed"]
    assert not _cron.run_cron(svc, params(), False)["changed"] and len(svc.writes()) == 1
    suspended = _cron.run_cron(svc, params(state="suspended"), False)
    assert suspended["objects"][0]["action"] == "updated" and suspended["cronjob"]["suspended"] is True
    gone = _cron.run_cron(svc, {"app": "web", "namespace": "shop", "name": "nightly", "state": "absent"}, False)
    assert gone["objects"][0]["action"] == "deleted" and ("CronJob", "shop", "web-nightly") not in svc.objects
    again = _cron.run_cron(svc, {"app": "web", "namespace": "shop", "name": "nightly", "state": "absent"}, False)
    assert not again["changed"]


def test_run_now_in_check_mode_runs_nothing(svc: Pods) -> None:
    result = _cron.run_cron(svc, params(run="now"), True)
    assert result["changed"] and result["run"] == {"status": "not_run", "message": "check mode"}
    assert not svc.writes()


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"app": "api"}, "app", "Deployment shop/api not found; deploy the app first"),
    ({"schedule": "0 0 * * 8"}, "schedule (day of week '8')", "out of range 0-6"),
    ({"timezone": "Nowhere/Town"}, "timezone", "unknown time zone"),
    ({"name": "Nightly!"}, "name", "is not a DNS label"),
    ({"command": None}, "command", "required with state present"),
])
def test_bad_input_writes_nothing(svc: Pods, extra: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        _cron.run_cron(svc, params(**extra), False)
    app = extra.get("app", "web")
    assert err.value.message.startswith(f"app {app}: ") and words in err.value.message
    assert err.value.details == {"app": app, "field": field}
    assert not svc.writes()


def test_refuses_what_the_app_list_or_others_made(svc: Pods) -> None:
    [e] = _cron.check_cron("web", [{"name": "nightly", "schedule": "@daily", "command": ["x"]}])
    svc.put(_cron.cronjob_manifest(app_spec(), e, "shop"))
    with pytest.raises(ValidationError, match="is declared in the app's cron list"):
        _cron.run_cron(svc, params(), False)
    svc.objects[("CronJob", "shop", "web-nightly")]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(ValidationError, match="was not made by skipper.platform for this app"):
        _cron.run_cron(svc, params(), False)
    assert not svc.writes()


def test_read_cron_runs_newest_first(svc: Pods) -> None:
    _cron.run_cron(svc, params(), False)
    uid = svc.objects[("CronJob", "shop", "web-nightly")]["metadata"]["uid"]
    uid_owner = {"owner": uid}
    svc.put(job("web-nightly-1", "succeeded", start="2026-01-01T03:00:00Z", end="2026-01-01T03:00:05Z", **uid_owner))
    svc.put(job("web-nightly-2", "failed", start="2026-01-02T03:00:00Z", end="2026-01-02T03:00:30Z", **uid_owner))
    svc.put(job("web-nightly-m1", "running", start="2026-01-02T09:00:00Z", end=None, manual=True, **uid_owner))
    svc.put(job("other", "succeeded", owner="elsewhere"))
    info = _cron.read_cron(svc, {"namespace": "shop", "app": "web", "runs": 2})
    [cron] = info["cron_jobs"]
    assert (cron["name"], cron["cronjob"], cron["schedule"], cron["declared_by"]) == (
        "nightly", "web-nightly", "0 3 * * *", "cron module")
    assert [(r["job"], r["result"], r["manual"]) for r in cron["runs"]] == [
        ("web-nightly-m1", "running", True), ("web-nightly-2", "failed", False)]
    assert cron["runs"][1]["duration"] == 30.0 and "log" not in cron["runs"][0]
    assert _cron.read_cron(svc, {"namespace": "shop", "app": "api"})["cron_jobs"] == []


def test_run_now_failure(svc: Pods, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[dict[str, Any]] = []

    def create(manifest: dict[str, Any]) -> dict[str, Any]:
        created.append(manifest)
        made = job(manifest["metadata"]["name"], "failed")
        return svc.put(made)

    monkeypatch.setattr(svc, "create", create)
    monkeypatch.setattr(svc, "read_text", lambda *a, **k: "boom\n", raising=False)
    svc.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
             "labels": {"batch.kubernetes.io/job-name": "PLACEHOLDER"}},
             "status": {"containerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]}})
    with pytest.raises(SkipperError) as err:
        _cron.run_cron(svc, params(run="now", wait_timeout=1), False)
    assert "run web-nightly-m" in err.value.message and "failed" in err.value.message
    assert err.value.details["run"]["result"] == "failed" and err.value.details["changed"] is True
    result = _cron.run_cron(svc, params(run="now", fail_on_error=False), False)
    assert result["run"]["result"] == "failed" and result["changed"]

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _waiter

DEADLINE_EXCEEDED = {
    "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
    "message": 'ReplicaSet "web-5c4b9d7f8" has timed out progressing.',
}


@pytest.mark.parametrize(
    ("generation", "status", "state", "why"),
    [
        pytest.param(3, {}, "done", "all replicas updated and available", id="done"),
        pytest.param(4, {}, "progressing", "has not seen the new spec", id="observed-generation-behind"),
        pytest.param(4, {"conditions": [DEADLINE_EXCEEDED]}, "progressing", "has not seen the new spec",
                     id="stale-deadline-is-not-yet-a-failure"),
        pytest.param(3, {"replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2},
                     "progressing", "2 old replica(s) still running", id="old-replicas"),
        pytest.param(3, {"updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1},
                     "progressing", "1 of 2 replica(s) available", id="new-replicas-not-ready"),
        pytest.param(3, {"conditions": [DEADLINE_EXCEEDED], "updatedReplicas": 1, "availableReplicas": 1},
                     "failed", 'ProgressDeadlineExceeded: ReplicaSet "web-5c4b9d7f8" has timed out progressing.',
                     id="progress-deadline-exceeded"),
    ],
)
def test_rollout_state(load, generation: int, status: dict[str, Any], state: str, why: str) -> None:
    deployment = load("deployment_live.yml")
    deployment["metadata"]["generation"] = generation
    deployment["status"].update(status)
    got_state, got_why = _waiter.rollout_state(deployment)
    assert got_state == state
    assert why in got_why


@pytest.mark.parametrize(
    ("deployment", "state"),
    [
        pytest.param({"metadata": {"generation": 1}, "spec": {"replicas": 2}}, "progressing", id="just-created"),
        pytest.param({"metadata": {"generation": 2}, "spec": {"replicas": 0}, "status": {"observedGeneration": 2}},
                     "done", id="scaled-to-zero"),
        pytest.param({"metadata": {"generation": 1}, "spec": {}, "status": {
            "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
            "availableReplicas": 1}}, "done", id="replicas-default-to-one"),
    ],
)
def test_rollout_state_minimal_objects(deployment: dict[str, Any], state: str) -> None:
    assert _waiter.rollout_state(deployment)[0] == state


def test_stuck_pods_reports_scheduler_and_container_reasons(load) -> None:
    pods = load("pods_rollout.yml")["items"]
    # The fixture is recorded (tools/record_fixtures.py): pod names change with every recording, so the two
    # pods of the new revision are told apart by what the scheduler did with them. The old revision's pods,
    # Ready or Terminating, are not stuck.
    new = [p for p in pods if p["metadata"]["labels"]["app.kubernetes.io/version"] == "1.5.0"]
    unschedulable = next(p["metadata"]["name"] for p in new if not p["spec"].get("nodeName"))
    pulling = next(p["metadata"]["name"] for p in new if p["spec"].get("nodeName"))
    expected = {
        unschedulable: {"pod": unschedulable, "phase": "Pending", "fatal": "",
                        "reason": "Unschedulable: 0/1 nodes are available: 1 Insufficient cpu. no new claims to "
                                  "deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found "
                                  "for incoming pod."},
        pulling: {"pod": pulling, "phase": "Pending", "fatal": "yes",
                  "reason": 'container app: ImagePullBackOff: Back-off pulling image "registry.example.com/shop/web:1.5.0"'},
    }
    assert _waiter.stuck_pods(pods) == [expected[p["metadata"]["name"]] for p in new]


def pod(state: dict[str, Any], ready: str = "False", init: bool = False) -> dict[str, Any]:
    statuses = [{"name": "migrate" if init else "app", "ready": False, "state": state}]
    return {"metadata": {"name": "web-1"}, "status": {
        "phase": "Pending" if init else "Running",
        "conditions": [{"type": "Ready", "status": ready}],
        "initContainerStatuses" if init else "containerStatuses": statuses}}


@pytest.mark.parametrize(
    ("given", "reason", "fatal"),
    [
        pytest.param(pod({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting"}}),
                     "container app: CrashLoopBackOff: back-off 40s restarting", "yes", id="crash-loop"),
        pytest.param(pod({"waiting": {"reason": "CreateContainerConfigError",
                                      "message": 'secret "web-db" not found'}}),
                     'container app: CreateContainerConfigError: secret "web-db" not found', "yes",
                     id="missing-secret"),
        pytest.param(pod({"waiting": {"reason": "ErrImagePull"}}), "container app: ErrImagePull", "yes",
                     id="no-message"),
        pytest.param(pod({"waiting": {"reason": "ContainerCreating"}}), "not ready (phase Running)", "",
                     id="still-creating"),
        pytest.param(pod({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
                     "container app exited with code 137 (OOMKilled)", "", id="oom-killed"),
        pytest.param(pod({"waiting": {"reason": "CrashLoopBackOff", "message": "x"}}, init=True),
                     "container migrate: CrashLoopBackOff: x", "yes", id="init-container"),
        pytest.param(pod({"running": {}}), "not ready (phase Running)", "", id="running-not-ready"),
    ],
)
def test_stuck_pods_reasons(given: dict[str, Any], reason: str, fatal: str) -> None:
    (stuck,) = _waiter.stuck_pods([given])
    assert (stuck["reason"], stuck["fatal"]) == (reason, fatal)


def test_ready_and_terminating_pods_are_not_stuck() -> None:
    terminating = pod({"waiting": {"reason": "CrashLoopBackOff"}})
    terminating["metadata"]["deletionTimestamp"] = "2024-05-14T10:15:10Z"
    assert _waiter.stuck_pods([pod({"running": {}}, ready="True"), terminating]) == []


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def states(*sequence: str):
    """A fetch that returns the given states in turn (the last one repeats) and counts its calls."""
    calls: list[str] = []

    def fetch() -> str:
        calls.append(sequence[min(len(calls), len(sequence) - 1)])
        return calls[-1]

    return fetch, calls


def decide(value: str) -> tuple[str, str]:
    return value, f"state {value}"


def test_wait_until_times_out_on_the_fake_clock_without_sleeping() -> None:
    clock = FakeClock()
    fetch, calls = states("progressing")
    state, why, value = _waiter.wait_until(fetch, decide, 10, clock=clock, sleep=clock.sleep)
    assert (state, why, value) == ("timeout", "state progressing", "progressing")
    assert clock.now == pytest.approx(1010.0)
    assert sum(clock.sleeps) == pytest.approx(10.0)
    # Backoff: 0.2 s growing by half each time, never above 2 s, the last sleep cut to the deadline.
    assert clock.sleeps[:5] == pytest.approx([0.2, 0.3, 0.45, 0.675, 1.0125])
    assert max(clock.sleeps) == 2.0
    assert len(calls) == len(clock.sleeps) + 1


@pytest.mark.parametrize(
    ("sequence", "expected", "fetches"),
    [
        pytest.param(("done",), "done", 1, id="done-at-once"),
        pytest.param(("failed",), "failed", 1, id="failed-at-once"),
        pytest.param(("progressing", "progressing", "done"), "done", 3, id="done-after-polling"),
        pytest.param(("progressing", "failed"), "failed", 2, id="failed-after-polling"),
    ],
)
def test_wait_until_stops_on_done_or_failed(sequence: tuple[str, ...], expected: str, fetches: int) -> None:
    clock = FakeClock()
    fetch, calls = states(*sequence)
    state, value = _waiter.wait_until(fetch, decide, 300, clock=clock, sleep=clock.sleep)[::2]
    assert (state, value) == (expected, expected)
    assert len(calls) == fetches
    assert len(clock.sleeps) == fetches - 1


def test_wait_until_uses_the_value_already_fetched() -> None:
    clock = FakeClock()
    fetch, calls = states("progressing")
    assert _waiter.wait_until(fetch, decide, 300, clock=clock, sleep=clock.sleep, first="done")[0] == "done"
    assert calls == []
    assert clock.sleeps == []


def test_wait_until_with_no_time_left_still_looks_once() -> None:
    clock = FakeClock()
    fetch, calls = states("progressing")
    assert _waiter.wait_until(fetch, decide, 0, clock=clock, sleep=clock.sleep)[0] == "timeout"
    assert (len(calls), clock.sleeps) == (1, [])

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollout predicates (pure) and one polling loop with an injected clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# Container states that will not fix themselves by waiting a little longer.
FATAL_WAITING = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff",
                 "CreateContainerConfigError", "CreateContainerError", "RunContainerError")


def replicas_of(deployment: dict[str, Any]) -> dict[str, int]:
    status = deployment.get("status") or {}
    return {
        "desired": int((deployment.get("spec") or {}).get("replicas", 1)),
        "current": int(status.get("replicas", 0)),
        "updated": int(status.get("updatedReplicas", 0)),
        "ready": int(status.get("readyReplicas", 0)),
        "available": int(status.get("availableReplicas", 0)),
    }


def rollout_state(deployment: dict[str, Any]) -> tuple[str, str]:
    """("done" | "progressing" | "failed", explanation)."""
    meta = deployment.get("metadata") or {}
    status = deployment.get("status") or {}
    if (deployment.get("spec") or {}).get("paused"):
        return "failed", "the Deployment is paused: resume it (kubectl rollout resume) before deploying"
    if int(status.get("observedGeneration", 0)) < int(meta.get("generation", 0)):
        return "progressing", "the controller has not seen the new spec yet"
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return "failed", f"ProgressDeadlineExceeded: {cond.get('message', '')}"
    r = replicas_of(deployment)
    if r["updated"] == r["ready"] == r["available"] == r["desired"] and r["current"] == r["desired"]:
        return "done", "all replicas updated and available"
    if r["current"] > r["updated"]:
        return "progressing", f"{r['current'] - r['updated']} old replica(s) still running"
    return "progressing", f"{r['available']} of {r['desired']} replica(s) available"


def stuck_pods(pods: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pods that are not ready, each with the scheduler's or the container's reason."""
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        reason = ""
        fatal = False
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                reason = f"{cond.get('reason', 'Unschedulable')}: {cond.get('message', '')}".strip()
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            waiting = (cs.get("state") or {}).get("waiting")
            terminated = (cs.get("state") or {}).get("terminated")
            if waiting and waiting.get("reason") not in (None, "ContainerCreating", "PodInitializing"):
                reason = f"container {cs.get('name')}: {waiting.get('reason')}: {waiting.get('message', '')}".strip(": ")
                fatal = fatal or waiting.get("reason") in FATAL_WAITING
            elif terminated and terminated.get("exitCode", 0) != 0:
                reason = f"container {cs.get('name')} exited with code {terminated.get('exitCode')} ({terminated.get('reason', '')})"
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if not ready:
            out.append({"pod": meta.get("name", "?"), "phase": status.get("phase", "Unknown"),
                        "reason": reason or f"not ready (phase {status.get('phase', 'Unknown')})",
                        "fatal": "yes" if fatal else ""})
    return out


def wait_until(
    fetch: Callable[[], Any],
    decide: Callable[[Any], tuple[str, str]],
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    first: Any = None,
) -> tuple[str, str, Any]:
    """Poll ``fetch`` until ``decide`` says done or failed, or the time is up.

    ``first`` is a value already fetched (the read that preceded the wait), so
    a finished rollout costs no extra request.
    """
    deadline = clock() + timeout
    delay = 0.2
    value = first if first is not None else fetch()
    while True:
        state, why = decide(value)
        if state in ("done", "failed"):
            return state, why, value
        if clock() >= deadline:
            return "timeout", why, value
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 1.5, 2.0)
        value = fetch()

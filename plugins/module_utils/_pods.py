# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Choosing an app's pods: the ready ones, or one named by the user."""

from __future__ import annotations

from typing import Any

from ._errors import ValidationError
from ._resource import selector_labels, selector_string
from ._service import Service


def is_ready(pod: dict[str, Any]) -> bool:
    """Running, not being deleted, and its Ready condition true."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def ready_pods(svc: Service, namespace: str, app: str) -> list[dict[str, Any]]:
    """The app's ready pods, oldest first (then by name): the first is the one a single command runs in.

    Raises ValidationError naming the app and the namespace when the app has no pod ready.
    """
    pods = svc.list("Pod", namespace, selector_string(app))
    ready = [pod for pod in pods if is_ready(pod)]
    if not ready:
        deployment = svc.get("Deployment", namespace, app)
        if deployment is None:
            raise ValidationError(f"app {app} does not exist in namespace {namespace} (no Deployment {app})",
                                  app=app, field="name")
        raise ValidationError(f"app {app} in namespace {namespace} has no ready pod ({len(pods)} pod(s), none "
                              "ready)", app=app, field="name")
    ready.sort(key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
    return ready


def named_pod(svc: Service, namespace: str, app: str, name: str) -> dict[str, Any]:
    """The pod called ``name``, which must belong to the app and be ready."""
    pod = svc.get("Pod", namespace, name)
    if pod is None:
        raise ValidationError(f"app {app}: pod {name} does not exist in namespace {namespace}", app=app, field="pod")
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in selector_labels(app).items()):
        raise ValidationError(f"app {app}: pod {namespace}/{name} is not one of the app's pods", app=app, field="pod")
    if not is_ready(pod):
        raise ValidationError(f"app {app}: pod {namespace}/{name} is not ready", app=app, field="pod")
    return pod


def choose(svc: Service, namespace: str, app: str, pod: str | None, all_pods: bool) -> list[dict[str, Any]]:
    """The pods a command runs in: the named one, every ready one, or the first ready one."""
    if pod:
        return [named_pod(svc, namespace, app, pod)]
    pods = ready_pods(svc, namespace, app)
    return pods if all_pods else pods[:1]

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading apps back from the cluster (app_info, the status view): reads only."""

from __future__ import annotations

from typing import Any

from . import _resource as res
from ._app import owned_selector
from ._errors import ValidationError
from ._report import describe_app, links_of, revisions_of, volumes_of
from ._service import Service
from ._spec import LABEL_VALUE, check_name, check_namespace


# Answers that mean an optional read cannot be made here, rather than that
# something is wrong: the API is not served (no metrics-server), the
# credentials may not read it (the least-privilege Role), or an aggregated
# API's server is down. The fields drawn from it are then null.
def check_formation(formation: Any) -> str:
    if not isinstance(formation, str) or not formation or len(formation) > 63 or not LABEL_VALUE.match(formation):
        raise ValidationError(
            f"formation {formation}: must be a label value of 1 to 63 characters (letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit)", field="formation")
    return formation


def _optional(svc: Service, unavailable: list[str], kind: str, namespace: str, selector: str | None,
              instead: str) -> list[dict[str, Any]] | None:
    """A list that only enriches the report: None (and a note saying why) when it cannot be read."""
    items, why = svc.list_optional(kind, namespace, selector)
    if items is None:
        unavailable.append(f"{res.served_as(kind)} in namespace {namespace}: {why}; {instead}")
    return items


def read_apps(svc: Service, namespace: str, name: str | None, formation: str | None = None) -> dict[str, Any]:
    """Every app skipper.platform made in the namespace (or one, or one formation's), in name order.

    One list per kind whatever the number of apps, and none past the first
    when there is no app.
    """
    namespace = check_namespace(namespace)
    selector = owned_selector(check_name(name) if name else None)
    if formation is not None:
        selector += f",{res.FORMATION_LABEL}={check_formation(formation)}"
    deployments = svc.list("Deployment", namespace, selector)
    unavailable: list[str] = []
    apps = []
    if deployments:
        ingresses = svc.list("Ingress", namespace, selector)
        replica_sets = _optional(svc, unavailable, "ReplicaSet", namespace, selector,
                                 "last_deployed comes from the Deployments' Progressing condition")
        # Not by our labels: an autoscaler made by hand counts too (describe_app matches it by name and target).
        autoscalers = _optional(svc, unavailable, "HorizontalPodAutoscaler", namespace, None, "autoscale is null")
        pod_metrics = _optional(svc, unavailable, "PodMetrics", namespace, selector, "usage is null")
        claims = _optional(svc, unavailable, "PersistentVolumeClaim", namespace, selector,
                           "volumes have no size or phase")
        # Links in come from every app of the namespace, not only those asked for.
        everyone = deployments if selector == owned_selector() else svc.list("Deployment", namespace, owned_selector())
        for deployment in sorted(deployments, key=lambda d: d["metadata"]["name"]):
            app = (deployment["metadata"].get("labels") or {}).get(res.NAME_LABEL)
            mine = [i for i in ingresses if (i["metadata"].get("labels") or {}).get(res.NAME_LABEL) == app]
            described = describe_app(deployment, mine, replica_sets, autoscalers, pod_metrics)
            described["revisions"] = revisions_of(deployment, replica_sets)
            described["volumes"] = volumes_of(deployment, claims)
            described["links"] = links_of(deployment, everyone)
            apps.append(described)
    return {"changed": False, "apps": apps, "unavailable": unavailable}

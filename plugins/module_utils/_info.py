# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading apps back from the cluster (app_info, the status view): reads only."""

from __future__ import annotations

from typing import Any

from . import _resource as res
from ._app import owned_selector
from ._report import describe_app
from ._service import Service
from ._spec import check_name, check_namespace


def read_apps(svc: Service, namespace: str, name: str | None) -> dict[str, Any]:
    namespace = check_namespace(namespace)
    selector = owned_selector(check_name(name) if name else None)
    deployments = svc.list("Deployment", namespace, selector)
    ingresses = svc.list("Ingress", namespace, selector)
    apps = []
    for deployment in sorted(deployments, key=lambda d: d["metadata"]["name"]):
        app = (deployment["metadata"].get("labels") or {}).get(res.NAME_LABEL)
        mine = [i for i in ingresses if (i["metadata"].get("labels") or {}).get(res.NAME_LABEL) == app]
        apps.append(describe_app(deployment, mine))
    return {"changed": False, "apps": apps}

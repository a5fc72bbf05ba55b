"""An in-memory stand-in for _service.Service: objects by kind, namespace and name, scripted failures."""

from __future__ import annotations

import copy
import re
from typing import Any

from ansible_collections.skipper.platform.plugins.module_utils import _app
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, SkipperError
from ansible_collections.skipper.platform.plugins.module_utils._service import UNAVAILABLE, describe

FORBIDDEN = ApiError("403 Forbidden: not for you", status=403, reason="Forbidden")


class FakeClient:
    """What the runners ask of the client beyond the service: a cluster-wide list, and the pool's size."""

    def __init__(self, service: FakeService | None = None) -> None:
        self.service = service

    def pool_size(self, connections: int) -> None:
        self.connections = connections

    def request(self, method: str, path: str, query: dict[str, Any] | None = None, **_kwargs: Any) -> Any:
        """GET of a kind in all namespaces (``/apis/apps/v1/deployments``), by label selector."""
        assert self.service is not None and method == "GET"
        kind = next(k for k, (prefix, plural, _ns) in res.KINDS.items() if path == f"{prefix}/{plural}")
        self.service._maybe_fail("list-all", kind)
        selector = (query or {}).get("labelSelector")
        return {"items": [copy.deepcopy(o) for (k, _ns, _name), o in self.service.objects.items() if k == kind and
                          selects(selector, o)]}


class FakeService:
    """Objects by (kind, namespace, name); every call is logged; failures can be scripted per call."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, ...]] = []
        self.fail: dict[tuple[str, ...], SkipperError] = {}
        self.uids = 0
        self.stall = False  # Deployments written while set never become ready
        self.client = FakeClient(self)

    # -- helpers for the tests
    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        self.uids += 1
        meta.setdefault("uid", f"uid-{self.uids}")
        meta["resourceVersion"] = str(int(meta.get("resourceVersion", "0")) + 1)
        if obj["kind"] == "Deployment":
            replicas = obj["spec"].get("replicas", 1)
            meta["generation"] = meta.get("generation", 0) + 1
            ready = 0 if self.stall else replicas
            obj["status"] = {"observedGeneration": meta["generation"], "replicas": replicas,
                             "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready}
        self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = obj
        return obj

    def writes(self) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[0] in ("apply", "create", "delete")]

    def _maybe_fail(self, *call: str) -> None:
        self.calls.append(call)
        if call in self.fail:
            raise self.fail[call]

    # -- the Service interface the runner uses
    def get(self, kind: str, namespace: str | None, name: str, subresource: str | None = None,
            deadline: float | None = None) -> dict[str, Any] | None:
        self._maybe_fail("get", kind, name)
        found = self.objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found else None

    def list(self, kind: str, namespace: str | None, selector: str | None = None,
             deadline: float | None = None) -> list[dict[str, Any]]:
        self._maybe_fail("list", kind)
        return [copy.deepcopy(o) for (k, ns, _name), o in self.objects.items() if k == kind and ns == namespace and
                selects(selector, o)]

    def list_optional(self, kind: str, namespace: str, selector: str | None = None,
                      deadline: float | None = None) -> tuple[list[dict[str, Any]] | None, str]:
        try:
            return self.list(kind, namespace, selector, deadline), ""
        except ApiError as exc:
            if exc.status not in UNAVAILABLE:
                raise
            return None, UNAVAILABLE[exc.status]

    def apply(self, manifest: dict[str, Any], dry_run: bool, force: bool = False, manager: str = res.MANAGER,
              subresource: str | None = None, deadline: float | None = None) -> dict[str, Any]:
        meta = manifest["metadata"]
        self._maybe_fail("dry-run" if dry_run else "apply", manifest["kind"], meta["name"])
        key = (manifest["kind"], meta.get("namespace"), meta["name"])
        if manifest["kind"] != "Namespace" and ("Namespace", None, meta.get("namespace")) not in self.objects:
            raise ApiError(f"404 NotFound: namespaces \"{meta.get('namespace')}\" not found", status=404)
        live = self.objects.get(key)
        merged = copy.deepcopy(manifest) if manager == res.MANAGER else _merge(copy.deepcopy(live or {}), manifest)
        if live:
            merged["metadata"].update({k: live["metadata"][k] for k in ("uid", "resourceVersion") if k in live["metadata"]})
            if merged == live or _app.compare(live, merged, manifest)[0] is False:
                return copy.deepcopy(live)
        return merged if dry_run else self.put(merged)

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        self._maybe_fail("create", manifest["kind"], manifest["metadata"]["name"])
        return self.put(manifest)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        self._maybe_fail("replace", obj["kind"], meta["name"])
        live = self.objects.get((obj["kind"], meta.get("namespace"), meta["name"]))
        if live is None or live["metadata"]["resourceVersion"] != meta.get("resourceVersion"):
            raise ApiError("409 Conflict: the object has been modified", status=409)
        obj = copy.deepcopy(obj)
        obj["metadata"]["uid"] = live["metadata"]["uid"]
        return self.put(obj)

    def delete(self, obj: dict[str, Any], deadline: float | None = None) -> None:
        meta = obj["metadata"]
        self._maybe_fail("delete", obj["kind"], meta["name"])
        key = (obj["kind"], meta.get("namespace"), meta["name"])
        live = self.objects.get(key)
        if live and (live["metadata"]["uid"], live["metadata"]["resourceVersion"]) != (meta["uid"], meta["resourceVersion"]):
            raise ApiError(f"Failed to delete {describe(obj['kind'], meta.get('namespace'), meta['name'])}: it changed "
                           "after it was read", status=409)
        self.objects.pop(key, None)


def selects(selector: str | None, obj: dict[str, Any]) -> bool:
    """A label selector of ``key=value`` and ``key in (a,b)`` terms, as the API server reads it."""
    labels = obj["metadata"].get("labels") or {}
    terms = re.findall(r"([^,=\s]+)\s+in\s+\(([^)]*)\)|([^,=]+)=([^,]*)", selector or "")
    for in_key, in_values, key, value in terms:
        if in_key and labels.get(in_key) not in [v.strip() for v in in_values.split(",")]:
            return False
        if key and labels.get(key) != value:
            return False
    return True


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base

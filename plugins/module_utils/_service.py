# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes operations on whole objects: get, list, create, dry-run, apply, delete.

Everything here raises SkipperError subclasses whose messages name the
operation, the object and the API's reason. Every method takes an optional
``deadline`` (a ``time.monotonic()`` value) for callers that wait: it is
passed to each request, never stored on the shared client, so concurrent
waits over one pool keep their own.
"""

from __future__ import annotations

import builtins
from typing import Any

from ._client import Client
from ._errors import ApiError, ConnectionFailure, SkipperError
from ._resource import API_VERSIONS, MANAGER, collection_path, object_path, served_as

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"  # JSON is valid YAML
# Why a list that only enriches a report could not be had; anything else is an error.
UNAVAILABLE = {
    403: "forbidden for these credentials",
    404: "not served by the API server",
    503: "not answering (503)",
}
_RAISE = object()  # marks "a 404 is an error" for Service._call


def describe(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def conflict_managers(exc: ApiError) -> tuple[list[str], list[str]]:
    """The field managers and fields named by a server-side apply conflict."""
    managers = sorted({c.get("message", "").split('"')[1] for c in exc.causes if c.get("message", "").count('"') >= 2})
    fields = sorted({c.get("field", "") for c in exc.causes if c.get("field")})
    return managers, fields


def _wrap(op: str, what: str, exc: SkipperError) -> SkipperError:
    message = f"Failed to {op} {what}: {exc.message}"
    if not isinstance(exc, ApiError):
        return type(exc)(message, **exc.details)
    if exc.status == 409 and exc.causes:
        managers, fields = conflict_managers(exc)
        if managers:
            # Only objects already ours get this far (foreign ones are refused
            # before any dry run), so taking the fields over is the user's call.
            message = (f"Failed to {op} {what}: field(s) {', '.join(fields) or '?'} are managed by "
                       f"{', '.join(managers)}; set force: true to take them over")
            if fields == [".spec.replicas"]:
                # The hand-over between inventory and a scale by hand or by an autoscaler.
                message = (f"Failed to {op} {what}: the replica count was last set by {', '.join(managers)}, not by "
                           "this inventory; either drop replicas from the app (the count set by hand or by the "
                           "autoscaler stays), or set force: true to apply the inventory's count")
    return ApiError(message, status=exc.status, reason=exc.reason, causes=exc.causes)


class Service:
    def __init__(self, client: Client) -> None:
        self.client = client

    def _call(self, op: str, what: str, method: str, path: str, query: dict[str, Any] | None = None,
              body: Any = None, content_type: str = "application/json", absent: Any = _RAISE,
              **request: Any) -> Any:
        """One request; errors name the operation and the object. ``absent`` is returned on 404."""
        try:
            return self.client.request(method, path, query, body, content_type, **request)
        except ApiError as exc:
            if exc.status == 404 and absent is not _RAISE:
                return absent
            raise _wrap(op, what, exc) from None
        except ConnectionFailure as exc:
            raise _wrap(op, what, exc) from None

    def get(self, kind: str, namespace: str | None, name: str, subresource: str | None = None,
            deadline: float | None = None) -> dict[str, Any] | None:
        """The object (or its subresource), or None when it does not exist."""
        what = describe(kind, namespace, name) + (f" ({subresource})" if subresource else "")
        return self._call("read", what, "GET",  # type: ignore[no-any-return]
                          object_path(kind, namespace, name, subresource), absent=None, deadline=deadline)

    def list(self, kind: str, namespace: str | None, selector: str | None = None,
             deadline: float | None = None) -> list[dict[str, Any]]:
        where = f"in namespace {namespace}" if namespace else "in the cluster"
        try:
            doc = self._call("list", f"{kind} objects {where}", "GET", collection_path(kind, namespace),
                             {"labelSelector": selector}, deadline=deadline)
        except ApiError as exc:
            if exc.status == 404:
                # A list is never "not found" for want of objects: an empty
                # namespace gives an empty list. A 404 means the API is not served.
                raise ApiError(f"Failed to list {kind} objects {where}: the API server does not serve "
                               f"{served_as(kind)} (404)", status=404, reason="NotServed") from None
            raise
        items = list((doc or {}).get("items") or [])
        for item in items:  # list items come without these; single reads have them
            item.setdefault("apiVersion", API_VERSIONS[kind])
            item.setdefault("kind", kind)
        return items

    def list_optional(self, kind: str, namespace: str, selector: str | None = None,
                      deadline: float | None = None) -> tuple[builtins.list[dict[str, Any]] | None, str]:
        """A list that only enriches a report: (items, "") or (None, why the API would not give it)."""
        try:
            return self.list(kind, namespace, selector, deadline=deadline), ""
        except ApiError as exc:
            if exc.status not in UNAVAILABLE:
                raise
            return None, UNAVAILABLE[exc.status]

    def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """POST: never retried, so a create is never sent twice. 409 raises (the caller decides)."""
        meta = manifest["metadata"]
        kind = manifest["kind"]
        return self._call("create", describe(kind, meta.get("namespace"), meta["name"]),  # type: ignore[no-any-return]
                          "POST", collection_path(kind, meta.get("namespace")), None, manifest)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT the whole object; its resourceVersion makes it fail (409) if the object moved on since it was read."""
        meta = obj["metadata"]
        return self._call("update", describe(obj["kind"], meta.get("namespace"), meta["name"]),  # type: ignore[no-any-return]
                          "PUT", object_path(obj["kind"], meta.get("namespace"), meta["name"]), None, obj,
                          retry=False)

    def apply(self, manifest: dict[str, Any], dry_run: bool, force: bool = False, manager: str = MANAGER,
              subresource: str | None = None, deadline: float | None = None) -> dict[str, Any]:
        meta = manifest["metadata"]
        query = {"fieldManager": manager, "force": "true" if force else "false", "dryRun": "All" if dry_run else None}
        return self._call(  # type: ignore[no-any-return]
            "dry-run apply" if dry_run else "apply", describe(manifest["kind"], meta.get("namespace"), meta["name"]),
            "PATCH", object_path(manifest["kind"], meta.get("namespace"), meta["name"], subresource), query, manifest,
            APPLY_CONTENT_TYPE, deadline=deadline,
        )

    def delete(self, obj: dict[str, Any], deadline: float | None = None) -> None:
        """Delete the object as it was read: if it was replaced or changed since, nothing is deleted.

        The uid and resourceVersion preconditions make a repeat safe, so this
        request may be retried; already gone counts as deleted.
        """
        kind, meta = obj["kind"], obj["metadata"]
        what = describe(kind, meta.get("namespace"), meta["name"])
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
                "preconditions": {"uid": meta["uid"], "resourceVersion": meta["resourceVersion"]}}
        try:
            self._call("delete", what, "DELETE", object_path(kind, meta.get("namespace"), meta["name"]),
                       body=body, absent=None, deadline=deadline)
        except ApiError as exc:
            if exc.status == 409:
                raise ApiError(f"Failed to delete {what}: it changed after it was read (someone else updated or "
                               "replaced it), so it was left alone; run again", status=409,
                               reason=exc.reason) from None
            raise

    def read_text(self, kind: str, namespace: str, name: str, subresource: str, query: dict[str, Any] | None = None,
                  deadline: float | None = None) -> str | None:
        """A subresource whose answer is not JSON (a pod's ``log``); None when the object is gone."""
        data = self._call(f"read the {subresource} of", describe(kind, namespace, name), "GET",
                          object_path(kind, namespace, name, subresource), query, absent=None, raw=True,
                          deadline=deadline)
        return None if data is None else data.decode("utf-8", errors="replace")

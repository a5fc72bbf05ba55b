# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes operations on whole objects: get, list, dry-run, apply, delete.

Everything here raises SkipperError subclasses whose messages name the
operation, the object and the API's reason.
"""

from __future__ import annotations

from typing import Any

from ._client import Client
from ._errors import ApiError
from ._resource import API_VERSIONS, MANAGER, collection_path, object_path

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"  # JSON is valid YAML


def describe(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _wrap(op: str, what: str, exc: ApiError) -> ApiError:
    message = f"Failed to {op} {what}: {exc.message}"
    if exc.status == 409 and exc.causes:
        managers = sorted({c.get("message", "").split('"')[1] for c in exc.causes if c.get("message", "").count('"') >= 2})
        fields = sorted({c.get("field", "") for c in exc.causes if c.get("field")})
        if managers:
            message = (f"Failed to {op} {what}: field(s) {', '.join(fields) or '?'} are managed by "
                       f"{', '.join(managers)}; set force: true to take them over")
    return ApiError(message, status=exc.status, reason=exc.reason, causes=exc.causes)


class Service:
    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.client.request("GET", object_path(kind, namespace, name))  # type: ignore[no-any-return]
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise _wrap("read", describe(kind, namespace, name), exc) from None

    def list(self, kind: str, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        try:
            doc = self.client.request("GET", collection_path(kind, namespace), {"labelSelector": selector})
        except ApiError as exc:
            if exc.status == 404 and namespace:
                return []
            where = f"in namespace {namespace}" if namespace else "in the cluster"
            raise _wrap("list", f"{kind} objects {where}", exc) from None
        items = list((doc or {}).get("items") or [])
        for item in items:  # list items come without these; single reads have them
            item.setdefault("apiVersion", API_VERSIONS[kind])
            item.setdefault("kind", kind)
        return items

    def apply(self, manifest: dict[str, Any], dry_run: bool, force: bool = False, manager: str = MANAGER) -> dict[str, Any]:
        meta = manifest["metadata"]
        query = {"fieldManager": manager, "force": "true" if force else "false", "dryRun": "All" if dry_run else None}
        what = describe(manifest["kind"], meta.get("namespace"), meta["name"])
        try:
            return self.client.request(  # type: ignore[no-any-return]
                "PATCH", object_path(manifest["kind"], meta.get("namespace"), meta["name"]),
                query, manifest, APPLY_CONTENT_TYPE,
            )
        except ApiError as exc:
            raise _wrap("dry-run apply" if dry_run else "apply", what, exc) from None

    def delete(self, kind: str, namespace: str | None, name: str) -> None:
        try:
            self.client.request("DELETE", object_path(kind, namespace, name), {"propagationPolicy": "Background"})
        except ApiError as exc:
            if exc.status != 404:
                raise _wrap("delete", describe(kind, namespace, name), exc) from None

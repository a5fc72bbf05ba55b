# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes operations on whole objects: get, list, dry-run, apply, delete.

Everything here raises SkipperError subclasses whose messages name the
operation, the object and the API's reason.
"""

from __future__ import annotations

from typing import Any

from ._client import Client
from ._errors import ApiError, ConnectionFailure, SkipperError
from ._resource import API_VERSIONS, MANAGER, collection_path, object_path

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"  # JSON is valid YAML
_RAISE = object()  # marks "a 404 is an error" for Service._call


def describe(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _wrap(op: str, what: str, exc: SkipperError) -> SkipperError:
    message = f"Failed to {op} {what}: {exc.message}"
    if not isinstance(exc, ApiError):
        return type(exc)(message, **exc.details)
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

    def _call(self, op: str, what: str, method: str, path: str, query: dict[str, Any] | None = None,
              body: Any = None, content_type: str = "application/json", absent: Any = _RAISE) -> Any:
        """One request; errors name the operation and the object. ``absent`` is returned on 404."""
        try:
            return self.client.request(method, path, query, body, content_type)
        except ApiError as exc:
            if exc.status == 404 and absent is not _RAISE:
                return absent
            raise _wrap(op, what, exc) from None
        except ConnectionFailure as exc:
            raise _wrap(op, what, exc) from None

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self._call("read", describe(kind, namespace, name), "GET",  # type: ignore[no-any-return]
                          object_path(kind, namespace, name), absent=None)

    def list(self, kind: str, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        where = f"in namespace {namespace}" if namespace else "in the cluster"
        doc = self._call("list", f"{kind} objects {where}", "GET", collection_path(kind, namespace),
                         {"labelSelector": selector}, absent={} if namespace else _RAISE)
        items = list((doc or {}).get("items") or [])
        for item in items:  # list items come without these; single reads have them
            item.setdefault("apiVersion", API_VERSIONS[kind])
            item.setdefault("kind", kind)
        return items

    def apply(self, manifest: dict[str, Any], dry_run: bool, force: bool = False, manager: str = MANAGER) -> dict[str, Any]:
        meta = manifest["metadata"]
        query = {"fieldManager": manager, "force": "true" if force else "false", "dryRun": "All" if dry_run else None}
        return self._call(  # type: ignore[no-any-return]
            "dry-run apply" if dry_run else "apply", describe(manifest["kind"], meta.get("namespace"), meta["name"]),
            "PATCH", object_path(manifest["kind"], meta.get("namespace"), meta["name"]), query, manifest,
            APPLY_CONTENT_TYPE,
        )

    def delete(self, kind: str, namespace: str | None, name: str) -> None:
        # Already gone counts as deleted: the goal is reached either way.
        self._call("delete", describe(kind, namespace, name), "DELETE", object_path(kind, namespace, name),
                   {"propagationPolicy": "Background"}, absent=None)

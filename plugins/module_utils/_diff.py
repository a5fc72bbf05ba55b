# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One comparison decides both ``changed`` and ``diff`` (pure functions).

``compare(live, predicted, sent)`` looks at the live object and the
server-side-apply dry-run result. The change decision uses the whole objects
less what the server alone writes (uid, timestamps, generation,
resourceVersion, managedFields, status, assigned cluster IPs), so a field we
stopped sending and the server will drop counts too. What is shown is cut
down to the fields we send plus any that differ, with Secret values masked.
Check mode and the real run call this same function on the same inputs, so
check mode predicts the real run exactly.
"""

from __future__ import annotations

import copy
from typing import Any

SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink")
SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
SERVER_SPEC = {"Service": ("clusterIP", "clusterIPs")}
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
WHOLE = True  # a shape leaf: take the value as it is


def strip_server_fields(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """The object as we own it: no status, no server bookkeeping."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in SERVER_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if annotations:
        for key in SERVER_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            meta.pop("annotations", None)
    for key in SERVER_SPEC.get(str(out.get("kind")), ()):
        (out.get("spec") or {}).pop(key, None)
    return out


def shape_of(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape_of(v) for v in value]
    return WHOLE


def differing_shape(a: Any, b: Any) -> Any:
    """A shape covering every place where ``a`` and ``b`` differ (None: nowhere)."""
    if a == b:
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        shape = {}
        for key in set(a) | set(b):
            sub = differing_shape(a.get(key), b.get(key))
            if sub is not None:
                shape[key] = sub
        return shape
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        # Same length: point at the elements that differ, not the whole list.
        return [{} if sub is None else sub for sub in map(differing_shape, a, b)]
    return WHOLE


def merge_shapes(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if a is WHOLE or b is WHOLE:
        return WHOLE
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: merge_shapes(a.get(k), b.get(k)) for k in set(a) | set(b)}
    if isinstance(a, list) and isinstance(b, list):
        return [merge_shapes(x, y) for x, y in zip(a, b, strict=False)] + (a[len(b):] if len(a) > len(b) else b[len(a):])
    return WHOLE


def project(value: Any, shape: Any) -> Any:
    """Keep only the parts of ``value`` that ``shape`` covers."""
    if shape is WHOLE or shape is None:
        return value
    if isinstance(shape, dict) and isinstance(value, dict):
        return {k: project(value[k], shape[k]) for k in sorted(shape) if k in value}
    if isinstance(shape, list) and isinstance(value, list):
        # Extra live elements stay visible: they are part of the difference.
        return [project(v, s) for v, s in zip(value, shape, strict=False)] + value[len(shape):]
    return value


def mask_secret(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if not obj or obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = dict.fromkeys(out[key], MASK)
    return out


def compare(live: dict[str, Any] | None, predicted: dict[str, Any] | None, sent: dict[str, Any] | None) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Return (changed, before, after) for one object.

    ``live`` is None when the object does not exist yet; ``predicted`` is
    None when it is about to be deleted.
    """
    before_full = strip_server_fields(live)
    after_full = strip_server_fields(predicted)
    changed = before_full != after_full
    shape = shape_of(sent) if sent else None
    if before_full is not None and after_full is not None:
        shape = merge_shapes(shape, differing_shape(before_full, after_full))
    before = project(before_full, shape) if before_full is not None else {}
    after = project(after_full, shape) if after_full is not None else {}
    return changed, mask_secret(before) or {}, mask_secret(after) or {}

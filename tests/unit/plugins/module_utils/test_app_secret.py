# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _app_secret as sec
from ansible_collections.skipper.platform.plugins.module_utils import _resource as res
from ansible_collections.skipper.platform.plugins.module_utils._errors import ValidationError
from fake_service import FakeService

NS = "shop"
SECRET_VALUES = ("hunter2-old", "hunter2-new", "tok-123456", "s3cr3t-value")


def service() -> FakeService:
    svc = FakeService()
    svc.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    return svc


def params(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"app": "web", "namespace": NS, "state": "present", "values": None, "remove": None,
                            "restart": False, "wait": True, "wait_timeout": 30}
    base.update(extra)
    return base


def stored(svc: FakeService, name: str = "web-secrets") -> dict[str, str] | None:
    obj = svc.objects.get(("Secret", NS, name))
    if obj is None:
        return None
    return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def four_steps(svc: FakeService, p: dict[str, Any]) -> list[dict[str, Any]]:
    return [sec.converge(svc, p, check) for check in (True, False, True, False)]


def assert_no_value(*things: Any) -> None:
    text = json.dumps(things, default=str)
    for value in SECRET_VALUES:
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text


@pytest.mark.parametrize(("state", "current", "previous", "values", "remove", "expected"), [
    ("present", None, None, {"A": b"1"}, [], {"A": b"1"}),
    ("present", {"A": b"1"}, None, {"A": b"1"}, [], {"A": b"1"}),
    ("present", {"A": b"1", "B": b"2"}, None, {"A": b"9"}, ["B"], {"A": b"9"}),
    ("present", {"A": b"1"}, None, {}, ["Z"], {"A": b"1"}),
    ("present", None, None, {}, ["Z"], None),
    ("rolled_back", {"A": b"2"}, {"A": b"1"}, {}, [], {"A": b"1"}),
    ("rolled_back", None, {"A": b"1"}, {}, [], {"A": b"1"}),
    ("absent", {"A": b"1"}, {"A": b"0"}, {}, [], None),
])
def test_desired(state, current, previous, values, remove, expected) -> None:
    assert sec.desired(state, current, previous, values, remove, "web") == expected


def test_rollback_without_previous_is_refused() -> None:
    with pytest.raises(ValidationError, match="web-secrets-previous does not exist"):
        sec.desired("rolled_back", {"A": b"1"}, None, {}, [], "web")


def test_markers() -> None:
    assert sec.markers({"A": b"1", "B": b"2", "C": b"3"}, {"A": b"1", "B": b"x", "D": b"4"}) == {
        "A": "unchanged", "B": "changed", "C": "removed", "D": "added"}


@pytest.mark.parametrize(("extra", "field"), [
    ({"values": {"bad key": "x"}}, "values"),
    ({"values": {"A": ["list"]}}, "values.A"),
    ({"values": {"A": True}}, "values.A"),
    ({"values": {"A": "x"}, "remove": ["A"]}, "remove"),
    ({"state": "absent", "values": {"A": "x"}}, "values"),
    ({"values": None, "remove": None}, "values"),
    ({"app": "Web", "values": {"A": "x"}}, "name"),
])
def test_bad_input_fails_before_any_write(extra, field) -> None:
    svc = service()
    with pytest.raises(ValidationError) as exc:
        sec.converge(svc, params(**extra), False)
    assert exc.value.details.get("field") == field
    assert svc.writes() == [] and not any(c[0] == "replace" for c in svc.calls)
    assert "['list']" not in exc.value.message


def test_four_steps_and_rotation_and_rollback() -> None:
    svc = service()
    first = four_steps(svc, params(values={"DB_PASSWORD": "hunter2-old", "TOKEN": "tok-123456"}))
    assert [r["changed"] for r in first] == [True, True, False, False]
    assert first[0]["diff"] == first[1]["diff"] and first[0]["key_changes"] == first[1]["key_changes"]
    assert first[1]["key_changes"] == {"DB_PASSWORD": "added", "TOKEN": "added"}
    assert stored(svc) == {"DB_PASSWORD": "hunter2-old", "TOKEN": "tok-123456"}
    labels = svc.objects[("Secret", NS, "web-secrets")]["metadata"]["labels"]
    assert labels[res.MANAGED_BY_LABEL] == res.MANAGER and labels[res.NAME_LABEL] == "web"
    assert labels[res.INSTANCE_LABEL] == "web"

    rotate = four_steps(svc, params(values={"DB_PASSWORD": "hunter2-new"}, remove=["TOKEN"]))
    assert [r["changed"] for r in rotate] == [True, True, False, False]
    assert rotate[0]["diff"] == rotate[1]["diff"]
    assert rotate[1]["key_changes"] == {"DB_PASSWORD": "changed", "TOKEN": "removed"}
    assert rotate[1]["previous"] == {"secret": "web-secrets-previous", "key_names": ["DB_PASSWORD", "TOKEN"]}
    assert stored(svc) == {"DB_PASSWORD": "hunter2-new"}
    assert stored(svc, "web-secrets-previous") == {"DB_PASSWORD": "hunter2-old", "TOKEN": "tok-123456"}

    back = four_steps(svc, params(state="rolled_back"))
    assert [r["changed"] for r in back] == [True, True, False, False]
    assert back[1]["key_changes"] == {"DB_PASSWORD": "changed", "TOKEN": "added"}
    assert stored(svc) == {"DB_PASSWORD": "hunter2-old", "TOKEN": "tok-123456"}

    gone = four_steps(svc, params(state="absent"))
    assert [r["changed"] for r in gone] == [True, True, False, False]
    assert stored(svc) is None and stored(svc, "web-secrets-previous") is None
    assert_no_value(first, rotate, back, gone)


def test_foreign_secret_is_refused() -> None:
    svc = service()
    svc.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-secrets", "namespace": NS},
             "data": {"A": base64.b64encode(b"s3cr3t-value").decode()}})
    with pytest.raises(ValidationError, match="is not this app's") as exc:
        sec.converge(svc, params(values={"A": "x"}), False)
    assert_no_value(exc.value.message)


def test_missing_namespace_is_refused() -> None:
    svc = FakeService()
    with pytest.raises(ValidationError, match="namespace shop not found"):
        sec.converge(svc, params(values={"A": "x"}), True)


def test_restart_only_when_changed_and_deployment_exists() -> None:
    svc = service()
    result = sec.converge(svc, params(values={"A": "s3cr3t-value"}, restart=True), False)
    assert result["restart"] == {"restarted": False, "rollout": None}
    assert any("not restarted" in w for w in result["warnings"])
    svc.put({"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "namespace": NS, "labels": {res.MANAGED_BY_LABEL: res.MANAGER,
                                                                     res.NAME_LABEL: "web"}},
             "spec": {"replicas": 1, "template": {"metadata": {}}}})
    same = sec.converge(svc, params(values={"A": "s3cr3t-value"}, restart=True), False)
    assert same["changed"] is False and same["restart"] is None
    checked = sec.converge(svc, params(values={"A": "hunter2-new"}, restart=True), True)
    assert checked["restart"]["restarted"] is True
    assert not any(c[0] == "apply" for c in svc.calls)
    done = sec.converge(svc, params(values={"A": "hunter2-new"}, restart=True, wait=False), False)
    assert done["restart"]["restarted"] is True
    assert [o["kind"] for o in done["objects"]] == ["Secret", "Secret", "Deployment"]
    assert_no_value(result, same, checked, done)

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _diff

SERVER_ONLY = ("managedFields", "uid", "resourceVersion", "generation", "creationTimestamp")
DEFAULTED = ("terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "progressDeadlineSeconds",
             "strategy", "dnsPolicy", "schedulerName", "successThreshold", "scheme")


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def test_strip_server_fields_keeps_only_what_we_own(load) -> None:
    live = load("deployment_live.yml")
    stripped = _diff.strip_server_fields(live)
    assert "status" not in stripped
    assert not set(SERVER_ONLY) & set(stripped["metadata"])
    # The revision annotation was the only one, so the map goes too.
    assert "annotations" not in stripped["metadata"]
    assert stripped["spec"] == live["spec"]
    assert live["metadata"]["uid"], "the input must not be changed"


def test_strip_server_fields_drops_assigned_cluster_ips_of_a_service() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": {"team": "shop"}},
               "spec": {"clusterIP": "10.96.4.12", "clusterIPs": ["10.96.4.12"], "type": "ClusterIP"}}
    assert _diff.strip_server_fields(service) == {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": {"team": "shop"}},
        "spec": {"type": "ClusterIP"},
    }


def test_strip_server_fields_of_none_is_none() -> None:
    assert _diff.strip_server_fields(None) is None


def test_no_op_apply_is_not_a_change(load) -> None:
    changed, before, after = _diff.compare(
        load("deployment_live.yml"), load("deployment_dryrun_noop.yml"), load("deployment_sent.yml"))
    assert changed is False
    assert before == after
    # What is shown is what we send, as the server stores it.
    assert before == load("deployment_sent.yml")


def test_image_change_shows_sent_fields_and_the_difference_only(load) -> None:
    sent = load("deployment_sent_image.yml")
    changed, before, after = _diff.compare(load("deployment_live.yml"), load("deployment_dryrun_image.yml"), sent)
    assert changed is True
    assert after == sent
    expected_before = load("deployment_sent.yml")
    assert before == expected_before
    shown = keys_anywhere(before) | keys_anywhere(after)
    assert not shown & {"status", *SERVER_ONLY, *DEFAULTED}


def test_a_label_we_stopped_sending_is_a_change(load) -> None:
    live = load("deployment_live.yml")
    sent = load("deployment_sent.yml")
    predicted = load("deployment_dryrun_noop.yml")
    for obj in (sent, predicted):  # we no longer send it, so the server drops it
        del obj["metadata"]["labels"]["team"]
    changed, before, after = _diff.compare(live, predicted, sent)
    assert changed is True
    assert before["metadata"]["labels"]["team"] == "shop"
    assert "team" not in after["metadata"]["labels"]


def test_a_field_the_server_changes_outside_what_we_send_is_shown(load) -> None:
    live = load("deployment_live.yml")
    predicted = load("deployment_dryrun_noop.yml")
    predicted["spec"]["progressDeadlineSeconds"] = 300
    changed, before, after = _diff.compare(live, predicted, load("deployment_sent.yml"))
    assert changed is True
    assert (before["spec"]["progressDeadlineSeconds"], after["spec"]["progressDeadlineSeconds"]) == (600, 300)


def test_create_has_an_empty_before(load) -> None:
    sent = load("deployment_sent.yml")
    changed, before, after = _diff.compare(None, load("deployment_live.yml"), sent)
    assert changed is True
    assert before == {}
    assert after == sent


def test_delete_has_an_empty_after(load) -> None:
    changed, before, after = _diff.compare(load("deployment_live.yml"), None, None)
    assert changed is True
    assert after == {}
    assert before == _diff.strip_server_fields(load("deployment_live.yml"))


@pytest.mark.parametrize(
    ("new_password", "changed"),
    [
        pytest.param("czNjcjN0LW5ldw==", True, id="value-changed"),
        pytest.param("czNjcjN0LW9sZA==", False, id="value-same"),
    ],
)
def test_secret_values_are_masked(load, new_password: str, changed: bool) -> None:
    live = load("secret_live.yml")
    sent = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "web-db", "namespace": "shop-prod",
                         "labels": {"app.kubernetes.io/managed-by": "skipper.platform"}},
            "data": {"password": new_password, "username": "c2hvcA=="}}
    predicted = load("secret_live.yml")
    predicted["data"]["password"] = new_password
    got_changed, before, after = _diff.compare(live, predicted, sent)
    assert got_changed is changed
    for shown in (before, after):
        assert shown["data"] == {"password": _diff.MASK, "username": _diff.MASK}
        text = json.dumps(shown)
        for secret in ("czNjcjN0LW9sZA==", "czNjcjN0LW5ldw==", "c2hvcA=="):
            assert secret not in text


def test_secret_string_data_is_masked_on_create() -> None:
    sent = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}}
    before, after = _diff.compare(None, sent, sent)[1:]
    assert before == {}
    assert after["stringData"] == {"password": _diff.MASK}
    assert sent["stringData"] == {"password": "hunter2"}, "the input must not be changed"


@pytest.mark.parametrize(
    ("a", "b", "shape"),
    [
        pytest.param({"x": 1}, {"x": 1}, None, id="equal"),
        pytest.param({"x": 1, "y": 2}, {"x": 1, "y": 3}, {"y": _diff.WHOLE}, id="one-key"),
        pytest.param({"x": [1, 2]}, {"x": [1, 3]}, {"x": [{}, _diff.WHOLE]}, id="same-length-list-by-element"),
        pytest.param({"x": [1, 2]}, {"x": [1]}, {"x": _diff.WHOLE}, id="other-length-list-whole"),
        pytest.param({"x": 1}, {}, {"x": _diff.WHOLE}, id="key-dropped"),
    ],
)
def test_differing_shape(a: Any, b: Any, shape: Any) -> None:
    assert _diff.differing_shape(a, b) == shape


def test_project_keeps_extra_live_list_elements_visible() -> None:
    live = {"containers": [{"name": "app", "image": "a", "tty": False}, {"name": "sidecar", "image": "s"}]}
    shape = _diff.shape_of({"containers": [{"name": "app", "image": "b"}]})
    assert _diff.project(live, shape) == {"containers": [{"name": "app", "image": "a"},
                                                         {"name": "sidecar", "image": "s"}]}

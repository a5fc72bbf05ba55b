"""The local test cluster's kwok stages and start-up objects (tests/cluster/cluster.py), without starting it."""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load_cluster() -> Any:
    spec = importlib.util.spec_from_file_location("skipper_test_cluster", ROOT / "tests" / "cluster" / "cluster.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cluster = _load_cluster()

# Shaped like kwok's own pod stages (only what the adjustments rely on).
POD_READY = """apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
  next:
    statusTemplate: |
      phase: Running
"""
POD_COMPLETE = POD_READY.replace("name: pod-ready", "name: pod-complete").replace("'Pending'", "'Running'")


def _expressions(stage: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["key"], e["operator"]) for e in stage["spec"]["selector"]["matchExpressions"]]


def _label_key(label: str) -> str:
    return f'.metadata.labels["{label}"]'


def test_pod_ready_waits_for_the_delay_label_and_leaves_failing_pods_alone(tmp_path: Path) -> None:
    path = tmp_path / "pod-ready.yaml"
    path.write_text(POD_READY)
    stage = yaml.safe_load(cluster.stage_text(path))
    assert (_label_key(cluster.FAIL_LABEL), "DoesNotExist") in _expressions(stage)
    assert (".status.phase", "In") in _expressions(stage)
    assert stage["spec"]["delay"] == {
        "durationMilliseconds": 0,
        "durationFrom": {"jq": {"expression": _label_key(cluster.READY_DELAY_LABEL)}},
    }


def test_pod_complete_waits_for_run_for_and_leaves_exit_codes_to_the_exit_stage(tmp_path: Path) -> None:
    path = tmp_path / "pod-complete.yaml"
    path.write_text(POD_COMPLETE)
    stage = yaml.safe_load(cluster.stage_text(path))
    assert (_label_key(cluster.EXIT_CODE_LABEL), "DoesNotExist") in _expressions(stage)
    assert stage["spec"]["delay"]["durationFrom"]["jq"]["expression"] == _label_key(cluster.RUN_FOR_LABEL)


def test_other_stages_are_passed_through(tmp_path: Path) -> None:
    path = tmp_path / "pod-delete.yaml"
    path.write_text("kind: Stage\n")
    assert cluster.stage_text(path) == "kind: Stage\n"


@pytest.mark.parametrize(
    "text",
    [
        POD_READY.replace("  selector:\n", "  selectors:\n"),  # no selector to extend
        POD_READY.replace("spec:\n", "spec:\n  delay:\n    durationMilliseconds: 1\n", 1),  # delayed already
    ],
)
def test_an_unknown_stage_shape_is_an_error(text: str, tmp_path: Path) -> None:
    path = tmp_path / "pod-ready.yaml"
    path.write_text(text)
    with pytest.raises(cluster.ClusterError):
        cluster.stage_text(path)


def test_fail_stage_matches_labelled_pending_pods_once() -> None:
    stage = yaml.safe_load(cluster.FAIL_STAGE)
    assert stage["kind"] == "Stage" and stage["spec"]["resourceRef"] == {"apiGroup": "v1", "kind": "Pod"}
    expressions = _expressions(stage)
    assert (_label_key(cluster.FAIL_LABEL), "Exists") in expressions
    # The container statuses it writes keep it from matching the pod again.
    assert (".status.containerStatuses", "DoesNotExist") in expressions
    template = stage["spec"]["next"]["statusTemplate"]
    assert f'index .metadata.labels "{cluster.FAIL_LABEL}"' in template
    assert f'index .metadata.labels "{cluster.RESTARTS_LABEL}"' in template
    assert stage["spec"]["delay"]["durationFrom"]["jq"]["expression"] == _label_key(cluster.READY_DELAY_LABEL)


def test_exit_stage_ends_running_pods_with_the_label_code() -> None:
    stage = yaml.safe_load(cluster.EXIT_STAGE)
    assert (_label_key(cluster.EXIT_CODE_LABEL), "Exists") in _expressions(stage)
    assert stage["spec"]["selector"]["matchExpressions"][1]["values"] == ["Running"]
    assert stage["spec"]["delay"]["durationFrom"]["jq"]["expression"] == _label_key(cluster.RUN_FOR_LABEL)
    assert f'index .metadata.labels "{cluster.EXIT_CODE_LABEL}" | atoi' in stage["spec"]["next"]["statusTemplate"]


def test_the_docstring_names_every_label() -> None:
    for name in (cluster.READY_DELAY_LABEL, cluster.FAIL_LABEL, cluster.RESTARTS_LABEL, cluster.EXIT_CODE_LABEL,
                 cluster.RUN_FOR_LABEL, cluster.USAGE_CPU_ANNOTATION, cluster.USAGE_MEMORY_ANNOTATION):
        assert name in cluster.__doc__


def test_metrics_server_is_reached_on_loopback_only(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    objects = {o["kind"]: o for o in cluster.metrics_server_objects(tmp_path, 45678)}
    service = objects["Service"]
    assert service["spec"] == {"type": "ExternalName", "externalName": "127.0.0.1"}
    assert ipaddress.ip_address(service["spec"]["externalName"]) in ipaddress.ip_network("127.0.0.0/8")
    api_service = objects["APIService"]
    assert api_service["metadata"]["name"] == "v1beta1.metrics.k8s.io"
    assert api_service["spec"]["service"] == {"namespace": "kube-system", "name": "metrics-server", "port": 45678}
    assert "insecureSkipTLSVerify" not in api_service["spec"] and api_service["spec"]["caBundle"]
    paths = [cluster.object_collection(o) for o in cluster.metrics_server_objects(tmp_path, 1)]
    assert paths == [
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings",
        "/api/v1/namespaces/kube-system/services",
        "/apis/apiregistration.k8s.io/v1/apiservices",
    ]


def test_metrics_server_has_its_own_identity_and_rights(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cluster.make_pki(tmp_path)
    client = x509.load_pem_x509_certificate((tmp_path / "metrics-server-client.crt").read_bytes())
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:metrics-server"
    assert not client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)  # not system:masters
    serving = x509.load_pem_x509_certificate((tmp_path / "metrics-server.crt").read_bytes())
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "metrics-server.kube-system.svc" in names.get_values_for_type(x509.DNSName)
    bindings = [o for o in cluster.metrics_server_objects(tmp_path, 1) if o["kind"].endswith("Binding")]
    assert {b["roleRef"]["name"] for b in bindings} == {
        "skipper:metrics-server", "system:auth-delegator", "extension-apiserver-authentication-reader"}
    assert all(b["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                  "name": "system:metrics-server"}] for b in bindings)


def test_route_crd_is_namespaced_v1_with_a_status_subresource() -> None:
    crd = cluster.ROUTE_CRD
    assert crd["metadata"]["name"] == "routes.route.openshift.io"
    assert crd["spec"]["scope"] == "Namespaced" and crd["spec"]["names"]["kind"] == "Route"
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    schema = version["schema"]["openAPIV3Schema"]["properties"]
    assert schema["spec"]["x-kubernetes-preserve-unknown-fields"] is True
    assert schema["status"]["x-kubernetes-preserve-unknown-fields"] is True


def test_integration_config_names_the_exec_and_logs_folders(tmp_path: Path) -> None:
    state = {"server": "https://127.0.0.1:1", "exec_dir": "/tmp/e", "logs_dir": "/tmp/l"}
    path = tmp_path / "integration_config.yml"
    cluster.write_integration_config(path, tmp_path / "c", state)
    config = yaml.safe_load(path.read_text())
    assert config["skipper_test_exec_dir"] == "/tmp/e"
    assert config["skipper_test_logs_dir"] == "/tmp/l"
    assert config["skipper_test_host"] == "https://127.0.0.1:1"

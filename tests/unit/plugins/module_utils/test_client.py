# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.skipper.platform.plugins.module_utils import _auth, _client, _connection
from ansible_collections.skipper.platform.plugins.module_utils._errors import (
    AuthConfigError,
)

CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIBdummyCA\n-----END CERTIFICATE-----\n"
CERT_PEM = b"-----BEGIN CERTIFICATE-----\nMIIBdummyclient\n-----END CERTIFICATE-----\n"
KEY_PEM = b"-----BEGIN EC PRIVATE KEY-----\nMHcdummykey\n-----END EC PRIVATE KEY-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No kubeconfig, service account or scratch folder of the machine running the tests."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_connection, "IN_CLUSTER_DIR", str(tmp_path / "serviceaccount"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(_connection._Scratch, "path", str(scratch))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # relative paths must not resolve against the cwd
    return tmp_path


def kubeconfig(path: Path, cluster: dict[str, Any], user: dict[str, Any], current: str | None = "kind-shop",
               extra_contexts: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    contexts = [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
                for name in ("kind-shop", *extra_contexts)]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": c["name"], "cluster": cluster} for c in contexts],
        "users": [{"name": c["name"], "user": user} for c in contexts],
        "contexts": contexts,
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def settings(**given: Any) -> dict[str, Any]:
    """Resolved settings from module parameters, as the Client builds them."""
    return _auth.resolve({**dict.fromkeys(_auth.AUTH_ARG_SPEC), **given}, {})


def test_kind_kubeconfig_with_embedded_certificates(home: Path) -> None:
    path = kubeconfig(home / "cfg" / "kind", {"server": "https://127.0.0.1:41235/",
                                              "certificate-authority-data": b64(CA_PEM)},
                      {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)})
    conn = _connection.connection_settings(settings(kubeconfig=str(path)))
    assert conn["host"] == "https://127.0.0.1:41235"
    assert (conn["token"], conn["validate_certs"], conn["tls_server_name"]) == (None, True, None)
    for key, pem in (("ca_cert", CA_PEM), ("client_cert", CERT_PEM), ("client_key", KEY_PEM)):
        written = Path(conn[key])
        assert written.parent == home / "scratch"
        assert written.read_bytes() == pem
        assert written.stat().st_mode & 0o077 == 0, f"{key} must be private"


@pytest.mark.parametrize(
    ("cluster", "user", "given", "expected"),
    [
        pytest.param({"server": "https://k8s.example.com"}, {"token": "kc-token"}, {},
                     {"host": "https://k8s.example.com", "token": "kc-token", "validate_certs": True},
                     id="inline-token"),
        pytest.param({"server": "https://k8s.example.com", "insecure-skip-tls-verify": True}, {"token": "t"}, {},
                     {"validate_certs": False}, id="insecure-skip-tls-verify"),
        pytest.param({"server": "https://k8s.example.com", "insecure-skip-tls-verify": True}, {"token": "t"},
                     {"validate_certs": True}, {"validate_certs": True}, id="validate-certs-option-wins"),
        pytest.param({"server": "https://k8s.example.com"}, {"token": "kc-token"}, {"api_key": "task-token"},
                     {"token": "task-token"}, id="api-key-option-refines"),
        pytest.param({"server": "https://k8s.example.com"},
                     {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)},
                     {"api_key": "task-token"}, {"token": "task-token", "client_cert": None, "client_key": None},
                     id="api-key-option-never-travels-with-the-kubeconfig-certificate"),
        pytest.param({"server": "https://k8s.example.com"},
                     {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM), "as": "deployer"},
                     {"api_key": "task-token"}, {"token": "task-token", "headers": []},
                     id="api-key-option-replaces-the-whole-kubeconfig-user"),
        pytest.param({"server": "https://127.0.0.5:6443", "tls-server-name": "k8s.internal"}, {"token": "t"}, {},
                     {"host": "https://127.0.0.5:6443", "tls_server_name": "k8s.internal"}, id="tls-server-name"),
        pytest.param({"server": "https://k8s.example.com"}, {}, {}, {"token": None, "client_cert": None},
                     id="anonymous-user"),
    ],
)
def test_kubeconfig_settings(home: Path, cluster: dict[str, Any], user: dict[str, Any], given: dict[str, Any],
                             expected: dict[str, Any]) -> None:
    path = kubeconfig(home / "cfg" / "config", cluster, user)
    conn = _connection.connection_settings(settings(kubeconfig=str(path), **given))
    assert {k: conn[k] for k in expected} == expected


def test_token_file_relative_to_the_kubeconfig(home: Path) -> None:
    (home / "cfg").mkdir()
    (home / "cfg" / "token").write_text("file-token\n", encoding="utf-8")
    (home / "cfg" / "ca.crt").write_bytes(CA_PEM)
    path = kubeconfig(home / "cfg" / "config", {"server": "https://k8s", "certificate-authority": "ca.crt"},
                      {"tokenFile": "token"})
    conn = _connection.connection_settings(settings(kubeconfig=str(path)))
    assert conn["token"] == "file-token"
    assert conn["ca_cert"] == str(home / "cfg" / "ca.crt")


def test_context_option_picks_another_context(home: Path) -> None:
    path = kubeconfig(home / "config", {"server": "https://k8s"}, {"token": "t"}, extra_contexts=("staging",))
    conn = _connection.connection_settings(settings(kubeconfig=str(path), context="staging"))
    assert conn["host"] == "https://k8s"


def test_kubeconfig_env_files_are_merged_first_one_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig(home / "a", {"server": "https://first"}, {"token": "first-token"})
    second = kubeconfig(home / "b", {"server": "https://second"}, {"token": "second-token"},
                        current="staging", extra_contexts=("staging",))
    monkeypatch.setenv("KUBECONFIG", f"{first}:{home / 'missing'}:{second}")
    assert _connection.connection_settings(settings())["host"] == "https://first"
    staging = _connection.connection_settings(settings(context="staging"))
    assert (staging["host"], staging["token"]) == ("https://second", "second-token")


def test_home_kubeconfig_is_the_default(home: Path) -> None:
    kubeconfig(home / "home" / ".kube" / "config", {"server": "https://from-home"}, {"token": "t"})
    assert _connection.connection_settings(settings())["host"] == "https://from-home"


def test_kubeconfig_from_the_awx_environment(home: Path) -> None:
    path = kubeconfig(home / "runner" / "kubeconfig", {"server": "https://awx-cluster"}, {"token": "awx"})
    resolved = _auth.resolve({}, {"K8S_AUTH_KUBECONFIG": str(path)})
    assert resolved["source"] == "environment"
    assert _connection.connection_settings(resolved)["token"] == "awx"


def test_kubeconfig_given_as_a_mapping(home: Path) -> None:
    doc = yaml.safe_load(kubeconfig(home / "config", {"server": "https://inline"}, {"token": "t"}).read_text())
    assert _connection.connection_settings(settings(kubeconfig=doc))["host"] == "https://inline"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({"host": "https://api.example.com:6443/", "api_key": "task-token"},
                     {"host": "https://api.example.com:6443", "token": "task-token", "validate_certs": True,
                      "ca_cert": None, "client_cert": None}, id="host-and-token"),
        pytest.param({"host": "https://api.example.com", "api_key": "t", "validate_certs": False},
                     {"validate_certs": False}, id="no-verify"),
    ],
)
def test_explicit_host_needs_no_kubeconfig(home: Path, monkeypatch: pytest.MonkeyPatch, given: dict[str, Any],
                                           expected: dict[str, Any]) -> None:
    # A kubeconfig that would be found must not be read, let alone mixed in.
    path = kubeconfig(home / "config", {"server": "https://other"}, {"token": "other-token"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    conn = _connection.connection_settings(settings(**given))
    assert {k: conn[k] for k in expected} == expected


def test_explicit_certificate_files(home: Path) -> None:
    for name, pem in (("ca.crt", CA_PEM), ("tls.crt", CERT_PEM), ("tls.key", KEY_PEM)):
        (home / name).write_bytes(pem)
    conn = _connection.connection_settings(settings(host="https://k8s", ca_cert=str(home / "ca.crt"),
                                                    client_cert=str(home / "tls.crt"), client_key=str(home / "tls.key")))
    assert (conn["ca_cert"], conn["client_cert"], conn["client_key"]) == (
        str(home / "ca.crt"), str(home / "tls.crt"), str(home / "tls.key"))


def test_in_cluster_service_account(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = home / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("sa-token\n", encoding="utf-8")
    (account / "ca.crt").write_bytes(CA_PEM)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1")
    conn = _connection.connection_settings(settings())
    assert (conn["host"], conn["token"], conn["ca_cert"]) == (
        "https://[fd00:10:96::1]:443", "sa-token", str(account / "ca.crt"))


def test_exec_plugin_users_go_through_the_kubernetes_package(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(kubeconfig: Any, context: str | None) -> dict[str, Any]:
        calls.append((kubeconfig, context))
        return {"host": "https://eks.example.com", "token": "k8s-aws-v1.x"}

    monkeypatch.setattr(_connection, "_via_kubernetes_package", fake)
    path = kubeconfig(home / "config", {"server": "https://eks.example.com"},
                      {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                                "args": ["eks", "get-token", "--cluster-name", "shop"]}})
    conn = _connection.connection_settings(settings(kubeconfig=str(path)))
    assert calls == [(str(path), "kind-shop")]
    assert conn["token"] == "k8s-aws-v1.x"


@pytest.mark.parametrize(
    ("cluster", "user", "given", "message"),
    [
        pytest.param(None, None, {"kubeconfig": "{home}/nowhere"}, "kubeconfig file {home}/nowhere does not exist",
                     id="kubeconfig-missing"),
        pytest.param({"server": "https://k8s", "certificate-authority": "missing-ca.crt"}, {"token": "t"}, {},
                     "ca_cert file {home}/missing-ca.crt does not exist", id="kubeconfig-ca-file-missing"),
        pytest.param({"server": "https://k8s"}, {"client-certificate": "/no/tls.crt", "client-key": "/no/tls.key"},
                     {}, "client_cert file /no/tls.crt does not exist", id="kubeconfig-client-cert-missing"),
        pytest.param(None, None, {"host": "https://k8s", "ca_cert": "{home}/nope.crt"},
                     "ca_cert file {home}/nope.crt does not exist", id="ca-cert-option-missing"),
        pytest.param({"server": "https://k8s"}, {"token": "t"}, {"context": "prod"},
                     "context 'prod' is not in kubeconfig {home}/config (its contexts: 'kind-shop')", id="unknown-context"),
        pytest.param({"certificate-authority-data": b64(CA_PEM)}, {"token": "t"}, {},
                     "cluster 'kind-shop' in kubeconfig {home}/config has no server address", id="no-server"),
        pytest.param(None, None, {}, "no Kubernetes credentials found", id="nothing-at-all"),
        pytest.param(None, None, {"context": "prod"}, "context 'prod' is set, but there is no kubeconfig to take it from",
                     id="context-without-kubeconfig"),
    ],
)
def test_unusable_settings_raise_auth_config_error(home: Path, cluster: dict[str, Any] | None,
                                                   user: dict[str, Any] | None, given: dict[str, Any],
                                                   message: str) -> None:
    given = {k: v.format(home=home) for k, v in given.items()}
    if cluster is not None:
        given.setdefault("kubeconfig", str(kubeconfig(home / "config", cluster, user or {})))
    with pytest.raises(AuthConfigError) as err:
        _connection.connection_settings(settings(**given))
    assert message.format(home=home) in err.value.message


def test_kubeconfig_without_current_context(home: Path) -> None:
    path = kubeconfig(home / "config", {"server": "https://k8s"}, {"token": "t"}, current=None)
    with pytest.raises(AuthConfigError, match="kubeconfig .*/config has no current-context; set the context option"):
        _connection.connection_settings(settings(kubeconfig=str(path)))


def test_missing_token_file_is_an_auth_config_error(home: Path) -> None:
    path = kubeconfig(home / "config", {"server": "https://k8s"}, {"tokenFile": "/no/token"})
    with pytest.raises(AuthConfigError, match="/no/token"):
        _connection.connection_settings(settings(kubeconfig=str(path)))


@pytest.mark.parametrize(
    ("user", "given", "expected"),
    [
        pytest.param({"token": "kc-token"}, {}, [("Authorization", "Bearer kc-token")], id="kubeconfig-token"),
        pytest.param({"token": "kc-token"}, {"api_key": "task-token"}, [("Authorization", "Bearer task-token")],
                     id="api-key-token"),
        pytest.param({}, {}, [], id="no-token"),
        pytest.param({"token": "kc-token", "as": "jane", "as-groups": ["dev", "ops"]}, {},
                     [("Authorization", "Bearer kc-token"), ("Impersonate-User", "jane"),
                      ("Impersonate-Group", "dev"), ("Impersonate-Group", "ops")], id="token-and-impersonation"),
        pytest.param({"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM), "as": "jane"}, {},
                     [("Impersonate-User", "jane")], id="certificate-and-impersonation"),
        pytest.param({"username": "admin", "password": "pw"}, {},
                     [("Authorization", "Basic " + b64(b"admin:pw"))], id="basic-auth"),
    ],
)
def test_identity_headers(home: Path, monkeypatch: pytest.MonkeyPatch, user: dict[str, Any], given: dict[str, Any],
                          expected: list[tuple[str, str]]) -> None:
    # The pool would load the dummy certificate: the headers do not depend on it.
    monkeypatch.setattr(_client, "open_pool", lambda conn: None)
    path = kubeconfig(home / "config", {"server": "https://k8s.example"}, user)
    made = _client.Client({**dict.fromkeys(_auth.AUTH_ARG_SPEC), "kubeconfig": str(path), **given}, env={})
    assert made.identity_headers() == [("User-Agent", "skipper.platform"), *expected]
    made.identity_headers().append(("X-Changed", "by the caller"))
    assert made.identity_headers() == [("User-Agent", "skipper.platform"), *expected]  # a copy every time

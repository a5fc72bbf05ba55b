# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeconfig reader: what it implements (impersonation, basic auth, proxies), what it refuses, what it warns about."""

from __future__ import annotations

import base64
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from ansible_collections.skipper.platform.plugins.module_utils import _auth, _connection
from ansible_collections.skipper.platform.plugins.module_utils._errors import AuthConfigError

SECRETS = ("s3cret-token", "hunter2-password", "c2VjcmV0LWtleQ==", "proxy-pass")


def write(path: Path, cluster: dict[str, Any], user: dict[str, Any] | None = None, name: str = "shop") -> str:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user or {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


def connect(kubeconfig: Any, env: dict[str, str] | None = None, **given: Any) -> dict[str, Any]:
    settings = _auth.resolve({**dict.fromkeys(_auth.AUTH_ARG_SPEC), "kubeconfig": kubeconfig, **given}, env or {})
    return _connection.connection_settings(settings, env or {})


def failure(kubeconfig: Any, env: dict[str, str] | None = None, **given: Any) -> str:
    with pytest.raises(AuthConfigError) as err:
        connect(kubeconfig, env, **given)
    for secret in SECRETS:
        assert secret not in err.value.message
    return err.value.message


SERVER = {"server": "https://k8s.example.com:6443"}


@pytest.mark.parametrize(
    ("user", "headers"),
    [
        pytest.param({"token": "t", "as": "system:serviceaccount:shop:deployer"},
                     [("Impersonate-User", "system:serviceaccount:shop:deployer")], id="as"),
        pytest.param({"token": "t", "as": "jane", "as-uid": "1234", "as-groups": ["devs", "system:authenticated"]},
                     [("Impersonate-User", "jane"), ("Impersonate-Uid", "1234"), ("Impersonate-Group", "devs"),
                      ("Impersonate-Group", "system:authenticated")], id="one-header-per-group"),
        pytest.param({"token": "t", "as": "jane",
                      "as-user-extra": {"scopes": ["view", "edit"], "example.org/team name%": ["a"]}},
                     [("Impersonate-User", "jane"), ("Impersonate-Extra-example.org%2Fteam%20name%25", "a"),
                      ("Impersonate-Extra-scopes", "view"), ("Impersonate-Extra-scopes", "edit")],
                     id="extra-keys-escaped-like-kubectl"),
        pytest.param({"token": "t", "extensions": [{"name": "x", "extension": {}}]}, [], id="extensions-are-harmless"),
        pytest.param({"username": "admin", "password": "hunter2-password"},
                     [("Authorization", "Basic " + base64.b64encode(b"admin:hunter2-password").decode())],
                     id="basic-auth"),
        pytest.param({"username": "admin", "as": "jane"},
                     [("Impersonate-User", "jane"), ("Authorization", "Basic " + base64.b64encode(b"admin:").decode())],
                     id="basic-auth-without-password-and-impersonation"),
    ],
)
def test_user_entries_become_headers(tmp_path: Path, user: dict[str, Any], headers: list[tuple[str, str]]) -> None:
    conn = connect(write(tmp_path / "config", SERVER, user))
    assert conn["headers"] == headers
    if "username" in user:
        assert conn["token"] is None, "never a Bearer token beside basic auth"


@pytest.mark.parametrize(
    ("cluster", "user", "message"),
    [
        pytest.param(SERVER, {"token-file-with-typo": "/run/token"},
                     "user 'shop' in kubeconfig {path} has the key 'token-file-with-typo', which skipper.platform "
                     "does not understand", id="unknown-user-key"),
        pytest.param(SERVER, {"token": "s3cret-token", "tokenfile": "a", "as-user": "b"},
                     "has the keys 'as-user', 'tokenfile'", id="unknown-user-keys-all-named"),
        pytest.param({**SERVER, "certificate-authority-dat": "x"}, {"token": "s3cret-token"},
                     "cluster 'shop' in kubeconfig {path} has the key 'certificate-authority-dat'",
                     id="unknown-cluster-key"),
        pytest.param(SERVER, {"token": "s3cret-token", "as-groups": ["devs"]},
                     "user 'shop' in kubeconfig {path} sets as-groups but not as", id="groups-without-as"),
        pytest.param(SERVER, {"token": "s3cret-token", "as": "jane", "as-groups": "devs"},
                     "as-groups of user 'shop' in kubeconfig {path} must be a list", id="groups-not-a-list"),
        pytest.param(SERVER, {"token": "s3cret-token", "as": "jane", "as-user-extra": {"k": "v"}},
                     "as-user-extra of user 'shop' in kubeconfig {path} must be a mapping of keys to lists",
                     id="extra-values-not-a-list"),
        pytest.param(SERVER, {"token": "s3cret-token", "as": "jane\r\nX-Evil: 1"},
                     "as of user 'shop' in kubeconfig {path} must be printable ASCII", id="header-injection"),
        pytest.param(SERVER, {"password": "hunter2-password"},
                     "user 'shop' in kubeconfig {path} sets a password but no username", id="password-alone"),
        pytest.param(SERVER, {"token": "s3cret-token", "username": "a", "password": "hunter2-password"},
                     "sets both a token and username/password", id="token-and-basic"),
        pytest.param(SERVER, {"token": 12345}, "token of user 'shop' in kubeconfig {path} must be a string, not a int",
                     id="token-not-a-string"),
        pytest.param({**SERVER, "insecure-skip-tls-verify": "false"}, {"token": "s3cret-token"},
                     "insecure-skip-tls-verify of cluster 'shop' in kubeconfig {path} must be true or false",
                     id="insecure-as-a-string"),
        pytest.param({**SERVER, "proxy-url": "socks5://127.0.0.1:1080"}, {"token": "s3cret-token"},
                     "proxy-url of cluster 'shop' in kubeconfig {path} names a socks5 proxy, which skipper.platform "
                     "does not support", id="socks-proxy-url"),
        pytest.param({**SERVER, "proxy-url": "ftp://proxy:21"}, {"token": "s3cret-token"},
                     "proxy-url of cluster 'shop' in kubeconfig {path} is not an http:// or https:// proxy",
                     id="odd-proxy-scheme"),
        pytest.param({"certificate-authority-data": "c2VjcmV0LWtleQ=="}, {"client-key-data": "c2VjcmV0LWtleQ=="},
                     "cluster 'shop' in kubeconfig {path} has no server address", id="no-server"),
    ],
)
def test_what_the_reader_does_not_understand_is_refused(tmp_path: Path, cluster: dict[str, Any],
                                                        user: dict[str, Any], message: str) -> None:
    path = write(tmp_path / "config", cluster, user)
    assert message.format(path=path) in failure(path)


def test_refusals_name_the_file_the_entry_came_from(tmp_path: Path) -> None:
    first = write(tmp_path / "a", SERVER, {"token": "s3cret-token"}, name="a")
    second = write(tmp_path / "b", SERVER, {"tokn": "s3cret-token"}, name="b")
    message = failure(f"{first}:{second}", context="b")
    assert f"user 'b' in kubeconfig {second} has the key 'tokn'" in message


def test_an_unknown_context_lists_the_known_ones_of_all_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a", SERVER, {"token": "t"}, name="dev")
    second = write(tmp_path / "b", SERVER, {"token": "t"}, name="prod")
    assert failure(f"{first}:{second}", context="staging") == (
        f"context 'staging' is not in kubeconfig {first}:{second} (its contexts: 'dev', 'prod')")


def test_an_inline_kubeconfig_is_named_as_such_and_never_shown(tmp_path: Path) -> None:
    doc = yaml.safe_load(Path(write(tmp_path / "config", SERVER, {"token": "s3cret-token", "tokn": "x"})).read_text())
    assert "user 'shop' in the inline kubeconfig has the key 'tokn'" in failure(doc)
    assert "context 'nope' is not in the inline kubeconfig (its contexts: 'shop')" in failure(doc, context="nope")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("apiVersion: v1\nusers:\n- name: u\n  user: {token: s3cret-token}\n", id="yaml-text"),
        pytest.param('{"users": [{"name": "u", "user": {"token": "s3cret-token"}}]}', id="json-text"),
    ],
)
def test_kubeconfig_content_given_as_text_is_refused_without_showing_it(content: str) -> None:
    assert "kubeconfig is neither a file path nor a dictionary" in failure(content)


def test_exec_users_keep_their_impersonation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_connection, "_via_kubernetes_package",
                        lambda kubeconfig, context: {"host": "https://ignored", "token": "from-the-plugin"})
    path = write(tmp_path / "config", SERVER, {"exec": {"command": "aws"}, "as": "deployer"})
    conn = connect(path)
    assert (conn["host"], conn["token"]) == ("https://k8s.example.com:6443", "from-the-plugin")
    assert conn["headers"] == [("Impersonate-User", "deployer")]


def test_an_explicit_token_does_not_even_run_the_exec_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_args: Any) -> dict[str, Any]:
        raise AssertionError("the kubeconfig user must not be used")

    monkeypatch.setattr(_connection, "_via_kubernetes_package", never)
    path = write(tmp_path / "config", SERVER, {"exec": {"command": "aws"}, "token-file-with-typo": "x"})
    assert connect(path, api_key="task-token")["token"] == "task-token"


@pytest.mark.parametrize(
    ("cluster", "given", "env", "why"),
    [
        pytest.param({**SERVER, "insecure-skip-tls-verify": True}, {}, {},
                     "insecure-skip-tls-verify in cluster 'shop' in kubeconfig {path}", id="kubeconfig"),
        pytest.param(SERVER, {"validate_certs": False}, {}, "validate_certs is false", id="option"),
        pytest.param({**SERVER, "insecure-skip-tls-verify": True}, {"validate_certs": False}, {},
                     "validate_certs is false", id="both-still-one-warning"),
        pytest.param(SERVER, {"kubeconfig": None}, {"K8S_AUTH_KUBECONFIG": "{path}", "K8S_AUTH_VERIFY_SSL": "false"},
                     "K8S_AUTH_VERIFY_SSL is false", id="environment"),
    ],
)
def test_tls_checks_off_gives_exactly_one_warning_naming_the_host(tmp_path: Path, cluster: dict[str, Any],
                                                                  given: dict[str, Any], env: dict[str, str],
                                                                  why: str) -> None:
    path = write(tmp_path / "config", cluster, {"token": "s3cret-token"})
    env = {k: v.format(path=path) for k, v in env.items()}
    conn = connect(given.pop("kubeconfig", path), env, **given)
    assert conn["validate_certs"] is False
    assert conn["warnings"] == [
        f"TLS certificate checks are off for https://k8s.example.com:6443 ({why.format(path=path)}): nothing "
        "proves that the server is the API server, so whoever sits in between can read the credentials sent. "
        "Give the CA certificate (ca_cert) and turn the checks on."
    ]


def test_tls_checks_turned_back_on_warn_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "config", {**SERVER, "insecure-skip-tls-verify": True}, {"token": "t"})
    conn = connect(path, validate_certs=True)
    assert (conn["validate_certs"], conn["warnings"]) == (True, [])


def test_a_bad_verify_ssl_variable_fails_naming_it(tmp_path: Path) -> None:
    message = failure(None, {"K8S_AUTH_HOST": "https://k8s.example.com", "K8S_AUTH_VERIFY_SSL": "maybe"})
    assert message == "K8S_AUTH_VERIFY_SSL must be a boolean such as true or false, not 'maybe'"


PROXY = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("url", "env", "proxy"),
    [
        pytest.param("https://k8s.example.com:6443", {}, None, id="no-proxy-set"),
        pytest.param("https://k8s.example.com:6443", {"HTTPS_PROXY": PROXY}, PROXY, id="HTTPS_PROXY"),
        pytest.param("https://k8s.example.com:6443", {"https_proxy": PROXY}, PROXY, id="https_proxy"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": PROXY, "https_proxy": "http://other:1"}, PROXY,
                     id="upper-case-first"),
        pytest.param("https://k8s.example.com", {"HTTP_PROXY": PROXY}, None, id="HTTP_PROXY-not-for-https"),
        pytest.param("http://k8s.example.com:8080", {"HTTP_PROXY": PROXY}, PROXY, id="HTTP_PROXY-for-http"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": "proxy.corp:3128"}, PROXY, id="no-scheme-means-http"),
        pytest.param("https://127.0.0.1:6443", {"HTTPS_PROXY": PROXY}, None, id="loopback-never"),
        pytest.param("https://[::1]:6443", {"HTTPS_PROXY": PROXY}, None, id="loopback-v6-never"),
        pytest.param("https://localhost:6443", {"HTTPS_PROXY": PROXY}, None, id="localhost-never"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "*"}, None, id="no-proxy-star"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "k8s.example.com"}, None,
                     id="no-proxy-host"),
        pytest.param("https://api.k8s.example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "example.com"}, None,
                     id="no-proxy-name-covers-subdomains"),
        pytest.param("https://example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": ".example.com"}, PROXY,
                     id="no-proxy-dot-suffix-not-the-domain-itself"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "*.example.com"}, None,
                     id="no-proxy-star-dot-suffix"),
        pytest.param("https://notexample.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "example.com"}, PROXY,
                     id="no-proxy-suffix-at-a-dot-only"),
        pytest.param("https://K8S.Example.com", {"HTTPS_PROXY": PROXY, "no_proxy": " foo , K8S.EXAMPLE.COM "}, None,
                     id="no_proxy-case-and-spaces"),
        pytest.param("https://k8s.example.com:6443", {"HTTPS_PROXY": PROXY, "NO_PROXY": "k8s.example.com:443"}, PROXY,
                     id="no-proxy-port-must-match"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "k8s.example.com:443"}, None,
                     id="no-proxy-default-port"),
        pytest.param("https://198.51.100.5:6443", {"HTTPS_PROXY": PROXY, "NO_PROXY": "198.51.100.5"}, None, id="no-proxy-ip"),
        pytest.param("https://198.51.100.5:6443", {"HTTPS_PROXY": PROXY, "NO_PROXY": "198.51.100.0/24"}, None,
                     id="no-proxy-cidr"),
        pytest.param("https://203.0.113.5:6443", {"HTTPS_PROXY": PROXY, "NO_PROXY": "10.0.0.0/8,bad/cidr"}, PROXY,
                     id="cidr-outside"),
        pytest.param("https://[fd00::5]:6443", {"HTTPS_PROXY": PROXY, "NO_PROXY": "fd00::/64"}, None,
                     id="no-proxy-v6-cidr"),
        pytest.param("https://[fd00::5]:6443", {"HTTPS_PROXY": PROXY, "NO_PROXY": "[fd00::5]:6443"}, None,
                     id="no-proxy-v6-with-port"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": PROXY, "NO_PROXY": "", "no_proxy": "k8s.example.com"},
                     None, id="empty-NO_PROXY-falls-to-no_proxy"),
        pytest.param("https://k8s.example.com", {"HTTPS_PROXY": "socks5://p:1", "NO_PROXY": "example.com"}, None,
                     id="excluded-socks-is-no-error"),
    ],
)
def test_proxy_from_the_environment_like_kubectl(url: str, env: dict[str, str], proxy: str | None) -> None:
    assert _connection.proxy_for(url, env) == proxy


def test_a_socks_proxy_in_the_environment_is_refused() -> None:
    with pytest.raises(AuthConfigError, match="HTTPS_PROXY names a socks5h proxy, which skipper.platform does not"):
        _connection.proxy_for("https://k8s.example.com", {"HTTPS_PROXY": "socks5h://user:proxy-pass@p:1080"})


def test_the_kubeconfig_proxy_url_wins_even_for_loopback_and_no_proxy(tmp_path: Path) -> None:
    path = write(tmp_path / "config", {"server": "https://127.0.0.1:6443", "proxy-url": "https://kc-proxy:8443"},
                 {"token": "t"})
    conn = connect(path, {"HTTPS_PROXY": PROXY, "NO_PROXY": "*"})
    assert conn["proxy"] == "https://kc-proxy:8443"


def test_the_environment_proxy_lands_in_the_connection(tmp_path: Path) -> None:
    conn = connect(None, {"HTTPS_PROXY": PROXY}, host="https://k8s.example.com", api_key="t")
    assert conn["proxy"] == PROXY
    assert connect(None, {"HTTPS_PROXY": PROXY}, host="https://127.0.0.1:6443", api_key="t")["proxy"] is None


def _conn(**changes: Any) -> dict[str, Any]:
    return {"host": "https://127.0.0.1:6443", "token": None, "ca_cert": None, "client_cert": None, "client_key": None,
            "validate_certs": False, "tls_server_name": None, "proxy": None, "headers": [], "warnings": [], **changes}


def test_open_pool_without_a_proxy_is_a_plain_pool() -> None:
    pool = _connection.open_pool(_conn())
    assert isinstance(pool, urllib3.PoolManager)
    assert not isinstance(pool, urllib3.ProxyManager)


def test_open_pool_sends_proxy_credentials_as_a_header_only() -> None:
    pool = _connection.open_pool(_conn(proxy="http://user%40corp:proxy-pass@proxy.corp:3128"))
    assert isinstance(pool, urllib3.ProxyManager)
    assert (pool.proxy.host, pool.proxy.port, pool.proxy.auth) == ("proxy.corp", 3128, None)
    expected = "Basic " + base64.b64encode(b"user@corp:proxy-pass").decode()
    assert pool.proxy_headers == {"proxy-authorization": expected}


def test_requests_really_go_through_the_proxy() -> None:
    """A tiny proxy on loopback records the CONNECT and refuses it; the request must have asked it."""
    seen: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        peer, _addr = server.accept()
        with peer:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = peer.recv(4096)
                if not chunk:
                    break
                data += chunk
            seen.append(data)
            peer.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        pool = _connection.open_pool(_conn(proxy=f"http://deployer:proxy-pass@127.0.0.1:{port}"))
        with pytest.raises(urllib3.exceptions.ProxyError):
            pool.request("GET", "https://k8s.example.com:6443/api", retries=False, timeout=5)
    finally:
        thread.join(5)
        server.close()
    request = seen[0].decode()
    assert request.startswith("CONNECT k8s.example.com:6443 HTTP/1.")  # 1.0 before Python 3.12
    assert "proxy-authorization: basic " + base64.b64encode(b"deployer:proxy-pass").decode().lower() in request.lower()


def test_a_broken_proxy_address_is_named_without_its_password() -> None:
    with pytest.raises(AuthConfigError) as err:
        _connection.connection_settings({"host": "https://k8s.example.com", "api_key": "t"},
                                        {"HTTPS_PROXY": "socks5://user:proxy-pass@p:1"})
    assert "proxy-pass" not in err.value.message

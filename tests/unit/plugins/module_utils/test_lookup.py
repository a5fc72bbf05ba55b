# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _lookup as lk
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, SkipperError, ValidationError


@pytest.mark.parametrize(("term", "expected"), [
    ("db", ("db", None)),
    ("db/password", ("db", "password")),
    ("my.tls-cert/tls.crt", ("my.tls-cert", "tls.crt")),
])
def test_parse_term(term: str, expected: tuple[str, str | None]) -> None:
    assert lk.parse_term(term) == expected


@pytest.mark.parametrize(("term", "reason"), [
    ("a/b/c", "has 2 '/'"),
    ("", "empty"),
    ("  ", "empty"),
    (None, "empty"),
    ("/key", "is not a Secret name"),
    ("Db/key", "is not a Secret name"),
    ("db/", "is not a Secret key"),
    ("db/bad key", "is not a Secret key"),
])
def test_malformed_terms(term: Any, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        lk.parse_term(term)


def test_policies() -> None:
    warned: list[str] = []
    lk.settle(lk.Missing("gone"), "warn", "error", warned.append)
    lk.settle(lk.Denied("no"), "error", "skip", warned.append)
    assert warned == ["gone"]
    with pytest.raises(lk.Denied):
        lk.settle(lk.Denied("no"), "skip", "error", warned.append)
    with pytest.raises(ValidationError, match="on_missing must be one of error, warn, skip"):
        lk.check_policy("on_missing", "ignore")


def test_connection_params_leave_the_environment_to_resolve() -> None:
    origins = {"host": ("https://k8s:6443", "env: K8S_AUTH_HOST"), "api_key": ("tok", "Direct"),
               "kubeconfig": (None, "default"), "context": ("ctx", "var: skipper_k8s_context")}

    def get(name: str) -> tuple[Any, Any]:
        return origins.get(name, (None, "default"))

    assert lk.connection_params(get) == {"api_key": "tok", "context": "ctx"}


class FakeClient:
    host = "https://k8s:6443"

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def request(self, method: str, path: str) -> Any:
        self.calls.append(path)
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_read_secret_decodes_caches_and_classifies() -> None:
    lk.Cache.reset()
    base = "/api/v1/namespaces/shop/secrets/"
    client = FakeClient({
        base + "db": {"data": {"password": b64("hunter2"), "user": b64("app")}},
        base + "gone": ApiError("404 NotFound", status=404),
        base + "hidden": ApiError("403 Forbidden", status=403),
        base + "broken": ApiError("500 Internal", status=500),
        base + "binary": {"data": {"blob": base64.b64encode(b"\xff\xfe").decode()}},
    })
    data = lk.read_secret(client, "k", "shop", "db")  # type: ignore[arg-type]
    assert data == {"password": "hunter2", "user": "app"}
    lk.read_secret(client, "k", "shop", "db")  # type: ignore[arg-type]
    assert client.calls.count(base + "db") == 1
    assert lk.pick(data, "user", "Secret db") == "app"
    with pytest.raises(lk.Missing, match=r"Secret db has no key 'nope' \(its keys: password, user\)") as missing:
        lk.pick(data, "nope", "Secret db")
    assert "hunter2" not in missing.value.message
    with pytest.raises(lk.Missing, match="Secret gone not found in namespace shop"):
        lk.read_secret(client, "k", "shop", "gone")  # type: ignore[arg-type]
    with pytest.raises(lk.Denied, match="reading Secret hidden in namespace shop is forbidden"):
        lk.read_secret(client, "k", "shop", "hidden")  # type: ignore[arg-type]
    with pytest.raises(SkipperError, match="500 Internal") as other:
        lk.read_secret(client, "k", "shop", "broken")  # type: ignore[arg-type]
    assert not isinstance(other.value, (lk.Missing, lk.Denied))
    with pytest.raises(SkipperError, match="key 'blob' of Secret binary in namespace shop is not UTF-8"):
        lk.read_secret(client, "k", "shop", "binary")  # type: ignore[arg-type]
    lk.Cache.reset()


@pytest.mark.parametrize(("options", "env", "expected"), [
    ({}, {"VAULT_ADDR": "http://127.0.0.1:8300/", "VAULT_TOKEN": "t-env"},
     {"url": "http://127.0.0.1:8300", "token": "t-env", "verify": True}),
    ({"url": "https://v:8200", "token": "t-opt"}, {"VAULT_ADDR": "http://x", "VAULT_TOKEN": "t-env"},
     {"url": "https://v:8200", "token": "t-opt"}),
    ({"token": "t"}, {}, {"url": "http://127.0.0.1:8200"}),
    ({"token": "t"}, {"VAULT_SKIP_VERIFY": "true"}, {"verify": False}),
    ({"token": "t"}, {"VAULT_SKIP_VERIFY": "maybe"}, {"verify": True}),
    ({"token": "t", "validate_certs": True}, {"VAULT_SKIP_VERIFY": "1"}, {"verify": True}),
    ({"token": "t"}, {"VAULT_CACERT": "/ca.pem"}, {"verify": "/ca.pem"}),
    ({"token": "t", "validate_certs": False}, {"VAULT_CACERT": "/ca.pem"}, {"verify": False}),
    ({"token": "t"}, {"VAULT_NAMESPACE": "team"}, {"namespace": "team"}),
    ({"token": "t", "namespace": "own"}, {"VAULT_NAMESPACE": "team"}, {"namespace": "own"}),
    ({"auth_method": "approle", "role_id": "r", "secret_id": "s"}, {"VAULT_TOKEN": "t-env"},
     {"token": None, "role_id": "r", "auth_mount": "approle"}),
])
def test_vault_settings(options: dict[str, Any], env: dict[str, str], expected: dict[str, Any]) -> None:
    settings = lk.vault_settings(options, env)
    assert {k: settings[k] for k in expected} == expected


def test_vault_token_file(tmp_path: Any) -> None:
    (tmp_path / ".vault-token").write_text("t-file\n")
    assert lk.vault_settings({}, {"HOME": str(tmp_path)})["token"] == "t-file"
    with pytest.raises(ValidationError, match="no Vault token"):
        lk.vault_settings({}, {"HOME": str(tmp_path / "none")})


@pytest.mark.parametrize(("options", "match"), [
    ({"auth_method": "approle"}, "needs role_id"),
    ({"auth_method": "ldap", "token": "t"}, "auth_method must be one of"),
    ({"url": "vault:8200", "token": "t"}, "must start with http"),
])
def test_vault_settings_refused(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        lk.vault_settings(options, {})


@pytest.mark.parametrize("path", ["", "/shop/db", "shop/db/", "shop//db", "shop/../db"])
def test_bad_vault_paths(path: str) -> None:
    with pytest.raises(ValidationError):
        lk.check_vault_path(path)


def test_vault_version_and_mount() -> None:
    assert lk.check_version(None) is None and lk.check_version(3) == 3
    for bad in (0, -1, True):
        with pytest.raises(ValidationError):
            lk.check_version(bad)
    assert lk.check_mount("/kv/") == "kv"
    with pytest.raises(ValidationError):
        lk.check_mount("/")

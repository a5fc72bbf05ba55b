# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _auth
from ansible_collections.skipper.platform.plugins.module_utils._errors import (
    AuthConfigError,
)

NOTHING = dict.fromkeys(_auth.CREDENTIAL_OPTIONS)
AWX_ENV = {
    "K8S_AUTH_HOST": "https://k8s.example.com:6443",
    "K8S_AUTH_API_KEY": "awx-token",
    "K8S_AUTH_SSL_CA_CERT": "/runner/env/ca.crt",
    "K8S_AUTH_VERIFY_SSL": "False",
}


def params(**given: Any) -> dict[str, Any]:
    """Module parameters as AnsibleModule hands them over: every option present, unset ones None."""
    out: dict[str, Any] = dict.fromkeys(_auth.AUTH_ARG_SPEC)
    out.update(given)
    return out


@pytest.mark.parametrize(
    ("given", "env", "source", "expected"),
    [
        pytest.param(params(host="https://api.example.com", api_key="task-token"), {}, "parameters",
                     {"host": "https://api.example.com", "api_key": "task-token"}, id="params-only"),
        pytest.param(params(kubeconfig="/home/ci/.kube/prod", context="prod"), {}, "parameters",
                     {"kubeconfig": "/home/ci/.kube/prod", "context": "prod"}, id="params-kubeconfig-and-context"),
        pytest.param(params(validate_certs=False), {}, "parameters", {"validate_certs": False},
                     id="params-false-counts-as-set"),
        pytest.param(params(), AWX_ENV, "environment",
                     {"host": "https://k8s.example.com:6443", "api_key": "awx-token",
                      "ca_cert": "/runner/env/ca.crt", "validate_certs": False}, id="env-only-awx"),
        pytest.param({}, {"K8S_AUTH_KUBECONFIG": "/runner/kubeconfig", "K8S_AUTH_CONTEXT": "prod"}, "environment",
                     {"kubeconfig": "/runner/kubeconfig", "context": "prod"}, id="env-kubeconfig-missing-params"),
        pytest.param(params(), {"K8S_AUTH_HOST": "https://k8s", "K8S_AUTH_VERIFY_SSL": "yes"}, "environment",
                     {"host": "https://k8s", "validate_certs": True}, id="env-verify-yes"),
        pytest.param(params(), {"K8S_AUTH_HOST": "", "K8S_AUTH_API_KEY": ""}, "default", {},
                     id="empty-env-is-unset"),
        pytest.param(params(host="https://api.example.com"), AWX_ENV, "parameters",
                     {"host": "https://api.example.com"}, id="both-params-win-no-env-token-leaks"),
        pytest.param(params(context="staging"), AWX_ENV, "parameters", {"context": "staging"},
                     id="both-context-param-ignores-env-host"),
        pytest.param(params(api_key="task-token"), {"K8S_AUTH_HOST": "https://env-host"}, "parameters",
                     {"api_key": "task-token"}, id="both-params-token-does-not-take-env-host"),
        pytest.param(params(), {}, "default", {}, id="neither"),
        pytest.param({}, {"HOME": "/root", "KUBECONFIG": "/tmp/k"}, "default", {},
                     id="neither-other-env-ignored"),
    ],
)
def test_resolve_takes_credentials_from_one_source(
    given: dict[str, Any], env: dict[str, str], source: str, expected: dict[str, Any]
) -> None:
    settings = _auth.resolve(given, env)
    assert settings["source"] == source
    assert {k: settings[k] for k in _auth.CREDENTIAL_OPTIONS} == {**NOTHING, **expected}


@pytest.mark.parametrize(
    ("given", "env", "connect", "read"),
    [
        pytest.param(params(), {}, 10.0, 30.0, id="defaults"),
        pytest.param(params(), {"K8S_AUTH_CONNECT_TIMEOUT": "3", "K8S_AUTH_REQUEST_TIMEOUT": "120.5"}, 3.0, 120.5,
                     id="from-env"),
        pytest.param(params(connect_timeout=5.0), {"K8S_AUTH_CONNECT_TIMEOUT": "3"}, 5.0, 30.0,
                     id="param-beats-env"),
        pytest.param(params(host="https://h"), {"K8S_AUTH_REQUEST_TIMEOUT": "60"}, 10.0, 60.0,
                     id="env-timeout-kept-with-param-credentials"),
    ],
)
def test_resolve_timeouts(given: dict[str, Any], env: dict[str, str], connect: float, read: float) -> None:
    settings = _auth.resolve(given, env)
    assert (settings["connect_timeout"], settings["request_timeout"]) == (connect, read)


@pytest.mark.parametrize(
    ("given", "env", "message"),
    [
        pytest.param(params(), {"K8S_AUTH_HOST": "https://k8s", "K8S_AUTH_VERIFY_SSL": "sometimes"},
                     "K8S_AUTH_VERIFY_SSL must be a boolean such as true or false, not 'sometimes'",
                     id="bad-verify-ssl"),
        pytest.param(params(), {"K8S_AUTH_CONNECT_TIMEOUT": "10s"},
                     "K8S_AUTH_CONNECT_TIMEOUT must be a number of seconds, not '10s'", id="bad-timeout"),
        pytest.param(params(client_key="/k.pem"), {}, "client_key is set but client_cert is not (from the parameters)",
                     id="key-without-cert-params"),
        pytest.param(params(), {"K8S_AUTH_KEY_FILE": "/k.pem"},
                     "client_key is set but client_cert is not (from the environment)", id="key-without-cert-env"),
    ],
)
def test_resolve_rejects_unusable_settings(given: dict[str, Any], env: dict[str, str], message: str) -> None:
    with pytest.raises(AuthConfigError) as err:
        _auth.resolve(given, env)
    assert err.value.message == message


def test_resolve_error_never_shows_the_token() -> None:
    env = {**AWX_ENV, "K8S_AUTH_VERIFY_SSL": "nope", "K8S_AUTH_KEY_FILE": "/k.pem"}
    with pytest.raises(AuthConfigError) as err:
        _auth.resolve(params(), env)
    assert "awx-token" not in str(err.value)


def test_ignored_env_credentials_are_not_even_parsed() -> None:
    settings = _auth.resolve(params(host="https://api.example.com", api_key="t"), {"K8S_AUTH_VERIFY_SSL": "maybe"})
    assert settings["source"] == "parameters"
    assert settings["validate_certs"] is None

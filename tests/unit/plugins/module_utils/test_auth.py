# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils import basic
from ansible_collections.skipper.platform.plugins.module_utils import _auth, _connection
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
        pytest.param(params(context="staging"), {"K8S_AUTH_KUBECONFIG": "/runner/kubeconfig"}, "environment",
                     {"kubeconfig": "/runner/kubeconfig", "context": "staging"},
                     id="context-param-selects-inside-the-env-kubeconfig"),
        pytest.param(params(context="staging"), {"K8S_AUTH_CONTEXT": "prod"}, "default", {"context": "staging"},
                     id="context-param-beats-env-context"),
        pytest.param(params(context="staging"), {}, "default", {"context": "staging"},
                     id="context-param-alone-picks-no-source"),
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
    ("given", "env", "named"),
    [
        pytest.param(params(host="https://api.example.com", api_key="t"), AWX_ENV,
                     ["K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_SSL_CA_CERT"],
                     id="params-over-awx"),
        pytest.param(params(kubeconfig="/k"), {"K8S_AUTH_CONTEXT": "prod", "K8S_AUTH_KEY_FILE": "/x"},
                     ["K8S_AUTH_CONTEXT", "K8S_AUTH_KEY_FILE"], id="params-over-context-and-key"),
        pytest.param(params(context="a"), {"K8S_AUTH_KUBECONFIG": "/k", "K8S_AUTH_CONTEXT": "env-context"},
                     ["K8S_AUTH_CONTEXT"], id="context-param-over-env-context"),
        pytest.param(params(kubeconfig="/k", connect_timeout=3.0), {"K8S_AUTH_CONNECT_TIMEOUT": "9"},
                     ["K8S_AUTH_CONNECT_TIMEOUT"], id="timeout-param-over-env"),
        pytest.param(params(host="https://h"), {"K8S_AUTH_VERIFY_SSL": "maybe"}, ["K8S_AUTH_VERIFY_SSL"],
                     id="ignored-values-are-not-parsed"),
        pytest.param(params(host="https://h"), {"K8S_AUTH_HOST": ""}, [], id="empty-variables-are-unset"),
        pytest.param(params(), AWX_ENV, [], id="env-only"),
        pytest.param(params(host="https://h"), {"KUBECONFIG": "/k"}, [], id="kubeconfig-variable-is-no-k8s-auth"),
    ],
)
def test_ignored_variables_are_named_in_one_warning(given: dict[str, Any], env: dict[str, str], named: list[str]) -> None:
    warnings = _auth.resolve(given, env)["warnings"]
    if not named:
        assert warnings == []
        return
    assert len(warnings) == 1
    for name in env:
        assert (name in warnings[0]) is (name in named), name
    for value in env.values():
        assert value not in warnings[0], "names only, never values"


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
        pytest.param(params(), {"K8S_AUTH_KUBECONFIG": "/k", "K8S_AUTH_VERIFY_SSL": "maybe"},
                     "K8S_AUTH_VERIFY_SSL must be a boolean such as true or false, not 'maybe'",
                     id="bad-verify-ssl-beside-a-kubeconfig"),
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


# Every way of giving (or not giving) credentials, from the options to the
# connection the client opens: which cluster, which identity, which warning.
# On disk: ~/.kube/config (contexts home, staging), a file named by KUBECONFIG
# (contexts from-kubeconfig-env, staging), prod.yaml (contexts prod with a
# client certificate, canary with a token), and, when asked, an in-cluster
# service account.

HOME_KC = {"home": ("https://home.example", {"token": "home-token"}),
           "staging": ("https://home-staging.example", {"token": "home-staging-token"})}
ENV_KC = {"from-kubeconfig-env": ("https://kubeconfig-env.example", {"token": "kubeconfig-env-token"}),
          "staging": ("https://kubeconfig-env-staging.example", {"token": "kubeconfig-env-staging-token"})}
PROD_KC = {"prod": ("https://prod.example", {"client-certificate": "prod.crt", "client-key": "prod.key"}),
           "canary": ("https://canary.example", {"token": "canary-token"})}
AWX_HOST = {"K8S_AUTH_HOST": "https://awx.example:6443", "K8S_AUTH_API_KEY": "awx-token"}


def write_kubeconfig(path: Path, contexts: dict[str, tuple[str, dict[str, Any]]]) -> str:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}} for name, (server, _user) in contexts.items()],
        "users": [{"name": name, "user": user} for name, (_server, user) in contexts.items()],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name in contexts],
        "current-context": next(iter(contexts)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_connection, "IN_CLUSTER_DIR", str(tmp_path / "serviceaccount"))
    write_kubeconfig(tmp_path / "env.yaml", ENV_KC)
    write_kubeconfig(tmp_path / "prod.yaml", PROD_KC)
    for name in ("prod.crt", "prod.key"):
        (tmp_path / name).write_text("-----BEGIN PEM-----\n", encoding="utf-8")
    (tmp_path / "serviceaccount").mkdir()
    (tmp_path / "serviceaccount" / "token").write_text("sa-token\n", encoding="utf-8")
    (tmp_path / "serviceaccount" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    return tmp_path


COMBINATIONS = [
    # (task parameters, environment, what exists: "home" kubeconfig / "sa" in-cluster, outcome)
    pytest.param(params(host="https://task.example", api_key="task-token"), {}, "home sa",
                 {"host": "https://task.example", "token": "task-token"}, id="params-host-and-token"),
    pytest.param(params(host="https://task.example", api_key="task-token"), AWX_HOST, "home",
                 {"host": "https://task.example", "token": "task-token",
                  "warned": ["K8S_AUTH_HOST", "K8S_AUTH_API_KEY"]}, id="params-win-over-env-with-a-warning"),
    pytest.param(params(), AWX_HOST, "home sa", {"host": "https://awx.example:6443", "token": "awx-token"},
                 id="env-only-host-and-token"),
    pytest.param(params(kubeconfig="{tmp}/prod.yaml", context="canary"), AWX_HOST, "home",
                 {"host": "https://canary.example", "token": "canary-token",
                  "warned": ["K8S_AUTH_HOST", "K8S_AUTH_API_KEY"]}, id="params-kubeconfig-over-env"),
    pytest.param(params(context="prod"), AWX_HOST, "home",
                 {"error": "context 'prod' is set (the context parameter), but the credentials come from host/api_key "
                           "in the environment (K8S_AUTH_HOST, K8S_AUTH_API_KEY), which have no contexts"},
                 id="context-param-with-env-host-and-token-fails"),
    pytest.param(params(context="staging"), {**AWX_HOST, "KUBECONFIG": "{tmp}/env.yaml"}, "home",
                 {"error": "which have no contexts"}, id="context-with-env-token-never-falls-back-to-KUBECONFIG"),
    pytest.param(params(host="https://task.example", api_key="t", context="prod"), {}, "home",
                 {"error": "context 'prod' is set (the context parameter), but the credentials come from host/api_key "
                           "in the task parameters or module_defaults, which have no contexts"},
                 id="context-with-params-host-and-token-fails"),
    pytest.param(params(), {**AWX_HOST, "K8S_AUTH_CONTEXT": "prod"}, "home",
                 {"error": "context 'prod' is set (K8S_AUTH_CONTEXT), but the credentials come from host/api_key"},
                 id="env-context-with-env-host-fails"),
    pytest.param(params(context="canary"), {"K8S_AUTH_KUBECONFIG": "{tmp}/prod.yaml"}, "home",
                 {"host": "https://canary.example", "token": "canary-token"},
                 id="context-param-selects-in-the-env-kubeconfig"),
    pytest.param(params(context="canary"), {"K8S_AUTH_KUBECONFIG": "{tmp}/prod.yaml", "K8S_AUTH_CONTEXT": "prod"},
                 "home", {"host": "https://canary.example", "warned": ["K8S_AUTH_CONTEXT"]},
                 id="context-param-beats-K8S_AUTH_CONTEXT"),
    pytest.param(params(kubeconfig="{tmp}/prod.yaml"), {}, "home",
                 {"host": "https://prod.example", "token": None, "client_cert": "{tmp}/prod.crt"},
                 id="kubeconfig-param-current-context"),
    pytest.param(params(kubeconfig="{tmp}/prod.yaml", context="nope"), {}, "home",
                 {"error": "context 'nope' is not in kubeconfig {tmp}/prod.yaml (its contexts: 'canary', 'prod')"},
                 id="unknown-context-names-file-and-known-contexts"),
    pytest.param(params(context="staging"), {"KUBECONFIG": "{tmp}/env.yaml"}, "home",
                 {"host": "https://kubeconfig-env-staging.example", "token": "kubeconfig-env-staging-token"},
                 id="context-param-in-the-KUBECONFIG-default"),
    pytest.param(params(), {"KUBECONFIG": "{tmp}/env.yaml"}, "home sa",
                 {"host": "https://kubeconfig-env.example"}, id="KUBECONFIG-default-beats-home-and-in-cluster"),
    pytest.param(params(context="staging"), {}, "home", {"host": "https://home-staging.example"},
                 id="context-param-in-home-kubeconfig"),
    pytest.param(params(), {}, "home sa", {"host": "https://home.example", "token": "home-token"},
                 id="home-kubeconfig-beats-in-cluster"),
    pytest.param(params(), {"K8S_AUTH_CONTEXT": "staging"}, "home", {"host": "https://home-staging.example"},
                 id="env-context-alone-selects-in-the-default-kubeconfig"),
    pytest.param(params(), {}, "sa", {"host": "https://10.96.0.1:443", "token": "sa-token"}, id="in-cluster"),
    pytest.param(params(context="prod"), {}, "sa",
                 {"error": "context 'prod' is set, but there is no kubeconfig to take it from: ~/.kube/config does "
                           "not exist"}, id="context-in-cluster-fails"),
    pytest.param(params(api_key="task-token"), {}, "sa", {"host": "https://10.96.0.1:443", "token": "task-token"},
                 id="token-param-in-cluster"),
    pytest.param(params(api_key="task-token"), {"KUBECONFIG": "{tmp}/prod.yaml"}, "home",
                 {"host": "https://prod.example", "token": "task-token", "client_cert": None, "client_key": None},
                 id="token-param-replaces-the-kubeconfig-certificate"),
    pytest.param(params(), {"K8S_AUTH_KUBECONFIG": "{tmp}/prod.yaml", "K8S_AUTH_API_KEY": "env-token"}, "home",
                 {"host": "https://prod.example", "token": "env-token", "client_cert": None},
                 id="env-token-replaces-the-kubeconfig-certificate"),
    pytest.param(params(kubeconfig="{tmp}/prod.yaml", context="canary", client_cert="{tmp}/prod.crt",
                        client_key="{tmp}/prod.key"), {}, "home",
                 {"host": "https://canary.example", "token": None, "client_cert": "{tmp}/prod.crt"},
                 id="client-cert-param-replaces-the-kubeconfig-token"),
    pytest.param(params(api_key="task-token"), AWX_HOST, "home",
                 {"error": "the task parameters or module_defaults set api_key but neither host nor kubeconfig, "
                           "while K8S_AUTH_HOST in the environment names a cluster"},
                 id="token-param-beside-env-host-fails"),
    pytest.param(params(validate_certs=False), {"K8S_AUTH_KUBECONFIG": "{tmp}/prod.yaml"}, "home",
                 {"error": "set validate_certs but neither host nor kubeconfig, while K8S_AUTH_KUBECONFIG"},
                 id="module-defaults-verify-beside-env-kubeconfig-fails"),
    pytest.param(params(), {}, "", {"error": "no Kubernetes credentials found"}, id="nothing-at-all"),
    pytest.param(params(kubeconfig="{tmp}/nowhere.yaml"), {}, "home",
                 {"error": "kubeconfig file {tmp}/nowhere.yaml does not exist"}, id="missing-kubeconfig-named"),
]


@pytest.mark.parametrize(("given", "env", "exists", "outcome"), COMBINATIONS)
def test_which_cluster_and_identity_each_combination_gets(machine: Path, monkeypatch: pytest.MonkeyPatch,
                                                          given: dict[str, Any], env: dict[str, str], exists: str,
                                                          outcome: dict[str, Any]) -> None:
    fill = {"tmp": str(machine)}
    given = {k: v.format(**fill) if isinstance(v, str) else v for k, v in given.items()}
    env = {k: v.format(**fill) for k, v in env.items()}
    if "home" in exists.split():
        write_kubeconfig(machine / "home" / ".kube" / "config", HOME_KC)
    if "sa" in exists.split():
        env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1"
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the kubernetes package and ~ expansion read os.environ
    outcome = {k: v.format(**fill) if isinstance(v, str) else v for k, v in outcome.items()}
    if "error" in outcome:
        with pytest.raises(AuthConfigError) as err:
            _connection.connection_settings(_auth.resolve(given, env), env)
        assert outcome["error"] in err.value.message
        for secret in ("task-token", "awx-token", "home-token", "canary-token", "env-token"):
            assert secret not in err.value.message
        return
    conn = _connection.connection_settings(_auth.resolve(given, env), env)
    warned = outcome.pop("warned", [])
    assert {k: conn[k] for k in outcome} == outcome
    if warned:
        assert len(conn["warnings"]) == 1
        assert all(name in conn["warnings"][0] for name in warned)
    else:
        assert conn["warnings"] == []


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        pytest.param({"kubeconfig": "/etc/skipper/prod.kubeconfig"}, False, id="a-path-is-shown"),
        pytest.param({"kubeconfig": "~/a.yaml:~/b.yaml"}, False, id="a-path-list-is-shown"),
        pytest.param({"kubeconfig": {"users": [{"name": "u", "user": {"token": "inline-secret"}}]}}, True,
                     id="inline-dict-is-hidden"),
        pytest.param({"kubeconfig": "apiVersion: v1\nusers:\n- user: {token: inline-secret}\n"}, True,
                     id="inline-yaml-text-is-hidden"),
        pytest.param({"kubeconfig": '{"users": []}'}, True, id="inline-json-text-is-hidden"),
        pytest.param({}, True, id="not-given-stays-hidden"),
    ],
)
def test_kubeconfig_is_no_log_only_when_it_holds_content(raw: dict[str, Any], hidden: bool) -> None:
    spec = _auth.auth_arg_spec(raw)
    assert spec["kubeconfig"]["no_log"] is hidden
    assert spec["api_key"]["no_log"] is True
    assert _auth.AUTH_ARG_SPEC["kubeconfig"]["no_log"] is True, "the shared spec is never changed"


def test_outside_a_module_run_the_kubeconfig_stays_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    # No AnsiballZ payload (unit tests, validate-modules): nothing is read from stdin.
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", None)
    assert _auth.auth_arg_spec()["kubeconfig"]["no_log"] is True


def test_in_a_module_run_the_raw_parameters_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(basic, "_load_params", lambda: {"kubeconfig": "/etc/k.yaml", "name": "web"})
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", b"{}")
    assert _auth.auth_arg_spec()["kubeconfig"]["no_log"] is False

    def broken() -> Any:
        raise ValueError("not JSON")

    monkeypatch.setattr(basic, "_load_params", broken)
    assert _auth.auth_arg_spec()["kubeconfig"]["no_log"] is True

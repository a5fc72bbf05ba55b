# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: one spec, one resolution rule.

The option names and environment variables are kubernetes.core's, so AWX's
Kubernetes credential (which injects ``K8S_AUTH_*``) and
``module_defaults: group/skipper.platform.k8s`` work unchanged.

Precedence: an option set on the task or through ``module_defaults`` (Ansible
merges both into the module's parameters before we see them) wins over the
environment. Sources are never mixed: when any credential option is set as a
parameter, the ``K8S_AUTH_*`` credential variables are ignored entirely, so a
task that names its own host never picks up a token from the job's
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ._errors import AuthConfigError

# Options that say where the cluster is and who we are. These come from one
# source only (parameters, else environment).
CREDENTIAL_OPTIONS = (
    "kubeconfig",
    "context",
    "host",
    "api_key",
    "validate_certs",
    "ca_cert",
    "client_cert",
    "client_key",
)

ENV_NAMES = {
    "kubeconfig": "K8S_AUTH_KUBECONFIG",
    "context": "K8S_AUTH_CONTEXT",
    "host": "K8S_AUTH_HOST",
    "api_key": "K8S_AUTH_API_KEY",
    "validate_certs": "K8S_AUTH_VERIFY_SSL",
    "ca_cert": "K8S_AUTH_SSL_CA_CERT",
    "client_cert": "K8S_AUTH_CERT_FILE",
    "client_key": "K8S_AUTH_KEY_FILE",
    "connect_timeout": "K8S_AUTH_CONNECT_TIMEOUT",
    "request_timeout": "K8S_AUTH_REQUEST_TIMEOUT",
}

AUTH_ARG_SPEC: dict[str, dict[str, Any]] = {
    # A kubeconfig given inline may hold tokens and keys: never logged.
    "kubeconfig": {"type": "raw", "no_log": True},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
    "connect_timeout": {"type": "float"},
    "request_timeout": {"type": "float"},
}



def auth_arg_spec() -> dict[str, dict[str, Any]]:
    """The connection options for a module's argument spec (a fresh copy)."""
    return {name: dict(option) for name, option in AUTH_ARG_SPEC.items()}


DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_REQUEST_TIMEOUT = 30.0


def _from_env(name: str, env: Mapping[str, str]) -> Any:
    value = env.get(ENV_NAMES[name])
    if value is None or value == "":
        return None
    if name == "validate_certs":
        try:
            return boolean(value, strict=True)
        except TypeError:
            raise AuthConfigError(
                f"{ENV_NAMES[name]} must be a boolean such as true or false, not {value!r}"
            ) from None
    if name in ("connect_timeout", "request_timeout"):
        try:
            return float(value)
        except ValueError:
            raise AuthConfigError(f"{ENV_NAMES[name]} must be a number of seconds, not {value!r}") from None
    return value


def resolve(params: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Pick the connection settings from exactly one source.

    Returns the credential options (absent ones as None), the timeouts, and
    ``source``: ``parameters``, ``environment`` or ``default`` (kubeconfig
    from ``KUBECONFIG``/``~/.kube/config``, else in-cluster).
    """
    from_params = {k: params.get(k) for k in CREDENTIAL_OPTIONS}
    if any(v is not None for v in from_params.values()):
        settings, source = from_params, "parameters"
    elif any(env.get(ENV_NAMES[k]) for k in CREDENTIAL_OPTIONS):
        # Parsed only when chosen: a bad value in an ignored variable is no error.
        settings, source = {k: _from_env(k, env) for k in CREDENTIAL_OPTIONS}, "environment"
    else:
        settings, source = dict.fromkeys(CREDENTIAL_OPTIONS), "default"
    for name, default in (("connect_timeout", DEFAULT_CONNECT_TIMEOUT), ("request_timeout", DEFAULT_REQUEST_TIMEOUT)):
        value = params.get(name)
        if value is None:
            value = _from_env(name, env)
        settings[name] = default if value is None else value
    if settings["client_key"] and not settings["client_cert"]:
        raise AuthConfigError(f"client_key is set but client_cert is not (from the {source})")
    settings["source"] = source
    return settings

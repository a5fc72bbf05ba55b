# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: one spec, one resolution rule.

The option names and environment variables are kubernetes.core's, so AWX's
Kubernetes credential (which injects ``K8S_AUTH_*``) and
``module_defaults: group/skipper.platform.k8s`` work unchanged.

Which source the credentials come from (exactly one, never a mix):

1. The parameters, when any connection option other than ``context`` is set
   on the task or through ``module_defaults`` (Ansible merges both into the
   module's parameters before we see them). Every ``K8S_AUTH_*`` variable
   that is set is then ignored, and one warning names them (names only,
   never values).
2. Otherwise the ``K8S_AUTH_*`` environment, when any of its connection
   variables is set (this is how AWX passes its Kubernetes credential).
3. Otherwise the kubeconfig named by ``KUBECONFIG`` (else
   ``~/.kube/config``), and without one the in-cluster service account.

Within that source:

- ``host`` with ``api_key`` (or a client certificate) is complete by itself:
  no kubeconfig is read.
- ``context`` never picks a source; it only selects a context inside the
  chosen source's kubeconfig, and a ``context`` parameter beats
  ``K8S_AUTH_CONTEXT``. If the source has no kubeconfig (``host``/``api_key``,
  the in-cluster account) a context is an error, never a reason to go and
  read some other kubeconfig.
- Parameters that say neither ``host`` nor ``kubeconfig`` (only ``api_key``,
  say) find the cluster in ``KUBECONFIG``/``~/.kube/config``, like
  ``kubectl --token``. If the ignored environment names a cluster
  (``K8S_AUTH_HOST``, ``K8S_AUTH_KUBECONFIG``) that is an error instead: the
  task cannot have meant two clusters.
- An explicit token (``api_key``, ``K8S_AUTH_API_KEY``) or client certificate
  replaces the kubeconfig user's credentials as a whole: only the cluster part
  of the kubeconfig (server, CA, TLS server name, proxy) is used, so a wrong
  token fails with 401 instead of riding on the kubeconfig's certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ._errors import AuthConfigError

# Options that say where the cluster is and who we are. These come from one
# source only (parameters, else environment, else the default kubeconfig).
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
# The ones that choose the source: a context only selects inside it.
SOURCE_OPTIONS = tuple(name for name in CREDENTIAL_OPTIONS if name != "context")
TIMEOUT_OPTIONS = ("connect_timeout", "request_timeout")

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
    # auth_arg_spec() relaxes this for a plain path, so messages can name it.
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


def auth_arg_spec(raw_params: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The connection options for a module's argument spec (a fresh copy).

    ``kubeconfig`` is ``no_log`` only when it holds content (a dictionary, or
    text that is not a path): a path must stay readable in messages such as
    "kubeconfig file /x does not exist", which Ansible would otherwise turn
    into "********". The decision needs the value before AnsibleModule
    exists, so it is read from the raw module parameters.
    """
    spec = {name: dict(option) for name, option in AUTH_ARG_SPEC.items()}
    if raw_params is None:
        raw_params = _raw_module_params()
    if looks_like_path(raw_params.get("kubeconfig")):
        spec["kubeconfig"]["no_log"] = False
    return spec


def looks_like_path(value: Any) -> bool:
    """A one-line string that cannot be YAML or JSON content: safe to show."""
    return (isinstance(value, str) and value != "" and "\n" not in value and "\r" not in value
            and not value.lstrip().startswith(("{", "[")))


def _raw_module_params() -> Mapping[str, Any]:
    """The parameters Ansible handed this module run, or {} outside a module run."""
    from ansible.module_utils import basic  # looked up at call time: validate-modules patches it

    # Set by the AnsiballZ wrapper. Without it (unit tests, validate-modules,
    # a module started by hand) reading would consume stdin: stay hidden.
    if getattr(basic, "_ANSIBLE_ARGS", None) is None:
        return {}
    try:
        params = basic._load_params()
    except Exception:  # an unreadable payload is AnsibleModule's to report
        return {}
    return params if isinstance(params, Mapping) else {}


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
    if name in TIMEOUT_OPTIONS:
        try:
            return float(value)
        except ValueError:
            raise AuthConfigError(f"{ENV_NAMES[name]} must be a number of seconds, not {value!r}") from None
    return value


def resolve(params: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Pick the connection settings from exactly one source (see the module docstring).

    Returns the credential options (absent ones as None), the timeouts,
    ``source`` (``parameters``, ``environment`` or ``default``: the kubeconfig
    from ``KUBECONFIG``/``~/.kube/config``, else in-cluster) and ``warnings``
    (at most one, naming the ``K8S_AUTH_*`` variables that were ignored).
    """
    in_env = {name for name in (*CREDENTIAL_OPTIONS, *TIMEOUT_OPTIONS) if env.get(ENV_NAMES[name])}
    context = params.get("context")
    ignored: list[str] = []
    if any(params.get(name) is not None for name in SOURCE_OPTIONS):
        source = "parameters"
        settings = {name: params.get(name) for name in CREDENTIAL_OPTIONS}
        # Not even parsed: a bad value in an ignored variable is no error.
        ignored = [name for name in CREDENTIAL_OPTIONS if name in in_env]
        _refuse_two_clusters(settings, in_env)
    else:
        if context is not None and "context" in in_env:
            ignored.append("context")
        if in_env.intersection(SOURCE_OPTIONS) or ("context" in in_env and context is None):
            source = "environment"
            settings = {name: _from_env(name, env) for name in SOURCE_OPTIONS}
            settings["context"] = context if context is not None else _from_env("context", env)
        else:
            source = "default"
            settings = dict.fromkeys(CREDENTIAL_OPTIONS)
            settings["context"] = context
    for name, default in (("connect_timeout", DEFAULT_CONNECT_TIMEOUT), ("request_timeout", DEFAULT_REQUEST_TIMEOUT)):
        value = params.get(name)
        if value is None:
            value = _from_env(name, env)
        elif name in in_env:
            ignored.append(name)
        settings[name] = default if value is None else value
    if settings["client_key"] and not settings["client_cert"]:
        raise AuthConfigError(f"client_key is set but client_cert is not (from the {source})")
    context_from = "the context parameter" if context is not None else ENV_NAMES["context"]
    _refuse_context_without_kubeconfig(settings, source, context_from)
    settings["source"] = source
    settings["warnings"] = [
        f"Ignored the environment variables {', '.join(ENV_NAMES[name] for name in ignored)}: connection options "
        "set on the task or in module_defaults take precedence, and credentials are never mixed from two sources."
    ] if ignored else []
    return settings


def _refuse_two_clusters(settings: Mapping[str, Any], in_env: set[str]) -> None:
    """Parameters that do not say which cluster, beside an environment that does."""
    if settings["host"] or settings["kubeconfig"]:
        return
    naming = [ENV_NAMES[name] for name in ("host", "kubeconfig") if name in in_env]
    if not naming:
        return
    given = ", ".join(name for name in SOURCE_OPTIONS if settings[name] is not None)
    raise AuthConfigError(
        f"the task parameters or module_defaults set {given} but neither host nor kubeconfig, while "
        f"{' and '.join(naming)} in the environment names a cluster; parameters win and the K8S_AUTH_* "
        "variables are ignored as a whole, and the cluster would come from KUBECONFIG or ~/.kube/config "
        "instead: set host or kubeconfig as a parameter too, or move the other options to their K8S_AUTH_* variables"
    )


def _refuse_context_without_kubeconfig(settings: Mapping[str, Any], source: str, context_from: str) -> None:
    """A context only means something inside a kubeconfig; host and token have none."""
    if not settings["context"] or not settings["host"] or settings["kubeconfig"]:
        return
    given = [name for name in ("host", "api_key", "client_cert") if settings[name]]
    if source == "environment":
        where = f"the environment ({', '.join(ENV_NAMES[name] for name in given)})"
    else:
        where = "the task parameters or module_defaults"
    raise AuthConfigError(
        f"context {settings['context']!r} is set ({context_from}), but the credentials come from "
        f"{'/'.join(given)} in {where}, which have no contexts: remove the context, or give a kubeconfig "
        "that defines it"
    )

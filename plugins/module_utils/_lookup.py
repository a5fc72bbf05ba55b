# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's lookups share: options to a client, per-run caches, missing and denied.

A lookup plugin is a fresh object for every lookup call, so what should last
for the run (the connection, values already read) lives in class-level
caches here, keyed by everything that could make two calls differ: the
connection settings, the process (a forked worker never reuses its parent's
sockets), the namespace and the name. The caches hold values in this process's
memory only; nothing is written anywhere.

Nothing here imports the controller's ``ansible`` package: the plugins turn
``SkipperError`` into ``AnsibleLookupError`` and warnings into ``Display``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from ._auth import AUTH_ARG_SPEC, ENV_NAMES
from ._client import Client
from ._errors import ApiError, SkipperError, ValidationError

POLICIES = ("error", "warn", "skip")

# A Secret's name is a DNS-1123 subdomain, its keys are [-._a-zA-Z0-9]+.
SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class Missing(SkipperError):
    """The Secret, the Vault path or the key asked for does not exist."""


class Denied(SkipperError):
    """The credentials may not read what was asked for."""


def check_policy(option: str, value: Any) -> str:
    if value not in POLICIES:
        raise ValidationError(f"{option} must be one of {', '.join(POLICIES)}, not {value!r}", field=option)
    return str(value)


def settle(exc: Missing | Denied, on_missing: str, on_denied: str, warn: Callable[[str], None]) -> None:
    """Raise ``exc`` if its policy says ``error``; warn if it says ``warn``; the term is then left out."""
    policy = on_missing if isinstance(exc, Missing) else on_denied
    if policy == "error":
        raise exc
    if policy == "warn":
        warn(exc.message)


def connection_params(get_option_and_origin: Callable[[str], tuple[Any, Any]]) -> dict[str, Any]:
    """The module-style connection parameters from a lookup's options.

    Values that Ansible took from a ``K8S_AUTH_*`` variable are left out:
    ``_auth.resolve`` reads the environment itself, so a lookup picks its
    source (parameters, else environment, else kubeconfig) exactly like a
    module, never mixing the two.
    """
    params: dict[str, Any] = {}
    for name in AUTH_ARG_SPEC:
        value, origin = get_option_and_origin(name)
        if value is None or (isinstance(origin, str) and origin.startswith("env:")):
            continue
        params[name] = value
    return params


def fingerprint(*parts: Any) -> str:
    """A key for a cache entry; credentials go in hashed, never kept as text."""
    text = json.dumps(parts, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _environment_key(env: Mapping[str, str]) -> dict[str, str | None]:
    names = [*ENV_NAMES.values(), "KUBECONFIG", "HOME", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]
    return {name: env.get(name) for name in names}


class Cache:
    """Per-process caches: one client per connection, one read per object."""

    clients: dict[str, Any] = {}
    values: dict[tuple[str, ...], Any] = {}

    @classmethod
    def reset(cls) -> None:
        cls.clients.clear()
        cls.values.clear()


def kubernetes_client(params: Mapping[str, Any], env: Mapping[str, str] | None = None,
                      warn: Callable[[str], None] | None = None) -> tuple[str, Client]:
    """The cached client for these settings (made, and its warnings shown, once), and its cache key."""
    env = os.environ if env is None else env
    key = fingerprint("kubernetes", os.getpid(), dict(params), _environment_key(env))
    client = Cache.clients.get(key)
    if client is None:
        client = Client(params, env)
        Cache.clients[key] = client
        for warning in client.warnings:
            if warn is not None:
                warn(warning)
    return key, client


def parse_term(term: Any) -> tuple[str, str | None]:
    """``NAME`` or ``NAME/KEY``: the Secret's name and the key, or None for every key."""
    if not isinstance(term, str) or not term.strip():
        raise ValidationError("a term is empty: give NAME (the whole Secret) or NAME/KEY (one key)", field="_terms")
    parts = term.split("/")
    if len(parts) > 2:
        raise ValidationError(f"term {term!r} has {len(parts) - 1} '/': give NAME (the whole Secret) or NAME/KEY "
                              "(one key); a Secret name holds no '/'", field="_terms")
    name = parts[0]
    key = parts[1] if len(parts) == 2 else None
    if len(name) > 253 or not SECRET_NAME.match(name):
        raise ValidationError(f"term {term!r}: {name!r} is not a Secret name (a DNS-1123 subdomain: lower-case "
                              "letters, digits, '-' and '.')", field="_terms")
    if key is not None and (len(key) > 253 or not SECRET_KEY.match(key)):
        raise ValidationError(f"term {term!r}: {key!r} is not a Secret key (letters, digits, '-', '_' and '.')",
                              field="_terms")
    return name, key


def check_namespace(namespace: Any) -> str:
    if not isinstance(namespace, str) or not namespace:
        raise ValidationError("namespace is required: the namespace of the Secret", field="namespace")
    if len(namespace) > 63 or not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", namespace):
        raise ValidationError(f"namespace {namespace!r} is not a namespace name (a DNS-1123 label)", field="namespace")
    return namespace


def decode_secret(secret: Mapping[str, Any], namespace: str, name: str) -> dict[str, str]:
    """The Secret's ``data``, decoded to text. Errors name the key, never a value."""
    decoded = {}
    for key, encoded in sorted((secret.get("data") or {}).items()):
        try:
            decoded[key] = base64.b64decode(encoded or "", validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise SkipperError(f"key {key!r} of Secret {name} in namespace {namespace} is not UTF-8 text (binary data "
                               "cannot be returned as a string)") from None
    return decoded


def read_secret(client: Client, client_key: str, namespace: str, name: str) -> dict[str, str]:
    """Every key of the Secret, decoded; read once per run. Raises Missing or Denied."""
    cache_key = (client_key, namespace, name)
    if cache_key not in Cache.values:
        try:
            secret = client.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")
        except ApiError as exc:
            if exc.status == 404:
                Cache.values[cache_key] = None
            elif exc.status == 403:
                raise Denied(f"reading Secret {name} in namespace {namespace} is forbidden for these credentials "
                             f"(403 from the API server at {client.host})") from None
            else:
                raise SkipperError(f"Failed to read Secret {name} in namespace {namespace}: {exc.message}") from None
        else:
            Cache.values[cache_key] = decode_secret(secret or {}, namespace, name)
            del secret
    data = Cache.values[cache_key]
    if data is None:
        raise Missing(f"Secret {name} not found in namespace {namespace}")
    return dict(data)


def pick(data: Mapping[str, Any], key: str | None, what: str) -> Any:
    """One key of a secret's values (or all of them); a missing key raises Missing, naming the keys there are."""
    if key is None:
        return dict(data)
    if key not in data:
        known = ", ".join(sorted(data)) or "none"
        raise Missing(f"{what} has no key {key!r} (its keys: {known})")
    return data[key]


# -- Vault: how the options are read, the way community.hashi_vault reads them
VAULT_DEFAULT_URL = "http://127.0.0.1:8200"
# Read only when the option was set by no other means (the lookup's keyword, a
# variable, ANSIBLE_HASHI_VAULT_*, ansible.cfg).
VAULT_LATE_ENV = {"url": "VAULT_ADDR", "token": "VAULT_TOKEN", "namespace": "VAULT_NAMESPACE", "ca_cert": "VAULT_CACERT"}
VAULT_AUTH_METHODS = ("token", "approle")
_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f")


def vault_settings(options: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Connection and login settings from the lookup's options and the environment.

    ``url``, ``token``, ``namespace`` and ``ca_cert`` fall back to
    ``VAULT_ADDR``, ``VAULT_TOKEN``, ``VAULT_NAMESPACE`` and ``VAULT_CACERT``;
    the token then to ``~/.vault-token``. Without ``validate_certs``,
    ``VAULT_SKIP_VERIFY`` decides (a value that is not a boolean means verify).
    ``verify`` is what hvac takes: False, True, or the CA file.
    """
    settings = {name: options.get(name) for name in ("url", "token", "namespace", "ca_cert")}
    for name, variable in VAULT_LATE_ENV.items():
        if settings[name] in (None, "") and env.get(variable):
            settings[name] = env[variable]
    url = str(settings["url"] or VAULT_DEFAULT_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValidationError(f"the Vault address {url!r} must start with http:// or https://", field="url")
    method = options.get("auth_method") or "token"
    if method not in VAULT_AUTH_METHODS:
        raise ValidationError(f"auth_method must be one of {', '.join(VAULT_AUTH_METHODS)}, not {method!r}",
                              field="auth_method")
    validate = options.get("validate_certs")
    if validate is None:
        skip = str(env.get("VAULT_SKIP_VERIFY", "")).strip().lower()
        validate = skip not in _TRUE if skip in _TRUE + _FALSE else True
    verify: bool | str = bool(validate)
    if validate and settings["ca_cert"]:
        verify = str(settings["ca_cert"])
    token = settings["token"]
    if method == "token" and not token:
        token = _token_file(env)
        if not token:
            raise ValidationError(
                "no Vault token: set the token option, ANSIBLE_HASHI_VAULT_TOKEN or VAULT_TOKEN, log in with "
                "`vault login` (~/.vault-token), or use auth_method: approle", field="token")
    if method == "approle" and not options.get("role_id"):
        raise ValidationError("auth_method approle needs role_id (and secret_id unless the role does not bind one)",
                              field="role_id")
    timeout = options.get("timeout") or 30
    return {
        "url": url,
        "namespace": settings["namespace"] or None,
        "verify": verify,
        "timeout": timeout,
        "auth_method": method,
        "token": token if method == "token" else None,
        "role_id": options.get("role_id") if method == "approle" else None,
        "secret_id": options.get("secret_id") if method == "approle" else None,
        "auth_mount": str(options.get("auth_mount") or "approle").strip("/"),
    }


def _token_file(env: Mapping[str, str]) -> str | None:
    home = env.get("HOME")
    if not home:
        return None
    path = os.path.join(home, ".vault-token")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def check_vault_path(term: Any) -> str:
    """A KV v2 path relative to the engine's mount: no leading '/', no empty segments."""
    if not isinstance(term, str) or not term.strip():
        raise ValidationError("a term is empty: give the secret's path inside the KV engine (without the mount)",
                              field="_terms")
    if term.startswith("/") or term.endswith("/") or "//" in term or any(p in (".", "..") for p in term.split("/")):
        raise ValidationError(f"term {term!r} is not a KV path: no leading or trailing '/', no empty, '.' or '..' "
                              "segments", field="_terms")
    return term


def check_mount(mount: Any) -> str:
    if not isinstance(mount, str) or not mount.strip("/"):
        raise ValidationError("mount must name the KV v2 engine's mount path, such as secret", field="mount")
    return mount.strip("/")


def check_version(version: Any) -> int | None:
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(f"version must be a whole number of at least 1, not {version!r}", field="version")
    return version

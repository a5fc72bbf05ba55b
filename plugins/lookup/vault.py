# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vault
short_description: Read a secret from HashiCorp Vault's KV version 2 engine
version_added: 0.2.0
description:
  - Returns one key of a KV v2 secret (O(key)), or every key as a dictionary; the latest version, or O(version).
  - Logs in with a token or with AppRole (O(role_id), O(secret_id)), through the Python package C(hvac).
  - Reads its settings like C(community.hashi_vault) does, so one configuration serves both. The options may come
    from the lookup's keywords, the C(ansible_hashi_vault_*) variables or the C(ANSIBLE_HASHI_VAULT_*) environment
    variables. Only when none sets O(url), O(token), O(namespace) or O(ca_cert) are E(VAULT_ADDR), E(VAULT_TOKEN),
    E(VAULT_NAMESPACE) and E(VAULT_CACERT) read; then the token falls back to C(~/.vault-token). Without O(validate_certs),
    E(VAULT_SKIP_VERIFY) decides.
  - Fails by default when the path or the key does not exist (O(on_missing)) and when the token may not read it
    (O(on_denied)). Messages name the path, the key and the Vault address, never a value.
  - Within one Ansible process (one task's terms and loop items, say) Vault is logged in to once and each secret
    version is read once.
author:
  - Skipper Platform maintainers (@skipper-platform)
requirements:
  - hvac (Python package, on the controller)
options:
  _terms:
    description:
      - Paths of secrets inside the KV v2 engine, without the mount (V(shop/db), not V(secret/data/shop/db)).
    type: list
    elements: str
    required: true
  key:
    description: Return only this key's value. Without it, every key of the secret as a dictionary.
    type: str
  version:
    description: The version of the secret to read; the latest without it.
    type: int
  mount:
    description: Mount path of the KV v2 engine.
    type: str
    default: secret
    aliases: [engine_mount_point]
  url:
    description:
      - Address of the Vault server. Else E(VAULT_ADDR), else V(http://127.0.0.1:8200).
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_ADDR
    vars:
      - name: ansible_hashi_vault_url
      - name: ansible_hashi_vault_addr
    ini:
      - section: hashi_vault_collection
        key: url
  namespace:
    description:
      - Vault Enterprise namespace. Else E(VAULT_NAMESPACE).
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_NAMESPACE
    vars:
      - name: ansible_hashi_vault_namespace
    ini:
      - section: hashi_vault_collection
        key: namespace
  auth_method:
    description: How to log in.
    type: str
    choices: [token, approle]
    default: token
    env:
      - name: ANSIBLE_HASHI_VAULT_AUTH_METHOD
    vars:
      - name: ansible_hashi_vault_auth_method
    ini:
      - section: hashi_vault_collection
        key: auth_method
  token:
    description:
      - The Vault token, with O(auth_method=token). Else E(VAULT_TOKEN), else the content of C(~/.vault-token).
        Never shown.
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_TOKEN
    vars:
      - name: ansible_hashi_vault_token
  role_id:
    description: The AppRole role ID, with O(auth_method=approle).
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_ROLE_ID
    vars:
      - name: ansible_hashi_vault_role_id
  secret_id:
    description: The AppRole secret ID, with O(auth_method=approle). Never shown.
    type: str
    env:
      - name: ANSIBLE_HASHI_VAULT_SECRET_ID
    vars:
      - name: ansible_hashi_vault_secret_id
  auth_mount:
    description: Mount path of the AppRole auth method.
    type: str
    default: approle
    env:
      - name: ANSIBLE_HASHI_VAULT_MOUNT_POINT
    vars:
      - name: ansible_hashi_vault_mount_point
  validate_certs:
    description:
      - Whether to verify Vault's TLS certificate. When not set, E(VAULT_SKIP_VERIFY) decides (its opposite); a value
        there that is not a boolean means V(true), as does no value at all.
    type: bool
    env:
      - name: ANSIBLE_HASHI_VAULT_VALIDATE_CERTS
    vars:
      - name: ansible_hashi_vault_validate_certs
  ca_cert:
    description: CA certificate file to verify Vault's TLS certificate with. Else E(VAULT_CACERT).
    type: path
    aliases: [cacert]
    env:
      - name: ANSIBLE_HASHI_VAULT_CA_CERT
    vars:
      - name: ansible_hashi_vault_ca_cert
    ini:
      - section: hashi_vault_collection
        key: ca_cert
  timeout:
    description: Seconds to wait for Vault to answer one request.
    type: int
    default: 30
    env:
      - name: ANSIBLE_HASHI_VAULT_TIMEOUT
    vars:
      - name: ansible_hashi_vault_timeout
  on_missing:
    description:
      - What to do when the path, the version or the key does not exist (or the version was deleted).
      - V(error) fails the task; V(warn) leaves the term out of the result and shows a warning; V(skip) leaves it out
        silently.
    type: str
    choices: [error, warn, skip]
    default: error
  on_denied:
    description:
      - What to do when Vault answers 403 (permission denied) to the read, with the same choices as O(on_missing).
        Vault answers 403 both to a token whose policies do not allow the read and to an invalid or expired token.
      - A failed AppRole login and an unreachable Vault always fail.
    type: str
    choices: [error, warn, skip]
    default: error
notes:
  - The values are returned to Ansible as they are. Set C(no_log) on the tasks that use them.
  - Only the KV version 2 engine is read.
seealso:
  - plugin: skipper.platform.secret
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Read one key with the token in VAULT_TOKEN from the Vault at VAULT_ADDR
  ansible.builtin.set_fact:
    db_password: "{{ lookup('skipper.platform.vault', 'shop/db', key='password') }}"
  no_log: true

- name: Read a whole secret, an older version, from another KV mount
  ansible.builtin.set_fact:
    db: "{{ lookup('skipper.platform.vault', 'shop/db', version=3, mount='kv') }}"
  no_log: true

- name: Log in with AppRole and hand the values to the app's own Secret
  skipper.platform.app_secret:
    app: web
    namespace: shop-prod
    values:
      DATABASE_PASSWORD: >-
        {{ lookup('skipper.platform.vault', 'shop/db', key='password', url='https://vault.example.com:8200',
                  auth_method='approle', role_id=vault_role_id, secret_id=vault_secret_id) }}
"""

RETURN = r"""
_raw:
  description:
    - One entry per path that was found, in the order of the terms; terms left out by O(on_missing) or O(on_denied)
      are not in the list.
    - With O(key) the value of that key; without it a dictionary of every key and its value.
  type: list
  elements: raw
"""


import os  # noqa: E402
import re  # noqa: E402
from typing import Any  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible.utils.display import Display  # noqa: E402
from ansible_collections.skipper.platform.plugins.module_utils._errors import SkipperError  # noqa: E402
from ansible_collections.skipper.platform.plugins.module_utils._lookup import (  # noqa: E402
    Cache,
    Denied,
    Missing,
    check_mount,
    check_policy,
    check_vault_path,
    check_version,
    fingerprint,
    pick,
    settle,
    vault_settings,
)

try:
    import hvac
    import hvac.exceptions
    import requests.exceptions

    HVAC_ERROR = ""
except ImportError as exc:
    HVAC_ERROR = str(exc)

display = Display()
OPTION_NAMES = ("url", "namespace", "auth_method", "token", "role_id", "secret_id", "auth_mount", "validate_certs",
                "ca_cert", "timeout")


def _reason(exc: Exception) -> str:
    """Why a connection failed, without requests' long retry story."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^'\")]*", text)
    if found:
        return found.group(0).strip()
    if "timed out" in text.lower():
        return "timed out"
    return type(exc).__name__


def _vault_errors(exc: Exception) -> str:
    """Vault's own error texts, on one line: "1 error occurred: * permission denied" becomes "permission denied"."""
    errors = getattr(exc, "errors", None)
    if not isinstance(errors, list) or not errors:
        return type(exc).__name__
    texts = []
    for error in errors:
        text = re.sub(r"^\d+ errors? occurred:", "", " ".join(str(error).split())).strip()
        texts.extend(part.strip() for part in text.split("* ") if part.strip())
    return "; ".join(texts)[:300] or type(exc).__name__


class VaultReader:
    """One logged-in hvac client; raises SkipperError subclasses whose messages name the address."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.url = settings["url"]
        self.client = hvac.Client(url=self.url, token=settings["token"] or "", namespace=settings["namespace"],
                                  verify=settings["verify"], timeout=settings["timeout"])
        if settings["auth_method"] == "approle":
            self._call(lambda: self.client.auth.approle.login(role_id=settings["role_id"], secret_id=settings["secret_id"],
                                                              mount_point=settings["auth_mount"]),
                       f"AppRole login (auth mount {settings['auth_mount']})", login=True)

    def _call(self, call: Any, what: str, login: bool = False) -> Any:
        try:
            return call()
        except requests.exceptions.SSLError:
            raise SkipperError(f"TLS verification of Vault at {self.url} failed during {what}: give its CA certificate "
                               "with ca_cert (or VAULT_CACERT), or, only for a test server, validate_certs: false") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise SkipperError(f"cannot reach Vault at {self.url} ({what}): {_reason(exc)}") from None
        except hvac.exceptions.Forbidden as exc:
            if login:
                raise SkipperError(f"{what} at Vault {self.url} was refused: {_vault_errors(exc)}") from None
            raise Denied(f"{what} at Vault {self.url} is forbidden: {_vault_errors(exc)} (the token's policies do not "
                         "allow it, or the token is invalid or expired)") from None
        except hvac.exceptions.InvalidPath:
            if login:
                raise SkipperError(f"{what} at Vault {self.url} failed: no such auth mount") from None
            raise Missing(f"{what} at Vault {self.url}: not found") from None
        except hvac.exceptions.InvalidRequest as exc:
            if login:
                raise SkipperError(f"{what} at Vault {self.url} failed: {_vault_errors(exc)}") from None
            raise SkipperError(f"{what} at Vault {self.url} was refused: {_vault_errors(exc)}") from None
        except hvac.exceptions.VaultDown:
            raise SkipperError(f"Vault at {self.url} is sealed or down (503) during {what}") from None
        except hvac.exceptions.VaultError as exc:
            raise SkipperError(f"{what} at Vault {self.url} failed: {type(exc).__name__}: {_vault_errors(exc)}") from None

    def read(self, mount: str, path: str, version: int | None) -> dict[str, Any]:
        what = f"reading {'version ' + str(version) + ' of ' if version else ''}secret {path} in the KV v2 engine {mount}"
        answer = self._call(lambda: self.client.secrets.kv.v2.read_secret_version(
            path=path, version=version, mount_point=mount, raise_on_deleted_version=True), what)
        data = ((answer or {}).get("data") or {}).get("data")
        if data is None:
            raise Missing(f"{what} at Vault {self.url}: the version is deleted or destroyed")
        return dict(data)


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        if HVAC_ERROR:
            raise AnsibleLookupError(f"skipper.platform.vault needs the Python package hvac on the controller "
                                     f"(pip install hvac): {HVAC_ERROR}")
        try:
            return self._run(terms)
        except SkipperError as exc:
            raise AnsibleLookupError(f"skipper.platform.vault: {exc.message}") from None

    def _run(self, terms: list[Any]) -> list[Any]:
        on_missing = check_policy("on_missing", self.get_option("on_missing"))
        on_denied = check_policy("on_denied", self.get_option("on_denied"))
        paths = [check_vault_path(term) for term in terms]
        mount = check_mount(self.get_option("mount"))
        version = check_version(self.get_option("version"))
        key = self.get_option("key")
        settings = vault_settings({name: self.get_option(name) for name in OPTION_NAMES}, os.environ)
        reader_key = fingerprint("vault", os.getpid(), settings)
        reader = Cache.clients.get(reader_key)
        if reader is None:
            reader = Cache.clients[reader_key] = VaultReader(settings)
        results: list[Any] = []
        for path in paths:
            cache_key = (reader_key, mount, path, str(version))
            try:
                if cache_key not in Cache.values:
                    Cache.values[cache_key] = reader.read(mount, path, version)
                results.append(pick(Cache.values[cache_key], key, f"Vault secret {path} in the KV v2 engine {mount} "
                                                                  f"at {reader.url}"))
            except (Missing, Denied) as exc:
                settle(exc, on_missing, on_denied, lambda text: display.warning(f"skipper.platform.vault: {text}"))
        return results

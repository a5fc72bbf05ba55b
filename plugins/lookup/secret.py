# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: secret
short_description: Read a Kubernetes Secret, decoded
version_added: 0.2.0
description:
  - Returns one key of a Secret (term C(NAME/KEY)) as text, or the whole Secret (term C(NAME)) as a dictionary of
    its keys and decoded values.
  - Fails by default when the Secret or the key does not exist (O(on_missing)) and when the credentials may not read
    it (O(on_denied)). Messages name the Secret, the key and the namespace, never a value.
  - Connects like the collection's modules do (same options, same C(K8S_AUTH_*) variables, same rule for which
    source wins). Within one Ansible process (one task's terms and loop items, say) the connection is opened once
    and each Secret is read once.
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.lookup_auth
options:
  _terms:
    description:
      - C(NAME) for every key of the Secret, or C(NAME/KEY) for one key.
      - Anything else (C(a/b/c), an empty term, a name that is not a DNS-1123 subdomain) fails before anything is
        read.
    type: list
    elements: str
    required: true
  namespace:
    description: The namespace of the Secrets.
    type: str
    required: true
  on_missing:
    description:
      - What to do when the Secret, or the key asked for, does not exist.
      - V(error) fails the task; V(warn) leaves the term out of the result and shows a warning; V(skip) leaves it out
        silently.
    type: str
    choices: [error, warn, skip]
    default: error
  on_denied:
    description:
      - What to do when the API server forbids reading the Secret (403), with the same choices as O(on_missing).
      - Credentials the API server rejects outright (401), and a server that cannot be reached, always fail.
    type: str
    choices: [error, warn, skip]
    default: error
notes:
  - The values are returned to Ansible as they are. Set C(no_log) on the tasks that use them, and never print them
    with M(ansible.builtin.debug).
  - Values that are not UTF-8 text fail, naming the key.
seealso:
  - module: skipper.platform.app_secret
"""

EXAMPLES = r"""
- name: Hand the database password to a task that needs it
  ansible.builtin.uri:
    url: https://db-admin.example.com/api/check
    url_password: "{{ lookup('skipper.platform.secret', 'db/password', namespace='shop-prod') }}"
    url_username: admin
  no_log: true

- name: Read every key of a Secret, as a dictionary
  ansible.builtin.set_fact:
    db: "{{ lookup('skipper.platform.secret', 'db', namespace='shop-prod') }}"
  no_log: true

- name: Use a value that may not be there yet
  ansible.builtin.set_fact:
    api_token: "{{ lookup('skipper.platform.secret', 'api/token', namespace='shop-prod', on_missing='skip') | default('', true) }}"
  no_log: true

- name: Read with a ServiceAccount token instead of the kubeconfig
  ansible.builtin.set_fact:
    db_password: >-
      {{ lookup('skipper.platform.secret', 'db/password', namespace='shop-prod',
                host='https://k8s.example.com:6443', api_key=deployer_token, ca_cert='/etc/k8s/ca.crt') }}
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One entry per term that was found, in the order of the terms; terms left out by O(on_missing) or O(on_denied)
      are not in the list.
    - For C(NAME/KEY) the decoded value (text); for C(NAME) a dictionary of every key and its decoded value.
  type: list
  elements: raw
"""


import os  # noqa: E402
from typing import Any  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible.utils.display import Display  # noqa: E402
from ansible_collections.skipper.platform.plugins.module_utils._client import DEPS_ERROR, HAS_DEPS  # noqa: E402
from ansible_collections.skipper.platform.plugins.module_utils._errors import SkipperError  # noqa: E402
from ansible_collections.skipper.platform.plugins.module_utils._lookup import (  # noqa: E402
    Denied,
    Missing,
    check_namespace,
    check_policy,
    connection_params,
    kubernetes_client,
    parse_term,
    pick,
    read_secret,
    settle,
)

display = Display()


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        if not HAS_DEPS:
            raise AnsibleLookupError(f"skipper.platform.secret needs the Python packages urllib3 and PyYAML on the "
                                     f"controller: {DEPS_ERROR}")
        try:
            return self._run(terms)
        except SkipperError as exc:
            raise AnsibleLookupError(f"skipper.platform.secret: {exc.message}") from None

    def _run(self, terms: list[Any]) -> list[Any]:
        on_missing = check_policy("on_missing", self.get_option("on_missing"))
        on_denied = check_policy("on_denied", self.get_option("on_denied"))
        namespace = check_namespace(self.get_option("namespace"))
        wanted = [parse_term(term) for term in terms]  # every term checked before the first read
        client_key, client = kubernetes_client(connection_params(self.get_option_and_origin), os.environ,
                                               display.warning)
        results: list[Any] = []
        for name, key in wanted:
            try:
                data = read_secret(client, client_key, namespace, name)
                results.append(pick(data, key, f"Secret {name} in namespace {namespace}"))
            except (Missing, Denied) as exc:
                settle(exc, on_missing, on_denied, lambda text: display.warning(f"skipper.platform.secret: {text}"))
        return results

#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_secret
short_description: Set, remove or roll back an app's secret values
version_added: 0.2.0
description:
  - Keeps an app's secret values in its own Secret, C(<app>-secrets), which every pod of the app reads as
    environment variables (M(skipper.platform.app) references it, as optional, from the app's containers).
  - Before a run changes the values, the whole Secret is copied to C(<app>-secrets-previous), so O(state=rolled_back)
    restores the generation before the last change, for example after a bad rotation.
  - Values are never shown. The result (RV(key_changes)) and the diff name the keys with a marker (C(added), C(changed), C(removed),
    C(unchanged)); values are compared in memory, so a second run with the same values changes nothing, and check
    mode predicts the real run exactly.
  - Running pods keep the values they started with. With O(restart=true) a run that changed something restarts the
    app's pods, the same way as O(skipper.platform.app#module:state=restarted), and waits for them.
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff names the keys and whether each was added, changed or removed; it never holds a value.
  idempotent:
    support: full
options:
  app:
    description: The app's name, as given to M(skipper.platform.app).
    type: str
    required: true
  namespace:
    description: The app's namespace. It must exist.
    type: str
    required: true
  state:
    description:
      - V(present) sets the keys in O(values) and deletes the keys in O(remove); other keys keep their values.
      - V(rolled_back) makes the values those of the previous generation (the ones before the last change made by
        this module). It fails when there is no previous generation; a second run changes nothing.
      - V(absent) deletes C(<app>-secrets) and C(<app>-secrets-previous).
    type: str
    choices: [present, absent, rolled_back]
    default: present
  values:
    description:
      - Keys to set, and their values (text; numbers are turned into text). Key names are letters, digits, C(-),
        C(_) and C(.); to reach the app as environment variables they should be valid variable names.
      - The values may come from lookups such as P(skipper.platform.vault#lookup) or P(skipper.platform.secret#lookup).
      - Only with O(state=present).
    type: dict
  remove:
    description:
      - Keys to delete. Keys that are not there are no error. Only with O(state=present).
    type: list
    elements: str
  restart:
    description:
      - Restart the app's pods when this run changed the values, so they read them. Skipped, with a warning, when
        the app's Deployment does not exist yet.
    type: bool
    default: false
  wait:
    description: With O(restart=true), wait for the restarted pods to be ready.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the restart's rollout.
    type: int
    default: 300
notes:
  - The values are stored in Kubernetes Secrets only, like any Secret (base64, and encrypted at rest if the cluster
    is set up for it). Whoever may read Secrets in the namespace may read them.
seealso:
  - module: skipper.platform.app
  - plugin: skipper.platform.vault
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Set the database password and the API token of the web app, and restart its pods
  skipper.platform.app_secret:
    app: web
    namespace: shop-prod
    values:
      DATABASE_PASSWORD: "{{ lookup('skipper.platform.vault', 'shop/db', key='password') }}"
      API_TOKEN: "{{ api_token }}"
    restart: true

- name: Remove a key the app no longer needs
  skipper.platform.app_secret:
    app: web
    namespace: shop-prod
    remove: [LEGACY_TOKEN]

- name: Undo the last rotation
  skipper.platform.app_secret:
    app: web
    namespace: shop-prod
    state: rolled_back
    restart: true

- name: Delete every secret value of the app
  skipper.platform.app_secret:
    app: web
    namespace: shop-prod
    state: absent
"""

RETURN = r"""
secret:
  description: The name of the app's Secret.
  returned: always
  type: str
  sample: web-secrets
namespace:
  description: The namespace.
  returned: always
  type: str
  sample: shop-prod
key_changes:
  description: Every key before or after the run, with what the run did (or, in check mode, would do) to it.
  returned: always
  type: dict
  sample: {API_TOKEN: added, DATABASE_PASSWORD: changed, LEGACY_TOKEN: removed, SMTP_PASSWORD: unchanged}
previous:
  description: The Secret holding the previous generation, and the names of its keys after the run.
  returned: always
  type: dict
  sample: {secret: web-secrets-previous, key_names: [DATABASE_PASSWORD, LEGACY_TOKEN, SMTP_PASSWORD]}
objects:
  description: What happened to each object (the two Secrets, and the Deployment when restarted).
  returned: always
  type: list
  elements: dict
  sample: [{kind: Secret, namespace: shop-prod, name: web-secrets, action: updated}]
restart:
  description:
    - With O(restart=true) and a change, whether the pods were restarted and how the rollout went; else null.
  returned: always
  type: dict
  sample: {restarted: true, rollout: {status: succeeded, message: all replicas updated and available}}
"""

from ansible_collections.skipper.platform.plugins.module_utils._app_secret import converge
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(converge, dict(
        app={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent", "rolled_back"], "default": "present"},
        values={"type": "dict", "no_log": True},
        remove={"type": "list", "elements": "str", "no_log": False},
        restart={"type": "bool", "default": False},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    ))


if __name__ == "__main__":
    main()

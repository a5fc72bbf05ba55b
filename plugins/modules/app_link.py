#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_link
short_description: Link one app to another with a URL variable, or remove the link
version_added: 0.2.0
description:
  - "Gives app O(app) an environment variable with the address of app O(to): C(<TO>_URL) (the name upper-cased,
    dashes turned into underscores) unless O(name) says otherwise."
  - The address is the target's Service inside the cluster, C(http://<to>.<to_namespace>.svc.cluster.local:<port>),
    or with O(public=true) its public URL, read from the Ingresses and Routes skipper.platform made for it (its own
    routes first, then HTTPS ones, then the shortest path). The URL is read when the module runs; run it again after
    the target's port or routes change.
  - The variable and a record of the link (the annotation C(skipper.platform/links) on the app's Deployment) are
    written with server-side apply under a field manager of their own, C(skipper.platform-link). A later run of
    M(skipper.platform.app) for the app, which does not send the variable, keeps it; O(state=absent) removes exactly
    the variable this link added.
  - Adding, changing or removing a link changes the pod template, so the app's pods are replaced (a rolling update).
    The module waits for that rollout unless O(wait=false).
  - The target app must exist (its Service is read); a link to a missing app or to the app itself fails before
    anything is written. A public link to an app without routes fails too.
  - A variable of the same name that the app already has from elsewhere (its O(skipper.platform.app#module:env),
    secrets or declared links) with another value is refused; give the link another O(name).
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
  idempotent:
    support: full
options:
  app:
    description:
      - The app that gets the variable. Its Deployment must exist and be skipper.platform's.
    type: str
    required: true
  namespace:
    description:
      - Namespace of O(app).
    type: str
    required: true
  to:
    description:
      - The app linked to.
    type: str
    required: true
  to_namespace:
    description:
      - Namespace of O(to); defaults to O(namespace).
    type: str
  public:
    description:
      - Use the target's public URL (from its routes) instead of its address inside the cluster.
    type: bool
    default: false
  name:
    description:
      - The variable's name, instead of C(<TO>_URL).
    type: str
  state:
    description:
      - V(present) adds the link or updates its URL; V(absent) removes the variable this link added, if it is there.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait for the rollout the changed pod template starts.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Let the web front end call the API inside the cluster (WEB gets API_URL)
  skipper.platform.app_link:
    app: web
    namespace: shop-prod
    to: api

- name: Give the web front end the public search URL as SEARCH_ENDPOINT
  skipper.platform.app_link:
    app: web
    namespace: shop-prod
    to: search
    to_namespace: search-prod
    public: true
    name: SEARCH_ENDPOINT

- name: Remove the link to the API
  skipper.platform.app_link:
    app: web
    namespace: shop-prod
    to: api
    state: absent
"""

RETURN = r"""
link:
  description: The link this run looked at.
  returned: always
  type: dict
  contains:
    app:
      description: The app that has the variable.
      type: str
      returned: always
      sample: web
    namespace:
      description: Its namespace.
      type: str
      returned: always
      sample: shop-prod
    to:
      description: The app linked to.
      type: str
      returned: always
      sample: api
    to_namespace:
      description: Its namespace.
      type: str
      returned: always
      sample: shop-prod
    name:
      description: The variable's name.
      type: str
      returned: always
      sample: API_URL
    public:
      description: Whether the URL is the public one.
      type: bool
      returned: always
      sample: false
    url:
      description: The variable's value; null with O(state=absent).
      type: str
      returned: always
      sample: http://api.shop-prod.svc.cluster.local:8080
links:
  description: Every variable the links of O(app) set after this run (those written by this module), by name.
  returned: always
  type: dict
  sample: {API_URL: "http://api.shop-prod.svc.cluster.local:8080"}
objects:
  description: The Deployment of O(app) and what this run did to it (V(updated) or V(unchanged)).
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: Deployment, namespace: shop-prod, name: web, action: updated}
rollout:
  description: The outcome of the rollout, V(succeeded), V(failed) or V(not_waited), with a message.
  returned: always
  type: dict
  sample: {status: succeeded, message: all replicas updated and available}
replicas:
  description: Pods of O(app) wanted, ready and available after the run.
  returned: always
  type: dict
  sample: {desired: 2, ready: 2, available: 2}
diff:
  description: Before and after of the Deployment, cut to the variables and the record.
  returned: in diff mode, when something changes
  type: list
  elements: dict
"""

from ansible_collections.skipper.platform.plugins.module_utils._link_runner import run
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(run, dict(
        app={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        to={"type": "str", "required": True},
        to_namespace={"type": "str"},
        public={"type": "bool", "default": False},
        name={"type": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    ))


if __name__ == "__main__":
    main()

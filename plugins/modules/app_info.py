#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_info
short_description: Read one app, or every app in a namespace, from Kubernetes
version_added: 0.1.0
description:
  - Reads the apps that M(skipper.platform.app) deployed (found by the C(app.kubernetes.io/managed-by) label)
    with their image, version, replicas, resources, routes, Deployment conditions and revision.
  - Makes two requests whatever the number of apps.
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: full
    details: Only reads.
  diff_mode:
    support: N/A
    details: Only reads.
  idempotent:
    support: full
options:
  namespace:
    description: The namespace to read.
    type: str
    required: true
  name:
    description: One app's name. Without it, every app in the namespace is returned.
    type: str
"""

EXAMPLES = r"""
- name: Read every app in the shop's production namespace
  skipper.platform.app_info:
    namespace: shop-prod
  register: shop

- name: Show what runs where
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.version }} {{ item.replicas.ready }}/{{ item.replicas.desired }}"
  loop: "{{ shop.apps }}"
  loop_control:
    label: "{{ item.name }}"

- name: Read one app
  skipper.platform.app_info:
    namespace: shop-prod
    name: web
  register: web
"""

RETURN = r"""
apps:
  description: The apps found, in name order. Empty when there are none.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The app's name.
      type: str
      sample: web
    namespace:
      description: The app's namespace.
      type: str
      sample: shop-prod
    image:
      description: The image running, with its tag.
      type: str
      sample: registry.example.com/shop/web:1.4.2
    version:
      description: The C(app.kubernetes.io/version) label.
      type: str
      sample: 1.4.2
    replicas:
      description: Pods wanted, ready and available.
      type: dict
      sample: {desired: 2, ready: 2, available: 2}
    resources:
      description: The app container's requests and limits.
      type: dict
      sample: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}
    routes:
      description: One entry per Ingress path, with host, path, tls, url and the Ingress's name.
      type: list
      elements: dict
      sample: [{host: shop.example.com, path: /, tls: true, url: "https://shop.example.com/", ingress: web--shop-example-com}]
    conditions:
      description: The Deployment's conditions.
      type: list
      elements: dict
      sample: [{type: Available, status: "True", reason: MinimumReplicasAvailable, message: Deployment has minimum availability.}]
    revision:
      description: The Deployment's revision number.
      type: int
      sample: 3
    rollout:
      description: Whether the latest rollout V(succeeded), V(failed) or is still V(progressing).
      type: dict
      sample: {status: succeeded, message: all replicas updated and available}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.skipper.platform.plugins.module_utils._info import read_apps
from ansible_collections.skipper.platform.plugins.module_utils._module import argument_spec, execute


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            namespace={"type": "str", "required": True},
            name={"type": "str"},
        ),
        supports_check_mode=True,
    )
    result, failure = execute(module, lambda svc, params, _check: read_apps(svc, params["namespace"], params["name"]))
    if failure:
        module.fail_json(**failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

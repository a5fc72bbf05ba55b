#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: environment
short_description: Set up an environment's namespace, quota, limits and deployer account
version_added: 0.2.0
description:
  - Keeps the namespace of one environment (a formation) ready for its apps. The namespace is labelled with the
    formation and environment.
  - A ResourceQuota C(skipper-quota) holds the environment's CPU share (O(cpu)), and a LimitRange C(skipper-limits)
    bounds each container's memory (O(memory)) and gives containers default requests and limits.
  - A ServiceAccount C(skipper-deployer) is bound to the least Role that M(skipper.platform.app),
    M(skipper.platform.app_info) and M(skipper.platform.formation) need in the namespace. Its token is what CI or AWX
    deploys with; C(kubectl -n <namespace> create token skipper-deployer --duration 1h) gives a short-lived one.
  - A ConfigMap C(skipper-formation) marks the namespace as a formation's, with its settings.
  - Every object is dry-run first and written only where it differs, so check mode is exact and a run with nothing
    to do writes nothing. Setting up an environment needs rights on namespaces and RBAC; deploying into it does not.
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
  namespace:
    description:
      - The environment's namespace. It is created when missing. An existing namespace that skipper.platform did not
        create gets the labels; every other object in it of the names above must be skipper.platform's.
    type: str
    required: true
  formation:
    description:
      - The formation this namespace holds, a DNS-1035 label (the O(skipper.platform.formation#module:name) of M(skipper.platform.formation)).
    type: str
  environment:
    description:
      - The environment's name, for example V(staging).
    type: str
  production:
    description:
      - Whether this is a production environment (recorded on the marker ConfigMap).
    type: bool
    default: false
  domain:
    description:
      - The environment's domain (recorded on the marker ConfigMap).
    type: str
  cpu:
    description:
      - The environment's CPU share, a Kubernetes quantity such as V(4) or V(2500m). It becomes the ResourceQuota's
        C(requests.cpu) and C(limits.cpu). Without it, no quota is made.
    type: str
  default_cpu:
    description:
      - "CPU given to containers that set none, as C({request, limit}). Defaults to C({request: 100m, limit: 500m})
        when O(cpu) is set, because a CPU quota makes the API refuse pods without CPU requests and limits."
    type: dict
  memory:
    description:
      - "Bounds on each container's memory, as C({min, max}) quantities. Containers that set none get C(min) as their
        request and C(max) as their limit."
    type: dict
  labels:
    description:
      - Extra labels for the namespace and the objects in it.
    type: dict
  deployer:
    description:
      - Create the ServiceAccount C(skipper-deployer) with its Role and RoleBinding.
    type: bool
    default: true
  force:
    description:
      - Take over fields of these objects that another field manager owns.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Set up the shop's staging environment
  skipper.platform.environment:
    namespace: shop-staging
    formation: shop-staging
    environment: staging
    domain: shop.example.com
    cpu: "4"
    memory: {min: 64Mi, max: 1Gi}
"""

RETURN = r"""
objects:
  description: One entry per object of the environment, with what this run did to it.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: Namespace, namespace: null, name: shop-staging, action: updated}
    - {kind: ResourceQuota, namespace: shop-staging, name: skipper-quota, action: created}
environment:
  description: The namespace, the formation and the deployer's ServiceAccount.
  returned: always
  type: dict
  sample: {namespace: shop-staging, formation: shop-staging, service_account: skipper-deployer}
diff:
  description: Before and after of each object that changes.
  returned: in diff mode, when something changes
  type: list
  elements: dict
"""

from ansible_collections.skipper.platform.plugins.module_utils._environment import converge_environment
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(converge_environment, dict(
        namespace={"type": "str", "required": True},
        formation={"type": "str"},
        environment={"type": "str"},
        production={"type": "bool", "default": False},
        domain={"type": "str"},
        cpu={"type": "str"},
        default_cpu={"type": "dict"},
        memory={"type": "dict"},
        labels={"type": "dict"},
        deployer={"type": "bool", "default": True},
        force={"type": "bool", "default": False},
    ))


if __name__ == "__main__":
    main()

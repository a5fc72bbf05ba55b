#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_scale
short_description: Scale one app to a number of replicas
version_added: 0.2.0
description:
  - Sets the replicas of an app deployed by M(skipper.platform.app) through its Deployment's C(scale) subresource,
    with a server-side apply under a field manager of its own, C(skipper.platform-scale), and waits until that many
    pods are ready.
  - The scale takes C(spec.replicas) over from whoever held it. A later M(skipper.platform.app) run that still
    declares O(skipper.platform.app#module:replicas) then fails, naming C(skipper.platform-scale), instead of undoing
    the scale; drop O(skipper.platform.app#module:replicas) from the app (or set
    O(skipper.platform.app#module:force=true) there to take the count back).
  - An app that a HorizontalPodAutoscaler scales cannot be scaled by hand (the autoscaler would undo it); the module
    fails and says to change the autoscaler's bounds with M(skipper.platform.app_autoscale) instead.
  - Check mode reads the current count and dry-runs the scale, so it predicts C(changed) and the diff exactly.
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
  name:
    description: The app's name (its Deployment's).
    type: str
    required: true
  namespace:
    description: The app's namespace.
    type: str
    required: true
  replicas:
    description: The number of pods to run, 0 or more.
    type: int
    required: true
  wait:
    description: Wait until the replicas are ready (or gone, when scaling down).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Scale the shop's web front end up for the sale
  skipper.platform.app_scale:
    name: web
    namespace: shop-prod
    replicas: 6

- name: Stop the worker without deleting it
  skipper.platform.app_scale:
    name: worker
    namespace: shop-prod
    replicas: 0
"""

RETURN = r"""
app:
  description: The app as the scale left it.
  returned: always
  type: dict
  contains:
    name:
      description: The app's name.
      type: str
      sample: web
    namespace:
      description: The app's namespace.
      type: str
      sample: shop-prod
    replicas:
      description: Pods wanted, ready and available.
      type: dict
      sample: {desired: 6, ready: 6, available: 6}
    revision:
      description: The Deployment's revision (scaling does not change it).
      type: int
      sample: 3
    rollout:
      description: V(succeeded) once the replicas are ready, V(not_waited) in check mode or with O(wait=false).
      type: dict
      sample: {status: succeeded, message: all replicas updated and available}
objects:
  description: The Deployment, with action V(updated) or V(unchanged).
  returned: always
  type: list
  elements: dict
  sample: [{kind: Deployment, namespace: shop-prod, name: web, action: updated}]
diff:
  description: The replicas before and after. Empty when unchanged.
  returned: when diff mode is on
  type: list
  elements: dict
  sample: [{before_header: Deployment shop-prod/web, after_header: Deployment shop-prod/web,
            before: {spec: {replicas: 2}}, after: {spec: {replicas: 6}}}]
"""

from ansible_collections.skipper.platform.plugins.module_utils._module import run_module
from ansible_collections.skipper.platform.plugins.module_utils._scale import run


def main() -> None:
    run_module(run, dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        replicas={"type": "int", "required": True},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    ))


if __name__ == "__main__":
    main()

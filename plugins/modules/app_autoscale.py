#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_autoscale
short_description: Let one app scale itself on CPU and memory use
version_added: 0.2.0
description:
  - Creates, changes or removes the C(autoscaling/v2) HorizontalPodAutoscaler of an app deployed by
    M(skipper.platform.app). It is named after the app, scales its Deployment between O(min) and O(max) replicas,
    and aims at an average use of O(cpu) and/or O(memory) percent of what the pods request.
  - The autoscaler is written like the app's other objects (dry run first, then an apply only when it differs),
    so check mode predicts C(changed) and the diff exactly and a run with nothing to change writes nothing.
  - It carries the annotation C(skipper.platform/declared-by=app_autoscale). An app that declares
    O(skipper.platform.app#module:autoscale) in inventory takes such an autoscaler over; one that does not leaves it
    alone. An autoscaler that inventory declares is changed here only with O(force=true), and the next deploy of the
    app puts the inventory's settings back.
  - O(state=absent) deletes the autoscaler, then sets the app's replicas to O(replicas) the way
    M(skipper.platform.app_scale) does, so the app does not stay at whatever count the autoscaler left, and waits for
    them.
  - Utilisation is a share of the containers' requests, so the app should request CPU (for O(cpu)) and memory (for
    O(memory)); the module warns when it does not. The cluster needs a metrics API (metrics-server) for the
    autoscaler to act.
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
    description: The app's name (its Deployment's); also the autoscaler's name.
    type: str
    required: true
  namespace:
    description: The app's namespace.
    type: str
    required: true
  state:
    description:
      - V(present) creates or changes the autoscaler.
      - V(absent) deletes it and pins the replicas to O(replicas).
    type: str
    choices: [present, absent]
    default: present
  min:
    description: The fewest replicas, 1 or more. Only with O(state=present).
    type: int
    default: 1
  max:
    description: The most replicas, at least O(min). Required with O(state=present).
    type: int
  cpu:
    description: Target average CPU use, in percent of the pods' CPU request (1 to 100).
    type: int
  memory:
    description:
      - Target average memory use, in percent of the pods' memory request (1 to 100). Give O(cpu), O(memory) or both.
    type: int
  replicas:
    description: The replicas the app keeps once the autoscaler is gone. Required with O(state=absent).
    type: int
  force:
    description: Change or delete an autoscaler that inventory declares (the app's autoscale option).
    type: bool
    default: false
  wait:
    description: With O(state=absent), wait until the pinned replicas are ready.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Let the web front end run 2 to 10 pods at 70 % CPU
  skipper.platform.app_autoscale:
    name: web
    namespace: shop-prod
    min: 2
    max: 10
    cpu: 70

- name: Scale on memory too
  skipper.platform.app_autoscale:
    name: web
    namespace: shop-prod
    min: 2
    max: 10
    cpu: 70
    memory: 80

- name: Stop autoscaling and keep 3 pods
  skipper.platform.app_autoscale:
    name: web
    namespace: shop-prod
    state: absent
    replicas: 3
"""

RETURN = r"""
autoscale:
  description:
    - The autoscaler as it stands, with the replicas it has (C(current)) and wants (C(desired)), null before it first
      ran. In check mode, the settings it would have. Null with O(state=absent).
  returned: always
  type: dict
  sample: {name: web, min: 2, max: 10, cpu: 70, memory: null, current: 2, desired: 2}
app:
  description: With O(state=absent), the app's replicas once pinned, and whether they were waited for.
  returned: when O(state=absent)
  type: dict
  sample: {name: web, namespace: shop-prod, replicas: {desired: 3, ready: 3, available: 3}, revision: 2,
           rollout: {status: succeeded, message: all replicas updated and available}}
objects:
  description: The autoscaler (V(created), V(updated), V(unchanged) or V(deleted)) and, with O(state=absent), the
    Deployment whose replicas were pinned.
  returned: always
  type: list
  elements: dict
  sample: [{kind: HorizontalPodAutoscaler, namespace: shop-prod, name: web, action: created}]
diff:
  description: Each object changed, before and after, cut to the fields sent and those that differ.
  returned: when diff mode is on
  type: list
  elements: dict
  sample: [{before_header: HorizontalPodAutoscaler shop-prod/web, after_header: HorizontalPodAutoscaler shop-prod/web,
            before: {spec: {maxReplicas: 6}}, after: {spec: {maxReplicas: 10}}}]
"""

from ansible_collections.skipper.platform.plugins.module_utils._autoscale import run
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(run, dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        min={"type": "int", "default": 1},
        max={"type": "int"},
        cpu={"type": "int"},
        memory={"type": "int"},
        replicas={"type": "int"},
        force={"type": "bool", "default": False},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    ), required_if=[("state", "present", ["max"]), ("state", "absent", ["replicas"])])


if __name__ == "__main__":
    main()

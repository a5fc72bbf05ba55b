#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_rollback
short_description: Roll one app back to an earlier revision
version_added: 0.2.0
description:
  - Puts back the pod template (image, version, settings) of an earlier revision of an app deployed by
    M(skipper.platform.app), the way C(kubectl rollout undo) does, and waits for the rollout. The Deployment keeps the
    current revision and the 3 before it.
  - Without O(revision) it goes back to the version that ran before the current one. With O(revision) it goes to that
    revision, found also after a rollback renumbered it, so running it again changes nothing.
  - The write is a JSON patch under the field manager C(skipper.platform-rollback). A later deploy of another version
    from inventory then fails naming that manager, rather than silently undoing the rollback; deploy with
    O(skipper.platform.app#module:force=true) to go forward again, or set the inventory's version to the one restored.
  - Check mode dry-runs the patch and says which version it would restore, with the diff.
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
    support: partial
    details: Without O(revision) every run goes back one more revision; with it, a second run changes nothing.
options:
  name:
    description: The app's name (its Deployment's).
    type: str
    required: true
  namespace:
    description: The app's namespace.
    type: str
    required: true
  revision:
    description:
      - The revision to restore, as RV(skipper.platform.app_info#module:apps[].revision) numbers them. Without it, the
        one before the current version.
    type: int
  wait:
    description: Wait for the rollout of the restored version.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: That release is broken, go back
  skipper.platform.app_rollback:
    name: web
    namespace: shop-prod
  register: rollback

- name: Say what runs now
  ansible.builtin.debug:
    msg: "web is back on {{ rollback.restored.version }} ({{ rollback.restored.image }})"

- name: Go back to revision 2
  skipper.platform.app_rollback:
    name: web
    namespace: shop-prod
    revision: 2
"""

RETURN = r"""
restored:
  description: The revision put back (its number before the rollback), its version label and image.
  returned: always
  type: dict
  sample: {revision: 2, version: 1.4.1, image: registry.example.com/shop/web:1.4.1}
previous:
  description: What ran before the rollback.
  returned: always
  type: dict
  sample: {revision: 3, version: 1.4.2, image: registry.example.com/shop/web:1.4.2}
app:
  description: The app after the rollback.
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
    image:
      description: The image the Deployment runs now (in check mode, would run).
      type: str
      sample: registry.example.com/shop/web:1.4.1
    version:
      description: The version label of the pod template now.
      type: str
      sample: 1.4.1
    replicas:
      description: Pods wanted, ready and available.
      type: dict
      sample: {desired: 2, ready: 2, available: 2}
    revision:
      description: The Deployment's revision now (the restored template gets a new number).
      type: int
      sample: 4
    rollout:
      description: V(succeeded), or V(not_waited) in check mode or with O(wait=false). A failed rollout fails the task.
      type: dict
      sample: {status: succeeded, message: all replicas updated and available}
objects:
  description: The Deployment, with action V(updated) or V(unchanged).
  returned: always
  type: list
  elements: dict
  sample: [{kind: Deployment, namespace: shop-prod, name: web, action: updated}]
diff:
  description: The parts of the Deployment that change, before and after.
  returned: when diff mode is on
  type: list
  elements: dict
  sample: [{before_header: Deployment shop-prod/web, after_header: Deployment shop-prod/web,
            before: {spec: {template: {spec: {containers: [{image: "registry.example.com/shop/web:1.4.2"}]}}}},
            after: {spec: {template: {spec: {containers: [{image: "registry.example.com/shop/web:1.4.1"}]}}}}}]
"""

from ansible_collections.skipper.platform.plugins.module_utils._module import run_module
from ansible_collections.skipper.platform.plugins.module_utils._rollback import run


def main() -> None:
    run_module(run, dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        revision={"type": "int"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
    ))


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: formation
short_description: Converge every app of an environment in one task
version_added: 0.2.0
description:
  - Keeps every app of a formation (one environment in one namespace) deployed as the M(skipper.platform.app) module
    would, in one module call instead of one task per app.
  - Each app is merged onto O(defaults) (mappings merge key by key; lists and values are replaced), then every app is
    planned concurrently (reads, ownership checks, server-side-apply dry runs). If any app cannot be planned, nothing
    is written and the task fails naming each such app and why.
  - Then the objects that differ are written and the rollouts followed, for all apps at once over one connection pool
    (O(concurrency) at a time). One app's failed rollout does not stop the others'; the task fails at the end naming
    each failed app and why. Check mode stops after the plans and predicts C(changed) and the diff exactly.
  - Every object carries the label C(skipper.platform/formation=<name>). An app of the same name that belongs to
    another formation, or an object that skipper.platform did not make, is refused.
  - A real run holds the Lease C(skipper-<name>) in the namespace (renewed while it runs). A second converge of the
    same formation waits up to O(lock_timeout) seconds, then fails naming the holder.
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
    description:
      - The formation's name, a DNS-1035 label, for example V(shop-prod). Labels every object it writes.
    type: str
    required: true
  namespace:
    description:
      - The namespace of every app of the formation.
    type: str
    required: true
  apps:
    description:
      - The apps, as a mapping of app name to the app's keys, which are the options of M(skipper.platform.app)
        C(image), C(version), C(port), C(replicas), C(env), C(secrets), C(resources), C(probes), C(labels), C(routes),
        C(autoscale), C(links), C(volumes), C(cron), C(security), C(rollback_on_failure).
      - An unknown key fails, naming the closest known one.
      - A route without C(host) gets C(<app>.<environment>.<domain>), or C(<app>.<domain>) when O(production=true).
    type: dict
    default: {}
  defaults:
    description:
      - Keys merged under every app's own (a deep merge where the app's keys win).
    type: dict
  versions:
    description:
      - Versions that override the apps' own, as a mapping of app name to version (what CI passes after a build).
    type: dict
  environment:
    description:
      - The environment's name, used in default route hosts.
    type: str
  domain:
    description:
      - The domain of default route hosts.
    type: str
  production:
    description:
      - A production formation. Default route hosts leave out the environment, and O(prune) needs
        O(confirm_production_delete).
    type: bool
    default: false
  instances:
    description:
      - "The environment's bounds on every app's replicas, as C({min, max}). An app outside them fails before any
        write. For an app with C(autoscale) its C(min) and C(max) must lie within them."
    type: dict
  policy:
    description:
      - The formation's policy, checked on every app's rendered objects before any write, as
        M(skipper.platform.app) takes it (C(rules) and C(allowed_registries)); see M(skipper.platform.policy_check)
        for the rules and their default levels. Production formations also check C(min-replicas-production).
    type: dict
    version_added: 0.2.0
  delete_volumes:
    description:
      - Delete the PersistentVolumeClaims of volumes that an app no longer declares (their data goes with them).
        Without it they are kept and named in a warning.
    type: bool
    default: false
    version_added: 0.2.0
  prune:
    description:
      - Remove the apps of this formation that are no longer in O(apps). Without it they are left running and named in
        a warning.
    type: bool
    default: false
  confirm_production_delete:
    description:
      - Allow O(prune) to delete apps of a production formation.
    type: bool
    default: false
  create_namespace:
    description:
      - Create the namespace when it does not exist. Every app is then dry-run inside it before any is written; if one
        fails, the namespace is removed again.
    type: bool
    default: false
  force:
    description:
      - Take over fields of the apps' own objects that another field manager owns. Never takes over an object that
        skipper.platform did not make.
    type: bool
    default: false
  tls_issuer:
    description:
      - The cert-manager ClusterIssuer for TLS routes that name none.
    type: str
    default: letsencrypt
  concurrency:
    description:
      - How many apps are planned, written and waited for at once, between 1 and 64.
    type: int
    default: 8
  wait:
    description:
      - Wait for every rollout to finish.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for all the rollouts together.
    type: int
    default: 300
  lock_timeout:
    description:
      - Seconds to wait for another converge of the same formation to finish.
    type: int
    default: 120
"""

EXAMPLES = r"""
- name: Converge the shop's staging environment
  skipper.platform.formation:
    name: shop-staging
    namespace: shop-staging
    environment: staging
    domain: shop.example.com
    defaults:
      resources:
        cpu: {request: 100m, limit: 500m}
        memory: {request: 128Mi, limit: 256Mi}
      probes:
        readiness: {path: /healthz}
    apps:
      web:
        image: registry.example.com/shop/web
        version: "1.4.2"
        replicas: 2
        routes: [{tls: true}]          # web.staging.shop.example.com
      api:
        image: registry.example.com/shop/api
        version: "2.0.1"
        port: 9000
    versions: "{{ skipper_versions | default({}) }}"

- name: Remove apps dropped from production inventory
  skipper.platform.formation:
    name: shop-prod
    namespace: shop-prod
    production: true
    apps: "{{ skipper_apps }}"
    prune: true
    confirm_production_delete: true
"""

RETURN = r"""
apps:
  description: Each app of the formation (and each pruned one) with what this run did.
  returned: always
  type: dict
  sample:
    web:
      changed: true
      objects: [{kind: Deployment, namespace: shop-staging, name: web, action: updated}]
      image: registry.example.com/shop/web:1.4.2
      version: 1.4.2
      replicas: {desired: 2, ready: 2, available: 2}
      revision: 4
      urls: [https://web.staging.shop.example.com/]
      rollout: {status: succeeded, message: all replicas updated and available}
objects:
  description: Every object touched, for all apps, as in M(skipper.platform.app).
  returned: always
  type: list
  elements: dict
formation:
  description: The formation's name and namespace.
  returned: always
  type: dict
  sample: {name: shop-staging, namespace: shop-staging}
diff:
  description: Before and after of each object that changes.
  returned: in diff mode, when something changes
  type: list
  elements: dict
"""

from ansible_collections.skipper.platform.plugins.module_utils._formation import converge_formation
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(converge_formation, dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        apps={"type": "dict", "default": {}},
        defaults={"type": "dict"},
        versions={"type": "dict"},
        environment={"type": "str"},
        domain={"type": "str"},
        production={"type": "bool", "default": False},
        instances={"type": "dict"},
        policy={"type": "dict"},
        delete_volumes={"type": "bool", "default": False},
        prune={"type": "bool", "default": False},
        confirm_production_delete={"type": "bool", "default": False},
        create_namespace={"type": "bool", "default": False},
        force={"type": "bool", "default": False},
        tls_issuer={"type": "str", "default": "letsencrypt"},
        concurrency={"type": "int", "default": 8},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 300},
        lock_timeout={"type": "int", "default": 120},
    ))


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app
short_description: Deploy, restart or remove one app on Kubernetes
version_added: 0.1.0
description:
  - Keeps one app deployed as a Deployment (3 revisions kept), a Service and one Ingress per route host,
    all labelled C(app.kubernetes.io/managed-by=skipper.platform).
  - Every run first dry-runs each object with server-side apply. If any dry run fails, nothing is written.
    Only objects whose dry-run result differs from the live object are then applied, under the field manager
    C(skipper.platform). Check mode stops before the writes, so it predicts C(changed) and the diff exactly.
  - Waits for the rollout to finish (unless O(wait=false)), and fails naming the pod that is stuck and why.
  - Objects are deleted (a removed route's Ingress, everything with O(state=absent)) only as they were read.
    The delete carries their uid and resourceVersion, so an object replaced or changed in between is left alone.
  - Reads that only enrich the report (ReplicaSets and pods during the rollout, the referenced Secrets' key names)
    may be forbidden to the credentials; each such case is a warning, never a failure.
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
    details: O(state=restarted) without O(restart_id) always changes the app; everything else is idempotent.
options:
  name:
    description:
      - The app's name, a DNS-1035 label of at most 50 characters. Names the Deployment and the Service.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the app. It must exist unless O(create_namespace=true).
    type: str
    required: true
  state:
    description:
      - V(present) deploys the app as described.
      - V(absent) deletes the Deployment, the Service and every Ingress of the app.
      - V(restarted) rolls the app's pods by stamping a pod-template annotation under its own field manager
        (C(skipper.platform-restart)), so a later V(present) run keeps it. Without O(restart_id) every run
        restarts the pods and reports a change.
    type: str
    choices: [present, absent, restarted]
    default: present
  image:
    description:
      - Container image. Give it without a tag and set O(version), or with a tag. Untagged and V(latest)
        images are refused.
      - Required when O(state=present).
    type: str
  version:
    description:
      - The version to deploy, used as the image tag and as the C(app.kubernetes.io/version) label,
        for example the output of C(git describe).
    type: str
  port:
    description:
      - The port the app listens on. The Service exposes the same port.
    type: int
    default: 8080
  replicas:
    description:
      - Number of pods, 0 or more.
    type: int
    default: 1
  env:
    description:
      - Environment variables, as a mapping of name to value. Kept in name order.
    type: dict
  secrets:
    description:
      - "Environment variables read from existing Secrets, as a mapping of name to C({secret, key})."
      - Each Secret and key must exist before the deploy; values are never read into the output.
    type: dict
  resources:
    description:
      - "CPU and memory, as C({cpu: {request, limit}, memory: {request, limit}}) with Kubernetes quantities."
    type: dict
  probes:
    description:
      - "Health checks as C({readiness: {path: /healthz}, liveness: {path: /healthz}})."
      - Each check may give C(command) instead of C(path), and C(port), C(initial_delay), C(period), C(timeout)
        and C(failure_threshold).
    type: dict
  labels:
    description:
      - Extra labels for every object and for the pods. Keys under C(app.kubernetes.io/) are reserved.
    type: dict
  routes:
    description:
      - Public routes. Each becomes a rule of the Ingress named after its host.
      - A route removed from this list deletes its Ingress.
    type: list
    elements: dict
    suboptions:
      host:
        description: Host name, for example V(shop.example.com).
        type: str
        required: true
      path:
        description: Path prefix.
        type: str
        default: /
      tls:
        description: Serve HTTPS with a certificate from cert-manager.
        type: bool
        default: false
      issuer:
        description: The cert-manager ClusterIssuer for this route; defaults to O(tls_issuer).
        type: str
  tls_issuer:
    description:
      - The cert-manager ClusterIssuer named in the annotation of Ingresses with TLS routes.
    type: str
    default: letsencrypt
  restart_id:
    description:
      - With O(state=restarted), restart the pods only when this value differs from the one of the last
        restart, for example a checksum of the app's configuration. Runs with the same value change nothing.
    type: str
  create_namespace:
    description:
      - Create the namespace when it does not exist. If someone else creates it while the run is under way,
        the run stops without writing anything.
      - If a dry run fails in the namespace this run created, the namespace is removed again.
        A namespace this run did not create is never removed.
    type: bool
    default: false
  force:
    description:
      - Take over fields of the app's own objects that another field manager owns (for example a hotfix made with
        C(kubectl edit)). Without it, such a conflict fails and names the manager.
      - It never takes over an object that skipper.platform did not make (one without the label
        C(app.kubernetes.io/managed-by=skipper.platform), such as a Helm release's Deployment or a hand-made
        Ingress). Such an object stops the run before anything is written, with or without O(force).
    type: bool
    default: false
  wait:
    description:
      - Wait for the rollout to finish.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Deploy the web front end
  skipper.platform.app:
    name: web
    namespace: shop-prod
    image: registry.example.com/shop/web
    version: "{{ web_version }}"
    port: 8080
    replicas: 2
    env:
      LOG_LEVEL: info
    secrets:
      DB_PASSWORD: {secret: shop-db, key: password}
    resources:
      cpu: {request: 100m, limit: 500m}
      memory: {request: 128Mi, limit: 256Mi}
    probes:
      readiness: {path: /healthz}
      liveness: {path: /healthz}
    routes:
      - host: shop.example.com
        tls: true

- name: Restart the API only when its configuration changed
  skipper.platform.app:
    name: api
    namespace: shop-prod
    state: restarted
    restart_id: "{{ lookup('ansible.builtin.file', 'api.conf') | hash('sha256') }}"

- name: Point every app task at one cluster
  module_defaults:
    group/skipper.platform.k8s:
      kubeconfig: /etc/skipper/prod.kubeconfig
  block:
    - name: Restart the API
      skipper.platform.app:
        name: api
        namespace: shop-prod
        state: restarted

    - name: Remove the old search app
      skipper.platform.app:
        name: search
        namespace: shop-prod
        state: absent
"""

RETURN = r"""
objects:
  description: One entry per object the app owns, with what this run did to it.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: Deployment, namespace: shop-prod, name: web, action: updated}
    - {kind: Service, namespace: shop-prod, name: web, action: unchanged}
    - {kind: Ingress, namespace: shop-prod, name: web--shop-example-com, action: created}
app:
  description: The app after this run.
  returned: always
  type: dict
  contains:
    name:
      description: The app's name.
      type: str
      returned: always
      sample: web
    namespace:
      description: The app's namespace.
      type: str
      returned: always
      sample: shop-prod
    image:
      description: The image reference deployed, with its tag.
      type: str
      returned: when state is present
      sample: registry.example.com/shop/web:1.4.2
    version:
      description: The version deployed.
      type: str
      returned: when state is present
      sample: 1.4.2
    replicas:
      description: Pods wanted, ready and available.
      type: dict
      returned: when state is present or restarted
      sample: {desired: 2, ready: 2, available: 2}
    revision:
      description: The Deployment's revision number.
      type: int
      returned: when state is present
      sample: 3
    urls:
      description: The public URLs of the app's routes.
      type: list
      elements: str
      returned: when state is present
      sample: [https://shop.example.com/]
    rollout:
      description: The rollout's outcome, V(succeeded), V(failed) or V(not_waited), with a message.
      type: dict
      returned: when state is present or restarted
      sample: {status: succeeded, message: all replicas updated and available}
    restarted_at:
      description: When this run restarted the pods (UTC).
      type: str
      returned: when state is restarted and the pods were restarted
      sample: "2026-11-25T21:40:00Z"
diff:
  description: Before and after of each object that changes, cut to the fields the module sends.
  returned: in diff mode, when something changes
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.skipper.platform.plugins.module_utils._app import run
from ansible_collections.skipper.platform.plugins.module_utils._module import argument_spec, execute

ROUTE_SPEC = {
    "host": {"type": "str", "required": True},
    "path": {"type": "str", "default": "/"},
    "tls": {"type": "bool", "default": False},
    "issuer": {"type": "str"},
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            name={"type": "str", "required": True},
            namespace={"type": "str", "required": True},
            state={"type": "str", "choices": ["present", "absent", "restarted"], "default": "present"},
            image={"type": "str"},
            version={"type": "str"},
            port={"type": "int", "default": 8080},
            replicas={"type": "int", "default": 1},
            env={"type": "dict"},
            secrets={"type": "dict", "no_log": False},  # names of Secrets and keys, never values
            resources={"type": "dict"},
            probes={"type": "dict"},
            labels={"type": "dict"},
            routes={"type": "list", "elements": "dict", "options": ROUTE_SPEC},
            tls_issuer={"type": "str", "default": "letsencrypt"},
            restart_id={"type": "str"},
            create_namespace={"type": "bool", "default": False},
            force={"type": "bool", "default": False},
            wait={"type": "bool", "default": True},
            wait_timeout={"type": "int", "default": 300},
        ),
        required_if=[("state", "present", ["image"])],
        supports_check_mode=True,
    )
    result, failure = execute(module, run)
    if failure:
        module.fail_json(**failure)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

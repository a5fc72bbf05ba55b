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
      - Text, or a whole number. A number with a fraction is refused, because YAML has already changed it
        (C(1.10) is read as C(1.1)), so quote the version.
    type: raw
  port:
    description:
      - The port the app listens on. The Service exposes the same port.
    type: int
    default: 8080
  replicas:
    description:
      - Number of pods, 0 or more.
      - When it is not given, or O(autoscale) is, the Deployment's replica count is not sent, so whoever set it
        (the autoscaler, M(skipper.platform.app_scale)) keeps it; a new Deployment starts with 1 pod.
      - When it is given for an app that M(skipper.platform.app_scale) scaled by hand to another count, the run fails
        naming that field manager. Drop O(replicas) to keep the hand-set count, or set O(force=true) to apply it.
      - Dropping O(replicas) from a later run of an app that declared it resets the Deployment to 1 pod unless
        something else (an autoscaler, M(skipper.platform.app_scale)) owns the count.
    type: int
  autoscale:
    description:
      - "Let a HorizontalPodAutoscaler (C(autoscaling/v2), named after the app) set the replicas, as
        C({min, max, cpu, memory}): bounds and target utilisation in percent of the requests (give at least one of
        C(cpu) and C(memory), and set the matching O(resources) requests)."
      - Removing O(autoscale) deletes the autoscaler, unless M(skipper.platform.app_autoscale) made it.
    type: dict
    version_added: 0.2.0
  links:
    description:
      - "Other apps this app talks to. Each C({app, namespace, public, name}) becomes an environment variable,
        C(<APP>_URL) by default (upper case, dashes as underscores), holding
        C(http://<app>.<namespace>.svc.cluster.local:<port>) or, with C(public=true), the app's first public URL."
      - The linked app must exist. The variable names are recorded in the annotation
        C(skipper.platform/declared-links) on the Deployment, so dropping a link removes exactly its variable.
    type: list
    elements: dict
    version_added: 0.2.0
  volumes:
    description:
      - "Persistent volumes, each C({name, path, size}) and optionally C(storage_class), C(access_mode)
        (default V(ReadWriteOnce)) and C(read_only): a PersistentVolumeClaim named C(<app>-<name>), mounted at
        C(path)."
      - A claim is never deleted because a volume was dropped from this list or the app was removed, unless
        O(delete_volumes=true); a warning names each claim that is kept.
    type: list
    elements: dict
    version_added: 0.2.0
  delete_volumes:
    description:
      - Delete the claims of volumes that are no longer declared (and, with O(state=absent), all the app's claims).
        Their data is lost. Check mode lists the claims that would go.
    type: bool
    default: false
    version_added: 0.2.0
  cron:
    description:
      - "Scheduled jobs, each C({name, schedule, command}) and optionally C(timezone), C(suspend),
        C(concurrency_policy) (default V(Forbid)) and history limits: a CronJob named C(<app>-<name>) running the
        app's image with its environment and secrets. See M(skipper.platform.cron) for every key."
      - When given (even as an empty list), the app's CronJobs that are no longer listed are deleted, except those
        made by M(skipper.platform.cron). When not given, the app's CronJobs are left alone.
    type: list
    elements: dict
    version_added: 0.2.0
  security:
    description:
      - "The pods' security settings: C(run_as_non_root) (default V(true)), C(read_only_root_filesystem)
        (default V(true)), C(allow_privilege_escalation) (default V(false)), C(privileged) (default V(false)),
        C(writable_tmp) (default V(true): an emptyDir at C(/tmp)), C(run_as_user), C(run_as_group), C(fs_group)."
      - The defaults pass the default policy and the C(restricted) Pod Security level; all capabilities are
        dropped unless C(privileged=true). An image that runs as root needs C(run_as_user) or
        C(run_as_non_root=false).
    type: dict
    version_added: 0.2.0
  policy:
    description:
      - "The policy the app's rendered objects must pass before anything is written, as C({rules, allowed_registries}):
        C(rules) maps a rule name to V(error), V(warning) or V(off); see M(skipper.platform.policy_check) for the
        rules and their defaults."
      - An error stops the run with nothing changed; a warning is reported as an Ansible warning.
    type: dict
    version_added: 0.2.0
  production:
    description:
      - The app runs in production, for the policy rule C(min-replicas-production).
    type: bool
    default: false
    version_added: 0.2.0
  rollback_on_failure:
    description:
      - When this run's rollout fails, restore the previous revision, wait for it, and fail reporting
        C(rollout.status=rolled_back) with the reasons.
    type: bool
    default: false
    version_added: 0.2.0
  unlink:
    description:
      - With O(state=absent), also remove the link variables other apps hold to this app. Without it, such apps are
        named in a warning.
    type: bool
    default: false
    version_added: 0.2.0
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
      kubeconfig: "{{ skipper_kubeconfig }}"   # the inventory's, say /etc/skipper/prod.kubeconfig
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
      description:
        - The rollout's outcome, V(succeeded), V(failed), V(rolled_back) (with O(rollback_on_failure), and C(restored)
          naming the revision and version restored) or V(not_waited), with a message.
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

from ansible_collections.skipper.platform.plugins.module_utils._app import run
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module

ROUTE_SPEC = {
    "host": {"type": "str", "required": True},
    "path": {"type": "str", "default": "/"},
    "tls": {"type": "bool", "default": False},
    "issuer": {"type": "str"},
}


def main() -> None:
    run_module(run, dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent", "restarted"], "default": "present"},
        image={"type": "str"},
        version={"type": "raw"},  # not str: Ansible would turn 1.10, read by YAML as 1.1, into "1.1"
        port={"type": "int", "default": 8080},
        replicas={"type": "int"},
        autoscale={"type": "dict"},
        links={"type": "list", "elements": "dict"},
        volumes={"type": "list", "elements": "dict"},
        delete_volumes={"type": "bool", "default": False},
        cron={"type": "list", "elements": "dict"},
        security={"type": "dict"},
        policy={"type": "dict"},
        production={"type": "bool", "default": False},
        rollback_on_failure={"type": "bool", "default": False},
        unlink={"type": "bool", "default": False},
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
    ), required_if=[("state", "present", ["image"])])


if __name__ == "__main__":
    main()

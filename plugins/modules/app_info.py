#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_info
short_description: Read one app, or every app in a namespace, from Kubernetes
version_added: 0.1.0
description:
  - Reads the apps that M(skipper.platform.app) or M(skipper.platform.formation) deployed (found by the
    C(app.kubernetes.io/managed-by) label) with their formation, image, version, replicas, resources, routes,
    Deployment conditions, revision, when they were last deployed, and, where the cluster offers them, their CPU and
    memory use and their HorizontalPodAutoscaler.
  - Makes one list request per kind whatever the number of apps (Deployments, Ingresses, ReplicaSets,
    HorizontalPodAutoscalers, PodMetrics), and only the first when there is no app.
  - The ReplicaSets, HorizontalPodAutoscalers (C(autoscaling/v2)) and PodMetrics (C(metrics.k8s.io/v1beta1), served
    by metrics-server) are optional. When their API is not served (404), not allowed for the credentials (403) or
    not answering (503), the fields drawn from them are null (C(last_deployed) then comes from the Deployment alone),
    RV(unavailable) says which and why, and nothing fails.
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
  formation:
    description:
      - Only the apps of this formation (those labelled C(skipper.platform/formation=<formation>)). Apps deployed one
        by one with M(skipper.platform.app) carry no formation label and are left out.
    type: str
    version_added: 0.2.0
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

- name: Read the apps of one formation, in a namespace that several share
  skipper.platform.app_info:
    namespace: shop
    formation: shop-staging
  register: staging

- name: Name the apps that use more CPU than they request
  ansible.builtin.debug:
    msg: "{{ item.name }} uses {{ item.usage.cpu.used }} of {{ item.usage.cpu.requested }}"
  loop: "{{ shop.apps | selectattr('usage') | selectattr('usage.cpu.percent') | selectattr('usage.cpu.percent', 'gt', 100) }}"
  loop_control:
    label: "{{ item.name }}"
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
    formation:
      description: The formation the app belongs to (its C(skipper.platform/formation) label), or null for an app
        deployed on its own.
      type: str
      sample: shop-prod
      version_added: 0.2.0
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
    last_deployed:
      description:
        - When the Deployment's pod template last changed (a new version, other settings, a restart), in UTC.
        - The creation time of the ReplicaSet of the current revision, which scaling (by hand or by an autoscaler) and
          replaced pods leave alone. When the ReplicaSets cannot be read, or the current one was taken up again by a
          rollback, the Deployment's C(Progressing) condition's C(lastUpdateTime) while its reason is one of a
          rollout (C(NewReplicaSetCreated), C(FoundNewReplicaSet), C(ReplicaSetUpdated), C(NewReplicaSetAvailable));
          null when neither tells.
      type: str
      sample: "2026-11-25T21:34:36Z"
      version_added: 0.2.0
    usage:
      description:
        - CPU and memory that the app's pods use now (the sum over their C(metrics.k8s.io/v1beta1) PodMetrics), against
          what the current pod template requests for as many pods. C(percent) is null for a resource without a
          request. CPU is in millicores, memory in mebibytes.
        - Null when the metrics API is unavailable (see RV(unavailable)) or has no sample of the app's pods yet.
      type: dict
      sample: {pods: 2, cpu: {used: 37m, requested: 200m, percent: 19}, memory: {used: 90Mi, requested: 256Mi, percent: 35}}
      version_added: 0.2.0
    autoscale:
      description:
        - The C(autoscaling/v2) HorizontalPodAutoscaler named after the app that scales its Deployment, made by hand
          or not, with its bounds and the replicas it has (C(current)) and wants (C(desired)).
        - C(active) is its C(ScalingActive) condition, null before the autoscaler first ran. C(desired) is null unless
          C(active) is true (the API shows 0 then); while it is false (the autoscaler cannot read its metrics, say),
          C(inactive_reason) gives the condition's reason and message.
        - Null when there is none or the API is unavailable (see RV(unavailable)).
        - C(utilization) is the autoscaler's last reading of each resource it scales on, in percent of the pods'
          requests.
      type: dict
      sample: {name: web, min: 2, max: 6, current: 3, desired: 4, active: true, inactive_reason: null,
               utilization: {cpu: 81}}
      version_added: 0.2.0
    revisions:
      description:
        - The revisions the Deployment keeps (three), newest first, with the version and image of each, when it was
          made, and which is current. These are what M(skipper.platform.app_rollback) can go back to.
        - Null when ReplicaSets cannot be read (see RV(unavailable)).
      type: list
      elements: dict
      sample: [{revision: 4, version: 1.4.2, image: "registry.example.com/shop/web:1.4.2",
                created: "2026-11-25T21:40:00Z", current: true}]
      version_added: 0.2.0
    volumes:
      description:
        - The PersistentVolumeClaims the pods mount, with the mount path, and the claim's size and phase (null when
          claims cannot be read).
      type: list
      elements: dict
      sample: [{claim: web-files, path: /app/files, size: 1Gi, phase: Bound}]
      version_added: 0.2.0
    links:
      description:
        - C(out) lists the app's link variables (declared in O(skipper.platform.app#module:links) or added by
          M(skipper.platform.app_link)) and their URLs. C(in) lists the apps of the namespace whose link variables
          point at this app's Service.
      type: dict
      sample: {out: [{name: API_URL, url: "http://api.shop-prod.svc.cluster.local:8080"}],
               in: [{app: admin, namespace: shop-prod, name: WEB_URL}]}
      version_added: 0.2.0
unavailable:
  description:
    - The optional reads that could not be made, each naming the API, the namespace, why and which field is null
      instead. Empty when everything could be read.
  returned: always
  type: list
  elements: str
  sample: ["metrics.k8s.io/v1beta1 pods in namespace shop-prod: not served by the API server; usage is null"]
  version_added: 0.2.0
"""

from ansible_collections.skipper.platform.plugins.module_utils._info import read_apps
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(lambda svc, params, _check: read_apps(svc, params["namespace"], params["name"], params["formation"]), dict(
        namespace={"type": "str", "required": True},
        name={"type": "str"},
        formation={"type": "str"},
    ))


if __name__ == "__main__":
    main()

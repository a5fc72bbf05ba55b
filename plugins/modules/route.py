#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: route
short_description: Route several path prefixes of one host to several apps
version_added: 0.2.0
description:
  - "Keeps a route group: one host whose path prefixes lead to apps, for example V(/api) to the app C(api) and
    V(/) to the app C(web)."
  - "Each path becomes one object named after the group and the path (C(<name>.path) for V(/),
    C(<name>.path.api) for V(/api)): an Ingress, or with O(kind=Route) an OpenShift Route (C(route.openshift.io/v1),
    which holds one path). Each is labelled C(app.kubernetes.io/managed-by=skipper.platform) and
    C(skipper.platform/route-group=<name>); a path removed from O(paths) deletes its object, O(state=absent) deletes
    them all."
  - Every app named in O(paths) must exist in O(namespace) (its Service is read), and no other route group or app
    route of skipper.platform in the namespace may claim the same host and path; both are checked before anything
    is written, and a clash names both owners.
  - Every run dry-runs each object with server-side apply (field manager C(skipper.platform)) and writes only those
    that differ, so check mode predicts C(changed) and the diff exactly and a second run writes nothing.
  - The backend is each app's Service port named C(http), the port M(skipper.platform.app) exposes.
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
      - The group's name, a DNS-1035 label of at most 50 characters. Names its objects.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the group and of its apps. It must exist.
    type: str
    required: true
  state:
    description:
      - V(present) keeps the group as described; V(absent) deletes every object of the group.
    type: str
    choices: [present, absent]
    default: present
  hostname:
    description:
      - The host name, for example V(shop.example.com). (The option C(host) is the API server's address, as in
        every module of the collection.)
      - "Without it, the host is made from O(domain): C(<name>.<environment>.<domain>), or C(<name>.<domain>) when
        O(production=true) or without O(environment)."
    type: str
  domain:
    description:
      - The environment's domain, for a default host.
    type: str
  environment:
    description:
      - The environment's name, for a default host.
    type: str
  production:
    description:
      - Whether the environment is production, for a default host (production hosts leave the environment out).
    type: bool
    default: false
  paths:
    description:
      - The path prefixes and the apps they lead to. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      path:
        description:
          - The path prefix; it must start with V(/). A trailing V(/) is dropped (V(/api/) is V(/api)).
        type: str
        required: true
      app:
        description:
          - The app (its Service) the prefix leads to.
        type: str
        required: true
      strip_prefix:
        description:
          - Remove the prefix before the request reaches the app (V(/api/items) arrives as V(/items)).
          - "With O(controller=nginx) the Ingress gets a regular expression path (C(pathType: ImplementationSpecific))
            and the ingress-nginx annotations C(use-regex) and C(rewrite-target). Note that ingress-nginx then reads
            every path of the host as a regular expression."
          - "With O(controller=traefik) the Ingress names the Traefik Middleware C(<name>-strip-prefix) in the
            C(router.middlewares) annotation. The module does not create that Middleware (a Traefik CRD): create it
            once per group, in the same namespace, with C(spec.stripPrefix.prefixes) listing the stripped paths
            (see the examples). RV(route.middleware) names it."
          - With O(kind=Route) the Route gets the OpenShift router's C(haproxy.router.openshift.io/rewrite-target)
            annotation.
          - Not allowed on V(/).
        type: bool
        default: false
  tls:
    description:
      - Serve HTTPS. Ingresses get a C(tls) entry with the Secret C(<name>-tls), and the first path's Ingress the
        C(cert-manager.io/cluster-issuer) annotation so cert-manager issues one certificate for the group.
      - Routes get edge termination (HTTP redirected to HTTPS) and the annotations of cert-manager's
        openshift-routes add-on; without that add-on the router's default certificate is served.
    type: bool
    default: false
  issuer:
    description:
      - The cert-manager ClusterIssuer for O(tls=true).
    type: str
    default: letsencrypt
  ingress_class:
    description:
      - The IngressClass of the Ingresses (C(spec.ingressClassName)). Not allowed with O(kind=Route).
    type: str
  controller:
    description:
      - Which ingress controller serves the Ingresses, for O(paths[].strip_prefix). Ignored with O(kind=Route).
    type: str
    choices: [nginx, traefik]
    default: nginx
  kind:
    description:
      - V(Ingress), or V(Route) for OpenShift (the API C(route.openshift.io/v1) must be served). Changing it
        replaces the group's objects.
    type: str
    choices: [Ingress, Route]
    default: Ingress
"""

EXAMPLES = r"""
- name: Serve the API under /api and the web front end under / of one host
  skipper.platform.route:
    name: shop
    namespace: shop-prod
    hostname: shop.example.com
    tls: true
    issuer: letsencrypt
    ingress_class: nginx
    paths:
      - {path: /api, app: api, strip_prefix: true}
      - {path: /, app: web}

- name: The same group on OpenShift, with a host made from the environment's domain (shop.staging.example.com)
  skipper.platform.route:
    name: shop
    namespace: shop-staging
    kind: Route
    domain: example.com
    environment: staging
    paths:
      - {path: /api, app: api}
      - {path: /, app: web}

- name: Remove the group
  skipper.platform.route:
    name: shop
    namespace: shop-prod
    state: absent

# With Traefik, create the StripPrefix Middleware the group names, for example with kubernetes.core:
#   apiVersion: traefik.io/v1alpha1
#   kind: Middleware
#   metadata: {name: shop-strip-prefix, namespace: shop-prod}
#   spec: {stripPrefix: {prefixes: [/api]}}
"""

RETURN = r"""
route:
  description: The group after this run.
  returned: always
  type: dict
  contains:
    name:
      description: The group's name.
      type: str
      returned: always
      sample: shop
    namespace:
      description: Its namespace.
      type: str
      returned: always
      sample: shop-prod
    host:
      description: The host served.
      type: str
      returned: when state is present
      sample: shop.example.com
    kind:
      description: V(Ingress) or V(Route).
      type: str
      returned: when state is present
      sample: Ingress
    urls:
      description: The public URL of each path.
      type: list
      elements: str
      returned: when state is present
      sample: [https://shop.example.com/, https://shop.example.com/api]
    paths:
      description: The paths in order, each with its app and whether the prefix is stripped.
      type: list
      elements: dict
      returned: when state is present
      sample: [{path: /, app: web, strip_prefix: false}, {path: /api, app: api, strip_prefix: true}]
    middleware:
      description: The Traefik Middleware the stripped paths name, which must exist.
      type: str
      returned: with controller traefik and a stripped path
      sample: shop-strip-prefix
objects:
  description: One entry per object of the group, with what this run did to it.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: Ingress, namespace: shop-prod, name: shop.path, action: unchanged}
    - {kind: Ingress, namespace: shop-prod, name: shop.path.api, action: created}
diff:
  description: Before and after of each object that changes.
  returned: in diff mode, when something changes
  type: list
  elements: dict
"""

from ansible_collections.skipper.platform.plugins.module_utils._module import run_module
from ansible_collections.skipper.platform.plugins.module_utils._route_runner import run

PATH_SPEC = {
    "path": {"type": "str", "required": True},
    "app": {"type": "str", "required": True},
    "strip_prefix": {"type": "bool", "default": False},
}


def main() -> None:
    run_module(run, dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        hostname={"type": "str"},
        domain={"type": "str"},
        environment={"type": "str"},
        production={"type": "bool", "default": False},
        paths={"type": "list", "elements": "dict", "options": PATH_SPEC},
        tls={"type": "bool", "default": False},
        issuer={"type": "str", "default": "letsencrypt"},
        ingress_class={"type": "str"},
        controller={"type": "str", "choices": ["nginx", "traefik"], "default": "nginx"},
        kind={"type": "str", "choices": ["Ingress", "Route"], "default": "Ingress"},
    ), required_if=[("state", "present", ["paths"])])


if __name__ == "__main__":
    main()

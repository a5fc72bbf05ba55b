#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: policy_check
short_description: Check apps and Kubernetes manifests against the platform's policy, without a cluster
version_added: 0.2.0
description:
  - Checks rendered Kubernetes manifests against named rules, each at a level. V(error) fails the task, V(warning)
    is shown as an Ansible warning, V(off) turns the rule off. The result lists every violation with its app, object,
    container, field and rule.
  - Checks every object with a pod template (C(Deployment), C(StatefulSet), C(DaemonSet), C(ReplicaSet), C(Job),
    C(CronJob), C(Pod)) and every C(initContainers) and C(containers) entry in it. Other kinds are not checked;
    a C(HorizontalPodAutoscaler) among them counts for O(production). C(List) objects are read item by item.
  - The manifests come from O(manifests), from the YAML files of O(src), and from O(apps), rendered exactly as
    M(skipper.platform.app) would send them. They are checked together.
  - The same engine runs in M(skipper.platform.app) before its first write, so a manifest that passes here passes
    there with the same rules.
  - Talks to no cluster and needs no connection options; it changes nothing.
  - "The rules, with their default levels:"
  - "V(image-tag) (error): every image has a tag other than C(latest), or a digest."
  - "V(allowed-registries) (error): every image comes from one of O(allowed_registries); off while that list is empty."
  - "V(resources-requests) (warning): every container requests CPU and memory. A limit without a request counts,
    because the API server then takes the request from the limit."
  - "V(resources-limits) (warning): every container has a CPU and a memory limit."
  - "V(readiness-probe) (warning): every container has a readiness probe. Not asked of C(Job) and C(CronJob)
    containers, nor of init containers."
  - "V(liveness-probe) (warning): every container has a liveness probe. Not asked of C(Job) and C(CronJob)
    containers, nor of init containers."
  - "V(run-as-non-root) (error): C(runAsNonRoot) is true in the container's C(securityContext), or in the pod's
    when the container leaves it unset, and C(runAsUser) is not 0."
  - "V(no-privileged) (error): no container sets C(privileged: true)."
  - "V(no-privilege-escalation) (error): every container sets C(allowPrivilegeEscalation: false) (unset means true)."
  - "V(read-only-root-filesystem) (error): every container sets C(readOnlyRootFilesystem: true)."
  - "V(min-replicas-production) (warning): with O(production), every C(Deployment) and C(StatefulSet) keeps at least
    2 replicas. C(replicas) unset counts as 1; a workload that a C(HorizontalPodAutoscaler) among the manifests
    scales counts that autoscaler's C(minReplicas) instead; C(replicas: 0) (stopped on purpose) passes."
  - "V(no-plain-secrets) (error): no C(env) entry holds a literal value that looks like a secret: a name containing
    C(PASSWORD), C(PASSWD), C(PASSPHRASE), C(SECRET), C(TOKEN), C(API_KEY), C(APIKEY), C(PRIVATE_KEY), C(ACCESS_KEY),
    C(ENCRYPTION_KEY), C(SIGNING_KEY), C(MASTER_KEY) or C(CREDENTIAL), or the word C(PASS) as in C(DB_PASS) (but not
    ending in C(_FILE), C(_PATH), C(_NAME), C(_URL), C(_ID), C(_TTL) and the like) with a
    non-empty value other than true/false, or any value holding a private key (C(-----BEGIN ... PRIVATE KEY)), an
    AWS access key (C(AKIA...)), a GitHub, Slack or Google API token, a JSON web token, a URL with a password, or a
    long random-looking string of mixed-case letters and digits. The value is never shown."
  - With these defaults an app that M(skipper.platform.app) renders with its default security settings passes with
    warnings only (no probes, no resources).
author:
  - Skipper Platform maintainers (@skipper-platform)
attributes:
  check_mode:
    description: Can run in check mode; it does the same as without.
    support: full
  diff_mode:
    description: Would return what changed in diff mode.
    support: none
    details: Changes nothing.
  idempotent:
    description: A second run with the same arguments gives the same result and reports no change.
    support: full
  platform:
    description: Runs on the host it is sent to (usually the controller); needs no Kubernetes API server.
    support: full
    platforms: posix
options:
  manifests:
    description:
      - Kubernetes objects to check, as dictionaries (for example read with the P(ansible.builtin.from_yaml_all#filter)
        filter, or rendered by a template).
    type: list
    elements: dict
  src:
    description:
      - A YAML file, or a folder whose C(.yml), C(.yaml) and C(.json) files (in its subfolders too, in path order) are
        read. A file may hold several documents separated by C(---); empty documents are skipped.
      - The path is on the host the module runs on.
    type: path
  apps:
    description:
      - Apps given as M(skipper.platform.app) takes them (C(name), C(image), C(version), C(port), C(replicas),
        C(env), C(secrets), C(resources), C(probes), C(labels), C(routes), C(tls_issuer) and the other settings of
        an app), rendered to the manifests that module would apply in the app's C(namespace) (O(namespace) when
        it has none), then checked.
      - Bad app settings fail as they would fail in M(skipper.platform.app), naming the app and the field.
    type: list
    elements: dict
  namespace:
    description:
      - The namespace of the O(apps) and of the objects of O(manifests) and O(src) that name none.
    type: str
    default: default
  rules:
    description:
      - Levels by rule name, each V(error), V(warning) or V(off); the rules not named keep their default level
        (listed above). An unquoted C(off) reads as false in YAML and is taken as V(off).
      - An unknown rule name or another level fails, naming the rule (and the nearest rule names).
    type: dict
    default: {}
  production:
    description: Whether the manifests are for production, where V(min-replicas-production) applies.
    type: bool
    default: false
  allowed_registries:
    description:
      - Registries, or registry paths, that images may come from, such as V(registry.example.com) or
        V(registry.example.com/shop). An image without a registry is taken as Docker Hub's (V(docker.io), and
        V(docker.io/library) for single names such as C(nginx)).
      - Empty turns V(allowed-registries) off.
    type: list
    elements: str
    default: []
  fail_on_error:
    description:
      - Fail the task when a rule at level V(error) is broken; the message lists each such violation.
      - When false, the task succeeds and RV(passed) says whether there were errors.
    type: bool
    default: true
notes:
  - Violations at level V(warning) are shown as Ansible warnings, one each, whether or not the task fails.
"""

EXAMPLES = r"""
- name: Check the apps of a formation before deploying them
  skipper.platform.policy_check:
    namespace: shop-prod
    production: true
    allowed_registries:
      - registry.example.com
    rules:
      resources-limits: error
      liveness-probe: "off"
    apps:
      - name: web
        image: registry.example.com/shop/web
        version: 1.4.2
        replicas: 3
        resources:
          cpu: {request: 250m, limit: 500m}
          memory: {request: 128Mi, limit: 256Mi}
        probes:
          readiness: {path: /healthz}

- name: Check a folder of plain Kubernetes YAML, and report without failing
  skipper.platform.policy_check:
    src: "{{ playbook_dir }}/stencils/shop"
    namespace: shop-staging
    fail_on_error: false
  register: policy

- name: Show each violation
  ansible.builtin.debug:
    msg: "{{ item.level }}: {{ item.kind }} {{ item.name }} {{ item.field }}: {{ item.rule }}: {{ item.message }}"
  loop: "{{ policy.violations }}"
  loop_control:
    label: "{{ item.name }} {{ item.rule }}"

- name: Check manifests built in the play
  skipper.platform.policy_check:
    manifests: "{{ lookup('ansible.builtin.template', 'worker.yml.j2') | ansible.builtin.from_yaml_all }}"
"""

RETURN = r"""
violations:
  description: Every rule broken at level V(error) or V(warning), by app, object, container, rule and field.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: The rule's name.
      type: str
      sample: image-tag
    level:
      description: V(error) or V(warning).
      type: str
      sample: error
    app:
      description: The object's C(app.kubernetes.io/name) label, or its name.
      type: str
      sample: web
    kind:
      description: The object's kind.
      type: str
      sample: Deployment
    namespace:
      description: The object's namespace.
      type: str
      sample: shop-prod
    name:
      description: The object's name.
      type: str
      sample: web
    container:
      description: The container's name; null for a rule about the whole object.
      type: str
      sample: app
    field:
      description: Where in the object, with containers and env vars by name in brackets.
      type: str
      sample: spec.template.spec.containers[app].image
    message:
      description: What is wrong, never with an env var's value.
      type: str
      sample: "'registry.example.com/shop/web:latest' is tagged latest; deploy a fixed version or a digest"
error_count:
  description: How many violations are at level V(error).
  returned: always
  type: int
  sample: 0
warning_count:
  description:
    - How many violations are at level V(warning). (Ansible keeps the name C(warnings) for the warning messages
      themselves, one per such violation.)
  returned: always
  type: int
  sample: 3
passed:
  description: Whether there is no violation at level V(error).
  returned: always
  type: bool
  sample: true
checked:
  description: How many objects were checked (those with a pod template).
  returned: always
  type: int
  sample: 4
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.skipper.platform.plugins.module_utils import _features, _policy, _resource, _spec
from ansible_collections.skipper.platform.plugins.module_utils._errors import SkipperError, ValidationError

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    HAS_YAML = False
else:
    HAS_YAML = True

SUFFIXES = (".yml", ".yaml", ".json")
APP_DEFAULTS = {"tls_issuer": "letsencrypt"}


def _files(src: str) -> list[str]:
    if os.path.isfile(src):
        return [src]
    if not os.path.isdir(src):
        raise ValidationError(f"src {src}: no such file or folder", field="src")
    found = []
    for folder, subfolders, names in os.walk(src):
        subfolders.sort()
        found += [os.path.join(folder, n) for n in names if n.endswith(SUFFIXES) and not n.startswith(".")]
    if not found:
        raise ValidationError(f"src {src}: the folder has no .yml, .yaml or .json file", field="src")
    return sorted(found)


def read_src(src: str) -> list[dict[str, Any]]:
    """Every document of every YAML file under ``src``; errors name the file and the line, never its text."""
    out: list[dict[str, Any]] = []
    for path in _files(src):
        try:
            with open(path, encoding="utf-8") as handle:
                documents = list(yaml.safe_load_all(handle))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise ValidationError(f"src {path}:{where}: {problem}", field="src") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"src {path}: cannot be read: {exc.__class__.__name__}", field="src") from None
        for number, document in enumerate(documents, 1):
            if document is None:
                continue
            if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
                raise ValidationError(f"src {path}: document {number}: not a Kubernetes object (a mapping with a kind)",
                                      field="src")
            out.append(document)
    return out


def _in_namespace(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    meta = manifest.get("metadata")
    if isinstance(meta, dict) and meta.get("namespace"):
        return manifest
    return {**manifest, "metadata": {**(meta if isinstance(meta, dict) else {}), "namespace": namespace}}


class _Notes:
    """Where the app runner keeps its notes; policy_check reports violations only."""

    def note(self, text: str) -> None:
        del text


def collect(params: dict[str, Any]) -> list[dict[str, Any]]:
    namespace = _spec.check_namespace(params["namespace"])
    manifests: list[dict[str, Any]] = []
    for index, manifest in enumerate(params["manifests"] or []):
        if not isinstance(manifest.get("kind"), str):
            raise ValidationError(f"manifests[{index}]: not a Kubernetes object (a mapping with a kind)",
                                  field=f"manifests[{index}]")
        manifests.append(manifest)
    if params["src"]:
        manifests += read_src(params["src"])
    manifests = [_in_namespace(m, namespace) for m in _policy.flatten(manifests)]
    for app in params["apps"] or []:
        spec = _spec.normalize_app({**APP_DEFAULTS, **{k: v for k, v in app.items() if v is not None}})
        app_namespace = _spec.check_namespace(app["namespace"]) if app.get("namespace") else namespace
        # What the app runner renders: its autoscaler and cron jobs too, replicas left to the autoscaler.
        declared = _features.declare(spec, {**app, "namespace": app_namespace}, _Notes())
        manifests += _resource.app_manifests(spec, app_namespace) + declared.manifests(spec, app_namespace)
    return manifests


def check(params: dict[str, Any]) -> dict[str, Any]:
    levels = _policy.check_levels(params["rules"])
    manifests = collect(params)
    violations = _policy.evaluate(manifests, levels, params["production"], params["allowed_registries"] or ())
    errors, warnings = _policy.summary(violations)
    checked = sum(1 for m in _policy.flatten(manifests) if m["kind"] in _policy.POD_SPEC_PATHS)
    return {"changed": False, "violations": violations, "error_count": errors, "warning_count": warnings,
            "passed": errors == 0, "checked": checked}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "manifests": {"type": "list", "elements": "dict"},
            "src": {"type": "path"},
            "apps": {"type": "list", "elements": "dict"},
            "namespace": {"type": "str", "default": "default"},
            "rules": {"type": "dict", "default": {}},
            "production": {"type": "bool", "default": False},
            "allowed_registries": {"type": "list", "elements": "str", "default": []},
            "fail_on_error": {"type": "bool", "default": True},
        },
        required_one_of=[("manifests", "src", "apps")],
        supports_check_mode=True,
    )
    if not HAS_YAML:  # pragma: no cover
        module.fail_json(msg=missing_required_lib("PyYAML"))
    try:
        result = check(module.params)
    except SkipperError as exc:
        module.fail_json(msg=exc.message, **exc.details)
    for violation in result["violations"]:
        if violation["level"] == "warning":
            module.warn(_policy.describe(violation))
    failure = _policy.failure_message(result["violations"])
    if failure and module.params["fail_on_error"]:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

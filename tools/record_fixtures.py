"""Record the unit tests' YAML fixtures from a real cluster.

    make fixtures
    # or: <venv with ansible-core>/bin/python tools/record_fixtures.py [--name fixtures] [--keep-cluster]

Starts (or reuses) the local cluster NAME (`fixtures` by default) with
tests/cluster/cluster.py, makes the requests the collection makes, and writes
the server's answers to tests/unit/plugins/module_utils/fixtures/*.yml, each
with a header saying what was asked and when. The manifests are built by the
collection's own _spec and _resource, and sent with its _client.Client.

  deployment_sent.yml         _resource.deployment() of web 1.4.2 (the apply body)
  deployment_live.yml         GET of that Deployment, applied (as 1.4.0, 1.4.1,
                              then 1.4.2: generation and revision 3) and rolled out
  deployment_dryrun_noop.yml  server-side-apply dry run of deployment_sent.yml
  deployment_sent_image.yml   the apply body of web 1.5.0
  deployment_dryrun_image.yml server-side-apply dry run of deployment_sent_image.yml
  secret_live.yml             GET of a Secret applied with made-up values
  pods_rollout.yml            LIST of the app's pods during a stuck rollout of 1.5.0

The stuck rollout is made of real objects. With 4 replicas, the rollout to
1.5.0 scales the new ReplicaSet to 2 and the old one to 3. A pod that fills
the node's CPU leaves room for one new pod only, so the scheduler marks the
other Unschedulable. The scheduled one carries the test cluster's
skipper.test/ready-delay label, so KWOK leaves it Pending, and its status
is then patched as a kubelet that cannot pull the image would (KWOK never
produces such a state). The old pod the rollout deletes is held Terminating
by a finalizer of this script's. Pod addresses, which KWOK makes up from
10.0.0.0/24, are written as 127.0.0.1, and the pods' managedFields are
left out.

The cluster is stopped at the end unless --keep-cluster is given.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "unit" / "plugins" / "module_utils" / "fixtures"
NAMESPACE = "shop-prod"
FILLER_NAMESPACE = "fixtures-cpu-filler"
HOLD_FINALIZER = "skipper.test/hold"  # keeps a deleted pod Terminating until this script lets it go
RECORDER = "record-fixtures"  # field manager of this script's own changes
APPLY = "application/apply-patch+yaml"

# The app of tests/unit/plugins/module_utils/test_resource.py's spec().
APP = {
    "name": "web", "image": "registry.example.com/shop/web", "version": "1.4.2", "port": 8080, "replicas": 2,
    "env": {"LOG_LEVEL": "info", "APP_MODE": "prod"},
    "secrets": {"DB_PASSWORD": {"secret": "web-db", "key": "password"}},
    "resources": {"cpu": {"request": "0.25", "limit": "500m"}, "memory": {"request": "128Mi", "limit": "0.25Gi"}},
    "probes": {"readiness": {"path": "/healthz"}},
    "labels": {"team": "shop"},
    "routes": None,
    "tls_issuer": "letsencrypt",
}
# Made-up values, never a real credential.
SECRET_VALUES = {"password": "s3cr3t-old", "username": "shop"}


def collection_modules() -> tuple[Any, Any, Any]:
    """The collection's _client, _resource and _spec, imported from this checkout."""
    tree = Path(tempfile.mkdtemp(prefix="skipper-fixtures-"))
    (tree / "ansible_collections" / "skipper").mkdir(parents=True)
    (tree / "ansible_collections" / "skipper" / "platform").symlink_to(ROOT)
    sys.path.insert(0, str(tree))
    from ansible_collections.skipper.platform.plugins.module_utils import _client, _resource, _spec

    return _client, _resource, _spec


class Recorder:
    def __init__(self, kubeconfig: str) -> None:
        self.client_mod, self.res, self.spec_mod = collection_modules()
        self.client = self.client_mod.Client({"kubeconfig": kubeconfig})
        self.server_version = self.client.request("GET", "/version")["gitVersion"]

    # ------------------------------------------------------------ requests

    def get(self, kind: str, namespace: str | None, name: str) -> Any:
        return self.client.request("GET", self.res.object_path(kind, namespace, name))

    def exists(self, kind: str, namespace: str | None, name: str) -> bool:
        try:
            self.get(kind, namespace, name)
            return True
        except self.client_mod.ApiError as exc:
            if exc.status == 404:
                return False
            raise

    def pods(self, namespace: str, selector: str | None = None) -> Any:
        query = {"labelSelector": selector} if selector else None
        return self.client.request("GET", self.res.collection_path("Pod", namespace), query)

    def apply(self, manifest: dict[str, Any], dry_run: bool = False) -> Any:
        meta = manifest["metadata"]
        query = {"fieldManager": self.res.MANAGER, "force": "false", "dryRun": "All" if dry_run else None}
        return self.client.request("PATCH", self.res.object_path(manifest["kind"], meta.get("namespace"), meta["name"]),
                                   query, manifest, APPLY)

    def patch_pod(self, name: str, patch: dict[str, Any], subresource: str | None = None,
                  namespace: str = NAMESPACE) -> Any:
        return self.client.request("PATCH", self.res.object_path("Pod", namespace, name, subresource),
                                   {"fieldManager": RECORDER}, patch, "application/strategic-merge-patch+json")

    def wait(self, what: str, check: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise SystemExit(f"record_fixtures: timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.2)

    # ------------------------------------------------------------ namespaces

    def release_held_pods(self, namespace: str) -> None:
        for pod in self.pods(namespace)["items"]:
            if HOLD_FINALIZER in pod["metadata"].get("finalizers", []):
                self.client.request("PATCH", self.res.object_path("Pod", namespace, pod["metadata"]["name"]),
                                    None, {"metadata": {"finalizers": None}}, "application/merge-patch+json")

    def fresh_namespace(self, name: str) -> None:
        if self.exists("Namespace", None, name):
            self.release_held_pods(name)
            self.client.request("DELETE", self.res.object_path("Namespace", None, name))
            self.wait(f"namespace {name} to be deleted", lambda: not self.exists("Namespace", None, name), 120)
        self.client.request("POST", self.res.collection_path("Namespace", None), None,
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        self.wait(f"the default ServiceAccount of {name}",
                  lambda: self.exists_path(f"/api/v1/namespaces/{name}/serviceaccounts/default"))

    def exists_path(self, path: str) -> bool:
        try:
            self.client.request("GET", path)
            return True
        except self.client_mod.ApiError:
            return False

    # ------------------------------------------------------------ the app

    def manifest(self, **changes: Any) -> dict[str, Any]:
        return dict(self.res.deployment(self.spec_mod.normalize_app({**APP, **changes}), NAMESPACE))

    def rolled_out(self) -> Any:
        live = self.get("Deployment", NAMESPACE, "web")
        status, want = live.get("status", {}), live["spec"]["replicas"]
        done = (status.get("observedGeneration") == live["metadata"]["generation"]
                and status.get("replicas") == status.get("updatedReplicas") == status.get("readyReplicas")
                == status.get("availableReplicas") == want)
        pods = self.pods(NAMESPACE, self.res.selector_string("web"))["items"]
        return live if done and len(pods) == want else None

    def roll_out(self, **changes: Any) -> Any:
        self.apply(self.manifest(**changes))
        return self.wait("the rollout", self.rolled_out)

    # ------------------------------------------------------------ recordings

    def record(self) -> dict[str, tuple[str, Any]]:
        """Every fixture: file name -> (what it is, the data)."""
        out: dict[str, tuple[str, Any]] = {}
        self.fresh_namespace(NAMESPACE)
        secret = {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "web-db", "namespace": NAMESPACE,
                         "labels": {self.res.MANAGED_BY_LABEL: self.res.MANAGER}},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(SECRET_VALUES.items())},
        }
        self.apply(secret)
        out["secret_live.yml"] = (
            f"GET /api/v1/namespaces/{NAMESPACE}/secrets/web-db after a server-side apply by\n"
            f"skipper.platform. Its values are made up: {', '.join(f'{k}={v!r}' for k, v in SECRET_VALUES.items())}.",
            self.get("Secret", NAMESPACE, "web-db"))

        for version in ("1.4.0", "1.4.1", "1.4.2"):  # three revisions, as a Deployment in use has
            self.roll_out(version=version)
        sent = self.manifest()
        out["deployment_sent.yml"] = (
            "What _resource.deployment() builds for web 1.4.2 (test_resource checks it\n"
            "still does), i.e. the body of the server-side apply.", sent)
        out["deployment_live.yml"] = (
            f"GET /apis/apps/v1/namespaces/{NAMESPACE}/deployments/web after web 1.4.0, 1.4.1\n"
            "and 1.4.2 were applied and rolled out: server bookkeeping, defaulted fields, status.",
            self.get("Deployment", NAMESPACE, "web"))
        live = out["deployment_live.yml"][1]
        noop = self.apply(sent, dry_run=True)
        same = ("the answer is deployment_live.yml itself (same resourceVersion, same managedFields times)"
                if noop == live else "the answer differs from deployment_live.yml only by what moved meanwhile")
        out["deployment_dryrun_noop.yml"] = (
            "PATCH ...?fieldManager=skipper.platform&force=false&dryRun=All (server-side apply)\n"
            f"with deployment_sent.yml, right after deployment_live.yml. Nothing to change:\n{same}.", noop)
        sent_image = self.manifest(version="1.5.0")
        out["deployment_sent_image.yml"] = ("The apply body for web 1.5.0: deployment_sent.yml with the new version.",
                                            sent_image)
        out["deployment_dryrun_image.yml"] = (
            "PATCH ...?fieldManager=skipper.platform&force=false&dryRun=All with\n"
            "deployment_sent_image.yml (web 1.4.2 -> 1.5.0): generation bumped, status still the old rollout's.",
            self.apply(sent_image, dry_run=True))
        out["pods_rollout.yml"] = (
            f"GET /api/v1/namespaces/{NAMESPACE}/pods?labelSelector={self.res.selector_string('web')}\n"
            "during a stuck rollout of web 1.5.0 with 4 replicas: 3 old pods Ready, 1 old pod\n"
            "Terminating, 1 new pod Unschedulable (the node's CPU is used up), 1 new pod whose image\n"
            "cannot be pulled (ImagePullBackOff, written to its status subresource as a kubelet would).",
            self.stuck_rollout())
        return out

    def stuck_rollout(self) -> Any:
        selector = self.res.selector_string("web")
        self.roll_out(replicas=4)
        for pod in self.pods(NAMESPACE, selector)["items"]:  # the one the rollout deletes stays Terminating
            self.client.request("PATCH", self.res.object_path("Pod", NAMESPACE, pod["metadata"]["name"]),
                                {"fieldManager": RECORDER}, {"metadata": {"finalizers": [HOLD_FINALIZER]}},
                                "application/merge-patch+json")
        self.fill_node(room_millicpu=250)
        self.apply(self.manifest(version="1.5.0", replicas=4, labels={"team": "shop", "skipper.test/ready-delay": "1h"}))

        def stuck() -> Any:
            items = self.pods(NAMESPACE, selector)["items"]
            new = [p for p in items if p["metadata"]["labels"].get(self.res.VERSION_LABEL) == "1.5.0"]
            unschedulable = [p for p in new if any(c.get("reason") == "Unschedulable"
                                                   for c in p["status"].get("conditions", []))]
            scheduled = [p for p in new if p["spec"].get("nodeName")]
            terminating = [p for p in items if p["metadata"].get("deletionTimestamp")]
            if len(new) == 2 and len(unschedulable) == 1 and len(scheduled) == 1 and len(terminating) == 1:
                return scheduled[0]
            return None

        pulling = self.wait("a stuck rollout (one new pod unschedulable, one scheduled)", stuck)
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        image = pulling["spec"]["containers"][0]["image"]
        not_ready = {"status": "False", "reason": "ContainersNotReady",
                     "message": "containers with unready status: [app]", "lastProbeTime": None,
                     "lastTransitionTime": now}
        self.patch_pod(pulling["metadata"]["name"], {"status": {
            "phase": "Pending",
            "startTime": now,
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
                {"type": "Ready", **not_ready},
                {"type": "ContainersReady", **not_ready},
            ],
            "containerStatuses": [{
                "name": "app", "image": image, "imageID": "", "ready": False, "started": False, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff",
                                      "message": f'Back-off pulling image "{image}"'}},
            }],
        }}, subresource="status")
        answer = self.pods(NAMESPACE, selector)
        for pod in answer["items"]:
            pod["metadata"].pop("managedFields", None)
        return loopback_addresses(answer)

    def fill_node(self, room_millicpu: int) -> None:
        """Start a pod that requests all the node's CPU but ``room_millicpu``."""
        nodes = self.client.request("GET", "/api/v1/nodes")["items"]
        if len(nodes) != 1:
            raise SystemExit(f"record_fixtures: expected the local cluster's one node, found {len(nodes)}")
        node = nodes[0]
        allocatable = millicpu(node["status"]["allocatable"]["cpu"])
        used = 0
        for pod in self.client.request("GET", "/api/v1/pods", {"fieldSelector": f"spec.nodeName={node['metadata']['name']}"})["items"]:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                continue
            for container in pod["spec"]["containers"]:
                used += millicpu(container.get("resources", {}).get("requests", {}).get("cpu", "0"))
        self.fresh_namespace(FILLER_NAMESPACE)
        self.client.request("POST", self.res.collection_path("Pod", FILLER_NAMESPACE), None, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cpu-filler"},
            "spec": {"containers": [{"name": "filler", "image": "registry.example.com/fixtures/filler:1.0.0",
                                     "resources": {"requests": {"cpu": f"{allocatable - used - room_millicpu}m"}}}]},
        })
        self.wait("the filler pod to be scheduled",
                  lambda: self.get("Pod", FILLER_NAMESPACE, "cpu-filler")["spec"].get("nodeName"))

    def clean_up(self) -> None:
        self.release_held_pods(NAMESPACE)
        for name in (NAMESPACE, FILLER_NAMESPACE):
            if self.exists("Namespace", None, name):
                self.client.request("DELETE", self.res.object_path("Namespace", None, name))


def millicpu(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def loopback_addresses(value: Any) -> Any:
    """Every IP address in ``value`` (KWOK's made-up pod addresses) as 127.0.0.1."""
    if isinstance(value, dict):
        return {k: loopback_addresses(v) for k, v in value.items()}
    if isinstance(value, list):
        return [loopback_addresses(v) for v in value]
    if isinstance(value, str):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return value
        return "127.0.0.1"
    return value


def check_addresses(name: str, value: Any) -> None:
    """Refuse to write an address that is not 127.0.0.1 (a Service's clusterIP would be allowed)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("clusterIP", "clusterIPs"):
                check_addresses(name, item)
    elif isinstance(value, list):
        for item in value:
            check_addresses(name, item)
    elif isinstance(value, str):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return
        if str(address) != "127.0.0.1":
            raise SystemExit(f"record_fixtures: {name} would hold the address {address}")


def write(name: str, what: str, data: Any, server_version: str) -> None:
    check_addresses(name, data)
    today = datetime.date.today().isoformat()
    header = (f"# Recorded from the local test cluster (Kubernetes {server_version}, KWOK) on {today} by\n"
              "# tools/record_fixtures.py; refresh with `make fixtures`, do not edit by hand.\n"
              + "".join(f"# {line}\n" for line in what.splitlines()))
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)
    (FIXTURES / name).write_text(header + body, encoding="utf-8")
    print(f"wrote {(FIXTURES / name).relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="fixtures", help="the local cluster to use (started when not running)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running at the end")
    args = parser.parse_args(argv)
    cluster = [sys.executable, str(ROOT / "tests" / "cluster" / "cluster.py")]
    kubeconfig = subprocess.run([*cluster, "up", "--name", args.name], check=True, stdout=subprocess.PIPE,
                                text=True).stdout.strip().splitlines()[-1]
    # Only the kubeconfig of this cluster: nothing from the environment.
    for var in [v for v in os.environ if v.startswith("K8S_AUTH_")]:
        os.environ.pop(var)
    recorder = Recorder(kubeconfig)
    try:
        recordings = recorder.record()
        for name, (what, data) in recordings.items():
            write(name, what, data, recorder.server_version)
        recorder.clean_up()
    finally:
        if args.keep_cluster:
            print(f"the cluster '{args.name}' keeps running; stop it with: "
                  f"tests/cluster/cluster.py down --name {args.name}")
        else:
            subprocess.run([*cluster, "down", "--name", args.name], check=False)
    print(json.dumps({"recorded": sorted(recordings)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure a no-op app task against an empty module task, and count its requests.

    make bench            (or: python benchmarks/run.py [--tasks 20] [--rounds 3])

Runs against the demo cluster (make demo starts it). Each round times, in the
same environment: N empty module tasks (ansible.builtin.ping), N no-op
skipper.platform.app tasks, and, when kubernetes.core is installed (make
bench installs the `ansible` package for it), N no-op kubernetes.core.k8s
tasks applying the very manifests skipper.platform.app builds. The requests
of one no-op converge are counted from the apiserver's audit log. Nothing
here is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def play(tags: str, tasks: int, env: dict[str, str], extra: list[str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(["ansible-playbook", str(ROOT / "benchmarks" / "noop.yml"), "-e", f"bench_tasks={tasks}",
                    "--tags", tags, *(extra or [])], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def has_kubernetes_core(env: dict[str, str]) -> bool:
    found = subprocess.run(["ansible-doc", "-t", "module", "kubernetes.core.k8s"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return found.returncode == 0


def same_manifests(path: Path) -> list[str]:
    """Write the manifests skipper.platform.app builds for the benchmark app, for kubernetes.core."""
    sys.path.insert(0, env_collections())
    from ansible_collections.skipper.platform.plugins.module_utils import _resource, _spec

    # noop.yml's app under another name, so the two tools do not share objects.
    spec = _spec.normalize_app({
        "name": "bench-peer", "image": "registry.example.com/bench", "version": "1.0.0", "replicas": 1,
        "env": {"A": "1", "B": "2"}, "resources": {"cpu": {"request": "10m"}, "memory": {"request": "16Mi", "limit": "32Mi"}},
        "probes": {"readiness": {"path": "/healthz"}}, "routes": [{"host": "bench-peer.example.com", "tls": True}],
        "tls_issuer": "letsencrypt",
    })
    path.write_text(json.dumps({"bench_manifests": _resource.app_manifests(spec, "skipper-bench")}))
    return ["-e", f"@{path}"]


def env_collections() -> str:
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(":")[0]


def count_requests(audit_log: Path, since: str) -> dict[str, int]:
    verbs: dict[str, int] = {}
    for line in audit_log.read_text().splitlines():
        event = json.loads(line)
        if event.get("userAgent") != "skipper.platform" or event.get("requestReceivedTimestamp", "") < since:
            continue
        key = f"{event['verb']} {event.get('objectRef', {}).get('resource', '?')}"
        if "dryRun=All" in event.get("requestURI", ""):
            key += " (dry run)"
        verbs[key] = verbs.get(key, 0) + 1
    return verbs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cluster", default="demo")
    args = parser.parse_args()
    state = Path(os.environ.get("SKIPPER_CLUSTER_STATE", Path.home() / ".local/state/skipper-platform"))
    cdir = state / "clusters" / args.cluster
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(cdir / "kubeconfig.yaml"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    play("app", 1, env)  # deploy once, so every timed task is a no-op
    peer_args = same_manifests(Path(tempfile.mkstemp(suffix=".json")[1])) if has_kubernetes_core(env) else None
    if peer_args:
        play("k8s", 1, env, peer_args)
    times: dict[str, list[float]] = {"ping": [], "app": [], "k8s": []}
    for _round in range(args.rounds):
        times["ping"].append(play("ping", args.tasks, env) / args.tasks)
        times["app"].append(play("app", args.tasks, env) / args.tasks)
        if peer_args:
            times["k8s"].append(play("k8s", args.tasks, env, peer_args) / args.tasks)
    p, a = statistics.median(times["ping"]), statistics.median(times["app"])
    print(f"per task, median of {args.rounds} rounds of {args.tasks} tasks:")
    print(f"  ansible.builtin.ping          {p * 1000:7.0f} ms")
    print(f"  skipper.platform.app (no-op)  {a * 1000:7.0f} ms   (+{(a - p) * 1000:.0f} ms over ping)")
    if peer_args:
        k = statistics.median(times["k8s"])
        print(f"  kubernetes.core.k8s (no-op)   {k * 1000:7.0f} ms   (+{(k - p) * 1000:.0f} ms over ping)")
        print(f"  skipper.platform.app's cost over ping is {(a - p) / (k - p):.2f}x kubernetes.core.k8s's")
    else:
        print("  kubernetes.core.k8s: not installed here (make bench installs it), not measured")
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    play("app", 1, env)
    counts = count_requests(cdir / "logs" / "audit.log", since)
    writes = sum(n for k, n in counts.items() if k.split()[0] in ("create", "update", "patch", "delete")
                 and "(dry run)" not in k)
    print(f"requests of one no-op converge (3 owned objects): {sum(counts.values())}, writes: {writes}")
    for key, n in sorted(counts.items()):
        print(f"  {n:3d}  {key}")
    play("full", 1, env)  # the app with autoscale, a link and a volume, once
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    play("full", 1, env)
    counts = count_requests(cdir / "logs" / "audit.log", since)
    writes = sum(n for k, n in counts.items() if k.split()[0] in ("create", "update", "patch", "delete")
                 and "(dry run)" not in k)
    print(f"requests of one no-op converge with autoscale, a link and a volume (4 owned objects: Deployment, Service, "
          f"HPA, claim): {sum(counts.values())}, writes: {writes}")
    for key, n in sorted(counts.items()):
        print(f"  {n:3d}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

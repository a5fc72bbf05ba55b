"""Measure a no-op app task against an empty module task, and count its requests.

    python benchmarks/run.py [--tasks 20] [--rounds 3]

Runs against the demo cluster (make demo starts it). Both plays run in each
round, in the same process environment, so the ratio is like for like. The
requests each no-op converge makes are counted from the apiserver's audit log.
Nothing here is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def play(tags: str, tasks: int, env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(["ansible-playbook", str(ROOT / "benchmarks" / "noop.yml"), "-e", f"bench_tasks={tasks}",
                    "--tags", tags], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


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
    ping, app = [], []
    for _round in range(args.rounds):
        ping.append(play("ping", args.tasks, env) / args.tasks)
        app.append(play("app", args.tasks, env) / args.tasks)
    p, a = statistics.median(ping), statistics.median(app)
    print(f"per task, median of {args.rounds} rounds of {args.tasks} tasks:")
    print(f"  ansible.builtin.ping          {p * 1000:7.0f} ms")
    print(f"  skipper.platform.app (no-op)  {a * 1000:7.0f} ms   (+{(a - p) * 1000:.0f} ms, {a / p:.2f}x ping)")
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    play("app", 1, env)
    counts = count_requests(cdir / "logs" / "audit.log", since)
    writes = sum(n for k, n in counts.items() if k.split()[0] in ("create", "update", "patch", "delete")
                 and "(dry run)" not in k)
    print(f"requests of one no-op converge (3 owned objects): {sum(counts.values())}, writes: {writes}")
    for key, n in sorted(counts.items()):
        print(f"  {n:3d}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

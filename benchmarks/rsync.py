"""Time skipper.platform.app_rsync against full copies: kubectl cp and kubernetes.core.k8s_cp.

    python benchmarks/rsync.py [--cluster NAME] [--files 2000] [--changed 10] [--keep-cluster]

Run it with the bench virtualenv (``tools/venv.sh benchmarks/requirements.txt
PYTHON``: ansible-core, the ``ansible`` package for kubernetes.core and
ansible.posix, and the ``kubernetes`` package) and ANSIBLE_COLLECTIONS_PATH
holding this collection, as ``make bench`` does. Nothing is asserted: it
prints figures. It starts a local cluster (default name ``rsync-bench``,
tests/cluster/cluster.py) and stops it at the end unless --keep-cluster or
the cluster was already up. kubectl is the one benchmarks/formation.py
builds (the cluster's version).

A tree of FILES small files (1-4 KB, in folders of 100) is copied into one
pod of an app; then CHANGED files get new content of the same size (so only
their checksums tell) and each tool brings the copy up to date:

* push: app_rsync (only what differs), kubernetes.core.k8s_cp ``state:
  to_pod`` (the whole tree, as one tar), kubectl cp (the whole tree; on KWOK
  it never ends, as KWOK does not close a command's input: it is given a
  short timeout and reported as such);
* pull: the same CHANGED files changed in the pod, then app_rsync ``mode:
  pull``, ``kubectl cp POD:DIR DIR`` and k8s_cp ``state: from_pod``.

Ansible tasks are timed by the ansible.posix.json callback (the task's own
duration, not the playbook's start-up); kubectl as a process. Bytes are the
archive bytes each tool moves: app_rsync reports its own (listing plus
archive); the full copies move a tar of the whole tree, measured here.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATE = Path(os.environ.get("SKIPPER_CLUSTER_STATE", Path.home() / ".local/state/skipper-platform"))
NAMESPACE = "skipper-bench-rsync"
APP = "files"


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def cluster(command: str, name: str, *extra: str) -> str:
    return subprocess.run([sys.executable, str(ROOT / "tests/cluster/cluster.py"), command, "--name", name, *extra],
                          check=True, capture_output=True, text=True).stdout.strip()


def make_tree(root: Path, files: int, rng: random.Random) -> list[Path]:
    paths = []
    for index in range(files):
        path = root / f"d{index // 100:03d}" / f"f{index:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(1024, 4096)))
        paths.append(path)
    return paths


def tar_size(root: Path) -> int:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.add(root, arcname=root.name)
    return len(out.getvalue())


def playbook(tasks: list[dict[str, Any]], env: dict[str, str]) -> list[tuple[str, float, dict[str, Any]]]:
    """Run the tasks on localhost; (name, seconds, result) per task, from the json callback."""
    auth = {"kubeconfig": env["K8S_AUTH_KUBECONFIG"]}
    play = [{"hosts": "localhost", "gather_facts": False, "module_defaults": {
        "skipper.platform.app": auth, "skipper.platform.app_rsync": auth, "skipper.platform.app_exec": auth,
        "kubernetes.core.k8s_cp": auth}, "tasks": tasks}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        yaml.safe_dump(play, handle)
    run_env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    done = subprocess.run(["ansible-playbook", handle.name], env=run_env, capture_output=True, text=True, check=False)
    os.unlink(handle.name)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"bench: the playbook failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}") from None
    results = []
    for task in report["plays"][0]["tasks"]:
        duration = task["task"]["duration"]
        seconds = (_when(duration["end"]) - _when(duration["start"])).total_seconds()
        result = task["hosts"].get("localhost", {})
        if result.get("failed") and not task["task"]["name"].endswith("(may fail)"):
            raise SystemExit(f"bench: task {task['task']['name']!r} failed: {result.get('msg')}")
        results.append((task["task"]["name"], seconds, result))
    return results


def _when(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def timed(argv: list[str], env: dict[str, str], timeout: float) -> float | None:
    started = time.monotonic()
    try:
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - started


def stop_stuck(folder: str) -> None:
    """End the tar that kubectl cp left waiting in the "pod" (a process of this host under KWOK), by its pid."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0] == b"tar" and folder.encode() in args:
            os.kill(int(proc.name), 15)


def direct_runs(env: dict[str, str], tree: Path, remote: Path, pulled: Path, changed: list[Path],
                rng: random.Random) -> dict[str, float]:
    """The runner called in this process, as the module calls it: push, then pull, of CHANGED new files."""
    sys.path.insert(0, os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(":")[0])
    from ansible_collections.skipper.platform.plugins.module_utils._client import Client
    from ansible_collections.skipper.platform.plugins.module_utils._rsync import run_app_rsync
    from ansible_collections.skipper.platform.plugins.module_utils._service import Service

    svc = Service(Client({"kubeconfig": env["K8S_AUTH_KUBECONFIG"]}, env={}))
    base: dict[str, Any] = {"namespace": NAMESPACE, "name": APP, "pod": None, "all_pods": False,
                            "container": None, "delete": False, "exclude": [], "timeout": None}
    times = {}
    for path in changed:
        path.write_bytes(rng.randbytes(path.stat().st_size))
    started = time.monotonic()
    run_app_rsync(svc, {**base, "mode": "push", "src": str(tree), "dest": str(remote)}, False)
    times["push"] = time.monotonic() - started
    for path in changed:
        target = remote / path.relative_to(tree)
        target.write_bytes(rng.randbytes(target.stat().st_size))
    started = time.monotonic()
    run_app_rsync(svc, {**base, "mode": "pull", "src": str(remote), "dest": str(pulled)}, False)
    times["pull"] = time.monotonic() - started
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cluster", default="rsync-bench")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from formation import build_kubectl  # the same kubectl the formation benchmark builds

    kubectl = str(build_kubectl())
    cdir = STATE / "clusters" / args.cluster
    was_up = (cdir / "kubeconfig.yaml").exists() and subprocess.run(
        [sys.executable, str(ROOT / "tests/cluster/cluster.py"), "status", "--name", args.cluster],
        capture_output=True, check=False).returncode == 0
    config_file = Path(tempfile.mkstemp(suffix=".yml")[1])
    cluster("up", args.cluster, "--integration-config", str(config_file))
    config = yaml.safe_load(config_file.read_text())
    config_file.unlink()
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=config["skipper_test_kubeconfig"],
               KUBECONFIG=config["skipper_test_kubeconfig"])
    # KWOK runs exec on this host, as nobody, in its exec folder: the "pod's" folders live there.
    pod_root = Path(config["skipper_test_exec_dir"]) / "bench-rsync"
    local = Path(tempfile.mkdtemp(prefix="skipper-bench-rsync-"))
    rng = random.Random(8)
    try:
        shutil.rmtree(pod_root, ignore_errors=True)
        for name in ("ours", "k8s_cp", "kubectl"):
            (pod_root / name).mkdir(parents=True)
        for path in [pod_root, *pod_root.iterdir()]:
            path.chmod(0o777)
        tree = local / "tree"
        paths = make_tree(tree, args.files, rng)
        for name in ("pulled", "kubectl-pull", "k8s_cp-pull"):
            (local / name).mkdir()
        rsync = {"namespace": NAMESPACE, "name": APP}
        say(f"deploying the app and making the first copy of {args.files} files")
        app = {"namespace": NAMESPACE, "name": APP, "create_namespace": True, "image": "registry.example.com/files",
               "version": "1", "replicas": 1, "wait_timeout": 60}
        push_args = {**rsync, "src": str(tree), "dest": str(pod_root / "ours")}
        pull_args = {**rsync, "mode": "pull", "src": str(pod_root / "ours"), "dest": str(local / "pulled")}
        first = playbook([
            {"name": "app", "skipper.platform.app": app},
            {"name": "first push", "skipper.platform.app_rsync": push_args},
            {"name": "first pull", "skipper.platform.app_rsync": pull_args},
        ], env)
        full_push = first[1]
        pod = first[1][2]["pod"]
        changed = rng.sample(paths, args.changed)
        for path in changed:
            path.write_bytes(rng.randbytes(path.stat().st_size))
        whole = tar_size(tree)
        say(f"{args.changed} files changed; timing the push")
        push = playbook([
            {"name": "ping", "ansible.builtin.ping": {}},
            {"name": "app_rsync push", "skipper.platform.app_rsync": push_args},
            {"name": "app_rsync push, nothing to do", "skipper.platform.app_rsync": push_args},
            {"name": "k8s_cp to_pod", "kubernetes.core.k8s_cp": {
                "namespace": NAMESPACE, "pod": pod, "state": "to_pod", "local_path": str(tree),
                "remote_path": str(pod_root / "k8s_cp")}},
        ], env)
        kubectl_push = timed([kubectl, "cp", str(tree), f"{NAMESPACE}/{pod}:{pod_root / 'kubectl'}"], env, 20)
        if kubectl_push is None:
            stop_stuck(str(pod_root / "kubectl"))
        # The pull: change the same number of files in the pod (KWOK's pod folder is on this host).
        for path in changed:
            remote = pod_root / "ours" / path.relative_to(tree)
            remote.write_bytes(rng.randbytes(remote.stat().st_size))
        say("timing the pull")
        pull = playbook([
            {"name": "app_rsync pull", "skipper.platform.app_rsync": pull_args},
            {"name": "k8s_cp from_pod (may fail)", "ignore_errors": True, "kubernetes.core.k8s_cp": {
                "namespace": NAMESPACE, "pod": pod, "state": "from_pod", "local_path": str(local / "k8s_cp-pull"),
                "remote_path": str(pod_root / "ours")}},
        ], env)
        kubectl_pull = timed([kubectl, "cp", f"{NAMESPACE}/{pod}:{pod_root / 'ours'}", str(local / "kubectl-pull")],
                             env, 600)
        say("timing app_rsync's own work, without Ansible's task start-up")
        direct = direct_runs(env, tree, pod_root / "ours", local / "pulled", changed, rng)
    finally:
        shutil.rmtree(local, ignore_errors=True)
        shutil.rmtree(pod_root, ignore_errors=True)
        subprocess.run([kubectl, "delete", "namespace", NAMESPACE, "--wait=false"], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not was_up and not args.keep_cluster:
            cluster("down", args.cluster)

    ping, ours_push, noop_push, k8s_push = push
    ours_pull, k8s_pull = pull[0], pull[1]
    moved_push = ours_push[2].get("bytes_sent", 0) + ours_push[2]["listing_bytes"]
    moved_pull = ours_pull[2].get("bytes_received", 0) + ours_pull[2]["listing_bytes"]
    print(f"rsync of a tree of {args.files} files ({whole / 1e6:.1f} MB as tar), {args.changed} changed "
          "(same sizes, new content), one pod:")
    print(f"  (Ansible task times; an ansible.builtin.ping task takes {ping[1]:.2f} s here)")
    print("  push                                 time       bytes moved")
    print(f"  app_rsync, {args.changed} changed{'':<16}{ours_push[1]:6.2f} s   {moved_push:>10,}"
          f"   (copied {len(ours_push[2]['copied'])})")
    print(f"  app_rsync, nothing to do            {noop_push[1]:6.2f} s   {noop_push[2]['listing_bytes']:>10,}")
    print(f"  app_rsync, first full copy          {full_push[1]:6.2f} s   {full_push[2].get('bytes_sent', 0):>10,}")
    print(f"  kubernetes.core.k8s_cp (full)       {k8s_push[1]:6.2f} s   {whole:>10,}")
    if kubectl_push is None:
        print("  kubectl cp (full)                   no end in 20 s (KWOK never closes the command's input)")
    else:
        print(f"  kubectl cp (full)                   {kubectl_push:6.2f} s   {whole:>10,}")
    print("  pull")
    print(f"  app_rsync, {args.changed} changed{'':<16}{ours_pull[1]:6.2f} s   {moved_pull:>10,}"
          f"   (copied {len(ours_pull[2]['copied'])})")
    if k8s_pull[2].get("failed"):
        print(f"  kubernetes.core.k8s_cp (full)       failed: {str(k8s_pull[2].get('msg'))[:100]}")
    else:
        print(f"  kubernetes.core.k8s_cp (full)       {k8s_pull[1]:6.2f} s   (one exec of cat per file)")
    if kubectl_pull is not None:
        print(f"  kubectl cp (full)                   {kubectl_pull:6.2f} s   {whole:>10,}")
    print(f"  app_rsync's own work (its runner, no Ansible start-up): push {direct['push']:.2f} s, "
          f"pull {direct['pull']:.2f} s")
    print("  ratios (full copy's time / app_rsync's task time):")
    kubectl_ratio = f", kubectl cp {kubectl_push / ours_push[1]:.1f}x" if kubectl_push else ""
    print(f"    push: k8s_cp {k8s_push[1] / ours_push[1]:.1f}x, app_rsync's own full copy "
          f"{full_push[1] / ours_push[1]:.1f}x" + kubectl_ratio)
    print("    pull: " + ("" if k8s_pull[2].get("failed") else f"k8s_cp {k8s_pull[1] / ours_pull[1]:.1f}x, ")
          + (f"kubectl cp {kubectl_pull / ours_pull[1]:.1f}x" if kubectl_pull else ""))
    print(f"    without Ansible's start-up: push, k8s_cp {k8s_push[1] / direct['push']:.1f}x; pull"
          + (f", kubectl cp {kubectl_pull / direct['pull']:.1f}x" if kubectl_pull else ""))
    print(f"    bytes: {whole / max(moved_push, 1):.0f}x fewer than a full copy (push), "
          f"{whole / max(moved_pull, 1):.0f}x (pull)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

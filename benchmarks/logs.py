"""Time reading an app's logs with app_log against kubectl logs of the same pods, with peak memory.

    python benchmarks/logs.py [--lines 100000] [--pods 3] [--rounds 3] [--cluster bench-logs] [--keep-cluster]

Run it with the core virtualenv (``tools/venv.sh requirements/core-2.21.txt
PYTHON``). Nothing is asserted: it prints figures. It starts (or reuses) a
local cluster (tests/cluster/cluster.py, default name ``bench-logs``),
deploys one app of ``--pods`` pods, and gives every pod a log file of its own
(a kwok ``Logs`` object) so that the pods together hold ``--lines`` lines of
about 110 bytes, interleaved in time. Then, each in a process of its own so
that its peak resident memory (``ru_maxrss`` from ``wait4``) is its own:

* ``function``: the module's Python function (``_logs.read_logs``) called
  directly, every line returned as ``lines`` and ``stdout_lines``;
* ``function, text only``: the same with ``output: stdout``;
* ``ansible``: one ``skipper.platform.app_log`` task (``output: stdout``) in
  ``ansible-playbook`` (memory: the playbook and the module it runs);
* ``kubectl``: ``kubectl logs -l <the app's selector> --timestamps --prefix
  --tail=-1`` into /dev/null (kubectl prints each pod's stream as it comes;
  it does not merge them in time order), built once by
  benchmarks/formation.py's helper into ~/.cache/skipper-platform/bench.

Medians over ``--rounds`` rounds, and the ratio of each to kubectl.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "logbench"
NAMESPACE = "skipper-bench-logs"


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def kubectl_binary() -> Path:
    """The kubectl benchmarks/formation.py builds (once, cached)."""
    spec = importlib.util.spec_from_file_location("bench_formation", ROOT / "benchmarks" / "formation.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module.build_kubectl()  # type: ignore[no-any-return]


def collections_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="skipper-bench-logs-"))
    (root / "ansible_collections" / "skipper").mkdir(parents=True)
    (root / "ansible_collections" / "skipper" / "platform").symlink_to(ROOT)
    return root


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MiB (the process and the children it waited for), and its stdout."""
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:3])} ... failed ({proc.returncode}): {err[-2000:]}{text[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024, text


FUNCTION = """
import json, sys
sys.path.insert(0, {root!r})
from ansible_collections.skipper.platform.plugins.module_utils._client import Client
from ansible_collections.skipper.platform.plugins.module_utils._service import Service
from ansible_collections.skipper.platform.plugins.module_utils._logs import read_logs
svc = Service(Client({{"kubeconfig": {kubeconfig!r}}}))
result = read_logs(svc, {{"name": {app!r}, "namespace": {namespace!r}, "max_lines": 10**7, "max_bytes": 10**10,
                         "output": {output!r}}})
print(json.dumps({{"lines": result["line_count"], "truncated": result["truncated"]}}))
"""

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - skipper.platform.app_log:
        kubeconfig: {kubeconfig}
        name: {app}
        namespace: {namespace}
        max_lines: 10000000
        max_bytes: 10000000000
        output: stdout
      register: out
    - ansible.builtin.debug:
        msg: "lines={{{{ out.line_count }}}} truncated={{{{ out.truncated }}}}"
"""


def prepare(kubeconfig: Path, logs_dir: Path, lines: int, pods: int) -> list[str]:
    sys.path.insert(0, str(collections_root()))
    from ansible_collections.skipper.platform.plugins.module_utils import _app, _logs
    from ansible_collections.skipper.platform.plugins.module_utils._client import Client
    from ansible_collections.skipper.platform.plugins.module_utils._service import Service

    client = Client({"kubeconfig": str(kubeconfig)})
    svc = Service(client)
    result = _app.run(svc, {"name": APP, "namespace": NAMESPACE, "image": "registry.example.com/bench", "version": "1.0.0",
                            "replicas": pods, "create_namespace": True, "wait_timeout": 120}, False)
    if result["app"]["rollout"]["status"] != "succeeded":
        raise SystemExit(f"bench: the app did not roll out: {result['app']['rollout']}")
    names = sorted(p["metadata"]["name"] for p in _logs.app_pods(svc, APP, NAMESPACE))[:pods]
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    per_pod = -(-lines // pods)
    for index, name in enumerate(names):
        path = logs_dir / f"{name}.log"
        with path.open("w") as out:
            for i in range(per_pod):
                if i * pods + index >= lines:
                    break
                moment = start + datetime.timedelta(microseconds=(i * pods + index) * 1000)
                out.write(f"{moment:%Y-%m-%dT%H:%M:%S.%f}000Z stdout F 10.0.0.{index} - - GET /shop/items/{i} "
                          f"HTTP/1.1 200 {1000 + i % 9000} \"-\" \"bench-agent/1.0\" rt=0.{i % 1000:03d}\n")
        body = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {"logs": [{"logsFile": str(path), "follow": False}]}}
        path_api = f"/apis/kwok.x-k8s.io/v1alpha1/namespaces/{NAMESPACE}/logs"
        try:
            client.request("POST", path_api, body=body)
        except Exception:  # noqa: BLE001  # there from an earlier run: replace it
            client.request("DELETE", f"{path_api}/{name}")
            client.request("POST", path_api, body=body)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = [len((svc.read_text("Pod", NAMESPACE, n, "log", {"tailLines": 2}) or "").splitlines()) for n in names]
        if all(c == 2 for c in counts):
            text = svc.read_text("Pod", NAMESPACE, names[0], "log", {"tailLines": 1}) or ""
            if "GET /shop/items/" in text:
                break
        time.sleep(1)
    else:
        raise SystemExit("bench: kwok does not serve the pods' own logs (does tests/cluster/cluster.py support Logs?)")
    return names


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100000, help="lines in all, spread over the pods")
    parser.add_argument("--pods", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cluster", default="bench-logs")
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args()
    python = sys.executable
    cluster_py = ROOT / "tests" / "cluster" / "cluster.py"
    config = Path(tempfile.mkdtemp(prefix="skipper-bench-logs-config-")) / "config.yml"
    kubeconfig = Path(subprocess.run([python, str(cluster_py), "up", "--name", args.cluster, "--integration-config",
                                      str(config)], check=True, capture_output=True, text=True).stdout.strip())
    logs_dir = Path(next(line.split(": ", 1)[1].strip().strip('"') for line in config.read_text().splitlines()
                         if line.startswith("skipper_test_logs_dir")))
    kubectl = kubectl_binary()
    try:
        say(f"writing {args.lines} lines over {args.pods} pods")
        prepare(kubeconfig, logs_dir, args.lines, args.pods)
        collections = collections_root()
        work = Path(tempfile.mkdtemp(prefix="skipper-bench-logs-work-"))
        (work / "play.yml").write_text(PLAYBOOK.format(kubeconfig=kubeconfig, app=APP, namespace=NAMESPACE))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", PATH=f"{Path(python).parent}:{os.environ['PATH']}",
                   HOME=str(work))
        env.pop("KUBECONFIG", None)
        selector = f"app.kubernetes.io/name={APP},app.kubernetes.io/instance={APP}"
        peers = {
            "function (lines + stdout_lines)": [python, "-c", FUNCTION.format(
                root=str(collections), kubeconfig=str(kubeconfig), app=APP, namespace=NAMESPACE, output="both")],
            "function (stdout_lines only)": [python, "-c", FUNCTION.format(
                root=str(collections), kubeconfig=str(kubeconfig), app=APP, namespace=NAMESPACE, output="stdout")],
            "ansible-playbook, one app_log task": [str(Path(python).parent / "ansible-playbook"), "-i", "localhost,",
                                                   "-c", "local", "-e", f"ansible_python_interpreter={python}",
                                                   str(work / "play.yml")],
            "kubectl logs -l ... --timestamps --prefix": [str(kubectl), "--kubeconfig", str(kubeconfig), "logs",
                                                          "-n", NAMESPACE, "-l", selector, "--timestamps", "--prefix",
                                                          "--tail=-1", f"--max-log-requests={args.pods}"],
        }
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in peers}
        checks: dict[str, str] = {}
        for name, argv in peers.items():  # warm up, and check that each reads every line
            _elapsed, _rss, out = measure(argv, env)
            checks[name] = (str(len(out.splitlines())) + " lines printed" if name.startswith("kubectl")
                            else out.strip().splitlines()[-1][-120:])
        for round_no in range(args.rounds):
            for name, argv in peers.items():
                elapsed, rss, _out = measure(argv, env)
                results[name].append((elapsed, rss))
            say(f"round {round_no + 1} of {args.rounds} done")
        base_time = statistics.median(t for t, _rss in results["kubectl logs -l ... --timestamps --prefix"])
        base_rss = statistics.median(r for _t, r in results["kubectl logs -l ... --timestamps --prefix"])
        print(f"\nlog read of {args.lines} lines from {args.pods} pods, median of {args.rounds} rounds")
        print(f"{'peer':45} {'time s':>8} {'x kubectl':>9} {'peak MiB':>9} {'x kubectl':>9}  check")
        for name, values in results.items():
            med_t = statistics.median(t for t, _rss in values)
            med_r = statistics.median(r for _t, r in values)
            print(f"{name:45} {med_t:8.2f} {med_t / base_time:9.2f} {med_r:9.0f} {med_r / base_rss:9.2f}  {checks[name]}")
        print(json.dumps({name: {"seconds": [round(t, 3) for t, _rss in v], "peak_mib": [r for _t, r in v]}
                          for name, v in results.items()}))
    finally:
        if not args.keep_cluster:
            subprocess.run([python, str(cluster_py), "down", "--name", args.cluster], check=False,
                           capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

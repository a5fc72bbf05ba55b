"""Time one formation converge against kubectl and kubernetes.core applying the same objects.

    python benchmarks/formation.py [--sizes 10,30,100] [--rounds 3] [--noops 3]
                                   [--concurrency N] [--json FILE] [--keep-cluster]

Run it with the bench virtualenv (``tools/venv.sh benchmarks/requirements.txt
PYTHON``: ansible-core, the ``ansible`` package for kubernetes.core, and the
``kubernetes`` package that kubernetes.core needs). Nothing is asserted: it
prints figures. It starts a local cluster of its own, ``bench``
(tests/cluster/cluster.py), and stops it at the end. kubectl is built once
from the Go modules pinned in benchmarks/kubectl (k8s.io/kubernetes/cmd/kubectl,
the cluster's Kubernetes version) into
~/.cache/skipper-platform/bench/kubectl-<version>-<hash>.

For each size (apps of one Deployment with one replica, a Service and one TLS
Ingress), three peers converge the very same objects, built by the
collection's own builders as the formation builds them (its label included)
and applied under the field manager ``skipper.platform``:

* kubectl: ``kubectl apply --server-side -f DIR`` (one file per object);
* kubernetes.core: one ``kubernetes.core.k8s`` task, ``src:`` a file of every
  object, ``apply: true`` with ``server_side_apply``;
* ours: one ``skipper.platform.formation`` task, which also waits for every
  rollout (so kubectl is also timed until its rollouts are done).

Each peer is warmed up once (discovery caches, imports). Then each round gives
each peer a fresh, empty namespace and times its first converge and, once
every rollout is done, its no-op converges. The namespace is deleted, and
waited for, before the next peer starts: one fake node holds 110 pods, so
only one peer's pods fit at a time, and no peer runs beside another's
leftovers. Medians are printed with their spread, with the CPU seconds of the
peer and of kube-apiserver with etcd (steadier than wall time on a shared
machine), and one empty Ansible task for Ansible's own cost. Every no-op is
checked: the audit log gives each peer's requests and writes, and no owned
object's resourceVersion may move. Once per size the formation also runs in
check mode against the kubectl and kubernetes.core namespaces: no change
there shows that the three peers applied the same objects.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import fcntl
import hashlib
import importlib.util
import json
import os
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
KUBECTL_MODULE = HERE / "kubectl"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "skipper-platform"


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- kubectl


def kubectl_version() -> str:
    for line in (KUBECTL_MODULE / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "k8s.io/kubernetes" and parts[1].startswith("v"):
            return parts[1]
    raise SystemExit(f"bench: no k8s.io/kubernetes requirement in {KUBECTL_MODULE / 'go.mod'}")


def kubectl_build_flags(version: str) -> list[str]:
    minor = version.split(".")[1]
    ldflags = "-s -w"
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        ldflags += (f" -X {pkg}.gitVersion={version} -X {pkg}.gitMajor=1 -X {pkg}.gitMinor={minor}"
                    f" -X {pkg}.gitTreeState=clean")
    return ["-trimpath", "-tags", "selinux,notest,grpcnotrace", "-ldflags", ldflags]


def build_kubectl() -> Path:
    """kubectl from benchmarks/kubectl's go.mod, built once into a cache keyed by everything that shapes it."""
    version = kubectl_version()
    go = shutil.which("go")
    if go is None:
        raise SystemExit("bench: `go` is not on PATH; it builds kubectl (Go >= 1.26)")
    go_version = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
    digest = hashlib.sha256()
    for path in sorted(KUBECTL_MODULE.rglob("go.*")):
        digest.update(path.relative_to(KUBECTL_MODULE).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(go_version.encode() + json.dumps(kubectl_build_flags(version)).encode() + b"CGO_ENABLED=0")
    dest = CACHE / "bench" / f"kubectl-{version}-{digest.hexdigest()[:16]}"
    binary = dest / "kubectl"
    if binary.exists():
        return binary
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / ".kubectl.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("another run is building kubectl; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            compile_kubectl(go, version, dest)
    return binary


def compile_kubectl(go: str, version: str, dest: Path) -> None:
    """Build into a temporary folder, then rename it into place: an entry is there whole or not at all."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    say(f"no cached kubectl {version}: building it once from the Go module proxy into {dest}")
    say("(about a minute on 2 cores after tests/cluster/build.sh, whose modules and Go build cache it shares; "
        "several minutes from cold; a line every 30 s)")
    started = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(30):
            say(f"still building kubectl ({time.monotonic() - started:.0f} s so far)")

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    try:
        for what, argv in (("downloading Go modules", [go, "mod", "download"]),
                           ("compiling k8s.io/kubernetes/cmd/kubectl",
                            [go, "build", *kubectl_build_flags(version), "-o", str(tmp / "kubectl"),
                             "k8s.io/kubernetes/cmd/kubectl"])):
            t0 = time.monotonic()
            say(f"{what} ...")
            if subprocess.run(argv, cwd=KUBECTL_MODULE, env=env, check=False).returncode != 0:
                raise SystemExit(f"bench: {what} failed (see above)")
            say(f"{what} done in {time.monotonic() - t0:.0f} s")
        answer = subprocess.run([str(tmp / "kubectl"), "version", "--client"], capture_output=True, text=True,
                                check=False)
        if answer.returncode != 0 or version not in answer.stdout:
            raise SystemExit(f"bench: the kubectl just built does not say {version}: {answer.stdout}{answer.stderr}")
        tmp.chmod(0o755)  # mkdtemp made it private
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        done.set()
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"kubectl {version} built in {time.monotonic() - started:.0f} s")


# ---------------------------------------------------------------- the cluster


class Cluster:
    """The bench cluster as the harness sees it: a small admin client and the audit log.

    The harness's own requests carry a User-Agent of their own, so that the
    audit log tells them from the peers'.
    """

    USER_AGENT = "skipper-bench-harness"

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.dir = kubeconfig.parent
        self.server = json.loads((self.dir / "state.json").read_text())["server"]
        pki = self.dir / "pki"
        self.ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self.audit_log = self.dir / "logs" / "audit.log"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The answer as JSON, or None for 404."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={"Accept": "application/json", "Content-Type": "application/json",
                                              "User-Agent": self.USER_AGENT})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SystemExit(f"bench: {method} {path}: {exc.code} {exc.read()[:500]!r}") from None

    def server_cpu(self) -> float:
        """CPU seconds kube-apiserver and etcd have used so far."""
        total = 0.0
        for component in ("kube-apiserver", "etcd"):
            pid = (self.dir / "pids" / f"{component}.pid").read_text().strip()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        return total

    def create_namespace(self, name: str) -> None:
        self.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": name}})

    def delete_namespace(self, name: str, timeout: float = 600) -> float:
        """Delete the namespace and wait until it, and so every pod in it, is gone."""
        started = time.monotonic()
        self.request("DELETE", f"/api/v1/namespaces/{name}")
        while self.request("GET", f"/api/v1/namespaces/{name}") is not None:
            if time.monotonic() - started > timeout:
                raise SystemExit(f"bench: namespace {name} still there after {timeout:.0f} s")
            time.sleep(0.5)
        return time.monotonic() - started

    def items(self, path: str) -> list[dict[str, Any]]:
        return list((self.request("GET", path) or {}).get("items") or [])

    def versions(self, namespace: str) -> dict[str, str]:
        """Every owned object's resourceVersion, by kind and name."""
        found = {}
        for kind, path in OWNED_PATHS.items():
            for obj in self.items(path.format(ns=namespace)):
                found[f"{kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
        return found

    def rolled_out(self, namespace: str, apps: int) -> bool:
        deployments = self.items(OWNED_PATHS["Deployment"].format(ns=namespace))
        return len(deployments) == apps and all(rollout_done(d) for d in deployments)

    def settle(self, namespace: str, apps: int, timeout: float = 600) -> float:
        """Wait until every rollout is done and no owned object moves for a second; the seconds it took."""
        started = time.monotonic()
        while not self.rolled_out(namespace, apps):
            if time.monotonic() - started > timeout:
                raise SystemExit(f"bench: the rollouts in {namespace} are not done after {timeout:.0f} s")
            time.sleep(0.25)
        done = time.monotonic() - started
        before = self.versions(namespace)
        while True:
            time.sleep(1)
            now = self.versions(namespace)
            if now == before:
                return done
            before = now

    # ---- the audit log (Metadata level, written before each answer completes)

    def audit_mark(self) -> tuple[int, int]:
        st = self.audit_log.stat()
        return st.st_ino, st.st_size

    def audit_since(self, mark: tuple[int, int]) -> list[dict[str, Any]]:
        """The events written since ``mark``, also across a rotation of the log."""
        inode, offset = mark
        chunks = []
        if self.audit_log.stat().st_ino != inode:
            for rotated in self.audit_log.parent.glob("audit-*.log"):
                if rotated.stat().st_ino == inode:
                    chunks.append(read_from(rotated, offset))
            offset = 0
        chunks.append(read_from(self.audit_log, offset))
        events = [json.loads(line) for chunk in chunks for line in chunk.splitlines() if line.strip()]
        return [e for e in events if e.get("userAgent") != self.USER_AGENT]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OWNED_PATHS = {
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "Service": "/api/v1/namespaces/{ns}/services",
    "Ingress": "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
}
OWNED_RESOURCES = {"deployments", "services", "ingresses"}
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


def read_from(path: Path, offset: int) -> str:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", errors="replace")


def rollout_done(deployment: dict[str, Any]) -> bool:
    meta, spec, status = deployment["metadata"], deployment.get("spec") or {}, deployment.get("status") or {}
    want = int(spec.get("replicas", 1))
    return (int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
            and all(int(status.get(k, 0)) == want for k in ("replicas", "updatedReplicas", "availableReplicas")))


def tally(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests by verb and resource; writes are the write verbs that were not dry runs.

    ``span`` is the seconds from the first request to the last, and
    ``owned_writes_at`` when the first and the last write to an owned object
    arrived, counted from the first request.
    """
    by_kind: dict[str, int] = {}
    writes = owned_writes = 0
    times = []
    write_times = []
    for event in events:
        resource = (event.get("objectRef") or {}).get("resource") or event.get("requestURI", "?").split("?")[0]
        dry = "dryRun=All" in event.get("requestURI", "")
        key = f"{event.get('verb')} {resource}" + (" (dry run)" if dry else "")
        by_kind[key] = by_kind.get(key, 0) + 1
        when = audit_time(event.get("requestReceivedTimestamp"))
        times.append(when)
        if event.get("verb") in WRITE_VERBS and not dry:
            writes += 1
            if resource in OWNED_RESOURCES:
                owned_writes += 1
                write_times.append(when)
    start = min(times, default=0.0)
    return {"requests": len(events), "writes": writes, "owned_writes": owned_writes, "by_kind": by_kind,
            "span": max(times, default=0.0) - start,
            "owned_writes_at": [min(write_times) - start, max(write_times) - start] if write_times else None}


def audit_time(stamp: str | None) -> float:
    """An audit timestamp (RFC 3339, microseconds) as seconds since the epoch."""
    if not stamp:
        return 0.0
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------- the objects

FORMATION = "bench"
ENVIRONMENT = "bench"
DOMAIN = "example.com"
# Every app of the formation: one replica, a Service and one TLS Ingress (its
# host is the formation's default: <app>.bench.example.com).
DEFAULTS = {
    "image": "registry.example.com/bench/app",
    "version": "1.0.0",
    "replicas": 1,
    "env": {"LOG_LEVEL": "info", "MODE": "bench"},
    "resources": {"cpu": {"request": "10m"}, "memory": {"request": "16Mi", "limit": "32Mi"}},
    "probes": {"readiness": {"path": "/healthz"}},
    "routes": [{"tls": True}],
}
PEERS = ("kubectl", "k8s", "ours")
CONCURRENCY: int | None = None  # the formation's concurrency option; None leaves the module's default
TITLES = {"kubectl": "kubectl apply --server-side", "k8s": "kubernetes.core.k8s (one task)",
          "ours": "skipper.platform.formation"}


def collections_root() -> Path:
    """A collections folder whose skipper.platform is this checkout (the Makefile's, made if missing)."""
    for entry in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(":"):
        link = Path(entry) / "ansible_collections" / "skipper" / "platform" if entry else None
        if link is not None and link.exists() and link.resolve() == ROOT:
            return Path(entry)
    root = CACHE / "collections"
    link = root / "ansible_collections" / "skipper" / "platform"
    if not (link.exists() and link.resolve() == ROOT):
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(ROOT)
    return root


def formation_params(namespace: str, size: int) -> dict[str, Any]:
    """The formation module's parameters, exactly as the playbook passes them."""
    return {"name": FORMATION, "namespace": namespace, "environment": ENVIRONMENT, "domain": DOMAIN,
            "defaults": DEFAULTS, "apps": {f"app-{i:03d}": {} for i in range(size)},
            "tls_issuer": "letsencrypt", "force": False}


def render(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the formation owns, built as the formation builds them (merge, normalize, label, build)."""
    from ansible_collections.skipper.platform.plugins.module_utils import _formation, _resource, _spec

    manifests = []
    for name, declared in sorted(params["apps"].items()):
        spec = _spec.normalize_app(_formation.app_params(params, name, declared))
        spec["formation"] = params["name"]
        manifests += _resource.app_manifests(spec, params["namespace"])
    return manifests


def write_inputs(work: Path, peer: str, namespace: str, size: int) -> Path:
    """The peer's input for one namespace: a folder of manifests, or an Ansible vars file."""
    params = formation_params(namespace, size)
    folder = work / peer / namespace
    if folder.exists():
        return folder
    folder.mkdir(parents=True)
    manifests = render(params)
    if peer == "kubectl":
        for index, manifest in enumerate(manifests):
            name = f"{index:04d}-{manifest['kind'].lower()}-{manifest['metadata']['name']}.json"
            (folder / name).write_text(json.dumps(manifest, indent=1) + "\n")
    else:
        src = folder / "objects.yml"
        src.write_text("".join("---\n" + json.dumps(m) + "\n" for m in manifests))  # JSON documents are YAML
        variables: dict[str, Any] = {"bench_src": str(src), "bench_formation": params}
        if CONCURRENCY:
            variables["bench_concurrency"] = CONCURRENCY
        (folder / "vars.json").write_text(json.dumps(variables))
    return folder


# ---------------------------------------------------------------- the peers


@dataclasses.dataclass
class Run:
    seconds: float
    client_cpu: float  # the peer's process and everything it started (Ansible's workers, the module)
    server_cpu: float  # kube-apiserver and etcd
    output: str


class Runner:
    def __init__(self, cluster: Cluster, kubectl: Path, collections: Path, work: Path) -> None:
        self.cluster = cluster
        self.kubectl = kubectl
        self.work = work
        bindir = Path(sys.executable).parent
        self.playbook = str(bindir / "ansible-playbook") if (bindir / "ansible-playbook").exists() \
            else shutil.which("ansible-playbook") or "ansible-playbook"
        env = {k: v for k, v in os.environ.items() if not k.startswith("K8S_AUTH_") and k != "KUBECONFIG"}
        self.env = dict(env, K8S_AUTH_KUBECONFIG=str(cluster.kubeconfig), ANSIBLE_COLLECTIONS_PATH=str(collections),
                        ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                        ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false")
        # kubectl's discovery cache, as a user's kubectl keeps one (warmed before anything is timed).
        self.kubectl_cache = work / "kubectl-cache"

    def command(self, peer: str, folder: Path, tags: str | None = None) -> list[str]:
        if peer == "kubectl":
            return [str(self.kubectl), "--kubeconfig", str(self.cluster.kubeconfig), "--cache-dir",
                    str(self.kubectl_cache), "apply", "--server-side", "--field-manager=skipper.platform",
                    "-f", str(folder)]
        argv = [self.playbook, str(HERE / "formation.yml"), "--tags", tags or peer]
        return argv if peer == "ping" else [*argv, "-e", f"@{folder / 'vars.json'}"]

    def run(self, peer: str, folder: Path, tags: str | None = None) -> Run:
        """Run one converge; its wall time, and the CPU seconds it and the API server (with etcd) spent."""
        argv = self.command(peer, folder, tags)
        server = self.cluster.server_cpu()
        client = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False, timeout=1800)
        took = time.monotonic() - started
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-6000:])
            raise SystemExit(f"bench: {' '.join(argv[:6])} ... failed (exit {proc.returncode})")
        return Run(took, used.ru_utime + used.ru_stime - client.ru_utime - client.ru_stime,
                   self.cluster.server_cpu() - server, proc.stdout)

    def has_kubernetes_core(self) -> bool:
        found = subprocess.run([str(Path(self.playbook).with_name("ansible-doc")), "-t", "module",
                                "kubernetes.core.k8s"], env=self.env, capture_output=True, check=False)
        return found.returncode == 0


def recap_changed(output: str) -> int | None:
    """``changed=N`` of the play recap (None for kubectl, which has none)."""
    for line in output.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    return None


# ---------------------------------------------------------------- measuring


def code_under_test() -> tuple[str, str]:
    """The commit measured, with a word on uncommitted changes, and a digest of plugins/ as it is now."""
    def git(*argv: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *argv], capture_output=True, text=True, check=False).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    if git("status", "--porcelain", "--", "plugins").strip():
        commit += " with uncommitted changes in plugins/"
    digest = hashlib.sha256()
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return commit, digest.hexdigest()


def measure_peer(runner: Runner, peer: str, size: int, noops: int, verify: bool) -> dict[str, Any]:
    """One round of one peer in a fresh namespace: first converge, settle, no-ops; then the namespace goes."""
    cluster = runner.cluster
    namespace = f"bench-{peer}-{size}"
    folder = write_inputs(runner.work, peer, namespace, size)
    cluster.create_namespace(namespace)
    sample: dict[str, Any] = {"noop": [], "audit": [], "moved": [], "changed": []}
    mark = cluster.audit_mark()
    first = runner.run(peer, folder)
    sample.update(first=first.seconds, first_client_cpu=first.client_cpu, first_server_cpu=first.server_cpu,
                  first_audit=tally(cluster.audit_since(mark)), first_changed=recap_changed(first.output))
    # kubectl and kubernetes.core return before the pods are up; ours waits for every rollout.
    sample["rolled_out"] = first.seconds + cluster.settle(namespace, size)
    for key in ("noop_client_cpu", "noop_server_cpu"):
        sample[key] = []
    for _round in range(noops):
        before = cluster.versions(namespace)
        mark = cluster.audit_mark()
        noop = runner.run(peer, folder)
        sample["audit"].append(tally(cluster.audit_since(mark)))
        after = cluster.versions(namespace)
        sample["noop"].append(noop.seconds)
        sample["noop_client_cpu"].append(noop.client_cpu)
        sample["noop_server_cpu"].append(noop.server_cpu)
        sample["moved"].append(sum(1 for key in set(before) | set(after) if before.get(key) != after.get(key)))
        sample["changed"].append(recap_changed(noop.output))
    if verify:
        # The formation, in check mode against this peer's objects: no change means the objects are the same.
        output = runner.run("ours", write_inputs(runner.work, "ours", namespace, size), tags="verify").output
        sample["verified"] = "bench-verify: same objects" in output
    sample["cleanup"] = cluster.delete_namespace(namespace)
    return sample


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    mid = statistics.median(values)
    return f"{min(values):.2f}-{max(values):.2f} (±{(max(values) - min(values)) / 2 / mid * 100:.0f}%)"


def report(results: dict[int, dict[str, list[dict[str, Any]]]], rounds: int, noops: int) -> None:
    def col(size: int, peer: str, key: str) -> list[float]:
        samples = results[size][peer]
        return [v for s in samples for v in (s[key] if isinstance(s[key], list) else [s[key]])]

    out = []
    out.append(f"Seconds, median of {rounds} first converges and {rounds * noops} no-ops per cell; each peer in a "
               "fresh namespace of its own, one peer at a time.")
    out.append("")
    head = (f"{'apps':>4} {'objects':>7} | {'first converge':^32} | {'no-op':^23} | {'ours/kubectl':^13} | "
            f"{'ours/k8s':^13} | ours no-op")
    out.append(head)
    out.append(f"{'':>4} {'':>7} | {'kubectl':>7} {'(+pods)':>7} {'k8s':>7} {'ours':>7} | {'kubectl':>7} {'k8s':>7} "
               f"{'ours':>7} | {'first':>6} {'no-op':>6} | {'first':>6} {'no-op':>6} | req/object")
    out.append("-" * len(head))
    for size in sorted(results):
        objects = len(render(formation_params("x", size)))
        m = {p: {k: statistics.median(col(size, p, k)) for k in ("first", "rolled_out", "noop")} for p in PEERS}
        audits = [a for s in results[size]["ours"] for a in s["audit"]]
        per_object = statistics.median(a["requests"] for a in audits) / objects
        out.append(
            f"{size:>4} {objects:>7} | {m['kubectl']['first']:>7.2f} {m['kubectl']['rolled_out']:>7.2f} "
            f"{m['k8s']['first']:>7.2f} {m['ours']['first']:>7.2f} | {m['kubectl']['noop']:>7.2f} "
            f"{m['k8s']['noop']:>7.2f} {m['ours']['noop']:>7.2f} | "
            f"{m['ours']['first'] / m['kubectl']['first']:>6.2f} {m['ours']['noop'] / m['kubectl']['noop']:>6.2f} | "
            f"{m['ours']['first'] / m['k8s']['first']:>6.2f} {m['ours']['noop'] / m['k8s']['noop']:>6.2f} | "
            f"{per_object:.2f}")
    out.append("")
    out.append("(+pods): kubectl's apply plus the wait, after it, until every rollout is done; ours waits "
               "for the rollouts within its converge.")
    floor = [t for size in results for s in results[size]["ping"] for t in s["noop"]]
    floor_cpu = [t for size in results for s in results[size]["ping"] for t in s["noop_client_cpu"]]
    if floor:
        out.append(f"Ansible's own cost, ansible-playbook with one ansible.builtin.ping task: {fmt(floor)} s "
                   f"(median of {len(floor)}, {spread(floor)}), {fmt(floor_cpu)} CPU s.")
    out.append("")
    out.append("CPU seconds, median, as client/server: the peer's process with everything it started / "
               "kube-apiserver with etcd.")
    out.append("(Steadier than wall time on a shared machine.)")
    out.append(f"{'apps':>4} | {'first converge':^38} | {'no-op':^38}")
    out.append(f"{'':>4} | {'kubectl':>12} {'k8s':>12} {'ours':>12} | {'kubectl':>12} {'k8s':>12} {'ours':>12}")
    for size in sorted(results):
        cells = [f"{fmt(col(size, peer, f'{what}_client_cpu'))}/{fmt(col(size, peer, f'{what}_server_cpu'))}"
                 for what in ("first", "noop") for peer in PEERS]
        out.append(f"{size:>4} | {cells[0]:>12} {cells[1]:>12} {cells[2]:>12} | {cells[3]:>12} {cells[4]:>12} "
                   f"{cells[5]:>12}")
    out.append("")
    out.append("Spread (min-max, and half of it against the median):")
    for size in sorted(results):
        for peer in PEERS:
            out.append(f"  {size:>3} apps  {TITLES[peer]:<32} first {spread(col(size, peer, 'first')):<24} "
                       f"no-op {spread(col(size, peer, 'noop'))}")
    out.append("")
    out.append("No-op checks (every no-op of every round): requests and writes from the audit log, owned objects "
               "whose resourceVersion moved, changed= of the play recap:")
    for size in sorted(results):
        objects = len(render(formation_params("x", size)))
        for peer in PEERS:
            samples = results[size][peer]
            audits = [a for s in samples for a in s["audit"]]
            reqs = sorted({a["requests"] for a in audits})
            writes = sorted({a["writes"] for a in audits})
            owned = sorted({a["owned_writes"] for a in audits})
            moved = sorted({m for s in samples for m in s["moved"]})
            changed = sorted({c for s in samples for c in s["changed"] if c is not None})
            verified = [s.get("verified") for s in samples if "verified" in s]
            line = (f"  {size:>3} apps  {TITLES[peer]:<32} requests {'/'.join(map(str, reqs))} "
                    f"({reqs[-1] / objects:.2f}/object), write requests {'/'.join(map(str, writes))} "
                    f"(to owned objects {'/'.join(map(str, owned))}), objects moved {'/'.join(map(str, moved))}")
            if changed:
                line += f", changed={'/'.join(map(str, changed))}"
            if verified:
                line += ", formation check mode on its objects: " + (
                    "no change (same objects)" if all(verified) else "WOULD CHANGE")
            out.append(line)
    out.append("")
    out.append("When the writes of each first converge arrived, from its first request (audit log, last round):")
    for size in sorted(results):
        parts = []
        for peer in PEERS:
            counted = results[size][peer][-1]["first_audit"]
            at = counted.get("owned_writes_at") or [0.0, 0.0]
            parts.append(f"{peer} {at[0]:.1f}-{at[1]:.1f} s of {counted['span']:.1f} s")
        out.append(f"  {size:>3} apps: " + "; ".join(parts))
    out.append("")
    biggest = max(results)
    for what, pick in (("first", lambda s: s["first_audit"]), ("no-op", lambda s: s["audit"][-1])):
        out.append(f"Requests of one {what} converge at {biggest} apps ({len(render(formation_params('x', biggest)))} "
                   "objects), from the audit log:")
        for peer in PEERS:
            counted = pick(results[biggest][peer][-1])
            out.append(f"  {TITLES[peer]:<32} {counted['requests']:5d}: " + ", ".join(
                f"{n} {key}" for key, n in sorted(counted["by_kind"].items(), key=lambda kv: (-kv[1], kv[0]))))
    sizes = sorted(results)
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        out.append("")
        out.append(f"Growth from {lo} to {hi} apps (x{hi / lo:.3g} objects; linear would be x{hi / lo:.3g}), and the "
                   "cost of each further app:")
        for peer in PEERS:
            parts = []
            for key, what in (("first", "first"), ("noop", "no-op")):
                a, b = statistics.median(col(lo, peer, key)), statistics.median(col(hi, peer, key))
                parts.append(f"{what} x{b / a:.1f} ({(b - a) / (hi - lo) * 1000:.0f} ms/app)")
            out.append(f"  {TITLES[peer]:<32} " + ", ".join(parts))
    out.append("")
    out.append("Targets (reported, not asserted):")
    for size in sizes:
        m = {p: {k: statistics.median(col(size, p, k)) for k in ("first", "noop")} for p in PEERS}
        checks = [("no-op within 1.5x of kubectl", m["ours"]["noop"] <= 1.5 * m["kubectl"]["noop"]),
                  ("first converge within 3x of kubectl", m["ours"]["first"] <= 3 * m["kubectl"]["first"])]
        rolled = statistics.median(col(size, "kubectl", "rolled_out"))
        if size >= 30:
            checks.append(("no-op faster than kubernetes.core", m["ours"]["noop"] < m["k8s"]["noop"]))
        out.append(f"  {size:>3} apps: " + "; ".join(f"{what}: {'met' if ok else 'MISSED'}" for what, ok in checks)
                   + f" (first converge against kubectl's with its rollouts done: x{m['ours']['first'] / rolled:.2f})")
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for key, what in (("first", "first converge"), ("noop", "no-op")):
            a, b = statistics.median(col(lo, "ours", key)), statistics.median(col(hi, "ours", key))
            out.append(f"  growth {lo}->{hi} apps, {what}: x{b / a:.1f}, {'met' if b / a <= hi / lo else 'MISSED'} "
                       f"(no worse than linear: x{hi / lo:.3g})")
    print("\n".join(out), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,30,100", help="numbers of apps, comma-separated (default 10,30,100)")
    parser.add_argument("--rounds", type=int, default=3, help="first converges per peer and size (default 3)")
    parser.add_argument("--noops", type=int, default=3, help="no-op converges after each first one (default 3)")
    parser.add_argument("--cluster", default="bench", help="the local cluster to start and stop (default bench)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running at the end")
    parser.add_argument("--concurrency", type=int, help="the formation's concurrency option (default: the module's)")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    parser.add_argument("--build-kubectl", action="store_true", help="only build (or find) kubectl and print its path")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    global CONCURRENCY  # pylint: disable=global-statement
    CONCURRENCY = args.concurrency
    kubectl = build_kubectl()
    if args.build_kubectl:
        print(kubectl)
        return 0
    if importlib.util.find_spec("kubernetes") is None:
        raise SystemExit("bench: the `kubernetes` package is missing here: run this with the bench virtualenv "
                         "(tools/venv.sh benchmarks/requirements.txt PYTHON)")
    collections = collections_root()
    sys.path.insert(0, str(collections))
    work = Path(tempfile.mkdtemp(prefix="skipper-bench-formation-"))
    cluster_cmd = [sys.executable, str(ROOT / "tests" / "cluster" / "cluster.py")]
    up = cluster_cmd + ["up", "--name", args.cluster]
    pods = max(sizes)
    if pods > 100:
        # One fake node holds 110 pods; only one peer's pods exist at a time.
        usage = subprocess.run(cluster_cmd + ["--help"], capture_output=True, text=True, check=False).stdout
        if "--nodes" not in usage:
            raise SystemExit(f"bench: {pods} pods do not fit on one fake node and cluster.py has no --nodes")
        up += ["--nodes", str(-(-pods // 100))]
    say(f"starting the local cluster '{args.cluster}'")
    started = subprocess.run(up, stdout=subprocess.PIPE, text=True, check=False)
    if started.returncode != 0:
        raise SystemExit("bench: the cluster did not start (see above)")
    commit, digest = code_under_test()
    try:
        cluster = Cluster(Path(started.stdout.strip().splitlines()[-1]))
        runner = Runner(cluster, kubectl, collections, work)
        if not runner.has_kubernetes_core():
            raise SystemExit("bench: kubernetes.core is not installed here: run this with the bench virtualenv")
        say("warming up each peer once (2 apps, not timed): discovery caches, imports")
        for peer in PEERS:
            measure_peer(runner, peer, 2, 1, verify=False)
        results: dict[int, dict[str, list[dict[str, Any]]]] = {}
        for size in sizes:
            results[size] = {p: [] for p in PEERS}
            results[size]["ping"] = []
            for rnd in range(args.rounds):
                # Ansible's own cost: ansible-playbook running one empty module task.
                ping = runner.run("ping", work)
                results[size]["ping"].append({"noop": [ping.seconds], "noop_client_cpu": [ping.client_cpu]})
                # Each round starts with another peer, so that drift on a shared machine spreads evenly.
                order = PEERS[rnd % len(PEERS):] + PEERS[:rnd % len(PEERS)]
                for peer in order:
                    s = measure_peer(runner, peer, size, args.noops, verify=rnd == 0 and peer != "ours")
                    results[size][peer].append(s)
                    say(f"{size:>3} apps, round {rnd + 1}/{args.rounds}, {peer:<7}: first {s['first']:6.2f} s "
                        f"(rolled out {s['rolled_out']:6.2f} s), no-ops {' '.join(f'{t:.2f}' for t in s['noop'])} s, "
                        f"no-op requests {s['audit'][-1]['requests']} (writes {s['audit'][-1]['writes']}), "
                        f"namespace gone in {s['cleanup']:.1f} s")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n")
        print()
        print(f"skipper.platform at {commit}")
        if code_under_test()[1] != digest:
            print("WARNING: plugins/ changed during the run, so the figures mix two versions of the collection")
        report(results, args.rounds, args.noops)
    finally:
        if args.keep_cluster:
            say(f"the cluster keeps running: {' '.join(cluster_cmd[1:])} down --name {args.cluster}")
        else:
            subprocess.run(cluster_cmd + ["down", "--name", args.cluster], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

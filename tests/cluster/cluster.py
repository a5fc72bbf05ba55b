"""Run a real Kubernetes control plane on 127.0.0.1 for the demo and the tests.

    cluster.py up [--name NAME] [--integration-config PATH] [--nodes N]
    cluster.py down [--name NAME]
    cluster.py status [--name NAME]
    cluster.py kubeconfig [--name NAME]

``up`` starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
kwok (the fake kubelet) and metrics-server, installs the CRDs below, creates
one fake node (``--nodes N``: N of them, 110 pods each; nodes are added to a
running cluster that has fewer) and waits until pods can be scheduled and
made Ready and the metrics API is available. A cluster of that name that
is already healthy is reused; anything else of that name is stopped and
created anew. Every process binds 127.0.0.1 and the apiserver advertises
127.0.0.1, so no default route is needed; the fake nodes have no address of
their own.

``down`` stops the processes this script started (found through its own pid
files, each checked against the command line it launched) and removes the
cluster's state.

Pods become Ready through KWOK at once. A pod labelled
``skipper.test/ready-delay: "8s"`` (any Go duration: "500ms", "1m30s", "1h")
becomes Ready only that long after it was scheduled, which makes slow
rollouts and "still progressing" states; until then it is Pending, scheduled,
with no container statuses. A value that is not a duration counts as none.

Pods that fail, on request. A pod labelled ``skipper.test/fail: "<Reason>"``
(any waiting reason: CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
CreateContainerConfigError ...) never becomes Ready: its containers wait with
that reason (and a message saying so), its Ready condition is False. With
CrashLoopBackOff the pod is Running, each container has restartCount 3 and a
last state terminated with exit code 1 (Error); with any other reason it stays
Pending with restartCount 0, as an image that cannot be pulled does. The
label ``skipper.test/restarts: "7"`` sets the restart count (above 0: Running,
with that last state). ``skipper.test/ready-delay`` delays the failure as it
delays readiness. So a Deployment whose pod template carries the label never
finishes its rollout.

Pods that end. Pods owned by a Job succeed at once (exit code 0, Completed),
as kwok's pod-complete stage does. A pod labelled
``skipper.test/exit-code: "3"`` ends with that exit code instead: phase
Failed, each container terminated with exitCode 3 and reason Error (code "0":
Succeeded, reason Completed; a value that is not a number counts as 0), Job
or not. ``skipper.test/run-for: "5s"`` (a Go duration) keeps a pod that is
about to end Running that long first, with or without an exit code. So a
Job's pod template carries ``exit-code`` for a failed run and ``run-for`` for
one that is still running.

Logs. Every container serves one shared line by default (CRI format, from
pod.log in the cluster's folder). A pod gets its own log through a kwok
``Logs`` object (kwok.x-k8s.io/v1alpha1, namespaced) of the pod's name in the
pod's namespace, created through the API like any object::

    apiVersion: kwok.x-k8s.io/v1alpha1
    kind: Logs
    metadata: {name: <pod name>, namespace: <pod namespace>}
    spec:
      logs:
      - containers: [app]            # omit: every container of the pod
        logsFile: /abs/path/app.log  # CRI lines: "<RFC3339Nano> stdout F <text>"
        previousLogsFile: /abs/path/app-previous.log   # served for previous=true
        follow: false                # true: follow=true streams appended lines

kwok (running as this user) reads the files when the log is asked for, so a
test writes them first, anywhere it likes; ``skipper_test_logs_dir`` in the
integration config is a folder made for them (removed by ``down``). kwok sees
a new Logs object within a moment (it watches them); until then the pod
serves the shared line. timestamps=true, sinceTime, tailLines, limitBytes and
follow work as with a kubelet. previous=true is served from previousLogsFile;
a pod without one (every pod without a Logs object) answers it with an error.

Resource usage, metrics-server and autoscaling. kwok reports each container's
CPU and memory use at /metrics/nodes/NODE/metrics/resource: the pod
annotations ``kwok.x-k8s.io/usage-cpu: "200m"`` and
``kwok.x-k8s.io/usage-memory: "64Mi"`` (per container; defaults 1m and 1Mi).
They are read at every scrape, so patching them on a running pod changes its
use from the next scrape on, without a rollout. A kwok ``ResourceUsage``
object of the pod's name (kwok.x-k8s.io/v1alpha1, namespaced; spec.usages:
[{containers: [app], usage: {cpu: {value: 300m}, memory: {value: 1Gi}}}])
overrides the annotations for that pod. metrics-server scrapes kwok every 10
s (its minimum) and serves ``/apis/metrics.k8s.io/v1beta1`` through the
apiserver (APIService v1beta1.metrics.k8s.io, an ExternalName Service
pointing the aggregator at 127.0.0.1). A pod's metrics appear about 10 to 20 s
after it starts (two scrapes). The controller-manager syncs autoscalers every
2 s (instead of 15 s), treats pods as starting for 10 s (instead of 5 min), and
scales down after 5 s of stable lower recommendations (instead of 5 min): an
autoscaling/v2 HPA scales up about 20 to 30 s after its pods start and reacts
to a usage change in about 10 to 20 s. Every pod on the fake nodes reports
use, the failing ones too; pods without the annotations use 1m and 1Mi.

OpenShift Routes. The CRD routes.route.openshift.io (v1, namespaced, with a
status subresource; spec and status keep any field) is installed, so
``kind: Route`` objects can be created, read and deleted.

The apiserver writes an audit log (Metadata level) to logs/audit.log, synchronously
(``--audit-log-mode`` blocking: an event is written before the request's answer is
complete). The controller-manager, the scheduler and kwok each authenticate
as themselves (system:kube-controller-manager, system:kube-scheduler, kwok,
system:metrics-server) and, with system:apiserver, are left out of it; what remains is the
requests of the admin kubeconfig, i.e. the tests' and the demo's.

The binaries, etcd included, come from tests/cluster/build.sh (built once,
cached outside the repository).
State lives in $SKIPPER_CLUSTER_STATE (default ~/.local/state/skipper-platform)
under clusters/NAME.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "metrics-server")
NODE_PREFIX = "kwok-node-"
# Each fake node's size (110 pods, as a kubelet's default). Tests that need an
# unschedulable pod ask for more CPU than one node has.
NODE_CAPACITY = {"cpu": "32", "memory": "64Gi", "pods": "110"}
SERVICE_CIDR = "10.0.0.0/24"  # fake addresses that nothing ever connects to
# The user each component authenticates as (its client certificate's CN). The
# audit policy leaves these out, and tests tell the system's requests from
# their own by them.
COMPONENT_USERS = {
    "kube-controller-manager": "system:kube-controller-manager",
    "kube-scheduler": "system:kube-scheduler",
    "kwok": "kwok",
    "metrics-server": "system:metrics-server",
}
# A pod with this label becomes Ready only after the duration it holds (a Go
# duration such as "8s" or "1m30s"); without it, at once. See pod_ready_stage().
READY_DELAY_LABEL = "skipper.test/ready-delay"
# A pod with FAIL_LABEL never becomes Ready: its containers wait with the
# label's value as reason (CrashLoopBackOff, ImagePullBackOff ...), restarted
# RESTARTS_LABEL times (default 3 for CrashLoopBackOff, else 0). See FAIL_STAGE.
FAIL_LABEL = "skipper.test/fail"
RESTARTS_LABEL = "skipper.test/restarts"
# A pod with EXIT_CODE_LABEL ends Failed with that exit code (Succeeded for
# "0"); RUN_FOR_LABEL (a Go duration) keeps a pod that is about to end
# (EXIT_CODE_LABEL, or a Job's) Running that long first. See EXIT_STAGE.
EXIT_CODE_LABEL = "skipper.test/exit-code"
RUN_FOR_LABEL = "skipper.test/run-for"
# Per-container CPU and memory use that kwok reports (metrics-server, HPAs).
USAGE_CPU_ANNOTATION = "kwok.x-k8s.io/usage-cpu"
USAGE_MEMORY_ANNOTATION = "kwok.x-k8s.io/usage-memory"
# kwok kinds that tests create through the API (their CRDs are installed);
# the other kinds come from kwok.yaml.
KWOK_API_KINDS = {"Logs": "logs", "ResourceUsage": "resourceusages"}  # kind: plural
# metrics-server's scrape interval (its minimum) and the controller-manager's
# autoscaler timing: quick enough for a test to watch an HPA scale both ways.
METRIC_RESOLUTION = "10s"
HPA_FLAGS = (
    "--horizontal-pod-autoscaler-sync-period=2s",
    "--horizontal-pod-autoscaler-downscale-stabilization=5s",
    "--horizontal-pod-autoscaler-cpu-initialization-period=10s",
)
METRICS_SERVICE = ("kube-system", "metrics-server")


def log(msg: str) -> None:
    print(f"cluster: {msg}", file=sys.stderr, flush=True)


class ClusterError(Exception):
    pass


# ---------------------------------------------------------------- locations


def state_root() -> Path:
    base = os.environ.get("SKIPPER_CLUSTER_STATE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(xdg) / "skipper-platform"


def cluster_dir(name: str) -> Path:
    return state_root() / "clusters" / name


def build_binaries() -> Path:
    proc = subprocess.run(["bash", str(HERE / "build.sh")], stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise ClusterError("building the cluster binaries failed (see the messages above)")
    return Path(proc.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- certificates


def make_pki(pki: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pki.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=365)

    def write_key(name: str, key: Any) -> None:
        path = pki / f"{name}.key"
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skipper-local-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    write_key("ca", ca_key)
    (pki / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def issue(name: str, common_name: str, org: str | None, server: bool, client: bool,
              dns_names: tuple[str, ...] = ()) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.DNSName("kubernetes"),
                        x509.DNSName("kubernetes.default"),
                        x509.DNSName("kubernetes.default.svc"),
                        x509.DNSName("kubernetes.default.svc.cluster.local"),
                        *(x509.DNSName(n) for n in dns_names),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.IPAddress(ipaddress.IPv4Address(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))),
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        write_key(name, key)
        (pki / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    issue("apiserver", "kube-apiserver", None, server=True, client=False)
    issue("admin", "skipper-admin", "system:masters", server=False, client=True)
    issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters", server=False, client=True)
    # Each component talks to the apiserver as itself, so that the audit log
    # (and anyone reading it) can tell the system's requests from the tests'.
    for component, user in COMPONENT_USERS.items():
        # metrics-server has only the rights its RBAC gives (METRICS_SERVER_RBAC).
        org = None if component == "metrics-server" else "system:masters"
        issue(f"{component}-client", user, org, server=False, client=True)
    issue("kwok", "kwok", None, server=True, client=False)
    # The aggregator's client certificate towards metrics-server (which trusts
    # only this name for the user it forwards), and metrics-server's serving
    # certificate for the name the aggregator checks: its Service's.
    issue("front-proxy-client", "front-proxy-client", None, server=False, client=True)
    namespace, service = METRICS_SERVICE
    issue("metrics-server", "metrics-server", None, server=True, client=False,
          dns_names=(f"{service}.{namespace}.svc",))

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_key("sa", sa_key)
    (pki / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def kubeconfig_text(server: str, pki: Path, name: str, cert: str = "admin") -> str:
    """A kubeconfig for the client certificate ``pki/<cert>.crt`` (the admin's by default)."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    context = f"skipper-{name}"
    user = f"{context}-{cert}"
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority-data": b64(pki / "ca.crt")}}
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(pki / f"{cert}.crt"),
                    "client-key-data": b64(pki / f"{cert}.key"),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        "current-context": context,
    }
    return json.dumps(doc, indent=2) + "\n"  # JSON is YAML, and needs no YAML library here


# ---------------------------------------------------------------- processes


def pid_file(cdir: Path, component: str) -> Path:
    return cdir / "pids" / f"{component}.pid"


def running_pid(cdir: Path, component: str) -> int | None:
    """The pid of the component we started, if that very process still runs."""
    path = pid_file(cdir, component)
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    # Every process we start names this cluster's folder in its arguments:
    # a pid reused by something else since then is never signalled.
    if not any(str(cdir).encode() in part for part in cmdline):
        return None
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return None if state == "Z" else pid


def stop(cdir: Path) -> list[str]:
    stopped = []
    pids = {}
    for component in reversed(COMPONENTS):
        pid = running_pid(cdir, component)
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            pids[component] = pid
    deadline = time.monotonic() + 15
    for component, pid in pids.items():
        while time.monotonic() < deadline and running_pid(cdir, component) == pid:
            time.sleep(0.1)
        if running_pid(cdir, component) == pid:
            os.kill(pid, signal.SIGKILL)
            while running_pid(cdir, component) == pid:
                time.sleep(0.05)
        stopped.append(f"{component} (pid {pid})")
    return stopped


def start(cdir: Path, component: str, argv: list[str]) -> None:
    (cdir / "logs").mkdir(exist_ok=True)
    (cdir / "pids").mkdir(exist_ok=True)
    with open(cdir / "logs" / f"{component}.log", "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cdir,
            start_new_session=True,  # outlives this script; `down` stops it by pid file
        )
    pid_file(cdir, component).write_text(f"{proc.pid}\n")


# ---------------------------------------------------------------- API access


class Api:
    def __init__(self, cdir: Path, port: int) -> None:
        pki = cdir / "pki"
        self.base = f"https://127.0.0.1:{port}"
        self.ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))

    def request(self, method: str, path: str, body: Any = None, timeout: float = 5, yaml_body: str | None = None) -> Any:
        """``body`` is sent as JSON; ``yaml_body`` (one YAML document) as it is."""
        data = yaml_body.encode() if yaml_body is not None else json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/yaml" if yaml_body is not None else "application/json")
        with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as resp:
            raw = resp.read()
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode()

    def ok(self, path: str) -> bool:
        try:
            return self.request("GET", path) == "ok"
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False


def nodes_ready(api: Api, count: int = 1) -> bool:
    """At least ``count`` of our fake nodes exist and are Ready."""
    try:
        nodes = api.request("GET", "/api/v1/nodes?labelSelector=type%3Dkwok").get("items", [])
    except (OSError, urllib.error.URLError):
        return False
    ready = [n for n in nodes if any(c.get("type") == "Ready" and c.get("status") == "True"
                                     for c in n.get("status", {}).get("conditions", []))]
    return len(ready) >= count


def add_nodes(api: Api, count: int, cdir: Path) -> None:
    """Make sure ``count`` fake nodes exist (kwok plays their kubelets); existing ones are kept."""
    existing = {n["metadata"]["name"] for n in
                api.request("GET", "/api/v1/nodes?labelSelector=type%3Dkwok").get("items", [])}
    for index in range(count):
        name = f"{NODE_PREFIX}{index}"
        if name in existing:
            continue
        api.request("POST", "/api/v1/nodes", {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0",
                                # where metrics-server scrapes kwok's usage for this node
                                "metrics.k8s.io/resource-metrics-path": f"/metrics/nodes/{name}/metrics/resource"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                           "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
            },
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
        })
    wait_for(f"{count} node(s) to be Ready", lambda: nodes_ready(api, count), 120, cdir)


def default_sa_exists(api: Api) -> bool:
    try:
        api.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
        return True
    except (OSError, urllib.error.URLError):
        return False


def wait_for(what: str, check: Any, timeout: float, cdir: Path) -> None:
    deadline = time.monotonic() + timeout
    next_note = time.monotonic() + 10
    while not check():
        for component in COMPONENTS:
            if pid_file(cdir, component).exists() and running_pid(cdir, component) is None:
                tail = (cdir / "logs" / f"{component}.log").read_text(errors="replace").splitlines()[-15:]
                raise ClusterError(f"{component} exited while waiting for {what}; its log ends:\n" + "\n".join(tail))
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}; logs are in {cdir / 'logs'}")
        if time.monotonic() > next_note:
            log(f"still waiting for {what} ...")
            next_note = time.monotonic() + 10
        time.sleep(0.2)


# ---------------------------------------------------------------- commands


def load_state(cdir: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((cdir / "state.json").read_text()))
    except (OSError, ValueError):
        return None


def launcher_digest() -> str:
    """Changes to this script change how the cluster is made: such a cluster is not reused."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def healthy(cdir: Path, bin_dir: Path | None = None) -> bool:
    state = load_state(cdir)
    if not state or (bin_dir is not None and state.get("bin_dir") != str(bin_dir)):
        return False
    if state.get("launcher") != launcher_digest():
        return False
    if any(running_pid(cdir, c) is None for c in COMPONENTS):
        return False
    api = Api(cdir, state["apiserver_port"])
    return api.ok("/readyz") and nodes_ready(api)


def cmd_up(name: str, integration_config: str | None, nodes: int = 1) -> int:
    cdir = cluster_dir(name)
    bin_dir = build_binaries()
    if healthy(cdir, bin_dir):
        log(f"reusing the healthy cluster '{name}' in {cdir}")
    else:
        t0 = time.monotonic()
        if cdir.exists():
            stopped = stop(cdir)
            if stopped:
                log(f"stopped the old '{name}' cluster: {', '.join(stopped)}")
            remove_state(cdir)
        cdir.mkdir(parents=True)
        create(cdir, name, bin_dir)
        log(f"cluster '{name}' is up in {time.monotonic() - t0:.1f} s")
    state = load_state(cdir)
    assert state is not None
    if nodes > 1:
        add_nodes(Api(cdir, state["apiserver_port"]), nodes, cdir)
    if integration_config:
        write_integration_config(Path(integration_config), cdir, state)
    print(cdir / "kubeconfig.yaml")
    return 0


def create(cdir: Path, name: str, bin_dir: Path) -> None:
    pki = cdir / "pki"
    make_pki(pki)
    ports = {k: free_port() for k in ("etcd", "etcd_peer", "apiserver", "kcm", "scheduler", "kwok", "metrics")}
    server = f"https://127.0.0.1:{ports['apiserver']}"
    state = {"name": name, "bin_dir": str(bin_dir), "launcher": launcher_digest(), "apiserver_port": ports["apiserver"],
             "server": server, "ports": ports}
    (cdir / "state.json").write_text(json.dumps(state, indent=2) + "\n")
    (cdir / "kubeconfig.yaml").write_text(kubeconfig_text(server, pki, name))
    (cdir / "kubeconfig.yaml").chmod(0o600)
    (cdir / "audit-policy.yaml").write_text(
        # Metadata for every request our tests make: enough to count requests
        # per verb and object. The system's own chatter is left out.
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n"
        f"- level: None\n  users: [system:apiserver, {', '.join(COMPONENT_USERS.values())}]\n"
        "- level: None\n  userGroups: [system:nodes]\n"
        "- level: None\n  nonResourceURLs: ['/healthz*', '/readyz*', '/livez*', '/version']\n"
        "- level: Metadata\n"
    )
    kwok_config = cdir / "kwok.yaml"
    # Exec runs as nobody, who cannot enter root's home: its folder is in /tmp.
    exec_dir = Path(tempfile.mkdtemp(prefix=f"skipper-{name}-exec-"))
    exec_dir.chmod(0o777)
    state["exec_dir"] = str(exec_dir)
    # Where tests write the log files their Logs objects name (kwok reads them).
    logs_dir = Path(tempfile.mkdtemp(prefix=f"skipper-{name}-logs-"))
    state["logs_dir"] = str(logs_dir)
    (cdir / "state.json").write_text(json.dumps(state, indent=2) + "\n")
    pod_log = cdir / "pod.log"
    # Every container's log: CRI format, as the kubelet would serve it.
    pod_log.write_text(
        "2026-01-01T00:00:00.000000000Z stdout F skipper local cluster: this pod runs on a KWOK fake node\n"
    )
    stages = sorted((bin_dir.parent / "stages").glob("*.yaml"))
    kwok_files = bin_dir.parent / "kwok"
    if not stages or not kwok_files.is_dir():
        raise ClusterError(f"no kwok stages or kwok files beside {bin_dir}; rebuild with tests/cluster/build.sh")
    kwok_config.write_text(
        # kwok's default stages (nodes Ready, pods Running/Ready, Job pods
        # Succeeded, deleted pods gone), adjusted for our labels, and our
        # own (failing pods, pods that exit); resource usage from the pods'
        # annotations, served for metrics-server; then exec on this host in a
        # folder of its own, as nobody, and one shared log for every pod.
        "".join(stage_text(path).rstrip("\n") + "\n---\n" for path in stages) +
        FAIL_STAGE + "---\n" + EXIT_STAGE + "---\n" +
        resource_metrics((kwok_files / "metrics-resource.yaml").read_text()).rstrip("\n") + "\n---\n" +
        (kwok_files / "usage-from-annotation.yaml").read_text().rstrip("\n") + "\n---\n" +
        "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterExec\nmetadata: {name: exec-local}\n"
        f"spec:\n  execs:\n  - local:\n      workDir: {exec_dir}\n"
        "      securityContext: {runAsUser: 65534, runAsGroup: 65534}\n"
        "---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata: {name: logs-local}\n"
        f"spec:\n  logs:\n  - logsFile: {pod_log}\n    follow: true\n"
    )
    bins = {c: str(bin_dir / c) for c in COMPONENTS}
    (cdir / "kubeconfigs").mkdir()
    kubeconfigs = {}
    for component in COMPONENT_USERS:
        kubeconfigs[component] = cdir / "kubeconfigs" / f"{component}.yaml"
        kubeconfigs[component].write_text(kubeconfig_text(server, pki, name, f"{component}-client"))
        kubeconfigs[component].chmod(0o600)
    etcd_url = f"http://127.0.0.1:{ports['etcd']}"
    peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
    log("starting etcd")
    start(cdir, "etcd", [
        bins["etcd"], "--name=node0", f"--data-dir={cdir / 'etcd'}",
        f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=node0={peer_url}", "--auto-compaction-retention=1",
        "--quota-backend-bytes=8589934592", "--unsafe-no-fsync",
    ])
    log("starting kube-apiserver")
    start(cdir, "kube-apiserver", [
        bins["kube-apiserver"], f"--etcd-servers={etcd_url}", "--etcd-prefix=/registry",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={ports['apiserver']}",
        f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}", "--authorization-mode=Node,RBAC",
        "--allow-privileged=true", "--profiling=false",
        # The only address is 127.0.0.1, which Endpoints refuse; nothing in the
        # cluster connects to the kubernetes Service anyway.
        "--endpoint-reconciler-type=none",
        # The aggregator (metrics.k8s.io) forwards each request's user in
        # headers, proving itself with this client certificate.
        f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
        f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
        f"--requestheader-client-ca-file={pki / 'ca.crt'}", "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--audit-policy-file={cdir / 'audit-policy.yaml'}", f"--audit-log-path={cdir / 'logs' / 'audit.log'}",
        "--audit-log-maxsize=100", "--audit-log-maxbackup=1",
    ])
    api = Api(cdir, ports["apiserver"])
    wait_for("kube-apiserver /readyz", lambda: api.ok("/readyz"), 120, cdir)
    log("starting kube-controller-manager and kube-scheduler; installing CRDs and metrics-server's objects")
    start(cdir, "kube-controller-manager", [
        bins["kube-controller-manager"], f"--kubeconfig={kubeconfigs['kube-controller-manager']}",
        "--bind-address=127.0.0.1", f"--secure-port={ports['kcm']}", "--leader-elect=false",
        f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
        "--node-monitor-period=25s", "--node-monitor-grace-period=3m20s", "--profiling=false",
        *HPA_FLAGS,
    ])
    start(cdir, "kube-scheduler", [
        bins["kube-scheduler"], f"--kubeconfig={kubeconfigs['kube-scheduler']}",
        "--bind-address=127.0.0.1", f"--secure-port={ports['scheduler']}", "--leader-elect=false",
        "--profiling=false",
    ])
    crds = [api.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", ROUTE_CRD)]
    for plural in KWOK_API_KINDS.values():
        path = kwok_files / f"kwok.x-k8s.io_{plural}.yaml"
        crds.append(api.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                yaml_body=path.read_text()))
    for obj in metrics_server_objects(pki, ports["metrics"]):
        api.request("POST", object_collection(obj), obj)
    names = [crd["metadata"]["name"] for crd in crds]
    wait_for("the CRDs to be established", lambda: crds_established(api, names), 60, cdir)
    log("starting kwok and metrics-server")
    start(cdir, "kwok", [
        bins["kwok"], f"--kubeconfig={kubeconfigs['kwok']}", f"--config={kwok_config}",
        "--manage-all-nodes=true", "--node-name=localhost", "--node-ip=",
        f"--node-port={ports['kwok']}", f"--server-address=127.0.0.1:{ports['kwok']}",
        f"--tls-cert-file={pki / 'kwok.crt'}", f"--tls-private-key-file={pki / 'kwok.key'}",
        "--node-lease-duration-seconds=200", f"--enable-crds={','.join(KWOK_API_KINDS)}",
    ])
    ms_kubeconfig = kubeconfigs["metrics-server"]
    start(cdir, "metrics-server", [
        bins["metrics-server"], f"--kubeconfig={ms_kubeconfig}",
        f"--authentication-kubeconfig={ms_kubeconfig}", f"--authorization-kubeconfig={ms_kubeconfig}",
        "--bind-address=127.0.0.1", f"--secure-port={ports['metrics']}",
        f"--tls-cert-file={pki / 'metrics-server.crt'}", f"--tls-private-key-file={pki / 'metrics-server.key'}",
        # The fake nodes' only address is kwok's Hostname, localhost; kwok's
        # serving certificate is ours.
        "--kubelet-preferred-address-types=Hostname", "--kubelet-use-node-status-port",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        f"--metric-resolution={METRIC_RESOLUTION}", "--kubelet-request-timeout=5s", "--profiling=false",
    ])
    add_nodes(api, 1, cdir)
    wait_for("the default ServiceAccount", lambda: default_sa_exists(api), 120, cdir)
    wait_for("the metrics API", lambda: api_service_available(api, METRICS_API_SERVICE), 60, cdir)


# ---------------------------------------------------------------- objects made at start

METRICS_API_SERVICE = "v1beta1.metrics.k8s.io"

# OpenShift's Route, enough for modules to create, read and delete them: our
# own schema, which keeps any field.
ROUTE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "routes.route.openshift.io"},
    "spec": {
        "group": "route.openshift.io",
        "scope": "Namespaced",
        "names": {"plural": "routes", "singular": "route", "kind": "Route", "listKind": "RouteList"},
        "versions": [{
            "name": "v1",
            "served": True,
            "storage": True,
            "subresources": {"status": {}},
            "additionalPrinterColumns": [
                {"name": "Host", "type": "string", "jsonPath": ".spec.host"},
                {"name": "Path", "type": "string", "jsonPath": ".spec.path"},
                {"name": "Service", "type": "string", "jsonPath": ".spec.to.name"},
            ],
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "description": "An OpenShift Route: a host (and path) exposed to the outside, sent to a Service.",
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                        "properties": {
                            "host": {"type": "string"},
                            "path": {"type": "string"},
                            "to": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                   "properties": {"kind": {"type": "string"}, "name": {"type": "string"},
                                                  "weight": {"type": "integer"}}},
                            "port": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                     "properties": {"targetPort": {"x-kubernetes-int-or-string": True}}},
                            "tls": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    },
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }},
        }],
    },
}


def metrics_server_objects(pki: Path, port: int) -> list[dict[str, Any]]:
    """metrics-server's rights, and the APIService that sends metrics.k8s.io to it on 127.0.0.1:``port``.

    The aggregator resolves an ExternalName Service to ``externalName:port``
    (the APIService's port), so the Service names 127.0.0.1 and no cluster
    address is ever used.
    """
    namespace, service = METRICS_SERVICE
    user = COMPONENT_USERS["metrics-server"]
    subject = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]

    def binding(kind: str, name: str, role_kind: str, role: str, ns: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if ns:
            meta["namespace"] = ns
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "subjects": subject,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}}

    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "skipper:metrics-server"},
         "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}]},
        binding("ClusterRoleBinding", "skipper:metrics-server", "ClusterRole", "skipper:metrics-server"),
        # Checks the tokens and rights of the users the aggregator forwards.
        binding("ClusterRoleBinding", "skipper:metrics-server:auth-delegator", "ClusterRole", "system:auth-delegator"),
        # Reads which client CAs the apiserver trusts.
        binding("RoleBinding", "skipper:metrics-server:auth-reader", "Role", "extension-apiserver-authentication-reader",
                "kube-system"),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": service, "namespace": namespace},
         "spec": {"type": "ExternalName", "externalName": "127.0.0.1"}},
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": METRICS_API_SERVICE},
         "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
                  "versionPriority": 100, "service": {"namespace": namespace, "name": service, "port": port},
                  "caBundle": base64.b64encode((pki / "ca.crt").read_bytes()).decode()}},
    ]


def object_collection(obj: dict[str, Any]) -> str:
    """The path to POST one of the objects above to."""
    group_version = obj["apiVersion"]
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    plural = {"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "RoleBinding": "rolebindings",
              "Service": "services", "APIService": "apiservices"}[obj["kind"]]
    ns = obj["metadata"].get("namespace")
    return f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"


def crds_established(api: Api, names: list[str]) -> bool:
    for name in names:
        try:
            crd = api.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        except (OSError, urllib.error.URLError):
            return False
        if not condition_true(crd, "Established"):
            return False
    return True


def api_service_available(api: Api, name: str) -> bool:
    try:
        return condition_true(api.request("GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{name}"), "Available")
    except (OSError, urllib.error.URLError):
        return False


def condition_true(obj: Any, kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or [] if isinstance(obj, dict) else []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


# ---------------------------------------------------------------- kwok stages and metrics


def resource_metrics(metric: str) -> str:
    """kwok's Metric for /metrics/nodes/NODE/metrics/resource, its CPU counters 1 ms ahead.

    kwok counts a container's CPU seconds from its first scrape on, so that
    scrape reports 0, which metrics-server drops as incomplete; it then needs
    two more scrapes for a rate. Starting every counter at 1 ms (a constant,
    which cancels out of the rate) makes the first scrape count: a pod's
    metrics appear after two scrapes (10 to 20 s) instead of three.
    """
    pattern = re.compile(r"""(value: '(?:pod|node)\.CumulativeUsage\("cpu"[^']*\))'""")
    adjusted, count = pattern.subn(r"\1 + 0.001'", metric)
    if count != 3:
        raise ClusterError("kwok's metrics-resource Metric does not have the three CPU counters this script adjusts; "
                           "check tests/cluster/build.sh and resource_metrics()")
    return adjusted


def stage_text(path: Path) -> str:
    """A kwok Stage file as kwok is given it, adjusted for our labels (see the module docstring).

    pod-ready waits for the ready-delay label and leaves pods with the fail
    label to FAIL_STAGE; pod-complete leaves pods with an exit code to
    EXIT_STAGE and waits for the run-for label.
    """
    text = path.read_text()
    if path.name == "pod-ready.yaml":
        return add_selector(pod_ready_stage(text), FAIL_LABEL)
    if path.name == "pod-complete.yaml":
        return add_selector(add_delay(text, RUN_FOR_LABEL, "pod-complete"), EXIT_CODE_LABEL)
    return text


def add_selector(stage: str, label: str) -> str:
    """The Stage, matching only objects without ``label``."""
    anchor = "\n  selector:\n    matchExpressions:\n"
    if stage.count(anchor) != 1:
        raise ClusterError("a kwok stage has no selector this script knows how to extend; "
                           "check tests/cluster/build.sh and add_selector()")
    return stage.replace(anchor, anchor + f"    - key: '.metadata.labels[\"{label}\"]'\n      operator: 'DoesNotExist'\n")


def add_delay(stage: str, label: str, name: str) -> str:
    """The Stage, applied only the duration in ``label`` after it matches (at once without it).

    kwok evaluates ``delay.durationFrom`` with jq on the object and parses a
    string result with Go's time.ParseDuration ("8s", "1m30s"); a missing
    label (jq gives null) or a value that does not parse falls back to
    ``durationMilliseconds``: 0. Until then the object stays as it is; a pod
    deleted meanwhile is deleted as usual.
    """
    if stage.count("\nspec:\n") != 1 or "\n  delay:" in stage or f"name: {name}\n" not in stage:
        raise ClusterError(f"kwok's {name} stage is not the one this script knows how to delay; "
                           "check tests/cluster/build.sh and add_delay()")
    delay = (
        "  delay:\n"
        "    durationMilliseconds: 0\n"
        "    durationFrom:\n"
        "      jq:\n"
        f"        expression: '.metadata.labels[\"{label}\"]'\n"
    )
    return stage.replace("\nspec:\n", "\nspec:\n" + delay)


def pod_ready_stage(stage: str) -> str:
    """kwok's pod-ready Stage, delayed by the pod's READY_DELAY_LABEL when it has one.

    A delayed pod stays Pending, scheduled but without container statuses,
    until then (see add_delay()).
    """
    return add_delay(stage, READY_DELAY_LABEL, "pod-ready")


# A pod with FAIL_LABEL: Pending -> containers waiting with the label's
# reason, never Ready. Running with a last state (exit code 1) once it has
# restarted, Pending (as an image that cannot be pulled) while it has not.
# Matched once: the container statuses it writes keep it from matching again.
FAIL_STAGE = f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: skipper-pod-fail
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.metadata.labels["{FAIL_LABEL}"]'
      operator: 'Exists'
    - key: '.status.containerStatuses'
      operator: 'DoesNotExist'
  delay:
    durationMilliseconds: 0
    durationFrom:
      jq:
        expression: '.metadata.labels["{READY_DELAY_LABEL}"]'
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      {{{{ $pod := . }}}}
      {{{{ $reason := index .metadata.labels "{FAIL_LABEL}" }}}}
      {{{{ $restarts := 0 }}}}
      {{{{ if eq $reason "CrashLoopBackOff" }}}}{{{{ $restarts = 3 }}}}{{{{ end }}}}
      {{{{ with index .metadata.labels "{RESTARTS_LABEL}" }}}}{{{{ $restarts = atoi . }}}}{{{{ end }}}}
      {{{{ $names := list }}}}
      {{{{ range .spec.containers }}}}{{{{ $names = append $names .name }}}}{{{{ end }}}}
      {{{{ $unready := printf "containers with unready status: [%s]" (join " " $names) }}}}
      conditions:
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: "False"
        reason: ContainersNotReady
        message: {{{{ $unready | Quote }}}}
        type: Ready
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: "False"
        reason: ContainersNotReady
        message: {{{{ $unready | Quote }}}}
        type: ContainersReady
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - image: {{{{ .image | Quote }}}}
        name: {{{{ .name | Quote }}}}
        ready: false
        started: false
        restartCount: {{{{ $restarts }}}}
        state:
          waiting:
            reason: {{{{ $reason | Quote }}}}
            {{{{ if eq $reason "CrashLoopBackOff" }}}}
            message: {{{{ printf "back-off 40s restarting failed container=%s pod=%s_%s" .name $pod.metadata.name $pod.metadata.namespace | Quote }}}}
            {{{{ else if or (eq $reason "ImagePullBackOff") (eq $reason "ErrImagePull") }}}}
            message: {{{{ printf "Back-off pulling image %q" .image | Quote }}}}
            {{{{ else }}}}
            message: {{{{ printf "%s (the pod's {FAIL_LABEL} label)" $reason | Quote }}}}
            {{{{ end }}}}
        {{{{ if gt $restarts 0 }}}}
        lastState:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{{{ $now | Quote }}}}
            finishedAt: {{{{ $now | Quote }}}}
        {{{{ end }}}}
      {{{{ end }}}}
      {{{{ if gt $restarts 0 }}}}
      phase: Running
      {{{{ with PodIPWith .spec.nodeName (or .spec.hostNetwork false) (or .metadata.uid "") .metadata.name .metadata.namespace }}}}
      podIP: {{{{ . | Quote }}}}
      podIPs:
      - ip: {{{{ . | Quote }}}}
      {{{{ end }}}}
      {{{{ else }}}}
      phase: Pending
      {{{{ end }}}}
      startTime: {{{{ $now | Quote }}}}
"""

# A Running pod with EXIT_CODE_LABEL ends (after RUN_FOR_LABEL, if any) with
# every container terminated with that code: Failed, or Succeeded for 0.
EXIT_STAGE = f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: skipper-pod-exit
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.labels["{EXIT_CODE_LABEL}"]'
      operator: 'Exists'
  delay:
    durationMilliseconds: 0
    durationFrom:
      jq:
        expression: '.metadata.labels["{RUN_FOR_LABEL}"]'
  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      {{{{ $pod := . }}}}
      {{{{ $code := index .metadata.labels "{EXIT_CODE_LABEL}" | atoi }}}}
      conditions:
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: "False"
        reason: PodCompleted
        type: Ready
      - lastTransitionTime: {{{{ $now | Quote }}}}
        status: "False"
        reason: PodCompleted
        type: ContainersReady
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - image: {{{{ .image | Quote }}}}
        name: {{{{ .name | Quote }}}}
        ready: false
        started: false
        restartCount: 0
        state:
          terminated:
            exitCode: {{{{ $code }}}}
            reason: {{{{ if eq $code 0 }}}}Completed{{{{ else }}}}Error{{{{ end }}}}
            startedAt: {{{{ or $pod.status.startTime $now | Quote }}}}
            finishedAt: {{{{ $now | Quote }}}}
      {{{{ end }}}}
      phase: {{{{ if eq $code 0 }}}}Succeeded{{{{ else }}}}Failed{{{{ end }}}}
"""


def write_integration_config(path: Path, cdir: Path, state: dict[str, Any]) -> None:
    pki = cdir / "pki"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = {
        "skipper_test_kubeconfig": str(cdir / "kubeconfig.yaml"),
        "skipper_test_host": state["server"],
        "skipper_test_ca_cert": str(pki / "ca.crt"),
        "skipper_test_client_cert": str(pki / "admin.crt"),
        "skipper_test_client_key": str(pki / "admin.key"),
        "skipper_test_audit_log": str(cdir / "logs" / "audit.log"),
        # Where kwok runs exec (as nobody): the only place a pod's "files" can live.
        "skipper_test_exec_dir": state.get("exec_dir", ""),
        # Where tests put the log files their kwok Logs objects name.
        "skipper_test_logs_dir": state.get("logs_dir", ""),
    }
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in lines.items()))


def remove_state(cdir: Path) -> None:
    state = load_state(cdir) or {}
    for folder in ("exec_dir", "logs_dir"):
        if state.get(folder):
            shutil.rmtree(state[folder], ignore_errors=True)
    shutil.rmtree(cdir, ignore_errors=True)


def cmd_down(name: str) -> int:
    cdir = cluster_dir(name)
    if not cdir.exists():
        log(f"no cluster '{name}' to stop")
        return 0
    stopped = stop(cdir)
    remove_state(cdir)
    log(f"stopped cluster '{name}': {', '.join(stopped) or 'nothing was running'}")
    return 0


def cmd_status(name: str) -> int:
    cdir = cluster_dir(name)
    state = load_state(cdir)
    if state is None:
        print(f"cluster '{name}': not created")
        return 1
    print(f"cluster '{name}': {state['server']}  kubeconfig {cdir / 'kubeconfig.yaml'}")
    for component in COMPONENTS:
        pid = running_pid(cdir, component)
        print(f"  {component:<24} {'running, pid ' + str(pid) if pid else 'NOT RUNNING'}")
    ok = healthy(cdir)
    print(f"  {'health':<24} {'ready' if ok else 'NOT READY'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status", "kubeconfig"))
    parser.add_argument("--name", default=os.environ.get("SKIPPER_CLUSTER_NAME", "demo"))
    parser.add_argument("--integration-config", help="with up: also write ansible-test's integration_config.yml")
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("SKIPPER_CLUSTER_NODES", "1")),
                        help="with up: at least this many fake nodes of 110 pods each (added to a running cluster)")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            if args.nodes < 1:
                raise ClusterError("--nodes must be 1 or more")
            return cmd_up(args.name, args.integration_config, args.nodes)
        if args.command == "down":
            return cmd_down(args.name)
        if args.command == "status":
            return cmd_status(args.name)
        print(cluster_dir(args.name) / "kubeconfig.yaml")
        return 0
    except ClusterError as exc:
        log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Run a real Vault dev server on 127.0.0.1 for the vault lookup's integration tests.

    vault.py up [--name NAME] [--integration-config PATH]
    vault.py down [--name NAME]
    vault.py status [--name NAME]

``up`` builds ``vault`` once (tests/vault/build.sh, cached outside the
repository) and starts ``vault server -dev`` on a free port of 127.0.0.1 with
a root token of its own, made at random. The dev server keeps everything in
memory, is unsealed and has a KV version 2 engine at ``secret/``; the tests
add what else they need (AppRole, policies) through its API. A server of that
name that still answers is reused.

``--integration-config PATH`` merges ``skipper_test_vault_addr`` and
``skipper_test_vault_token`` into ansible-test's integration_config.yml at
PATH: the other lines stay as they are (those of tests/cluster/cluster.py),
earlier vault lines are replaced. Without it, the two lines go to stdout.

``down`` stops the server this script started (found through its pid file,
checked against the command line it launched) and removes its state.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG_KEYS = ("skipper_test_vault_addr", "skipper_test_vault_token")


def log(msg: str) -> None:
    print(f"vault: {msg}", file=sys.stderr, flush=True)


class VaultError(Exception):
    pass


def state_dir(name: str) -> Path:
    base = os.environ.get("SKIPPER_CLUSTER_STATE")
    if not base:
        xdg = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        base = os.path.join(xdg, "skipper-platform")
    return Path(base) / "vault" / name


def build() -> Path:
    proc = subprocess.run(["bash", str(HERE / "build.sh")], stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise VaultError("building vault failed (see the messages above)")
    return Path(proc.stdout.strip().splitlines()[-1]) / "vault"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def running_pid(vdir: Path) -> int | None:
    """The pid of the server we started, if that very process still runs."""
    try:
        pid = int((vdir / "vault.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
        stat = Path(f"/proc/{pid}/stat").read_text().split()
    except (OSError, ValueError):
        return None
    # A vault dev server running in this very folder: a reused pid is never signalled.
    if cwd != str(vdir) or b"-dev" not in cmdline or stat[2] == "Z":
        return None
    return pid


def load_state(vdir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((vdir / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def healthy(addr: str) -> bool:
    """Initialized, unsealed and active: /v1/sys/health answers 200."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never through a proxy
    try:
        with opener.open(f"{addr}/v1/sys/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop(vdir: Path) -> int | None:
    pid = running_pid(vdir)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and running_pid(vdir) == pid:
        time.sleep(0.1)
    if running_pid(vdir) == pid:
        os.kill(pid, signal.SIGKILL)
        while running_pid(vdir) == pid:
            time.sleep(0.05)
    return pid


def start(vdir: Path, binary: Path) -> dict[str, Any]:
    shutil.rmtree(vdir, ignore_errors=True)
    vdir.mkdir(parents=True, mode=0o700)
    port = free_port()
    state = {"addr": f"http://127.0.0.1:{port}", "token": "root-" + secrets.token_hex(12), "binary": str(binary)}
    argv = [str(binary), "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
            f"-dev-root-token-id={state['token']}", "-dev-no-store-token"]
    # HOME points into our folder: the dev server never touches the user's ~/.vault-token.
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["HOME"] = str(vdir)
    with open(vdir / "vault.log", "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=vdir,
                                env=env, start_new_session=True)
    (vdir / "vault.pid").write_text(f"{proc.pid}\n")
    (vdir / "state.json").write_text(json.dumps(state))
    os.chmod(vdir / "state.json", 0o600)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise VaultError(f"vault server exited with {proc.returncode}; see {vdir / 'vault.log'}")
        if healthy(state["addr"]):
            return state
        time.sleep(0.2)
    raise VaultError(f"vault server did not become ready within 60 s; see {vdir / 'vault.log'}")


def merge_config(path: Path, state: dict[str, Any]) -> None:
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if line.split(":", 1)[0].strip() not in CONFIG_KEYS]
    values = {"skipper_test_vault_addr": state["addr"], "skipper_test_vault_token": state["token"]}
    kept += [f"{key}: {json.dumps(value)}" for key, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(kept) + "\n")


def cmd_up(name: str, integration_config: str | None) -> int:
    vdir = state_dir(name)
    binary = build()
    state = load_state(vdir)
    if state and state.get("binary") == str(binary) and running_pid(vdir) and healthy(state["addr"]):
        log(f"reusing vault '{name}' at {state['addr']}")
    else:
        stop(vdir)
        t0 = time.monotonic()
        state = start(vdir, binary)
        log(f"vault '{name}' is up at {state['addr']} in {time.monotonic() - t0:.1f} s")
    if integration_config:
        merge_config(Path(integration_config), state)
    else:
        print(f"skipper_test_vault_addr: {json.dumps(state['addr'])}")
        print(f"skipper_test_vault_token: {json.dumps(state['token'])}")
    return 0


def cmd_down(name: str) -> int:
    vdir = state_dir(name)
    pid = stop(vdir)
    shutil.rmtree(vdir, ignore_errors=True)
    log(f"stopped vault '{name}'" + (f" (pid {pid})" if pid else ": nothing was running"))
    return 0


def cmd_status(name: str) -> int:
    vdir = state_dir(name)
    state = load_state(vdir)
    if state is None:
        print(f"vault '{name}': not created")
        return 1
    ok = bool(running_pid(vdir)) and healthy(state["addr"])
    print(f"vault '{name}': {state['addr']} {'ready' if ok else 'NOT READY'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--name", default=os.environ.get("SKIPPER_CLUSTER_NAME", "demo"))
    parser.add_argument("--integration-config", help="with up: merge the vault settings into this file")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            return cmd_up(args.name, args.integration_config)
        if args.command == "down":
            return cmd_down(args.name)
        return cmd_status(args.name)
    except VaultError as exc:
        log(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())

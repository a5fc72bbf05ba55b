"""Run every test phase and end with one 'N passed, N failed' line.

    tools/test.py --core 2.19=/path/to/venv --core 2.21=/path/to/venv [--only PHASE ...]

Phases, for each ansible-core given: unit (pytest), sanity (ansible-test
sanity --local; its per-test venvs are seeded by tools/get_pip_offline.py), integration (ansible-test integration --local, one target at
a time, against the local test cluster). Once, with the newest: lint
(ansible-lint production profile, ruff, mypy, changelog lint, ansible-doc of
every module, ansible-builder create).

The collection is copied (tracked and new, not ignored, files) into a
temporary ansible_collections/skipper/platform, so the tests see exactly what
a clean checkout holds. Integration targets run with an empty HOME: nothing
reaches a cluster except through tests/integration/integration_config.yml,
which `cluster.py up` writes. A phase that runs no test counts as failed;
with CI=true a cluster that does not come up fails the run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = {"2.19": "3.11", "2.21": "3.13"}


class Tally:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int, float]] = []

    def add(self, phase: str, passed: int, failed: int, started: float) -> None:
        if passed + failed == 0:
            print(f"!! {phase}: ran no test; counted as a failure", flush=True)
            failed = 1
        self.rows.append((phase, passed, failed, time.monotonic() - started))
        print(f"== {phase}: {passed} ok, {failed} failing ({time.monotonic() - started:.0f} s)", flush=True)

    def finish(self) -> int:
        print("\nphase                          ok  failing   time")
        for phase, passed, failed, secs in self.rows:
            print(f"{phase:<28} {passed:>5} {failed:>8} {secs:>5.0f}s")
        passed = sum(r[1] for r in self.rows)
        failed = sum(r[2] for r in self.rows)
        print(f"{passed} passed, {failed} failed", flush=True)
        return 0 if failed == 0 else 1


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, log: Path | None = None) -> tuple[int, str]:
    print(f"$ {' '.join(cmd)}", flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    assert proc.stdout
    for line in proc.stdout:
        out.append(line)
        sys.stdout.write(line)
    proc.wait()
    text = "".join(out)
    if log:
        log.write_text(text)
    return proc.returncode, text


class Check(NamedTuple):
    name: str
    command: list[str]
    must_print: str = ""  # fails unless the output holds this
    clean: bool = False  # fails on any ERROR or WARNING in the output


def run_checks(checks: list[Check], cwd: Path, env: dict[str, str]) -> tuple[int, int]:
    """Run each command as one test; return (passed, failed)."""
    passed = failed = 0
    for check in checks:
        rc, out = run(check.command, cwd, env)
        ok = rc == 0 and check.must_print in out and not (check.clean and ("ERROR" in out or "WARNING" in out))
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"!! {check.name} failed", flush=True)
    return passed, failed


def copy_collection(dest_root: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE).stdout.decode().split("\0")
    dest = dest_root / "ansible_collections" / "skipper" / "platform"
    for rel in filter(None, files):
        src = ROOT / rel
        if not src.exists():
            continue  # deleted in the work tree but not yet in git
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    return dest


def venv_env(venv: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def phase_unit(tally: Tally, core: str, venv: Path, coll: Path) -> None:
    started = time.monotonic()
    report = coll / "tests" / "output" / f"unit-{core}.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    run([str(venv / "bin" / "python"), "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}"], coll, venv_env(venv, PYTHONPATH=str(coll.parents[2])))
    passed = failed = 0
    if report.exists():
        root = ET.parse(report).getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        if suite is not None:
            total = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            passed, failed = total - bad - skipped, bad
    tally.add(f"unit ({core})", passed, failed, started)


def seed_get_pip(venv: Path) -> None:
    """Let ansible-test make its sanity venvs without its download host."""
    sources = list(venv.glob("lib/python*/site-packages/ansible_test/_internal/python_requirements.py"))
    versions = set(re.findall(r"pip='([0-9.]+)'", sources[0].read_text())) if sources else set()
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in versions:
        shutil.copy(ROOT / "tools" / "get_pip_offline.py", cache / f"get_pip_{version.replace('.', '_')}.py")


def phase_sanity(tally: Tally, core: str, venv: Path, coll: Path) -> None:
    started = time.monotonic()
    seed_get_pip(venv)
    rc, out = run(["ansible-test", "sanity", "--local", "--python", PYTHONS[core], "--color", "no"], coll,
                  venv_env(venv))
    ran = re.findall(r'^Running sanity test "([^"]+)"', out, re.M)
    failed_names = set(re.findall(r"^ERROR: Found \d+ (\S+) issue", out, re.M))
    failed = len(failed_names) or (1 if rc != 0 else 0)
    tally.add(f"sanity ({core})", max(len(ran) - failed, 0), failed, started)


def phase_integration(tally: Tally, core: str, venv: Path, coll: Path, config: Path) -> None:
    started = time.monotonic()
    target_dir = coll / "tests" / "integration" / "targets"
    targets = sorted(p.name for p in target_dir.iterdir() if (p / "aliases").exists() and
                     "hidden" not in (p / "aliases").read_text() and not p.name.startswith("setup_"))
    shutil.copy(config, coll / "tests" / "integration" / "integration_config.yml")
    home = Path(tempfile.mkdtemp(prefix="skipper-home-"))
    env = venv_env(venv, HOME=str(home), ANSIBLE_FORCE_COLOR="0")
    for var in list(env):
        if var.startswith("K8S_AUTH_") or var == "KUBECONFIG":
            env.pop(var)
    checks = [Check(f"integration target {t} on ansible-core {core}",
                    ["ansible-test", "integration", t, "--local", "--python", PYTHONS[core], "--color", "no"])
              for t in targets]
    passed, failed = run_checks(checks, coll, env)
    shutil.rmtree(home, ignore_errors=True)
    tally.add(f"integration ({core})", passed, failed, started)


def phase_lint(tally: Tally, venv: Path, coll: Path) -> None:
    started = time.monotonic()
    env = venv_env(venv, ANSIBLE_COLLECTIONS_PATH=str(coll.parents[2]))
    checks = [
        Check("ansible-lint", ["ansible-lint", "--profile", "production", "--offline", "--nocolor"]),
        Check("ruff", ["ruff", "check", "plugins", "tests", "tools", "benchmarks"]),
        Check("mypy", ["mypy", "--config-file", "tests/mypy.ini", "plugins/module_utils", "tests/cluster", "tools", "benchmarks"]),
        Check("changelog", ["antsibull-changelog", "lint"]),
        # What an execution environment build would install for this collection.
        Check("ansible-builder introspect", ["ansible-builder", "introspect", "--sanitize", str(coll.parents[2])],
              must_print="kubernetes"),
    ]
    modules = sorted(p.stem for p in (coll / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    checks += [Check(f"ansible-doc {m}", ["ansible-doc", f"skipper.platform.{m}"], clean=True) for m in modules]
    builder_dir = Path(tempfile.mkdtemp(prefix="skipper-ee-"))
    (builder_dir / "execution-environment.yml").write_text(
        "version: 3\nimages:\n  base_image:\n    name: quay.io/ansible/awx-ee:latest\n"
        f"dependencies:\n  galaxy:\n    collections:\n      - name: {coll}\n        type: dir\n"
        "  python: requirements.txt\n"
    )
    shutil.copy(coll / "requirements" / "runtime.txt", builder_dir / "requirements.txt")
    checks.append(Check("ansible-builder create", ["ansible-builder", "create", "-f",
                                                   str(builder_dir / "execution-environment.yml"),
                                                   "-c", str(builder_dir / "context")]))
    passed, failed = run_checks(checks, coll, env)
    shutil.rmtree(builder_dir, ignore_errors=True)
    tally.add("lint", passed, failed, started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--core", action="append", required=True, help="VERSION=VENV, oldest first")
    parser.add_argument("--only", action="append", choices=("unit", "sanity", "integration", "lint"))
    parser.add_argument("--cluster-python", help="python that runs tests/cluster/cluster.py")
    args = parser.parse_args()
    cores = [(c.split("=", 1)[0], Path(c.split("=", 1)[1])) for c in args.core]
    phases = set(args.only or ("unit", "sanity", "integration", "lint"))
    tally = Tally()
    work = Path(tempfile.mkdtemp(prefix="skipper-test-"))
    try:
        config = work / "integration_config.yml"
        if "integration" in phases:
            started = time.monotonic()
            cluster_python = args.cluster_python or str(cores[-1][1] / "bin" / "python")
            command = [cluster_python, str(ROOT / "tests" / "cluster" / "cluster.py"), "up", "--name", "test",
                       "--integration-config", str(config)]
            rc = run(command, ROOT)[0]
            if rc != 0:
                print("!! the test cluster did not come up: every integration phase fails", flush=True)
                for core in (c[0] for c in cores):
                    tally.add(f"integration ({core})", 0, 1, started)
                phases.discard("integration")
        for core, venv in cores:
            coll = copy_collection(work / core)
            if "unit" in phases:
                phase_unit(tally, core, venv, coll)
            if "sanity" in phases:
                phase_sanity(tally, core, venv, coll)
            if "integration" in phases:
                phase_integration(tally, core, venv, coll, config)
        if "lint" in phases:
            phase_lint(tally, cores[-1][1], copy_collection(work / "lint"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())

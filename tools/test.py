"""Run every test phase and end with one 'N passed, N failed' line.

    tools/test.py --core 2.19=/path/to/venv --core 2.21=/path/to/venv [--only PHASE ...]

Phases, for each ansible-core given: unit (pytest), sanity (ansible-test
sanity --local; its per-test venvs are seeded by tools/get_pip_offline.py), integration (ansible-test integration --local, one target at
a time, against the local test cluster). Once, with the newest: molecule
(each role's scenarios, delegated, against the same cluster) and lint
(ansible-lint production profile, ruff, mypy, changelog lint, ansible-doc of
every module, ansible-builder create).

The collection is copied (tracked and new, not ignored, files) into a
temporary ansible_collections/skipper/platform, so the tests see exactly what
a clean checkout holds. Integration targets run with an empty HOME: nothing
reaches a cluster except through tests/integration/integration_config.yml,
which `cluster.py up` writes. A phase that runs no test counts as failed;
with CI=true a cluster that does not come up fails the run.

A skipped test counts as a failed one, always (locally as in CI, so that both
end with the same line), and is named on a line of its own starting with
"!! ... skipped". That covers pytest skips and xfails, sanity tests that
ansible-test skips for a reason (a missing program such as shellcheck, a
missing Python, virtualenv or libyaml, tests disabled by default), and an
integration target that ansible-test excludes ("All targets skipped"). A
sanity test that ansible-test reports only as "No tests applicable" (the
collection has nothing of its kind, e.g. no PowerShell for pslint) is neither
passed nor failed; the phase names those on one line.

The test cluster `test` is stopped when the run ends (also on TERM or
Ctrl-C), whether this run started it or found it already running, unless
--keep-cluster is given (make test KEEP_CLUSTER=1). Either way a line just
before the last one says which it was and, when it is kept, how to stop it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = {"2.19": "3.11", "2.21": "3.13"}


class Tally:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int, float]] = []
        self.skipped: list[str] = []
        self.notes: list[str] = []

    def add(self, phase: str, passed: int, failed: int, started: float, skipped: Sequence[str] = ()) -> None:
        """Record a phase; every entry of ``skipped`` (a test's name and why) is one more failure."""
        for what in skipped:
            print(f"!! {phase}: skipped, counted as a failure: {what}", flush=True)
            self.skipped.append(f"{phase}: {what}")
        failed += len(skipped)
        if passed + failed == 0:
            print(f"!! {phase}: ran no test; counted as a failure", flush=True)
            failed = 1
        self.rows.append((phase, passed, failed, time.monotonic() - started))
        print(f"== {phase}: {passed} ok, {failed} failing ({time.monotonic() - started:.0f} s)", flush=True)

    def finish(self) -> int:
        print("\nphase                          ok  failing   time")
        for phase, passed, failed, secs in self.rows:
            print(f"{phase:<28} {passed:>5} {failed:>8} {secs:>5.0f}s")
        for what in self.skipped:
            print(f"!! skipped (counted as failed): {what}")
        for note in self.notes:
            print(note)
        passed = sum(r[1] for r in self.rows)
        failed = sum(r[2] for r in self.rows)
        print(f"{passed} passed, {failed} failed", flush=True)
        return 0 if failed == 0 else 1


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, log: Path | None = None) -> tuple[int, str]:
    print(f"$ {' '.join(cmd)}", flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    assert proc.stdout
    try:
        for line in proc.stdout:
            out.append(line)
            sys.stdout.write(line)
        proc.wait()
    except BaseException:  # interrupted (TERM, Ctrl-C): end the command too before cleaning up
        proc.terminate()
        proc.wait()
        raise
    text = "".join(out)
    if log:
        log.write_text(text)
    return proc.returncode, text


class Check(NamedTuple):
    name: str
    command: list[str]
    must_print: str = ""  # fails unless the output holds this
    clean: bool = False  # fails on any ERROR or WARNING in the output
    skipped_if: str = ""  # the output holding this means the test did not run: skipped


# A line Ansible starts with when it complains (not the words inside a module's examples).
ANSIBLE_COMPLAINT = re.compile(r"^(\[(ERROR|WARNING|DEPRECATION WARNING)\]|ERROR!|WARNING:)", re.M)


def run_checks(checks: list[Check], cwd: Path, env: dict[str, str]) -> tuple[int, int, list[str]]:
    """Run each command as one test; return (passed, failed, skipped with the lines saying why)."""
    passed = failed = 0
    skipped: list[str] = []
    for check in checks:
        rc, out = run(check.command, cwd, env)
        if check.skipped_if and check.skipped_if in out:
            why = [line.strip() for line in out.splitlines()
                   if line.startswith("WARNING:") and ("Excluding" in line or "skipped" in line)]
            skipped.append(f"{check.name} ({' '.join(why) or check.skipped_if})")
            continue
        ok = rc == 0 and check.must_print in out and not (check.clean and ANSIBLE_COMPLAINT.search(out))
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"!! {check.name} failed", flush=True)
    return passed, failed, skipped


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
    skipped: list[str] = []
    if report.exists():
        root = ET.parse(report).getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        if suite is not None:
            total = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            # pytest writes skips and xfails as <skipped>: name each one.
            for case in suite.iter("testcase"):
                mark = case.find("skipped")
                if mark is not None:
                    kind = "xfail" if mark.get("type") == "pytest.xfail" else "skip"
                    skipped.append(f"{case.get('classname')}::{case.get('name')} ({kind}: {mark.get('message', '')})")
            passed, failed = total - bad - len(skipped), bad
    tally.add(f"unit ({core})", passed, failed, started, skipped)


def seed_get_pip(venv: Path) -> None:
    """Let ansible-test make its sanity venvs without its download host."""
    sources = list(venv.glob("lib/python*/site-packages/ansible_test/_internal/python_requirements.py"))
    versions = set(re.findall(r"pip='([0-9.]+)'", sources[0].read_text())) if sources else set()
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in versions:
        shutil.copy(ROOT / "tools" / "get_pip_offline.py", cache / f"get_pip_{version.replace('.', '_')}.py")


NOT_APPLICABLE = "No tests applicable."  # what ansible-test's junit says of a test that had nothing to check


def sanity_skips(out: str) -> dict[str, str]:
    """The sanity tests ansible-test's output says it skipped, with the line saying why."""
    skips: dict[str, str] = {}
    current = ""
    for line in out.splitlines():
        running = re.match(r'Running sanity test "([^"]+)"', line)
        if running:
            current = running.group(1)
        elif match := re.match(r'WARNING: (Skipping sanity test "([^"]+)".*)', line):
            skips[match.group(2)] = match.group(1)
        elif match := re.match(r"WARNING: (Skipping tests disabled by default[^:]*): (.*)", line):
            for name in match.group(2).split(", "):
                skips[name.strip()] = match.group(1)
        elif current and re.match(r'WARNING: Required program "[^"]+" not found', line):
            # shellcheck and pslint return "skipped" without a reason after this warning.
            skips[current] = line[len("WARNING: "):]
    return skips


def sanity_verdicts(out: str, junit: Path) -> tuple[int, int, list[str], list[str]]:
    """Passed, failed, skipped (each with why) and not-applicable sanity tests of one run.

    The junit file of each test and Python gives the verdict; the console
    output says why a test was skipped (the junit of shellcheck without
    shellcheck installed says only "No tests applicable.").
    """
    skips = sanity_skips(out)
    passed = failed = 0
    skipped: list[str] = []
    skipped_tests: set[str] = set()
    not_applicable: list[str] = []
    for report in sorted(junit.glob("*.xml")) if junit.is_dir() else []:
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "?")
            test = re.sub(r"-python-\d+\.\d+$", "", name)
            mark = case.find("skipped")
            reason = (mark.text or "").strip() if mark is not None else ""
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif mark is not None and (test in skips or reason != NOT_APPLICABLE):
                skipped.append(f"sanity test {name}: {skips.get(test) or reason}")
                skipped_tests.add(test)
            elif mark is not None:
                not_applicable.append(name)
            else:
                passed += 1
    # Tests the output names as skipped that wrote no junit file (disabled by default).
    skipped += [f"sanity test {test}: {why}" for test, why in sorted(skips.items()) if test not in skipped_tests]
    return passed, failed, skipped, not_applicable


def phase_sanity(tally: Tally, core: str, venv: Path, coll: Path) -> None:
    started = time.monotonic()
    seed_get_pip(venv)
    junit = coll / "tests" / "output" / "junit"
    shutil.rmtree(junit, ignore_errors=True)
    rc, out = run(["ansible-test", "sanity", "--local", "--python", PYTHONS[core], "--color", "no", "--junit"],
                  coll, venv_env(venv))
    passed, failed, skipped, not_applicable = sanity_verdicts(out, junit)
    if rc != 0 and failed == 0:
        failed = 1  # ansible-test failed without a failing test to show for it: count that
        print(f"!! sanity ({core}): ansible-test exited with {rc} and named no failing test", flush=True)
    if not_applicable:
        print(f"== sanity ({core}): nothing to check here, not counted: {', '.join(not_applicable)}", flush=True)
    tally.add(f"sanity ({core})", passed, failed, started, skipped)


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
    # ansible-test exits 0 after "WARNING: All targets skipped." (a target whose
    # aliases exclude it here): that is a skip, and a run that never reached the
    # target's role is no pass either.
    checks = [Check(f"integration target {t} on ansible-core {core}",
                    ["ansible-test", "integration", t, "--local", "--python", PYTHONS[core], "--color", "no"],
                    must_print=f"Running {t} integration test", skipped_if="All targets skipped")
              for t in targets]
    passed, failed, skipped = run_checks(checks, coll, env)
    shutil.rmtree(home, ignore_errors=True)
    tally.add(f"integration ({core})", passed, failed, started, skipped)


def phase_molecule(tally: Tally, venv: Path, coll: Path, config: Path) -> None:
    """Each role's molecule scenarios (delegated: the formation runs on the controller) against the test cluster."""
    started = time.monotonic()
    settings = {}
    for line in config.read_text().splitlines():
        key, _sep, value = line.partition(":")
        settings[key.strip()] = value.strip().strip('"')
    home = Path(tempfile.mkdtemp(prefix="skipper-home-"))
    env = venv_env(venv, HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(coll.parents[2]), ANSIBLE_FORCE_COLOR="0",
                   NO_COLOR="1", PY_COLORS="0", K8S_AUTH_KUBECONFIG=settings["skipper_test_kubeconfig"],
                   SKIPPER_TEST_HOST=settings["skipper_test_host"], SKIPPER_TEST_CA_CERT=settings["skipper_test_ca_cert"],
                   SKIPPER_TEST_CLIENT_CERT=settings["skipper_test_client_cert"],
                   SKIPPER_TEST_CLIENT_KEY=settings["skipper_test_client_key"],
                   SKIPPER_MOLECULE_RUN=uuid.uuid4().hex[:8])
    env.pop("KUBECONFIG", None)
    passed = failed = 0
    skipped: list[str] = []
    for scenario in sorted((coll / "roles").glob("*/molecule/*/molecule.yml")):
        role, name = scenario.parents[2], scenario.parent.name
        label = f"molecule {role.name}/{name}"
        rc, out = run(["molecule", "test", "--scenario-name", name], role, env)
        recap = re.search(r"^\s*" + re.escape(name) + r"\s*:.*?skipped=(\d+).*?failed=(\d+)", out, re.M)
        if recap and int(recap.group(1)):
            skipped.append(f"{label} (molecule skipped {recap.group(1)} action(s))")
        elif rc == 0 and recap:
            passed += 1
        else:
            failed += 1
            print(f"!! {label} failed", flush=True)
    shutil.rmtree(home, ignore_errors=True)
    tally.add("molecule", passed, failed, started, skipped)


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
    lookups = sorted(p.stem for p in (coll / "plugins" / "lookup").glob("*.py") if p.stem != "__init__")
    checks += [Check(f"ansible-doc lookup {m}", ["ansible-doc", "-t", "lookup", f"skipper.platform.{m}"], clean=True)
               for m in lookups]
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
    passed, failed, skipped = run_checks(checks, coll, env)
    shutil.rmtree(builder_dir, ignore_errors=True)
    tally.add("lint", passed, failed, started, skipped)


CLUSTER = "test"  # the integration tests' own cluster, never the demo's


def cluster_command(python: str, *args: str) -> list[str]:
    return [python, str(ROOT / "tests" / "cluster" / "cluster.py"), *args, "--name", CLUSTER]


def vault_command(python: str, *args: str) -> list[str]:
    return [python, str(ROOT / "tests" / "vault" / "vault.py"), *args, "--name", CLUSTER]


def cluster_running(python: str) -> bool:
    """Whether the test cluster is up and healthy (before this run touches it)."""
    return subprocess.run(cluster_command(python, "status"), cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


def settle_cluster(tally: Tally, python: str, was_running: bool, keep: bool) -> None:
    """Stop the test cluster (and its Vault) at the end of the run, or say that it keeps running and how to stop it."""
    origin = "already running before this run" if was_running else "started by this run"
    if keep:
        tally.notes.append(f"test cluster '{CLUSTER}' ({origin}) keeps running (KEEP_CLUSTER=1); stop it with: "
                           f"tests/cluster/cluster.py down --name {CLUSTER}")
        return
    subprocess.run(vault_command(python, "down"), cwd=ROOT, check=False)
    rc = subprocess.run(cluster_command(python, "down"), cwd=ROOT, check=False).returncode
    if rc == 0:
        tally.notes.append(f"test cluster '{CLUSTER}' ({origin}) stopped; make test KEEP_CLUSTER=1 keeps it running")
    else:
        tally.notes.append(f"!! test cluster '{CLUSTER}' could not be stopped (exit {rc}): "
                           f"tests/cluster/cluster.py down --name {CLUSTER}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--core", action="append", required=True, help="VERSION=VENV, oldest first")
    parser.add_argument("--only", action="append", choices=("unit", "sanity", "integration", "molecule", "lint"))
    parser.add_argument("--cluster-python", help="python that runs tests/cluster/cluster.py")
    parser.add_argument("--keep-cluster", action="store_true",
                        help="leave the test cluster running at the end (it is stopped otherwise)")
    args = parser.parse_args()
    cores = [(c.split("=", 1)[0], Path(c.split("=", 1)[1])) for c in args.core]
    phases = set(args.only or ("unit", "sanity", "integration", "molecule", "lint"))
    tally = Tally()
    work = Path(tempfile.mkdtemp(prefix="skipper-test-"))
    cluster_python = args.cluster_python or str(cores[-1][1] / "bin" / "python")
    uses_cluster = bool({"integration", "molecule"} & phases)
    was_running = uses_cluster and cluster_running(cluster_python)
    # A TERM (CI's timeout, .ci/run passing one on) ends the run through the
    # finally below, so the cluster is stopped then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        config = work / "integration_config.yml"
        if uses_cluster:
            started = time.monotonic()
            command = cluster_command(cluster_python, "up", "--integration-config", str(config))
            rc = run(command, ROOT)[0]
            if rc != 0:
                print("!! the test cluster did not come up: every integration and molecule phase fails", flush=True)
                for core in (c[0] for c in cores):
                    tally.add(f"integration ({core})", 0, 1, started)
                tally.add("molecule", 0, 1, started)
                phases -= {"integration", "molecule"}
            elif "integration" in phases:
                # The Vault dev server (built once, cached) of the vault lookup's and module_examples'
                # targets, after the cluster: it adds its address and token to the integration config the
                # cluster wrote.
                if run(vault_command(cluster_python, "up", "--integration-config", str(config)), ROOT)[0] != 0:
                    print("!! the Vault dev server did not come up: the vault_lookup and module_examples targets"
                          " will fail", flush=True)
        for core, venv in cores:
            coll = copy_collection(work / core)
            if "unit" in phases:
                phase_unit(tally, core, venv, coll)
            if "sanity" in phases:
                phase_sanity(tally, core, venv, coll)
            if "integration" in phases:
                phase_integration(tally, core, venv, coll, config)
        if "molecule" in phases:
            phase_molecule(tally, cores[-1][1], copy_collection(work / "molecule"), config)
        if "lint" in phases:
            phase_lint(tally, cores[-1][1], copy_collection(work / "lint"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if uses_cluster:
            settle_cluster(tally, cluster_python, was_running, args.keep_cluster)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write every module's EXAMPLES, as written, as one tasks file per module.

    extract_examples.py --modules PLUGINS/MODULES --out DIR [--skip SKIPS.yml]

Reads each ``plugins/modules/*.py`` with ``ast`` (nothing is imported), takes
the string ``EXAMPLES`` and writes it unchanged to ``DIR/<module>.yml``, after
checking that it is a YAML list of named tasks. SKIPS.yml lists the example
tasks that cannot run on the local cluster, each as ``{module, task, reason}``
(task: the task's name); they are left out of the module's file (then written
back as YAML, same tasks otherwise), and a skip that names no task fails, so
the list cannot go stale. Prints one JSON object: ``modules`` (sorted), the
``tasks`` of each module and the ``skipped`` ones with their reasons, under the key ``examples``.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import yaml


def examples_of(path: Path) -> str:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "EXAMPLES" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise SystemExit(f"{path}: no EXAMPLES string")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--skip", type=Path)
    args = parser.parse_args()
    skips = (yaml.safe_load(args.skip.read_text(encoding="utf-8")) or []) if args.skip else []
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"modules": [], "tasks": {}, "skipped": []}
    used = set()
    for path in sorted(args.modules.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = path.stem
        text = examples_of(path)
        tasks = yaml.safe_load(text)
        if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) and t.get("name") for t in tasks):
            raise SystemExit(f"{path}: EXAMPLES is not a YAML list of named tasks")
        names = [t["name"] for t in tasks]
        mine = [s for s in skips if s["module"] == module]
        for skip in mine:
            if skip["task"] not in names:
                raise SystemExit(f"skip of {module}: no example task named {skip['task']!r}")
            if not skip.get("reason"):
                raise SystemExit(f"skip of {module} {skip['task']!r}: give the reason")
            used.add((module, skip["task"]))
            report["skipped"].append(skip)
        if mine:
            left = [t for t in tasks if t["name"] not in {s["task"] for s in mine}]
            if not left:
                raise SystemExit(f"{module}: every example is skipped; at least one must run")
            text = yaml.safe_dump(left, sort_keys=False, width=1000)
        (args.out / f"{module}.yml").write_text(text, encoding="utf-8")
        report["modules"].append(module)
        report["tasks"][module] = [n for n in names if (module, n) not in used]
    if not report["modules"]:
        raise SystemExit(f"no module in {args.modules}")
    unknown = [s for s in skips if s["module"] not in report["modules"]]
    if unknown:
        raise SystemExit(f"skips of modules that do not exist: {unknown}")
    json.dump({"examples": report}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requests to one namespace that the apiserver's audit log holds after a marker.

    audit_requests.py --log AUDIT_LOG --since AUDIT_ID --namespace NS

Prints one JSON object: ``writes`` (create, update, patch, delete,
deletecollection, dry runs left out), ``dry_runs`` and ``reads`` (get, list,
watch), each a list of requests made after the request whose audit ID is
AUDIT_ID (any response of the apiserver carries one in its Audit-Id header;
ansible.builtin.uri returns it as ``audit_id``). Requests of the control
plane's own components are left out.

The test cluster's apiserver writes its log in blocking mode: an event is in
the file before the client has the whole answer, so a read right after a
request sees it. A log rotated since the marker is read on from its backup.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

WRITES = ("create", "update", "patch", "delete", "deletecollection")
READS = ("get", "list", "watch")
# Who the local cluster's components are (tests/cluster/cluster.py issues
# their certificates); its audit policy already leaves most of them out.
SYSTEM_USERS = ("system:apiserver", "system:kube-controller-manager", "system:kube-scheduler", "kwok")
SYSTEM_PREFIXES = ("system:node:", "system:serviceaccount:kube-system:")


def log_lines(log: Path) -> list[str]:
    """The current log, preceded by its rotated backups (audit-<time>.log), oldest first."""
    backups = sorted(log.parent.glob(f"{log.stem}-*{log.suffix}"))
    lines: list[str] = []
    for path in [*backups, log]:
        if path.exists():
            lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    return lines


def is_system(user: str) -> bool:
    return user in SYSTEM_USERS or user.startswith(SYSTEM_PREFIXES)


def touches(event: dict, namespace: str) -> bool:
    ref = event.get("objectRef") or {}
    if ref.get("namespace") == namespace:
        return True
    return ref.get("resource") == "namespaces" and ref.get("name") == namespace and not ref.get("namespace")


def summary(event: dict) -> dict:
    ref = event.get("objectRef") or {}
    return {
        "verb": event.get("verb"),
        "resource": ref.get("resource"),
        "subresource": ref.get("subresource"),
        "name": ref.get("name"),
        "namespace": ref.get("namespace"),
        "user": (event.get("user") or {}).get("username"),
        "user_agent": event.get("userAgent"),
        "code": (event.get("responseStatus") or {}).get("code"),
        "uri": event.get("requestURI"),
        "audit_id": event.get("auditID"),
        "time": event.get("stageTimestamp"),
    }


def requests_since(lines: list[str], since: str, namespace: str) -> dict[str, list[dict]]:
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a line cut by rotation
    start = next((i for i, e in enumerate(events) if e.get("auditID") == since), None)
    if start is None:
        raise SystemExit(f"audit_requests: no request with audit ID {since} in the audit log: is the marker "
                         "from this cluster, and does the audit policy log that request?")
    # A long-running request has a ResponseStarted and a ResponseComplete
    # event: the first of each audit ID counts.
    seen = {events[start].get("auditID")}
    found: dict[str, list[dict]] = {"writes": [], "dry_runs": [], "reads": []}
    for event in events[start + 1:]:
        if event.get("auditID") in seen:
            continue
        seen.add(event.get("auditID"))
        if is_system((event.get("user") or {}).get("username", "")) or not touches(event, namespace):
            continue
        verb = event.get("verb")
        query = parse_qs(urlsplit(event.get("requestURI", "")).query)
        if verb in WRITES:
            found["dry_runs" if "All" in query.get("dryRun", []) else "writes"].append(summary(event))
        elif verb in READS:
            found["reads"].append(summary(event))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--since", required=True, help="the audit ID of the request that marks the start")
    parser.add_argument("--namespace", required=True)
    args = parser.parse_args(argv)
    json.dump(requests_since(log_lines(args.log), args.since, args.namespace), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

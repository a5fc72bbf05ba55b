# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One converge of a formation at a time: a coordination.k8s.io Lease, renewed while it runs.

A second converge of the same formation waits (bounded) for the Lease to be
released or to expire, then fails naming the holder. Every change to the
Lease carries the resourceVersion it was read at, so two runs racing for it
cannot both win.
"""

from __future__ import annotations

import datetime
import getpass
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from . import _resource as res
from ._errors import ApiError, SkipperError
from ._service import Service

DURATION = 30  # seconds a Lease stays valid without a renewal
RENEW_EVERY = DURATION / 3


class LeaseHeld(SkipperError):
    """Another run holds the formation's Lease."""


def holder_identity() -> str:
    """Who holds the Lease, in words a sysop can act on."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = str(os.getuid())
    job = os.environ.get("JOB_ID") or os.environ.get("AWX_JOB_ID")
    return f"{user}@{socket.gethostname()} pid {os.getpid()}" + (f" (AWX job {job})" if job else "")


def _micro_time(when: float) -> str:
    return datetime.datetime.fromtimestamp(when, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC).timestamp()
    except ValueError:
        try:
            return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC).timestamp()
        except ValueError:
            return 0.0


def expired(lease: dict[str, Any], now: float) -> bool:
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return True
    renewed = _parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    return renewed + float(spec.get("leaseDurationSeconds") or DURATION) < now


class FormationLease:
    """Hold the Lease ``skipper-<formation>`` in the formation's namespace for the length of a ``with`` block."""

    def __init__(self, svc: Service, namespace: str, formation: str, timeout: float,
                 identity: str | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.svc = svc
        self.namespace = namespace
        self.formation = formation
        self.name = f"skipper-{formation}"
        self.timeout = timeout
        self.identity = identity or holder_identity()
        self.clock = clock
        self.sleep = sleep
        self.lease: dict[str, Any] | None = None
        self.lost: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lock = threading.Lock()

    def _manifest(self, current: dict[str, Any] | None) -> dict[str, Any]:
        now = _micro_time(self.clock())
        spec = dict((current or {}).get("spec") or {})
        taking_over = spec.get("holderIdentity") != self.identity
        spec.update({"holderIdentity": self.identity, "leaseDurationSeconds": DURATION, "renewTime": now})
        if taking_over:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if current else 0)
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace,
                                "labels": {res.MANAGED_BY_LABEL: res.MANAGER, res.FORMATION_LABEL: self.formation}}
        if current:
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}

    def acquire(self) -> None:
        deadline = self.clock() + self.timeout
        delay = 0.5
        while True:
            current = self.svc.get("Lease", self.namespace, self.name)
            try:
                if current is None:
                    self.lease = self.svc.create(self._manifest(None))
                    break
                if expired(current, self.clock()) or (current.get("spec") or {}).get("holderIdentity") == self.identity:
                    self.lease = self.svc.replace(self._manifest(current))
                    break
            except ApiError as exc:
                if exc.status != 409:  # 409: another run moved first; look again
                    raise
                continue
            holder = (current.get("spec") or {}).get("holderIdentity")
            if self.clock() + delay > deadline:
                raise LeaseHeld(
                    f"formation {self.formation}: another converge holds Lease {self.namespace}/{self.name} "
                    f"(holder: {holder}, renewed {(current.get('spec') or {}).get('renewTime')}); waited "
                    f"{self.timeout:g} s. Run again when it is done, or raise lock_timeout")
            self.sleep(delay)
            delay = min(delay * 1.5, 3.0)
        self._renewer = threading.Thread(target=self._renew_loop, name=f"lease-{self.name}", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(RENEW_EVERY):
            try:
                with self._lock:
                    if self.lease is None:
                        return
                    self.lease = self.svc.replace(self._manifest(self.lease))
            except SkipperError as exc:
                # Losing the Lease mid-run is reported at the end; writes already under way finish.
                self.lost = f"formation {self.formation}: could not renew Lease {self.namespace}/{self.name}: {exc.message}"
                return

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        with self._lock:
            if self.lease is None:
                return
            try:
                self.svc.delete(self.lease)
            except SkipperError:
                pass  # it expires on its own within DURATION seconds
            self.lease = None

    def __enter__(self) -> FormationLease:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to the API server: one connection pool, requests, retries.

Requests are raw JSON over urllib3 on fixed paths; where the server is and
which credentials to send come from ``_connection``. Besides ``request``,
the client opens log streams (``stream``) and raw sockets for exec's
WebSocket (``open_socket``), and says which headers identify it
(``identity_headers``): nothing outside this file needs its private parts.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ._auth import resolve
from ._connection import connection_settings, open_pool
from ._errors import ApiError, AuthConfigError, ConnectionFailure

try:
    import urllib3
    import yaml  # noqa: F401  # pylint: disable=unused-import  # used by _connection; checked once here
    from urllib3._collections import HTTPHeaderDict  # also in urllib3 1.26, which EEs may carry

    HAS_DEPS = True
    DEPS_ERROR = ""
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_DEPS = False
    DEPS_ERROR = str(exc)

USER_AGENT = "skipper.platform"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRIES = 3
BACKOFF = (0.5, 1.0, 2.0)


class Client:
    """One pool to one API server; ``request`` returns parsed JSON or raises."""

    def __init__(self, params: Mapping[str, Any], env: Mapping[str, str] | None = None) -> None:
        settings = resolve(params, os.environ if env is None else env)
        self.source = settings["source"]
        conn = connection_settings(settings)
        self.host = conn["host"]
        self._token = conn["token"]
        # Impersonation, basic auth: headers the connection settings ask for on every request.
        self._extra_headers: list[tuple[str, str]] = list(conn.get("headers") or [])
        # Things the user should know about the connection (ignored variables, no TLS checks).
        self.warnings: list[str] = list(conn.get("warnings") or [])
        for name in ("connect_timeout", "request_timeout"):
            if not settings[name] > 0:  # also refuses NaN
                raise AuthConfigError(f"{name} must be a positive number of seconds, not {settings[name]}")
        self.connect_timeout = float(settings["connect_timeout"])
        self.request_timeout = float(settings["request_timeout"])
        self.timeout = urllib3.Timeout(connect=self.connect_timeout, read=self.request_timeout)
        self.pool = open_pool(conn)
        self.requests_made = 0

    def pool_size(self, connections: int) -> None:
        """Keep up to ``connections`` connections open (never fewer than 8); call it before the first request."""
        self.pool.connection_pool_kw["maxsize"] = max(8, connections)

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        *,
        deadline: float | None = None,
        retry: bool | None = None,
        raw: bool = False,
    ) -> Any:
        """One API call: parsed JSON (``raw``: the bytes), None for an empty answer.

        ``deadline`` (a ``time.monotonic()`` value) cuts the timeouts and
        retries of this call short: a rollout wait passes its own. ``retry``
        says whether the request is safe to repeat after a dropped connection
        or a 429/5xx answer; by default everything but POST is (reads, dry
        runs, server-side apply, deletes with preconditions), and a POST that
        creates is never sent twice.
        """
        if retry is None:
            retry = method != "POST"
        url = self._url(path, query)
        headers = self._headers("*/*" if raw else "application/json")
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type
        attempts = MAX_RETRIES + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self.requests_made += 1
            try:
                resp = self.pool.request(method, url, body=data, headers=headers, timeout=self._timeout(deadline),
                                         preload_content=True, redirect=False)
            except urllib3.exceptions.SSLError as exc:
                raise ConnectionFailure(_tls_failure(self.host, exc)) from None
            except urllib3.exceptions.HTTPError as exc:
                if not last and _may_wait(deadline, BACKOFF[attempt]):
                    time.sleep(BACKOFF[attempt])
                    continue
                raise ConnectionFailure(f"cannot reach the Kubernetes API server at {self.host}: {_reason(exc)}") from None
            if resp.status in RETRY_STATUSES and not last:
                pause = _retry_after(resp, BACKOFF[attempt])
                if _may_wait(deadline, pause):
                    time.sleep(pause)
                    continue
                raise self._api_error(resp)
            if method == "DELETE" and resp.status == 404 and attempt > 0:
                return None  # an earlier try went through before its answer was lost
            if not 200 <= resp.status < 300:
                raise self._api_error(resp)
            if raw:
                return bytes(resp.data)
            if not resp.data:
                return None
            try:
                return json.loads(resp.data)
            except ValueError:
                raise ApiError(f"{resp.status}: the answer from {self.host} is not JSON: is this a Kubernetes API server?",
                               status=resp.status) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def stream(self, path: str, query: Mapping[str, Any] | None = None, *, read_timeout: float | None = None) -> Any:
        """A GET whose body is left unread (urllib3 ``preload_content=False``): for a log read as it comes.

        Sent once and never retried: a stream is read once. ``read_timeout``
        replaces the configured request timeout for each read (a bounded
        follow waits longer). The caller reads the response and releases its
        connection. An answer other than 2xx raises ApiError worded as
        ``request`` words it; a server that cannot be reached,
        ConnectionFailure.
        """
        timeout = urllib3.Timeout(connect=self.connect_timeout,
                                  read=self.request_timeout if read_timeout is None else read_timeout)
        self.requests_made += 1
        try:
            resp = self.pool.request("GET", self._url(path, query), headers=self._headers("*/*"), timeout=timeout,
                                     preload_content=False, redirect=False, retries=False)
        except urllib3.exceptions.HTTPError as exc:
            raise ConnectionFailure(f"cannot reach the Kubernetes API server at {self.host}: {exc}") from None
        if not 200 <= resp.status < 300:
            try:
                resp.read(cache_content=True)  # the error document is small; _api_error reads it from resp.data
            finally:
                resp.release_conn()
            raise self._api_error(resp)
        return resp

    def open_socket(self) -> socket.socket:
        """A connected socket to the API server, for exec's WebSocket, which urllib3 does not speak.

        Made by this client's pool, so it has the pool's CA, client
        certificate, server name and proxy: through a proxy it is a CONNECT
        tunnel with TLS inside. The caller owns the socket and closes it.
        """
        pool = self.pool.connection_from_url(self.host)
        proxied = getattr(pool, "proxy", None) is not None
        if proxied and not self.host.startswith("https:"):
            raise ConnectionFailure(f"exec through the proxy needs an https:// API server, not {self.host}")
        # urllib3 hands out no connected socket by a public call: _new_conn makes a connection with the pool's
        # TLS settings, not yet connected, and _prepare_proxy opens the CONNECT tunnel and then TLS in it.
        conn = pool._new_conn()  # pylint: disable=protected-access
        conn.timeout = self.connect_timeout
        try:
            if proxied:
                pool._prepare_proxy(conn)  # pylint: disable=protected-access
            else:
                conn.connect()
        except Exception as exc:  # OSError, and urllib3's own errors (proxy refused, TLS), which share no base with it
            raise ConnectionFailure(f"cannot reach the Kubernetes API server at {self.host}: {exc}") from None
        return conn.sock

    def identity_headers(self) -> list[tuple[str, str]]:
        """The headers that say who is asking, as (name, value) pairs, sent with every request.

        The User-Agent, the bearer token when there is one, then what the
        connection settings add (impersonation, basic auth). The values hold
        secrets: they are for sending, never for a message.
        """
        headers = [("User-Agent", USER_AGENT)]
        if self._token:
            headers.append(("Authorization", f"Bearer {self._token}"))
        headers.extend(self._extra_headers)
        return headers

    def _headers(self, accept: str) -> Any:
        """``Accept`` and the identity headers; a name given more than once (Impersonate-Group) keeps every value."""
        headers = HTTPHeaderDict({"Accept": accept})
        for name, value in self.identity_headers():
            headers.add(name, value)
        return headers

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        """The server's address, the path and the query (parameters set to None left out)."""
        url = self.host + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        return url

    def _timeout(self, deadline: float | None) -> Any:
        """The configured timeouts, cut short by the deadline when one is given."""
        if deadline is None:
            return self.timeout
        left = max(deadline - time.monotonic(), 0.5)
        return urllib3.Timeout(connect=min(self.connect_timeout, left), read=min(self.request_timeout, left))

    def _api_error(self, resp: Any) -> ApiError:
        status_doc: dict[str, Any] = {}
        try:
            parsed = json.loads(resp.data)
            status_doc = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            pass
        reason = status_doc.get("reason") or resp.reason or ""
        message = status_doc.get("message") or resp.data.decode(errors="replace")[:300]
        causes = (status_doc.get("details") or {}).get("causes") or []
        if 300 <= resp.status < 400:
            message = (f"{resp.status} {resp.reason}: {self.host} redirects to {resp.headers.get('Location', '?')}; "
                       "give the API server's own address")
        elif resp.status == 401:
            message = (f"401 Unauthorized: the API server at {self.host} rejected the credentials "
                       f"(token or client certificate, taken from the {self.source})")
        else:
            message = f"{resp.status} {reason}: {message}"
        return ApiError(message, status=resp.status, reason=reason, causes=causes)


def _may_wait(deadline: float | None, pause: float) -> bool:
    return deadline is None or time.monotonic() + pause < deadline


def _tls_failure(host: str, exc: Exception) -> str:
    """A TLS failure is not retried: waiting will not change a certificate."""
    text = _reason(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or "hostname" in text.lower():
        return (f"TLS verification of the API server at {host} failed ({text}): give the cluster's CA certificate "
                "with ca_cert (K8S_AUTH_SSL_CA_CERT) or in the kubeconfig, or, only for a test cluster, "
                "set validate_certs: false")
    return f"TLS connection to the API server at {host} failed: {text}"


def _reason(exc: Exception) -> str:
    inner = getattr(exc, "reason", None) or exc
    text = str(inner)
    # urllib3 wraps the OS error as "<pool object at 0x..>: Failed to establish ...": keep the cause.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return text


def _retry_after(resp: Any, default: float) -> float:
    try:
        wait = float(resp.headers.get("Retry-After", default))
    except ValueError:
        return default
    return min(max(wait, 0.0), 5.0) if math.isfinite(wait) else default

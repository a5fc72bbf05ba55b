# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the cluster is and who we are: kubeconfig, explicit options, in-cluster.

``connection_settings`` turns resolved options (see ``_auth.resolve``) into
one dict the client builds its pool from. Kubeconfigs that use certificates
or tokens are read here directly; only those that need an exec plugin or an
auth-provider are handed to the ``kubernetes`` package, whose import alone
costs about 0.3 s, more than a whole no-op task may spend.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import ssl
import tempfile
import warnings
from collections.abc import Mapping
from typing import Any

from ._errors import AuthConfigError

try:
    import urllib3
    import yaml
except ImportError:  # pragma: no cover - reported by the module through _client.HAS_DEPS
    pass

IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class _Scratch:
    """A private folder for certificate data that ssl can only read from files."""

    path: str | None = None

    @classmethod
    def write(cls, name: str, data: bytes) -> str:
        if cls.path is None:
            cls.path = tempfile.mkdtemp(prefix="skipper-auth-")
            atexit.register(shutil.rmtree, cls.path, True)
        target = os.path.join(cls.path, name)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return target


def _load_kubeconfig_docs(kubeconfig: Any) -> dict[str, Any]:
    """The merged kubeconfig; relative paths in it are made absolute."""
    if isinstance(kubeconfig, Mapping):
        return dict(kubeconfig)
    # Like kubectl: several files separated by ':' merge, the first one to
    # define a name (or the current context) wins.
    if kubeconfig:
        paths = [os.path.expanduser(p) for p in str(kubeconfig).split(os.pathsep) if p]
    else:
        env = os.environ.get("KUBECONFIG", "")
        paths = [p for p in env.split(os.pathsep) if p] or [os.path.expanduser("~/.kube/config")]
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    found = False
    for path in paths:
        if not os.path.exists(path):
            if kubeconfig:
                raise AuthConfigError(f"kubeconfig file {path} does not exist")
            continue
        doc = _read_kubeconfig(path)
        found = True
        base = os.path.dirname(os.path.abspath(path))
        for section in ("clusters", "users", "contexts"):
            known = {e.get("name") for e in merged[section]}
            for entry in doc.get(section) or []:
                if entry.get("name") not in known:
                    merged[section].append(_absolutize(entry, base))
        if not merged.get("current-context"):
            merged["current-context"] = doc.get("current-context")
    if not found:
        return {}
    return merged


def _read_kubeconfig(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise AuthConfigError(f"cannot read kubeconfig {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        # Only the position: YAML's own message quotes the line, which may hold a token.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise AuthConfigError(f"kubeconfig {path} is not valid YAML{where}") from None
    if not isinstance(doc, dict) or not all(isinstance(doc.get(s) or [], list) for s in ("clusters", "users", "contexts")):
        raise AuthConfigError(f"kubeconfig {path} is not a kubeconfig (a mapping with clusters, users and contexts)")
    return doc


_PATH_KEYS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")


def _absolutize(entry: dict[str, Any], base: str) -> dict[str, Any]:
    entry = dict(entry)
    for part in ("cluster", "user"):
        if isinstance(entry.get(part), dict):
            inner = dict(entry[part])
            for key in _PATH_KEYS:
                if inner.get(key) and not os.path.isabs(inner[key]):
                    inner[key] = os.path.join(base, inner[key])
            entry[part] = inner
    return entry


def _named(doc: dict[str, Any], section: str, name: str | None, what: str) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return dict(entry.get(what) or {})
    raise AuthConfigError(f"kubeconfig has no {what} named {name!r}")


def _data_or_file(entry: dict[str, Any], key: str, scratch_name: str) -> str | None:
    data = entry.get(f"{key}-data")
    if data:
        try:
            decoded = base64.b64decode(data, validate=True)
        except (ValueError, TypeError):
            raise AuthConfigError(f"kubeconfig field {key}-data is not valid base64") from None
        return _Scratch.write(scratch_name, decoded)
    return entry.get(key)


def _via_kubernetes_package(kubeconfig: Any, context: str | None) -> dict[str, Any]:
    """Exec plugins and auth-providers: let the official client run them."""
    try:
        from kubernetes import client as k8s_client
        from kubernetes import config as k8s_config
    except ImportError:
        raise AuthConfigError(
            "this kubeconfig uses an exec plugin or auth-provider, which needs the Python package "
            "'kubernetes' on the host that runs the module (pip install kubernetes)"
        ) from None
    cfg = k8s_client.Configuration()
    loader_args: dict[str, Any] = {"context": context, "client_configuration": cfg, "persist_config": False}
    try:
        if isinstance(kubeconfig, Mapping):
            k8s_config.load_kube_config_from_dict(dict(kubeconfig), **loader_args)
        else:
            k8s_config.load_kube_config(config_file=kubeconfig or None, **loader_args)
    except Exception as exc:  # the plugin's own failure, whatever its type
        raise AuthConfigError(f"the kubeconfig's exec plugin or auth-provider failed: {type(exc).__name__}") from None
    token = (cfg.api_key or {}).get("authorization")
    return {
        "host": cfg.host,
        "token": token.split(" ", 1)[1] if token and token.startswith("Bearer ") else token,
        "ca_cert": cfg.ssl_ca_cert,
        "client_cert": cfg.cert_file,
        "client_key": cfg.key_file,
        "validate_certs": cfg.verify_ssl,
        "tls_server_name": getattr(cfg, "tls_server_name", None),
    }


def connection_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Turn resolved options into host, token, certificate files and verify flag."""
    conn: dict[str, Any] = {"host": None, "token": None, "ca_cert": None, "client_cert": None,
                            "client_key": None, "validate_certs": True, "tls_server_name": None}
    use_kubeconfig = bool(settings.get("kubeconfig") or settings.get("context") or not settings.get("host"))
    if use_kubeconfig:
        doc = _load_kubeconfig_docs(settings.get("kubeconfig"))
        if doc:
            context_name = settings.get("context") or doc.get("current-context")
            if not context_name:
                raise AuthConfigError("kubeconfig has no current-context; set the context option")
            context = _named(doc, "contexts", context_name, "context")
            cluster = _named(doc, "clusters", context.get("cluster"), "cluster")
            user = _named(doc, "users", context.get("user"), "user") if context.get("user") else {}
            if user.get("exec") or user.get("auth-provider"):
                conn.update(_via_kubernetes_package(settings.get("kubeconfig"), context_name))
            else:
                conn["host"] = cluster.get("server")
                conn["ca_cert"] = _data_or_file(cluster, "certificate-authority", "ca.crt")
                conn["validate_certs"] = not cluster.get("insecure-skip-tls-verify", False)
                conn["tls_server_name"] = cluster.get("tls-server-name")
                conn["client_cert"] = _data_or_file(user, "client-certificate", "client.crt")
                conn["client_key"] = _data_or_file(user, "client-key", "client.key")
                token = user.get("token")
                if not token and user.get("tokenFile"):
                    try:
                        with open(user["tokenFile"], encoding="utf-8") as handle:
                            token = handle.read().strip()
                    except OSError as exc:
                        raise AuthConfigError(f"cannot read the kubeconfig's tokenFile {user['tokenFile']}: "
                                              f"{exc.strerror}") from None
                conn["token"] = token
        elif settings.get("kubeconfig") or settings.get("context"):
            raise AuthConfigError("no kubeconfig found to take the context from")
        elif os.path.exists(os.path.join(IN_CLUSTER_DIR, "token")) and os.environ.get("KUBERNETES_SERVICE_HOST"):
            try:
                with open(os.path.join(IN_CLUSTER_DIR, "token"), encoding="utf-8") as handle:
                    conn["token"] = handle.read().strip()
            except OSError as exc:
                raise AuthConfigError(f"cannot read the in-cluster service account token: {exc.strerror}") from None
            host = os.environ["KUBERNETES_SERVICE_HOST"]
            if ":" in host:
                host = f"[{host}]"
            conn["host"] = f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"
            conn["ca_cert"] = os.path.join(IN_CLUSTER_DIR, "ca.crt")
        else:
            raise AuthConfigError(
                "no Kubernetes credentials found: set kubeconfig (or K8S_AUTH_KUBECONFIG), or host with "
                "api_key (or K8S_AUTH_HOST and K8S_AUTH_API_KEY), or run inside a cluster"
            )
    # Explicit options refine what the kubeconfig said (same source only).
    for option, key in (("host", "host"), ("api_key", "token"), ("ca_cert", "ca_cert"),
                        ("client_cert", "client_cert"), ("client_key", "client_key")):
        if settings.get(option):
            conn[key] = settings[option]
    if settings.get("validate_certs") is not None:
        conn["validate_certs"] = settings["validate_certs"]
    if not conn["host"]:
        raise AuthConfigError("the kubeconfig's cluster has no server address")
    conn["host"] = str(conn["host"]).rstrip("/")
    for key in ("ca_cert", "client_cert", "client_key"):
        if conn[key] and not os.path.exists(conn[key]):
            raise AuthConfigError(f"{key} file {conn[key]} does not exist")
    return conn


def open_pool(conn: Mapping[str, Any]) -> Any:
    """One urllib3 pool manager holding the TLS settings and client certificate of ``conn``."""
    if conn["validate_certs"]:
        try:
            ctx = ssl.create_default_context(cafile=conn["ca_cert"]) if conn["ca_cert"] else ssl.create_default_context()
        except (OSError, ssl.SSLError) as exc:
            raise AuthConfigError(f"cannot load the CA certificate {conn['ca_cert']}: {exc}") from None
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    if conn["client_cert"]:
        try:
            ctx.load_cert_chain(conn["client_cert"], conn["client_key"])
        except (OSError, ssl.SSLError) as exc:
            raise AuthConfigError(f"cannot load the client certificate {conn['client_cert']}: {exc}") from None
    pool_args: dict[str, Any] = {"ssl_context": ctx, "maxsize": 8, "retries": False}
    if conn["tls_server_name"]:
        pool_args["server_hostname"] = conn["tls_server_name"]
        pool_args["assert_hostname"] = conn["tls_server_name"]
    return urllib3.PoolManager(**pool_args)

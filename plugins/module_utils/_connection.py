# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the cluster is and who we are: kubeconfig, explicit options, in-cluster.

``connection_settings`` turns resolved options (see ``_auth.resolve``) into
one dict the client builds its pool from: host, token, certificate files,
extra headers (impersonation, basic auth), the proxy and warnings.

Kubeconfigs are read here directly, because importing the ``kubernetes``
package costs about 0.3 s, more than a whole no-op task may spend. The reader
understands certificates, tokens, token files, impersonation, basic auth and
proxies; users that need an exec plugin or an auth-provider get their token
or certificate from the ``kubernetes`` package; any other key is refused
with its name and file rather than silently skipped.
"""

from __future__ import annotations

import atexit
import base64
import ipaddress
import os
import shutil
import ssl
import tempfile
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ._auth import ENV_NAMES, looks_like_path
from ._errors import AuthConfigError

try:
    import urllib3
    import yaml
except ImportError:  # pragma: no cover - reported by the module through _client.HAS_DEPS
    pass

IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# What client-go's kubeconfig types define. Anything else in a user or a
# cluster entry is a typo or a feature this reader would silently skip.
USER_KEYS = frozenset((
    "client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "tokenFile",
    "as", "as-uid", "as-groups", "as-user-extra", "username", "password", "auth-provider", "exec", "extensions",
))
CLUSTER_KEYS = frozenset((
    "server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
    "tls-server-name", "proxy-url", "extensions",
    "disable-compression",  # harmless: requests never ask for compression
))
_PATH_KEYS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")


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


class Kubeconfig:
    """One kubeconfig, merged from its files like kubectl does; each entry knows where it came from."""

    def __init__(self, where: str) -> None:
        self.where = where  # for messages: "kubeconfig /a/config" or "the inline kubeconfig"
        self.entries: dict[str, dict[str, tuple[dict[str, Any], str]]] = {"clusters": {}, "users": {}, "contexts": {}}
        self.current_context: str | None = None

    @classmethod
    def load(cls, kubeconfig: Any, env: Mapping[str, str]) -> Kubeconfig | None:
        """The kubeconfig given (a path list or a mapping), else KUBECONFIG or ~/.kube/config; None if none exists."""
        if isinstance(kubeconfig, Mapping):
            config = cls("the inline kubeconfig")
            config._add(_checked_doc(dict(kubeconfig), config.where), config.where, None)
            return config
        if kubeconfig is not None and not isinstance(kubeconfig, str):
            raise AuthConfigError(f"kubeconfig must be a file path or a dictionary, not a {type(kubeconfig).__name__}")
        if kubeconfig and not looks_like_path(kubeconfig):
            raise AuthConfigError(
                "kubeconfig is neither a file path nor a dictionary: kubeconfig content must be given as a "
                "dictionary (for example through the from_yaml filter); the value is not shown, as it may hold credentials"
            )
        if kubeconfig:
            paths = [os.path.expanduser(p) for p in kubeconfig.split(os.pathsep) if p]
        else:
            paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p] or [os.path.expanduser("~/.kube/config")]
        found = []
        for path in paths:
            if os.path.exists(path):
                found.append(path)
            elif kubeconfig:
                # Like kubectl: a file named on purpose must exist; KUBECONFIG may list absent ones.
                raise AuthConfigError(f"kubeconfig file {path} does not exist")
        if not found:
            return None
        config = cls(f"kubeconfig {os.pathsep.join(found)}")
        for path in found:
            config._add(_read_kubeconfig(path), f"kubeconfig {path}", os.path.dirname(os.path.abspath(path)))
        return config

    def _add(self, doc: dict[str, Any], where: str, base: str | None) -> None:
        # The first file to define a name (or the current context) wins.
        for section, kind in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for index, entry in enumerate(doc.get(section) or []):
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise AuthConfigError(f"{section} entry {index + 1} in {where} has no name")
                body = entry.get(kind) or {}
                if not isinstance(body, dict):
                    raise AuthConfigError(f"{kind} {entry['name']!r} in {where} is not a mapping")
                if base is not None:
                    body = _absolutize(body, base)
                self.entries[section].setdefault(entry["name"], (body, where))
        if not self.current_context and isinstance(doc.get("current-context"), str):
            self.current_context = doc["current-context"]

    def context(self, name: str) -> tuple[dict[str, Any], str]:
        if name not in self.entries["contexts"]:
            known = ", ".join(repr(n) for n in sorted(self.entries["contexts"]))
            raise AuthConfigError(f"context {name!r} is not in {self.where} "
                                  f"({'its contexts: ' + known if known else 'it has no contexts'})")
        return self.entries["contexts"][name]

    def named(self, section: str, name: Any, context: str, context_where: str) -> tuple[dict[str, Any], str]:
        kind = section[:-1]
        if not name:
            raise AuthConfigError(f"context {context!r} in {context_where} names no {kind}")
        if name not in self.entries[section]:
            raise AuthConfigError(f"context {context!r} in {context_where} names the {kind} {name!r}, "
                                  f"which {self.where} does not define")
        return self.entries[section][name]


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
    return _checked_doc(doc, f"kubeconfig {path}")


def _checked_doc(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not all(isinstance(doc.get(s) or [], list) for s in ("clusters", "users", "contexts")):
        raise AuthConfigError(f"{where} is not a kubeconfig (a mapping with clusters, users and contexts)")
    return doc


def _absolutize(body: dict[str, Any], base: str) -> dict[str, Any]:
    body = dict(body)
    for key in _PATH_KEYS:
        if isinstance(body.get(key), str) and body[key] and not os.path.isabs(body[key]):
            body[key] = os.path.join(base, body[key])
    return body


def _refuse_unknown_keys(body: Mapping[str, Any], known: frozenset[str], what: str) -> None:
    unknown = sorted(str(key) for key in body if key not in known)
    if unknown:
        raise AuthConfigError(
            f"{what} has the key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)}, which "
            f"skipper.platform does not understand (a typo?); it knows {', '.join(sorted(known))}"
        )


def _text(body: Mapping[str, Any], key: str, what: str) -> str | None:
    """A string field, or None; other types are refused without showing the value."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AuthConfigError(f"{key} of {what} must be a string, not a {type(value).__name__}")
    return value


def _header_value(value: Any, key: str, what: str) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isprintable():
        raise AuthConfigError(f"{key} of {what} must be printable ASCII text")
    return value


# RFC 7230 token characters: what may stand in a header name unescaped.
_TOKEN_BYTES = frozenset(b"!#$&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _escape_header_key(key: str) -> str:
    """Percent-encode what a header name cannot hold (and '%' itself), as kubectl does for extra keys."""
    return "".join(chr(b) if b in _TOKEN_BYTES else f"%{b:02X}" for b in key.encode("utf-8"))


def impersonation_headers(user: Mapping[str, Any], what: str) -> list[tuple[str, str]]:
    """The Impersonate-* headers kubectl sends for a user's ``as``, ``as-uid``, ``as-groups``, ``as-user-extra``."""
    acting = user.get("as")
    uid, groups, extra = user.get("as-uid"), user.get("as-groups"), user.get("as-user-extra")
    if not acting:
        given = [key for key, value in (("as-uid", uid), ("as-groups", groups), ("as-user-extra", extra)) if value]
        if given:
            raise AuthConfigError(f"{what} sets {', '.join(given)} but not as (the user to act as); "
                                  "kubectl would silently ignore them: set as too, or remove them")
        return []
    headers = [("Impersonate-User", _header_value(acting, "as", what))]
    if uid:
        headers.append(("Impersonate-Uid", _header_value(uid, "as-uid", what)))
    if groups is not None and not isinstance(groups, list):
        raise AuthConfigError(f"as-groups of {what} must be a list of group names")
    headers.extend(("Impersonate-Group", _header_value(group, "as-groups", what)) for group in groups or [])
    extra = extra or {}
    if not isinstance(extra, dict) or not all(isinstance(k, str) and k and isinstance(v, list) for k, v in extra.items()):
        raise AuthConfigError(f"as-user-extra of {what} must be a mapping of keys to lists of values")
    for key, values in sorted(extra.items()):
        name = "Impersonate-Extra-" + _escape_header_key(key)
        headers.extend((name, _header_value(value, "as-user-extra", what)) for value in values)
    return headers


def _data_or_file(entry: Mapping[str, Any], key: str, scratch_name: str, what: str) -> str | None:
    data = entry.get(f"{key}-data")
    if data:
        try:
            decoded = base64.b64decode(data, validate=True)
        except (ValueError, TypeError):
            raise AuthConfigError(f"kubeconfig field {key}-data is not valid base64 (in {what})") from None
        return _Scratch.write(scratch_name, decoded)
    return _text(entry, key, what)


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


def _user_credentials(user: Mapping[str, Any], what: str, kubeconfig: Any, context: str) -> dict[str, Any]:
    """Token, certificate and headers of a kubeconfig user entry."""
    _refuse_unknown_keys(user, USER_KEYS, what)
    found: dict[str, Any] = {"headers": impersonation_headers(user, what)}
    if user.get("exec") or user.get("auth-provider"):
        delegated = _via_kubernetes_package(kubeconfig, context)
        found.update({key: delegated.get(key) for key in ("token", "client_cert", "client_key")})
    else:
        found["client_cert"] = _data_or_file(user, "client-certificate", "client.crt", what)
        found["client_key"] = _data_or_file(user, "client-key", "client.key", what)
        found["token"] = _text(user, "token", what) or _token_file(user, what)
    username, password = _text(user, "username", what), _text(user, "password", what)
    if password and not username:
        raise AuthConfigError(f"{what} sets a password but no username")
    if username:
        if found.get("token") or user.get("tokenFile"):
            raise AuthConfigError(f"{what} sets both a token and username/password; kubectl refuses this too: keep one")
        pair = f"{username}:{password or ''}".encode()
        found["headers"].append(("Authorization", "Basic " + base64.b64encode(pair).decode()))
    return found


def _token_file(user: Mapping[str, Any], what: str) -> str | None:
    path = _text(user, "tokenFile", what)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise AuthConfigError(f"cannot read the tokenFile {path} of {what}: {exc.strerror}") from None


def proxy_url(value: str, origin: str) -> str:
    """A proxy address as Go reads it (no scheme means http://); socks and other schemes are refused."""
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        parts = urlsplit("http://" + value)
    scheme = parts.scheme.lower()
    if scheme in ("socks5", "socks5h", "socks4", "socks4a", "socks"):
        raise AuthConfigError(f"{origin} names a {scheme} proxy, which skipper.platform does not support: use an "
                              "HTTP(S) proxy, or leave the API server out of the proxy (NO_PROXY)")
    if scheme not in ("http", "https") or not parts.hostname:
        raise AuthConfigError(f"{origin} is not an http:// or https:// proxy address")
    return parts.geturl()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _no_proxy_matches(entry: str, host: str, port: str) -> bool:
    """One NO_PROXY entry against a lowercase host: '*', a CIDR, an IP, a name or a .suffix, each with an optional port."""
    if entry == "*":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if "/" in entry:
        try:
            return ip is not None and ip in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    want_port = ""
    if entry.startswith("[") and "]" in entry:
        name, rest = entry[1:].split("]", 1)
        want_port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        name, want_port = entry.split(":")
    else:
        name = entry
    if not name:
        return False
    if want_port and want_port != port:
        return False
    try:
        listed = ipaddress.ip_address(name)
    except ValueError:
        listed = None
    if listed is not None:
        return ip == listed
    if name.startswith("*."):
        name = name[1:]
    if name.startswith("."):
        return host.endswith(name)
    return host == name or host.endswith("." + name)


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy kubectl would take from the environment for ``url``, if any.

    Like Go's net/http: HTTPS_PROXY (or https_proxy) for https, HTTP_PROXY for
    http; never for localhost or a loopback address; not for hosts that
    NO_PROXY (or no_proxy) lists by name, domain suffix, IP, CIDR or ``*``.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    names = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    variable = next((name for name in names if env.get(name)), "")
    host = parts.hostname.lower()
    if not variable or _is_loopback(host):
        return None
    try:
        port = str(parts.port or (443 if scheme == "https" else 80))
    except ValueError:
        return None
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    entries = (entry.strip().lower() for entry in no_proxy.split(","))
    if any(_no_proxy_matches(entry, host, port) for entry in entries if entry):
        return None
    return proxy_url(env[variable], variable)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def connection_settings(settings: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Turn resolved options into host, token, certificate files, headers, proxy, verify flag and warnings."""
    env = os.environ if env is None else env
    conn: dict[str, Any] = {"host": None, "token": None, "ca_cert": None, "client_cert": None, "client_key": None,
                            "validate_certs": True, "tls_server_name": None, "proxy": None, "headers": [],
                            "warnings": list(settings.get("warnings") or [])}
    # An explicit token or certificate replaces the kubeconfig user's credentials as a whole.
    explicit_identity = bool(settings.get("api_key") or settings.get("client_cert"))
    insecure_because = ""
    if settings.get("kubeconfig") or not settings.get("host"):
        config = Kubeconfig.load(settings.get("kubeconfig"), env)
        if config:
            insecure_because = _from_kubeconfig(conn, config, settings, explicit_identity)
        elif settings.get("context"):
            looked = env.get("KUBECONFIG") and f"KUBECONFIG ({env['KUBECONFIG']})" or "~/.kube/config"
            raise AuthConfigError(f"context {settings['context']!r} is set, but there is no kubeconfig to take it from: "
                                  f"{looked} does not exist, and neither host/api_key nor the in-cluster service "
                                  "account have contexts")
        elif _in_cluster_available(env):
            _from_in_cluster(conn, env, explicit_identity)
        else:
            raise AuthConfigError(
                "no Kubernetes credentials found: set kubeconfig (or K8S_AUTH_KUBECONFIG), or host with "
                "api_key (or K8S_AUTH_HOST and K8S_AUTH_API_KEY), or run inside a cluster"
            )
    elif settings.get("context"):
        raise AuthConfigError(f"context {settings['context']!r} is set, but the credentials come from host/api_key, "
                              "which have no contexts: remove the context, or give a kubeconfig that defines it")
    # Explicit options refine what the kubeconfig said (same source only).
    for option, key in (("host", "host"), ("api_key", "token"), ("ca_cert", "ca_cert"),
                        ("client_cert", "client_cert"), ("client_key", "client_key")):
        if settings.get(option):
            conn[key] = settings[option]
    if settings.get("validate_certs") is not None:
        conn["validate_certs"] = settings["validate_certs"]
        insecure_because = ("validate_certs is false" if settings.get("source") != "environment"
                            else f"{ENV_NAMES['validate_certs']} is false")
    conn["host"] = str(conn["host"]).rstrip("/")
    if not conn["proxy"]:
        conn["proxy"] = proxy_for(conn["host"], env)
    for key in ("ca_cert", "client_cert", "client_key"):
        if conn[key] and not os.path.exists(conn[key]):
            raise AuthConfigError(f"{key} file {conn[key]} does not exist")
    if not conn["validate_certs"]:
        conn["warnings"].append(
            f"TLS certificate checks are off for {conn['host']} ({insecure_because}): nothing proves that the "
            "server is the API server, so whoever sits in between can read the credentials sent. Give the CA "
            "certificate (ca_cert) and turn the checks on."
        )
    return conn


def _from_kubeconfig(conn: dict[str, Any], config: Kubeconfig, settings: Mapping[str, Any],
                     explicit_identity: bool) -> str:
    """Fill ``conn`` from the selected context; returns why TLS checks are off, if they are."""
    context_name = settings.get("context") or config.current_context
    if not context_name:
        raise AuthConfigError(f"{config.where} has no current-context; set the context option")
    context, context_where = config.context(context_name)
    cluster, cluster_where = config.named("clusters", context.get("cluster"), context_name, context_where)
    what = f"cluster {context['cluster']!r} in {cluster_where}"
    _refuse_unknown_keys(cluster, CLUSTER_KEYS, what)
    conn["host"] = _text(cluster, "server", what)
    if not conn["host"] and not settings.get("host"):
        raise AuthConfigError(f"{what} has no server address")
    conn["ca_cert"] = _data_or_file(cluster, "certificate-authority", "ca.crt", what)
    conn["tls_server_name"] = _text(cluster, "tls-server-name", what)
    insecure = cluster.get("insecure-skip-tls-verify", False)
    if not isinstance(insecure, bool):
        raise AuthConfigError(f"insecure-skip-tls-verify of {what} must be true or false")
    conn["validate_certs"] = not insecure
    if _text(cluster, "proxy-url", what):
        # Like kubectl: the kubeconfig's proxy is used for its server whatever NO_PROXY says.
        conn["proxy"] = proxy_url(cluster["proxy-url"], f"proxy-url of {what}")
    if context.get("user") and not explicit_identity:
        user, user_where = config.named("users", context["user"], context_name, context_where)
        found = _user_credentials(user, f"user {context['user']!r} in {user_where}", settings.get("kubeconfig"),
                                  context_name)
        conn["headers"].extend(found.pop("headers"))
        conn.update(found)
    return f"insecure-skip-tls-verify in {what}" if insecure else ""


def _in_cluster_available(env: Mapping[str, str]) -> bool:
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(os.path.join(IN_CLUSTER_DIR, "token"))


def _from_in_cluster(conn: dict[str, Any], env: Mapping[str, str], explicit_identity: bool) -> None:
    if not explicit_identity:
        try:
            with open(os.path.join(IN_CLUSTER_DIR, "token"), encoding="utf-8") as handle:
                conn["token"] = handle.read().strip()
        except OSError as exc:
            raise AuthConfigError(f"cannot read the in-cluster service account token: {exc.strerror}") from None
    host = env["KUBERNETES_SERVICE_HOST"]
    if ":" in host:
        host = f"[{host}]"
    conn["host"] = f"https://{host}:{env.get('KUBERNETES_SERVICE_PORT', '443')}"
    conn["ca_cert"] = os.path.join(IN_CLUSTER_DIR, "ca.crt")


def open_pool(conn: Mapping[str, Any]) -> Any:
    """One urllib3 pool manager holding the TLS settings, client certificate and proxy of ``conn``."""
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
    if not conn.get("proxy"):
        return urllib3.PoolManager(**pool_args)
    proxy = urlsplit(conn["proxy"])
    proxy_headers = None
    if proxy.username is not None:
        # Credentials in the proxy address go in a header; urllib3 would not send them.
        login = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
        proxy_headers = urllib3.make_headers(proxy_basic_auth=login)
    try:
        return urllib3.ProxyManager(_without_credentials(conn["proxy"]), proxy_headers=proxy_headers, **pool_args)
    except (ValueError, urllib3.exceptions.HTTPError) as exc:
        raise AuthConfigError(f"cannot use the proxy {_without_credentials(conn['proxy'])}: {type(exc).__name__}") from None

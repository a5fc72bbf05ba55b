# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking an app's input before anything is sent (pure functions).

Every error names the app, the field and the reason, and is raised before
the first request that could change the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ._errors import ValidationError

APP_NAME_MAX = 50
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
RESERVED_ENV_NAMES = (".", "..")
# The characters of an image reference (registry, path, tag, digest); anything else is not one.
IMAGE_REFERENCE = re.compile(r"^[A-Za-z0-9\[][A-Za-z0-9._/:@\[\]-]*$")  # [::1]:5000/web too
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
RESERVED_LABEL_PREFIXES = ("app.kubernetes.io/", "skipper.platform/")

QUANTITY = re.compile(r"^(?P<num>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def is_subdomain(text: str) -> bool:
    return len(text) <= 253 and bool(DNS1123_SUBDOMAIN.match(text))


def fail(app: str, field: str, reason: str) -> ValidationError:
    return ValidationError(f"app {app}: {field}: {reason}", app=app, field=field)


def mapping_of(app: str, field: str, value: Any, example: str) -> Mapping[str, Any]:
    """``value`` when it is a mapping (None as an empty one); anything else is refused naming the field.

    A formation hands inventory values over as they are, without the app
    module's argument spec, so a list or a string must be caught here.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail(app, field, f"must be a mapping such as {example}, not a {type(value).__name__}")
    return value


def strict_bool(app: str, field: str, value: Any, default: bool = False) -> bool:
    """A true/false value; None is the default.

    The words Ansible reads as booleans keep their meaning (``"no"`` is
    false, as it is for a module option); any other value is refused rather
    than read as true for being non-empty.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise fail(app, field, f"{value!r} must be true or false") from None


def canonical_quantity(value: Any, app: str = "?", field: str = "quantity") -> str:
    """A Kubernetes quantity in the form the API server stores it.

    Sending what the server would store keeps server-side apply from seeing a
    change where there is none (``1024Mi`` is stored as ``1Gi``, ``0.5`` as
    ``500m``). Values below one milli-unit round up, as the server does.
    """
    text = str(value).strip()
    match = QUANTITY.match(text)
    if not match:
        raise fail(app, field, f"{text!r} is not a Kubernetes quantity (for example 250m, 0.5, 128Mi, 1Gi)")
    suffix = match.group("suffix") or ""
    try:
        number = Decimal(match.group("num"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise fail(app, field, f"{text!r} is not a Kubernetes quantity") from None
    if suffix in BINARY:
        amount = number * (Decimal(2) ** BINARY[suffix])
        if amount == amount.to_integral_value():
            amount_int = int(amount)
            if amount_int == 0:
                return "0"
            for name, power in sorted(BINARY.items(), key=lambda kv: -kv[1]):
                if amount_int % (1 << power) == 0:
                    return f"{amount_int >> power}{name}"
            return str(amount_int)
        # A fractional number of bytes: the server switches to decimal form.
        return _decimal_form(amount)
    if suffix[:1] in ("e", "E"):
        return _decimal_form(number * (Decimal(10) ** int(suffix[1:])))
    return _decimal_form(number * (Decimal(10) ** DECIMAL[suffix]))


def _decimal_form(amount: Decimal) -> str:
    # The API keeps at most nano precision and rounds any remainder up.
    nanos = (amount * Decimal(10) ** 9).to_integral_value(rounding="ROUND_CEILING")
    if nanos == 0:
        return "0"
    scaled = int(nanos)
    exponent = -9
    while scaled % 1000 == 0 and exponent < 18:
        scaled //= 1000
        exponent += 3
    suffix = {v: k for k, v in DECIMAL.items()}[exponent]
    return f"{scaled}{suffix}"


def quantity_value(text: str) -> Decimal:
    """The numeric value of a canonical quantity, for comparisons."""
    match = QUANTITY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a quantity")
    suffix = match.group("suffix") or ""
    number = Decimal(match.group("num"))
    if suffix in BINARY:
        return number * (Decimal(2) ** BINARY[suffix])
    if suffix[:1] in ("e", "E"):
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * (Decimal(10) ** DECIMAL[suffix])


def split_image(app: str, image: str, version: str | None) -> tuple[str, str]:
    """Return (image reference, version) or raise when the tag is missing or ``latest``."""
    if not isinstance(image, str) or not IMAGE_REFERENCE.match(image):
        raise fail(app, "image", f"{image!r} is not an image reference")
    repo, digest = (image.split("@", 1) + [""])[:2]
    last = repo.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    base = repo[: len(repo) - len(tag) - 1] if tag else repo
    if isinstance(version, float):
        # YAML reads 1.10 as the number 1.1: deploying "1.1" would be the wrong version.
        raise fail(app, "version", f"{version!r} is a number, not text: quote the version (\"1.10\", not 1.10), "
                   "or YAML may have changed it")
    if isinstance(version, bool) or (version is not None and not isinstance(version, (str, int))):
        raise fail(app, "version", f"must be text such as \"1.4.2\", not a {type(version).__name__}")
    if version is not None:
        version = str(version)
        if version == "latest":
            raise fail(app, "version", "'latest' is not a version: deploy a fixed version such as 1.4.2 or a git describe")
        if not TAG.match(version):
            raise fail(app, "version", f"{version!r} is not a valid image tag (letters, digits, '_', '.', '-'; at most 128)")
        if tag and tag != version:
            raise fail(app, "image", f"the image is tagged {tag!r} but version is {version!r}: give the image without a tag")
        if len(version) > 63 or not LABEL_VALUE.match(version):
            raise fail(app, "version", f"{version!r} cannot be a label value (at most 63 characters)")
        reference = f"{base}:{version}" + (f"@{digest}" if digest else "")
        return reference, version
    if digest and not tag:
        raise fail(app, "version", "an image pinned by digest needs a version to label it with")
    if not tag:
        raise fail(app, "image", f"{image!r} has no tag: set version (for example from git describe) or tag the image")
    if tag == "latest":
        raise fail(app, "image", f"{image!r} is tagged 'latest': deploy a fixed version")
    if len(tag) > 63 or not LABEL_VALUE.match(tag):
        raise fail(app, "image", f"the tag {tag!r} cannot be a label value; set version")
    return image, tag


def check_name(name: Any) -> str:
    if not isinstance(name, str) or len(name) > APP_NAME_MAX or not DNS1035.match(name):
        raise ValidationError(
            f"app {name}: name: must be a DNS-1035 label of at most {APP_NAME_MAX} characters "
            "(lower-case letters, digits and '-', starting with a letter)",
            app=str(name), field="name",
        )
    return name


def check_int(app: str, field: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            raise fail(app, field, f"{value!r} is not a whole number") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise fail(app, field, f"{value} is out of range: must be {bounds}")
    return value


def check_labels(app: str, labels: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in mapping_of(app, "labels", labels, "{team: shop}").items():
        key = str(key)
        prefix, _slash, name = key.rpartition("/")
        if prefix and not is_subdomain(prefix):
            raise fail(app, f"labels.{key}", f"the prefix {prefix!r} must be a DNS subdomain such as example.com")
        if key.startswith(RESERVED_LABEL_PREFIXES):
            raise fail(app, f"labels.{key}", f"labels under {key.split('/')[0]}/ are set by skipper.platform")
        if len(name) > 63 or not LABEL_NAME.match(name):
            raise fail(app, f"labels.{key}", "not a valid label name")
        text = str(value)
        if len(text) > 63 or not LABEL_VALUE.match(text):
            raise fail(app, f"labels.{key}", f"{text!r} is not a valid label value")
        out[key] = text
    return out


def check_env(app: str, env: Mapping[str, Any] | None, secrets: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    plain: dict[str, str] = {}
    for key, value in mapping_of(app, "env", env, "{LOG_LEVEL: info}").items():
        if not ENV_NAME.match(str(key)) or key in RESERVED_ENV_NAMES:
            raise fail(app, f"env.{key}", "not a valid environment variable name")
        if isinstance(value, (dict, list)) or value is None:
            raise fail(app, f"env.{key}", "must be a string, number or boolean")
        plain[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    refs: dict[str, dict[str, str]] = {}
    for key, ref in mapping_of(app, "secrets", secrets, "{DB_PASSWORD: {secret: db, key: password}}").items():
        field = f"secrets.{key}"
        if not ENV_NAME.match(str(key)) or key in RESERVED_ENV_NAMES:
            raise fail(app, field, "not a valid environment variable name")
        if key in plain:
            raise fail(app, field, "is also set in env; give each variable one source")
        if not isinstance(ref, Mapping) or not ref.get("secret") or not ref.get("key"):
            raise fail(app, field, "must be a mapping with 'secret' (a Secret's name) and 'key'")
        if not is_subdomain(str(ref["secret"])):
            raise fail(app, field, f"{ref['secret']!r} is not a valid Secret name")
        refs[str(key)] = {"secret": str(ref["secret"]), "key": str(ref["key"])}
    return plain, refs


def check_resources(app: str, resources: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for resource, spec in mapping_of(app, "resources", resources, "{cpu: {request: 100m}}").items():
        if resource not in ("cpu", "memory"):
            raise fail(app, f"resources.{resource}", "only cpu and memory can be set")
        if spec is None:
            continue
        if not isinstance(spec, Mapping) or set(spec) - {"request", "limit"}:
            raise fail(app, f"resources.{resource}", "must be a mapping with request and/or limit")
        entry = {}
        for bound in ("request", "limit"):
            if spec.get(bound) is not None:
                entry[bound] = canonical_quantity(spec[bound], app, f"resources.{resource}.{bound}")
        if "request" in entry and "limit" in entry and quantity_value(entry["request"]) > quantity_value(entry["limit"]):
            raise fail(app, f"resources.{resource}", f"request {entry['request']} is above limit {entry['limit']}")
        if entry:
            out[resource] = entry
    return out


def check_probes(app: str, probes: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind, spec in mapping_of(app, "probes", probes, "{readiness: {path: /healthz}}").items():
        if kind not in ("readiness", "liveness", "startup"):
            raise fail(app, f"probes.{kind}", "must be readiness, liveness or startup")
        if spec is None:
            continue
        if not isinstance(spec, Mapping):
            raise fail(app, f"probes.{kind}", "must be a mapping such as {path: /healthz}")
        unknown = set(spec) - {"path", "port", "command", "initial_delay", "period", "timeout", "failure_threshold"}
        if unknown:
            raise fail(app, f"probes.{kind}", f"unknown keys: {', '.join(sorted(unknown))}")
        if bool(spec.get("path")) == bool(spec.get("command")):
            raise fail(app, f"probes.{kind}", "give either path (an HTTP check) or command")
        command = spec.get("command")
        if command and (not isinstance(command, list) or not all(isinstance(c, (str, int)) for c in command)):
            raise fail(app, f"probes.{kind}.command", "must be a list such as [cat, /tmp/healthy], not a string")
        if spec.get("path") and not str(spec["path"]).startswith("/"):
            raise fail(app, f"probes.{kind}.path", "must start with /")
        entry: dict[str, Any] = {k: v for k, v in spec.items() if v is not None}
        if "port" in entry:
            entry["port"] = check_int(app, f"probes.{kind}.port", entry["port"], 1, 65535)
        for key in ("initial_delay", "period", "timeout", "failure_threshold"):
            if key in entry:
                entry[key] = check_int(app, f"probes.{kind}.{key}", entry[key], 0 if key == "initial_delay" else 1)
        out[kind] = entry
    return out


def check_routes(app: str, routes: Any, default_issuer: str | None) -> list[dict[str, Any]]:
    out = []
    seen = set()
    if routes is not None and not isinstance(routes, list):
        raise fail(app, "routes", f"must be a list such as [{{host: shop.example.com}}], not a {type(routes).__name__}")
    for index, route in enumerate(routes or []):
        field = f"routes[{index}]"
        if not isinstance(route, Mapping) or not route.get("host"):
            raise fail(app, field, "must be a mapping with at least 'host'")
        unknown = set(route) - {"host", "path", "tls", "issuer"}
        if unknown:
            raise fail(app, field, f"unknown keys: {', '.join(sorted(unknown))}")
        host = str(route["host"]).strip().lower()
        if len(host) > 253 or not HOSTNAME.match(host):
            raise fail(app, f"{field}.host", f"{route['host']!r} is not a hostname")
        path = str(route.get("path") or "/")
        if not path.startswith("/") or any(c.isspace() for c in path):
            raise fail(app, f"{field}.path", f"{path!r} must be an absolute URL path such as /api")
        if (host, path) in seen:
            raise fail(app, field, f"{host}{path} is routed twice")
        seen.add((host, path))
        tls = strict_bool(app, f"{field}.tls", route.get("tls"))
        issuer = route.get("issuer") or default_issuer
        if issuer is not None and not isinstance(issuer, str):
            raise fail(app, f"{field}.issuer", f"{issuer!r} is not the name of a cert-manager issuer")
        if tls and not issuer:
            raise fail(app, f"{field}.issuer", "TLS needs a cert-manager issuer (set issuer or tls_issuer)")
        out.append({"host": host, "path": path, "tls": tls, "issuer": issuer if tls else None})
    return out


def check_namespace(namespace: Any) -> str:
    if not isinstance(namespace, str) or len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        raise ValidationError(
            f"namespace {namespace}: must be a DNS-1123 label of at most 63 characters "
            "(lower-case letters, digits and '-')", field="namespace")
    return namespace


ACCESS_MODES = ("ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany")
VOLUME_KEYS = {"name", "path", "size", "storage_class", "access_mode", "read_only"}
TMP_VOLUME = "tmp"
SECURITY_DEFAULTS: dict[str, Any] = {
    "run_as_non_root": True,
    "read_only_root_filesystem": True,
    "allow_privilege_escalation": False,
    "privileged": False,
    "writable_tmp": True,
    "run_as_user": None,
    "run_as_group": None,
    "fs_group": None,
}


def check_volumes(app: str, volumes: Any) -> list[dict[str, Any]]:
    """PersistentVolumeClaims mounted at a path: ``{name, path, size}``, optionally a class and access mode."""
    if volumes is None:
        return []
    if not isinstance(volumes, list):
        raise fail(app, "volumes", "must be a list such as [{name: files, path: /app/files, size: 1Gi}]")
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    paths: set[str] = set()
    for index, volume in enumerate(volumes):
        field = f"volumes[{index}]"
        if not isinstance(volume, Mapping):
            raise fail(app, field, "must be a mapping with name, path and size")
        unknown = set(volume) - VOLUME_KEYS
        if unknown:
            raise fail(app, field, f"unknown keys: {', '.join(sorted(map(str, unknown)))}; known: "
                       f"{', '.join(sorted(VOLUME_KEYS))}")
        name = volume.get("name")
        if not isinstance(name, str) or not DNS1123_LABEL.match(name) or len(f"{app}-{name}") > 63:
            raise fail(app, f"{field}.name", f"{name!r} must be a DNS-1123 label, short enough that "
                       f"{app}-<name> is at most 63 characters")
        if name == TMP_VOLUME:
            raise fail(app, f"{field}.name", "tmp is the app's writable /tmp; choose another name")
        if name in names:
            raise fail(app, f"{field}.name", f"volume {name} is declared twice")
        path = volume.get("path")
        if not path:
            raise fail(app, f"{field}.path", "missing: give the absolute path to mount the volume at, such as /app/files")
        path = str(path)
        if not path.startswith("/") or path == "/" or any(c.isspace() for c in path) or "/../" in f"{path}/":
            raise fail(app, f"{field}.path", f"{path!r} must be an absolute path below / such as /app/files")
        path = path.rstrip("/")
        if path in paths:
            raise fail(app, f"{field}.path", f"{path} is mounted twice")
        if volume.get("size") is None:
            raise fail(app, f"{field}.size", "missing: give the claim's size, such as 1Gi")
        size = canonical_quantity(volume["size"], app, f"{field}.size")
        if quantity_value(size) <= 0:
            raise fail(app, f"{field}.size", f"{size} must be above zero")
        if quantity_value(size) < 1024 * 1024:
            # A bare number is bytes to the API server: "5" meant as 5Gi would make a 5-byte claim.
            raise fail(app, f"{field}.size", f"{volume['size']!r} is under 1Mi (a number without a unit is bytes): "
                       "give a unit, such as 5Gi")
        mode = volume.get("access_mode") or "ReadWriteOnce"
        if mode not in ACCESS_MODES:
            raise fail(app, f"{field}.access_mode", f"{mode!r} is not one of {', '.join(ACCESS_MODES)}")
        storage_class = volume.get("storage_class")
        if storage_class is not None and not is_subdomain(str(storage_class)):
            raise fail(app, f"{field}.storage_class", f"{storage_class!r} is not a StorageClass name")
        names.add(name)
        paths.add(path)
        out.append({"name": name, "path": path, "size": size, "access_mode": mode,
                    "storage_class": None if storage_class is None else str(storage_class),
                    "read_only": strict_bool(app, f"{field}.read_only", volume.get("read_only"))})
    return sorted(out, key=lambda v: v["name"])


def check_security(app: str, security: Any) -> dict[str, Any]:
    """The pod's and container's security settings, safe unless the app says otherwise."""
    given = {} if security is None else security
    if not isinstance(given, Mapping):
        raise fail(app, "security", "must be a mapping such as {run_as_user: 1000}")
    unknown = set(given) - set(SECURITY_DEFAULTS)
    if unknown:
        raise fail(app, "security", f"unknown keys: {', '.join(sorted(map(str, unknown)))}; known: "
                   f"{', '.join(sorted(SECURITY_DEFAULTS))}")
    out = dict(SECURITY_DEFAULTS)
    for key, value in given.items():
        if value is None:
            continue
        if key in ("run_as_user", "run_as_group", "fs_group"):
            out[key] = check_int(app, f"security.{key}", value, 0, 2147483647)
        elif not isinstance(value, bool):
            raise fail(app, f"security.{key}", f"{value!r} must be true or false")
        else:
            out[key] = value
    if out["privileged"] and "allow_privilege_escalation" not in given:
        # The API refuses a privileged container that may not escalate.
        out["allow_privilege_escalation"] = True
    if out["privileged"] and not out["allow_privilege_escalation"]:
        raise fail(app, "security.allow_privilege_escalation", "a privileged container always may escalate; "
                   "set it to true or drop privileged")
    if out["run_as_non_root"] and out["run_as_user"] == 0:
        raise fail(app, "security.run_as_user", "0 is root, but run_as_non_root is true")
    return out


def normalize_app(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a whole app and return the normalized spec the builders use.

    ``replicas`` is None when the app does not declare it, or declares
    ``autoscale``: then it is not sent, so whoever owns it keeps it.
    """
    name = check_name(params.get("name"))
    image, version = split_image(name, str(params.get("image") or ""), params.get("version"))
    replicas = params.get("replicas")
    env, secrets = check_env(name, params.get("env"), params.get("secrets"))
    return {
        "name": name,
        "image": image,
        "version": version,
        "port": check_int(name, "port", params.get("port", 8080), 1, 65535),
        "replicas": None if replicas is None else check_int(name, "replicas", replicas, 0),
        "env": env,
        "secrets": secrets,
        "resources": check_resources(name, params.get("resources")),
        "probes": check_probes(name, params.get("probes")),
        "labels": check_labels(name, params.get("labels")),
        "routes": check_routes(name, params.get("routes"), params.get("tls_issuer")),
        "volumes": _volumes_beside_tmp(name, params),
        "security": check_security(name, params.get("security")),
    }


def _volumes_beside_tmp(name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    volumes = check_volumes(name, params.get("volumes"))
    security = params.get("security") or {}
    writable_tmp = security.get("writable_tmp", True) if isinstance(security, Mapping) else True
    for index, volume in enumerate(volumes):
        if writable_tmp is not False and volume["path"] == "/tmp":
            raise fail(name, f"volumes[{index}].path", "/tmp is already the app's writable emptyDir; set "
                       "security.writable_tmp: false to mount a volume there")
    return volumes

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copying a directory between the controller and an app's pods, only what differs.

Both sides are listed first (type, size, permissions, link target): the
controller with ``os.lstat``, the pod with one exec of ``find`` and ``stat``.
Files of the same size on both sides are then summed (SHA-256): with
``hashlib`` here, with one exec of ``sha256sum`` there. The plan (pure, see ``plan``) then
names the entries to copy and to delete, and one more exec moves them as a
tar stream, which carries modes, mtimes and symbolic links.

No partial file ever sits at a destination path:

- push: the pod extracts into a hidden folder inside the destination
  (``.skipper-rsync-<id>``, so the same filesystem), checks that the archive's
  last member arrived, and only then renames each file into place; a cut
  stream leaves the hidden folder, which the next push removes and listings
  skip.
- pull: each member is written to a temporary name beside its destination
  and renamed when complete; a member that is cut short is removed.

Pulled members are trusted no further than the plan: only the paths asked
for, only regular files, symbolic links and hard links to files already
pulled, and no symbolic link that points out of the destination.

A real ``rsync`` is not used: it needs its own program in the container (the
test cluster's has none, so it could not be measured there) and a
remote-shell wrapper around exec, while ``sh``, ``tar`` and coreutils are in
nearly every image. benchmarks/rsync.py measures this against full copies.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import os
import posixpath
import secrets
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ._errors import SkipperError, ValidationError
from ._exec import STDOUT, ExecStream, run, run_captured

TMP_PREFIX = ".skipper-rsync-"
CHUNK = 256 * 1024

# One exec lists the pod's tree. Sections keep the parsing simple; names holding
# a newline are refused (see parse_listing).
LIST_SCRIPT = r"""
[ -e "$1" ] || { echo "skipper-rsync: $1 does not exist" >&2; exit 3; }
[ -d "$1" ] || { echo "skipper-rsync: $1 is not a directory" >&2; exit 4; }
cd -- "$1" || exit 5
echo '#stat'
find . ! -name . ! -path './.skipper-rsync-*' -exec stat -c '%f %s %Y %n' -- {} + || exit 6
echo '#link'
find . ! -path './.skipper-rsync-*' -type l -exec sh -c 'for f; do printf "%s\n%s\n" "$f" "$(readlink -- "$f")"; done' sh {} + || exit 6
echo '#end'
"""

# Sums of the files named on stdin ($2 bytes, one name a line), in one sha256sum
# run (or a few, by xargs); only files whose size matches on both sides are summed.
SUM_SCRIPT = r"""
cd -- "$1" || exit 5
head -c "$2" | tr '\n' '\0' | xargs -0 sha256sum --
"""

# Push: $1 destination, $2 archive size, $3 transfer id. Reads exactly the
# archive (a command's input cannot always be closed: v4 servers, some
# runtimes), extracts it aside, and moves each entry into place: one mv per
# folder (each file is renamed, never written, at its destination).
PUSH_SCRIPT = r"""
set -e
dest=$1
cd -- "$dest"
rm -rf ./.skipper-rsync-*
tmp="$dest/.skipper-rsync-$3"
mkdir -- "$tmp"
trap 'rm -rf -- "$tmp"' EXIT
head -c "$2" | tar -xpof - -C "$tmp"
[ -f "$tmp/ctl/done" ] || { echo "skipper-rsync: the archive was cut short; nothing was moved into place" >&2; exit 7; }
while IFS= read -r p; do rm -rf -- "./$p"; done < "$tmp/ctl/delete"
[ -d "$tmp/data" ] || exit 0
cd "$tmp/data"
find . -type d ! -name . -exec sh -c 'for d; do set -- "$@" "$0/$d"; shift; done; mkdir -p -- "$@"' "$dest" {} +
find . -type d -exec sh -c '
for d; do
  set --
  for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do
    if [ -L "$f" ] || { [ -e "$f" ] && [ ! -d "$f" ]; }; then set -- "$@" "$f"; fi
  done
  [ $# -eq 0 ] || mv -f -- "$@" "$0/$d/"
done' "$dest" {} +
find . -depth -type d ! -name . -exec sh -c 'for d; do chmod "$(stat -c %a "$d")" "$0/$d"; touch -r "$d" "$0/$d"; done' "$dest" {} +
"""

# Pull: $1 source, $2 size of the name list on stdin.
PULL_SCRIPT = r"""
cd -- "$1" || exit 5
head -c "$2" | tar -cf - -T -
"""


class RsyncError(SkipperError):
    """A transfer failed or was refused."""


@dataclass(frozen=True)
class Entry:
    kind: str  # "f" file, "d" directory, "l" symbolic link
    size: int = 0
    mode: int = 0  # permission bits
    mtime: int = 0
    sha: str | None = None
    target: str | None = None


@dataclass
class Plan:
    copy: list[str] = field(default_factory=list)  # files and links to send, and directories to make or fix
    delete: list[str] = field(default_factory=list)  # removed before the copy (replaced types, extraneous entries)
    actions: dict[str, str] = field(default_factory=dict)  # path -> new | changed | deleted

    @property
    def changed(self) -> bool:
        return bool(self.actions)


# -- pure parts


def excluded(rel: str, patterns: list[str]) -> bool:
    """Whether ``rel`` (or one of its parent folders) matches a glob pattern, by its path or its name."""
    parts = rel.split("/")
    for depth in range(1, len(parts) + 1):
        path, name = "/".join(parts[:depth]), parts[depth - 1]
        for pattern in patterns:
            pattern = pattern.rstrip("/")
            if fnmatch.fnmatchcase(path, pattern) or ("/" not in pattern and fnmatch.fnmatchcase(name, pattern)):
                return True
    return False


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return "f"
    if stat.S_ISDIR(mode):
        return "d"
    if stat.S_ISLNK(mode):
        return "l"
    return None  # sockets, fifos, devices: not copied


def _unescape_sum_name(name: str) -> str:
    # GNU sha256sum writes "\<hash>  <name>" with \\ and \n escaped for names that need it.
    return name.replace("\\\\", "\0").replace("\\n", "\n").replace("\0", "\\")


def parse_listing(text: str, where: str) -> dict[str, Entry]:
    """The pod's tree from LIST_SCRIPT's output: relative path -> Entry."""
    section = ""
    raw: dict[str, dict[str, Any]] = {}
    lines = text.split("\n")
    if "#end" not in lines:
        raise RsyncError(f"the listing of {where} is incomplete")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line in ("#stat", "#link", "#end"):
            section = line
            continue
        if not line or section == "#end":
            continue
        if section == "#stat":
            bits = line.split(" ", 3)
            if len(bits) != 4 or not bits[3].startswith("./"):
                raise RsyncError(f"cannot read the listing of {where} at {line[:80]!r}: file names holding a "
                                 "newline are not supported")
            mode = int(bits[0], 16)
            kind = _kind(mode)
            if kind:
                raw[bits[3][2:]] = {"kind": kind, "size": int(bits[1]) if kind == "f" else 0,
                                    "mode": stat.S_IMODE(mode), "mtime": int(bits[2])}
        elif section == "#link":
            if index >= len(lines):
                break
            target = lines[index]
            index += 1
            if line.startswith("./") and line[2:] in raw:
                raw[line[2:]]["target"] = target
    return {path: Entry(**values) for path, values in raw.items()}


def parse_sums(text: str) -> dict[str, str]:
    """sha256sum's output for ``./path`` names: relative path -> digest."""
    sums = {}
    for line in text.split("\n"):
        if not line:
            continue
        escaped = line.startswith("\\")
        digest, _sep, name = line.lstrip("\\").partition("  ")
        if escaped:
            name = _unescape_sum_name(name)
        if name.startswith("./"):
            sums[name[2:]] = digest
    return sums


def to_sum(src: dict[str, Entry], dst: dict[str, Entry]) -> list[str]:
    """The files whose content must be compared: files on both sides, of the same size."""
    return sorted(p for p, e in src.items()
                  if e.kind == "f" and p in dst and dst[p].kind == "f" and dst[p].size == e.size)


def filtered(entries: dict[str, Entry], patterns: list[str]) -> dict[str, Entry]:
    return {path: entry for path, entry in entries.items() if not excluded(path, patterns)} if patterns else entries


def differs(src: Entry, dst: Entry, src_sha: Callable[[], str | None], dst_sha: Callable[[], str | None]) -> bool:
    if src.kind != dst.kind:
        return True
    if src.kind == "l":
        return src.target != dst.target
    if src.mode != dst.mode:
        return True
    if src.kind == "d":
        return False
    return src.size != dst.size or src_sha() != dst_sha()


def plan(src: dict[str, Entry], dst: dict[str, Entry], delete: bool,
         sha: Callable[[str, str], str | None] | None = None) -> Plan:
    """What to copy and delete so that ``dst`` holds ``src`` (both already filtered by the exclusions).

    ``sha(side, path)`` gives a file's checksum on the side (``src``/``dst``) that
    did not list one; it is only asked for files of equal size.
    """
    result = Plan()

    def lazy(side: str, path: str, entry: Entry) -> Callable[[], str | None]:
        return lambda: entry.sha if entry.sha is not None or sha is None else sha(side, path)

    for path in sorted(src):
        entry, there = src[path], dst.get(path)
        if there is None:
            result.copy.append(path)
            result.actions[path] = "new"
            continue
        if not differs(entry, there, lazy("src", path, entry), lazy("dst", path, there)):
            continue
        if entry.kind != there.kind or entry.kind == "l":
            result.delete.append(path)  # a link is replaced, not written through; a new type needs the old gone
        result.copy.append(path)
        result.actions[path] = "changed"
    if delete:
        for path in sorted(dst):  # parents first: what lies inside a deleted folder goes with it
            if path not in src and not _under_deleted(path, result.actions):
                result.delete.append(path)
                result.actions[path] = "deleted"
    return result


def _under_deleted(path: str, actions: dict[str, str]) -> bool:
    """A path inside a folder that is deleted, or replaced by a file or a link, goes with it."""
    parts = path.split("/")
    return any(actions.get("/".join(parts[:depth])) == "deleted" for depth in range(1, len(parts)))


def diff_text(header: str, plan_: Plan) -> str:
    marks = {"new": "+", "changed": "~", "deleted": "-"}
    lines = [header] + [f"{marks[action]} {path}" for path, action in sorted(plan_.actions.items())]
    return "\n".join(lines) + "\n"


def inside(root: str, rel_dir: str, target: str) -> bool:
    """Whether a symbolic link at ``rel_dir`` (relative to root) pointing to ``target`` stays inside root."""
    if not target or target.startswith("/"):
        return False
    resolved = posixpath.normpath(posixpath.join(rel_dir, target))
    return resolved != ".." and not resolved.startswith("../") and not resolved.startswith("/")


def check_member(member: tarfile.TarInfo, wanted: set[str], done: set[str]) -> str:
    """The relative path of a pulled tar member, or RsyncError if it is not one that was asked for."""
    name = member.name
    rel = name[2:] if name.startswith("./") else name
    if name.startswith("/") or rel.startswith("/"):
        raise RsyncError(f"refused tar entry {name!r}: an absolute path")
    if ".." in rel.split("/"):
        raise RsyncError(f"refused tar entry {name!r}: it climbs out of the destination with '..'")
    if rel not in wanted:
        raise RsyncError(f"refused tar entry {name!r}: not one of the files asked for")
    if member.issym():
        if not inside(".", posixpath.dirname(rel), member.linkname):
            raise RsyncError(f"refused tar entry {name!r}: a symbolic link to {member.linkname!r}, out of the "
                             "destination")
    elif member.islnk():
        link = member.linkname[2:] if member.linkname.startswith("./") else member.linkname
        if link not in done:
            raise RsyncError(f"refused tar entry {name!r}: a hard link to {member.linkname!r}, which is not a "
                             "file pulled before it")
    elif not member.isreg():
        raise RsyncError(f"refused tar entry {name!r}: only files and links are pulled")
    return rel


# -- the controller's side


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_local(root: str) -> dict[str, Entry]:
    """The controller's tree, without checksums (``plan`` asks for those it needs)."""
    entries: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if "\n" in rel:
                raise ValidationError(f"file names holding a newline are not supported: {rel!r}")
            if rel.split("/", maxsplit=1)[0].startswith(TMP_PREFIX):
                continue
            info = os.lstat(full)
            kind = _kind(info.st_mode)
            if kind is None:
                continue
            entries[rel] = Entry(kind, info.st_size if kind == "f" else 0, stat.S_IMODE(info.st_mode),
                                 int(info.st_mtime), None, os.readlink(full) if kind == "l" else None)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return entries


def build_archive(root: str, plan_: Plan) -> IO[bytes]:
    """The push archive in a temporary file: data/<path> entries, ctl/delete, then ctl/done last."""
    spool = tempfile.TemporaryFile()
    wanted = set(plan_.copy)
    # The folders holding what changes travel too: their modes and mtimes are set after the moves and deletes.
    for path in plan_.copy + plan_.delete:
        parts = path.split("/")
        wanted.update(p for p in ("/".join(parts[:depth]) for depth in range(1, len(parts)))
                      if os.path.isdir(os.path.join(root, *p.split("/"))))
    with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(wanted):
            full = os.path.join(root, *path.split("/"))
            info = archive.gettarinfo(full, arcname="data/" + path)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isreg():
                with open(full, "rb") as handle:
                    archive.addfile(info, handle)
            else:
                archive.addfile(info)
        _add_bytes(archive, "ctl/delete", "".join(p + "\n" for p in plan_.delete).encode())
        _add_bytes(archive, "ctl/done", b"")
    spool.seek(0)
    return spool


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    archive.addfile(info, io.BytesIO(data))


class _StdoutReader:
    """A file-like view of an exec's stdout for tarfile's stream mode; stderr is kept aside (capped)."""

    def __init__(self, frames: Iterator[tuple[int, bytes]]) -> None:
        self.frames = frames
        self.buffer = b""
        self.stderr = bytearray()
        self.received = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.frames, None)
            if chunk is None:
                break
            channel, data = chunk
            if channel == STDOUT:
                self.buffer += data
                self.received += len(data)
            elif len(self.stderr) < 65536:
                self.stderr += data
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out


def _copy(source: IO[bytes], out: IO[bytes]) -> None:
    while True:
        block = source.read(CHUNK)
        if not block:
            return
        out.write(block)


class _Counted:
    """Frames passed through, their bytes counted (for the message of a transfer cut short)."""

    def __init__(self, frames: Iterator[tuple[int, bytes]]) -> None:
        self.frames = frames
        self.bytes = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return self

    def __next__(self) -> tuple[int, bytes]:
        channel, data = next(self.frames)
        self.bytes += len(data)
        return channel, data


def _inside_real(root: str, folder: str) -> bool:
    real_root, real = os.path.realpath(root), os.path.realpath(folder)
    return real == real_root or real.startswith(real_root + os.sep)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        import shutil

        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def extract_pull(stream: Any, root: str, plan_: Plan, src: dict[str, Entry]) -> int:
    """Write the pulled tar stream's members into ``root``, each through a temporary name; returns bytes read."""
    wanted = {p for p in plan_.copy if src[p].kind != "d"}
    done: set[str] = set()
    reader = _StdoutReader(stream)
    try:
        archive = tarfile.open(fileobj=reader, mode="r|")  # type: ignore[call-overload]
    except tarfile.ReadError as exc:
        raise RsyncError(f"the pod sent no readable archive ({exc}): {reader.stderr.decode(errors='replace')[:500]}") \
            from None
    try:
        _extract_members(archive, reader, root, wanted, done)
    except tarfile.TarError as exc:
        raise RsyncError(f"the archive from the pod is cut short or broken ({exc})") from None
    except OSError as exc:
        raise RsyncError(f"cannot write {exc.filename or 'a file'} on the controller: {exc.strerror}") from None
    missing = wanted - done
    if missing:
        raise RsyncError(f"the pod did not send {len(missing)} file(s), among them {sorted(missing)[0]}: "
                         f"{reader.stderr.decode(errors='replace')[:500]}")
    return reader.received


def _extract_members(archive: tarfile.TarFile, reader: _StdoutReader, root: str, wanted: set[str],
                     done: set[str]) -> None:
    with archive:
        for member in archive:
            rel = check_member(member, wanted, done)
            target = os.path.join(root, *rel.split("/"))
            folder = os.path.dirname(target)
            existing = folder
            while not os.path.lexists(existing):
                existing = os.path.dirname(existing)
            if not _inside_real(root, existing):
                raise RsyncError(f"refused tar entry {member.name!r}: its folder leads out of the destination")
            os.makedirs(folder, exist_ok=True)
            temp = os.path.join(folder, f"{TMP_PREFIX}{secrets.token_hex(4)}-{os.path.basename(target)}")
            try:
                if member.issym():
                    os.symlink(member.linkname, temp)
                    if os.utime in os.supports_follow_symlinks:
                        os.utime(temp, (member.mtime, member.mtime), follow_symlinks=False)
                else:
                    source = archive.extractfile(member) if member.isreg() else None
                    with open(temp, "xb") as out:
                        if source is not None:
                            _copy(source, out)
                        else:  # a hard link to a file pulled before it: copy that file
                            link = member.linkname[2:] if member.linkname.startswith("./") else member.linkname
                            with open(os.path.join(root, *link.split("/")), "rb") as first:
                                _copy(first, out)
                    os.chmod(temp, stat.S_IMODE(member.mode))
                    os.utime(temp, (member.mtime, member.mtime))
                if os.path.isdir(target) and not os.path.islink(target):
                    _remove(target)
                os.replace(temp, target)
            finally:
                if os.path.lexists(temp):
                    os.unlink(temp)
            done.add(rel)
    while reader.read(CHUNK):  # the archive's zero blocks, then the exit status
        pass


# -- the runner


def _check_path(value: Any, app: str, fieldname: str) -> str:
    if not value or not isinstance(value, str) or not value.startswith("/"):
        raise ValidationError(f"app {app}: {fieldname} must be an absolute path, not {value!r}", app=app,
                              field=fieldname)
    return posixpath.normpath(value) if not value.startswith("//") else "/" + value.lstrip("/")


def _local_dir(path: str, app: str, fieldname: str) -> str:
    if not os.path.exists(path):
        raise ValidationError(f"app {app}: {fieldname} {path} does not exist on the controller", app=app,
                              field=fieldname)
    if not os.path.isdir(path):
        raise ValidationError(f"app {app}: {fieldname} {path} is not a directory on the controller", app=app,
                              field=fieldname)
    return path


def list_pod(client: Any, namespace: str, pod: str, container: str | None, path: str, app: str, fieldname: str,
             deadline: float | None) -> tuple[dict[str, Entry], int]:
    """The pod's tree under ``path`` and the bytes its listing took."""
    where = f"{path} in pod {namespace}/{pod}"
    out = run_captured(client, namespace, pod, ["sh", "-c", LIST_SCRIPT, "sh", path], container,
                       limit=1 << 30, deadline=deadline)
    if out["rc"] in (3, 4):
        reason = "does not exist" if out["rc"] == 3 else "is not a directory"
        raise ValidationError(f"app {app}: {fieldname} {path} {reason} in pod {namespace}/{pod}", app=app,
                              field=fieldname)
    if out["rc"] != 0:
        raise RsyncError(f"Failed to list {where}: {(out['stderr'].strip() or out['message'])[:500]}")
    return parse_listing(out["stdout"], where), len(out["stdout"])


def sum_pod(client: Any, namespace: str, pod: str, container: str | None, path: str, entries: dict[str, Entry],
            paths: list[str], deadline: float | None) -> int:
    """Fill in the pod's checksums of ``paths`` (one exec); returns the bytes it took."""
    if not paths:
        return 0
    names = "".join(f"./{p}\n" for p in paths).encode()
    out = run_captured(client, namespace, pod, ["sh", "-c", SUM_SCRIPT, "sh", path, str(len(names))], container,
                       stdin=names, limit=1 << 30, deadline=deadline)
    if out["rc"] != 0:
        raise RsyncError(f"Failed to sum files under {path} in pod {namespace}/{pod}: "
                         f"{(out['stderr'].strip() or out['message'])[:500]}")
    sums = parse_sums(out["stdout"])
    for rel in paths:
        if rel in sums:
            entries[rel] = dataclasses.replace(entries[rel], sha=sums[rel])
    return len(out["stdout"]) + len(names)


def _push(client: Any, namespace: str, pod: str, params: dict[str, Any], check_mode: bool,
          deadline: float | None, app: str) -> dict[str, Any]:
    src, dest = params["src"], params["dest"]
    patterns = params.get("exclude") or []
    local = filtered(scan_local(src), patterns)
    remote, listed = list_pod(client, namespace, pod, params.get("container"), dest, app, "dest", deadline)
    remote = filtered(remote, patterns)
    listed += sum_pod(client, namespace, pod, params.get("container"), dest, remote, to_sum(local, remote), deadline)
    todo = plan(local, remote, bool(params.get("delete")),
                lambda side, path: sha256_file(os.path.join(src, *path.split("/"))) if side == "src" else None)
    result = _report(todo, f"pod {namespace}/{pod}:{dest}", pod, listed)
    if check_mode or not todo.changed:
        return result
    archive = build_archive(src, todo)
    with archive:
        size = archive.seek(0, os.SEEK_END)
        archive.seek(0)
        stream = ExecStream(client, namespace, pod, ["sh", "-c", PUSH_SCRIPT, "sh", dest, str(size),
                                                     secrets.token_hex(6)], params.get("container"), True, deadline)
        errors = bytearray()
        try:
            rc, message = run(stream, iter(lambda: archive.read(CHUNK), b""), None,
                              lambda data: errors.extend(data[: max(0, 65536 - len(errors))]))
        except SkipperError as exc:
            raise RsyncError(f"Failed to push to {dest} in pod {namespace}/{pod} after {stream.sent} of {size} bytes: "
                             f"{exc.message}; no partial file is left at its destination (a hidden .skipper-rsync-* "
                             "folder may stay until the next push)", bytes_sent=stream.sent) from None
    if rc != 0:
        raise RsyncError(f"Failed to push to {dest} in pod {namespace}/{pod} (no partial file is left at its "
                         f"destination): "
                         f"{(errors.decode(errors='replace').strip() or message)[:500]}")
    result["bytes_sent"] = size
    return result


def _pull(client: Any, namespace: str, pod: str, params: dict[str, Any], check_mode: bool,
          deadline: float | None, app: str) -> dict[str, Any]:
    src, dest = params["src"], params["dest"]
    patterns = params.get("exclude") or []
    remote, listed = list_pod(client, namespace, pod, params.get("container"), src, app, "src", deadline)
    remote = filtered(remote, patterns)
    local = filtered(scan_local(dest), patterns)
    listed += sum_pod(client, namespace, pod, params.get("container"), src, remote, to_sum(remote, local), deadline)
    todo = plan(remote, local, bool(params.get("delete")),
                lambda side, path: sha256_file(os.path.join(dest, *path.split("/"))) if side == "dst" else None)
    for path in todo.copy:
        entry = remote[path]
        if entry.kind == "l" and not inside(".", posixpath.dirname(path), entry.target or ""):
            raise RsyncError(f"app {app}: refused to pull {path}: a symbolic link to {entry.target!r}, out of the "
                             f"destination; nothing was changed", app=app, field="src")
    result = _report(todo, f"{dest} (from pod {namespace}/{pod}:{src})", pod, listed)
    if check_mode or not todo.changed:
        return result
    for path in todo.delete:
        if todo.actions[path] != "deleted":  # a type that changes: the old entry goes first
            _remove(os.path.join(dest, *path.split("/")))
    for path in todo.copy:
        if remote[path].kind == "d":
            os.makedirs(os.path.join(dest, *path.split("/")), exist_ok=True)
    files = [p for p in todo.copy if remote[p].kind != "d"]
    received = 0
    if files:
        names = "".join(f"./{p}\n" for p in files).encode()
        stream = ExecStream(client, namespace, pod, ["sh", "-c", PULL_SCRIPT, "sh", src, str(len(names))],
                            params.get("container"), True, deadline)
        stream.feed([names])
        counted = _Counted(stream.frames())
        try:
            received = extract_pull(counted, dest, todo, remote)
            rc, message = stream.result()
        except SkipperError as exc:
            raise RsyncError(f"Failed to pull {src} from pod {namespace}/{pod} after {counted.bytes} bytes: "
                             f"{exc.message}; no partial file was left", bytes_received=counted.bytes) from None
        finally:
            stream.close()
        if rc != 0:
            raise RsyncError(f"Failed to pull {src} from pod {namespace}/{pod}: {message[:500]}")
    for path in todo.delete:
        if todo.actions[path] == "deleted":
            _remove(os.path.join(dest, *path.split("/")))
    # Folders get their modes and mtimes last, deepest first: writing into them changed their mtimes.
    folders = {p for p in todo.copy if remote[p].kind == "d"}
    for path in todo.copy + todo.delete:
        parts = path.split("/")
        folders.update(p for p in ("/".join(parts[:depth]) for depth in range(1, len(parts)))
                       if p in remote and remote[p].kind == "d")
    for path in sorted(folders, reverse=True):
        full = os.path.join(dest, *path.split("/"))
        os.chmod(full, remote[path].mode)
        os.utime(full, (remote[path].mtime, remote[path].mtime))
    result["bytes_received"] = received
    return result


def _report(todo: Plan, header: str, pod: str, listed: int) -> dict[str, Any]:
    return {
        "changed": todo.changed,
        "pod": pod,
        "copied": [p for p in sorted(todo.actions) if todo.actions[p] != "deleted"],
        "deleted": [p for p in sorted(todo.actions) if todo.actions[p] == "deleted"],
        "listing_bytes": listed,
        "diff": {"prepared": diff_text(header, todo)} if todo.changed else {},
    }


def run_app_rsync(svc: Any, params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """app_rsync: push a controller folder into the app's pod(s), or pull one pod's folder to the controller."""
    from ._pods import choose

    app, namespace, mode = params["name"], params["namespace"], params["mode"]
    params = dict(params)
    local_key = "src" if mode == "push" else "dest"
    if isinstance(params.get(local_key), str):
        params[local_key] = os.path.expanduser(params[local_key])
    params["src"] = _check_path(params.get("src"), app, "src")
    params["dest"] = _check_path(params.get("dest"), app, "dest")
    if mode == "push":
        _local_dir(params["src"], app, "src")
    else:
        _local_dir(params["dest"], app, "dest")
        if params.get("all_pods"):
            raise ValidationError(f"app {app}: all_pods only goes with mode push: a pull reads one pod", app=app,
                                  field="all_pods")
    if params.get("pod") and params.get("all_pods"):
        raise ValidationError(f"app {app}: pod and all_pods exclude each other", app=app, field="pod")
    if params.get("timeout") is not None and not params["timeout"] > 0:
        raise ValidationError(f"app {app}: timeout must be a positive number of seconds", app=app, field="timeout")
    deadline = time.monotonic() + params["timeout"] if params.get("timeout") else None
    pods = choose(svc, namespace, app, params.get("pod"), bool(params.get("all_pods")))
    step = _push if mode == "push" else _pull
    results = [step(svc.client, namespace, p["metadata"]["name"], params, check_mode, deadline, app) for p in pods]
    if len(results) == 1:
        return results[0]
    return {
        "changed": any(r["changed"] for r in results),
        "copied": sorted({p for r in results for p in r["copied"]}),
        "deleted": sorted({p for r in results for p in r["deleted"]}),
        "pods": results,
        "diff": [r["diff"] for r in results if r["diff"]],
    }

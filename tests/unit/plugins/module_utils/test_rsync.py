# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_rsync's pure parts: the pod's listing, the plan of files, the exclusions, and the pulled tar's checks."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _rsync
from ansible_collections.skipper.platform.plugins.module_utils._errors import ValidationError
from ansible_collections.skipper.platform.plugins.module_utils._rsync import Entry, Plan, RsyncError

SHA_A = "a" * 64
SHA_B = "b" * 64

LISTING = "\n".join([
    "#stat",
    "81a4 6 1577934245 ./a.txt",
    "41ed 4096 1700000000 ./sub",
    "81e8 19 1700000000 ./sub/run sh",
    "a1ff 5 1700000000 ./link",
    "11a4 0 1700000000 ./fifo",
    "#link",
    "./link",
    "a.txt",
    "#end",
    "",
])


def test_parse_listing_reads_types_modes_sums_and_links() -> None:
    entries = _rsync.parse_listing(LISTING, "the pod")
    assert entries == {
        "a.txt": Entry("f", 6, 0o644, 1577934245),
        "sub": Entry("d", 0, 0o755, 1700000000),
        "sub/run sh": Entry("f", 19, 0o750, 1700000000),
        "link": Entry("l", 0, 0o777, 1700000000, None, "a.txt"),
    }  # the fifo is left out


def test_parse_sums_unescapes_gnu_names() -> None:
    text = f"{SHA_A}  ./a b\n\\{SHA_B}  ./back\\\\slash\n\\{SHA_A}  ./new\\nline\n"
    assert _rsync.parse_sums(text) == {"a b": SHA_A, "back\\slash": SHA_B, "new\nline": SHA_A}


def test_only_files_of_equal_size_are_summed() -> None:
    src = {"same": f(3), "other": f(4), "dir": Entry("d"), "new": f(1), "was_link": f(1)}
    dst = {"same": f(3), "other": f(5), "dir": Entry("d"), "was_link": Entry("l", target="x")}
    assert _rsync.to_sum(src, dst) == ["same"]


@pytest.mark.parametrize("text", [
    "#stat\n81a4 6 1 ./a\n",  # cut before the end marker
    "#stat\n81a4 6 1 ./first\nline\n#end\n",  # a name with a newline
])
def test_parse_listing_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(RsyncError):
        _rsync.parse_listing(text, "the pod")


@pytest.mark.parametrize(("path", "patterns", "expected"), [
    ("cache.log", ["*.log"], True),
    ("var/cache.log", ["*.log"], True),  # a name at any depth
    ("var/cache/x.txt", ["cache"], True),  # inside an excluded folder
    ("var/cache/x.txt", ["var/cache"], True),
    ("other/var/cache", ["var/cache"], False),  # a path with / matches from the top
    ("a.txt", ["*.log", "b*"], False),
    ("cache/", ["cache/"], True),
])
def test_excluded(path: str, patterns: list[str], expected: bool) -> None:
    assert _rsync.excluded(path.rstrip("/"), patterns) is expected


def f(size: int = 1, mode: int = 0o644, sha: str | None = SHA_A) -> Entry:
    return Entry("f", size, mode, 0, sha)


@pytest.mark.parametrize(("src", "dst", "delete", "copy", "remove", "actions"), [
    # nothing differs
    ({"a": f()}, {"a": f()}, True, [], [], {}),
    # new, changed content of equal size, changed size, changed mode
    ({"a": f(), "b": f(sha=SHA_B), "c": f(2), "d": f(mode=0o600)},
     {"b": f(), "c": f(1), "d": f()}, False,
     ["a", "b", "c", "d"], [], {"a": "new", "b": "changed", "c": "changed", "d": "changed"}),
    # extraneous entries go only with delete; a deleted folder is listed alone
    ({}, {"old": Entry("d", mode=0o755), "old/x": f()}, True, [], ["old"], {"old": "deleted"}),
    ({}, {"old": f()}, False, [], [], {}),
    # a type that changes, and a link whose target changes, are removed first
    ({"x": Entry("d", mode=0o755), "l": Entry("l", target="b")},
     {"x": f(), "l": Entry("l", target="a")}, False,
     ["l", "x"], ["l", "x"], {"x": "changed", "l": "changed"}),
    # a folder's mode
    ({"d": Entry("d", mode=0o700)}, {"d": Entry("d", mode=0o755)}, False, ["d"], [], {"d": "changed"}),
])
def test_plan(src: dict[str, Entry], dst: dict[str, Entry], delete: bool, copy: list[str], remove: list[str],
              actions: dict[str, str]) -> None:
    result = _rsync.plan(src, dst, delete)
    assert (result.copy, result.delete, result.actions) == (copy, remove, actions)
    assert result.changed is bool(actions)


def test_plan_sums_a_side_only_for_files_of_equal_size() -> None:
    asked: list[tuple[str, str]] = []

    def sha(side: str, path: str) -> str:
        asked.append((side, path))
        return SHA_A

    src = {"same": f(sha=None), "bigger": f(5, sha=None)}
    dst = {"same": f(), "bigger": f(1)}
    assert _rsync.plan(src, dst, False, sha).copy == ["bigger"]
    assert asked == [("src", "same")]


def test_diff_text_marks_each_path() -> None:
    result = Plan(actions={"b": "changed", "a": "new", "c": "deleted"})
    assert _rsync.diff_text("pod ns/web-1:/srv", result) == "pod ns/web-1:/srv\n+ a\n~ b\n- c\n"


@pytest.mark.parametrize(("rel_dir", "target", "ok"), [
    ("", "a.txt", True),
    ("sub", "../a.txt", True),
    ("sub/deep", "../../x", True),
    ("", "../x", False),
    ("sub", "../../x", False),
    ("", "/etc/passwd", False),
    ("", "", False),
    ("sub", "./../..", False),
])
def test_inside(rel_dir: str, target: str, ok: bool) -> None:
    assert _rsync.inside(".", rel_dir, target) is ok


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.mark.parametrize(("info", "message"), [
    (member("/etc/passwd"), "an absolute path"),
    (member("./../outside"), "climbs out"),
    (member("./sub/../../x"), "climbs out"),
    (member("./not-asked"), "not one of the files asked for"),
    (member("./link", tarfile.SYMTYPE, "/etc/passwd"), "out of the destination"),
    (member("./link", tarfile.SYMTYPE, "../../etc"), "out of the destination"),
    (member("./hard", tarfile.LNKTYPE, "/etc/shadow"), "a hard link"),
    (member("./hard", tarfile.LNKTYPE, "./later"), "a hard link"),
    (member("./dev", tarfile.CHRTYPE), "only files and links"),
])
def test_check_member_refuses(info: tarfile.TarInfo, message: str) -> None:
    wanted = {"link", "hard", "dev", "later"}
    with pytest.raises(RsyncError, match=message):
        _rsync.check_member(info, wanted, set())


def test_check_member_accepts_what_was_asked_for() -> None:
    wanted = {"a.txt", "sub/link", "hard"}
    assert _rsync.check_member(member("./a.txt"), wanted, set()) == "a.txt"
    assert _rsync.check_member(member("./sub/link", tarfile.SYMTYPE, "../a.txt"), wanted, set()) == "sub/link"
    assert _rsync.check_member(member("./hard", tarfile.LNKTYPE, "./a.txt"), wanted, {"a.txt"}) == "hard"


def frames_of(data: bytes, size: int = 1000) -> Iterator[tuple[int, bytes]]:
    yield 2, b"a warning\n"
    for start in range(0, len(data), size):
        yield 1, data[start:start + size]


def archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def regular(name: str, mode: int = 0o640, mtime: int = 1577934245) -> tarfile.TarInfo:
    info = member(name)
    info.mode, info.mtime = mode, mtime
    return info


def test_extract_pull_writes_through_temporary_names(tmp_path: Path) -> None:
    src = {"a.txt": f(), "sub": Entry("d", mode=0o755), "sub/l": Entry("l", target="../a.txt"), "h": f()}
    todo = Plan(copy=["a.txt", "h", "sub", "sub/l"])
    (tmp_path / "a.txt").write_text("old")
    data = archive((regular("./a.txt"), b"new"), (member("./sub/l", tarfile.SYMTYPE, "../a.txt"), None),
                   (member("./h", tarfile.LNKTYPE, "./a.txt"), None))
    assert _rsync.extract_pull(frames_of(data), str(tmp_path), todo, src) == len(data)
    assert (tmp_path / "a.txt").read_text() == "new"
    assert os.stat(tmp_path / "a.txt").st_mode & 0o777 == 0o640
    assert os.stat(tmp_path / "a.txt").st_mtime == 1577934245
    assert os.readlink(tmp_path / "sub" / "l") == "../a.txt"
    assert (tmp_path / "h").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "h", "sub"]  # no temporary left


def test_extract_pull_refuses_a_malicious_entry_and_leaves_no_partial_file(tmp_path: Path) -> None:
    src = {"a.txt": f(), "b.txt": f()}
    todo = Plan(copy=["a.txt", "b.txt"])
    data = archive((regular("./a.txt"), b"fine"), (member("./b.txt", tarfile.SYMTYPE, "/etc/passwd"), None))
    with pytest.raises(RsyncError, match="out of the destination"):
        _rsync.extract_pull(frames_of(data), str(tmp_path), todo, src)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_stream_cut_inside_a_file_leaves_no_partial_file(tmp_path: Path) -> None:
    src = {"big": f()}
    data = archive((regular("./big"), b"x" * 100000))
    with pytest.raises(RsyncError, match="cut short"):
        _rsync.extract_pull(frames_of(data[:60000]), str(tmp_path), Plan(copy=["big"]), src)
    assert list(tmp_path.iterdir()) == []


def test_extract_pull_notices_files_the_pod_did_not_send(tmp_path: Path) -> None:
    data = archive((regular("./a"), b"1"))
    with pytest.raises(RsyncError, match="did not send 1 file"):
        _rsync.extract_pull(frames_of(data), str(tmp_path), Plan(copy=["a", "b"]), {"a": f(), "b": f()})


def test_extract_pull_does_not_write_through_a_link_out_of_the_destination(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    data = archive((regular("./sub/x"), b"1"))
    with pytest.raises(RsyncError, match="leads out of the destination"):
        _rsync.extract_pull(frames_of(data), str(dest), Plan(copy=["sub/x"]), {"sub/x": f()})
    assert list(outside.iterdir()) == []


def test_scan_local_and_archive(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a").write_bytes(b"abc")
    (tmp_path / "l").symlink_to("sub/a")
    (tmp_path / ".skipper-rsync-old").mkdir()
    entries = _rsync.scan_local(str(tmp_path))
    assert sorted(entries) == ["l", "sub", "sub/a"]
    assert entries["l"].target == "sub/a" and entries["sub/a"].size == 3
    spool = _rsync.build_archive(str(tmp_path), Plan(copy=["sub/a", "l"], delete=["gone"]))
    with tarfile.open(fileobj=spool) as tar:
        names = tar.getnames()
        assert tar.extractfile("ctl/delete").read() == b"gone\n"  # type: ignore[union-attr]
    assert names == ["data/l", "data/sub", "data/sub/a", "ctl/delete", "ctl/done"]


@pytest.mark.parametrize(("params", "message"), [
    ({"src": "relative", "dest": "/x"}, "src must be an absolute path, not 'relative'"),
    ({"src": "/x", "dest": ""}, "dest must be an absolute path"),
    ({"src": "/no/such/folder/here", "dest": "/x"}, "src /no/such/folder/here does not exist on the controller"),
    ({"mode": "pull", "src": "/x", "dest": "/no/such/folder/here"},
     "dest /no/such/folder/here does not exist on the controller"),
])
def test_bad_paths_fail_before_any_request(params: dict[str, Any], message: str) -> None:
    full = {"namespace": "shop", "name": "web", "mode": "push", "pod": None, "all_pods": False, "timeout": None}
    full.update(params)
    with pytest.raises(ValidationError, match=message) as caught:
        _rsync.run_app_rsync(None, full, False)
    assert caught.value.details["app"] == "web"

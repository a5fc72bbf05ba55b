# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_log's pure parts (durations, timestamps, merge, cap) and its runner over fake streams."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.skipper.platform.plugins.module_utils import _logs
from ansible_collections.skipper.platform.plugins.module_utils._errors import ApiError, ValidationError
from fake_service import FakeService

T0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("90", 90), (45, 45),
    ("1d2h3m4s", 93784), ("", None), ("1x", None), ("h", None), ("-5", None), (True, None), ("1.5h", None),
])
def test_parse_duration(text: Any, seconds: int | None) -> None:
    assert _logs.parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "nanos"), [
    ("2026-01-01T00:00:00Z", T0),
    ("2026-01-01T00:00:00.5Z", T0 + 500_000_000),
    ("2026-01-01T00:00:00.123456789Z", T0 + 123_456_789),
    ("2026-01-01T00:00:00.1234567891Z", T0 + 123_456_789),
    ("2026-01-01T01:00:00+01:00", T0),
    ("2026-01-01 00:00:00Z", T0),
    ("2026-01-01T00:00:00", None),
    ("yesterday", None),
    ("2026-13-01T00:00:00Z", None),
])
def test_parse_time(text: str, nanos: int | None) -> None:
    assert _logs.parse_time(text) == nanos


def test_format_time_sorts_as_text() -> None:
    assert _logs.format_time(T0 + 5) == "2026-01-01T00:00:00.000000005Z"
    assert _logs.format_time(T0 + 100_000_000) < _logs.format_time(T0 + 120_000_000)


def test_stamp_reader_fast_path_and_odd_lines() -> None:
    reader = _logs.StampReader()
    assert reader.split("2026-01-01T00:00:00.1Z hello world") == (T0 + 100_000_000, "hello world")
    # Same second: parsed from the cached second, fraction of any length.
    assert reader.split("2026-01-01T00:00:00.12Z b") == (T0 + 120_000_000, "b")
    assert reader.split("2026-01-01T00:00:00Z c") == (T0, "c")
    assert reader.split("2026-01-01T00:00:01.000000001Z d") == (T0 + 1_000_000_001, "d")
    # A line without a stamp keeps its text whole and the time of the line before.
    assert reader.split("no stamp here") == (T0 + 1_000_000_000, "no stamp here")
    assert reader.split("2026-01-01T02:00:00+02:00 e") == (T0, "e")
    assert reader.split("2026-01-01T00:00:00.000000000Z ") == (T0, "")


def opts(**extra: Any) -> dict[str, Any]:
    return _logs.check_options({"name": "web", "namespace": "shop", **extra})


def test_options_to_query() -> None:
    assert opts()["query"] == {"timestamps": "true"}
    assert opts(since="1h", tail=5, previous=True)["query"] == {
        "timestamps": "true", "sinceSeconds": 3600, "tailLines": 5, "previous": "true"}
    assert opts(since="2026-01-01T01:00:00.7+01:00")["query"]["sinceTime"] == "2026-01-01T00:00:00Z"
    following = opts(follow_for="30s", tail=10)
    assert following["follow_for"] == 30 and following["query"]["follow"] == "true"
    assert opts(until="2026-01-01T00:00:00Z")["until"] == T0
    assert opts(tail=3, keep="first")["keep"] == "last"


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"since": "yesterday"}, "since", "neither a duration"),
    ({"since": "0s"}, "since", "more than 0"),
    ({"until": "soon"}, "until", "neither an RFC 3339"),
    ({"tail": 0}, "tail", "at least 1"),
    ({"max_lines": -1}, "max_lines", "at least 1"),
    ({"follow_for": "2h"}, "follow_for", "a playbook must end"),
    ({"follow_for": "forever"}, "follow_for", "a playbook must end"),
    ({"follow_for": "10s", "previous": True}, "follow_for", "cannot be followed"),
    ({"keep": "middle"}, "keep", "first or last"),
])
def test_bad_options(extra: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        opts(**extra)
    assert err.value.details == {"app": "web", "field": field}
    assert err.value.message.startswith(f"app web: {field}: ") and words in err.value.message


def test_bad_name() -> None:
    with pytest.raises(ValidationError, match="name"):
        _logs.check_options({"name": "Web", "namespace": "shop"})


def rec(offset: int, stream: int, text: str = "x") -> _logs.Record:
    return (T0 + offset, stream, f"p{stream}", "app", text)


def test_merge_in_time_order_stable_per_stream() -> None:
    a = [rec(1, 0, "a1"), rec(5, 0, "a5"), rec(5, 0, "a5b")]
    b = [rec(2, 1, "b2"), rec(5, 1, "b5")]
    c: list[_logs.Record] = []
    texts = [r[4] for r in _logs.merge([iter(a), iter(b), iter(c)])]
    assert texts == ["a1", "b2", "a5", "a5b", "b5"]


def test_cap_keeps_last_lines_and_says_what_was_cut() -> None:
    cap = _logs.Cap(max_lines=2, max_bytes=10**6)
    for i in range(5):
        cap.add(rec(i, 0, f"line{i}"))
    assert [r[4] for r in cap.kept] == ["line3", "line4"]
    note = cap.note()
    assert note is not None
    assert (note["lines"], note["bytes"], note["kept"], note["reason"]) == (3, 15, "last", "max_lines: 2")
    assert "2026-01-01T00:00:00.000000000Z to 2026-01-01T00:00:00.000000002Z" in note["message"]


def test_cap_keep_first_stops() -> None:
    cap = _logs.Cap(max_lines=2, max_bytes=10**6, keep="first")
    for i in range(4):
        cap.add(rec(i, 0, f"line{i}"))
    assert [r[4] for r in cap.kept] == ["line0", "line1"] and cap.full
    assert cap.note()["lines"] == 2 and "latest 2 line(s)" in cap.note()["message"]  # type: ignore[index]


def test_cap_by_bytes() -> None:
    cap = _logs.Cap(max_lines=100, max_bytes=3 * (10 + _logs.LINE_OVERHEAD))
    for i in range(5):
        cap.add(rec(i, 0, "0123456789"))
    assert len(cap.kept) == 3 and cap.note()["reason"] == "max_bytes: 222"  # type: ignore[index]


def test_tail_is_not_a_truncation() -> None:
    cap = _logs.Cap(max_lines=100, max_bytes=10**6, tail=2)
    for i in range(6):
        cap.add(rec(i, i % 3))
    assert len(cap.kept) == 2 and cap.note() is None


class Resp:
    """A streamed response: chunks that split lines anywhere."""

    def __init__(self, text: str, chunk: int = 7) -> None:
        data = text.encode()
        self.chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
        self.closed = False

    def stream(self, _amount: int, decode_content: bool = True) -> Any:
        yield from self.chunks
        self.closed = True

    def release_conn(self) -> None:
        self.closed = True

    def isclosed(self) -> bool:
        return self.closed


def test_stream_lines_rejoins_chunks() -> None:
    resp = Resp("alpha\nbeta gamma\n\nlast-no-newline", chunk=3)
    assert list(_logs.stream_lines(resp)) == ["alpha", "beta gamma", "", "last-no-newline"]
    assert resp.closed


class Pods(FakeService):
    """Selectors with existence tests (``key``, ``!key``) as the log reader sends them."""

    def list(self, kind: str, namespace: str | None, selector: str | None = None, deadline: float | None = None) -> Any:
        self._maybe_fail("list", kind)
        parts = [p for p in (selector or "").split(",") if p]

        def match(obj: dict[str, Any]) -> bool:
            labels = obj["metadata"].get("labels") or {}
            for part in parts:
                if part.startswith("!"):
                    if part[1:] in labels:
                        return False
                elif "=" in part:
                    key, value = part.split("=", 1)
                    if labels.get(key) != value:
                        return False
                elif part not in labels:
                    return False
            return True

        return [copy.deepcopy(o) for (k, ns, _n), o in self.objects.items() if k == kind and ns == namespace and match(o)]


def pod(name: str, containers: tuple[str, ...] = ("app",), **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop",
                         "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web", **labels}},
            "spec": {"containers": [{"name": c} for c in containers]}}


def stamped(*lines: tuple[int, str]) -> str:
    return "".join(f"{_logs.format_time(T0 + t)} {text}\n" for t, text in lines)


LOGS = {
    ("web-a", "app"): stamped((1, "a1"), (4, "a4"), (9, "a9")),
    ("web-b", "app"): stamped((2, "b2"), (3, "b3")),
    ("web-b", "side"): stamped((5, "s5")),
}


@pytest.fixture
def svc(monkeypatch: pytest.MonkeyPatch) -> Pods:
    fake = Pods()
    fake.put(pod("web-a"))
    fake.put(pod("web-b", ("app", "side")))
    fake.put(pod("web-nightly-x", **{"skipper.platform/cron": "nightly"}))
    asked: list[tuple[str, dict[str, Any]]] = []

    def open_stream(_svc: Any, path: str, query: dict[str, Any], read_timeout: float | None = None) -> Resp:
        name = path.split("/")[-2]
        asked.append((name, query))
        if name == "web-nightly-x":
            raise AssertionError("a cron job's pod is not the app's")
        if query.get("previous"):
            raise ApiError("400 Bad Request: previous terminated container \"app\" not found", status=400)
        return Resp(LOGS[(name, query["container"])])

    monkeypatch.setattr(_logs, "open_stream", open_stream)
    fake.asked = asked  # type: ignore[attr-defined]
    return fake


def read(svc: Pods, **extra: Any) -> dict[str, Any]:
    return _logs.read_logs(svc, {"name": "web", "namespace": "shop", **extra})  # type: ignore[arg-type]


def test_read_merges_every_pod_and_container(svc: Pods) -> None:
    result = read(svc)
    assert [line["text"] for line in result["lines"]] == ["a1", "b2", "b3", "a4", "s5", "a9"]
    assert result["lines"][1] == {"time": "2026-01-01T00:00:00.000000002Z", "pod": "web-b", "container": "app",
                                  "text": "b2"}
    assert result["stdout_lines"][4] == "2026-01-01T00:00:00.000000005Z web-b/side s5"
    assert result["pods"] == ["web-a", "web-b"] and result["truncated"] is None and result["changed"] is False
    assert all(q["timestamps"] == "true" for _pod, q in svc.asked)  # type: ignore[attr-defined]


def test_read_one_container_until_and_tail(svc: Pods) -> None:
    assert [x["text"] for x in read(svc, container="app", output="lines")["lines"]] == ["a1", "b2", "b3", "a4", "a9"]
    assert "stdout_lines" not in read(svc, output="lines")
    until = read(svc, until=_logs.format_time(T0 + 4))
    assert [x["text"] for x in until["lines"]] == ["a1", "b2", "b3", "a4"]
    tail = read(svc, tail=2)
    assert [x["text"] for x in tail["lines"]] == ["s5", "a9"] and tail["truncated"] is None
    assert tail["stdout_lines"] == [f"{_logs.format_time(T0 + 5)} web-b/side s5",
                                    f"{_logs.format_time(T0 + 9)} web-a/app a9"]


def test_read_capped(svc: Pods) -> None:
    result = read(svc, max_lines=2)
    assert [x["text"] for x in result["lines"]] == ["s5", "a9"]
    assert result["truncated"]["lines"] == 4 and result["warnings"][0].startswith("app web: the earliest 4 line(s)")
    first = read(svc, max_lines=2, keep="first")
    assert [x["text"] for x in first["lines"]] == ["a1", "b2"]


def test_read_previous_missing_is_skipped(svc: Pods) -> None:
    result = read(svc, previous=True)
    assert result["lines"] == [] and len(result["unread"]) == 3
    assert "previous terminated container" in result["unread"][0]["reason"]


def test_read_missing_app_and_container(svc: Pods) -> None:
    with pytest.raises(ValidationError, match="app api: not found in namespace shop") as err:
        _logs.read_logs(svc, {"name": "api", "namespace": "shop"})  # type: ignore[arg-type]
    assert err.value.details == {"app": "api", "field": "name"}
    with pytest.raises(ValidationError, match="no pod of the app has a container named db"):
        read(svc, container="db")


def test_read_app_without_pods(svc: Pods) -> None:
    svc.objects = {}
    svc.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"replicas": 0}})
    result = read(svc)
    assert result["pods"] == [] and result["lines"] == []


def test_since_to_the_nanosecond(svc: Pods) -> None:
    # The API gets whole seconds; the lines of that second before the time asked for are dropped here.
    result = read(svc, since=_logs.format_time(T0 + 4))
    assert result["lines"][0]["text"] == "a4" and [x["text"] for x in result["lines"]] == ["a4", "s5", "a9"]
    assert svc.asked[-1][1]["sinceTime"] == "2026-01-01T00:00:00Z"  # type: ignore[attr-defined]

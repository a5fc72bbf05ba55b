#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_log
short_description: Read the logs of every pod of an app, merged in time order
version_added: 0.2.0
description:
  - Reads the log of every pod of an app that M(skipper.platform.app) deployed (its pods, found by the app's
    C(app.kubernetes.io/name) and C(app.kubernetes.io/instance) labels; the pods of its cron jobs are left out), of
    every container or of one, and merges them in time order on the timestamps the API server gives each line. Every
    line carries its pod's name.
  - Each pod's log is read as a stream and merged with a heap, one line per pod in hand, so a large log is never held
    whole twice. The output is capped (O(max_lines), O(max_bytes)); RV(truncated) then says what was cut.
  - O(follow_for) follows the logs for that long, then returns what came; the task always ends.
  - Only reads; in check mode it reads too.
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: full
    details: Only reads, so it reads in check mode too.
  diff_mode:
    support: N/A
    details: Only reads.
  idempotent:
    support: full
options:
  name:
    description: The app's name.
    type: str
    required: true
  namespace:
    description: The app's namespace.
    type: str
    required: true
  container:
    description: Only this container of each pod. Without it, every container (the app's own is named C(app)).
    type: str
  since:
    description:
      - Only lines from this time on. Either a duration before now (C(30s), C(15m), C(1h30m), C(2d)), sent as
        C(sinceSeconds), or an RFC 3339 timestamp (C(2026-11-25T21:00:00Z)), sent as C(sinceTime) (whole seconds).
    type: str
  until:
    description:
      - Only lines up to this time, an RFC 3339 timestamp or a duration before now. The API has no such filter, so
        each pod's stream is read up to the first later line and then closed.
    type: str
  tail:
    description:
      - The last lines of each pod's log (C(tailLines)), then the last O(tail) lines of the merge. With O(follow_for),
        only the lines each pod had before the follow started.
    type: int
  previous:
    description: The log of the previous (crashed or restarted) container of each pod. Pods without one are listed
      in RV(unread).
    type: bool
    default: false
  follow_for:
    description:
      - Follow the logs for this long (a duration from C(1s) to C(1h), such as C(30s) or C(5m)), then return every
        line that came. The task always ends.
    type: str
  max_lines:
    description: The most lines returned; the rest are cut, as O(keep) says, and counted in RV(truncated).
    type: int
    default: 10000
  max_bytes:
    description: The most bytes of log text returned (each line counts its text plus 64); the rest are cut.
    type: int
    default: 10485760
  keep:
    description:
      - Which lines to keep when a cap is reached, V(last) (the newest) or V(first) (the oldest; reading then stops
        at the cap). With O(tail), always V(last).
    type: str
    choices: [first, last]
    default: last
  output:
    description: Return RV(lines) (V(lines)), RV(stdout_lines) (V(stdout)) or both (V(both)).
    type: str
    choices: [both, lines, stdout]
    default: both
"""

EXAMPLES = r"""
- name: What did the web app say in the last hour?
  skipper.platform.app_log:
    name: web
    namespace: shop-prod
    since: 1h
  register: web_log

- name: Show it
  ansible.builtin.debug:
    var: web_log.stdout_lines

- name: The last 200 lines of every pod, from the containers that ran before the last restart
  skipper.platform.app_log:
    name: web
    namespace: shop-prod
    tail: 200
    previous: true

- name: A night's window
  skipper.platform.app_log:
    name: web
    namespace: shop-prod
    since: "2026-11-25T01:00:00Z"
    until: "2026-11-25T03:00:00Z"
    output: lines
  register: night

- name: Name the pods that logged errors that night
  ansible.builtin.debug:
    msg: "{{ night.lines | selectattr('text', 'search', 'ERROR') | map(attribute='pod') | unique }}"

- name: Follow the logs for 10 seconds while the new pods start
  skipper.platform.app_log:
    name: web
    namespace: shop-prod
    follow_for: 10s
    tail: 10
"""

RETURN = r"""
lines:
  description: The lines, in time order, each with its time (UTC, nanoseconds), pod, container and text.
  returned: unless O(output=stdout)
  type: list
  elements: dict
  sample: [{time: "2026-11-25T21:34:36.123456789Z", pod: web-7d9f8b6c5-x2x9z, container: app, text: "GET / 200"}]
stdout_lines:
  description: The same lines as text, C(<time> <pod> <text>) (C(<pod>/<container>) when several container names
    are read).
  returned: unless O(output=lines)
  type: list
  elements: str
  sample: ["2026-11-25T21:34:36.123456789Z web-7d9f8b6c5-x2x9z GET / 200"]
line_count:
  description: How many lines were returned.
  returned: always
  type: int
  sample: 2
pods:
  description: The app's pods that were read, in name order.
  returned: always
  type: list
  elements: str
  sample: [web-7d9f8b6c5-x2x9z, web-7d9f8b6c5-zq4lm]
streams:
  description: Each pod and container whose log was asked for.
  returned: always
  type: list
  elements: dict
  sample: [{pod: web-7d9f8b6c5-x2x9z, container: app}]
unread:
  description:
    - Pods and containers whose log could not be read, with the API's reason (a container not started yet, no
      previous container, a pod gone since it was listed).
  returned: always
  type: list
  elements: dict
  sample: [{pod: web-7d9f8b6c5-x2x9z, container: app, reason: "400 BadRequest: previous terminated container not found"}]
truncated:
  description:
    - Null when nothing was cut. Otherwise how many lines and bytes of text were cut, which end was kept, the cap
      that cut them (C(max_lines) or C(max_bytes)), and a message with the time span cut. The same message is
      given as a warning.
  returned: always
  type: dict
  sample: {lines: 90000, bytes: 5400000, kept: last, reason: "max_lines: 10000",
           message: "the earliest 90000 line(s) (5400000 bytes of text) from ... to ... were cut (max_lines: 10000)"}
"""

from ansible_collections.skipper.platform.plugins.module_utils._logs import read_logs
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(lambda svc, params, _check: read_logs(svc, params), dict(
        name={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        container={"type": "str"},
        since={"type": "str"},
        until={"type": "str"},
        tail={"type": "int"},
        previous={"type": "bool", "default": False},
        follow_for={"type": "str"},
        max_lines={"type": "int", "default": 10000},
        max_bytes={"type": "int", "default": 10485760},
        keep={"type": "str", "choices": ["first", "last"], "default": "last"},
        output={"type": "str", "choices": ["both", "lines", "stdout"], "default": "both"},
    ))


if __name__ == "__main__":
    main()

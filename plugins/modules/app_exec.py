#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_exec
short_description: Run a command in an app's pods
version_added: 0.2.0
description:
  - Runs one command in a ready pod of an app deployed by M(skipper.platform.app), in a pod named by O(pod), or in
    every ready pod (O(all_pods)), and returns its return code and output like M(ansible.builtin.command).
  - The command is not run through a shell. Give O(argv), or O(cmd), which is split into arguments like a shell
    would split it; to use shell features, run the shell (V(sh -c '...')).
  - A return code that is not in O(ok_rc) fails the task, with RV(rc), RV(stdout) and RV(stderr) in the result.
  - With O(creates) or O(removes), the module first runs C(test -e PATH) in the pod (so the container needs C(sh))
    and skips the command like M(ansible.builtin.command) does.
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Runs nothing. Without O(creates) or O(removes) the task is skipped; with them, the path is checked in the pod
        and the task reports whether the command would run.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: Only with O(creates) or O(removes); otherwise the command runs every time and reports a change.
notes:
  - The command runs through the API server's exec stream (a WebSocket speaking C(v5.channel.k8s.io), or
    C(v4.channel.k8s.io) on servers older than Kubernetes 1.30, which cannot end the command's input). The socket is
    opened with the same address, CA, client certificate, token, impersonation and proxy as every other request.
  - The WebSocket framing comes from the C(websocket-client) Python package, chosen because it is maintained, is the
    library the C(kubernetes) Python package streams with itself (so it is already installed wherever that is), and
    needs no event loop.
  - Output is streamed and kept up to O(output_limit) bytes per stream and pod; past that it is counted and dropped,
    and RV(truncated) says how many bytes were dropped.
requirements:
  - websocket-client
options:
  namespace:
    description: The app's namespace.
    type: str
    required: true
  name:
    description: The app's name; the command runs in its pods (those carrying its selector labels).
    type: str
    required: true
  pod:
    description: Run in this pod, which must be one of the app's pods and ready, rather than in the oldest ready one.
    type: str
  all_pods:
    description: Run in every ready pod of the app, one after the other; RV(results) holds one result per pod.
    type: bool
    default: false
  container:
    description: The container to run in; by default the pod's only or default container.
    type: str
  argv:
    description: The command and its arguments. One of O(argv) and O(cmd) is required.
    type: list
    elements: str
  cmd:
    description: The command as one string, split into arguments like a shell would (no expansion, no pipes).
    type: str
  stdin:
    description:
      - Text sent to the command's standard input, which is then closed (with C(v5.channel.k8s.io)).
    type: str
  stdin_add_newline:
    description: Add a newline to O(stdin) when it does not end with one.
    type: bool
    default: true
  creates:
    description: A path in the container; when it exists, the command is not run.
    type: str
  removes:
    description: A path in the container; when it does not exist, the command is not run.
    type: str
  ok_rc:
    description: The return codes that count as success. V([0, 1]) accepts 1 as well; a failed command still
      returns RV(rc), RV(stdout) and RV(stderr).
    type: list
    elements: int
    default: [0]
  timeout:
    description: Seconds the command (in all pods together) may run; the task fails when they run out.
    type: int
  output_limit:
    description: Bytes of stdout, and of stderr, kept per pod; the rest is dropped and counted in RV(truncated).
    type: int
    default: 10485760
"""

EXAMPLES = r"""
# Relative paths are in the container's working directory (its image's WORKDIR), as in a shell in the pod.
- name: Run the database migrations in one pod of the app
  skipper.platform.app_exec:
    namespace: shop-prod
    name: web
    argv: [bin/console, doctrine:migrations:migrate, --no-interaction]

- name: Clear the cache in every pod
  skipper.platform.app_exec:
    namespace: shop-prod
    name: web
    all_pods: true
    cmd: sh -c 'rm -rf var/cache/*'

- name: Import a dump once
  skipper.platform.app_exec:
    namespace: shop-prod
    name: web
    cmd: sh -c 'bin/import < data/dump.sql && touch data/.imported'
    creates: data/.imported

- name: Ask a question whose answer may be no
  skipper.platform.app_exec:
    namespace: shop-prod
    name: web
    argv: [grep, -q, maintenance, config/flags]
    ok_rc: [0, 1]
  register: flags

- name: Feed text to the command
  skipper.platform.app_exec:
    namespace: shop-prod
    name: web
    argv: [sh, -c, 'read -r line; echo "got $line"']
    stdin: hello
"""

RETURN = r"""
rc:
  description: The command's return code (with O(all_pods), that of the first pod where it failed, else 0).
  returned: when the command could be started (it is absent when, say, the executable does not exist)
  type: int
  sample: 0
stdout:
  description: The command's standard output.
  returned: when the command ran in one pod
  type: str
  sample: "Migrated 3 versions"
stderr:
  description: The command's standard error.
  returned: when the command ran in one pod
  type: str
  sample: ""
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the command ran in one pod
  type: list
  elements: str
  sample: ["Migrated 3 versions"]
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the command ran in one pod
  type: list
  elements: str
  sample: []
pod:
  description: The pod the command ran in.
  returned: when the command ran in one pod
  type: str
  sample: web-7d9c5b8f4-x2x9k
cmd:
  description: The command as it was run, one list item per argument.
  returned: always
  type: list
  elements: str
  sample: [bin/console, doctrine:migrations:migrate, --no-interaction]
start:
  description: When the command started, in the controller's local time.
  returned: when the command ran in one pod
  type: str
  sample: "2026-11-26 01:02:03.123456"
end:
  description: When the command ended.
  returned: when the command ran in one pod
  type: str
  sample: "2026-11-26 01:02:04.234567"
delta:
  description: How long the command ran.
  returned: when the command ran in one pod
  type: str
  sample: "0:00:01.111111"
truncated:
  description: Bytes dropped past O(output_limit), per stream.
  returned: when output was dropped
  type: dict
  sample: {stdout: 1048576}
results:
  description: One result per pod, each with the keys above.
  returned: with O(all_pods)
  type: list
  elements: dict
  sample: [{pod: web-7d9c5b8f4-x2x9k, rc: 0, stdout: ok, stderr: "", changed: true}]
msg:
  description: Why the command was skipped or failed.
  returned: when the command was skipped or failed
  type: str
  sample: skipped, since /data/.imported exists
"""

from ansible_collections.skipper.platform.plugins.module_utils._exec import run_app_exec
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(run_app_exec, dict(
        namespace={"type": "str", "required": True},
        name={"type": "str", "required": True},
        pod={"type": "str"},
        all_pods={"type": "bool", "default": False},
        container={"type": "str"},
        argv={"type": "list", "elements": "str"},
        cmd={"type": "str"},
        stdin={"type": "str"},
        stdin_add_newline={"type": "bool", "default": True},
        creates={"type": "str"},
        removes={"type": "str"},
        ok_rc={"type": "list", "elements": "int", "default": [0]},
        timeout={"type": "int"},
        output_limit={"type": "int", "default": 10485760},
    ), mutually_exclusive=[("argv", "cmd")], required_one_of=[("argv", "cmd")])


if __name__ == "__main__":
    main()

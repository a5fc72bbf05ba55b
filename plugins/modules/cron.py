#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cron
short_description: Keep one cron job of an app, or run it now
version_added: 0.2.0
description:
  - Keeps one C(batch/v1) CronJob named C(<app>-<name>) that runs a command in the app's image, with the app's
    environment, secrets, volumes and security settings, taken from the app's live Deployment (the app must be
    deployed). The job's pods carry no ports and no probes.
  - The CronJob, its Jobs and their pods carry the app's labels and C(skipper.platform/cron=<name>); the CronJob is
    annotated C(skipper.platform/declared-by=skipper.platform.cron), so an app whose inventory declares
    O(skipper.platform.app#module:cron) leaves it alone. A CronJob that the app's own cron list declares is refused
    here; change it in the list.
  - Writes with server-side apply after a dry run, only when the dry run differs from the live object, so check
    mode predicts C(changed) and the diff exactly and a second run writes nothing.
  - O(run=now) then creates a Job from the CronJob (as C(kubectl create job --from=cronjob/...) does, owned by the
    CronJob), waits for it up to O(wait_timeout), and returns its result, exit code and the tail of its log. It
    fails when the run fails, unless O(fail_on_error=false).
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: full
    details: With O(run=now), check mode runs nothing and reports a change.
  diff_mode:
    support: full
  idempotent:
    support: partial
    details: O(run=now) runs the job on every run; everything else is idempotent.
options:
  app:
    description: The app's name; its Deployment must exist in O(namespace).
    type: str
    required: true
  namespace:
    description: The app's namespace.
    type: str
    required: true
  name:
    description:
      - The cron job's name, a DNS label; the CronJob is named C(<app>-<name>), at most 52 characters.
    type: str
    required: true
  state:
    description:
      - V(present) keeps the CronJob as described, scheduled.
      - V(suspended) keeps it as described but suspended (no scheduled runs; O(run=now) still runs it).
      - V(absent) deletes it (its Jobs and their pods go with it).
    type: str
    choices: [present, absent, suspended]
    default: present
  schedule:
    description:
      - Five fields, minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC) and day of week (0-6
        or SUN-SAT), each C(*), a value, a range C(a-b), a list, with an optional step C(/n); or one of C(@hourly),
        C(@daily), C(@midnight), C(@weekly), C(@monthly), C(@yearly), C(@annually).
      - Required unless O(state=absent).
    type: str
  command:
    description: The command and its arguments, replacing the image's entry point. Required unless O(state=absent).
    type: list
    elements: str
  timezone:
    description: The time zone the schedule is read in, a tz database name such as C(Europe/Paris). Without it, the
      controller's (usually UTC).
    type: str
  concurrency_policy:
    description: What to do when a run is due while the previous one still runs.
    type: str
    choices: [Allow, Forbid, Replace]
    default: Forbid
  successful_history_limit:
    description: How many succeeded Jobs the CronJob keeps.
    type: int
    default: 3
  failed_history_limit:
    description: How many failed Jobs the CronJob keeps.
    type: int
    default: 1
  starting_deadline:
    description: Seconds after its time within which a missed run may still start.
    type: int
  active_deadline:
    description: Seconds a run may last before it is stopped and counted failed.
    type: int
  backoff_limit:
    description: Retries of a failed run's pod before the run counts failed (the API's default is 6).
    type: int
  labels:
    description: Extra labels for the job's pods (not under C(app.kubernetes.io/) or C(skipper.platform/)).
    type: dict
  run:
    description:
      - V(now) runs the job once after the CronJob is in place, and waits for its end.
    type: str
    choices: [now]
  wait_timeout:
    description: With O(run=now), how many seconds to wait for the run to end. A run still going then is reported
      with result V(timeout) (and fails unless O(fail_on_error=false)); it goes on.
    type: int
    default: 300
  log_lines:
    description: With O(run=now), how many of the last lines of the run's log to return.
    type: int
    default: 20
  fail_on_error:
    description: With O(run=now), fail when the run fails or does not end within O(wait_timeout).
    type: bool
    default: true
  force:
    description: Take over fields of the CronJob that another field manager holds.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Run drush cron every night at 3 in Paris
  skipper.platform.cron:
    app: web
    namespace: shop-prod
    name: nightly
    schedule: "0 3 * * *"
    timezone: Europe/Paris
    command: [drush, cron]

- name: Run it now and show how it went
  skipper.platform.cron:
    app: web
    namespace: shop-prod
    name: nightly
    schedule: "0 3 * * *"
    timezone: Europe/Paris
    command: [drush, cron]
    run: now
    wait_timeout: 600
  register: nightly

- name: Show the run
  ansible.builtin.debug:
    msg: "{{ nightly.run.result }} (rc {{ nightly.run.rc }}): {{ nightly.run.log | join('\n') }}"

- name: Stop the schedule for a while
  skipper.platform.cron:
    app: web
    namespace: shop-prod
    name: nightly
    schedule: "0 3 * * *"
    timezone: Europe/Paris
    command: [drush, cron]
    state: suspended

- name: Remove it
  skipper.platform.cron:
    app: web
    namespace: shop-prod
    name: nightly
    state: absent
"""

RETURN = r"""
cronjob:
  description: The CronJob's name, namespace and app, and unless O(state=absent) its schedule, time zone and whether
    it is suspended.
  returned: always
  type: dict
  sample: {name: web-nightly, namespace: shop-prod, app: web, schedule: "0 3 * * *", timezone: Europe/Paris, suspended: false}
objects:
  description: The CronJob, with the action taken (V(created), V(updated), V(unchanged) or V(deleted)).
  returned: always
  type: list
  elements: dict
  sample: [{kind: CronJob, namespace: shop-prod, name: web-nightly, action: created}]
diff:
  description: Before and after of the CronJob when it changes, cut to the fields the module sends.
  returned: in diff mode, when something changes
  type: list
  elements: dict
run:
  description:
    - With O(run=now), the run. In check mode only C(status=not_run) and a message.
    - C(result) is V(succeeded), V(failed) or V(timeout); C(rc) the exit code of the run's last pod (null when it
      has none); C(log) the last O(log_lines) lines of that pod's log; C(start), C(end) in UTC and C(duration) in
      seconds; C(reason) and C(message) of a failure.
  returned: with O(run=now)
  type: dict
  sample: {job: web-nightly-m1a2b3c4d, pod: web-nightly-m1a2b3c4d-x7k2p, result: succeeded, rc: 0, manual: true,
           start: "2026-11-25T03:00:01Z", end: "2026-11-25T03:00:09Z", duration: 8.0, log: [done],
           reason: null, message: succeeded}
"""

from ansible_collections.skipper.platform.plugins.module_utils._cron import run_cron
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(run_cron, dict(
        app={"type": "str", "required": True},
        namespace={"type": "str", "required": True},
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent", "suspended"], "default": "present"},
        schedule={"type": "str"},
        command={"type": "list", "elements": "str"},
        timezone={"type": "str"},
        concurrency_policy={"type": "str", "choices": ["Allow", "Forbid", "Replace"], "default": "Forbid"},
        successful_history_limit={"type": "int", "default": 3},
        failed_history_limit={"type": "int", "default": 1},
        starting_deadline={"type": "int"},
        active_deadline={"type": "int"},
        backoff_limit={"type": "int"},
        labels={"type": "dict"},
        run={"type": "str", "choices": ["now"]},
        wait_timeout={"type": "int", "default": 300},
        log_lines={"type": "int", "default": 20},
        fail_on_error={"type": "bool", "default": True},
        force={"type": "bool", "default": False},
    ))


if __name__ == "__main__":
    main()

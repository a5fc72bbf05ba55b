#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cron_info
short_description: Read an app's cron jobs and their last runs
version_added: 0.2.0
description:
  - Reads the cron jobs of an app (or of every app in a namespace) that O(skipper.platform.app#module:cron) or
    M(skipper.platform.cron) made, each with its schedule, time zone, whether it is suspended, when it was last
    scheduled and last succeeded, and its last runs (the Jobs it owns, newest first, scheduled or run by hand) with
    start, end, duration, result and exit code, and optionally the tail of each run's log.
  - Three list requests (CronJobs, Jobs, pods) whatever the number of cron jobs, plus one log read per run with
    O(log_lines).
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: full
    details: Only reads.
  diff_mode:
    support: N/A
    details: Only reads.
  idempotent:
    support: full
options:
  namespace:
    description: The namespace to read.
    type: str
    required: true
  app:
    description: One app's name. Without it, the cron jobs of every app in the namespace.
    type: str
  runs:
    description: How many of each cron job's last runs to return (the CronJob keeps only as many as its history
      limits say).
    type: int
    default: 5
  log_lines:
    description: With more than 0, the last lines of each run's log (of its newest pod).
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Did the nightly jobs run?
  skipper.platform.cron_info:
    namespace: shop-prod
    app: web
    runs: 3
    log_lines: 10
  register: cron

- name: Show each job's last run
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ (item.runs | first).result if item.runs else 'never ran' }}"
  loop: "{{ cron.cron_jobs }}"
  loop_control:
    label: "{{ item.cronjob }}"
"""

RETURN = r"""
cron_jobs:
  description: The cron jobs found, in CronJob name order. Empty when there are none.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The cron entry's name.
      type: str
      sample: nightly
    cronjob:
      description: The CronJob's name.
      type: str
      sample: web-nightly
    app:
      description: The app it belongs to.
      type: str
      sample: web
    namespace:
      description: Its namespace.
      type: str
      sample: shop-prod
    schedule:
      description: The schedule.
      type: str
      sample: "0 3 * * *"
    timezone:
      description: The time zone of the schedule, or null for the controller's.
      type: str
      sample: Europe/Paris
    suspended:
      description: Whether scheduled runs are suspended.
      type: bool
      sample: false
    concurrency_policy:
      description: Allow, Forbid or Replace.
      type: str
      sample: Forbid
    command:
      description: The command the job runs.
      type: list
      elements: str
      sample: [drush, cron]
    image:
      description: The image the job runs.
      type: str
      sample: registry.example.com/shop/web:1.4.2
    declared_by:
      description: V(app) for an entry of the app's cron list, V(cron module) for one M(skipper.platform.cron) made.
      type: str
      sample: app
    last_schedule_time:
      description: When the controller last started a scheduled run (UTC), or null.
      type: str
      sample: "2026-11-25T03:00:00Z"
    last_successful_time:
      description: When a run last succeeded (UTC), or null.
      type: str
      sample: "2026-11-25T03:00:09Z"
    active:
      description: How many runs are going on now.
      type: int
      sample: 0
    runs:
      description:
        - The last O(runs) runs, newest first. C(result) is V(succeeded), V(failed) or V(running); C(manual) is true
          for a run made by hand (O(skipper.platform.cron#module:run=now)); C(rc) is the exit code of the run's
          newest pod, null when it has none; C(log) (with O(log_lines)) the tail of its log; C(duration) in seconds,
          null while it runs.
      type: list
      elements: dict
      sample: [{job: web-nightly-29400180, pod: web-nightly-29400180-x7k2p, result: succeeded, rc: 0, manual: false,
                start: "2026-11-25T03:00:01Z", end: "2026-11-25T03:00:09Z", duration: 8.0, reason: null, message: null}]
"""

from ansible_collections.skipper.platform.plugins.module_utils._cron import read_cron
from ansible_collections.skipper.platform.plugins.module_utils._module import run_module


def main() -> None:
    run_module(lambda svc, params, _check: read_cron(svc, params), dict(
        namespace={"type": "str", "required": True},
        app={"type": "str"},
        runs={"type": "int", "default": 5},
        log_lines={"type": "int", "default": 0},
    ))


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_rsync
short_description: Copy a folder between the controller and an app's pods, only what differs
version_added: 0.2.0
description:
  - V(push) copies the contents of a folder on the controller (O(src)) into a folder of one ready pod of an app, a
    named pod, or every ready pod (O(all_pods)); V(pull) copies a pod's folder (O(src)) into a folder on the
    controller (O(dest)). The destination folder must exist.
  - Only the files that differ are sent; a file differs when its type, size, SHA-256 or permissions differ (a
    symbolic link when its target differs). Both sides are listed and summed first; the pod's side with one exec of
    C(find), C(stat) and C(sha256sum). The transfer is one exec carrying a tar stream, so the container needs C(sh),
    C(tar), C(head), C(find) and coreutils' C(stat) and C(sha256sum), as nearly every image has (busybox too).
  - Permissions, modification times and symbolic links are kept. Owners are not (files belong to the user the
    container runs as, or to the user running the module).
  - No partial file is ever left at a destination path. A push extracts into a hidden folder inside the destination
    (C(.skipper-rsync-*)), checks that the whole archive arrived, then renames each file into place; a cut transfer
    leaves only that folder, which the next push removes and listings ignore. A pull writes each file under a
    temporary name beside it and renames it when complete.
  - A pull only accepts the files it asked for, and refuses, before anything is written, a symbolic link that points
    out of the destination (an absolute target, or one that climbs out with C(..)).
author:
  - Skipper Platform maintainers (@skipper-platform)
extends_documentation_fragment:
  - skipper.platform.auth
  - skipper.platform.attributes
attributes:
  check_mode:
    support: full
    details: Lists and sums both sides, and reports the files that would be copied and deleted; copies nothing.
  diff_mode:
    support: full
    details: The diff lists each path with C(+) (new), C(~) (changed) or C(-) (deleted).
  idempotent:
    support: full
notes:
  - A real C(rsync) is not used. It would need its own program in the container and a remote shell wrapped around
    exec; C(tar) through exec is in every image, and already moves only what differs.
  - File names that hold a newline are not supported.
requirements:
  - websocket-client
options:
  namespace:
    description: The app's namespace.
    type: str
    required: true
  name:
    description: The app's name.
    type: str
    required: true
  mode:
    description: V(push) from the controller to the pod(s), V(pull) from one pod to the controller.
    type: str
    choices: [push, pull]
    default: push
  src:
    description: The folder to copy from, an absolute path (on the controller for V(push), in the pod for V(pull));
      its contents are copied, not the folder itself.
    type: str
    required: true
  dest:
    description: The folder to copy into, an absolute path that must exist (in the pod for V(push), on the controller
      for V(pull)).
    type: str
    required: true
  pod:
    description: Use this pod, which must be one of the app's pods and ready, rather than the oldest ready one.
    type: str
  all_pods:
    description: With V(push), copy into every ready pod of the app.
    type: bool
    default: false
  container:
    description: The container; by default the pod's only or default container.
    type: str
  delete:
    description: Delete the files and folders in the destination that the source does not have (excluded ones are
      kept).
    type: bool
    default: false
  exclude:
    description:
      - Glob patterns (C(*), C(?), C([...])) of paths to leave alone on both sides. A pattern without C(/) matches a
        name at any depth (V(*.log), V(cache)); one with C(/) matches the path from the folder's top
        (V(var/cache)). An excluded folder is excluded with everything in it.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds the whole transfer may take; it fails when they run out, and no partial file is left.
    type: float
"""

EXAMPLES = r"""
# web_root is where the web image keeps the app in its pods (/app, /var/www/html, ...); backup_dir is a folder on
# the controller.
- name: Send the uploaded files from the controller's backup to every pod
  skipper.platform.app_rsync:
    namespace: shop-prod
    name: web
    src: "{{ backup_dir }}/uploads"
    dest: "{{ web_root }}/public/uploads"
    all_pods: true

- name: Mirror the theme folder kept beside the playbook, deleting what was removed locally
  skipper.platform.app_rsync:
    namespace: shop-prod
    name: web
    src: "{{ playbook_dir }}/theme"
    dest: "{{ web_root }}/theme"
    delete: true
    exclude: ["*.tmp", cache]

- name: Pull the uploads back down to the controller's backup
  skipper.platform.app_rsync:
    namespace: shop-prod
    name: web
    mode: pull
    src: "{{ web_root }}/public/uploads"
    dest: "{{ backup_dir }}/uploads"
"""

RETURN = r"""
copied:
  description: The paths (relative to the folders) that were, or in check mode would be, copied.
  returned: always
  type: list
  elements: str
  sample: [css/site.css, img/logo.png]
deleted:
  description: The paths that were, or would be, deleted (a deleted folder is listed alone, not its contents).
  returned: always
  type: list
  elements: str
  sample: [old.html]
pod:
  description: The pod copied into or from.
  returned: when one pod was used
  type: str
  sample: web-7d9c5b8f4-x2x9k
pods:
  description: One result per pod, each with the keys above.
  returned: with O(all_pods) and more than one pod
  type: list
  elements: dict
  sample: [{pod: web-7d9c5b8f4-x2x9k, copied: [a.txt], deleted: [], changed: true}]
listing_bytes:
  description: Bytes the pod's listing took.
  returned: when one pod was used
  type: int
  sample: 152000
bytes_sent:
  description: Bytes of the archive sent to the pod.
  returned: when a push copied something
  type: int
  sample: 40960
bytes_received:
  description: Bytes of the archive read from the pod.
  returned: when a pull copied something
  type: int
  sample: 40960
"""

from ansible_collections.skipper.platform.plugins.module_utils._module import run_module
from ansible_collections.skipper.platform.plugins.module_utils._rsync import run_app_rsync


def main() -> None:
    run_module(run_app_rsync, dict(
        namespace={"type": "str", "required": True},
        name={"type": "str", "required": True},
        mode={"type": "str", "choices": ["push", "pull"], "default": "push"},
        src={"type": "str", "required": True},
        dest={"type": "str", "required": True},
        pod={"type": "str"},
        all_pods={"type": "bool", "default": False},
        container={"type": "str"},
        delete={"type": "bool", "default": False},
        exclude={"type": "list", "elements": "str", "default": []},
        timeout={"type": "float"},
    ))


if __name__ == "__main__":
    main()

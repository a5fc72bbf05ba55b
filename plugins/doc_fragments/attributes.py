# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the cluster.
    support: full
  diff_mode:
    description: Returns what would change (or has changed) in diff mode, with Secret values and
      server-managed fields left out.
    support: full
  idempotent:
    description: A second run with the same arguments changes nothing and reports no change.
    support: full
  action_group:
    description: Use C(group/skipper.platform.k8s) in O(ignore:module_defaults) to set connection options once.
    support: full
    membership:
      - skipper.platform.k8s
  platform:
    description: Targets a Kubernetes API server; the module itself runs on the controller or an execution environment.
    support: full
    platforms: kubernetes
"""

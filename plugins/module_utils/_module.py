# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module's main() shares: connect, run one runner, shape the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ._auth import auth_arg_spec
from ._client import DEPS_ERROR, HAS_DEPS, Client
from ._errors import SkipperError
from ._service import Service


def argument_spec(**options: dict[str, Any]) -> dict[str, Any]:
    spec = auth_arg_spec()
    spec.update(options)
    return spec


def run_module(runner: Callable[[Service, dict[str, Any], bool], dict[str, Any]], options: dict[str, Any],
               **module_kwargs: Any) -> None:
    """A module's whole main(): its options beside the connection's, one runner, the result or the failure."""
    module = AnsibleModule(argument_spec=argument_spec(**options), supports_check_mode=True, **module_kwargs)
    result, failure = execute(module, runner)
    if failure:
        module.fail_json(**failure)
    module.exit_json(**result)


def execute(module: Any, runner: Callable[[Service, dict[str, Any], bool], dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run ``runner`` and return (result, None) or (None-ish, failure kwargs for fail_json)."""
    if not HAS_DEPS:
        return {}, {"msg": missing_required_lib("urllib3 and PyYAML"), "exception": DEPS_ERROR}
    client = None
    try:
        client = Client(module.params)
        result = runner(Service(client), module.params, module.check_mode)
    except SkipperError as exc:
        failure = {"msg": exc.message, **exc.details}
        if not module._diff:
            failure.pop("diff", None)
        _warn(module, client, failure)
        return {}, failure
    if not module._diff:
        result.pop("diff", None)
    _warn(module, client, result)
    return result, None


def _warn(module: Any, client: Client | None, result: dict[str, Any]) -> None:
    """The client's and the runner's warnings, through module.warn (a ``warnings`` result key is deprecated)."""
    for warning in [*(client.warnings if client else ()), *result.pop("warnings", ())]:
        module.warn(warning)

# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

pytest.importorskip("hvac")

from ansible_collections.skipper.platform.plugins.lookup.vault import _reason, _vault_errors  # noqa: E402


class VaultAnswer(Exception):
    def __init__(self, errors: list[str] | None) -> None:
        super().__init__("x")
        self.errors = errors


@pytest.mark.parametrize(("errors", "expected"), [
    (["1 error occurred:\n\t* permission denied\n\n"], "permission denied"),
    (["2 errors occurred:\n\t* one\n\t* two\n\n"], "one; two"),
    (["invalid role or secret ID"], "invalid role or secret ID"),
    (None, "VaultAnswer"),
])
def test_vault_errors_on_one_line(errors: list[str] | None, expected: str) -> None:
    assert _vault_errors(VaultAnswer(errors)) == expected


def test_connection_reason_is_short() -> None:
    text = ("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /v1/secret/data/x (Caused by "
            "NewConnectionError(\"<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new "
            "connection: [Errno 111] Connection refused\"))")
    assert _reason(Exception(text)) == "[Errno 111] Connection refused"
    assert _reason(Exception("Read timed out. (read timeout=5)")) == "timed out"

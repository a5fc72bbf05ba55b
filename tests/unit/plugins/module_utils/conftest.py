# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

# Answers of a real API server, recorded from the local cluster by
# tools/record_fixtures.py (`make fixtures` records them again); each file's
# header says which request it answers.
FIXTURES = Path(__file__).parent / "fixtures"
_CACHE: dict[str, Any] = {}


@pytest.fixture
def load() -> Callable[[str], Any]:
    """Read a YAML fixture; every call returns a fresh copy the test may change."""

    def _load(name: str) -> Any:
        if name not in _CACHE:
            _CACHE[name] = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
        return copy.deepcopy(_CACHE[name])

    return _load

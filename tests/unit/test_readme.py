"""README claims that a test can hold: the least-privilege Role is the one the tests use and the environment makes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from ansible_collections.skipper.platform.plugins.module_utils._environment import DEPLOYER_RULES

ROOT = Path(__file__).resolve().parents[2]


def test_readme_role_is_the_tested_role() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Least privilege", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README's Least privilege section has no yaml block"
    documented = yaml.safe_load(block.group(1))["rules"]
    tested = yaml.safe_load((ROOT / "tests/integration/targets/app_rbac/files/deployer-role.yml").read_text())["rules"]
    assert documented == tested == DEPLOYER_RULES

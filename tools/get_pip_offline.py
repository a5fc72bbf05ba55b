"""Stand-in for the get-pip.py that ansible-test downloads to seed its venvs.

ansible-test fetches get-pip.py from a host outside the package registries,
which this project's machines cannot reach. It runs the cached script with
pip's command line (``pip==X`` and flags); this script does the same job with
the interpreter's own ensurepip and then PyPI. tools/test.py puts it in
ansible-test's cache under the names ansible-test looks for.

ansible-test hides pip's configuration files (PIP_CONFIG_FILE=/dev/null), and
the pip that ensurepip bundles only trusts its own CA list; so this first
install trusts the system's CA store, as the pip it installs (24.2 and later)
does by default.
"""

import ensurepip
import os
import ssl
import subprocess
import sys


def main() -> None:
    ensurepip.bootstrap()
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    paths = ssl.get_default_verify_paths()
    cafile = next((p for p in (paths.cafile, paths.openssl_cafile) if p and os.path.exists(p)), None)
    if cafile:
        args = ["--cert", cafile, *args]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])


main()

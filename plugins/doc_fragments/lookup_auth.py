# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection options of skipper.platform.auth, for lookups: the same
    # names and K8S_AUTH_* variables, plus variables and ansible.cfg entries.
    # Values that come from a K8S_AUTH_* variable are left to the collection's
    # one resolution rule (module_utils/_auth.py), so a lookup picks its
    # credentials exactly like a module does.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file (several separated by V(:) merge like in C(kubectl)), or the kubeconfig itself as a
        dictionary (never shown or logged).
      - Without any connection option, the C(K8S_AUTH_*) variables are read, then E(KUBECONFIG) or C(~/.kube/config),
        then the in-cluster service account.
      - Same meaning as O(skipper.platform.app#module:kubeconfig).
    type: raw
    env:
      - name: K8S_AUTH_KUBECONFIG
    vars:
      - name: skipper_k8s_kubeconfig
    ini:
      - section: skipper_platform
        key: kubeconfig
  context:
    description:
      - The kubeconfig context to use instead of its current context. Only selects a context inside the kubeconfig
        of the source the credentials come from; it never chooses that source.
    type: str
    env:
      - name: K8S_AUTH_CONTEXT
    vars:
      - name: skipper_k8s_context
    ini:
      - section: skipper_platform
        key: context
  host:
    description:
      - URL of the API server, for example V(https://k8s.example.com:6443).
    type: str
    env:
      - name: K8S_AUTH_HOST
    vars:
      - name: skipper_k8s_host
    ini:
      - section: skipper_platform
        key: host
  api_key:
    description:
      - Bearer token for the API server, such as a ServiceAccount token. Never shown in output.
      - Replaces the kubeconfig user's credentials as a whole, its client certificate included.
    type: str
    env:
      - name: K8S_AUTH_API_KEY
    vars:
      - name: skipper_k8s_api_key
  validate_certs:
    description:
      - Whether to verify the API server's certificate. Defaults to what the kubeconfig says, else V(true).
    type: bool
    aliases: [verify_ssl]
    env:
      - name: K8S_AUTH_VERIFY_SSL
    vars:
      - name: skipper_k8s_validate_certs
    ini:
      - section: skipper_platform
        key: validate_certs
  ca_cert:
    description:
      - Path to the CA certificate that signed the API server's certificate.
    type: path
    aliases: [ssl_ca_cert]
    env:
      - name: K8S_AUTH_SSL_CA_CERT
    vars:
      - name: skipper_k8s_ca_cert
    ini:
      - section: skipper_platform
        key: ca_cert
  client_cert:
    description:
      - Path to a client certificate for authenticating to the API server.
    type: path
    aliases: [cert_file]
    env:
      - name: K8S_AUTH_CERT_FILE
    vars:
      - name: skipper_k8s_client_cert
    ini:
      - section: skipper_platform
        key: client_cert
  client_key:
    description:
      - Path to the key of O(client_cert).
    type: path
    aliases: [key_file]
    env:
      - name: K8S_AUTH_KEY_FILE
    vars:
      - name: skipper_k8s_client_key
    ini:
      - section: skipper_platform
        key: client_key
  connect_timeout:
    description:
      - Seconds to wait for a connection to the API server. Default 10.
    type: float
    env:
      - name: K8S_AUTH_CONNECT_TIMEOUT
    vars:
      - name: skipper_k8s_connect_timeout
  request_timeout:
    description:
      - Seconds to wait for the API server to answer one request. Default 30.
    type: float
    env:
      - name: K8S_AUTH_REQUEST_TIMEOUT
    vars:
      - name: skipper_k8s_request_timeout
notes:
  - "Credentials come from exactly one source, by the same rule as the collection's modules: the lookup's own
    options (given to the lookup, through the C(skipper_k8s_*) variables or in the C([skipper_platform]) section of
    C(ansible.cfg)) if any connection option other than O(context) is set there; else the C(K8S_AUTH_*) environment
    variables if any is set; else E(KUBECONFIG) or C(~/.kube/config); else the in-cluster service account. Sources
    never mix: when the lookup's options win, every C(K8S_AUTH_*) variable that is set is ignored and named in one
    warning (names only)."
  - Lookups run on the controller, so the Python packages C(urllib3) and C(PyYAML) are needed there.
requirements:
  - urllib3
  - PyYAML
"""

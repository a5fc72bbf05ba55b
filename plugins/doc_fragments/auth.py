# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Same names and variables as kubernetes.core, so AWX's Kubernetes
    # credential and existing module_defaults keep working.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - Without any connection option, the environment is read (E(K8S_AUTH_KUBECONFIG) and the other
        C(K8S_AUTH_*) variables), then E(KUBECONFIG) or C(~/.kube/config), then the in-cluster service account.
      - Can also be set with E(K8S_AUTH_KUBECONFIG).
    type: raw
  context:
    description:
      - The kubeconfig context to use instead of its current context.
      - Can also be set with E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server, for example V(https://k8s.example.com:6443).
      - Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server, such as a ServiceAccount token.
      - Can also be set with E(K8S_AUTH_API_KEY). Never shown in output.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's certificate.
      - Can also be set with E(K8S_AUTH_VERIFY_SSL); strings such as V(False) are understood.
      - Defaults to what the kubeconfig says, else V(true).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificate that signed the API server's certificate.
      - Can also be set with E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate for authenticating to the API server.
      - Can also be set with E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert).
      - Can also be set with E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  connect_timeout:
    description:
      - Seconds to wait for a connection to the API server. Default 10.
      - Can also be set with E(K8S_AUTH_CONNECT_TIMEOUT).
    type: float
  request_timeout:
    description:
      - Seconds to wait for the API server to answer one request. Default 30.
      - Requests that get 429, a 5xx or a dropped connection are retried up to 3 times with backoff.
      - Can also be set with E(K8S_AUTH_REQUEST_TIMEOUT).
    type: float
notes:
  - "Precedence: an option on the task, then O(ignore:module_defaults) (for example for the group
    C(group/skipper.platform.k8s)), then the C(K8S_AUTH_*) environment variables. Credentials are taken
    from one source only: if any connection option is set on the task or in module_defaults, the
    C(K8S_AUTH_*) variables are ignored."
  - Needs the Python packages C(urllib3) and C(PyYAML) where the module runs; kubeconfigs that use an
    exec plugin or an auth-provider also need C(kubernetes).
requirements:
  - urllib3
  - PyYAML
"""

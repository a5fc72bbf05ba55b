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
      - "Path to a kubeconfig file (several separated by V(:) merge like in C(kubectl)), or the kubeconfig itself
        as a dictionary. A path is shown in messages; a dictionary is never shown or logged. Kubeconfig content given
        as text is refused: turn it into a dictionary, for example with the P(ansible.builtin.from_yaml#filter) filter."
      - Without any connection option, the environment is read (E(K8S_AUTH_KUBECONFIG) and the other
        C(K8S_AUTH_*) variables), then E(KUBECONFIG) or C(~/.kube/config), then the in-cluster service account.
      - "The kubeconfig reader understands certificates, tokens, C(tokenFile), impersonation (C(as), C(as-uid),
        C(as-groups), C(as-user-extra), sent as C(Impersonate-*) headers like C(kubectl) does), C(username)/C(password)
        (HTTP basic auth), C(proxy-url) (HTTP and HTTPS proxies), C(insecure-skip-tls-verify) and
        C(tls-server-name). Users with C(exec) or C(auth-provider) get their token from the Python package
        C(kubernetes). Any other key in a user or cluster entry fails, naming the key and the file."
      - Can also be set with E(K8S_AUTH_KUBECONFIG).
    type: raw
  context:
    description:
      - The kubeconfig context to use instead of its current context.
      - Only selects a context inside the kubeconfig of the source the credentials come from; it never chooses that
        source. With O(host) and O(api_key) (as options or as E(K8S_AUTH_HOST) and E(K8S_AUTH_API_KEY)) or the
        in-cluster service account there is no kubeconfig, and a context is an error.
      - A context the kubeconfig does not have fails, naming the file and the contexts it has.
      - Can also be set with E(K8S_AUTH_CONTEXT); this option wins over it.
    type: str
  host:
    description:
      - URL of the API server, for example V(https://k8s.example.com:6443).
      - Can also be set with E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server, such as a ServiceAccount token.
      - Replaces the kubeconfig user's credentials as a whole, its client certificate included; a wrong token
        therefore fails with 401 instead of going unnoticed beside the certificate.
      - Can also be set with E(K8S_AUTH_API_KEY). Never shown in output.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's certificate.
      - Can also be set with E(K8S_AUTH_VERIFY_SSL); strings such as V(False) are understood, anything that is not
        a boolean fails naming the variable.
      - Defaults to what the kubeconfig says, else V(true). When the checks are off, for whatever reason, the
        module warns once, naming the API server.
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
      - Replaces the kubeconfig user's credentials as a whole, its token included.
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
  - "Credentials come from exactly one source: the task's options (set on the task or through
    O(ignore:module_defaults), for example for the group C(group/skipper.platform.k8s)) if any connection option
    other than O(context) is set there; else the C(K8S_AUTH_*) environment variables if any is set; else
    E(KUBECONFIG) or C(~/.kube/config); else the in-cluster service account. Sources never mix: when the task's
    options win, every C(K8S_AUTH_*) variable that is set is ignored and named in one warning (names only)."
  - "O(host) with O(api_key) is a complete source; no kubeconfig is read. Task options that name neither O(host)
    nor O(kubeconfig) (only O(api_key), say) take the cluster from E(KUBECONFIG) or C(~/.kube/config), like
    C(kubectl --token); if E(K8S_AUTH_HOST) or E(K8S_AUTH_KUBECONFIG) is set beside them, that is an error
    rather than a guess which cluster is meant."
  - "Proxies are used like C(kubectl) uses them: a cluster's C(proxy-url) for its server, else E(HTTPS_PROXY)
    (E(HTTP_PROXY) for C(http://) servers) unless E(NO_PROXY) lists the server (by name, domain suffix, IP, CIDR or
    V(*)). Like C(kubectl), the environment's proxy is never used for C(localhost) or loopback addresses. SOCKS
    proxies are not supported and fail with a message."
  - Needs the Python packages C(urllib3) and C(PyYAML) where the module runs; kubeconfigs that use an
    exec plugin or an auth-provider also need C(kubernetes).
requirements:
  - urllib3
  - PyYAML
"""

# The two commands:
#   make demo   set everything up, start (or reuse) the local cluster, deploy
#               the demo inventory and print its status
#   make test   unit, sanity, lint and integration tests on the oldest and the
#               newest ansible-core, ending with one "N passed, N failed" line;
#               stops its test cluster at the end (KEEP_CLUSTER=1 keeps it)
# Builds and virtualenvs are cached outside the repository (~/.cache/skipper-platform).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# ansible-core 2.19 (the oldest meta/runtime.yml claims) on Python 3.11; the
# newest ansible-core needs Python 3.12 or later. Both are looked up inside
# the recipes, so a missing interpreter stops the recipe with a message.
PY_OLD ?= $$(tools/find-python.sh 3.11)
PY_NEW ?= $$(tools/find-python.sh 3.13 3.12)
VENV_OLD = $$(tools/venv.sh requirements/core-2.19.txt $(PY_OLD))
VENV_NEW = $$(tools/venv.sh requirements/core-2.21.txt $(PY_NEW))
CLUSTER = tests/cluster/cluster.py
COLLECTIONS = $(HOME)/.cache/skipper-platform/collections
ANSIBLE_ENV = ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_CALLBACK_RESULT_FORMAT=yaml

.PHONY: help demo status down test bench cluster-build fixtures

help:
	@echo "make demo    deploy the demo inventory to a local cluster and print its status"
	@echo "make test    run every test (unit, sanity, lint, integration on a real local cluster);"
	@echo "             ONLY=unit|sanity|integration|molecule|lint runs one phase, KEEP_CLUSTER=1 keeps the test cluster"
	@echo "make status  print the demo apps' status again"
	@echo "make down    stop the demo cluster"
	@echo "make bench   measure a no-op deploy against its peers (needs the demo cluster), whole formations on a cluster of"
	@echo "             its own (about 20 min), rsync against kubectl cp and k8s_cp, and app_log against kubectl logs"

# The collection is used straight from this checkout through a symlink.
$(COLLECTIONS)/ansible_collections/skipper/platform:
	@mkdir -p $(COLLECTIONS)/ansible_collections/skipper
	@ln -sfn $(CURDIR) $@

demo: $(COLLECTIONS)/ansible_collections/skipper/platform
	@venv=$(VENV_NEW); \
	echo "== local cluster 'demo' (the first run compiles Kubernetes and metrics-server once: about 8 minutes, with progress)"; \
	kubeconfig=$$($$venv/bin/python $(CLUSTER) up --name demo); \
	echo "== deploying inventories/demo"; \
	export K8S_AUTH_KUBECONFIG=$$kubeconfig $(ANSIBLE_ENV); \
	$$venv/bin/ansible-playbook -i inventories/demo playbooks/deploy.yml; \
	$$venv/bin/ansible-playbook -i inventories/demo playbooks/status.yml; \
	echo; \
	echo "The demo cluster keeps running. Point playbooks (or kubectl) at it with:"; \
	echo "  export K8S_AUTH_KUBECONFIG=$$kubeconfig KUBECONFIG=$$kubeconfig"; \
	echo "Status page: $(CURDIR)/skipper-status.html"; \
	echo "Stop it with: make down"

status: $(COLLECTIONS)/ansible_collections/skipper/platform
	@venv=$(VENV_NEW); \
	export K8S_AUTH_KUBECONFIG=$$($$venv/bin/python $(CLUSTER) kubeconfig --name demo) $(ANSIBLE_ENV); \
	$$venv/bin/ansible-playbook -i inventories/demo playbooks/status.yml

down:
	@venv=$(VENV_NEW); $$venv/bin/python $(CLUSTER) down --name demo

# The test cluster is stopped when the run ends, even one that was already
# running; KEEP_CLUSTER=1 keeps it (the run prints how to stop it).
# Integration needs headless Chromium for the status page (installed once).
test:
	@$(if $(ONLY),$(if $(filter integration,$(ONLY)),tools/need-chromium.sh;),tools/need-chromium.sh;) \
	old=$(VENV_OLD); new=$(VENV_NEW); \
	$$new/bin/python tools/test.py --core 2.19=$$old --core 2.21=$$new $(foreach p,$(ONLY),--only $(p)) \
	  $(if $(filter-out 0,$(KEEP_CLUSTER)),--keep-cluster)

# Speed, measured on request (never asserted in tests): no-op app tasks against
# empty module tasks and kubernetes.core.k8s on the demo cluster, then whole
# formations (10, 30, 100 apps) against kubectl and kubernetes.core on a
# cluster of its own (bench), which benchmarks/formation.py starts and stops.
bench: $(COLLECTIONS)/ansible_collections/skipper/platform
	@venv=$$(tools/venv.sh benchmarks/requirements.txt $(PY_NEW)); \
	PATH=$$venv/bin:$$PATH $(ANSIBLE_ENV) $$venv/bin/python benchmarks/run.py; \
	PATH=$$venv/bin:$$PATH $(ANSIBLE_ENV) $$venv/bin/python benchmarks/formation.py; \
	PATH=$$venv/bin:$$PATH $(ANSIBLE_ENV) $$venv/bin/python benchmarks/rsync.py; \
	PATH=$$venv/bin:$$PATH $(ANSIBLE_ENV) $$venv/bin/python benchmarks/logs.py

cluster-build:
	@bash tests/cluster/build.sh

# The unit tests' fixtures, recorded again from a local cluster of their own.
fixtures:
	@venv=$(VENV_NEW); $$venv/bin/python tools/record_fixtures.py

# The two commands:
#   make demo   set everything up, start (or reuse) the local cluster, deploy
#               the demo inventory and print its status
#   make test   unit, sanity, lint and integration tests on the oldest and the
#               newest ansible-core, ending with one "N passed, N failed" line
# Builds and virtualenvs are cached outside the repository (~/.cache/skipper-platform).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# ansible-core 2.19 (the oldest meta/runtime.yml claims) runs on Python 3.11;
# the newest (2.21) needs Python 3.12 or later.
PY_OLD ?= $(shell command -v python3.11)
PY_NEW ?= $(shell for p in python3.13 python3.12; do command -v $$p && break; done)
VENV_OLD = $(shell tools/venv.sh requirements/core-2.19.txt $(PY_OLD))
VENV_NEW = $(shell tools/venv.sh requirements/core-2.21.txt $(PY_NEW))
CLUSTER = tests/cluster/cluster.py
COLLECTIONS = $(HOME)/.cache/skipper-platform/collections

.PHONY: help demo status down test cluster-build

help:
	@echo "make demo    deploy the demo inventory to a local cluster and print its status"
	@echo "make test    run every test (unit, sanity, lint, integration on a real local cluster)"
	@echo "make status  print the demo apps' status again"
	@echo "make down    stop the demo cluster"

# The collection is used straight from this checkout through a symlink.
$(COLLECTIONS)/ansible_collections/skipper/platform:
	@mkdir -p $(COLLECTIONS)/ansible_collections/skipper
	@ln -sfn $(CURDIR) $@

demo: $(COLLECTIONS)/ansible_collections/skipper/platform
	@venv=$(VENV_NEW); \
	echo "== local cluster 'demo' (the first run compiles Kubernetes: about 6 minutes, with progress)"; \
	kubeconfig=$$($$venv/bin/python $(CLUSTER) up --name demo); \
	echo "== deploying inventories/demo"; \
	export K8S_AUTH_KUBECONFIG=$$kubeconfig ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_CALLBACK_RESULT_FORMAT=yaml; \
	$$venv/bin/ansible-playbook -i inventories/demo playbooks/deploy.yml; \
	$$venv/bin/ansible-playbook -i inventories/demo playbooks/status.yml; \
	echo; \
	echo "The demo cluster keeps running. Point your own playbooks or kubectl at it with:"; \
	echo "  export K8S_AUTH_KUBECONFIG=$$kubeconfig KUBECONFIG=$$kubeconfig"; \
	echo "Stop it with: make down"

status: $(COLLECTIONS)/ansible_collections/skipper/platform
	@venv=$(VENV_NEW); kubeconfig=$$($$venv/bin/python $(CLUSTER) kubeconfig --name demo); \
	K8S_AUTH_KUBECONFIG=$$kubeconfig ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
	  $$venv/bin/ansible-playbook -i inventories/demo playbooks/status.yml

down:
	@$(VENV_NEW)/bin/python $(CLUSTER) down --name demo

test:
	@old=$(VENV_OLD); new=$(VENV_NEW); \
	$$new/bin/python tools/test.py --core 2.19=$$old --core 2.21=$$new $(if $(ONLY),$(foreach p,$(ONLY),--only $(p)))

cluster-build:
	@bash tests/cluster/build.sh

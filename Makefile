# bocker: `make demo` and `make test` do everything on a fresh Debian 12 (as root).
SHELL := /bin/bash
PYTHON := /usr/bin/python3
VENV := .venv
APT_PACKAGES := btrfs-progs iptables iproute2 cgroup-tools util-linux busybox-static \
	bats bats-assert bats-support python3-btrfsutil python3-venv jq \
	docker-registry skopeo zstd pigz apache2-utils python3-jwt python3-seccomp tini dnsmasq-base
BOCKER := ./bocker.py

.PHONY: deps demo test bench lint clean docs install

deps: $(VENV)/.installed
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt
	@dpkg-query -W -f='$${Status}\n' python3-venv 2>/dev/null | grep -q '^install ok installed' || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-btrfsutil >/dev/null; }
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt
	@touch $@

demo: deps
	$(BOCKER) setup
	$(BOCKER) images
	$(BOCKER) run --rm busybox sh -c 'echo "hello from container $$(hostname), PID $$$$, $$(ip -4 -o addr show eth0 | cut -d" " -f7)"'

test: deps
	tests/run.sh

bench: deps
	bench/run.sh $(BENCH)

lint: deps
	$(VENV)/bin/python -m pyflakes bocker.py lib tests/py bench
	bash -n scripts/*.sh

docs: deps
	scripts/make-docs.sh

install:
	ln -sf $(CURDIR)/bocker.py /usr/local/bin/bocker

clean:
	rm -rf $(VENV) .pytest_cache tests/py/__pycache__ lib/bocker/__pycache__ lib/bocker/*/__pycache__

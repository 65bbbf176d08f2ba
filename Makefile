# bocker: `make demo` and `make test` do everything on a fresh Debian 12 (as root).
SHELL := /bin/bash
PYTHON := /usr/bin/python3
VENV := .venv
APT_PACKAGES := btrfs-progs iptables iproute2 cgroup-tools util-linux busybox-static \
	bats bats-assert bats-support python3-btrfsutil python3-venv jq \
	docker-registry skopeo zstd pigz apache2-utils python3-jwt python3-seccomp tini dnsmasq-base \
	gcc libc6-dev
BOCKER := ./bocker.py
# the cgroup v2 VM harness, scripts/test-v2.sh (make test runs its smoke set, make test-v2 all of it)
V2_APT_PACKAGES := qemu-system-x86 kmod cpio
V2_BATS ?=
V2_TAGS ?=

.PHONY: deps deps-v2 demo test test-v2 bench lint clean docs install completion

# apt_install PACKAGES [APT-OPTIONS]: install those of PACKAGES that are missing (idempotent)
define apt_install
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing >/dev/null; \
	fi
endef

deps: $(VENV)/.installed
	$(call apt_install,$(APT_PACKAGES))

# qemu without its recommends (no GUI libraries): the guest has a serial console only
deps-v2:
	$(call apt_install,$(V2_APT_PACKAGES),--no-install-recommends)

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

test: deps deps-v2
	tests/run.sh

# bats families in a TCG guest with a pure cgroup v2 hierarchy (kernel + initramfs cached in
# $${XDG_CACHE_HOME:-/var/cache}/bocker-test-v2): make test-v2 [V2_BATS="tests/bats/limits.bats"] [V2_TAGS=smoke]
test-v2: deps deps-v2
	V2_BATS="$(V2_BATS)" V2_TAGS="$(V2_TAGS)" scripts/test-v2.sh

bench: deps
	bench/run.sh $(BENCH)

lint: deps
	$(VENV)/bin/python -m pyflakes bocker.py lib tests/py bench
	bash -n scripts/*.sh

docs: deps
	scripts/make-docs.sh

# shell completion, generated from the parser: completion/bocker.bash and completion/_bocker (zsh)
completion:
	@mkdir -p completion
	$(BOCKER) _completion bash > completion/bocker.bash
	$(BOCKER) _completion zsh > completion/_bocker

install: completion
	ln -sf $(CURDIR)/bocker.py /usr/local/bin/bocker
	install -D -m 644 completion/bocker.bash /etc/bash_completion.d/bocker
	@if [ -d /usr/share/zsh/vendor-completions ]; then \
		install -m 644 completion/_bocker /usr/share/zsh/vendor-completions/_bocker; fi

clean:
	rm -rf completion $(VENV) .pytest_cache tests/py/__pycache__ lib/bocker/__pycache__ lib/bocker/*/__pycache__

# Catalyst — build, run and test.
#
#   make run     install what is missing, build, start containerd, the core
#                (embedded SQLite default) and a local node's agent, with the
#                demo image imported
#   make web     the web UI (core/web) into core/internal/web/dist/ui, which
#                the core embeds; `make core` builds it first
#   make test    lint + the web UI's checks + every module's tests (PostgreSQL
#                tests need a server: CATALYST_TEST_POSTGRES_DSN, default
#                127.0.0.1:5432/test)
#   make bench   benchmarks, each printed beside its baseline as a ratio
#   make fuzz    the fuzz tests, FUZZTIME (default 60s) each

SHELL       := /bin/bash
GO          ?= go
BIN         := $(CURDIR)/bin
TOOLS       := $(BIN)/tools
VERSION     := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
# Every module of the workspace, as ./dir/... patterns.
MODULES     := $(shell $(GO) list -m -f '{{.Dir}}' 2>/dev/null | sed 's|^$(CURDIR)|.|')
PACKAGES    := $(addsuffix /...,$(MODULES))
# Plugin modules that have a main package yet, and the example plugins.
PLUGIN_DIRS  := $(sort $(dir $(wildcard plugins/*/main.go)))
EXAMPLE_DIRS := $(sort $(dir $(wildcard examples/*/main.go)))
TEST_FLAGS  ?= -timeout 30m
BENCH_FLAGS ?= -benchtime 2s

export CGO_ENABLED ?= 0
# Playwright's browsers are not downloaded: the e2e tests run Debian's
# chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# The web UI: its sources, and its build, which the core embeds
# (core/internal/web). npm ci runs again only when package-lock.json
# changed since the last one (the stamp), the build only when a source did.
WEB_DIR     := core/web
WEB_STAMP   := $(WEB_DIR)/node_modules/.catalyst-npm-ci
WEB_INDEX   := core/internal/web/dist/ui/index.html
WEB_SOURCES := $(shell find $(WEB_DIR) \( -name node_modules -o -name dist -o -name test-results -o -name playwright-report -o -name coverage -o -name '*.tsbuildinfo' \) -prune -o -type f -print 2>/dev/null)

.PHONY: all build core agent plugins demo-image run install-runtime web web-test screenshots test unit lint fmt vet staticcheck bench fuzz tools proto clean

all: build

build: core agent plugins

core: web
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/catalyst ./core/cmd/catalyst

agent:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/catalyst-agent ./agent/cmd/catalyst-agent

# Shipped plugins become bin/plugins/catalyst-<name>; examples keep their
# folder's name.
plugins:
	@mkdir -p $(BIN)/plugins
	@for d in $(PLUGIN_DIRS); do \
		name=catalyst-$$(basename $$d); \
		echo "$(GO) build -o bin/plugins/$$name ./$$d"; \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/$$name ./$$d || exit 1; \
	done
	@for d in $(EXAMPLE_DIRS); do \
		name=$$(basename $$d); \
		echo "$(GO) build -o bin/plugins/$$name ./$$d"; \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/$$name ./$$d || exit 1; \
	done

# Regenerates sdk/proto's Go code with the protoc plugins pinned in
# tools/go.mod (protoc itself from Debian's protobuf-compiler).
proto:
	@command -v protoc >/dev/null && test -f /usr/include/google/protobuf/timestamp.proto || { echo "proto: installing protobuf-compiler (apt-get)"; apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null; }
	sdk/proto/generate.sh

# The demo game (the tests' gamesrv, static) as an OCI archive named
# catalyst.local/demo:1, which `make run` imports into the local node's
# containerd: examples/templates/demo.json runs without a registry.
DEMO_IMAGE := $(BIN)/images/catalyst-demo.tar

demo-image: $(DEMO_IMAGE)

$(DEMO_IMAGE): $(wildcard agent/testkit/testimage/*.go agent/testkit/testimage/gamesrv/*.go agent/cmd/demo-image/*.go)
	@mkdir -p $(BIN)/images
	$(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/images/gamesrv ./agent/testkit/testimage/gamesrv
	$(GO) build -trimpath -o $(TOOLS)/demo-image ./agent/cmd/demo-image
	$(TOOLS)/demo-image -bin $(BIN)/images/gamesrv -o $@

run: install-runtime build demo-image
	./scripts/run.sh

install-runtime:
	@./scripts/install-runtime.sh

web: $(WEB_INDEX)

$(WEB_STAMP): $(WEB_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "web: npm is missing: install Node.js 20.19 or newer with npm (make install-runtime installs the nodejs package when the machine has none)" >&2; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund
	@mkdir -p $(dir $@) && touch $@

$(WEB_INDEX): $(WEB_STAMP) $(WEB_SOURCES)
	cd $(WEB_DIR) && npm run build
	@test -f $@ || { echo "web: npm run build wrote no $@" >&2; exit 1; }
	@touch $@

# The UI's unit tests and size budget (the initial route under 500 kB
# gzipped), on its build; the build itself type-checks (npm run build is
# tsc -b, then vite build).
web-test: web
	cd $(WEB_DIR) && npm test && npm run size

# Screenshots of the UI's main pages into docs/screenshots, taken by the
# e2e suite's TestWebUI (Playwright on the built core).
screenshots: web
	cd e2e && CI=true CATALYST_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -v -count=1 -run 'TestWebUI' .

test: lint web-test unit

# The UI is built first: the core packages embed it, and the e2e suite
# builds the core binary and drives its UI.
unit: web
	$(GO) test $(TEST_FLAGS) $(PACKAGES)

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PACKAGES)

staticcheck: $(TOOLS)/staticcheck
	$(TOOLS)/staticcheck $(PACKAGES)

# Tools are pinned in tools/go.mod and built from the module proxy.
$(TOOLS)/staticcheck: tools/go.mod
	cd tools && $(GO) build -o $(TOOLS)/staticcheck honnef.co/go/tools/cmd/staticcheck

tools: $(TOOLS)/staticcheck

bench:
	@$(GO) build -o $(TOOLS)/benchratio ./tools/benchratio
	@# The SFTP benchmark's baseline is OpenSSH's own sshd and sftp-server.
	@test -x /usr/sbin/sshd -a -x /usr/lib/openssh/sftp-server || { echo "bench: installing openssh-server (apt-get)"; apt-get install -y -qq --no-install-recommends openssh-server openssh-sftp-server >/dev/null; }
	@# -p 1: one package's benchmarks at a time, so no figure shares the CPUs
	@# with another package's.
	$(GO) test -p 1 -run '^$$' -bench . $(BENCH_FLAGS) $(PACKAGES) 2>&1 | $(TOOLS)/benchratio
	@# The web UI's first page load, gzipped, beside its 500 kB budget (the
	@# 500-server list is measured by the e2e suite's TestWebUI).
	@$(MAKE) --no-print-directory web >/dev/null && cd $(WEB_DIR) && npm run --silent size

# Each fuzz target in turn (go test fuzzes one at a time). A crasher is
# written to the package's testdata/fuzz/<Fuzz…>/: keep it there as a
# regression seed once fixed. A short minimize time keeps the fuzzer
# fuzzing rather than shrinking each new interesting input for a minute.
FUZZTIME    ?= 60s
FUZZ_TARGETS := ./agent/internal/files:FuzzResolve ./agent/internal/files:FuzzDecompress ./agent/internal/archive:FuzzRestore \
	./sdk/cron:FuzzParse ./sdk/varrules:FuzzParse ./agent/internal/configfiles:FuzzRewrite

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "$(GO) test $$pkg -run='^$$' -fuzz=^$$name\$$ -fuzztime=$(FUZZTIME)"; \
		$(GO) test $$pkg -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s || exit 1; \
	done

clean:
	rm -rf $(BIN) core/internal/web/dist/ui

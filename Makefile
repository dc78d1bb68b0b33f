# customs — run `make help` for the targets.
GO      ?= go
BIN     := bin/customs
PKGS    := ./...
FUZZTIME ?= 15s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/customs.
	$(GO) build -o $(BIN) ./cmd/customs

.PHONY: run
run: build ## Build and run customs with its embedded defaults (proxy 127.0.0.1:8080, admin 127.0.0.1:8081, data ./customs-data).
	./$(BIN) serve

.PHONY: test
test: lint ## Vet, gofmt, staticcheck and every test under -race (-short: the long ones are in test-long). Under 5 minutes on 2 cores.
	$(GO) test -race -short -count=1 $(PKGS)

.PHONY: test-long
test-long: ## Every test without -short and -race, the long ones included: 1 GiB uploads, 10 MiB linear-time inputs, floods, full disks, kills. CI runs it after test.
	$(GO) test -count=1 -timeout 30m $(PKGS)

.PHONY: check
check: test ## Alias kept for habit: vet + tests with -race.

.PHONY: lint
lint: ## go vet, gofmt and staticcheck.
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: bench
bench: ## Benchmarks: proxy throughput/latency vs direct and bare goproxy, plus the hot-path micro-benchmarks.
	$(GO) test -run '^$$' -bench 'BenchmarkProxyCompare' -benchtime=1x -v ./proxy/
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v '/proxy$$')

.PHONY: loadtest
loadtest: build ## Load test as a user runs it: a load generator, customs serve (defaults, store on and off) and a vendor as separate processes, beside a bare goproxy process.
	$(GO) run ./internal/loadtest/cmd/loadtest run -customs bin/customs -setups goproxy,customs,customs-nostore $(LOADTEST_FLAGS)

.PHONY: loadtest-fleet
loadtest-fleet: build ## The same, customs with and without publishing every flow to the fleet (a nats-server process built from go.mod's version, JetStream on).
	$(GO) build -o bin/nats-server github.com/nats-io/nats-server/v2
	@dir=$$(mktemp -d); port=$$((20000 + $$$$ % 20000)); \
	bin/nats-server -a 127.0.0.1 -p $$port -js -sd $$dir >/dev/null 2>&1 & pid=$$!; \
	trap 'kill $$pid; rm -rf $$dir' EXIT; sleep 1; \
	$(GO) run ./internal/loadtest/cmd/loadtest run -customs bin/customs -setups goproxy,customs,customs-fleet -nats nats://127.0.0.1:$$port $(LOADTEST_FLAGS)

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each.
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

.PHONY: eval
eval: ## Score the detectors on testdata/external (public fixtures) next to gitleaks v8.30.1 (installed into bin/), count false positives on the Go tree, write testdata/external/results.json.
	@test -x bin/gitleaks || command -v gitleaks >/dev/null || GOBIN=$(CURDIR)/bin $(GO) install github.com/zricethezav/gitleaks/v8@v8.30.1
	$(GO) run ./internal/eval/cmd/eval --json testdata/external/results.json

.PHONY: clean
clean: ## Remove build output (keeps customs-data).
	rm -rf bin

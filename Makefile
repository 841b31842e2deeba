# rpcbridge. `make run` starts the quickstart; `make test` installs the test peers and runs
# everything (vet, format check, all tests against real peers, short fuzzing).
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: build run test test-unit lint fuzz golden deps clean

build:
	$(GO) build -o bin/rpcbridge ./cmd/rpcbridge

run:
	examples/quickstart/run.sh

deps:
	scripts/test-deps.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## test: the full suite; peers (ZooKeeper, ...) are required, not skipped.
test: deps lint
	RPCBRIDGE_REQUIRE_PEERS=1 $(GO) test -count=1 -timeout 30m ./...
	FUZZTIME=$${FUZZTIME:-10s} scripts/fuzz-smoke.sh
	examples/quickstart/run.sh --smoke

## test-unit: fast tests only; tests that need an external peer skip when it is missing.
test-unit:
	$(GO) test -short ./...

fuzz:
	FUZZTIME=$${FUZZTIME:-1m} scripts/fuzz-smoke.sh

## golden: regenerate every golden file from the current output (review the diff!).
golden:
	@for p in $$(grep -l 'flag.Bool("update"' $$(git ls-files '*_test.go') | xargs -n1 dirname | sort -u); do \
		echo "$(GO) test ./$$p -update"; $(GO) test ./$$p -update >/dev/null || exit 1; done

clean:
	rm -rf bin

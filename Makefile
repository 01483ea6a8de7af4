# FrostGuard functions. `make dev` and `make test` need only Go and a Debian
# machine: scripts/stack.sh installs and starts PostgreSQL, Redis, an S3
# server (versitygw), stripe-mock and the Lambda Runtime Interface Emulator.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := api reports stripe-checkout stripe-webhook telnyx-webhook ttn-webhook chirpstack-webhook alert-sweeper migrate realtime
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LAMBDA_LDFLAGS := -s -w -X github.com/frostguard/functions/shared/host.Version=$(VERSION)
FUZZTIME ?= 20s

.PHONY: help dev test test-unit bench fuzz build build-lambda lint fmt migrate tools clean

help:
	@echo "make dev     serve every function on http://127.0.0.1:$${PORT:-3000} with throwaway services"
	@echo "make test    start throwaway services, run vet and every test"
	@echo "make bench   cold starts, artifact sizes and the other benchmarks"
	@echo "make fuzz    run every fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make build   build every function for Lambda (linux/arm64) into bin/"

dev:
	@scripts/dev.sh

test:
	@scripts/test.sh

# Unit tests only (no services; integration tests skip themselves).
test-unit:
	$(GO) test -short ./...

bench:
	@scripts/bench.sh

fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# gofmt, go vet, and actionlint (pinned; scripts/stack.sh installs it from
# the Go module proxy on first use) on every GitHub Actions workflow.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	@tools=$$(scripts/stack.sh lint-tools) && "$$tools/actionlint" -no-color .github/workflows/*.yml && echo "actionlint: ok"

fmt:
	gofmt -w $$(git ls-files '*.go')

migrate:
	$(GO) run ./cmd/frostguard migrate

tools:
	@scripts/stack.sh tools

# Every function as deployed: linux/arm64, no cgo, Lambda flags, one zip each.
build:
	@for f in $(FUNCTIONS); do \
		$(MAKE) --no-print-directory build-lambda FUNCTION=$$f ARTIFACTS_DIR=bin/$$f || exit 1; \
		printf '%-16s %s bytes\n' $$f $$(stat -c %s bin/$$f/bootstrap); \
	done

# One function into ARTIFACTS_DIR (SAM's makefile build method calls the
# build-<LogicalId> targets below with ARTIFACTS_DIR set). The IANA zone
# database ships beside the binary as the toolchain's zoneinfo.zip, found
# through ZONEINFO (template.yaml): in the binary (time/tzdata) it would cost
# every function 450 KB of the 15 MB budget, and provided.al2023 does not
# promise /usr/share/zoneinfo.
build-lambda:
	@test -n "$(FUNCTION)" -a -n "$(ARTIFACTS_DIR)" || { echo "FUNCTION and ARTIFACTS_DIR are required"; exit 2; }
	mkdir -p "$(ARTIFACTS_DIR)"
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath \
		-ldflags "$(LAMBDA_LDFLAGS)" -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(FUNCTION)
	cp "$$($(GO) env GOROOT)/lib/time/zoneinfo.zip" "$(ARTIFACTS_DIR)/zoneinfo.zip"

build-ApiFunction:
	$(MAKE) build-lambda FUNCTION=api
build-ReportsFunction:
	$(MAKE) build-lambda FUNCTION=reports
build-StripeCheckoutFunction:
	$(MAKE) build-lambda FUNCTION=stripe-checkout
build-StripeWebhookFunction:
	$(MAKE) build-lambda FUNCTION=stripe-webhook
build-TelnyxWebhookFunction:
	$(MAKE) build-lambda FUNCTION=telnyx-webhook
build-TtnWebhookFunction:
	$(MAKE) build-lambda FUNCTION=ttn-webhook
build-ChirpstackWebhookFunction:
	$(MAKE) build-lambda FUNCTION=chirpstack-webhook
build-AlertSweeperFunction:
	$(MAKE) build-lambda FUNCTION=alert-sweeper
build-MigrateFunction:
	$(MAKE) build-lambda FUNCTION=migrate
build-RealtimeFunction:
	$(MAKE) build-lambda FUNCTION=realtime

clean:
	rm -rf bin .stack

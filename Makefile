# Concord — a Matrix homeserver in Go.
GO        ?= go
PKGS      ?= ./...
BIN       ?= bin/concord
FUZZTIME  ?= 5m

.PHONY: run build test test-short bench lint fuzz clean

## run: start a server on embedded defaults (SQLite and media under ./data)
run:
	$(GO) run ./cmd/concord

## build: build the concord binary into bin/
build:
	$(GO) build -trimpath -o $(BIN) ./cmd/concord

## test: vet, then every test on SQLite and PostgreSQL (starts PostgreSQL if needed)
test:
	$(GO) vet $(PKGS)
	eval "$$(scripts/test-services.sh)" && $(GO) test -count=1 -timeout 20m $(PKGS)

## test-short: tests without the services step (uses whatever is reachable)
test-short:
	$(GO) test -count=1 -short $(PKGS)

## bench: room core benchmarks (Concord against gomatrixserverlib), then the
## load tool against a real server on SQLite and on PostgreSQL
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=3x ./roomserver/...
	$(GO) build -o bin/concord-load ./cmd/concord-load
	bin/concord-load -bin $(BIN) -backend sqlite
	eval "$$(scripts/test-services.sh)" && bin/concord-load -bin $(BIN) -backend postgres -postgres "$$CONCORD_TEST_POSTGRES"

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzCanonical -fuzztime $(FUZZTIME) ./roomserver/cjson/
	$(GO) test -run '^$$' -fuzz FuzzParseEvent -fuzztime $(FUZZTIME) ./roomserver/event/

clean:
	rm -rf bin

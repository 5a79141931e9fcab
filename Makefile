# Top-level entry points. CMake does the building; this file installs
# dependencies first so `make run` and `make test` work on a fresh machine.
BUILD      ?= build
BUILD_SAN  ?= build-san
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all deps build run run-gateway run-zone run-distributed test unit e2e fuzz bench bench-world bench-world-idle bench-zone bench-bus format lint clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p data
	./$(BUILD)/wod-server all

run-gateway: build
	bash scripts/start-gateway.sh

run-zone: build
	bash scripts/start-zone.sh

run-distributed: build
	bash scripts/start-distributed.sh

# Unit + e2e, then the same once more under ASan+UBSan, then fuzz smoke.
test: deps
	@bash scripts/test.sh

fuzz: deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DWOD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@bash scripts/fuzz.sh $(BUILD_FUZZ) $${FUZZ_SECONDS:-60}

bench: build
	bash scripts/bench.sh

# 2 gateways + 2 zone servers + Redis + PostgreSQL, players crossing borders and
# shouting; -idle: 3 gateways holding 50,000 idle authenticated clients (through
# haproxy while one process can hold two descriptors per client).
bench-world: build
	bash scripts/bench-world.sh

bench-world-idle: build
	bash scripts/bench-world.sh --idle

bench-zone: build
	./$(BUILD)/bench-zone

# The bus alone on one Redis and on a 3-shard cluster, beside redis-benchmark.
bench-bus: build
	bash scripts/bench-bus.sh

# The layering check and clang-tidy (.clang-tidy: bug finders, no style);
# `make test` runs it first.
lint: deps
	@bash scripts/lint.sh

format:
	@find src tests tools -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)

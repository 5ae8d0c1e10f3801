# EdgeVec build, test and report entry points. See docs/BUILDING.md.
#
#   make report      native main job: MiniLM-Debian index, search, recall (QUICK=1: smoke set)
#   make test        every test: 3 allocator builds, trait conflict, Embedded wasm, example, CLI smoke
#   make embedded    core library targets as Embedded Swift for wasm32-unknown-none-wasm
#   make example     build and run Examples/EmbedSearch
#   make cli-smoke   edgevec build + search --groundtruth on the smoke set
#   make clean
#
# Every target installs the apt packages it needs first (`make deps`).
# Scratch paths all start with $(B), so `make test B=.build-ci` keeps a
# separate set of build caches.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SWIFT   ?= swift
PYTHON  ?= python3
SHARED  ?= ../shared
DATA    ?= $(SHARED)/data/minilm-debian
QUICK   ?=
B       ?= .build
WORK    ?= $(B)-work
# The CLI gets its own scratch path: `swift test` builds with testability on,
# so sharing $(B) would rebuild everything on every switch.
CLI_SCRATCH := $(B)-cli
EDGEVEC := $(CLI_SCRATCH)/release/edgevec
EXAMPLE := Examples/EmbedSearch
STEP    := scripts/step.sh
SUB     := $(MAKE) --no-print-directory

APT_PACKAGES := wasi-libc libjemalloc-dev binaryen wabt
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

ifneq ($(filter-out 0,$(QUICK)),)
REPORT_OUT ?= $(WORK)/report/native-minilm-smoke.txt
else
REPORT_OUT ?= docs/benchmarks/native-minilm.txt
endif

.PHONY: help deps test test-system test-jemalloc test-arena trait-conflict embedded example cli cli-smoke report clean

help:
	@sed -n '3,9p' Makefile | sed 's/^# \{0,1\}//'

## deps: apt packages, installed only when one is missing (checked with dpkg -s).
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v $(PYTHON) >/dev/null 2>&1 || missing="$$missing python3"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(APT_PACKAGES) $$(command -v $(PYTHON) >/dev/null 2>&1 || echo python3); \
	fi

## test: everything, stopping at the first failure; prints per-step wall times.
test: deps
	@mkdir -p $(WORK); : > $(WORK)/test-timings.tsv
	@export STEP_TIMINGS=$(WORK)/test-timings.tsv; status=0; \
	{ $(STEP) "swift test -c release (system malloc)" $(SUB) test-system \
	  && $(STEP) "swift test -c release --traits Jemalloc" $(SUB) test-jemalloc \
	  && $(STEP) "swift test -c release --traits BumpArena" $(SUB) test-arena \
	  && $(STEP) "Jemalloc+BumpArena is a compile error" $(SUB) trait-conflict \
	  && $(STEP) "make embedded" $(SUB) embedded \
	  && $(STEP) "make example" $(SUB) example \
	  && $(STEP) "make cli-smoke" $(SUB) cli-smoke; } || status=$$?; \
	if [ $$status -eq 0 ]; then printf '\nall tests passed; '; else printf '\nFAILED; '; fi; \
	printf 'wall time per step:\n'; \
	awk -F'\t' '{ printf "  %7.1fs  %-6s  %s\n", $$2, $$3, $$1; t += $$2 } END { printf "  %7.1fs          total\n", t }' $(WORK)/test-timings.tsv; \
	exit $$status

test-system: deps
	$(SWIFT) test -c release --scratch-path $(B)

test-jemalloc: deps
	$(SWIFT) test -c release --traits Jemalloc --scratch-path $(B)-jemalloc

test-arena: deps
	$(SWIFT) test -c release --traits BumpArena --scratch-path $(B)-arena

## trait-conflict: enabling both allocator traits must fail with the #error in RawAllocator.swift.
trait-conflict: deps
	@echo "$(SWIFT) build --traits Jemalloc,BumpArena --target EdgeVecAllocators (must fail)"
	@if out=$$($(SWIFT) build --traits Jemalloc,BumpArena --target EdgeVecAllocators --scratch-path $(B)-conflict 2>&1); then \
		echo "$$out"; echo "FAIL: the build with both Jemalloc and BumpArena succeeded"; exit 1; \
	fi; \
	if ! grep -q "Choose one allocator" <<<"$$out"; then \
		echo "$$out"; echo "FAIL: the build failed, but not with \"Choose one allocator\""; exit 1; \
	fi; \
	echo "ok: the build fails with: $$(grep -m1 -o 'error: Choose one allocator.*' <<<"$$out")"

## embedded: the core library targets as Embedded Swift for wasm32 (bump arena, then wasi-libc malloc).
embedded: deps
	$(SWIFT) build --triple wasm32-unknown-none-wasm -c release --traits Wasm,BumpArena --scratch-path $(B)-wasm --target EdgeVecSearch
	$(SWIFT) build --triple wasm32-unknown-none-wasm -c release --traits Wasm --scratch-path $(B)-wasm-libc --target EdgeVecSearch

## example: Examples/EmbedSearch, a separate package using EdgeVecStorage + EdgeVecSearch; fails below recall 0.9.
example: deps
	@mkdir -p $(WORK)
	cd $(EXAMPLE) && $(SWIFT) build -c release
	cd $(EXAMPLE) && $(SWIFT) run -c release --skip-build embed-search | tee $(CURDIR)/$(WORK)/example.txt
	@scripts/check_recall.sh $(WORK)/example.txt 0.9 10

cli: deps
	$(SWIFT) build -c release --product edgevec --scratch-path $(CLI_SCRATCH)

## cli-smoke: edgevec build/info/search on the shared smoke set (or generated data); recall@10 >= 0.95.
cli-smoke: cli
	PYTHON=$(PYTHON) scripts/cli_smoke.sh $(EDGEVEC) $(DATA) $(WORK)/cli-smoke

## report: the native main job on MiniLM-Debian (QUICK=1: the smoke subset).
report: cli
	PYTHON=$(PYTHON) scripts/report.sh $(EDGEVEC) $(DATA) $(WORK)/report $(REPORT_OUT) $(QUICK)

clean:
	rm -rf $(B) $(B)-jemalloc $(B)-arena $(B)-conflict $(B)-wasm $(B)-wasm-libc $(CLI_SCRATCH) $(WORK) $(EXAMPLE)/.build

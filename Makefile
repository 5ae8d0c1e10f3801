# EdgeVec build, test and report entry points. See docs/BUILDING.md.
#
#   make report      benchmark report, ~30 min: insert matrix + paired search vs hnswlib/faiss/usearch -> docs/benchmarks
#                    (FULL=1: N 100,000 and more repetitions, hours; QUICK=1: smoke)
#   make test        every test: 3 allocator builds, trait conflict, Embedded wasm, example, CLI smoke,
#                    allocation counts, JS (Node), C/Python ABI, sanitizers, fuzz smoke, cross-platform files, kill -9 during saves,
#                    Chromium
#   make embedded    core library targets as Embedded Swift for wasm32-unknown-none-wasm
#   make example     build and run Examples/EmbedSearch
#   make cli-smoke   edgevec build + search --groundtruth on the smoke set
#   make wasm        dist/edgevec.wasm, edgevec-arena.wasm, edgevec.mjs, edgevec.d.ts (JavaScript API)
#   make test-js     the JavaScript API in Node (node --test js/test/)
#   make native      dist/native/libedgevec.so + edgevec.h (C ABI); make test-native tests it from C (also from several threads) and Python
#   make test-crossplatform   index files from the native CLI load in wasm and back, same results
#   make test-kill-save       kill -9 during native and Node saves: the target stays old or new, no temporary files left
#   make test-sanitizers      Swift tests under ASan/LSan (+ UBSan on the C targets); C and Python ABI tests against sanitized libedgevec.so,
#                             the C ABI from several threads under TSan
#   make fuzz                 libFuzzer targets (loader, abi_ops, filter) for FUZZ_TIME s each; fuzz-smoke: fixed runs; fuzz-selfcheck: planted bugs
#   make test-browser         dist/edgevec.mjs in headless Chromium (smoke + IndexedDB, EdgeVecWorker responsiveness)
#   make bench-alloc          malloc counts of insert/search/distance vs Benchmarks/Thresholds (package-benchmark)
#   make bench-churn          remove/re-insert churn on MiniLM against fresh builds, EdgeVec and hnswlib (issue 20)
#   make bench-filtered       MiniLM's five filtered workloads: EdgeVec filtered vs unfiltered, hnswlib filter, post-filtering (issue 21)
#   make bench-insert         insert matrix: native/C/wasm (Node, Chromium) x allocators vs hnswlib, faiss, usearch (QUICK=1: N 1,000)
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
# so sharing $(B) would rebuild everything on every switch. libedgevec.so builds
# there too (NATIVE_SCRATCH): both link the Swift runtime statically, so their
# modules compile once (linker flags alone do not recompile anything).
CLI_SCRATCH := $(B)-cli
STATIC_SWIFT := -Xswiftc -static-stdlib
LIB_LINK     := -Xlinker --version-script=$(CURDIR)/include/libedgevec.map -Xlinker -soname=libedgevec.so
EDGEVEC := $(CLI_SCRATCH)/release/edgevec
EXAMPLE := Examples/EmbedSearch
STEP    := scripts/step.sh
SUB     := $(MAKE) --no-print-directory

APT_PACKAGES := wasi-libc libjemalloc-dev binaryen wabt
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Where `make report` writes REPORT.md, the SVG charts and results.json (QUICK runs never touch docs/).
ifneq ($(filter-out 0,$(QUICK)),)
REPORT_OUT ?= $(WORK)/report
else
REPORT_OUT ?= docs/benchmarks
endif

.PHONY: help deps test test-system test-jemalloc test-arena trait-conflict embedded example cli cli-smoke report report-build test-report clean

help:
	@awk 'NR >= 3 && /^#$$/ { exit } NR >= 3' Makefile | sed 's/^# \{0,1\}//'

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
	  && $(STEP) "swift test -c release --traits BumpArena --sanitize=thread" $(SUB) test-arena \
	  && $(STEP) "Jemalloc+BumpArena is a compile error" $(SUB) trait-conflict \
	  && $(STEP) "make example" $(SUB) example \
	  && $(STEP) "make cli-smoke" $(SUB) cli-smoke \
	  && $(STEP) "make bench-alloc" $(SUB) bench-alloc \
	  && $(STEP) "make test-js" $(SUB) test-js \
	  && $(STEP) "make test-native" $(SUB) test-native \
	  && $(STEP) "make test-sanitizers" $(SUB) test-sanitizers \
	  && $(STEP) "make fuzz-smoke" $(SUB) fuzz-smoke \
	  && $(STEP) "make test-crossplatform" $(SUB) test-crossplatform \
	  && $(STEP) "make test-kill-save" $(SUB) test-kill-save \
	  && $(STEP) "make test-browser" $(SUB) test-browser \
	  && $(STEP) "make test-report" $(SUB) test-report; } || status=$$?; \
	if [ $$status -eq 0 ]; then printf '\nall tests passed; '; else printf '\nFAILED; '; fi; \
	printf 'wall time per step:\n'; \
	awk -F'\t' '{ printf "  %7.1fs  %-6s  %s\n", $$2, $$3, $$1; t += $$2 } END { printf "  %7.1fs          total\n", t }' $(WORK)/test-timings.tsv; \
	exit $$status

test-system: deps
	$(SWIFT) test -c release --scratch-path $(B)
	@# The x86 kernels below the CPU's best (EDGEVEC_KERNELS), against the portable ones and in real searches.
	EDGEVEC_KERNELS=sse $(SWIFT) test -c release --scratch-path $(B) --filter 'KernelTests|RecallTests'
	EDGEVEC_KERNELS=avx2 $(SWIFT) test -c release --scratch-path $(B) --filter 'KernelTests|RecallTests'

test-jemalloc: deps
	$(SWIFT) test -c release --traits Jemalloc --scratch-path $(B)-jemalloc

## test-arena: the whole suite on the bump arena, under ThreadSanitizer (every test, the Concurrency suite's
## readers beside a writer among them; one build instead of two). allocator_may_return_null: the out-of-memory
## tests ask for more than the sanitizer's allocator gives.
test-arena: deps
	$(TSAN_ENV):allocator_may_return_null=1 $(SWIFT) test -c release --traits BumpArena --sanitize=thread \
	    --scratch-path $(B)-arena-tsan

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
	$(SWIFTPM_STABLE) $(SWIFT) build --triple wasm32-unknown-none-wasm -c release --traits Wasm,BumpArena --scratch-path $(B)-wasm --target EdgeVecSearch
	$(SWIFT) build --triple wasm32-unknown-none-wasm -c release --traits Wasm --scratch-path $(B)-wasm-libc --target EdgeVecSearch

.PHONY: wasm test-js node-check
## wasm: the WebAssembly module (product EdgeVecWasm) in two allocator variants, optimised with
## wasm-opt, plus the JavaScript wrapper, in $(DIST)/ (see docs/JAVASCRIPT.md). ALLOCATION_COUNTER=1
## adds the ev_allocation_count / ev_free_count exports (separate scratch paths; pick another DIST).
DIST               ?= dist
WASM_OPT_FLAGS     ?= -Oz --converge
ALLOCATION_COUNTER ?= 0
comma := ,
WASM_COUNT   := $(if $(filter-out 0,$(ALLOCATION_COUNTER)),1,0)
WASM_TRAITS  := Wasm$(if $(filter 1,$(WASM_COUNT)),$(comma)AllocationCounter)
WASM_SCRATCH := $(B)-wasm-js$(if $(filter 1,$(WASM_COUNT)),-count)
# SwiftPM writes a build's trait defines (-DWasm -DBumpArena ...) in its Set order, which changes from one
# `swift build` to the next unless hashing is deterministic: with two or more traits the changed command line
# recompiled every module (30-90 s in each make report run's insert step; the module is the same either way).
SWIFTPM_STABLE := SWIFT_DETERMINISTIC_HASHING=1
WASM_BUILD = $(SWIFTPM_STABLE) $(SWIFT) build --triple wasm32-unknown-none-wasm -c release --product EdgeVecWasm \
	-Xswiftc -Xclang-linker -Xswiftc -nostdlib -Xlinker /usr/lib/wasm32-wasi/libc.a
wasm: deps node-check
	$(WASM_BUILD) --traits $(WASM_TRAITS) --scratch-path $(WASM_SCRATCH)
	$(WASM_BUILD) --traits $(WASM_TRAITS),BumpArena --scratch-path $(WASM_SCRATCH)-arena
	scripts/wasm_dist.sh $(DIST) "$(WASM_OPT_FLAGS)" $(WASM_COUNT) \
	    $(WASM_SCRATCH)/release/EdgeVecWasm.wasm $(WASM_SCRATCH)-arena/release/EdgeVecWasm.wasm

## test-js: the JavaScript API under Node's built-in test runner (js/test/*.test.mjs), against
## $(DIST) and, for the allocation-counter test, a counting build in $(WORK)/wasm-counting.
test-js: wasm
	$(SUB) wasm ALLOCATION_COUNTER=1 DIST=$(WORK)/wasm-counting
	EDGEVEC_DIST=$(abspath $(DIST)) EDGEVEC_COUNTING_DIST=$(abspath $(WORK)/wasm-counting) node --test js/test/

node-check:
	@command -v node >/dev/null 2>&1 || { echo "installing: nodejs"; $(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs; }
	@node -e 'if (+process.versions.node.split(".")[0] < 18) { console.error("Node >= 18 needed, found " + process.version); process.exit(1) }'

## example: Examples/EmbedSearch, a separate package using EdgeVecStorage + EdgeVecSearch; fails below recall 0.9.
example: deps
	@mkdir -p $(WORK)
	cd $(EXAMPLE) && $(SWIFT) build -c release
	cd $(EXAMPLE) && $(SWIFT) run -c release --skip-build embed-search | tee $(CURDIR)/$(WORK)/example.txt
	@scripts/check_recall.sh $(WORK)/example.txt 0.9 10

## cli: the `edgevec` command ($(EDGEVEC)), the Swift runtime linked in statically (it runs without a toolchain).
cli: deps
	$(SWIFT) build -c release --product edgevec --scratch-path $(CLI_SCRATCH) $(STATIC_SWIFT)

## cli-smoke: edgevec build/info/search on the shared smoke set (or generated data); recall@10 >= 0.95;
## edgevec bench on identical vectors (graph invariants checked).
cli-smoke: cli
	PYTHON=$(PYTHON) scripts/cli_smoke.sh $(EDGEVEC) $(DATA) $(WORK)/cli-smoke
	$(EDGEVEC) bench --n 300 --data constant --api all --repetitions 1 --json >/dev/null   # fails on broken invariants
	$(EDGEVEC) bench --n 300 --api single --reserve --repetitions 1 --json >/dev/null

## test-report: unit tests of the report generator (bench/report/test_*.py; standard library only).
test-report:
	PYTHONDONTWRITEBYTECODE=1 $(PYTHON) -m unittest discover -s bench/report -p 'test_*.py'
	PYTHONDONTWRITEBYTECODE=1 $(PYTHON) -m unittest discover -s bench/search -p 'test_*.py'

## report: the benchmark report (scripts/report.sh), about 30 minutes on a fresh 2-core machine, builds included:
## the builds (make report-build), the insert matrix at N 1,000 and 10,000 (make bench-insert) with allocation
## counts, the paired search experiment (bench/search/run.py: EdgeVec native + wasm against hnswlib, faiss,
## usearch on MiniLM-Debian and a synthetic 128-d set), churn (bench-churn), the filtered workloads (bench-filtered)
## and threads (a shorter bench-concurrency),
## then $(REPORT_OUT)/REPORT.md, SVG charts and results.json
## (bench/report/make_report.py). A progress line per step with the time elapsed and an estimate of what remains.
## FULL=1 adds N 100,000, more repetitions and passes, and the malloc-interposer cross-check (hours).
## QUICK=1: smoke sizes, written to $(WORK)/report. Without the shared data the MiniLM part is skipped and said so.
report:
	@mkdir -p $(WORK)/report
	MAKE="$(MAKE)" BENCH_PYTHON=$(BENCH_VENV)/bin/python SWIFT=$(SWIFT) BENCH_SCRATCH=$(abspath $(BENCH_SCRATCH)) \
	ALLOC_CLIS="system=$(EDGEVEC) jemalloc=$(B)-insert-cli-jemalloc/release/edgevec arena=$(B)-insert-cli-arena/release/edgevec" \
	    scripts/report.sh $(EDGEVEC) $(DIST) $(DATA) $(WORK) $(REPORT_OUT) $(if $(filter-out 0,$(QUICK)),quick,$(if $(filter-out 0,$(FULL)),full,default))

## report-build: everything `make report` runs: the CLI, the wasm modules, libedgevec.so, the insert-matrix
## builds (bench-insert-build) and the venvs; GNU time for peak memory. The installs run first, one at a time
## (apt holds a lock); then the compiles two at a time (REPORT_JOBS): one `swift build` leaves part of the second
## core idle (its largest module's front end is one thread).
REPORT_JOBS ?= 2
report-build:
	$(SUB) deps node-check browser-deps bench-insert-venv
	@dpkg -s time >/dev/null 2>&1 || { echo "installing: time"; $(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y time; }
	$(SUB) -j$(REPORT_JOBS) --output-sync=target cli wasm native insert-builds

.PHONY: native test-native test-crossplatform browser-deps test-browser

## native: $(DIST)/native/libedgevec.so, the C ABI of EdgeVecBridge (Swift runtime linked in statically,
## only ev_* exported, see include/libedgevec.map), and $(DIST)/native/edgevec.h (include/edgevec.h).
## (After cli: the two share a scratch path, and SwiftPM runs one build at a time in it.)
NATIVE_SCRATCH := $(CLI_SCRATCH)
native: deps cli
	$(SWIFT) build -c release --product EdgeVecNative --scratch-path $(NATIVE_SCRATCH) $(STATIC_SWIFT) $(LIB_LINK)
	@mkdir -p $(DIST)/native
	cp $(NATIVE_SCRATCH)/release/libEdgeVecNative.so $(DIST)/native/libedgevec.so.tmp
	strip --strip-unneeded $(DIST)/native/libedgevec.so.tmp
	mv -f $(DIST)/native/libedgevec.so.tmp $(DIST)/native/libedgevec.so
	cp include/edgevec.h $(DIST)/native/edgevec.h

## test-native: a C program (gcc, ASan + UBSan) and a Python ctypes script against $(DIST)/native,
## plus the check that Bridge.swift, edgevec.h and the library export the same functions; then the
## C ABI from several threads (Tests/Native/test_threads.c, parts f b c d, then a).
test-native: native
	@dpkg -s gcc >/dev/null 2>&1 || { echo "installing: gcc"; $(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y gcc; }
	@mkdir -p $(WORK)/native
	gcc -std=c11 -pedantic -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -I$(DIST)/native Tests/Native/test_native.c -L$(DIST)/native -ledgevec -Wl,-rpath,$(abspath $(DIST))/native -lm \
	    -o $(WORK)/native/test_native
	$(WORK)/native/test_native
	$(PYTHON) Tests/Native/test_native.py --lib $(DIST)/native/libedgevec.so
	gcc -std=c11 -pedantic -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -pthread \
	    -I$(DIST)/native Tests/Native/test_threads.c -L$(DIST)/native -ledgevec -Wl,-rpath,$(abspath $(DIST))/native \
	    -o $(WORK)/native/test_threads
	$(WORK)/native/test_threads fbcd
	$(call threads_a,$(WORK)/native/test_threads a,$(WORK)/native/test_threads-a.log)

# Part a of test_threads: 2 threads x 10,000 searches of ONE index, 10 runs, each result checked
# against a serial run (the issue's goal: no crash, no wrong result). Its log is kept.
define threads_a
@if timeout 900 env $(1) > $(2) 2>&1; then cat $(2); \
else tail -n 40 $(2); echo "FAIL: test_threads a (log: $(2))"; exit 1; fi
endef

.PHONY: test-sanitizers test-sanitizers-swift test-sanitizers-swift-threads test-sanitizers-native test-sanitizers-threads
## test-sanitizers: the Swift tests and the C ABI under AddressSanitizer (+ LeakSanitizer) and UndefinedBehaviorSanitizer.
## swiftc has no -sanitize=undefined on Linux, so UBSan instruments the C targets (kernels, shims) through -Xcc; its
## handlers come with the ASan runtime. ThreadSanitizer (`--sanitize=thread`, its own scratch path) checks the C ABI
## from several threads (test-sanitizers-native). SAN_CONFIG=debug runs the Swift tests unoptimised, with the internal checks (~10 min, not in make test).
SAN_CONFIG  ?= release
SAN_SCRATCH := $(B)-san
SAN_NATIVE  := $(B)-san-native
SAN_FLAGS   := --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined
# allocator_may_return_null: AllocatorTests ask posix_memalign for Int.max / 2 and expect nil (ASan aborts by default).
# Leaks are checked; the suppressions only name XCTest's harness (Tests/Sanitizers/lsan.supp).
SAN_ASAN    := allocator_may_return_null=1
SAN_ENV     := SWIFT_BACKTRACE=enable=no UBSAN_OPTIONS=print_stacktrace=1 LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp
# The toolchain's clang: its ASan/UBSan runtime is the one swiftc's instrumentation expects.
SAN_CC      ?= $(dir $(realpath $(shell command -v $(SWIFT))))clang
## test-sanitizers: the suite under AddressSanitizer + UBSan, and the C library under ASan and TSan. (The Swift
## suite runs under ThreadSanitizer in test-arena.)
test-sanitizers: test-sanitizers-swift test-sanitizers-native

## test-sanitizers-swift-threads: the Concurrency suite alone under ThreadSanitizer, system malloc, release, its own
## scratch path (not in make test: test-arena runs every suite under TSan).
test-sanitizers-swift-threads: deps
	$(TSAN_ENV) $(SWIFT) test -c release --sanitize=thread --filter Concurrency --scratch-path $(B)-tsan-swift

test-sanitizers-swift: deps
	$(SAN_ENV) ASAN_OPTIONS=$(SAN_ASAN) $(SWIFT) test -c $(SAN_CONFIG) --no-parallel --scratch-path $(SAN_SCRATCH) $(SAN_FLAGS)

## test-sanitizers-native: libedgevec.so built with $(SAN_FLAGS) in debug (unspecialised generics, internal checks)
## and release; test_native.c compiled with $(SAN_CC) -fsanitize=address,undefined (the runtime is linked into the
## program), test_native.py with that runtime preloaded (CPython's own leaks at exit are not checked); then
## test_threads.c under ThreadSanitizer (below).
test-sanitizers-native: deps
	$(call san_native,debug)
	$(call san_native,release)
	$(SUB) test-sanitizers-threads

define san_native
$(SWIFT) build -c $(1) --product EdgeVecNative --scratch-path $(SAN_NATIVE) $(SAN_FLAGS) $(STATIC_SWIFT) $(LIB_LINK)
@mkdir -p $(WORK)/san-native/$(1)
cp $(SAN_NATIVE)/$(1)/libEdgeVecNative.so $(WORK)/san-native/$(1)/libedgevec.so
$(SAN_CC) -std=c11 -pedantic -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -fuse-ld=bfd \
    -Iinclude Tests/Native/test_native.c -L$(WORK)/san-native/$(1) -ledgevec -Wl,-rpath,$(abspath $(WORK))/san-native/$(1) -lm \
    -o $(WORK)/san-native/$(1)/test_native
$(SAN_ENV) ASAN_OPTIONS=$(SAN_ASAN) $(WORK)/san-native/$(1)/test_native
$(SAN_ENV) ASAN_OPTIONS=$(SAN_ASAN):detect_leaks=0 LD_PRELOAD=$$($(SAN_CC) -print-file-name=libclang_rt.asan-x86_64.so) \
    $(PYTHON) Tests/Native/test_native.py --lib $(WORK)/san-native/$(1)/libedgevec.so
endef

## test-sanitizers-threads (in test-sanitizers-native): libedgevec.so built with --sanitize=thread (release; its own scratch path) and
## test_threads.c with -fsanitize=thread (the toolchain's TSan runtime brings libdispatch interceptors,
## hence -ldispatch -lBlocksRuntime from the toolchain). Fewer rounds and searches than test-native:
## TSan runs them 5-15 times slower, and a race shows in a few hundred iterations.
TSAN_NATIVE := $(B)-tsan-native
SWIFT_LIBS  := $(abspath $(dir $(realpath $(shell command -v $(SWIFT))))../lib/swift/linux)
TSAN_ENV    := SWIFT_BACKTRACE=enable=no \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/Tests/Sanitizers/tsan.supp
test-sanitizers-threads: deps
	$(SWIFT) build -c release --product EdgeVecNative --scratch-path $(TSAN_NATIVE) --sanitize=thread $(STATIC_SWIFT) $(LIB_LINK)
	@mkdir -p $(WORK)/tsan-native
	cp $(TSAN_NATIVE)/release/libEdgeVecNative.so $(WORK)/tsan-native/libedgevec.so
	$(SAN_CC) -std=c11 -pedantic -O1 -g -Wall -Wextra -Werror -fsanitize=thread -pthread \
	    -Iinclude Tests/Native/test_threads.c -L$(WORK)/tsan-native -ledgevec -Wl,-rpath,$(abspath $(WORK))/tsan-native \
	    -L$(SWIFT_LIBS) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_LIBS) -o $(WORK)/tsan-native/test_threads
	$(TSAN_ENV) $(WORK)/tsan-native/test_threads fbcd --rounds 30
	$(call threads_a,$(TSAN_ENV) $(WORK)/tsan-native/test_threads a --runs 2 --searches 2000,$(WORK)/tsan-native/test_threads-a.log)

.PHONY: fuzz fuzz-smoke fuzz-selfcheck fuzz-build
## fuzz-build: the libFuzzer targets of Fuzz/ (loader, abi_ops, filter) and their planted-bug variants, every module compiled
## by hand with swiftc -sanitize=fuzzer,address (SwiftPM's --sanitize=fuzzer leaves the code uninstrumented), in
## $(FUZZ_SCRATCH)/bin (Fuzz/build.sh; see docs/FUZZING.md).
FUZZ_SCRATCH := $(B)-fuzz
FUZZ_TIME    ?= 300
FUZZ_TARGETS ?=
fuzz-build: deps
	SWIFTC=$(dir $(realpath $(shell command -v $(SWIFT))))swiftc Fuzz/build.sh $(FUZZ_SCRATCH)

## fuzz: every fuzz target (or FUZZ_TARGETS) for FUZZ_TIME seconds each (default 300), the corpus growing in
## $(FUZZ_SCRATCH)/corpus; prints the executions per target and fails on a finding ($(FUZZ_SCRATCH)/findings).
fuzz: fuzz-build
	Fuzz/run.sh fuzz $(FUZZ_SCRATCH) $(FUZZ_TIME) $(FUZZ_TARGETS)

## fuzz-smoke (in make test): every target for a fixed number of runs from the seed corpus (Fuzz/corpus, -seed=1),
## each binary proven coverage-instrumented by libFuzzer's counters line; fails on any finding.
fuzz-smoke: fuzz-build
	Fuzz/run.sh runs $(FUZZ_SCRATCH)

## fuzz-selfcheck: the planted-bug builds (-D FUZZ_PLANTED_BUG) must find their bug within SELFCHECK_SECONDS
## (default 150): proof that the build is coverage- and comparison-guided. Not in make test: the time a planted
## bug takes is luck (30 s to over 160 s measured).
fuzz-selfcheck: fuzz-build
	Fuzz/run.sh selfcheck $(FUZZ_SCRATCH)

## test-crossplatform: an index built by the native CLI loads in wasm (Node) and one built in wasm
## loads in the CLI, with identical search results (Tests/CrossPlatform).
test-crossplatform: cli wasm
	EDGEVEC_CLI=$(abspath $(EDGEVEC)) EDGEVEC_DIST=$(abspath $(DIST)) EDGEVEC_WORK=$(abspath $(WORK))/crossplatform \
	    node --test Tests/CrossPlatform/

.PHONY: test-kill-save
## test-kill-save: kill -9 at random moments of native saves (edgevec build) and Node saveFile loops, 30 of each
## (Tests/KillSave/kill_save.py, standard library only): the target is always the old or the new index, and the
## next load or save of it leaves no temporary file. Iterations stop after 60 s; prints the seed of the timings.
test-kill-save: cli wasm
	$(PYTHON) Tests/KillSave/kill_save.py --cli $(EDGEVEC) --dist $(DIST) --work $(WORK)/kill-save

## browser-deps: Debian's chromium and a venv with Playwright (never `playwright install`).
BROWSER_VENV ?= .venv-browser
browser-deps:
	@missing=""; for p in chromium python3-venv; do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi
	@[ -x $(BROWSER_VENV)/bin/python ] || $(PYTHON) -m venv $(BROWSER_VENV)
	@$(BROWSER_VENV)/bin/python -c 'import playwright' 2>/dev/null || $(BROWSER_VENV)/bin/pip install --quiet 'playwright>=1.40'

## test-browser: Tests/Browser/smoke.mjs and worker-test.mjs against $(DIST) in headless Chromium.
test-browser: wasm browser-deps
	$(BROWSER_VENV)/bin/python Tests/Browser/run_browser_test.py --dist $(DIST)

.PHONY: bench-alloc bench-alloc-update bench-concurrency
## bench-alloc: the Benchmarks/ package (package-benchmark, release) run for allocation counts only and
## checked against Benchmarks/Thresholds; fails on more (or fewer) mallocs than recorded. Never on time.
BENCH_SCRATCH := $(B)-bench
bench-alloc:
	SWIFT=$(SWIFT) Benchmarks/alloc-check.sh check $(abspath $(BENCH_SCRATCH))

## bench-alloc-update: rewrite Benchmarks/Thresholds from a run (review the diff, then commit).
bench-alloc-update:
	SWIFT=$(SWIFT) Benchmarks/alloc-check.sh update $(abspath $(BENCH_SCRATCH))

.PHONY: bench-insert bench-insert-run bench-insert-build bench-insert-venv
## bench-insert: the insert matrix (bench/insert/run.py): N sequential 128-d inserts (M 16, efConstruction 200)
## through `edgevec bench` per allocator trait, the C ABI (libedgevec.so per trait), wasm in Node and headless
## Chromium (dlmalloc, arena), and hnswlib/faiss/usearch from PyPI (one thread); constant and uniform data,
## N 1,000 and 10,000 (FULL=1: also 100,000, 7 repetitions; QUICK=1: 1,000). Writes $(BENCH_INSERT_OUT), prints a table.
BENCH_VENV        ?= .venv-bench
BENCH_PEERS       ?= hnswlib==0.8.0 faiss-cpu==1.15.1 usearch==2.26.6 numpy matplotlib
BENCH_INSERT_WORK := $(WORK)/bench-insert
BENCH_INSERT_OUT  ?= $(WORK)/report/insert.jsonl
bench-insert: bench-insert-build
	$(SUB) bench-insert-run

## bench-insert-run: bench-insert without its builds. `make report` runs it right after report-build, which made them.
bench-insert-run:
	$(BENCH_VENV)/bin/python bench/insert/run.py $(if $(filter-out 0,$(QUICK)),--quick) $(if $(filter-out 0,$(FULL)),--full) \
	    --out $(BENCH_INSERT_OUT) \
	    --work $(BENCH_INSERT_WORK) --build-prefix $(B) --system-cli $(EDGEVEC) --dist $(DIST) \
	    --peer-python $(BENCH_VENV)/bin/python --browser-python $(BROWSER_VENV)/bin/python

## bench-churn: issue 20's churn on MiniLM-Debian (bench/churn/run.py): EdgeVec (libedgevec.so) and hnswlib
## (mark_deleted + replace_deleted) through 10 rounds of 5,000 removals and re-inserts, each against a fresh build
## of the same vectors (built once, loaded twice: one copy churns): recall@10 at ef 16 and 64, q/s (passes
## alternating), memory, remove ÷ insert cost (QUICK=1: the smoke set, 3 rounds of 1,000; without the shared data
## a generated 128-d set). About 3 minutes; `make report` runs it from the search experiment's indexes (2 minutes).
BENCH_CHURN_OUT ?= $(WORK)/churn/churn.json
bench-churn: native bench-insert-venv
	@mkdir -p $(WORK)/churn
	$(BENCH_VENV)/bin/python bench/churn/run.py $(if $(filter-out 0,$(QUICK)),--quick) --dist $(DIST) --data $(DATA) \
	    --work $(WORK)/churn --out $(BENCH_CHURN_OUT)

## bench-filtered: issue 21's filtered workloads on MiniLM-Debian (bench/filtered/run.py) at ef 64: EdgeVec
## `search --filters --json` on an index built with --metadata, against the same search unfiltered, hnswlib's
## `filter` argument (first 200 queries: a Python callback per visited node) and post-filtering (k x 10, drop):
## recall@10, queries with fewer than 10 results, q/s, paired passes (QUICK=1: 2 passes). Uses the search
## experiment's hnswlib index when it left one of the full set, else builds one. Without the data: skipped.
## About 90 s (the EdgeVec build included).
BENCH_FILTERED_OUT ?= $(WORK)/filtered/filtered.json
bench-filtered: cli bench-insert-venv
	@mkdir -p $(WORK)/filtered
	$(BENCH_VENV)/bin/python bench/filtered/run.py $(if $(filter-out 0,$(QUICK)),--quick) --edgevec $(EDGEVEC) \
	    --data $(DATA) --work $(WORK)/filtered --out $(BENCH_FILTERED_OUT) \
	    $(if $(wildcard $(WORK)/search/minilm/minilm.hnswlib),--hnswlib-index $(WORK)/search/minilm/minilm.hnswlib)

## bench-concurrency: issue 22's goals on MiniLM-Debian (bench/concurrency/run.py): edgevec build --threads 1 vs 2 vs
## hnswlib add_items(num_threads=2), recall@10 at ef 64 of both builds; batch search (ev_search_batch, threads 1 and 2)
## vs hnswlib knn_query(num_threads=1, 2) at recall 0.95, and edgevec search --threads 1 vs 2 at ef 16; paired passes.
## About 4 min. Without the data: skipped.
bench-concurrency: cli native bench-insert-venv
	@mkdir -p $(WORK)/concurrency
	$(BENCH_VENV)/bin/python bench/concurrency/run.py --edgevec $(EDGEVEC) --dist $(DIST) --data $(DATA) \
	    --work $(WORK)/concurrency --out $(WORK)/concurrency/results.jsonl

## bench-insert-build: everything bench-insert runs: the CLI per allocator trait (system: `make cli`'s), libedgevec.so per trait,
## the wasm modules and their allocation-counter build, Chromium + Playwright, the peers' venv.
bench-insert-build: cli wasm native browser-deps bench-insert-venv insert-builds

# The insert matrix's own builds, each its own target so that report-build can run them side by side.
# (The pattern targets cannot be .PHONY: make searches no rule for a phony target.)
.PHONY: insert-builds insert-wasm-counting
insert-builds: insert-cli-Jemalloc insert-cli-BumpArena insert-native-Jemalloc insert-native-BumpArena insert-wasm-counting
# Per trait, the CLI and libedgevec.so share one scratch path, as `cli` and `native` do.
insert_scratch = $(B)-insert-cli-$(if $(filter Jemalloc,$(1)),jemalloc,arena)
insert-cli-%: deps
	$(SWIFT) build -c release --product edgevec --traits $* --scratch-path $(call insert_scratch,$*) $(STATIC_SWIFT)
insert-native-%: insert-cli-%
	$(SWIFT) build -c release --product EdgeVecNative --traits $* --scratch-path $(call insert_scratch,$*) \
	    $(STATIC_SWIFT) $(LIB_LINK)
	@lib=$(BENCH_INSERT_WORK)/lib/$(if $(filter Jemalloc,$*),jemalloc,arena); mkdir -p $$lib; \
	    cp $(call insert_scratch,$*)/release/libEdgeVecNative.so $$lib/libedgevec.so
insert-wasm-counting: deps node-check
	$(SUB) wasm ALLOCATION_COUNTER=1 DIST=$(BENCH_INSERT_WORK)/wasm-counting

## bench-insert-venv: $(BENCH_VENV) with numpy and the peers (pip builds hnswlib from source: g++ needed).
bench-insert-venv:
	@missing=""; for p in gcc g++ python3-venv; do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi
	@[ -x $(BENCH_VENV)/bin/python ] || $(PYTHON) -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/python -c 'import numpy, hnswlib, faiss, usearch, matplotlib' 2>/dev/null || \
		$(BENCH_VENV)/bin/pip install --quiet $(BENCH_PEERS)

clean:
	rm -rf $(B) $(B)-jemalloc $(B)-arena $(B)-arena-tsan $(B)-tsan-swift $(B)-tsan-native $(B)-conflict $(B)-wasm $(B)-wasm-libc $(B)-wasm-js $(B)-wasm-js-arena $(B)-wasm-js-count $(B)-wasm-js-count-arena $(CLI_SCRATCH) $(NATIVE_SCRATCH) $(SAN_SCRATCH) $(SAN_NATIVE) $(BENCH_SCRATCH) $(WORK) $(EXAMPLE)/.build \
	    $(B)-insert-cli-jemalloc $(B)-insert-cli-arena $(FUZZ_SCRATCH)

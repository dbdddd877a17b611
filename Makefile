# execwarden: build, test and run the sensor, and rebuild the BPF object.
#
# The BPF object is prebuilt and committed (bpf/execwarden.bpf.o and its C
# array in Sources/CExecwarden), so building the sensor needs only the Swift
# toolchain and libbpf-dev. `make bpf` rebuilds the object with Debian 12's
# clang-14; `make bpf-check` fails when the committed object differs from a
# fresh build of its source.

# sudo resets PATH, so fall back to the toolchain's usual place.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CLANG ?= clang-14
LLVM_STRIP ?= llvm-strip-14
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)

BPF_SOURCES := bpf/execwarden.bpf.c bpf/execwarden.bpf.h bpf/kernel_types.h \
	Sources/CExecwarden/include/execwarden_record.h
BPF_OBJECT := bpf/execwarden.bpf.o
BPF_ARRAY := Sources/CExecwarden/execwarden_bpf_object.c

BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) \
	-I bpf -I Sources/CExecwarden/include -I /usr/include/$(MULTIARCH) \
	-fdebug-prefix-map=$(CURDIR)=. -Wall -Werror

# Debian packages to build the sensor, and the extra ones the tests use:
# clang and llvm for bpf-check, a C compiler, python3 and setpriv for the
# exec recipes.
BUILD_PACKAGES := libbpf-dev libelf-dev zlib1g-dev pkg-config
TEST_PACKAGES := $(BUILD_PACKAGES) clang-14 llvm-14 gcc python3 util-linux

.PHONY: all build release run test bpf bpf-check clean build-packages test-packages \
	install uninstall fuzz sanitize soak bench bench-check-control

# Install locations; DESTDIR stages an install for a package.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system

all: build

# Install what is missing (as root), or say what to install.
build-packages:
	@sh scripts/install-packages.sh $(BUILD_PACKAGES)

test-packages:
	@sh scripts/install-packages.sh $(TEST_PACKAGES)

build: build-packages
	$(SWIFT) build

release: build-packages
	$(SWIFT) build -c release

# Start the sensor with its built-in rule. Alerts alone go to stdout, so the
# build's messages go to stderr and make echoes no command.
run: build-packages
	@$(SWIFT) build -c release >&2
	@./.build/release/execwarden

test: test-packages
	$(MAKE) bpf-check
	$(SWIFT) test

# Install the release binary (its BPF object is inside), the systemd unit
# and the man page. Then: systemctl daemon-reload; systemctl enable --now
# execwarden.
install: release
	install -D -m 0755 .build/release/execwarden $(DESTDIR)$(SBINDIR)/execwarden
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/execwarden.service.in > .build/execwarden.service
	install -D -m 0644 .build/execwarden.service $(DESTDIR)$(SYSTEMD_UNIT_DIR)/execwarden.service
	install -D -m 0644 dist/execwarden.8 $(DESTDIR)$(MANDIR)/man8/execwarden.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/execwarden \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/execwarden.service \
		$(DESTDIR)$(MANDIR)/man8/execwarden.8

# Fuzz the record decoder, the EQL parser, the rule-file loader and the JSON
# writer for FUZZ_SECONDS each, with libFuzzer where the toolchain builds it.
FUZZ_SECONDS ?= 60
fuzz: build-packages
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/fuzz.sh

# Run the test suite under AddressSanitizer, then ThreadSanitizer, each in
# its own build folder. Needs root, like make test. Leak checks are off:
# with Swift 6.3.1, LeakSanitizer reports objects that static properties
# still reference as leaked. NOTE: ThreadSanitizer reports a race on data
# guarded by Synchronization.Mutex, which it cannot see lock; see
# docs/hardening.md.
sanitize: test-packages
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --sanitize=address --build-path .build/asan
	$(SWIFT) test --sanitize=thread --build-path .build/tsan

# Run the sensor under an hour of mixed exec load (SOAK_SECONDS to change
# it) and check that memory and descriptors stay flat and that nothing is
# lost without being counted. Writes a report to /tmp/install-soak-*/.
SOAK_SECONDS ?= 3600
soak: build-packages
	@$(SWIFT) build -c release >&2
	python3 scripts/soak.py --seconds $(SOAK_SECONDS) $(SOAK_FLAGS)

bpf: test-packages $(BPF_OBJECT) $(BPF_ARRAY)

$(BPF_OBJECT): $(BPF_SOURCES)
	$(CLANG) $(BPF_CFLAGS) -c bpf/execwarden.bpf.c -o $@.tmp
	$(LLVM_STRIP) -g $@.tmp
	mv $@.tmp $@

$(BPF_ARRAY): $(BPF_OBJECT) bpf/embed-object.sh
	sh bpf/embed-object.sh $(BPF_OBJECT) > $@.tmp
	mv $@.tmp $@

# Rebuild the object in a scratch folder and compare it, and its C array,
# with what is committed.
bpf-check:
	@tmp=$$(mktemp -d) && \
	$(CLANG) $(BPF_CFLAGS) -c bpf/execwarden.bpf.c -o $$tmp/o && \
	$(LLVM_STRIP) -g $$tmp/o && \
	sh bpf/embed-object.sh $$tmp/o > $$tmp/c && \
	if cmp -s $$tmp/o $(BPF_OBJECT) && cmp -s $$tmp/c $(BPF_ARRAY); then \
		echo "bpf-check: $(BPF_OBJECT) matches its source"; rm -rf $$tmp; \
	else \
		echo "bpf-check: $(BPF_OBJECT) or $(BPF_ARRAY) is stale: run 'make bpf' and commit both" >&2; \
		rm -rf $$tmp; exit 1; \
	fi
	@$(MAKE) --no-print-directory bench-check-control

# The benchmark's control program: counts execs on the same tracepoint.
# embed-object.sh names its array after the sensor's object, so the names
# are changed to the control's.
CONTROL_OBJECT := bpf/control.bpf.o
CONTROL_ARRAY := Sources/CExecwardenBench/control_bpf_object.c
EMBED_CONTROL = sh bpf/embed-object.sh $(1) | sed \
	-e 's|bpf/execwarden.bpf.o|$(CONTROL_OBJECT)|' \
	-e 's|execwarden_shim.h|execwarden_bench.h|' \
	-e 's|ew_bpf_object|ewb_control_object|g'

bpf: $(CONTROL_OBJECT) $(CONTROL_ARRAY)

$(CONTROL_OBJECT): bpf/control.bpf.c
	$(CLANG) $(BPF_CFLAGS) -c bpf/control.bpf.c -o $@.tmp
	$(LLVM_STRIP) -g $@.tmp
	mv $@.tmp $@

$(CONTROL_ARRAY): $(CONTROL_OBJECT) bpf/embed-object.sh
	$(call EMBED_CONTROL,$(CONTROL_OBJECT)) > $@.tmp
	mv $@.tmp $@

bench-check-control:
	@tmp=$$(mktemp -d) && \
	$(CLANG) $(BPF_CFLAGS) -c bpf/control.bpf.c -o $$tmp/o && \
	$(LLVM_STRIP) -g $$tmp/o && \
	$(call EMBED_CONTROL,$$tmp/o) > $$tmp/c && \
	if cmp -s $$tmp/o $(CONTROL_OBJECT) && cmp -s $$tmp/c $(CONTROL_ARRAY); then \
		echo "bpf-check: $(CONTROL_OBJECT) matches its source"; rm -rf $$tmp; \
	else \
		echo "bpf-check: $(CONTROL_OBJECT) or $(CONTROL_ARRAY) is stale: run 'make bpf' and commit both" >&2; \
		rm -rf $$tmp; exit 1; \
	fi

# The exec storm comparison: a few minutes of storms with and without each
# sensor. Results go to BENCH_OUTPUT; see docs/benchmarks.md.
BENCH_OUTPUT ?= .build/bench
BENCH_FLAGS ?=
BENCH_PACKAGES := bpftrace libbpf-tools

bench: build-packages
	@sh scripts/install-packages.sh $(BENCH_PACKAGES) || \
		echo "bench: peers not installed; comparing without them" >&2
	$(SWIFT) build -c release --product execwarden
	$(SWIFT) build -c release --product execwarden-bench
	./.build/release/execwarden-bench --output-dir $(BENCH_OUTPUT) $(BENCH_FLAGS)

clean:
	rm -rf .build

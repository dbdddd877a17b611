#!/bin/sh
# Fuzz the sensor's input parsers: the exec record decoder, the EQL parser,
# the rule-file loader and the JSON writer, each for FUZZ_SECONDS.
#
# Uses libFuzzer with AddressSanitizer when the Swift toolchain can build
# it (swiftc -sanitize=fuzzer), and falls back to the seeded random loop of
# the same program otherwise. Corpora grow across runs in .build/fuzz-corpus;
# an input that fails a check lands in .build/fuzz-findings, and the script
# then exits with status 1.
#
# Environment: SWIFT, FUZZ_SECONDS (default 60), FUZZ_TARGETS (default all
# four), FUZZ_MODE (libfuzzer, random, or empty to pick), FUZZ_SEED (random
# loop only; default the time).
set -u

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-record eql rule-file json-writer}
FUZZ_MODE=${FUZZ_MODE:-}
FUZZ_SEED=${FUZZ_SEED:-$(date +%s)}
corpus_root=.build/fuzz-corpus
findings=.build/fuzz-findings
mkdir -p "$corpus_root" "$findings"

build_libfuzzer() {
	"$SWIFT" build -c release --product execwarden-fuzz --build-path .build/fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DEXECWARDEN_LIBFUZZER >&2
}

build_random() {
	"$SWIFT" build -c release --product execwarden-fuzz >&2
}

if [ "$FUZZ_MODE" != random ] && build_libfuzzer; then
	mode=libfuzzer
	binary=.build/fuzz/release/execwarden-fuzz
elif [ "$FUZZ_MODE" = libfuzzer ]; then
	echo "fuzz: building with -sanitize=fuzzer failed; run with FUZZ_MODE=random to use the random loop" >&2
	exit 2
else
	[ "$FUZZ_MODE" = random ] ||
		echo "fuzz: building with -sanitize=fuzzer failed; using the seeded random loop" >&2
	build_random || exit 2
	mode=random
	binary=.build/release/execwarden-fuzz
fi

status=0
for target in $FUZZ_TARGETS; do
	echo "fuzz: $target for $FUZZ_SECONDS s ($mode)" >&2
	log=$findings/$target.log
	if [ $mode = libfuzzer ]; then
		corpus=$corpus_root/$target
		seeds=$(mktemp -d)
		mkdir -p "$corpus"
		# Records reach 256 KiB of argv, but short inputs cover the
		# decoder's checks as well and run far faster. LeakSanitizer
		# reports the compiled built-in rules, which a static property
		# still references, as leaked: a false report, probably because
		# Swift keeps enum tags in spare pointer bits. So leak checks
		# are off; AddressSanitizer's other checks stay on.
		ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} \
			EXECWARDEN_FUZZ_TARGET=$target EXECWARDEN_FUZZ_SEED_DIR=$seeds \
			"$binary" -max_total_time="$FUZZ_SECONDS" -max_len=16384 -detect_leaks=0 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$findings/$target-" "$corpus" "$seeds" >"$log" 2>&1
		result=$?
		rm -rf "$seeds"
		grep -E '^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' "$log" >&2
	else
		"$binary" "$target" --seconds "$FUZZ_SECONDS" --seed "$FUZZ_SEED" \
			--crash-dir "$findings" >"$log" 2>&1
		result=$?
		tail -n 1 "$log" >&2
	fi
	if [ $result -ne 0 ]; then
		echo "fuzz: $target failed a check (status $result); see $log and the input in $findings" >&2
		status=1
	fi
done
[ $status -eq 0 ] || cat >&2 <<'MSG'
fuzz: to keep a failing input as a regression test, copy it to
Tests/ExecwardenTests/Fixtures/fuzz/TARGET/ with a name that says what it
exercises; FuzzRegressionTests replays every file there.
MSG
exit $status

#!/bin/sh
# make fuzz: each target in tests/fuzz/ for FUZZ_SECONDS (default 60) under
# ASan/UBSan, starting from the seeds in tests/fuzz/corpus/NAME (the inputs
# it finds are kept in build/fuzz/corpus_NAME). A crash stops with the input
# saved as build/fuzz/crash-*: add it to the seeds and as a regression test.
set -eu
BUILD=$1
SECONDS_EACH=${FUZZ_SECONDS:-60}
for t in manifest globals profile; do
    echo "fuzz: $t for ${SECONDS_EACH}s"
    mkdir -p "$BUILD/corpus_$t"
    "$BUILD/fuzz_$t" -max_total_time="$SECONDS_EACH" -artifact_prefix="$BUILD/" \
        -print_final_stats=1 "$BUILD/corpus_$t" "tests/fuzz/corpus/$t" 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' || true
    [ -z "$(ls "$BUILD"/crash-* 2>/dev/null)" ] || { echo "fuzz: $t crashed, see $BUILD/crash-*"; exit 1; }
done

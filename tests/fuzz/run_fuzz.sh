#!/bin/sh
# run_fuzz.sh TARGET SEEDS SECONDS: runs a libFuzzer target for SECONDS from the seed
# corpus SEEDS (read, never written: new inputs go to a temporary corpus), prints one
# line of figures (executions, per second, corpus, crashes) and exits non-zero on a
# crash, a leak, a timeout or a sanitizer report; the input that did it is kept in
# $DEPOT_FUZZ_ARTIFACTS (default /tmp/depot-fuzz-artifacts) and named in the output.
set -u
target=$1 seeds=$2 secs=$3
name=$(basename "$target")
art=${DEPOT_FUZZ_ARTIFACTS:-/tmp/depot-fuzz-artifacts}
work=$(mktemp -d "/tmp/depot-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$art"
"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$art/$name-" "$work" "$seeds" >"$work.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work.log")
corpus=$(ls "$work" | wc -l)
if [ "$rc" -ne 0 ]; then
    tail -n 60 "$work.log"
    echo "$name: FAILED after ${execs:-?} executions (exit $rc); input in $art"
    rm -f "$work.log"
    exit 1
fi
rm -f "$work.log"
echo "$name: $secs s, ${execs:-0} executions, ${rate:-0}/s, $corpus new inputs, 0 crashes, 0 leaks"

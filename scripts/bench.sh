#!/usr/bin/env bash
# make bench: the benchmarks, against the same throwaway services as the
# tests but with fsync on (as in production). Never part of make test.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

stack_dir=$(mktemp -d "${TMPDIR:-/tmp}/frostguard-bench.XXXXXX")
cleanup() { scripts/stack.sh down "$stack_dir" >/dev/null 2>&1 || true; rm -rf "$stack_dir"; }
trap cleanup EXIT INT TERM

PG_FSYNC=on scripts/stack.sh up "$stack_dir"
# shellcheck disable=SC1091
source "$stack_dir/env.sh"
export FROSTGUARD_REQUIRE_SERVICES=1

# Everything but the 10-million-row readings benchmark, repeated for medians.
go test -run '^$' -bench . -skip 'UnitReadings30Days' -benchmem -count "${BENCH_COUNT:-6}" -timeout 30m ./... | tee "$stack_dir/bench.txt"
# The readings benchmark loads 10 M rows (about two minutes) once; its
# percentiles come from one run of many requests.
go test -run '^$' -bench 'UnitReadings30Days' -benchtime "${READINGS_BENCHTIME:-500x}" -count 1 -timeout 30m ./shared/api/ | tee -a "$stack_dir/bench.txt"
echo
mkdir -p bench
cp "$stack_dir/bench.txt" bench/latest.txt
echo "== medians over ${BENCH_COUNT:-6} runs (benchstat; ± is the 95% confidence interval)"
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da bench/latest.txt

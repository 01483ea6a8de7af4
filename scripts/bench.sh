#!/usr/bin/env bash
# make bench: every benchmark against the same throwaway services as the
# tests, but with fsync on (as in production), repeated for medians. Writes
# the raw output to bench/latest.txt (ignored), benchstat's view of it to
# bench/benchstat.txt (ignored) and the summary to bench/results.json
# (committed), and prints the summary table. Never part of make test.
#
# Knobs (environment):
#   BENCH_COUNT=6         runs of each benchmark (medians are over these)
#   BENCH_FILTER=.        -bench regexp of the repeated pass (a quick look at one area)
#   READINGS_ROWS=10000000  rows in sensor_readings for the readings benchmark
#   READINGS_BENCHTIME=500x requests of the readings benchmark
#   SKIP_READINGS=1       skip the readings benchmark (its load takes minutes)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

count=${BENCH_COUNT:-6}
readings_rows=${READINGS_ROWS:-10000000}
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_COUNT must be a positive integer" >&2; exit 2; }
if ! [[ $readings_rows =~ ^[0-9]+$ ]] || ((readings_rows < 100000)); then
	echo "READINGS_ROWS must be a row count of at least 100000" >&2
	exit 2
fi

stack_dir=$(mktemp -d "${TMPDIR:-/tmp}/frostguard-bench.XXXXXX")
cleanup() { scripts/stack.sh down "$stack_dir" >/dev/null 2>&1 || true; rm -rf "$stack_dir"; }
trap cleanup EXIT INT TERM

PG_FSYNC=on scripts/stack.sh up "$stack_dir"
# shellcheck disable=SC1091
source "$stack_dir/env.sh"
export FROSTGUARD_REQUIRE_SERVICES=1

mkdir -p bench
raw=bench/latest.txt
started=$SECONDS

# Everything but the 10-million-row readings benchmark, each benchmark
# BENCH_COUNT times in a row (go test runs the packages one after the
# other when benchmarking). -run '^$': the tests ran in make test.
# A failing benchmark (or package) does not throw the others away: the
# report is written anyway, lists it, and the command fails at the end.
status=0
echo "== benchmarks, ${count} runs each (fsync on)"
go test -run '^$' -bench "${BENCH_FILTER:-.}" -skip 'UnitReadings30Days' -benchmem -count "$count" -timeout 60m ./... |
	tee "$raw" || status=$?

# The readings benchmark loads its rows (about two minutes for 10 M on a
# quiet machine) once; its percentiles come from one run of many requests.
if [[ ${SKIP_READINGS:-0} != 1 ]]; then
	echo "== readings benchmark, ${readings_rows} rows, ${READINGS_BENCHTIME:-500x} requests"
	FROSTGUARD_BENCH_READINGS=$readings_rows go test -run '^$' -bench 'UnitReadings30Days' \
		-benchtime "${READINGS_BENCHTIME:-500x}" -count 1 -timeout 60m ./shared/api/ | tee -a "$raw" || status=$?
fi
echo "(benchmarks took $((SECONDS - started)) s)"

# benchstat's confidence intervals, for whoever compares two runs by hand;
# it comes from the module proxy (or the cache), so its absence is no error.
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$raw" >bench/benchstat.txt 2>&1 ||
	echo "(benchstat unavailable: see bench/benchstat.txt)"

echo
echo "== medians over ${count} runs (spread = (max - min) / median; noisy above 10 %)"
# Built, not `go run`: go run turns every exit status into 1.
go build -o "$stack_dir/benchreport" ./cmd/benchreport
"$stack_dir/benchreport" -o bench/results.json \
	-meta "bench_count=$count" -meta "readings_rows=$([[ ${SKIP_READINGS:-0} == 1 ]] && echo skipped || echo "$readings_rows")" \
	-meta "readings_benchtime=${READINGS_BENCHTIME:-500x}" -meta "bench_filter=${BENCH_FILTER:-.}" \
	"$raw" || status=$? # 3: written, but some benchmark failed
if ((status != 0)); then
	echo "some benchmarks failed (FAIL lines in $raw); bench/results.json lists them under failed" >&2
	exit "$status"
fi

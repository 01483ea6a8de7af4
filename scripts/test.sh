#!/usr/bin/env bash
# make test: start throwaway services, check formatting and vet, run every
# test (integration, Lambda emulator and fuzz seed corpora included), stop
# the services whatever happens.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

stack_dir=$(mktemp -d "${TMPDIR:-/tmp}/frostguard-test.XXXXXX")
cleanup() { scripts/stack.sh down "$stack_dir" >/dev/null 2>&1 || true; rm -rf "$stack_dir"; }
trap cleanup EXIT INT TERM

scripts/stack.sh up "$stack_dir"
# shellcheck disable=SC1091
source "$stack_dir/env.sh"
# Under make test a missing service fails a test instead of skipping it.
export FROSTGUARD_REQUIRE_SERVICES=1

echo "== gofmt and go vet"
unformatted=$(find . -name '*.go' -not -path './.tools/*' -not -path './.stack/*' -not -path './.git/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== go test"
# -p 2 matches the CI machine's two cores; the e2e package builds binaries.
go test -count=1 -p 2 -timeout 15m "$@" ./...

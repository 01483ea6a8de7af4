#!/usr/bin/env bash
# make dev: throwaway services in .stack/dev, then migrate, seed and serve
# every function on one port in the foreground. Ctrl-C (or SIGTERM) stops
# the server and every service this script started.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

stack_dir="$repo/.stack/dev"
stopping=0
cleanup() {
	[ "$stopping" = 1 ] && return
	stopping=1
	[ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
	scripts/stack.sh down "$stack_dir" || true
}
trap cleanup EXIT
# Ctrl-C is how a developer stops the stack: not an error.
trap 'exit 0' INT TERM

scripts/stack.sh up "$stack_dir"
# shellcheck disable=SC1091
source "$stack_dir/env.sh"
export PORT="${PORT:-3000}"

go build -o "$stack_dir/frostguard" ./cmd/frostguard
"$stack_dir/frostguard" dev -addr "127.0.0.1:$PORT" &
server_pid=$!
echo "serving every function on http://127.0.0.1:$PORT (seed: .dev/seed.json); Ctrl-C stops everything"
wait "$server_pid"

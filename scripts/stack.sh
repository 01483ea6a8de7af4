#!/usr/bin/env bash
# Throwaway local services for FrostGuard, without Docker.
#
#   scripts/stack.sh up DIR     start PostgreSQL, Redis, versitygw (S3) and
#                               stripe-mock on free loopback ports, with their
#                               data, logs and pids in DIR; write DIR/env.sh
#   scripts/stack.sh down DIR   stop what `up DIR` started (idempotent)
#   scripts/stack.sh tools      install the apt packages and the pinned Go tools
#                               only; print the tools dir on stdout
#   scripts/stack.sh lint-tools install the pinned linters only (actionlint);
#                               print the tools dir on stdout
#
# Progress goes to stderr; `up` prints one summary line per service on stdout.
# DIR/env.sh exports each service's URL (DATABASE_URL, REDIS_URL, MINIO_*,
# STRIPE_MOCK_URL), AWS_LAMBDA_RIE and, when versitygw was installed,
# VERSITYGW (its binary, for tests that start a private S3 server).
#
# Knobs (environment):
#   PG_FSYNC=off|on         fsync, synchronous_commit and full_page_writes
#                           (default off: fast tests; bench.sh uses on)
#   STACK_TIMEOUT=60        seconds to wait for each service to become ready
#   FROSTGUARD_TOOLS_DIR    where Go tools go (default $REPO/.tools/bin)
#   VERSITYGW_VERSION, STRIPE_MOCK_VERSION, LAMBDA_RIE_VERSION,
#   ACTIONLINT_VERSION      tool pins
#   DATABASE_URL, REDIS_URL, MINIO_ENDPOINT (+MINIO_ROOT_USER and
#   MINIO_ROOT_PASSWORD), STRIPE_MOCK_URL: use that service instead of
#   starting one. They are ignored (with a note) when FROSTGUARD_STACK_DIR is
#   also set, i.e. when they come from a sourced env.sh of another stack,
#   unless STACK_REUSE_ENV=1.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO

VERSITYGW_PKG=github.com/versity/versitygw/cmd/versitygw
VERSITYGW_VERSION=${VERSITYGW_VERSION:-v1.8.0}
STRIPE_MOCK_PKG=github.com/stripe/stripe-mock
STRIPE_MOCK_VERSION=${STRIPE_MOCK_VERSION:-v0.203.0}
LAMBDA_RIE_PKG=github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
LAMBDA_RIE_VERSION=${LAMBDA_RIE_VERSION:-v0.0.0-20261030222936-bef5c4ba774d}
ACTIONLINT_PKG=github.com/rhysd/actionlint/cmd/actionlint
ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}

STACK_TIMEOUT=${STACK_TIMEOUT:-60}
PG_FSYNC=${PG_FSYNC:-off}
S3_REGION=us-east-1
BUCKETS=(frostguard frostguard-assets)
# sha256 of the empty payload (bucket PUTs have no body)
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
SERVICES=(postgres redis versitygw stripe-mock)

export DEBIAN_FRONTEND=noninteractive

APT_UPDATED=0
POLICY_RC_CREATED=0
UP_IN_PROGRESS=0
DIR=
TOOLS_DIR=
GO=
RESERVED_PORTS=" "
PORT_PICKED=
LAUNCHED_PID=

log() { printf 'stack: %s\n' "$*" >&2 || true; }
die() {
	log "error: $*"
	exit 1
}

# ---------------------------------------------------------------- cleanup

on_exit() {
	local rc=$?
	if ((POLICY_RC_CREATED)); then
		rm -f /usr/sbin/policy-rc.d || true
	fi
	if ((rc != 0 && UP_IN_PROGRESS)); then
		UP_IN_PROGRESS=0
		log "up failed; stopping whatever it started in $DIR"
		do_down || true
	fi
	return "$rc"
}
trap on_exit EXIT
# A closed stdout/stderr (e.g. `up | head`) must not kill us halfway through
# starting or stopping services.
trap '' PIPE
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers

now_ms() { date +%s%3N; }

elapsed() { # start_ms -> "1.2s"
	local ms=$(($(now_ms) - $1))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

rand_hex() { # bytes
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# Single-quote a value for a shell file.
sq() {
	local q="'\\''"
	printf "'%s'" "${1//\'/$q}"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# cmdline_has PID WORD: the process command line mentions WORD (guards
# against killing a recycled pid).
cmdline_has() {
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]]
}

# as_user USER CMD...: run CMD as USER (directly when that is us). setpriv
# execs (no fork), so a backgrounded setpriv keeps the pid of the program.
AS_USER=()
as_user_prefix() { # USER: sets AS_USER to the command prefix
	AS_USER=()
	if ((EUID == 0)) && [[ $1 != root ]]; then
		AS_USER=(setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups --)
	fi
}
as_user() {
	as_user_prefix "$1"
	shift
	"${AS_USER[@]}" "$@"
}

# ---------------------------------------------------------------- ports

# Local TCP ports in use (any state, IPv4 and IPv6), as 4-digit hex.
used_ports_hex() {
	awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true
}

# pick_port: sets PORT_PICKED to a port nobody uses, outside the kernel's
# ephemeral range (so outgoing connections cannot grab it meanwhile) and not
# handed out before by this run. Concurrent `up`s may still race for it: the
# caller verifies that its own process owns the port and retries otherwise.
pick_port() {
	local elo=32768 ehi=60999 lo hi used p i
	if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
		read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range
	fi
	if ((elo > 16000)); then
		lo=15000 hi=$((elo - 1))
	elif ((ehi < 64000)); then
		lo=$((ehi + 1)) hi=65000
	else
		lo=15000 hi=65000
	fi
	used=" $(used_ports_hex | tr '\n' ' ') "
	for ((i = 0; i < 1000; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		[[ $used == *" $(printf '%04X' "$p") "* ]] && continue
		[[ $RESERVED_PORTS == *" $p "* ]] && continue
		RESERVED_PORTS+="$p "
		PORT_PICKED=$p
		return 0
	done
	die "could not find a free port in $lo-$hi"
}

# owns_port PID PORT: PID holds a listening socket on PORT.
owns_port() {
	local pid=$1 hex inode fd link
	local -A want=()
	hex=$(printf '%04X' "$2")
	while read -r inode; do
		[[ -n $inode && $inode != 0 ]] && want[$inode]=1
	done < <(awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
	((${#want[@]})) || return 1
	for fd in /proc/"$pid"/fd/*; do
		link=$(readlink "$fd" 2>/dev/null) || continue
		[[ $link == socket:* ]] || continue
		inode=${link#socket:[}
		inode=${inode%]}
		[[ -n ${want[$inode]:-} ]] && return 0
	done
	return 1
}

# ---------------------------------------------------------------- installs

apt_install() { # packages...
	(($#)) || return 0
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "need root (or sudo) to apt-get install $*"
		sudo=(sudo env DEBIAN_FRONTEND=noninteractive)
	fi
	command -v apt-get >/dev/null || die "apt-get not found; install these yourself: $*"
	log "installing apt packages: $*"
	# Keep apt's postinst from starting system-wide postgresql/redis services
	# (we never use them); only when no policy is in place already.
	if ((EUID == 0)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# temporary, scripts/stack.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		POLICY_RC_CREATED=1
	fi
	if ((!APT_UPDATED)); then
		log "apt-get update"
		"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
		APT_UPDATED=1
	fi
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >&2
	if ((POLICY_RC_CREATED)); then
		rm -f /usr/sbin/policy-rc.d
		POLICY_RC_CREATED=0
	fi
}

# find_pg_bin: prints the directory of the PostgreSQL server binaries
# (15 preferred, else the newest installed), or nothing.
find_pg_bin() {
	local d best=
	if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
		echo /usr/lib/postgresql/15/bin
		return
	fi
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x $d/postgres ]] || continue
		if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1) == "$d" ]]; then
			best=$d
		fi
	done
	if [[ -z $best ]] && command -v postgres >/dev/null && command -v initdb >/dev/null; then
		best=$(dirname "$(command -v postgres)")
	fi
	[[ -n $best ]] && echo "$best"
	return 0
}

find_go() {
	if command -v go >/dev/null; then
		GO=$(command -v go)
	elif [[ -x /usr/local/go/bin/go ]]; then
		GO=/usr/local/go/bin/go
	else
		die "go not found (looked in PATH and /usr/local/go/bin)"
	fi
	# go needs a HOME (or GOCACHE and GOMODCACHE) for its caches.
	if [[ -z ${HOME:-} ]]; then
		HOME=$(getent passwd "$(id -u)" | cut -d: -f6) || true
		export HOME=${HOME:-/root}
	fi
}

# ensure_apt NEED_PG NEED_REDIS: install whatever is missing, in one apt run.
ensure_apt() {
	local need_pg=$1 need_redis=$2 pkgs=()
	if ((need_pg)) && [[ -z $(find_pg_bin) ]]; then
		pkgs+=(postgresql postgresql-client)
	fi
	if ((need_redis)) && ! command -v redis-server >/dev/null; then
		pkgs+=(redis-server redis-tools)
	fi
	command -v curl >/dev/null || pkgs+=(curl)
	# go install fetches over HTTPS
	[[ -e /etc/ssl/certs/ca-certificates.crt ]] || pkgs+=(ca-certificates)
	apt_install "${pkgs[@]}"
}

# ensure_go_tool NAME PKG VERSION: GOBIN=$TOOLS_DIR go install PKG@VERSION
# unless the stamp says that exact version is already there.
ensure_go_tool() {
	local name=$1 want="$2@$3" bin stamp t0
	bin=$TOOLS_DIR/$1
	stamp=$TOOLS_DIR/.$1.version
	if [[ -x $bin && -f $stamp && $(<"$stamp") == "$want" ]]; then
		return 0
	fi
	log "installing $want into $TOOLS_DIR (go install; a few minutes on a cold build cache)"
	t0=$(now_ms)
	rm -f "$stamp"
	(cd / && GOBIN=$TOOLS_DIR "$GO" install "$want") >&2 || die "go install $want failed"
	[[ -x $bin ]] || die "go install $want did not produce $bin"
	printf '%s\n' "$want" >"$stamp"
	log "installed $name $3 in $(elapsed "$t0")"
}

# ensure_tools NEED_S3 NEED_STRIPE: the Go tools (aws-lambda-rie always).
ensure_tools() {
	local need_s3=$1 need_stripe=$2
	find_go
	mkdir -p "$TOOLS_DIR"
	TOOLS_DIR=$(cd "$TOOLS_DIR" && pwd -P)
	# One installer at a time per tools dir (fd 8; never inherited by services).
	exec 8>"$TOOLS_DIR/.lock"
	flock 8
	if ((need_s3)); then ensure_go_tool versitygw "$VERSITYGW_PKG" "$VERSITYGW_VERSION"; fi
	if ((need_stripe)); then ensure_go_tool stripe-mock "$STRIPE_MOCK_PKG" "$STRIPE_MOCK_VERSION"; fi
	ensure_go_tool aws-lambda-rie "$LAMBDA_RIE_PKG" "$LAMBDA_RIE_VERSION"
	exec 8>&-
}

# ---------------------------------------------------------------- services

# launch NAME CMD...: start CMD in its own session (so a terminal Ctrl-C does
# not reach it), output appended to DIR/NAME.log; sets LAUNCHED_PID and
# writes DIR/NAME.pid. The subshell and setsid exec without forking (we
# are not a process group leader), so $! is the service's own pid.
launch() {
	local name=$1
	shift
	LOG_OFFSET[$name]=$(stat -c %s "$DIR/$name.log" 2>/dev/null || echo 0)
	(
		trap - PIPE
		exec setsid "$@" </dev/null >>"$DIR/$name.log" 2>&1 8>&- 9>&-
	) &
	LAUNCHED_PID=$!
	echo "$LAUNCHED_PID" >"$DIR/$name.pid"
}

# --- PostgreSQL

PG_BIN=
PG_USER=
PG_ROOT=
PGDATA_DIR=

pg_os_user() {
	if ((EUID != 0)); then
		id -un
	elif id postgres >/dev/null 2>&1; then
		echo postgres
	else
		if ! id frostguard >/dev/null 2>&1; then
			log "creating system user frostguard (PostgreSQL refuses to run as root)"
			useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin frostguard
		fi
		echo frostguard
	fi
}

# pg_prepare: choose PG_ROOT (socket dir; data in PG_ROOT/data), initdb when
# needed. PG_ROOT is DIR/pg unless PG_USER cannot reach DIR (e.g. DIR under
# /root, mode 700) or the socket path would be too long: then it lives in
# /tmp/frostguard-pg-<hash of DIR> and DIR/pg is a symlink to it.
pg_prepare() {
	local link=$DIR/pg fallback group
	group=$(id -g "$PG_USER")
	# PG_USER needs to traverse DIR (mktemp -d makes it 0700).
	chmod a+x "$DIR" 2>/dev/null || true
	fallback=/tmp/frostguard-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-12)
	if [[ -L $link ]]; then
		PG_ROOT=$(readlink -f "$link")
		mkdir -p "$PG_ROOT"
	elif [[ -d $link ]]; then
		PG_ROOT=$link
	else
		mkdir -m 700 "$link"
		chown "$PG_USER:$group" "$link"
		PG_ROOT=$link
		if ! as_user "$PG_USER" test -w "$link" || ((${#link} + 18 > 100)); then
			rmdir "$link"
			rm -rf "$fallback"
			mkdir -m 700 "$fallback"
			ln -s "$fallback" "$link"
			PG_ROOT=$fallback
			log "note: $PG_USER cannot use $link (permissions of a parent dir, or socket path too long); PostgreSQL lives in $fallback (DIR/pg links there)"
		fi
	fi
	chown "$PG_USER:$group" "$PG_ROOT"
	chmod 700 "$PG_ROOT"
	as_user "$PG_USER" test -w "$PG_ROOT" || die "user $PG_USER cannot write $PG_ROOT"
	PGDATA_DIR=$PG_ROOT/data
	: >>"$DIR/postgres.log"
	# so tests can `pg_ctl -l "$FROSTGUARD_STACK_DIR/postgres.log" start` as PG_OS_USER
	chown "$PG_USER:$group" "$DIR/postgres.log"
	if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
		rm -rf "$PGDATA_DIR"
		log "initdb $PGDATA_DIR (as $PG_USER)"
		as_user "$PG_USER" "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$PG_USER" -A trust \
			-E UTF8 --locale=C --no-sync >>"$DIR/postgres.log" 2>&1 ||
			{
				tail -n 20 "$DIR/postgres.log" >&2
				die "initdb failed (log: $DIR/postgres.log)"
			}
		printf "\n# scripts/stack.sh (rewritten by every up)\ninclude 'frostguard.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
	fi
}

launch_postgres() { # port
	local conf=$PGDATA_DIR/frostguard.conf sock=${PG_ROOT//\'/\'\'}
	# Everything lives in PGDATA, so a plain `pg_ctl -D "$PGDATA" start` (as
	# used by tests that restart the server) gets the same settings.
	cat >"$conf" <<EOF
# written by scripts/stack.sh up
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$sock'
max_connections = 200
fsync = $PG_FSYNC
synchronous_commit = $PG_FSYNC
full_page_writes = $PG_FSYNC
EOF
	chown "$PG_USER:$(id -g "$PG_USER")" "$conf"
	as_user_prefix "$PG_USER"
	launch postgres "${AS_USER[@]}" "$PG_BIN/postgres" -D "$PGDATA_DIR"
}

probe_postgres() { # port
	"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U "$PG_USER" -d postgres -t 2 >/dev/null 2>&1
}

pg_create_db() { # port
	local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U "$PG_USER")
	if [[ -z $("${psql[@]}" -d postgres -tAc "select 1 from pg_database where datname = 'frostguard'") ]]; then
		"${psql[@]}" -d postgres -c 'create database frostguard' >/dev/null
	fi
}

# --- Redis

launch_redis() { # port
	launch redis redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --dir "$DIR"
}

probe_redis() { # port
	local reply
	reply=$(
		exec 7<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'PING\r\n' >&7
		IFS= read -r -t 2 line <&7 || exit 1
		printf '%s' "$line"
	) 2>/dev/null || return 1
	[[ $reply == +PONG* ]]
}

# --- versitygw (S3)

S3_ACCESS=
S3_SECRET=

launch_versitygw() { # port
	launch versitygw "$TOOLS_DIR/versitygw" --access "$S3_ACCESS" --secret "$S3_SECRET" \
		--port "127.0.0.1:$1" --quiet posix "$DIR/s3"
}

probe_versitygw() { # port
	local code
	code=$(curl -s --noproxy '*' -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null) || true
	[[ -n $code && $code != 000 ]]
}

# s3_make_bucket ENDPOINT ACCESS SECRET BUCKET: signed PUT Bucket; "already
# yours" is fine. (A bare directory under the posix root also works as a
# bucket, but lacks the owner/ACL attributes the API writes.)
s3_make_bucket() {
	local endpoint=$1 resp code
	[[ $endpoint == *://* ]] || endpoint=http://$endpoint
	resp=$(mktemp)
	code=$(curl -s --noproxy '*' -m 15 -o "$resp" -w '%{http_code}' -X PUT \
		--aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$2:$3" \
		-H "x-amz-content-sha256: $EMPTY_SHA256" "${endpoint%/}/$4") || code=000
	if [[ $code == 200 ]] || { [[ $code == 409 ]] && grep -q BucketAlreadyOwnedByYou "$resp"; }; then
		rm -f "$resp"
		return 0
	fi
	log "creating bucket $4 at $endpoint failed: HTTP $code $(head -c 400 "$resp")"
	rm -f "$resp"
	return 1
}

s3_credentials() {
	local creds=$DIR/s3.credentials
	if [[ -s $creds ]]; then
		read -r S3_ACCESS S3_SECRET <"$creds"
	else
		S3_ACCESS=FGDEV$(rand_hex 8 | tr 'a-f' 'A-F')
		S3_SECRET=$(rand_hex 20)
		(
			umask 077
			printf '%s %s\n' "$S3_ACCESS" "$S3_SECRET" >"$creds"
		)
	fi
}

# --- stripe-mock

launch_stripe_mock() { # port
	# -http-addr alone still opens HTTPS on *:12112 (stripe-mock only turns
	# the default HTTPS listener off for -http/-http-port/-port), which
	# clashes between stacks: park HTTPS on a kernel-chosen loopback port.
	launch stripe-mock "$TOOLS_DIR/stripe-mock" -http-addr "127.0.0.1:$1" -https-addr 127.0.0.1:0
}

probe_stripe_mock() { # port
	curl -fs --noproxy '*' -m 2 -o /dev/null -u sk_test_123: "http://127.0.0.1:$1/v1/customers" 2>/dev/null
}

# ---------------------------------------------------------------- down

stop_pid() { # NAME: stop the process in DIR/NAME.pid (TERM, 10 s, KILL)
	local name=$1 pidfile=$DIR/$1.pid pid i
	[[ -f $pidfile ]] || return 0
	pid=$(<"$pidfile")
	if alive "$pid" && cmdline_has "$pid" "$name"; then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			log "$name (pid $pid) ignored SIGTERM for 10 s; SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$pidfile"
}

stop_postgres() {
	local state=$DIR/.stack-state k v pg_bin='' pgdata='' pg_user='' pid
	if [[ -f $state ]]; then
		while IFS='=' read -r k v; do
			case $k in
			pg_bin) pg_bin=$v ;;
			pgdata) pgdata=$v ;;
			pg_user) pg_user=$v ;;
			*) ;;
			esac
		done <"$state"
	fi
	# pg_ctl first: it also finds a postmaster that a test restarted itself.
	if [[ -n $pgdata && -n $pg_user && -x $pg_bin/pg_ctl && -f $pgdata/postmaster.pid ]]; then
		pid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null) || pid=
		if alive "$pid"; then
			log "stopping postgres (pid $pid, pg_ctl stop -m fast)"
			as_user "$pg_user" "$pg_bin/pg_ctl" -D "$pgdata" -m fast -w -t 10 stop >/dev/null 2>&1 || true
		fi
	fi
	stop_pid postgres
}

do_down() {
	local name
	stop_postgres || true
	for name in "${SERVICES[@]}"; do
		[[ $name == postgres ]] && continue
		stop_pid "$name" || true
	done
}

cmd_down() {
	[[ $# == 1 ]] || usage
	if [[ ! -d $1 ]]; then
		log "$1 does not exist; nothing to stop"
		return 0
	fi
	DIR=$(cd "$1" && pwd -P)
	exec 9>>"$DIR/.lock"
	flock 9
	do_down
	log "stopped stack in $DIR"
}

# ---------------------------------------------------------------- up

declare -A PORT=() PID=() STARTED=() LOG_OFFSET=()

# wait_ready NAME: 0 ready, 1 exited, 2 timed out.
wait_ready() {
	local name=$1 pid=${PID[$1]} port=${PORT[$1]} deadline=$((SECONDS + STACK_TIMEOUT))
	while ((SECONDS < deadline)); do
		alive "$pid" || return 1
		if owns_port "$pid" "$port" && "probe_${name//-/_}" "$port"; then
			return 0
		fi
		sleep 0.1
	done
	return 2
}

start_service() { # NAME (first attempt)
	pick_port
	PORT[$1]=$PORT_PICKED
	"launch_${1//-/_}" "${PORT[$1]}"
	PID[$1]=$LAUNCHED_PID
}

await_service() { # NAME: wait; on early exit retry on another port
	local name=$1 attempt rc
	for attempt in 1 2 3 4; do
		rc=0
		wait_ready "$name" || rc=$?
		((rc == 0)) && return 0
		# Only a lost race for the port is worth another try.
		((rc == 1 && attempt < 4)) || break
		grep -qi 'address already in use' < <(tail -c +$((${LOG_OFFSET[$name]:-0} + 1)) "$DIR/$name.log") || break
		log "$name lost port ${PORT[$name]} to another process; retrying on another port"
		printf -- '--- stack.sh: retry %d\n' "$attempt" >>"$DIR/$name.log"
		start_service "$name"
	done
	if ((rc == 1)); then
		log "$name exited before becoming ready on 127.0.0.1:${PORT[$name]}"
	else
		log "$name not ready on 127.0.0.1:${PORT[$name]} after ${STACK_TIMEOUT}s"
	fi
	log "last lines of $DIR/$name.log:"
	tail -n 25 "$DIR/$name.log" | sed 's/^/    /' >&2
	die "$name did not start"
}

cmd_up() {
	[[ $# == 1 ]] || usage
	local t0 v need_pg=1 need_redis=1 need_s3=1 need_stripe=1 name running=0
	local database_url redis_url minio_endpoint minio_user minio_password stripe_url
	t0=$(now_ms)
	case $PG_FSYNC in on | off) ;; *) die "PG_FSYNC must be on or off (got '$PG_FSYNC')" ;; esac
	[[ $STACK_TIMEOUT =~ ^[0-9]+$ ]] || die "STACK_TIMEOUT must be a number of seconds"

	if [[ -n ${FROSTGUARD_STACK_DIR:-} && ${STACK_REUSE_ENV:-0} != 1 ]]; then
		for v in DATABASE_URL REDIS_URL MINIO_ENDPOINT STRIPE_MOCK_URL; do
			if [[ -n ${!v:-} ]]; then
				log "ignoring $v inherited from the env.sh of $FROSTGUARD_STACK_DIR (STACK_REUSE_ENV=1 reuses it)"
				unset "$v"
			fi
		done
	fi
	[[ -n ${DATABASE_URL:-} ]] && need_pg=0
	[[ -n ${REDIS_URL:-} ]] && need_redis=0
	[[ -n ${MINIO_ENDPOINT:-} ]] && need_s3=0
	[[ -n ${STRIPE_MOCK_URL:-} ]] && need_stripe=0
	if ((!need_s3)) && [[ -z ${MINIO_ROOT_USER:-} || -z ${MINIO_ROOT_PASSWORD:-} ]]; then
		die "MINIO_ENDPOINT is set: MINIO_ROOT_USER and MINIO_ROOT_PASSWORD are needed too"
	fi

	mkdir -p "$1"
	DIR=$(cd "$1" && pwd -P)
	exec 9>>"$DIR/.lock"
	flock 9

	for name in "${SERVICES[@]}"; do
		if [[ -f $DIR/$name.pid ]] && alive "$(<"$DIR/$name.pid")"; then running=1; fi
	done
	if ((running)); then
		log "a stack is already running in $DIR; stopping it first"
		do_down
	fi

	UP_IN_PROGRESS=1
	ensure_apt "$need_pg" "$need_redis"
	ensure_tools "$need_s3" "$need_stripe"

	PG_BIN=$(find_pg_bin)
	rm -f "$DIR/.stack-state"
	if ((need_pg)); then
		[[ -n $PG_BIN ]] || die "PostgreSQL server binaries not found after install"
		PG_USER=$(pg_os_user)
	fi
	for name in "${SERVICES[@]}"; do
		rm -f "$DIR/$name.pid"
		if [[ -f $DIR/$name.log ]]; then mv -f "$DIR/$name.log" "$DIR/$name.log.old"; fi
	done

	# Launch everything, then wait: the slow starters overlap.
	if ((need_redis)); then start_service redis; STARTED[redis]=1; fi
	if ((need_s3)); then
		s3_credentials
		mkdir -p "$DIR/s3"
		start_service versitygw
		STARTED[versitygw]=1
	fi
	if ((need_stripe)); then start_service stripe-mock; STARTED[stripe-mock]=1; fi
	if ((need_pg)); then
		pg_prepare
		printf 'pg_bin=%s\npgdata=%s\npg_user=%s\n' "$PG_BIN" "$PGDATA_DIR" "$PG_USER" >"$DIR/.stack-state"
		start_service postgres
		STARTED[postgres]=1
	fi
	for name in "${SERVICES[@]}"; do
		if [[ -n ${STARTED[$name]:-} ]]; then await_service "$name"; fi
	done

	if ((need_pg)); then
		pg_create_db "${PORT[postgres]}" || die "creating database frostguard failed"
		database_url="postgres://$PG_USER@127.0.0.1:${PORT[postgres]}/frostguard?sslmode=disable"
	else
		database_url=$DATABASE_URL
	fi
	if ((need_redis)); then redis_url="redis://127.0.0.1:${PORT[redis]}/0"; else redis_url=$REDIS_URL; fi
	if ((need_s3)); then
		minio_endpoint="http://127.0.0.1:${PORT[versitygw]}"
		minio_user=$S3_ACCESS
		minio_password=$S3_SECRET
	else
		minio_endpoint=$MINIO_ENDPOINT
		minio_user=$MINIO_ROOT_USER
		minio_password=$MINIO_ROOT_PASSWORD
	fi
	for v in "${BUCKETS[@]}"; do
		s3_make_bucket "$minio_endpoint" "$minio_user" "$minio_password" "$v" || die "S3 bucket setup failed"
	done
	if ((need_stripe)); then stripe_url="http://127.0.0.1:${PORT[stripe-mock]}"; else stripe_url=$STRIPE_MOCK_URL; fi

	{
		echo "# written by scripts/stack.sh up $(date -u +%Y-%m-%dT%H:%M:%SZ); source me"
		echo "export DATABASE_URL=$(sq "$database_url")"
		echo "export REDIS_URL=$(sq "$redis_url")"
		echo "export MINIO_ENDPOINT=$(sq "$minio_endpoint")"
		echo "export MINIO_ROOT_USER=$(sq "$minio_user")"
		echo "export MINIO_ROOT_PASSWORD=$(sq "$minio_password")"
		echo "export MINIO_BUCKET=frostguard"
		echo "export MINIO_BUCKET_ASSETS=frostguard-assets"
		echo "export STRIPE_MOCK_URL=$(sq "$stripe_url")"
		echo "export AWS_LAMBDA_RIE=$(sq "$TOOLS_DIR/aws-lambda-rie")"
		# For tests that run a private S3 server (testenv.StartS3). Absent
		# when an external MINIO_ENDPOINT skipped the install.
		if [[ -x $TOOLS_DIR/versitygw ]]; then echo "export VERSITYGW=$(sq "$TOOLS_DIR/versitygw")"; fi
		echo "export FROSTGUARD_STACK_DIR=$(sq "$DIR")"
		echo "export PG_BIN=$(sq "$PG_BIN")"
		echo "export PGDATA=$(sq "${PGDATA_DIR}")"
		echo "export PG_OS_USER=$(sq "$PG_USER")"
	} >"$DIR/env.sh.tmp"
	mv -f "$DIR/env.sh.tmp" "$DIR/env.sh"
	UP_IN_PROGRESS=0

	if ((need_pg)); then
		printf '%-12s %-28s pid %-7s data %s (fsync %s)\n' postgres "127.0.0.1:${PORT[postgres]}" "${PID[postgres]}" "$PGDATA_DIR" "$PG_FSYNC"
	else
		printf '%-12s external (DATABASE_URL)\n' postgres
	fi
	if ((need_redis)); then
		printf '%-12s %-28s pid %s\n' redis "127.0.0.1:${PORT[redis]}" "${PID[redis]}"
	else
		printf '%-12s external (REDIS_URL)\n' redis
	fi
	if ((need_s3)); then
		printf '%-12s %-28s pid %-7s buckets %s\n' s3 "$minio_endpoint" "${PID[versitygw]}" "${BUCKETS[*]}"
	else
		printf '%-12s external %s, buckets %s\n' s3 "$minio_endpoint" "${BUCKETS[*]}"
	fi
	if ((need_stripe)); then
		printf '%-12s %-28s pid %s\n' stripe-mock "$stripe_url" "${PID[stripe-mock]}"
	else
		printf '%-12s external %s\n' stripe-mock "$stripe_url"
	fi
	printf '%-12s %s (not started; tests run it)\n' lambda-rie "$TOOLS_DIR/aws-lambda-rie"
	printf '%-12s %s (up in %s)\n' env "$DIR/env.sh" "$(elapsed "$t0")"
}

# ---------------------------------------------------------------- tools

# The linters `make lint` runs: Go tools only, no apt, so it works on a
# fresh machine with nothing but Go.
cmd_lint_tools() {
	[[ $# == 0 ]] || usage
	find_go
	mkdir -p "$TOOLS_DIR"
	TOOLS_DIR=$(cd "$TOOLS_DIR" && pwd -P)
	exec 8>"$TOOLS_DIR/.lock"
	flock 8
	ensure_go_tool actionlint "$ACTIONLINT_PKG" "$ACTIONLINT_VERSION"
	exec 8>&-
	echo "$TOOLS_DIR"
}

cmd_tools() {
	[[ $# == 0 ]] || usage
	ensure_apt 1 1
	ensure_tools 1 1
	[[ -n $(find_pg_bin) ]] || die "PostgreSQL server binaries not found after install"
	echo "$TOOLS_DIR"
}

usage() {
	sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	TOOLS_DIR=${FROSTGUARD_TOOLS_DIR:-$REPO/.tools/bin}
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	tools) cmd_tools "$@" ;;
	lint-tools) cmd_lint_tools "$@" ;;
	*) usage ;;
	esac
}

main "$@"

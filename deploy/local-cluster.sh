#!/usr/bin/env bash
# The cluster topology on one machine, for trying it: redis-server, N `gannet serve
# --redis` replicas and nginx (deploy/nginx.conf) in front, all local processes on free
# loopback ports, their pid and log files in one state directory.
#
#   deploy/local-cluster.sh start [N]   start N replicas (default 3); prints the URL
#   deploy/local-cluster.sh status      each process, alive or not, and each replica's /health
#   deploy/local-cluster.sh restart     rolling restart of the replicas, one at a time
#   deploy/local-cluster.sh stop        SIGTERM everything (replicas drain), remove the state
#
# Environment:
#   GANNET           the gannet binary (default: gannet on PATH, else target/release/gannet,
#                    else target/debug/gannet)
#   NGINX_BIN        nginx (default: on PATH, else /usr/sbin/nginx; apt-get install nginx)
#   STATE_DIR        default ${TMPDIR:-/tmp}/gannet-local-cluster
#   PORT             nginx's port (default: a free one)
#   SERVE_ARGS       more arguments for every replica, e.g. "--allow-private"
#   RATE_PER_MINUTE  nginx's per-client limit (default 600), RATE_BURST (default 100)
#   MAX_BODY         largest request body in bytes, replicas and nginx (default 1048576)
#   KEEP_STATE=1     stop keeps the state directory (logs)
# nginx runs as a plain process with its own prefix in the state directory: no system
# service is touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
state=${STATE_DIR:-${TMPDIR:-/tmp}/gannet-local-cluster}

die() { echo "local-cluster: $*" >&2; exit 1; }

find_gannet() {
  if [ -n "${GANNET:-}" ]; then echo "$GANNET"; return; fi
  local b
  for b in "$(command -v gannet || true)" "$root/target/release/gannet" "$root/target/debug/gannet"; do
    if [ -n "$b" ] && [ -x "$b" ]; then echo "$b"; return; fi
  done
  die "no gannet binary: build one (cargo build --release -p gannet) or set GANNET"
}

find_nginx() {
  if [ -n "${NGINX_BIN:-}" ]; then echo "$NGINX_BIN"; return; fi
  command -v nginx && return
  [ -x /usr/sbin/nginx ] && { echo /usr/sbin/nginx; return; }
  die "no nginx: apt-get install nginx (or set NGINX_BIN)"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The status line of GET PATH on 127.0.0.1:PORT ("" when nothing answers).
http_status() {
  local port=$1 path=$2 line=""
  if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
    IFS= read -r -t 5 line <&3 || true
    exec 3<&-
  fi
  printf '%s' "${line%$'\r'}"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# deploy/nginx.conf with its placeholders filled (the same rules as gannet_testkit::nginx):
# @NAME@ replaced, a line holding @SERVER@ repeated per replica.
render() {
  local prefix=$1 listen=$2 servers=$3
  awk -v prefix="$prefix" -v listen="$listen" -v servers="$servers" \
      -v max_body="$MAX_BODY" -v rate="$RATE_PER_MINUTE" -v burst="$RATE_BURST" '
    function fill(l) {
      gsub(/@PREFIX@/, prefix, l); gsub(/@LISTEN@/, listen, l); gsub(/@MAX_BODY@/, max_body, l)
      gsub(/@RATE_PER_MINUTE@/, rate, l); gsub(/@RATE_BURST@/, burst, l); return l
    }
    /@SERVER@/ { n = split(servers, s, " "); for (i = 1; i <= n; i++) { l = $0; gsub(/@SERVER@/, s[i], l); print fill(l) }; next }
    { print fill($0) }' "$here/nginx.conf"
}

# Replica I on its port, with the stored command.
start_replica() {
  local i=$1 dir="$state/replica-$1" cmd
  mapfile -t cmd <"$state/serve-command"
  "${cmd[0]}" serve --listen "127.0.0.1:$(cat "$dir/port")" --data-dir "$dir/data" "${cmd[@]:1}" \
    >>"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
}

# Until replica I answers 200 on /health (30 s at most).
wait_healthy() {
  local i=$1 dir="$state/replica-$1" tries=0
  until [[ "$(http_status "$(cat "$dir/port")" /health)" == *" 200"* ]]; do
    alive "$dir/pid" || die "replica $i exited: $(tail -5 "$dir/log")"
    tries=$((tries + 1)); [ $tries -lt 300 ] || die "replica $i not healthy after 30 s: $dir/log"
    sleep 0.1
  done
}

start() {
  local n=${1:-3}
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, not '$n'"
  if alive "$state/nginx/nginx.pid" || alive "$state/redis/pid"; then
    die "already running in $state (status, or stop first)"
  fi
  local gannet nginx
  gannet=$(find_gannet)
  nginx=$(find_nginx)
  command -v redis-server >/dev/null || die "no redis-server: apt-get install redis-server"
  MAX_BODY=${MAX_BODY:-1048576}
  RATE_PER_MINUTE=${RATE_PER_MINUTE:-600}
  RATE_BURST=${RATE_BURST:-100}
  rm -rf "$state"
  mkdir -p "$state/redis" "$state/nginx/tmp"
  # nginx started as root runs its workers as nobody: they must enter the prefix.
  chmod 755 "$state" "$state/nginx" "$state/nginx/tmp"

  local redis_port
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode no \
    --dir "$state/redis" --appendonly yes --save "" --maxmemory-policy noeviction \
    >"$state/redis/log" 2>&1 </dev/null &
  echo $! >"$state/redis/pid"
  echo "$redis_port" >"$state/redis/port"
  local redis_url="redis://127.0.0.1:$redis_port" tries=0
  until [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; do
    tries=$((tries + 1)); [ $tries -lt 100 ] || die "redis-server did not start: $state/redis/log"
    sleep 0.1
  done

  local redis_args=(--redis "$redis_url")
  if ! "$gannet" serve --help 2>/dev/null | grep -q -- '--redis'; then
    echo "local-cluster: warning: $gannet has no --redis: each replica keeps its jobs in its own SQLite, so job ids are known only to the replica that made them (single-page routes work)" >&2
    redis_args=()
  fi
  # Without tokens a replica's rate limit is per client IP, and behind nginx every client
  # has nginx's IP: nginx limits per client instead.
  local limit_args=()
  [ -n "${GANNET_TOKEN:-}" ] || limit_args=(--rate-limit 0)
  # The replicas' command, kept for restart: the binary, then its arguments, one a line.
  # shellcheck disable=SC2206
  local extra=(${SERVE_ARGS:-})
  printf '%s\n' "$gannet" --max-body "$MAX_BODY" "${redis_args[@]}" "${limit_args[@]}" \
    "${extra[@]}" >"$state/serve-command"
  local servers="" i port
  for i in $(seq 1 "$n"); do
    port=$(free_port)
    mkdir -p "$state/replica-$i"
    echo "$port" >"$state/replica-$i/port"
    start_replica "$i"
    servers="$servers 127.0.0.1:$port"
  done
  for i in $(seq 1 "$n"); do
    wait_healthy "$i"
  done

  local nginx_port=${PORT:-$(free_port)}
  render "$state/nginx" "127.0.0.1:$nginx_port" "$servers" >"$state/nginx/nginx.conf"
  # (nginx reads $NGINX itself: inherited listening sockets.)
  unset NGINX
  "$nginx" -t -q -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" \
    || die "nginx -t refused $state/nginx/nginx.conf"
  # Daemonizes; its pid file is in the prefix.
  "$nginx" -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log" \
    </dev/null >>"$state/nginx/error.log" 2>&1
  echo "$nginx_port" >"$state/nginx/port"
  tries=0
  until [[ "$(http_status "$nginx_port" /health)" == *" 200"* ]]; do
    tries=$((tries + 1)); [ $tries -lt 100 ] || die "nginx not answering: $state/nginx/error.log"
    sleep 0.1
  done
  echo "gannet cluster: http://127.0.0.1:$nginx_port ($n replicas:$servers; redis $redis_url; state $state)"
}

status() {
  [ -d "$state" ] || { echo "not running (no $state)"; return 1; }
  local ok=0 dir port
  for dir in "$state"/replica-* "$state/redis" "$state/nginx"; do
    [ -d "$dir" ] || continue
    local pidfile="$dir/pid" name
    name=$(basename "$dir")
    [ "$name" = nginx ] && pidfile="$dir/nginx.pid"
    port=$(cat "$dir/port" 2>/dev/null || echo "?")
    if alive "$pidfile"; then
      local health=""
      case $name in
        replica-*|nginx) health=" /health: $(http_status "$port" /health)" ;;
      esac
      echo "$name: pid $(cat "$pidfile") port $port$health"
    else
      echo "$name: not running (port $port)"; ok=1
    fi
  done
  return $ok
}

# A rolling restart: one replica at a time gets SIGTERM (it stops accepting, finishes
# what it has in flight, hands its work back), exits, starts again on its port and
# answers /health. nginx sends new requests to the others meanwhile (a refused connection
# goes to the next replica) and, by its passive check, leaves the restarted one out for
# fail_timeout (5 s in deploy/nginx.conf): the next replica goes only after REJOIN_SECS
# (6), or for a moment nginx would have no replica left ("no live upstreams", 502).
restart() {
  [ -f "$state/serve-command" ] || die "not running (no $state)"
  local dir i first=1
  for dir in "$state"/replica-*; do
    i=${dir##*-}
    [ $first = 1 ] || sleep "${REJOIN_SECS:-6}"
    first=0
    stop_pid "$dir/pid" 30
    start_replica "$i"
    wait_healthy "$i"
    echo "replica-$i: restarted, pid $(cat "$dir/pid")"
  done
}

# SIGTERM, then up to SECS for the process to exit, then SIGKILL.
stop_pid() {
  local pidfile=$1 secs=$2 pid
  alive "$pidfile" || return 0
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || return 0
  local t=0
  while kill -0 "$pid" 2>/dev/null && [ $t -lt $((secs * 10)) ]; do sleep 0.1; t=$((t + 1)); done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  [ -d "$state" ] || { echo "not running (no $state)"; return 0; }
  # nginx first (no new requests), then the replicas drain, then Redis.
  stop_pid "$state/nginx/nginx.pid" 10
  local dir
  for dir in "$state"/replica-*; do
    [ -d "$dir" ] && stop_pid "$dir/pid" 30 &
  done
  wait
  stop_pid "$state/redis/pid" 10
  [ "${KEEP_STATE:-}" = 1 ] || rm -rf "$state"
  echo "gannet cluster stopped"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  status) status ;;
  restart) restart ;;
  stop) stop ;;
  *) echo "usage: $0 start [N] | status | restart | stop" >&2; exit 64 ;;
esac

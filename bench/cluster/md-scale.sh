#!/usr/bin/env bash
# Issue 20 target: 3 replicas behind nginx serve /md (HTTP mode, a distinct URL every
# request) at >= 2.5x one replica's requests/s when page latency, not CPU, is the
# bottleneck. One run, side by side, the same nginx config (deploy/local-cluster.sh):
#   1 replica behind nginx | 3 replicas behind nginx | 1 replica direct (nginx's cost)
# The site (bench/distributed/scaling_site.py, one origin) delays every page DELAY_MS, and
# each replica fetches at most IN_FLIGHT pages at once (--max-pages-in-flight), so one
# replica's ceiling is IN_FLIGHT / DELAY_MS (16 / 100 ms = 160 req/s); CLIENTS (wrk
# connections) keep every replica's page slots full.
#
# usage: bench/cluster/md-scale.sh
# env:   SECS (20), DELAY_MS (100), IN_FLIGHT (16), CLIENTS (96), GANNET (default: a
#        release build), REPLICAS ("1 3")
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-20}; DELAY_MS=${DELAY_MS:-100}; IN_FLIGHT=${IN_FLIGHT:-16}; CLIENTS=${CLIENTS:-96}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [ -z "${GANNET:-}" ]; then
  cargo build --release --locked -q -p gannet
  GANNET=$PWD/target/release/gannet
fi
export GANNET
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DIR=$(mktemp -d)
export STATE_DIR=$DIR/cluster
SITE_PORT=$(free)
python3 bench/distributed/scaling_site.py 1 50000000 "$DELAY_MS" "$SITE_PORT" >"$DIR/site.log" 2>&1 &
SITE_PID=$!
cleanup() { deploy/local-cluster.sh stop >/dev/null 2>&1 || true; kill $SITE_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q ready "$DIR/site.log" && break; sleep 0.1; done
ORIGIN=http://127.0.1.1:$SITE_PORT
# nginx's per-client limit off in effect (wrk is one client); replicas have none.
export RATE_PER_MINUTE=60000000 RATE_BURST=1000000
export SERVE_ARGS="--allow-private -q --max-pages-in-flight $IN_FLIGHT"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); delay ${DELAY_MS} ms, ${IN_FLIGHT} pages in flight per replica, $CLIENTS clients, ${SECS} s each"
run=0
measure() { # NAME URL
  run=$((run + 1))
  # Warm-up (connections, first pages), then the measured run.
  wrk -t2 -c"$CLIENTS" -d3s --timeout 10s -s bench/cluster/md.lua "$2" -- "$ORIGIN" "$((run * 2))" >/dev/null
  local out rps
  out=$(wrk -t2 -c"$CLIENTS" -d"${SECS}s" --timeout 10s --latency -s bench/cluster/md.lua "$2" -- "$ORIGIN" "$((run * 2 + 1))")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  printf '%-28s %8s req/s  p50 %-9s p99 %-9s %s\n' "$1" "$rps" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
  echo "$rps" >"$DIR/rps-$1"
}
for n in ${REPLICAS:-1 3}; do
  url=$(deploy/local-cluster.sh start "$n" 2>"$DIR/start.err" | grep -o 'http://[0-9.:]*')
  measure "$n-behind-nginx" "$url/md"
  if [ "$n" = 1 ]; then
    measure "1-direct" "http://127.0.0.1:$(cat "$STATE_DIR/replica-1/port")/md"
  fi
  deploy/local-cluster.sh stop >/dev/null
done
if [ -f "$DIR/rps-1-behind-nginx" ] && [ -f "$DIR/rps-3-behind-nginx" ]; then
  awk -v a="$(cat "$DIR/rps-1-behind-nginx")" -v b="$(cat "$DIR/rps-3-behind-nginx")" \
    'BEGIN { printf "ratio 3 replicas / 1 replica (both behind nginx): %.2fx (target >= 2.5x)\n", b / a }'
fi

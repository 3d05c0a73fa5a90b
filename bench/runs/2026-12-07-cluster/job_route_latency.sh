#!/usr/bin/env bash
# Latency of a job route in cluster mode beside the single-machine default: one crawl job
# (PAGES pages of the Rust book, served by python's http.server), then wrk with 64
# connections on Firecrawl's GET /v1/crawl/{id} (status + first page of documents) and
# our GET /jobs/{id} (status only) for DURATION each, once against `gannet serve` (SQLite) and once against `gannet serve --redis`.
#
# usage: bench/runs/2026-12-07-cluster/job_route_latency.sh [PAGES] [DURATION]   (2, 10s)
# env:   BIN (target/debug/gannet), DOCS (rustup's share/doc/rust/html)
set -euo pipefail
cd "$(dirname "$0")/../../.."
PAGES=${1:-2}
DURATION=${2:-10s}
BIN=${BIN:-target/debug/gannet}
DOCS=${DOCS:-$(ls -d ~/.rustup/toolchains/*/share/doc/rust/html | head -1)}
TMP=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free_port); HP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >/dev/null &
PIDS="$!"
(cd "$DOCS" && exec python3 -m http.server "$HP" --bind 127.0.0.1 >/dev/null 2>&1) &
PIDS="$PIDS $!"
trap 'kill $PIDS 2>/dev/null || true; rm -rf "$TMP"' EXIT
printf '[jobs]\ncrawl_delay_ms = 0\n[requests]\nrate_limit_per_minute = 0\n' > "$TMP/gannet.toml"

run() { # name, extra serve flags...
  local name=$1; shift
  local port; port=$(free_port)
  "$BIN" serve --config "$TMP/gannet.toml" --listen "127.0.0.1:$port" --allow-private \
    --data-dir "$TMP/$name" -q "$@" 2>"$TMP/$name.log" &
  local pid=$!
  PIDS="$PIDS $pid"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  local id
  id=$(curl -sf -X POST "http://127.0.0.1:$port/v1/crawl" -H 'content-type: application/json' \
    -d "{\"url\": \"http://127.0.0.1:$HP/book/\", \"limit\": $PAGES}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    s=$(curl -sf "http://127.0.0.1:$port/v1/crawl/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    [ "$s" = completed ] && break
    sleep 1
  done
  for path in "/v1/crawl/$id" "/jobs/$id"; do
    echo "== $name: GET $path ($PAGES pages), 64 connections, $DURATION"
    wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$port$path" \
      | grep -E "50%|90%|99%|Requests/sec|Non-2xx"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
run sqlite
run cluster --redis "redis://127.0.0.1:$RP"

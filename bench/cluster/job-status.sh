#!/usr/bin/env bash
# Issue 20 target: a replica's latency for job routes, p99 of GET /v1/crawl/{id} under 64
# concurrent clients (< 20 ms in cluster mode). A Firecrawl crawl of LIMIT pages of a
# loopback site runs to completion, then wrk asks for its status (and first page of
# documents) for SECS seconds.
#   default:   single-machine mode: one `gannet serve` (jobs in its SQLite), asked directly
#   --redis:   cluster mode: deploy/local-cluster.sh 3 (redis-server, 3 `gannet serve
#              --redis` replicas, nginx); the job is started through nginx and asked for
#              through nginx (round-robin: every replica answers) and at one replica
#              directly. Needs a gannet with `serve --redis` (the cluster branch).
#
# usage: bench/cluster/job-status.sh [--redis]
# env:   SECS (15), CLIENTS (64), LIMIT (10), GANNET (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=single
[ "${1:-}" = --redis ] && MODE=redis
SECS=${SECS:-15}; CLIENTS=${CLIENTS:-64}; LIMIT=${LIMIT:-10}
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
python3 bench/distributed/scaling_site.py 1 1000 0 "$SITE_PORT" >"$DIR/site.log" 2>&1 &
SITE_PID=$!
SERVER_PID=""
cleanup() {
  [ "$MODE" = redis ] && { deploy/local-cluster.sh stop >/dev/null 2>&1 || true; }
  kill $SITE_PID $SERVER_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q ready "$DIR/site.log" && break; sleep 0.1; done

# POST/GET with bash's /dev/tcp (no curl needed): prints the body.
http() { # METHOD HOST:PORT PATH [BODY]
  local hp=$2 body=${4:-}
  exec 3<>"/dev/tcp/${hp%:*}/${hp#*:}"
  printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$1" "$3" "$hp" "${#body}" "$body" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}

if [ "$MODE" = single ]; then
  port=$(free)
  "$GANNET" serve --listen "127.0.0.1:$port" --allow-private -q --rate-limit 0 \
    --data-dir "$DIR/data" >"$DIR/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  front=127.0.0.1:$port
  targets=("single-direct $front")
else
  "$GANNET" serve --help | grep -q -- '--redis' || { echo "job-status.sh --redis: $GANNET has no 'serve --redis'" >&2; exit 1; }
  export RATE_PER_MINUTE=60000000 RATE_BURST=1000000 SERVE_ARGS="--allow-private -q"
  url=$(deploy/local-cluster.sh start 3 | grep -o 'http://[0-9.:]*')
  front=${url#http://}
  targets=("cluster-nginx $front" "cluster-replica-direct 127.0.0.1:$(cat "$STATE_DIR/replica-2/port")")
fi

created=$(http POST "$front" /v1/crawl "{\"url\":\"http://127.0.1.1:$SITE_PORT/\",\"limit\":$LIMIT}")
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$created")
for _ in $(seq 600); do
  status=$(http GET "$front" "/v1/crawl/$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d.get("completed"), len(d.get("data") or []))')
  [[ "$status" == completed* ]] && break
  sleep 0.2
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); mode $MODE; job $id: $status (status, pages, documents in the answer)"
for t in "${targets[@]}"; do
  name=${t%% *}; hp=${t#* }
  out=$(wrk -t2 -c"$CLIENTS" -d"${SECS}s" --latency "http://$hp/v1/crawl/$id")
  printf '%-24s %8s req/s  p50 %-9s p90 %-9s p99 %-9s %s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "90%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
done

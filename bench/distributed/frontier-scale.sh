#!/usr/bin/env bash
# Flat-frontier benchmark (issue 19): claim + complete throughput of the Redis frontier
# on one redis-server at 10⁵, 10⁶ and 10⁷ queued URLs, and Redis memory per seen and per
# queued URL (INFO memory / MEMORY USAGE). One line per size, then the drop from the
# smallest to the largest size. The anchor, measured in the same run on the same server:
# redis-benchmark LPUSH (4 clients, no pipelining), i.e. what this machine gives Redis.
#
# Each size: a fresh crawl filled with N URLs over N/100 hosts, then 4 workers loop for
# SECONDS: claim 64 hosts x 32 URLs, enqueue one new same-host link per page (the frontier
# keeps its size), prepare + commit the batch (the two-phase completion), release the hosts.
#
# usage: bench/distributed/frontier-scale.sh
# env:   SIZES ("100000 1000000 10000000"), SECONDS_PER_SIZE (20), WORKERS (4), PORT (free)
# Targets: drop <= 10% from the smallest to the largest size; >= 30,000 URLs/s claimed;
#          <= 16 B per seen URL; <= 80 B per queued URL.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-"100000 1000000 10000000"}
SECS=${SECONDS_PER_SIZE:-20}
WORKERS=${WORKERS:-4}
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server redis-tools; }
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" \
  --maxmemory-policy noeviction >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
cargo build --release --locked -q -p gannet-frontier-redis --example frontier_scale
BIN=target/release/examples/frontier_scale

echo "redis $(redis-server --version | grep -o 'v=[0-9.]*'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
anchor=$(redis-benchmark -p "$PORT" -t lpush -n 200000 -c 4 -q 2>/dev/null | tr '\r' '\n' | grep -o 'LPUSH: [0-9.]* requests' | tail -1 | awk '{print $2}')
echo "anchor: redis-benchmark LPUSH -c 4 = $anchor ops/s"
redis-cli -p "$PORT" flushall >/dev/null
first=""
last=""
for n in $SIZES; do
  line=$("$BIN" "redis://127.0.0.1:$PORT" "$n" "$SECS" "$WORKERS")
  rate=$(echo "$line" | sed -E 's/.*claim\+complete=([0-9]+).*/\1/')
  echo "$line ratio_to_anchor=$(awk -v r="$rate" -v a="$anchor" 'BEGIN{printf "%.2f", r/a}') load=$(cut -d' ' -f1 /proc/loadavg)"
  first=${first:-$rate}
  last=$rate
done
awk -v a="$first" -v b="$last" 'BEGIN{printf "drop smallest -> largest: %.1f%%\n", (a-b)*100/a}'

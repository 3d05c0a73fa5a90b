#!/usr/bin/env bash
# Flat-frontier benchmark (issue 19): claim + complete throughput of the Redis frontier
# on one redis-server at 10⁵, 10⁶ and 10⁷ queued URLs, and Redis memory per seen and per
# queued URL (INFO memory / MEMORY USAGE), and Redis main-thread CPU per URL (INFO cpu:
# what the frontier costs Redis whatever else runs; 1e6 / it = the capacity of one Redis
# core). One line per size, then the drop from the smallest to the largest size, in URLs/s,
# in ratio to the anchor and in Redis CPU per URL. The anchor, measured
# on the same server before each of 3 measuring rounds per size: LPUSH from 4 connections,
# one command at a time (as redis-benchmark -t lpush -c 4), i.e. what this shared machine
# gives Redis at that minute.
#
# Each size: a fresh crawl filled with N URLs over N/100 hosts, then 4 workers loop for
# SECONDS: claim 64 hosts x 32 URLs, enqueue one new same-host link per page (the frontier
# keeps its size), prepare + commit the batch (the two-phase completion), release the hosts.
#
# usage: bench/distributed/frontier-scale.sh
# env:   SIZES ("100000 1000000 10000000"), SECONDS_PER_SIZE (30, in 3 rounds), WORKERS (4),
#        PORT (free)
# Targets: drop <= 10% from the smallest to the largest size; >= 30,000 URLs/s claimed;
#          <= 16 B per seen URL; <= 80 B per queued URL.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-"100000 1000000 10000000"}
SECS=${SECONDS_PER_SIZE:-30}
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
first=""; last=""; first_ratio=""; last_ratio=""
for n in $SIZES; do
  line=$("$BIN" "redis://127.0.0.1:$PORT" "$n" "$SECS" "$WORKERS")
  echo "$line load=$(cut -d' ' -f1 /proc/loadavg)"
  rate=$(echo "$line" | sed -E 's/.*claim\+complete=([0-9]+).*/\1/')
  ratio=$(echo "$line" | sed -E 's/.* ratio=([0-9.]+).*/\1/')
  cpu=$(echo "$line" | sed -E 's/.* redis_cpu=([0-9.]+).*/\1/')
  first=${first:-$rate}; last=$rate
  first_ratio=${first_ratio:-$ratio}; last_ratio=$ratio
  first_cpu=${first_cpu:-$cpu}; last_cpu=$cpu
done
awk -v a="$first" -v b="$last" -v ra="$first_ratio" -v rb="$last_ratio" -v ca="$first_cpu" -v cb="$last_cpu" \
  'BEGIN{printf "drop smallest -> largest: %.1f%% in URLs/s, %.1f%% in ratio to the anchor, %.1f%% in Redis CPU per URL (capacity)\n", (a-b)*100/a, (ra-rb)*100/ra, (cb-ca)*100/cb}'

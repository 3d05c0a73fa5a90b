#!/usr/bin/env bash
# Distributed scaling benchmark (issue 19): 1, 2 and 4 `gannet` workers on one Redis crawl
# a latency-bound loopback site (scaling_site.py: HOSTS origins on 127.0.1.x, every
# response delayed DELAY_MS), each worker with the same --concurrency. Prints pages/s per
# worker count and the ratio to N x one worker's pages/s (target: >= 0.9), and checks that
# every page was fetched once (the site counts requests per path), and the commands Redis
# processed during each crawl.
#
# usage: bench/distributed/scaling.sh
# env:   HOSTS (60), PAGES (per host, 40), DELAY_MS (50), CONCURRENCY (8, per worker),
#        PER_HOST (2), WORKERS ("1 2 4"), PORT (free), REDIS_PORT (free),
#        BIN (default: a release build of gannet)
set -euo pipefail
cd "$(dirname "$0")/../.."
HOSTS=${HOSTS:-60}; PAGES=${PAGES:-40}; DELAY_MS=${DELAY_MS:-50}
CONCURRENCY=${CONCURRENCY:-8}; PER_HOST=${PER_HOST:-2}; WORKERS=${WORKERS:-"1 2 4"}
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=${PORT:-$(free)}; REDIS_PORT=${REDIS_PORT:-$(free)}
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server redis-tools; }
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q -p gannet
  BIN=target/release/gannet
fi
DIR=$(mktemp -d)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" \
  --maxmemory-policy noeviction >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
SITE_PID=""
cleanup() { kill $REDIS_PID $SITE_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
REDIS=redis://127.0.0.1:$REDIS_PORT
TOTAL=$((HOSTS * PAGES))
echo "hosts=$HOSTS pages=$TOTAL delay=${DELAY_MS}ms concurrency=$CONCURRENCY/worker per_host=$PER_HOST $(nproc) cores load $(cut -d' ' -f1-3 /proc/loadavg)"
one=""
for n in $WORKERS; do
  python3 bench/distributed/scaling_site.py "$HOSTS" "$PAGES" "$DELAY_MS" "$PORT" >"$DIR/site.log" 2>&1 &
  SITE_PID=$!
  for _ in $(seq 100); do grep -q ready "$DIR/site.log" && break; sleep 0.1; done
  seeds=""; for h in $(seq 1 "$HOSTS"); do seeds="$seeds http://127.0.1.$h:$PORT/"; done
  id="scale$n-$$"
  flags=(--redis "$REDIS" --crawl-id "$id" --concurrency "$CONCURRENCY" -q)
  cmds0=$(redis-cli -p "$REDIS_PORT" INFO stats | sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p')
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$BIN" crawl $seeds "${flags[@]}" --out "$DIR/w0-$n.jsonl" --scope any --ignore-robots \
    --no-sitemaps --no-auto-throttle --delay 0 --per-host "$PER_HOST" 2>"$DIR/w0-$n.log" &
  pids=($!)
  until redis-cli -p "$REDIS_PORT" --scan --pattern "*$id*meta" | grep -q .; do sleep 0.05; done
  for w in $(seq 2 "$n"); do
    "$BIN" worker "${flags[@]}" --out "$DIR/w$w-$n.jsonl" 2>"$DIR/w$w-$n.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  cmds1=$(redis-cli -p "$REDIS_PORT" INFO stats | sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p')
  written=$(cat "$DIR"/w*-"$n".jsonl | wc -l)
  hits=$(curl -s "http://127.0.1.1:$PORT/__hits")
  kill $SITE_PID; wait $SITE_PID 2>/dev/null || true; SITE_PID=""
  rate=$(python3 -c "print(f'{$written/($end-$start):.1f}')")
  [ -z "$one" ] && one=$rate
  ratio=$(python3 -c "print(f'{$rate/($n*$one):.2f}')")
  echo "workers=$n pages=$written/$TOTAL seconds=$(python3 -c "print(f'{$end-$start:.2f}')") pages_per_s=$rate ratio_to_${n}x_one=$ratio requests/distinct=${hits% *}/${hits#* } redis_commands=$((cmds1 - cmds0)) load=$(cut -d' ' -f1 /proc/loadavg)"
done

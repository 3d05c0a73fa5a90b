#!/usr/bin/env bash
# Whole-site crawl benchmark: the Rust documentation that rustup installs (~31.8k pages
# reachable from /, 521 MB of HTML, its own robots.txt), served by nginx on loopback by
# ../shared/bench/serve-rustdoc.sh. gannet crawls it with full extraction to JSONL,
# robots.txt on, per-host concurrency raised for loopback, and this prints pages, wall
# time, pages/s, CPU seconds, peak RSS, and the crawl rate in the first and last tenth
# (from the pages' fetched_at stamps) to show that throughput does not decay.
#
# usage: bench/crawl-rustdoc.sh [--redis] [PORT]    (default 8088)
#   --redis: also crawl it as a one-worker distributed crawl on a fresh redis-server
#   (loopback, AOF everysec, noeviction), side by side, and print the Redis/SQLite ratio
#   of pages/s (issue 19's target: >= 0.7). Distributed crawls read no sitemaps, so both
#   runs pass --no-sitemaps in this mode.
# env:   PER_HOST (128), CONCURRENCY (256), OUT (a temp dir), SHARED (../shared),
#        SPIDER_BIN: a spider_cli binary to run side by side (`cargo install spider_cli`),
#        if set.
set -euo pipefail
cd "$(dirname "$0")/.."
REDIS=""
if [ "${1:-}" = "--redis" ]; then REDIS=1; shift; fi
PORT=${1:-8088}
SHARED=${SHARED:-../shared}
PER_HOST=${PER_HOST:-128}
CONCURRENCY=${CONCURRENCY:-256}
OUT=${OUT:-$(mktemp -d)}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
bash "$SHARED/bench/serve-rustdoc.sh" "$PORT" >/dev/null
cargo build --release --locked -q -p gannet
BIN=$(pwd)/target/release/gannet
SITE=http://127.0.0.1:$PORT/

nginx_cpu() { # user+sys clock ticks of the nginx processes serving PORT
  local total=0
  for pid in $(pgrep -f "nginx: worker" || true); do
    total=$((total + $(awk '{print $14 + $15}' /proc/$pid/stat)))
  done
  echo $total
}

EXTRA=()
[ -n "$REDIS" ] && EXTRA=(--no-sitemaps)

# crawl LABEL [ARGS...]: one crawl of the site, its summary lines, and "LABEL pages/s" in
# $OUT/rates.txt.
crawl() {
  local label=$1; shift
  echo "[$label] gannet crawl $SITE (per-host $PER_HOST, concurrency $CONCURRENCY, robots on, JSONL with full extraction) $*"
  rm -rf "$OUT/rustdoc.jsonl" "$OUT/rustdoc.jsonl.state"
  local n0 n1
  n0=$(nginx_cpu)
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" \
    "$BIN" crawl "$SITE" --out "$OUT/rustdoc.jsonl" --delay 0 --per-host "$PER_HOST" \
    --concurrency "$CONCURRENCY" --log-format json -q "${EXTRA[@]}" "$@" 2>"$OUT/crawl.log"
  n1=$(nginx_cpu)
  python3 - "$OUT" "$(( n1 - n0 ))" "$label" <<'PY'
import json, sys, datetime
out, nginx_ticks, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
wall, user, sys_, rss = open(f"{out}/time.txt").read().split()
stamps, urls = [], set()
dups = 0
with open(f"{out}/rustdoc.jsonl") as f:
    for line in f:
        page = json.loads(line)
        if page["url"] in urls:
            dups += 1
        urls.add(page["url"])
        stamps.append(datetime.datetime.fromisoformat(page["fetched_at"].replace("Z", "+00:00")).timestamp())
stamps.sort()
n = len(stamps)
tenth = max(n // 10, 2)
def rate(chunk):
    span = chunk[-1] - chunk[0]
    return (len(chunk) - 1) / span if span > 0 else float("inf")
first, last = rate(stamps[:tenth]), rate(stamps[-tenth:])
summaries = [json.loads(l) for l in open(f"{out}/crawl.log") if '"summary"' in l]
wall = float(wall)
if summaries:
    s = summaries[-1]
    print(f"pages {n} (duplicates {dups}, failed {s['failed']}, skipped {s['skipped']}, robots-blocked {s['robots_blocked']})")
else:
    print(f"pages {n} (duplicates {dups})")
print(f"wall {wall:.2f} s | {n / wall:.0f} pages/s | CPU {float(user) + float(sys_):.1f} s (user {user}, sys {sys_}) | nginx CPU {nginx_ticks / 100:.1f} s | peak RSS {int(rss) / 1024:.0f} MB")
print(f"rate first tenth {first:.0f} pages/s, last tenth {last:.0f} pages/s (last/first {last / first:.2f})")
with open(f"{out}/rates.txt", "a") as r:
    r.write(f"{label} {n / wall:.1f} {n}\n")
PY
}

rm -f "$OUT/rates.txt"
crawl sqlite
if [ -n "$REDIS" ]; then
  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server redis-tools; }
  RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$OUT/redis"
  redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$OUT/redis" --save "" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --daemonize no \
    >"$OUT/redis/log" 2>&1 &
  RPID=$!
  trap 'kill $RPID 2>/dev/null || true' EXIT
  for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  r0=$(awk '{print $14 + $15}' /proc/$RPID/stat)
  crawl redis --redis "redis://127.0.0.1:$RPORT" --crawl-id "rustdoc-$$"
  r1=$(awk '{print $14 + $15}' /proc/$RPID/stat)
  echo "redis-server CPU $(python3 -c "print(round(($r1 - $r0) / 100, 1))") s | $(redis-cli -p "$RPORT" info memory | grep -E '^used_memory_human:' | tr -d '\r')"
  python3 - "$OUT/rates.txt" <<'PY'
import sys
rates = dict((l.split()[0], (float(l.split()[1]), int(l.split()[2]))) for l in open(sys.argv[1]))
(s, sn), (r, rn) = rates["sqlite"], rates["redis"]
print(f"one worker on Redis / SQLite: {r / s:.2f}x pages/s ({r:.0f} vs {s:.0f}; pages {rn} vs {sn})")
PY
fi

if [ -n "${SPIDER_BIN:-}" ]; then
  echo "spider_cli ($SPIDER_BIN) on the same site, side by side"
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/spider-time.txt" "$SPIDER_BIN" --url "$SITE" crawl >/dev/null 2>&1 || true
  read -r w u s m < "$OUT/spider-time.txt"
  echo "spider: wall $w s | CPU $(python3 -c "print(round($u + $s, 1))") s | peak RSS $((m / 1024)) MB"
fi

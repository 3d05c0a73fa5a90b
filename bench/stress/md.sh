#!/usr/bin/env bash
# Stress step (4) of issue 6, first part: POST /md (HTTP mode) on a loopback page at 64
# concurrent clients with wrk, plus the server's RSS before and after (step 2: no growth).
# usage: bench/stress/md.sh [SECONDS] [CONNECTIONS]   (serves rustdoc on :8088)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-20}; CONN=${2:-64}; PORT=11299
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
bash ../shared/bench/serve-rustdoc.sh 8088 >/dev/null
cargo build --release --locked -p gannet >/dev/null 2>&1
data=$(mktemp -d)
target/release/gannet serve --listen 127.0.0.1:$PORT --allow-private --quiet \
  --data-dir "$data" --max-pages-in-flight 64 --rate-limit 0 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
sleep 1
cat > "$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"url": "http://127.0.0.1:8088/std/index.html"}'
LUA
rss() { awk '/VmRSS/ {print $2/1024 " MB"}' /proc/$pid/status; }
echo "server RSS before: $(rss)"
# The rate limit is per client IP: wrk is one client, so lift it for the run.
wrk -t2 -c"$CONN" -d"${SECS}s" --latency -s "$data/post.lua" http://127.0.0.1:$PORT/md \
  | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx|requests in"
echo "server RSS after: $(rss)"

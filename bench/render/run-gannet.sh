#!/usr/bin/env bash
# gannet's side of the render benchmark, with the same meter and pages as crawl4ai's
# (run-crawl4ai.sh): a 500-page rendered crawl, the warm single-page latency, and a soak of
# 2,000 renders. Writes target/bench-render/gannet-*.json; prints a summary.
# usage: bench/render/run-gannet.sh   (env: PORT=8088 CONC=5 SOAK=2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-8088}; CONC=${CONC:-5}; SOAK=${SOAK:-2000}
out=target/bench-render; mkdir -p "$out"
bash ../shared/bench/serve-rustdoc.sh "$PORT" >/dev/null
cargo build --release --locked -p gannet >/dev/null 2>&1
bin=target/release/gannet
python3 bench/render/urls.py --port "$PORT" --n 500 > "$out/urls.txt"
meter() { python3 bench/render/treemon.py --pss 1 "$@"; }

echo "== 500-page rendered crawl (render concurrency $CONC, everything loaded), load: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$out/g-crawl"; mkdir -p "$out/g-crawl"
meter --renders 500 --csv "$out/gannet-crawl.csv" --json "$out/gannet-crawl.json" -- \
  $bin crawl $(cat "$out/urls.txt") --out "$out/g-crawl/out.jsonl" --render always --block none \
  --max-depth 0 --no-sitemaps --delay 0 --per-host "$CONC" --concurrency "$CONC" \
  --render-concurrency "$CONC" --max-pages 500 -q 2> "$out/gannet-crawl.log" >/dev/null || true
tail -2 "$out/gannet-crawl.log"

echo "== same, crawl defaults for rendering (images, fonts, media blocked)"
rm -rf "$out/g-crawl-b"; mkdir -p "$out/g-crawl-b"
meter --renders 500 --json "$out/gannet-crawl-blocked.json" -- \
  $bin crawl $(cat "$out/urls.txt") --out "$out/g-crawl-b/out.jsonl" --render always \
  --max-depth 0 --no-sitemaps --delay 0 --per-host "$CONC" --concurrency "$CONC" \
  --render-concurrency "$CONC" --max-pages 500 -q 2> "$out/gannet-crawl-blocked.log" >/dev/null || true
tail -2 "$out/gannet-crawl-blocked.log"

echo "== gannet's own defaults (8 tabs; images, fonts, media blocked)"
rm -rf "$out/g-crawl8"; mkdir -p "$out/g-crawl8"
meter --renders 500 --json "$out/gannet-crawl-8.json" -- \
  $bin crawl $(cat "$out/urls.txt") --out "$out/g-crawl8/out.jsonl" --render always \
  --max-depth 0 --no-sitemaps --delay 0 --per-host 8 --max-pages 500 -q \
  2> "$out/gannet-crawl-8.log" >/dev/null || true
tail -2 "$out/gannet-crawl-8.log"

echo "== warm single page: std/index.html, 1 warm-up + 20 renders to Markdown"
url=http://127.0.0.1:$PORT/std/index.html
meter --json "$out/gannet-single.json" -- \
  $bin scrape --render always -f json --concurrency 1 $(for _ in $(seq 21); do echo "$url"; done) \
  > "$out/gannet-single.jsonl" 2>/dev/null
python3 - "$out/gannet-single.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][1:]
e = sorted(r["elapsed_ms"] for r in rows)
print(f"p50 {e[len(e)//2]} ms, p90 {e[int(len(e)*0.9)]} ms, min {e[0]}, max {e[-1]} (n={len(e)})")
PY

echo "== soak: $SOAK rendered pages (a crawl from std/index.html), load: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$out/g-soak"; mkdir -p "$out/g-soak"
meter --renders "$SOAK" --csv "$out/gannet-soak.csv" --json "$out/gannet-soak.json" -- \
  $bin crawl "$url" --out "$out/g-soak/out.jsonl" --render always --no-sitemaps --delay 0 \
  --per-host 8 --concurrency 8 --render-concurrency 8 --max-pages "$SOAK" -q \
  2> "$out/gannet-soak.log" >/dev/null || true
tail -2 "$out/gannet-soak.log"
echo "leftover chromium processes: $(pgrep -c -f 'gannet-chromium-' || true)"

#!/usr/bin/env bash
# Schema extraction speed, gannet vs crawl4ai's JsonCssExtractionStrategy, side by side:
# the 20-field schema bench_schema.json over every page of the wcxb-dev corpus, each tool
# in one process over the same decompressed HTML files. Also counts the pages where both
# give the same items.
# usage: bench/schema/run.sh [VENV]   (VENV from bench/schema/setup.sh)
# env:   CORPUS (default ../shared/corpus/wcxb-dev), WORK (default target/bench-schema)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-target/bench-venv-schema}
CORPUS=${CORPUS:-../shared/corpus/wcxb-dev}
WORK=${WORK:-target/bench-schema}
SCHEMA=bench/schema/bench_schema.json
[ -x "$VENV/bin/python" ] || bench/schema/setup.sh "$VENV"
mkdir -p "$WORK/html"
for f in "$CORPUS"/html/*.html.gz; do
  out="$WORK/html/$(basename "$f" .gz)"
  [ -s "$out" ] || gunzip -c "$f" > "$out"
done
ls "$WORK"/html/*.html > "$WORK/list"
cargo build --release -q -p gannet-schema --example schema_bench
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pages: $(wc -l < "$WORK/list"), $(du -sh "$WORK/html" | cut -f1) of HTML"
for round in 1 2; do
  target/release/examples/schema_bench "$SCHEMA" "$WORK/list" "$WORK/gannet.jsonl" > "$WORK/gannet-$round.json"
  "$VENV/bin/python" bench/schema/crawl4ai_bench.py "$SCHEMA" "$WORK/list" "$WORK/crawl4ai.jsonl" > "$WORK/crawl4ai-$round.json"
  echo "round $round: gannet $(cat "$WORK/gannet-$round.json")  crawl4ai $(cat "$WORK/crawl4ai-$round.json")"
done
python3 bench/schema/compare.py "$WORK"

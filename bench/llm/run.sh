#!/usr/bin/env bash
# LLM extraction, gannet vs crawl4ai's LLMExtractionStrategy, side by side: the same
# llama.cpp server (SmolLM2-135M-Instruct, scripts/llm-server), the same fixture pages
# (bench/llm/pages, 10 product pages in 4 layouts), the same instruction and JSON schema.
# Pages run one at a time per tool; the tools alternate, ROUNDS rounds each. crawl4ai runs
# twice: as its users call it (schema mode, the model answers in <blocks> tags) and with
# force_json_response (litellm asks for a JSON object). Figures: latency per page
# (p50/p95), prompt/completion tokens per page, exact-value accuracy.
# usage: bench/llm/run.sh [VENV]   (a venv with crawl4ai: bench/schema/setup.sh makes one;
#                                    scripts/py-tools' target/py-tools has it too)
# env:   ROUNDS (default 2), WORK (default target/bench-llm), PAGES (how many of the
#        fixture pages, default all 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${1:-target/py-tools}
ROUNDS=${ROUNDS:-2}
WORK=${WORK:-target/bench-llm}
PROMPT="Extract the product's name, price and manufacturer."
SCHEMA=bench/llm/schema.json
[ -x "$VENV/bin/python" ] || bench/schema/setup.sh "$VENV"
eval "$(scripts/llm-server)"
mkdir -p "$WORK"
cargo build -q -p gannet-llm --example llm_bench
BENCH=target/debug/examples/llm_bench
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$GANNET_LLAMA_SERVER" -m "$GANNET_LLM_GGUF" --host 127.0.0.1 --port "$port" -c 8192 -np 2 -t 2 --no-webui \
  > "$WORK/llama.log" 2>&1 &
llama=$!
trap 'kill $llama 2>/dev/null; wait $llama 2>/dev/null' EXIT
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.2; done
export GANNET_LLM_BASE_URL="http://127.0.0.1:$port/v1" GANNET_LLM_MODEL=SmolLM2-135M-Instruct GANNET_LLM_MAX_TOKENS=512
pages=(bench/llm/pages/p*.html)
pages=("${pages[@]:0:${PAGES:-${#pages[@]}}}")
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); llama.cpp: -np 2 -t 2; ${#pages[@]} pages"
# Warm-up (model pages in memory, first-request costs), not counted.
"$BENCH" "$SCHEMA" "$PROMPT" "${pages[0]}" > /dev/null
: > "$WORK/gannet.jsonl"; : > "$WORK/crawl4ai.jsonl"; : > "$WORK/crawl4ai-json.jsonl"
for round in $(seq "$ROUNDS"); do
  "$BENCH" "$SCHEMA" "$PROMPT" "${pages[@]}" >> "$WORK/gannet.jsonl"
  "$VENV/bin/python" bench/llm/crawl4ai_bench.py "$GANNET_LLM_BASE_URL" "$GANNET_LLM_MODEL" "$SCHEMA" "$PROMPT" "${pages[@]}" >> "$WORK/crawl4ai.jsonl"
  "$VENV/bin/python" bench/llm/crawl4ai_bench.py "$GANNET_LLM_BASE_URL" "$GANNET_LLM_MODEL" "$SCHEMA" "$PROMPT" --force-json "${pages[@]}" >> "$WORK/crawl4ai-json.jsonl"
  echo "round $round done"
done
python3 bench/llm/compare.py bench/llm/pages/truth.json gannet="$WORK/gannet.jsonl" \
  crawl4ai="$WORK/crawl4ai.jsonl" crawl4ai-force-json="$WORK/crawl4ai-json.jsonl"

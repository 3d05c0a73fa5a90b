#!/usr/bin/env bash
# Byte-identical output check for speed work: runs two `gannet` binaries over the three
# development sets (readability, wcxb-dev, trafilatura-eval) with
# `extract --format json -j 1` and diffs their output folders file by file.
# Usage: bench/same-output.sh BASE_BIN NEW_BIN
#   BASE_BIN  e.g. main's release build (copy it aside before rebuilding)
#   NEW_BIN   default: this checkout's target/release/gannet (not rebuilt here)
# GANNET_SHARED points at ../shared (the corpora); SAME_OUTPUT_INPUT=DIR keeps the
# decompressed pages in DIR between runs (else a temp dir). Exit 1 on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GANNET_SHARED:-../shared}
base=${1:?usage: bench/same-output.sh BASE_BIN [NEW_BIN]}
new=${2:-$(pwd)/target/release/gannet}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
input=${SAME_OUTPUT_INPUT:-$work/in}
decompress() { # set, then "name source.gz" pairs on stdin
  mkdir -p "$input/$1"
  while read -r name gz; do
    [ -s "$input/$1/$name.html" ] || gzip -dc "$gz" > "$input/$1/$name.html"
  done
}
for d in "$shared"/corpus/readability/*/; do
  echo "$(basename "$d") $d/source.html.gz"
done | decompress readability
for d in "$shared"/corpus/trafilatura-eval/*/; do
  echo "$(basename "$d") $d/source.html.gz"
done | decompress trafeval
for f in "$shared"/corpus/wcxb-dev/html/*.html.gz; do
  b=$(basename "$f")
  echo "${b%.html.gz} $f"
done | decompress wcxb
status=0
for set in readability wcxb trafeval; do
  ls "$input/$set"/*.html > "$work/$set.list"
  for which in base new; do
    bin=$base
    [ "$which" = new ] && bin=$new
    mkdir -p "$work/$which/$set"
    "$bin" extract --format json --out "$work/$which/$set" --files-from "$work/$set.list" \
      -j 1 2> "$work/$which-$set.err" || true
  done
  pages=$(wc -l < "$work/$set.list")
  files=$(find "$work/base/$set" -type f | wc -l)
  if diff -r "$work/base/$set" "$work/new/$set" > "$work/$set.diff" \
    && cmp -s "$work/base-$set.err" "$work/new-$set.err"; then
    echo "$set: $pages pages, $files output files, identical"
  else
    echo "$set: $pages pages, DIFFERENT:"
    diff -rq "$work/base/$set" "$work/new/$set" | head -20 || true
    diff "$work/base-$set.err" "$work/new-$set.err" | head -5 || true
    status=1
  fi
done
exit $status

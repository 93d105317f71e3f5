#!/usr/bin/env bash
# End-to-end throughput of `vnner annotate` on a generated corpus, with 1 and 2 threads, against
# the bare Aho-Corasick scan of the same text (examples/bare_scan.rs) as the ceiling.
#
#   scripts/throughput.sh                       # 200 MB corpus, seed 1, in /tmp
#   SIZE_MB=20 THREADS="1" scripts/throughput.sh
#   VNNER=/path/to/vnner BARE_SCAN=/path/to/bare_scan scripts/throughput.sh   # compare builds
#
# Prints one table row per run: threads, wall seconds, CPU seconds, MB/s (wall), MB/s per CPU
# second, documents/s and peak RSS. Start-up is timed on a one-document input. CPU figures are
# the ones to compare on a shared machine; wall figures are what a user sees.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-200}
SEED=${SEED:-1}
THREADS=${THREADS:-"1 2"}
CORPUS=${CORPUS:-/tmp/vnner-corpus-${SIZE_MB}mb-seed${SEED}.jsonl}
OUT=${OUT:-/tmp/vnner-throughput-out}
TARGET=${CARGO_TARGET_DIR:-target}

if [[ -z "${VNNER:-}" || -z "${BARE_SCAN:-}" ]]; then
    cargo build --release --quiet --bin vnner --example bare_scan
fi
VNNER=${VNNER:-$TARGET/release/vnner}
BARE_SCAN=${BARE_SCAN:-$TARGET/release/examples/bare_scan}

if [[ ! -s "$CORPUS" ]]; then
    python3 scripts/gen_corpus.py --size-mb "$SIZE_MB" --seed "$SEED" -o "$CORPUS"
fi
# Text bytes and documents, as vnner counts them (the JSON framing is not text).
read -r DOCS MB < <(python3 -c '
import json, sys
docs = size = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        docs += 1
        size += len(json.loads(line)["text"].encode())
print(docs, size / 1e6)' "$CORPUS")

echo "corpus: $CORPUS ($DOCS documents, $MB MB of text); $(nproc) cores; $(uname -m)"
echo
echo "| run | threads | wall s | CPU s | MB/s | MB/s per CPU s | docs/s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for threads in $THREADS; do
    log=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$log" "$VNNER" annotate "$CORPUS" -o "$OUT" -q --threads "$threads"
    read -r wall user sys rss <"$log"
    rm -f "$log"
    python3 -c '
import sys
threads, wall, user, sys_, rss, mb, docs = sys.argv[1:]
wall, cpu, mb, docs = float(wall), float(user) + float(sys_), float(mb), int(docs)
print(f"| annotate | {threads} | {wall:.1f} | {cpu:.1f} | {mb / wall:.1f} | {mb / cpu:.1f} | {docs / wall:.0f} | {int(rss) / 1024:.0f} |")
' "$threads" "$wall" "$user" "$sys" "$rss" "$MB" "$DOCS"
done

# The ceiling, timed like annotate (CPU seconds of the whole process): normalise + scan, and the
# scan alone as the difference with a normalise-only run.
cpu() { /usr/bin/time -f "%U %S" -o "$OUT.time" "$@" >/dev/null && awk '{ print $1 + $2 }' "$OUT.time"; }
mkdir -p "$(dirname "$OUT")"
both=$(cpu "$BARE_SCAN" "$CORPUS")
normalise=$(cpu "$BARE_SCAN" --normalise-only "$CORPUS")
rm -f "$OUT.time"
python3 -c '
import sys
both, normalise, mb = map(float, sys.argv[1:])
print(f"| normalise + bare scan | 1 | | {both:.1f} | | {mb / both:.1f} | | |")
print(f"| bare scan alone | 1 | | {both - normalise:.1f} | | {mb / max(both - normalise, 1e-9):.1f} | | |")
' "$both" "$normalise" "$MB"

# Start-up: a one-document run, best of five, in CPU and wall milliseconds.
echo '{"id": "startup", "text": "Chủ tịch UBND huyện."}' >"$OUT.one.jsonl"
best_cpu="" best_wall=""
for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    c=$(cpu "$VNNER" annotate "$OUT.one.jsonl" -o "$OUT.one" -q --threads 1)
    wall=$((($(date +%s%N) - start) / 1000000))
    c=$(awk -v c="$c" 'BEGIN { printf "%d", c * 1000 }')
    if [[ -z "$best_cpu" || $c -lt $best_cpu ]]; then best_cpu=$c; fi
    if [[ -z "$best_wall" || $wall -lt $best_wall ]]; then best_wall=$wall; fi
done
rm -rf "$OUT.one" "$OUT.one.jsonl" "$OUT.time"
echo
echo "start-up (one short document, best of 5): ${best_cpu} ms CPU, ${best_wall} ms wall"

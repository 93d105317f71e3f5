#!/usr/bin/env bash
# End-to-end throughput of `vnner annotate` on a generated corpus, with 1 and 2 threads, against
# the bare Aho-Corasick scan of the same text (examples/bare_scan.rs) as the ceiling.
#
#   scripts/throughput.sh                       # 200 MB corpus, seed 1, in /tmp
#   SIZE_MB=20 RUNS=5 scripts/throughput.sh     # 20 MB, best of 5 runs per row
#   VNNER="old/vnner target/release/vnner" BARE_SCAN="old/bare_scan target/release/examples/bare_scan" \
#       SIZE_MB=20 RUNS=5 scripts/throughput.sh # compare builds, their runs interleaved
#
# Prints one table row per build and thread count: wall seconds, CPU seconds, MB/s (wall), MB/s
# per CPU second, documents/s and peak RSS, from the run with the shortest wall time; then the
# bare scan and the start-up time of each build. Runs of different builds alternate, so a
# machine whose speed drifts from minute to minute (a shared VM) treats them alike.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-200}
SEED=${SEED:-1}
THREADS=${THREADS:-"1 2"}
RUNS=${RUNS:-1}
STARTUP_RUNS=${STARTUP_RUNS:-20}
CORPUS=${CORPUS:-/tmp/vnner-corpus-${SIZE_MB}mb-seed${SEED}.jsonl}
OUT=${OUT:-/tmp/vnner-throughput-out}
TARGET=${CARGO_TARGET_DIR:-target}

if [[ -z "${VNNER:-}" || -z "${BARE_SCAN:-}" ]]; then
    cargo build --release --quiet --bin vnner --example bare_scan
fi
read -r -a builds <<<"${VNNER:-$TARGET/release/vnner}"
read -r -a scans <<<"${BARE_SCAN:-$TARGET/release/examples/bare_scan}"
if [[ ${#builds[@]} -ne ${#scans[@]} ]]; then
    echo "throughput.sh: VNNER and BARE_SCAN must name as many builds" >&2
    exit 2
fi

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
echo "best of $RUNS run(s) per row; builds interleaved"
echo

mkdir -p "$(dirname "$OUT")"
results=$(mktemp)
log=$(mktemp)
trap 'rm -f "$results" "$log"' EXIT

# One line per run: build index, threads, wall, user, sys, max RSS (KB).
for _ in $(seq "$RUNS"); do
    for threads in $THREADS; do
        for i in "${!builds[@]}"; do
            /usr/bin/time -f "%e %U %S %M" -o "$log" \
                "${builds[$i]}" annotate "$CORPUS" -o "$OUT" -q --threads "$threads"
            echo "$i $threads $(cat "$log")" >>"$results"
        done
    done
done

echo "| build | threads | wall s | CPU s | MB/s | MB/s per CPU s | docs/s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
python3 - "$results" "$MB" "$DOCS" "${builds[@]}" <<'PY'
import sys
path, mb, docs, builds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
best = {}
for line in open(path):
    i, threads, wall, user, sys_, rss = line.split()
    key = (int(i), int(threads))
    run = (float(wall), float(user) + float(sys_), int(rss))
    if key not in best or run < best[key]:
        best[key] = run
for (i, threads), (wall, cpu, rss) in sorted(best.items()):
    print(f"| {builds[i]} | {threads} | {wall:.1f} | {cpu:.1f} | {mb / wall:.1f} | {mb / cpu:.1f} "
          f"| {docs / wall:.0f} | {rss / 1024:.0f} |")
PY

# The ceiling, timed like annotate (CPU seconds of the whole process): normalise + scan, and the
# scan alone as the difference with a normalise-only run.
cpu() { /usr/bin/time -f "%U %S" -o "$log" "$@" >/dev/null && awk '{ print $1 + $2 }' "$log"; }
echo
for i in "${!scans[@]}"; do
    both=$(cpu "${scans[$i]}" "$CORPUS")
    normalise=$(cpu "${scans[$i]}" --normalise-only "$CORPUS")
    python3 -c '
import sys
scan, both, normalise, mb = sys.argv[1], *map(float, sys.argv[2:])
print(f"{scan}: normalise + bare scan {mb / both:.1f} MB/s per CPU s, "
      f"bare scan alone {mb / max(both - normalise, 1e-9):.1f}")' "${scans[$i]}" "$both" "$normalise" "$MB"
done

# Start-up: a one-document run, STARTUP_RUNS times per build (interleaved), wall milliseconds
# timed from Python, so no helper process is counted.
echo '{"id": "startup", "text": "Chủ tịch UBND huyện."}' >"$OUT.one.jsonl"
echo
python3 - "$STARTUP_RUNS" "$OUT.one.jsonl" "$OUT.one" "${builds[@]}" <<'PY'
import statistics, subprocess, sys, time
runs, corpus, out, builds = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
times = {b: [] for b in builds}
for _ in range(runs):
    for b in builds:
        start = time.perf_counter()
        subprocess.run([b, "annotate", corpus, "-o", out, "-q", "--threads", "1"], check=True)
        times[b].append((time.perf_counter() - start) * 1000)
for b, t in times.items():
    print(f"{b}: start-up (one short document, {runs} runs) "
          f"min {min(t):.0f} ms, median {statistics.median(t):.0f} ms wall")
PY
rm -rf "$OUT.one" "$OUT.one.jsonl"

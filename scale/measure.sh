#!/usr/bin/env bash
# Measures the Spark overhead: the same JSON-lines corpus through scale/spark_annotate.py in
# local[2] mode vs one `vnner annotate --threads 2` process. Prints wall times and the ratio.
#
# Usage: bash scale/measure.sh [COPIES]     (COPIES of the 5 seed documents; 600 ≈ 30 MB)
# Needs: the release binary (VNNER=..., default target/release/vnner) and spark-submit from a
# pyspark installation (SPARK_SUBMIT=..., default: the venv tests/spark/run.sh makes).
set -euo pipefail
cd "$(dirname "$0")/.."

COPIES="${1:-600}"
VNNER="${VNNER:-${CARGO_TARGET_DIR:-target}/release/vnner}"
SPARK_SUBMIT="${SPARK_SUBMIT:-${TMPDIR:-/tmp}/vnner-spark-venv-3.5.9/bin/spark-submit}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vnner-measure-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export SPARK_LOCAL_IP=127.0.0.1
export PYSPARK_PYTHON="$(dirname "$SPARK_SUBMIT")/python"

python3 - "$COPIES" "$WORK/corpus.jsonl" <<'EOF'
import glob, json, os, sys
copies, out = int(sys.argv[1]), sys.argv[2]
seeds = [(os.path.basename(p)[:-4], open(p, encoding="utf-8").read()) for p in sorted(glob.glob("data/seeds/*.txt"))]
with open(out, "w", encoding="utf-8") as f:
    for c in range(copies):
        for doc_id, text in seeds:
            f.write(json.dumps({"id": f"{doc_id}-{c:06d}", "text": text}, ensure_ascii=False) + "\n")
EOF
SIZE_MB=$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1])/1e6:.1f}')" "$WORK/corpus.jsonl")
DOCS=$(wc -l < "$WORK/corpus.jsonl")
echo "corpus: $DOCS documents, $SIZE_MB MB; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# timed LOG COMMAND...: runs COMMAND with its output in LOG; prints its wall-clock seconds. (CPU
# time is not reported: getrusage misses the vnner processes under Spark's Python daemon.)
timed() {
    python3 - "$@" <<'PY'
import subprocess, sys, time
start = time.time()
with open(sys.argv[1], "w") as log:
    code = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
wall = time.time() - start
print(f"{wall:.1f}" if code == 0 else "failed")
PY
}

read -r SINGLE_WALL < <(timed "$WORK/single.log" "$VNNER" annotate "$WORK/corpus.jsonl" -o "$WORK/single" --threads 2 --quiet)
echo "single process: vnner annotate corpus.jsonl -o out --threads 2: ${SINGLE_WALL} s"

spark_run() {
    local label="$1"; shift
    local wall
    read -r wall < <(timed "$WORK/spark.log" "$SPARK_SUBMIT" --master 'local[2]' --driver-memory 4g --conf spark.ui.enabled=false \
        --conf spark.ui.showConsoleProgress=false \
        scale/spark_annotate.py "$1" "$WORK/spark" --vnner "$VNNER" --overwrite "${@:2}")
    if [ "$wall" = failed ]; then tail -50 "$WORK/spark.log"; exit 1; fi
    echo "spark local[2] $label: ${wall} s; ratio to one process $(python3 -c "print(f'{$wall / $SINGLE_WALL:.2f}')")"
    grep -o 'spark_annotate: .*' "$WORK/spark.log" || true
}

: > "$WORK/empty.jsonl"
spark_run "over an empty corpus (fixed cost)" "$WORK/empty.jsonl"
spark_run "(2 partitions)" "$WORK/corpus.jsonl"
spark_run "(8 partitions)" "$WORK/corpus.jsonl" --partitions 8
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

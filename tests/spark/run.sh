#!/usr/bin/env bash
# Spark integration test: installs pyspark (from PyPI, into a venv under the temp dir, reused while
# the version matches), then runs tests/spark/test_spark_annotate.py, which compares
# scale/spark_annotate.py in local[2] mode with a single-process vnner run, record for record.
#
# Needs the release binary: `cargo build --release` first (or VNNER=/path/to/vnner).
# Usage: bash tests/spark/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PYSPARK_VERSION="${PYSPARK_VERSION:-3.5.9}"   # Spark 3.5 runs on Java 8/11/17
VENV="${VNNER_SPARK_VENV:-${TMPDIR:-/tmp}/vnner-spark-venv-${PYSPARK_VERSION}}"
VNNER="${VNNER:-${CARGO_TARGET_DIR:-target}/release/vnner}"

if [ ! -x "$VNNER" ]; then
    echo "tests/spark: no vnner binary at $VNNER (run cargo build --release first)" >&2
    exit 1
fi

if ! command -v java >/dev/null 2>&1; then
    echo "tests/spark: no java; installing OpenJDK 17 (Debian package)" >&2
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    else
        echo "tests/spark: install Java 17 (e.g. apt-get install openjdk-17-jre-headless)" >&2
        exit 1
    fi
fi
java -version 2>&1 | head -1

if ! "$VENV/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
    echo "tests/spark: installing pyspark==$PYSPARK_VERSION into $VENV" >&2
    started=$(date +%s)
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pyspark==$PYSPARK_VERSION"
    echo "tests/spark: pyspark installed in $(( $(date +%s) - started )) s" >&2
fi

export VNNER="$(cd "$(dirname "$VNNER")" && pwd)/$(basename "$VNNER")"
export SPARK_SUBMIT="$VENV/bin/spark-submit"
export PYSPARK_PYTHON="$VENV/bin/python"
export PYSPARK_DRIVER_PYTHON="$VENV/bin/python"
export SPARK_LOCAL_IP=127.0.0.1
unset SPARK_HOME PYTHONPATH
"$VENV/bin/python" tests/spark/test_spark_annotate.py

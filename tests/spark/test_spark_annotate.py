#!/usr/bin/env python3
"""Integration test: scale/spark_annotate.py in Spark local[2] equals a single-process vnner run.

Run by tests/spark/run.sh (which installs pyspark and finds the release binary); it needs:
    VNNER          the vnner release binary
    SPARK_SUBMIT   spark-submit from the pyspark installation
and pyspark importable by this interpreter. Every Spark run is `spark-submit --master local[2]`.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEEDS = os.path.join(REPO, "data", "seeds")
JOB = os.path.join(REPO, "scale", "spark_annotate.py")
VNNER = os.environ.get("VNNER", os.path.join(REPO, "target", "release", "vnner"))
SPARK_SUBMIT = os.environ.get("SPARK_SUBMIT", "spark-submit")
# A Spark run that takes longer than this is taken for a deadlock.
SPARK_TIMEOUT = int(os.environ.get("SPARK_TEST_TIMEOUT", "600"))

MENTION_COLUMNS = ["doc_id", "start", "end", "type", "text", "canonical", "detail", "source"]
RELATION_COLUMNS = ["doc_id", "person", "role", "title", "body", "place", "person_start", "role_start"]
INTS = {"start", "end", "person_start", "role_start"}


def seeds():
    """(id, text) of the sample corpus, ids as `vnner annotate data/seeds` names them."""
    out = []
    for path in sorted(glob.glob(os.path.join(SEEDS, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            out.append((os.path.basename(path)[:-4], f.read()))
    return out


def vnner_reference(inputs, workdir):
    """Mentions and relations of a single-process `vnner annotate INPUTS -o DIR --format jsonl` run."""
    out = os.path.join(workdir, "single")
    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run([VNNER, "annotate", *inputs, "-o", out, "--format", "jsonl", "--quiet"],
                            capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise AssertionError(f"vnner failed ({result.returncode}): {result.stderr}")

    def load(name, columns):
        with open(os.path.join(out, f"{name}.jsonl"), encoding="utf-8") as f:
            return sorted(tuple(json.loads(line)[c] for c in columns) for line in f if line.strip())

    return {"mentions": load("mentions", MENTION_COLUMNS), "relations": load("relations", RELATION_COLUMNS),
            "errors": load("errors", ["source", "line", "reason"])}


def spark_job(inputs, output, *extra):
    command = [SPARK_SUBMIT, "--master", "local[2]", "--driver-memory", "2g",
               "--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false",
               "--conf", "spark.sql.shuffle.partitions=4",
               JOB, inputs, output, "--vnner", VNNER, "--overwrite", *extra]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, timeout=SPARK_TIMEOUT)
    if result.returncode != 0:
        raise AssertionError(f"spark job failed ({result.returncode}):\n{result.stdout[-6000:]}\n"
                             f"{result.stderr[-3000:]}")
    # spark-submit passes the Python driver's standard error to its standard output.
    summary = [line for line in (result.stdout + result.stderr).splitlines() if "spark_annotate:" in line]
    print(f"    {' '.join(summary)} [{time.time() - started:.1f} s wall]", file=sys.stderr)
    return result


class SparkTables:
    """Reads the job's Parquet output with one local Spark session shared by the tests."""

    spark = None

    @classmethod
    def session(cls):
        if cls.spark is None:
            from pyspark.sql import SparkSession
            cls.spark = (SparkSession.builder.master("local[1]").appName("vnner-spark-test")
                         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                         .getOrCreate())
            cls.spark.sparkContext.setLogLevel("ERROR")
        return cls.spark

    @classmethod
    def rows(cls, path, columns):
        df = cls.session().read.parquet(path)
        return sorted(tuple(row[c] for c in columns) for row in df.select(*columns).collect())

    @classmethod
    def stop(cls):
        if cls.spark is not None:
            cls.spark.stop()
            cls.spark = None


def csv_rows(folder, columns):
    rows = []
    parts = sorted(glob.glob(os.path.join(folder, "part-*.csv")))
    for part in parts:
        with open(part, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            assert reader.fieldnames == columns, f"{part}: header {reader.fieldnames}"
            for row in reader:
                rows.append(tuple(int(row[c]) if c in INTS else row[c] for c in columns))
    return sorted(rows), parts


class SparkAnnotateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="vnner-spark-test-")
        assert os.access(VNNER, os.X_OK), f"no vnner binary at {VNNER} (cargo build --release)"
        cls.seed_reference = vnner_reference([SEEDS], os.path.join(cls.work, "seeds"))

    @classmethod
    def tearDownClass(cls):
        SparkTables.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def assert_same(self, out, reference, label):
        mentions = SparkTables.rows(os.path.join(out, "mentions"), MENTION_COLUMNS)
        relations = SparkTables.rows(os.path.join(out, "relations"), RELATION_COLUMNS)
        self.assertGreater(len(reference["mentions"]), 0)
        self.assertGreater(len(reference["relations"]), 0)
        self.assertEqual(len(mentions), len(reference["mentions"]), f"{label}: mention count")
        self.assertEqual(mentions, reference["mentions"], f"{label}: mentions differ")
        self.assertEqual(len(relations), len(reference["relations"]), f"{label}: relation count")
        self.assertEqual(relations, reference["relations"], f"{label}: relations differ")
        print(f"    {label}: {len(mentions)} mentions and {len(relations)} relations equal the "
              f"single-process run record for record", file=sys.stderr)
        return mentions, relations

    def test_text_folder_equals_single_process(self):
        out = os.path.join(self.work, "out-text")
        spark_job(SEEDS, out, "--csv", "--max-rows-per-file", "40")
        mentions, relations = self.assert_same(out, self.seed_reference, "text folder (data/seeds)")
        self.assertEqual(SparkTables.rows(os.path.join(out, "errors"), ["source", "line", "reason"]), [])
        # The CSV export has the same rows, with a header in every part, no part over the limit.
        csv_mentions, parts = csv_rows(os.path.join(out, "csv", "mentions"), MENTION_COLUMNS)
        self.assertEqual(csv_mentions, mentions)
        self.assertGreaterEqual(len(parts), len(mentions) // 40)
        for part in parts:
            with open(part, encoding="utf-8", newline="") as f:
                self.assertLessEqual(sum(1 for _ in csv.reader(f)) - 1, 40, part)
        csv_relations, _ = csv_rows(os.path.join(out, "csv", "relations"), RELATION_COLUMNS)
        self.assertEqual(csv_relations, relations)

    def test_jsonl_equals_single_process_and_reports_bad_lines(self):
        corpus = os.path.join(self.work, "corpus.jsonl")
        with open(corpus, "w", encoding="utf-8") as f:
            for i, (doc_id, text) in enumerate(seeds()):
                f.write(json.dumps({"id": doc_id, "text": text, "url": f"https://example.invalid/{i}"},
                                   ensure_ascii=False) + "\n")
                if i == 1:
                    f.write('{"id": "broken", "text": \n')  # not JSON
                    f.write("\n")  # blank: skipped by both
                    f.write('{"id": "no-text"}\n')  # no text field
        reference = vnner_reference([corpus], os.path.join(self.work, "jsonl"))
        self.assertEqual(reference["mentions"], self.seed_reference["mentions"])
        self.assertEqual(len(reference["errors"]), 2)
        out = os.path.join(self.work, "out-jsonl")
        spark_job(corpus, out)
        self.assert_same(out, reference, "JSON lines with two bad lines")
        errors = SparkTables.rows(os.path.join(out, "errors"), ["source", "line", "reason"])
        self.assertEqual(len(errors), 2, errors)
        self.assertTrue(any("no \"text\" field" in e[2] for e in errors), errors)
        self.assertTrue(any("not a JSON object" in e[2] for e in errors), errors)

    def test_parquet_equals_single_process(self):
        corpus = os.path.join(self.work, "corpus.parquet")
        spark = SparkTables.session()
        spark.createDataFrame(seeds(), "id string, text string").repartition(3).write.mode("overwrite").parquet(corpus)
        out = os.path.join(self.work, "out-parquet")
        spark_job(corpus, out)
        self.assert_same(out, self.seed_reference, "Parquet id,text")

    def test_plain_rdd_pipe_one_big_partition(self):
        # Every paragraph of the seeds a document, copied: ~11,000 small documents through ONE vnner
        # process with PySpark's plain RDD.pipe. vnner holds at most ~7 batches of 512 documents
        # in flight and stops reading stdin while its stdout is full, so a consumer that wrote all
        # the input before reading the output would hang here (SPARK_TEST_TIMEOUT ends it).
        corpus = os.path.join(self.work, "big.jsonl")
        copies = int(os.environ.get("SPARK_TEST_COPIES", "100"))
        paragraphs = [(f"{doc_id}-p{n}", line) for doc_id, text in seeds()
                      for n, line in enumerate(text.splitlines()) if line.strip()]
        with open(corpus, "w", encoding="utf-8") as f:
            for c in range(copies):
                for doc_id, text in paragraphs:
                    f.write(json.dumps({"id": f"{doc_id}-{c}", "text": text}, ensure_ascii=False) + "\n")
        documents = copies * len(paragraphs)
        self.assertGreater(documents, 8 * 512)
        reference = vnner_reference([corpus], os.path.join(self.work, "big"))
        out = os.path.join(self.work, "out-big")
        spark_job(corpus, out, "--pipe", "rdd", "--partitions", "1")
        self.assert_same(out, reference, f"RDD.pipe, one partition of {documents} documents "
                         f"({os.path.getsize(corpus) / 1e6:.1f} MB)")

if __name__ == "__main__":
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stderr)
    result = runner.run(unittest.defaultTestLoader.loadTestsFromTestCase(SparkAnnotateTest))
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"spark: {'PASS' if failed == 0 and passed > 0 else 'FAIL'}: scale/spark_annotate.py in local[2] "
          "vs single-process vnner")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)

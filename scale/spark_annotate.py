#!/usr/bin/env python3
"""Annotate a corpus bigger than one machine with vnner on Apache Spark.

The corpus (JSON lines, Parquet with columns id,text, or a folder of .txt files) is read from any
path Spark reads (local, HDFS, S3, ABFS, ...). The vnner binary is shipped to the executors
(SparkContext.addFile, or spark-submit --files), every partition is piped through one
`vnner annotate - -o - --quiet --threads 1` process (the pipeline loads once per partition), and
the results are written as Parquet -- and CSV with a header on request -- with at most
--max-rows-per-file rows in each file, so every CSV part opens in a spreadsheet.

Output folder layout:
    OUTPUT/mentions/      doc_id,start,end,type,text,canonical,detail,source
    OUTPUT/relations/     doc_id,person,role,title,body,place,person_start,role_start
    OUTPUT/errors/        source,line,reason   (documents that could not be read or annotated)
    OUTPUT/csv/{mentions,relations,errors}/    the same as CSV, with --csv

Examples:
    spark-submit --master 'local[2]' scale/spark_annotate.py data/seeds out-spark \\
        --vnner target/release/vnner --csv
    spark-submit --master yarn --deploy-mode cluster --files target/release/vnner \\
        scale/spark_annotate.py hdfs:///corpus/news.jsonl hdfs:///out/news --shipped vnner
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import tempfile
import threading
import time

# vnner exits 0 when every document was annotated, 1 when some and 2 when all of them came back as
# records with "error" (2 also means nothing could run, but then documents are missing, which is
# checked first); anything else means the process failed.
VNNER_OK_CODES = (0, 1, 2)

MENTION_FIELDS = ["start", "end", "type", "text", "canonical", "detail", "source"]
RELATION_FIELDS = ["person", "role", "title", "body", "place", "person_start", "role_start"]
INT_FIELDS = {"start", "end", "person_start", "role_start"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="spark_annotate.py",
        description=__doc__.split("\n\n")[0],
        epilog="Run it with spark-submit (see the README section "
        "'Bigger than one machine').",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", help="corpus: a .jsonl file or folder of them, a Parquet file or folder "
                        "(columns id,text), or a folder of .txt files (read recursively); any Spark path "
                        "(file:, hdfs:, s3a:, ...). Globs work for jsonl and parquet.")
    parser.add_argument("output", help="output folder (any Spark path)")
    parser.add_argument("--input-format", choices=["auto", "jsonl", "parquet", "text"], default="auto",
                        help="how to read INPUT; auto: by extension (.jsonl/.ndjson/.json, .parquet), "
                        "else a folder of .txt files (default: %(default)s)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--vnner", metavar="PATH",
                       help="the vnner binary on the driver; shipped to the executors with "
                       "SparkContext.addFile (default: $VNNER, else vnner on PATH, else target/release/vnner)")
    where.add_argument("--shipped", metavar="NAME",
                       help="the binary was shipped already (spark-submit --files /path/vnner): its file name")
    where.add_argument("--executor-vnner", metavar="PATH",
                       help="the binary is installed at PATH on every executor node (e.g. by an init script)")
    parser.add_argument("--vnner-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for `vnner annotate` (repeatable), e.g. --vnner-arg=--gazetteer "
                        "--vnner-arg=extra.tsv (the files must exist on the executors)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per vnner process; keep 1 and let Spark run one task per core "
                        "(default: %(default)s)")
    parser.add_argument("--encoding", choices=["utf-8", "windows-1258"], default="utf-8",
                        help="encoding of .txt files (default: %(default)s)")
    parser.add_argument("--partitions", type=int, default=0,
                        help="repartition the documents into N partitions (one vnner process each); "
                        "0: keep the input's partitions, but at least the default parallelism "
                        "(default: %(default)s)")
    parser.add_argument("--csv", action="store_true", help="also write CSV files with a header under OUTPUT/csv/")
    parser.add_argument("--max-rows-per-file", type=int, default=500_000,
                        help="at most this many rows in each output file; Excel opens at most 1,048,576 "
                        "(default: %(default)s)")
    parser.add_argument("--output-partitions", type=int, default=0,
                        help="write each table from N partitions (fewer, larger files); 0: as computed "
                        "(default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    parser.add_argument("--pipe", choices=["checked", "rdd"], default="checked",
                        help="checked: a subprocess per partition that checks vnner's exit code and that "
                        "every document came back, in order (default); rdd: plain RDD.pipe (the binary "
                        "path is resolved on the driver, so only for local mode or identical paths)")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- reading


def decode_txt(data: bytes, encoding: str):
    """Decodes a .txt file as `vnner annotate folder/` does; returns (text, None) or (None, reason)."""
    if b"\x00" in data[:8192]:
        return None, "binary file (NUL bytes), not text"
    if encoding == "windows-1258":
        if data.startswith(b"\xef\xbb\xbf"):  # encoding_rs sniffs a UTF-8 byte-order mark
            return data[3:].decode("utf-8", errors="replace"), None
        codecs_register()  # in the executor's Python worker
        return data.decode("cp1258", errors="vnner-latin1"), None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, (f"invalid UTF-8 at byte {e.start} "
                      "(use --encoding windows-1258 for old Vietnamese files)")


def _latin1_fallback(error):
    # The WHATWG windows-1258 table (encoding_rs) maps the bytes cp1258 leaves undefined to U+0080..U+009F.
    return "".join(chr(b) for b in error.object[error.start:error.end]), error.end


def text_id(file_uri: str, root_uri: str) -> str:
    """`root/a/b.txt` → `a/b`, as vnner names documents found in a folder."""
    root = root_uri.rstrip("/")
    if file_uri.startswith(root + "/"):
        relative = file_uri[len(root) + 1:]
    else:  # INPUT is the file itself
        relative = file_uri.rsplit("/", 1)[-1]
    return relative[:-4] if relative.endswith(".txt") else relative


def qualified(spark, path: str) -> str:
    """The fully qualified URI Hadoop uses for `path` (file:/x/y, hdfs://nn/x/y, ...)."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.makeQualified(hadoop_path).toString()


def is_dir(spark, path: str) -> bool:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.exists(hadoop_path) and fs.getFileStatus(hadoop_path).isDirectory()


def detect_format(spark, path: str) -> str:
    lower = path.lower().rstrip("/")
    if lower.endswith((".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")):
        return "jsonl"
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith(".txt"):
        return "text"
    if is_dir(spark, path):
        jvm = spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
        fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        names = [s.getPath().getName().lower() for s in fs.listStatus(hadoop_path)]
        if any(n.endswith(".parquet") for n in names):
            return "parquet"
        if any(n.endswith((".jsonl", ".ndjson", ".json")) for n in names) and not any(n.endswith(".txt") for n in names):
            return "jsonl"
    return "text"


def read_documents(spark, args):
    """A DataFrame (id, text, source, reason): reason is set, and text null, for a record that
    cannot be annotated (source names the file or document)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    fmt = args.input_format if args.input_format != "auto" else detect_format(spark, args.input)
    sc = spark.sparkContext
    columns = "id string, text string, source string, reason string"
    if fmt == "text":
        sc._jsc.hadoopConfiguration().set("mapreduce.input.fileinputformat.input.dir.recursive", "true")
        root = qualified(spark, args.input)
        encoding = args.encoding

        def from_file(pair):
            uri, data = pair
            text, reason = decode_txt(data, encoding)
            return (text_id(uri, root), text, uri, reason)

        files = sc.binaryFiles(args.input, minPartitions=max(sc.defaultParallelism, 1))
        rdd = files.filter(lambda pair: pair[0].lower().endswith(".txt")).map(from_file)
        return fmt, spark.createDataFrame(rdd, columns)
    if fmt == "jsonl":
        schema = StructType([
            StructField("id", StringType()),
            StructField("text", StringType()),
            StructField("_corrupt_record", StringType()),
        ])
        df = (spark.read.schema(schema)
              .option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", "_corrupt_record")
              .json(args.input))
        corrupt = F.col("_corrupt_record")
    elif fmt == "parquet":
        df = (spark.read.parquet(args.input)
              .select(F.col("id").cast("string").alias("id"), F.col("text").cast("string").alias("text"))
              .withColumn("_corrupt_record", F.lit(None).cast("string")))
        corrupt = F.col("_corrupt_record")
    else:
        raise SystemExit(f"spark_annotate: unknown input format {fmt}")
    source = F.input_file_name()
    # vnner names a line without an id file:LINE; Spark splits files without counting lines, so such
    # a document is named by its file and the SHA-1 of its text instead (stable across runs).
    doc_id = F.coalesce(F.col("id"), F.concat(source, F.lit("#"), F.substring(F.sha1(F.col("text")), 1, 16)))
    reason = (F.when(corrupt.isNotNull(), F.concat(F.lit('not a JSON object with "id" and "text": '),
                                                   F.substring(F.trim(corrupt), 1, 120)))
              .when(F.col("text").isNull(), F.lit('no "text" field')))
    return fmt, df.select(
        F.when(corrupt.isNull(), doc_id).alias("id"),
        F.when(corrupt.isNull(), F.col("text")).alias("text"),
        F.when(corrupt.isNull() & F.col("id").isNotNull(), F.col("id")).otherwise(source).alias("source"),
        reason.alias("reason"),
    )


# ----------------------------------------------------------------------------- piping


def vnner_command(binary: str, args) -> list:
    return [binary, "annotate", "-", "-o", "-", "--quiet", "--threads", str(args.threads), *args.vnner_arg]


def resolve_on_executor(spec) -> str:
    kind, value = spec
    if kind == "installed":
        return value
    from pyspark import SparkFiles
    path = SparkFiles.get(value)
    if not os.access(path, os.X_OK):
        try:
            os.chmod(path, 0o755)
        except OSError:
            pass
    return path


def annotate_partition(spec, command_tail):
    """mapPartitions function: (id, text) lines through one vnner process, checked record for record."""

    def run(documents):
        binary = resolve_on_executor(spec)
        decoder = json.JSONDecoder()  # made here: a decoder does not pickle
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen([binary, *command_tail], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=stderr)
        sent = collections.deque()
        failure = []

        def feed():
            # A thread of its own: vnner stops reading stdin while its stdout is full, so writing all
            # the input before reading the output would deadlock on a large partition.
            try:
                for doc_id, text in documents:
                    sent.append(doc_id)
                    line = json.dumps({"id": doc_id, "text": text}, ensure_ascii=False)
                    process.stdin.write(line.encode("utf-8") + b"\n")
            except BrokenPipeError:
                pass
            except BaseException as e:  # an input error: surface it in the task
                failure.append(e)
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()

        def fail(message):
            process.kill()
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode("utf-8", errors="replace")
            raise RuntimeError(f"vnner: {message}; stderr: {tail}")

        count = 0
        for raw in process.stdout:
            line = raw.decode("utf-8").rstrip("\n")
            expected = sent.popleft() if sent else None
            if line.startswith('{"id":'):
                got, _ = decoder.raw_decode(line, 6)  # the id only: the rest is parsed by Spark
            else:
                try:
                    got = json.loads(line).get("id")
                except ValueError:
                    fail(f"record {count + 1} is not a vnner record: {line[:200]!r}")
            if '"error":' in line:
                # vnner names a bad stdin line "-:N"; keep the document's own id. (Inside a JSON
                # string the quotes are escaped, so '"error":' can only be the key.)
                record = json.loads(line)
                record["id"] = expected if expected is not None else got
                line = json.dumps(record, ensure_ascii=False)
            elif got != expected:
                fail(f"record {count + 1} is for {got!r}, expected {expected!r}")
            count += 1
            yield line
        writer.join()
        code = process.wait()
        if failure:
            raise failure[0]
        if sent:
            fail(f"{len(sent)} documents did not come back (exit code {code})")
        # Every document came back, in order. vnner exits 1 when some were errors and 2 when all
        # of them were (e.g. a partition of documents over --max-doc-bytes): the errors are in the
        # records, so those codes are fine here; any other code is a failure of the process.
        if code not in VNNER_OK_CODES:
            fail(f"exited with code {code} after {count} records")
        stderr.close()

    return run


def annotate(sc, documents, args, spec):
    """An RDD of vnner's output lines, JSON records {"id", "mentions", "relations", "error"?}."""
    if args.pipe == "checked":
        tail = vnner_command("vnner", args)[1:]
        return documents.mapPartitions(annotate_partition(spec, tail))
    # Plain RDD.pipe: each element is written as one line to the process, its output lines are read
    # back by a separate thread's counterpart (PySpark writes from a thread of its own).
    binary = resolve_on_executor(spec)
    command = " ".join(_shell_quote(part) for part in vnner_command(binary, args))
    lines = documents.map(lambda d: json.dumps({"id": d[0], "text": d[1]}, ensure_ascii=False))
    return lines.pipe(command)


def _shell_quote(value: str) -> str:
    import shlex
    return shlex.quote(value)


# ----------------------------------------------------------------------------- writing


def write_table(df, path, args, fmt, sort_cols):
    if args.output_partitions > 0:
        df = df.repartition(args.output_partitions)
    df = df.sortWithinPartitions(*sort_cols)
    writer = df.write.mode("overwrite" if args.overwrite else "errorifexists")
    writer = writer.option("maxRecordsPerFile", args.max_rows_per_file)
    if fmt == "csv":
        writer.option("header", "true").option("encoding", "UTF-8").option("escape", '"').csv(path)
    else:
        writer.parquet(path)


def main(argv=None):
    args = parse_args(argv)
    if args.threads < 1:
        raise SystemExit("spark_annotate: --threads must be at least 1")
    if args.max_rows_per_file < 1:
        raise SystemExit("spark_annotate: --max-rows-per-file must be at least 1")

    from pyspark import StorageLevel
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import (ArrayType, LongType, StringType, StructField, StructType)

    started = time.time()
    spark = SparkSession.builder.appName("vnner-annotate").getOrCreate()
    sc = spark.sparkContext

    if args.executor_vnner:
        spec = ("installed", args.executor_vnner)
    elif args.shipped:
        spec = ("shipped", args.shipped)
    else:
        local = args.vnner or os.environ.get("VNNER") or _which("vnner") or "target/release/vnner"
        if not os.path.isfile(local):
            raise SystemExit(f"spark_annotate: no vnner binary at {local} (build it with "
                             "`cargo build --release`, or give --vnner PATH)")
        sc.addFile(os.path.abspath(local))
        spec = ("shipped", os.path.basename(local))

    fmt, items = read_documents(spark, args)
    # Row-level round-robin in the JVM (an RDD repartition in PySpark moves whole pickled batches,
    # which leaves small inputs in one partition).
    if args.partitions > 0:
        items = items.repartition(args.partitions)
    elif items.rdd.getNumPartitions() < sc.defaultParallelism:
        items = items.repartition(sc.defaultParallelism)

    read_errors = items.where(F.col("reason").isNotNull()).select(
        "source", F.lit(None).cast("long").alias("line"), "reason")
    documents = items.where(F.col("reason").isNull()).select("id", "text").rdd.map(tuple)
    lines = annotate(sc, documents, args, spec)

    mention_type = StructType([StructField(f, LongType() if f in INT_FIELDS else StringType()) for f in MENTION_FIELDS])
    relation_type = StructType([StructField(f, LongType() if f in INT_FIELDS else StringType()) for f in RELATION_FIELDS])
    record_type = StructType([
        StructField("id", StringType()),
        StructField("mentions", ArrayType(mention_type)),
        StructField("relations", ArrayType(relation_type)),
        StructField("error", StringType()),
    ])
    # vnner's JSON is parsed in the JVM (from_json), not in Python. Cached: the three tables below
    # are cut from one pass of vnner over the corpus.
    raw = spark.createDataFrame(lines.map(lambda line: (line,)), "json string")
    annotated = (raw.select(F.from_json("json", record_type).alias("r"))
                 .select(F.col("r.id").alias("doc_id"), "r.mentions", "r.relations", "r.error")
                 .persist(StorageLevel.MEMORY_AND_DISK))

    mentions = annotated.select("doc_id", F.explode("mentions").alias("m")).select("doc_id", "m.*")
    relations = annotated.select("doc_id", F.explode("relations").alias("r")).select("doc_id", "r.*")
    errors = annotated.where(F.col("error").isNotNull()).select(
        F.col("doc_id").alias("source"), F.lit(None).cast("long").alias("line"), F.col("error").alias("reason"))
    errors = errors.unionByName(read_errors)

    out = args.output.rstrip("/")
    tables = [("mentions", mentions, ["doc_id", "start", "end"]),
              ("relations", relations, ["doc_id", "person_start", "role_start"]),
              ("errors", errors, ["source"])]
    for name, df, order in tables:
        write_table(df, f"{out}/{name}", args, "parquet", order)
    if args.csv:
        for name, df, order in tables:
            write_table(df, f"{out}/csv/{name}", args, "csv", order)

    counts = annotated.select(
        F.count(F.lit(1)).alias("records"),
        F.sum(F.when(F.col("error").isNull(), 1).otherwise(0)).alias("documents"),
        F.sum(F.size("mentions")).alias("mentions"),
        F.sum(F.size("relations")).alias("relations"),
    ).first()
    read_error_count = read_errors.count()
    print(f"spark_annotate: {counts['documents'] or 0} documents, {counts['mentions'] or 0} mentions, "
          f"{counts['relations'] or 0} relations, {(counts['records'] or 0) - (counts['documents'] or 0) + read_error_count} "
          f"errors ({fmt} input, {documents.getNumPartitions()} partitions) -> {out} "
          f"in {time.time() - started:.1f} s", flush=True)
    annotated.unpersist()
    spark.stop()


def codecs_register():
    import codecs
    try:
        codecs.lookup_error("vnner-latin1")
    except LookupError:
        codecs.register_error("vnner-latin1", _latin1_fallback)


def _which(name):
    from shutil import which
    return which(name)


if __name__ == "__main__":
    main()

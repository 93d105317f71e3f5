//! `vnner annotate`: a corpus in, mentions / relations / errors out.
//!
//! Exit codes: 0 when every input was read, 1 when some failed (each named on standard error
//! and in `errors.csv`), 2 when nothing could run (bad gazetteer or rule, unwritable output, no
//! readable input), 130 when stopped by Ctrl-C (no output file is then left behind). Streaming
//! (`-o -`) exits 0 once every input line has its record, errors included.

use std::path::PathBuf;

use clap::ValueEnum;

use super::exit;
use crate::io::input::{
    Encoding, ReadOptions, Reader, DEFAULT_MAX_DOC_BYTES, MAX_DOC_BYTES_CEILING,
};
use crate::io::output::{self, FolderSink, Format, Sink, StreamSink};
use crate::pipeline::{Pipeline, Resources};
use crate::run::{self, Options};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "windows-1258")]
    Windows1258,
}

/// Annotate a corpus: people, roles, bodies and places.
///
/// Examples:
///   vnner annotate data/ -o out
///   vnner annotate news.jsonl more.csv -o out --excel --threads 2
///   cat news.jsonl | vnner annotate - -o - --format jsonl
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Files or folders, mixed: .txt (one document; id = path under the folder without .txt),
    /// .jsonl ({"id","text"} a line), .csv (columns id,text), or - for JSON lines on stdin.
    /// Folders are walked recursively. Example: `data/ extra.jsonl`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Output folder for mentions, relations and errors files (created if missing), or - to
    /// write one JSON line per document to stdout (a bad input line gives a record with
    /// "error", and the exit code stays 0 so pipes and Spark tasks go on). Example: `-o out`.
    #[arg(short, long)]
    pub output: PathBuf,

    /// Output format of the files in the folder. Example: `--format jsonl`.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,

    /// Start CSV files with a UTF-8 byte-order mark so Excel shows Vietnamese correctly.
    #[arg(long)]
    pub excel: bool,

    /// Worker threads; 0 means one per core. Example: `--threads 2`.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,

    /// Hide the progress bar.
    #[arg(short, long)]
    pub quiet: bool,

    /// A gazetteer file or folder of .tsv files to add to the built-in ones (repeatable).
    /// Example: `--gazetteer my-province.tsv`.
    #[arg(long = "gazetteer", value_name = "PATH")]
    pub gazetteers: Vec<PathBuf>,

    /// A folder of .rules files that replaces the built-in rules. Example: `--rules my-rules/`.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// Encoding of the input files. Example: `--encoding windows-1258`.
    #[arg(long, value_enum, default_value = "utf-8")]
    pub encoding: EncodingArg,

    /// Largest document (a .txt file, a JSON line, a CSV text field) to read; larger ones are
    /// reported as errors, since annotating takes about ten times a document's size in memory.
    /// Bytes, or with a K, M or G suffix (powers of 1024); at most 512M. Example: `--max-doc-bytes 200M`.
    #[arg(long, value_name = "SIZE", default_value_t = DEFAULT_MAX_DOC_BYTES, value_parser = parse_size)]
    pub max_doc_bytes: usize,
}

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// Parses `65536`, `64K`, `64M`, `1G` (also `64MiB`, `64mb`): powers of 1024.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 64M)"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("unknown unit {unit:?} (use K, M or G)")),
    };
    let bytes = number
        .checked_mul(1 << shift)
        .filter(|&b| b <= MAX_DOC_BYTES_CEILING);
    match bytes {
        Some(b) if b > 0 => Ok(b),
        _ => Err(format!(
            "must be between 1 byte and {}M",
            MAX_DOC_BYTES_CEILING >> 20
        )),
    }
}

/// Runs `annotate`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let resources = Resources {
        gazetteers: args.gazetteers.clone(),
        rules: args.rules.clone(),
    };
    let pipeline = match Pipeline::new(&resources) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("vnner: {e}");
            return exit::NOTHING_RAN;
        }
    };
    // Installed before any output file exists. The first Ctrl-C lets the batch in hand finish,
    // then abandons the output; a second one exits at once (for a read blocked on standard
    // input). Neither leaves a temporary file.
    let _ = ctrlc::set_handler(|| {
        if run::STOP.swap(true, std::sync::atomic::Ordering::SeqCst) {
            output::remove_temporaries();
            std::process::exit(INTERRUPTED.into());
        }
    });
    let streaming = args.output.as_os_str() == "-";
    let sink: Box<dyn Sink> = if streaming {
        Box::new(StreamSink::new(std::io::BufWriter::new(std::io::stdout())))
    } else {
        let format = match args.format {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
        };
        match FolderSink::create(&args.output, format, args.excel) {
            Ok(s) => Box::new(s),
            Err(e) => {
                eprintln!("vnner: cannot write to {}: {e}", args.output.display());
                return exit::NOTHING_RAN;
            }
        }
    };
    let encoding = match args.encoding {
        EncodingArg::Utf8 => Encoding::Utf8,
        EncodingArg::Windows1258 => Encoding::Windows1258,
    };
    let options = Options {
        threads: args.threads,
        progress: !args.quiet,
        ..Options::default()
    };
    let reader = Reader::new(
        &args.inputs,
        ReadOptions {
            encoding,
            max_doc_bytes: args.max_doc_bytes,
        },
    );
    let outcome = run::run(&pipeline, reader, sink, &options);
    // The process ends here: freeing the hundred thousand small allocations of the gazetteers
    // would only add to every run's wall time (~10 ms of a short run).
    std::mem::forget(pipeline);
    match outcome {
        Ok(summary) if summary.interrupted => {
            match streaming {
                true => eprintln!("vnner: interrupted"),
                false => eprintln!("vnner: interrupted; no output file was written"),
            }
            INTERRUPTED
        }
        Ok(summary) => {
            if !args.quiet && !streaming {
                eprintln!(
                    "vnner: {} documents, {} mentions, {} relations, {} errors → {}",
                    summary.documents,
                    summary.mentions,
                    summary.relations,
                    summary.errors,
                    args.output.display()
                );
            }
            if streaming {
                // Every input line got its record, errors included: a bad line must not fail a
                // Spark task, a Hadoop Streaming job or a GNU parallel run.
                exit::OK
            } else if summary.errors > 0 && summary.documents == 0 {
                exit::NOTHING_RAN
            } else if summary.errors > 0 {
                exit::SOME_FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!(
                "vnner: writing {}: {e}; no output file was written",
                args.output.display()
            );
            exit::NOTHING_RAN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("200MiB"), Ok(200 << 20));
        assert_eq!(parse_size("64mb"), Ok(64 << 20));
        assert!(parse_size("1G").is_err(), "over the ceiling");
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}

//! `vnner annotate`: a corpus in, mentions / relations / errors out.

use std::path::PathBuf;

use clap::ValueEnum;

use super::exit;
use crate::io::input::{Encoding, Reader};
use crate::io::output::{FolderSink, Format, Sink, StreamSink};
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
    /// write one JSON line per document to stdout. Example: `-o out`.
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
}

/// Runs `annotate`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let resources = Resources { gazetteers: args.gazetteers.clone(), rules: args.rules.clone() };
    let pipeline = match Pipeline::new(&resources) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("vnner: {e}");
            return exit::NOTHING_RAN;
        }
    };
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
    // A second Ctrl-C kills at once; the first one lets the batch in hand finish.
    let _ = ctrlc::set_handler(|| {
        if run::STOP.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let options = Options { threads: args.threads, progress: !args.quiet, ..Options::default() };
    let reader = Reader::new(&args.inputs, encoding);
    match run::run(&pipeline, reader, sink, &options) {
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
            if summary.interrupted {
                eprintln!("vnner: interrupted; no output files were completed");
                exit::SOME_FAILED
            } else if summary.errors > 0 && summary.documents == 0 {
                exit::NOTHING_RAN
            } else if summary.errors > 0 {
                exit::SOME_FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!("vnner: writing {}: {e}", args.output.display());
            exit::NOTHING_RAN
        }
    }
}

//! `vnner gazetteer check` and `vnner gazetteer suggest`: the tools for extending the gazetteers
//! (the checks are in [`crate::check`], the mining in [`crate::suggest`]).

use std::io::Write;
use std::path::PathBuf;

use super::exit;
use crate::check::{self, Severity};
use crate::gazetteer::Gazetteer;
use crate::io::input::{ReadOptions, Reader};
use crate::label::Labels;
use crate::pipeline::{Pipeline, Resources};
use crate::rules::RuleSet;
use crate::suggest;

/// Check gazetteer files, or mine a corpus for entries they lack.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    Check(CheckArgs),
    Suggest(SuggestArgs),
}

/// The gazetteers and rules a tool runs the pipeline with.
#[derive(Debug, clap::Args)]
pub struct ResourceArgs {
    /// A gazetteer file or folder of .tsv files to add to the built-in ones (repeatable).
    /// Example: `--gazetteer my-province.tsv`.
    #[arg(long = "gazetteer", value_name = "PATH")]
    pub gazetteers: Vec<PathBuf>,

    /// A folder of .rules files that replaces the built-in rules. Example: `--rules my-rules/`.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

impl ResourceArgs {
    /// The pipeline, or `None` after saying on stderr why it cannot be built.
    pub fn pipeline(&self) -> Option<Pipeline> {
        let resources = Resources {
            gazetteers: self.gazetteers.clone(),
            rules: self.rules.clone(),
        };
        Pipeline::new(&resources)
            .map_err(|e| eprintln!("vnner: {e}"))
            .ok()
    }
}

/// Check gazetteer files: format, duplicates, conflicting kinds, entries that cannot match.
///
/// Without PATH, checks the built-in gazetteers. With PATH, loads the built-in gazetteers and then
/// PATH, as `--gazetteer` does, and reports the problems of PATH. Each problem names file:line and
/// what to do. Errors (format, exact duplicates) stop `vnner annotate`; warnings do not.
/// Exit code: 0 without errors (warnings allowed), 1 with errors, 2 if the rules cannot be read.
///
/// Examples:
///   vnner gazetteer check
///   vnner gazetteer check my-province.tsv
///   vnner gazetteer check --no-builtin gazetteers/
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CheckArgs {
    /// Gazetteer files or folders of .tsv files, in load order. Example: `my-province.tsv`.
    pub paths: Vec<PathBuf>,

    /// Check PATH alone, not on top of the built-in gazetteers: for editing the built-in files
    /// themselves. Example: `--no-builtin gazetteers/`.
    #[arg(long, requires = "paths")]
    pub no_builtin: bool,

    /// Check kinds against the rules of this folder instead of the built-in rules.
    /// Example: `--rules my-rules/`.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

/// Mine a corpus for names the gazetteers lack, written as a gazetteer file to review.
///
/// Proposes places (names after unit words that no place entry knows), bodies (capitalised words
/// after a title), titles (capitalised words before a person's name) and persons, most frequent
/// first, each under a comment with its count and an example sentence. The output is a valid
/// gazetteer file: review it, delete what is wrong, and load it with --gazetteer.
///
/// Examples:
///   vnner gazetteer suggest data/ > candidates.tsv
///   vnner gazetteer suggest news.jsonl --min-count 5 --gazetteer my-province.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SuggestArgs {
    /// Files or folders, as for `vnner annotate`: .txt, .jsonl, .csv, or - for JSON lines on
    /// stdin. Example: `data/`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Propose only what occurs at least N times. Example: `--min-count 5`.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_count: usize,

    #[command(flatten)]
    pub resources: ResourceArgs,
}

/// Runs `gazetteer check` or `gazetteer suggest`; returns the exit code.
pub fn run(args: Args) -> u8 {
    match args.action {
        Action::Check(args) => run_check(args),
        Action::Suggest(args) => run_suggest(args),
    }
}

fn run_check(args: CheckArgs) -> u8 {
    let mut labels = Labels::default();
    let rules = match &args.rules {
        Some(dir) => RuleSet::from_dir(dir, &mut labels),
        None => RuleSet::builtin(&mut labels),
    };
    if let Err(e) = rules {
        eprintln!("vnner: {e}");
        return exit::NOTHING_RAN;
    }
    let problems = if args.paths.is_empty() {
        check::check_builtin(&labels)
    } else {
        let base = if args.no_builtin {
            Ok(Gazetteer::default())
        } else {
            Gazetteer::builtin()
        };
        match base {
            Ok(base) => check::check_paths(base, &args.paths, &labels),
            Err(e) => {
                eprintln!("vnner: {e}");
                return exit::NOTHING_RAN;
            }
        }
    };
    for problem in &problems {
        println!("{problem}");
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    eprintln!(
        "vnner: {errors} errors, {} warnings",
        problems.len() - errors
    );
    if errors > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

fn run_suggest(args: SuggestArgs) -> u8 {
    let Some(pipeline) = args.resources.pipeline() else {
        return exit::NOTHING_RAN;
    };
    let mut tally = suggest::mine(&pipeline, Reader::new(&args.inputs, ReadOptions::default()));
    tally.errors.sort_by_key(|(index, _)| *index);
    for (_, e) in &tally.errors {
        match e.line {
            Some(line) => eprintln!("vnner: {}:{line}: {}", e.source, e.reason),
            None => eprintln!("vnner: {}: {}", e.source, e.reason),
        }
    }
    let (documents, failed) = (tally.documents, tally.errors.len());
    let candidates = tally.ranked(pipeline.gazetteer(), args.min_count);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = suggest::write_tsv(&mut out, &candidates, documents, args.min_count)
        .and_then(|()| out.flush());
    if let Err(e) = written {
        eprintln!("vnner: writing the candidates: {e}");
        return exit::NOTHING_RAN;
    }
    eprintln!(
        "vnner: {} candidates from {documents} documents",
        candidates.len()
    );
    if documents == 0 {
        exit::NOTHING_RAN
    } else if failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

//! The throughput ceiling: read a JSON-lines corpus, normalise each document and run the bare
//! Aho-Corasick scan over it (token codes, one automaton step per token, as the matcher does),
//! on one thread, with nothing else of the pipeline.
//!
//! ```sh
//! cargo run --release --example bare_scan -- /tmp/vnner-corpus.jsonl
//! cargo run --release --example bare_scan -- --normalise-only /tmp/vnner-corpus.jsonl
//! ```
//!
//! `scripts/throughput.sh` runs both under `/usr/bin/time`: the difference of their CPU times is
//! the scan alone, measured the same way as `vnner annotate` (wall clocks are meaningless on a
//! busy machine). Prints the documents, megabytes of text, and raw automaton hits.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;

use serde::Deserialize;
use vnner::text::Normalized;
use vnner::Pipeline;

#[derive(Deserialize)]
struct Line {
    text: String,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (scan, path) = match args.as_slice() {
        [flag, path] if flag == "--normalise-only" => (false, path),
        [path] => (true, path),
        _ => {
            eprintln!("usage: bare_scan [--normalise-only] CORPUS.jsonl");
            return ExitCode::from(2);
        }
    };
    match run(path, scan) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare_scan: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str, scan: bool) -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = Pipeline::builtin()?;
    let matcher = pipeline.matcher();
    let (mut documents, mut bytes, mut hits) = (0u64, 0u64, 0usize);
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let doc: Line = serde_json::from_str(&line)?;
        let normalized = Normalized::new(&doc.text);
        if scan {
            hits += matcher.raw_count(&normalized);
        }
        documents += 1;
        bytes += doc.text.len() as u64;
    }
    println!("documents {documents}");
    println!("megabytes {:.1}", bytes as f64 / 1e6);
    println!("raw_hits {hits}");
    Ok(())
}

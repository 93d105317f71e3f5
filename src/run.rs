//! The parallel driver: ordered batches through the pipeline on a rayon pool, in bounded memory.
//!
//! A reader thread fills batches of input items (JSON lines still unparsed), the pool parses,
//! annotates and formats a batch in parallel, and a writer thread copies the formatted results
//! out in input order. All per-document work is on the pool, so `--threads` decides the CPU a
//! run uses. The channels between them hold two batches each, so memory stays bounded however
//! large the corpus is.
//!
//! A document whose annotation or formatting fails (a bug) becomes an error row naming it, and
//! the run goes on: one bad document never costs the rest of a long batch.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::io::input::{Document, InputError, Item};
use crate::io::output::{render, Layout, Rendered, Sink};
use crate::pipeline::{Pipeline, Workspace};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Show a progress bar on standard error when it is a terminal.
    pub progress: bool,
    /// Documents per batch, at most.
    pub batch_docs: usize,
    /// Input bytes per batch, at most (a batch closes when either limit is reached): text
    /// bytes, or the whole line for a JSON line not yet parsed.
    pub batch_bytes: usize,
    /// Write each input error to standard error as it happens.
    pub report_errors: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threads: 0,
            progress: true,
            batch_docs: 512,
            batch_bytes: 4 << 20,
            report_errors: true,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub documents: u64,
    pub bytes: u64,
    pub errors: u64,
    pub mentions: u64,
    pub relations: u64,
    /// The run was stopped (Ctrl-C) before the input ended.
    pub interrupted: bool,
}

/// Set by a Ctrl-C handler: stop after the batch in hand.
pub static STOP: AtomicBool = AtomicBool::new(false);

enum Outcome {
    /// A document annotated and formatted for the sink.
    Done {
        rendered: Rendered,
        mentions: usize,
        relations: usize,
        text_bytes: usize,
    },
    Failed(InputError),
    /// A line with nothing on it.
    Blank,
}

impl Outcome {
    fn text_bytes(&self) -> u64 {
        match self {
            Outcome::Done { text_bytes, .. } => *text_bytes as u64,
            Outcome::Failed(_) | Outcome::Blank => 0,
        }
    }
}

/// Annotates every item of `input` and writes the results to `sink`, in input order.
pub fn run(
    pipeline: &Pipeline,
    input: impl Iterator<Item = Item> + Send,
    sink: Box<dyn Sink>,
    options: &Options,
) -> std::io::Result<Summary> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(std::io::Error::other)?;
    let progress = Progress::new(options.progress && std::io::stderr().is_terminal());
    let (batch_tx, batch_rx) = sync_channel::<Vec<Item>>(2);
    let (out_tx, out_rx) = sync_channel::<Vec<Outcome>>(2);
    let report_errors = options.report_errors;
    let layout = sink.layout();

    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch = Vec::new();
            let mut bytes = 0;
            for item in input {
                if STOP.load(Ordering::Relaxed) {
                    break;
                }
                bytes += item.input_bytes();
                batch.push(item);
                if batch.len() >= options.batch_docs || bytes >= options.batch_bytes {
                    bytes = 0;
                    if batch_tx.send(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = batch_tx.send(batch);
            }
        });

        let writer = scope.spawn(move || -> std::io::Result<Summary> {
            let mut summary = Summary::default();
            let mut sink = sink;
            for outcomes in out_rx {
                for outcome in outcomes {
                    match outcome {
                        Outcome::Done {
                            rendered,
                            mentions,
                            relations,
                            ..
                        } => {
                            summary.documents += 1;
                            summary.mentions += mentions as u64;
                            summary.relations += relations as u64;
                            sink.document(&rendered)?;
                        }
                        Outcome::Failed(error) => {
                            summary.errors += 1;
                            if report_errors {
                                eprintln!("vnner: {error}");
                            }
                            sink.error(&error)?;
                        }
                        Outcome::Blank => {}
                    }
                }
            }
            summary.interrupted = STOP.load(Ordering::Relaxed);
            if !summary.interrupted {
                sink.finish()?;
            }
            Ok(summary)
        });

        let mut bytes_total = 0u64;
        for batch in batch_rx {
            let outcomes: Vec<Outcome> = pool.install(|| {
                batch
                    .into_par_iter()
                    .map(|item| match item.into_document() {
                        Some(Ok(doc)) => annotate(pipeline, layout, doc),
                        Some(Err(e)) => Outcome::Failed(e),
                        None => Outcome::Blank,
                    })
                    .collect()
            });
            bytes_total += outcomes.iter().map(Outcome::text_bytes).sum::<u64>();
            let documents = outcomes.iter().filter(|o| !matches!(o, Outcome::Blank));
            progress.advance(documents.count() as u64, bytes_total);
            if out_tx.send(outcomes).is_err() {
                break;
            }
        }
        drop(out_tx);
        progress.finish();
        let mut summary = writer
            .join()
            .map_err(|_| std::io::Error::other("the writer thread panicked"))??;
        summary.bytes = bytes_total;
        Ok(summary)
    })
}

thread_local! {
    /// Each worker's memory for documents, kept from one document and batch to the next.
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::default());
}

/// Annotates one document and formats it for the sink; a panic or a formatting error becomes
/// an error naming the document.
fn annotate(pipeline: &Pipeline, layout: Layout, doc: Document) -> Outcome {
    // The pipeline is read-only, and the workspace is cleared before each use, so nothing a
    // panic leaves half-updated is read again.
    let work = catch_unwind(AssertUnwindSafe(|| {
        let annotations =
            WORKSPACE.with_borrow_mut(|workspace| pipeline.annotate_with(&doc.text, workspace));
        let rendered = render(layout, &doc.id, &annotations).map_err(|e| e.to_string())?;
        Ok::<_, String>(Outcome::Done {
            rendered,
            mentions: annotations.mentions.len(),
            relations: annotations.relations.len(),
            text_bytes: doc.text.len(),
        })
    }));
    let message = match work {
        Ok(Ok(done)) => return done,
        Ok(Err(message)) => message,
        Err(panic) => panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default(),
    };
    Outcome::Failed(InputError {
        source: doc.source,
        line: doc.line,
        reason: format!(
            "internal error annotating document {:?} (a bug, please report it): {message}",
            doc.id
        ),
    })
}

/// A progress bar showing documents/s and MB/s, or nothing.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Progress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} documents, {msg} [{elapsed}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    fn advance(&self, documents: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(documents);
            let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{:.0} documents/s, {:.1} MB/s",
                bar.position() as f64 / seconds,
                bytes as f64 / 1e6 / seconds
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

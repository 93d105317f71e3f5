//! Writing results: `mentions`, `relations` and `errors` as CSV or JSON lines in a folder, or one
//! JSON line per document on standard output (for Spark's `RDD.pipe`, Hadoop Streaming, GNU
//! parallel).
//!
//! Files are written under temporary names and renamed into place only when the run finishes, so
//! an interrupted run never leaves a half-written file that looks complete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::input::InputError;
use crate::pipeline::{Annotations, Mention, Relation};

/// The file format of an output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    Jsonl,
}

/// Where results go, one document at a time, in input order.
pub trait Sink: Send {
    fn document(&mut self, id: &str, annotations: &Annotations) -> io::Result<()>;
    fn error(&mut self, error: &InputError) -> io::Result<()>;
    /// Completes the output (renames files into place); not called when the run is abandoned.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

const MENTION_HEADER: [&str; 8] = ["doc_id", "start", "end", "type", "text", "canonical", "detail", "source"];
const RELATION_HEADER: [&str; 8] = ["doc_id", "person", "role", "title", "body", "place", "person_start", "role_start"];
const ERROR_HEADER: [&str; 3] = ["source", "line", "reason"];

/// A mention with its document id (flat, as the csv crate serialises only flat records).
#[derive(Serialize)]
struct MentionRow<'a> {
    doc_id: &'a str,
    start: usize,
    end: usize,
    #[serde(rename = "type")]
    kind: &'a str,
    text: &'a str,
    canonical: &'a str,
    detail: &'a str,
    source: &'a str,
}

impl<'a> MentionRow<'a> {
    fn new(doc_id: &'a str, m: &'a Mention) -> MentionRow<'a> {
        MentionRow {
            doc_id,
            start: m.start,
            end: m.end,
            kind: &m.kind,
            text: &m.text,
            canonical: &m.canonical,
            detail: &m.detail,
            source: &m.source,
        }
    }
}

#[derive(Serialize)]
struct RelationRow<'a> {
    doc_id: &'a str,
    person: &'a str,
    role: &'a str,
    title: &'a str,
    body: &'a str,
    place: &'a str,
    person_start: usize,
    role_start: usize,
}

impl<'a> RelationRow<'a> {
    fn new(doc_id: &'a str, r: &'a Relation) -> RelationRow<'a> {
        RelationRow {
            doc_id,
            person: &r.person,
            role: &r.role,
            title: &r.title,
            body: &r.body,
            place: &r.place,
            person_start: r.person_start,
            role_start: r.role_start,
        }
    }
}

#[derive(Serialize)]
struct ErrorRow<'a> {
    source: &'a str,
    line: Option<usize>,
    reason: &'a str,
}

/// One output file being written under a temporary name.
struct Part {
    temporary: PathBuf,
    target: PathBuf,
    kind: PartWriter,
}

enum PartWriter {
    Csv(csv::Writer<BufWriter<File>>),
    Jsonl(BufWriter<File>),
}

impl Part {
    fn create(dir: &Path, stem: &str, format: Format, excel: bool, header: &[&str]) -> io::Result<Part> {
        let extension = match format {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        };
        let target = dir.join(format!("{stem}.{extension}"));
        let temporary = dir.join(format!(".{stem}.{extension}.partial"));
        let mut file = BufWriter::with_capacity(1 << 20, File::create(&temporary)?);
        let kind = match format {
            Format::Csv => {
                if excel {
                    file.write_all("\u{feff}".as_bytes())?;
                }
                let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(file);
                writer.write_record(header)?;
                PartWriter::Csv(writer)
            }
            Format::Jsonl => PartWriter::Jsonl(file),
        };
        Ok(Part { temporary, target, kind })
    }

    fn write<T: Serialize>(&mut self, row: &T) -> io::Result<()> {
        match &mut self.kind {
            PartWriter::Csv(w) => w.serialize(row).map_err(io::Error::other),
            PartWriter::Jsonl(w) => {
                serde_json::to_writer(&mut *w, row)?;
                w.write_all(b"\n")
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        let file = match self.kind {
            PartWriter::Csv(w) => w.into_inner().map_err(|e| io::Error::other(e.to_string()))?,
            PartWriter::Jsonl(w) => w,
        };
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&self.temporary, &self.target)
    }
}

/// `mentions`, `relations` and `errors` files in a folder.
pub struct FolderSink {
    mentions: Part,
    relations: Part,
    errors: Part,
}

impl FolderSink {
    /// Creates `dir` if needed and opens the three files under temporary names.
    pub fn create(dir: &Path, format: Format, excel: bool) -> io::Result<FolderSink> {
        std::fs::create_dir_all(dir)?;
        Ok(FolderSink {
            mentions: Part::create(dir, "mentions", format, excel, &MENTION_HEADER)?,
            relations: Part::create(dir, "relations", format, excel, &RELATION_HEADER)?,
            errors: Part::create(dir, "errors", format, excel, &ERROR_HEADER)?,
        })
    }
}

impl Sink for FolderSink {
    fn document(&mut self, id: &str, annotations: &Annotations) -> io::Result<()> {
        for mention in &annotations.mentions {
            self.mentions.write(&MentionRow::new(id, mention))?;
        }
        for relation in &annotations.relations {
            self.relations.write(&RelationRow::new(id, relation))?;
        }
        Ok(())
    }

    fn error(&mut self, error: &InputError) -> io::Result<()> {
        self.errors.write(&ErrorRow { source: &error.source, line: error.line, reason: &error.reason })
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        self.mentions.finish()?;
        self.relations.finish()?;
        self.errors.finish()
    }
}

#[derive(Serialize)]
struct StreamRecord<'a> {
    id: &'a str,
    mentions: &'a [Mention],
    relations: &'a [Relation],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One JSON line per document on a writer (standard output), flushed after each.
pub struct StreamSink<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> StreamSink<W> {
    pub fn new(out: W) -> StreamSink<W> {
        StreamSink { out }
    }

    fn record(&mut self, record: &StreamRecord<'_>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

impl<W: Write + Send> Sink for StreamSink<W> {
    fn document(&mut self, id: &str, annotations: &Annotations) -> io::Result<()> {
        self.record(&StreamRecord { id, mentions: &annotations.mentions, relations: &annotations.relations, error: None })
    }

    fn error(&mut self, error: &InputError) -> io::Result<()> {
        let id = match error.line {
            Some(line) => format!("{}:{line}", error.source),
            None => error.source.clone(),
        };
        self.record(&StreamRecord { id: &id, mentions: &[], relations: &[], error: Some(error.reason.clone()) })
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}

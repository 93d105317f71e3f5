//! Writing results: `mentions`, `relations` and `errors` as CSV or JSON lines in a folder, or one
//! JSON line per document on standard output (for Spark's `RDD.pipe`, Hadoop Streaming, GNU
//! parallel).
//!
//! Documents are formatted by the worker that annotated them ([`render`]), so the writer thread
//! only copies each document's bytes into place, in input order.
//!
//! Files are written under temporary names (`.mentions.csv.partial`) and renamed into place only
//! when the run finishes, all three after all three are safely on disk; so an interrupted or
//! failed run never leaves a half-written file that looks complete. Temporary files are removed
//! when a run is abandoned, and by [`remove_temporaries`] when the process must exit at once.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::input::InputError;
use crate::bytes::{equal_bytes, word_at};
use crate::pipeline::{Annotations, Mention, Relation};

/// The file format of an output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    Jsonl,
}

/// How a sink wants documents formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Rows of the mentions and relations files, in a folder of this format.
    Folder(Format),
    /// One JSON line per document.
    Stream,
}

/// A document's results, formatted for a [`Layout`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Rows for the mentions file, or the document's whole line for a stream.
    pub mentions: Vec<u8>,
    /// Rows for the relations file (nothing for a stream).
    pub relations: Vec<u8>,
}

/// Formats document `id`'s results for `layout`: run on the worker threads, in any order.
pub fn render(layout: Layout, id: &str, annotations: &Annotations) -> io::Result<Rendered> {
    let mut rendered = Rendered::default();
    match layout {
        Layout::Folder(format) => {
            let id = DocId::new(id);
            let mentions = annotations.mentions.iter().map(|m| MentionRow::new(&id, m));
            rendered.mentions = rows(format, mentions)?;
            let relations = annotations
                .relations
                .iter()
                .map(|r| RelationRow::new(&id, r));
            rendered.relations = rows(format, relations)?;
        }
        Layout::Stream => {
            let record = StreamRecord {
                id,
                mentions: &annotations.mentions,
                relations: &annotations.relations,
                error: None,
            };
            record.write_line(&mut rendered.mentions)?;
        }
    }
    Ok(rendered)
}

/// `rows` as CSV records or JSON lines.
fn rows<T: Row>(format: Format, rows: impl Iterator<Item = T> + Clone) -> io::Result<Vec<u8>> {
    // One allocation for the document's rows, rather than a copy each time the buffer grows.
    let mut out = Vec::with_capacity(rows.clone().map(|row| row.csv_len()).sum());
    match format {
        Format::Csv => {
            for row in rows {
                let mut record = Record { out: &mut out };
                row.write_csv(&mut record);
                record.end();
            }
        }
        Format::Jsonl => {
            for row in rows {
                serde_json::to_writer(&mut out, &row)?;
                out.push(b'\n');
            }
        }
    }
    Ok(out)
}

/// Whether a CSV cell holds `,`, `"`, `\r` or `\n`. Cells are mostly short text with none, so
/// the test goes eight bytes at a time, the last eight overlapping those before (a byte tested
/// twice does no harm), rather than a byte at a time for the tail.
fn needs_quotes(cell: &[u8]) -> bool {
    let special = |word: u64| {
        equal_bytes(word, b',')
            | equal_bytes(word, b'"')
            | equal_bytes(word, b'\r')
            | equal_bytes(word, b'\n')
            != 0
    };
    let Some(last) = cell.len().checked_sub(8) else {
        return cell
            .iter()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    };
    let mut at = 0;
    while at < last {
        if special(word_at(cell, at)) {
            return true;
        }
        at += 8;
    }
    special(word_at(cell, last))
}

/// A row of an output file: serialised for JSON lines, written cell by cell for CSV (most of
/// the output, and through the csv crate's serde writer several times the work).
trait Row: Serialize {
    fn write_csv(&self, record: &mut Record<'_>);

    /// About how long its CSV record is (the length of its cells).
    fn csv_len(&self) -> usize {
        0
    }
}

/// A document's id, and the same as a CSV cell: formatted once for all of its rows.
struct DocId<'a> {
    text: &'a str,
    cell: Vec<u8>,
}

impl<'a> DocId<'a> {
    fn new(text: &'a str) -> DocId<'a> {
        let mut cell = Vec::with_capacity(text.len() + 1);
        Record { out: &mut cell }.text(text);
        DocId { text, cell }
    }
}

impl Serialize for DocId<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text)
    }
}

/// One CSV record being appended to a buffer, formatted as the csv crate writes it with its
/// defaults (which wrote these files before): cells separated by `,`, the record ended by `\n`, and a cell
/// quoted, its quotes doubled, only if it holds `,`, `"`, `\r` or `\n`.
struct Record<'a> {
    out: &'a mut Vec<u8>,
}

impl Record<'_> {
    fn text(&mut self, cell: &str) {
        if needs_quotes(cell.as_bytes()) {
            self.quoted(cell);
        } else {
            self.out.extend_from_slice(cell.as_bytes());
            self.out.push(b',');
        }
    }

    /// A cell in quotes, its quotes doubled: out of line, as few cells need it.
    #[cold]
    #[inline(never)]
    fn quoted(&mut self, cell: &str) {
        self.out.push(b'"');
        for piece in cell.split_inclusive('"') {
            self.out.extend_from_slice(piece.as_bytes());
            if piece.ends_with('"') {
                self.out.push(b'"');
            }
        }
        self.out.extend_from_slice(b"\",");
    }

    /// A cell formatted already, its separator included.
    fn formatted(&mut self, cell: &[u8]) {
        self.out.extend_from_slice(cell);
    }

    /// A cell known to need no quotes.
    fn plain(&mut self, cell: &str) {
        self.out.extend_from_slice(cell.as_bytes());
        self.out.push(b',');
    }

    /// A number, which never needs quotes.
    fn number(&mut self, n: usize) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.out.push(b',');
    }

    /// Ends the record (every row has cells): the separator after its last cell becomes the
    /// terminator.
    fn end(self) {
        if let Some(last) = self.out.last_mut() {
            *last = b'\n';
        }
    }
}

/// Where results go, one document at a time, in input order.
pub trait Sink: Send {
    /// How [`Sink::document`] wants documents formatted.
    fn layout(&self) -> Layout;
    /// Writes a document formatted by [`render`] for this sink's layout.
    fn document(&mut self, rendered: &Rendered) -> io::Result<()>;
    fn error(&mut self, error: &InputError) -> io::Result<()>;
    /// Completes the output (renames files into place); not called when the run is abandoned,
    /// and dropping an unfinished sink removes what it wrote so far.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

const MENTION_HEADER: [&str; 8] = [
    "doc_id",
    "start",
    "end",
    "type",
    "text",
    "canonical",
    "detail",
    "source",
];
const RELATION_HEADER: [&str; 8] = [
    "doc_id",
    "person",
    "role",
    "title",
    "body",
    "place",
    "person_start",
    "role_start",
];
const ERROR_HEADER: [&str; 3] = ["source", "line", "reason"];

/// A mention with its document id (flat, as the csv crate serialises only flat records).
#[derive(Serialize)]
struct MentionRow<'a> {
    doc_id: &'a DocId<'a>,
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
    fn new(doc_id: &'a DocId<'a>, m: &'a Mention<'_>) -> MentionRow<'a> {
        MentionRow {
            doc_id,
            start: m.start,
            end: m.end,
            kind: m.kind,
            text: m.text,
            canonical: &m.canonical,
            detail: &m.detail,
            source: &m.source,
        }
    }
}

impl Row for MentionRow<'_> {
    fn write_csv(&self, record: &mut Record<'_>) {
        record.formatted(&self.doc_id.cell);
        record.number(self.start);
        record.number(self.end);
        // One of the mention types.
        record.plain(self.kind);
        record.text(self.text);
        record.text(self.canonical);
        record.text(self.detail);
        record.text(self.source);
    }

    fn csv_len(&self) -> usize {
        let cells = [
            self.kind,
            self.text,
            self.canonical,
            self.detail,
            self.source,
        ];
        // Two numbers and the separators.
        self.doc_id.cell.len() + cells.iter().map(|c| c.len()).sum::<usize>() + 24
    }
}

#[derive(Serialize)]
struct RelationRow<'a> {
    doc_id: &'a DocId<'a>,
    person: &'a str,
    role: &'a str,
    title: &'a str,
    body: &'a str,
    place: &'a str,
    person_start: usize,
    role_start: usize,
}

impl<'a> RelationRow<'a> {
    fn new(doc_id: &'a DocId<'a>, r: &'a Relation) -> RelationRow<'a> {
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

impl Row for RelationRow<'_> {
    fn write_csv(&self, record: &mut Record<'_>) {
        record.formatted(&self.doc_id.cell);
        record.text(self.person);
        record.text(self.role);
        record.text(self.title);
        record.text(self.body);
        record.text(self.place);
        record.number(self.person_start);
        record.number(self.role_start);
    }

    fn csv_len(&self) -> usize {
        let cells = [self.person, self.role, self.title, self.body, self.place];
        self.doc_id.cell.len() + cells.iter().map(|c| c.len()).sum::<usize>() + 24
    }
}

#[derive(Clone, Serialize)]
struct ErrorRow<'a> {
    source: &'a str,
    line: Option<usize>,
    reason: &'a str,
}

impl Row for ErrorRow<'_> {
    fn write_csv(&self, record: &mut Record<'_>) {
        record.text(self.source);
        match self.line {
            Some(line) => record.number(line),
            None => record.text(""),
        }
        record.text(self.reason);
    }
}

/// A header row.
impl Row for &[&str] {
    fn write_csv(&self, record: &mut Record<'_>) {
        for cell in *self {
            record.text(cell);
        }
    }
}

/// Temporary files not yet renamed into place, for [`remove_temporaries`].
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary output file still open: for a process about to exit without
/// unwinding (a second Ctrl-C).
pub fn remove_temporaries() {
    let paths = TEMPORARIES
        .lock()
        .map(|mut t| std::mem::take(&mut *t))
        .unwrap_or_default();
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// A temporary file that becomes `target` on [`Temporary::commit`], and is removed if dropped
/// before.
struct Temporary {
    path: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Temporary {
    fn create(path: PathBuf, target: PathBuf) -> io::Result<(Temporary, File)> {
        let file = File::create(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if let Ok(mut t) = TEMPORARIES.lock() {
            t.push(path.clone());
        }
        Ok((
            Temporary {
                path,
                target,
                committed: false,
            },
            file,
        ))
    }

    fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.path, &self.target).map_err(|e| {
            io::Error::new(e.kind(), format!("renaming {}: {e}", self.path.display()))
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Ok(mut t) = TEMPORARIES.lock() {
            t.retain(|p| *p != self.path);
        }
    }
}

/// One output file being written under a temporary name.
struct Part {
    temporary: Temporary,
    format: Format,
    file: BufWriter<File>,
}

impl Part {
    fn create(
        dir: &Path,
        stem: &str,
        format: Format,
        excel: bool,
        header: &[&str],
    ) -> io::Result<Part> {
        let extension = match format {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        };
        let target = dir.join(format!("{stem}.{extension}"));
        let (temporary, file) =
            Temporary::create(dir.join(format!(".{stem}.{extension}.partial")), target)?;
        let mut file = BufWriter::with_capacity(1 << 20, file);
        if format == Format::Csv {
            if excel {
                file.write_all("\u{feff}".as_bytes())?;
            }
            file.write_all(&rows(format, std::iter::once(header))?)?;
        }
        Ok(Part {
            temporary,
            format,
            file,
        })
    }

    /// Flushes the file and waits until it is on disk; the temporary is still to be committed.
    fn close(self) -> io::Result<Temporary> {
        self.file
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        Ok(self.temporary)
    }
}

/// `mentions`, `relations` and `errors` files in a folder.
pub struct FolderSink {
    dir: PathBuf,
    mentions: Part,
    relations: Part,
    errors: Part,
}

impl FolderSink {
    /// Creates `dir` if needed and opens the three files under temporary names.
    pub fn create(dir: &Path, format: Format, excel: bool) -> io::Result<FolderSink> {
        std::fs::create_dir_all(dir)?;
        Ok(FolderSink {
            dir: dir.to_path_buf(),
            mentions: Part::create(dir, "mentions", format, excel, &MENTION_HEADER)?,
            relations: Part::create(dir, "relations", format, excel, &RELATION_HEADER)?,
            errors: Part::create(dir, "errors", format, excel, &ERROR_HEADER)?,
        })
    }
}

impl Sink for FolderSink {
    fn layout(&self) -> Layout {
        Layout::Folder(self.mentions.format)
    }

    fn document(&mut self, rendered: &Rendered) -> io::Result<()> {
        self.mentions.file.write_all(&rendered.mentions)?;
        self.relations.file.write_all(&rendered.relations)
    }

    fn error(&mut self, error: &InputError) -> io::Result<()> {
        let row = ErrorRow {
            source: &error.source,
            line: error.line,
            reason: &error.reason,
        };
        let bytes = rows(self.errors.format, std::iter::once(row))?;
        self.errors.file.write_all(&bytes)
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        let FolderSink {
            dir,
            mentions,
            relations,
            errors,
        } = *self;
        // All three on disk before any is renamed: a failure here leaves no new file in place.
        let closed = [mentions.close()?, relations.close()?, errors.close()?];
        for temporary in closed {
            temporary.commit()?;
        }
        // Make the renames durable too, where the file system allows it (best effort: the files
        // are complete either way).
        if let Ok(dir) = File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct StreamRecord<'a> {
    id: &'a str,
    mentions: &'a [Mention<'a>],
    relations: &'a [Relation],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl StreamRecord<'_> {
    fn write_line(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

/// One JSON line per document on a writer (standard output), flushed after each.
pub struct StreamSink<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> StreamSink<W> {
    pub fn new(out: W) -> StreamSink<W> {
        StreamSink { out }
    }
}

impl<W: Write + Send> Sink for StreamSink<W> {
    fn layout(&self) -> Layout {
        Layout::Stream
    }

    fn document(&mut self, rendered: &Rendered) -> io::Result<()> {
        self.out.write_all(&rendered.mentions)?;
        self.out.flush()
    }

    fn error(&mut self, error: &InputError) -> io::Result<()> {
        let id = error.location();
        let record = StreamRecord {
            id: &id,
            mentions: &[],
            relations: &[],
            error: Some(error.reason.clone()),
        };
        record.write_line(&mut self.out)?;
        self.out.flush()
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `remove_temporaries` reaches every sink of the process: these tests take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn error() -> InputError {
        InputError {
            source: "a.jsonl".into(),
            line: Some(3),
            reason: "broken".into(),
        }
    }

    #[test]
    fn files_appear_only_when_finished() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let mut sink = Box::new(FolderSink::create(dir.path(), Format::Csv, false).unwrap());
        sink.error(&error()).unwrap();
        assert_eq!(
            names(dir.path()),
            [
                ".errors.csv.partial",
                ".mentions.csv.partial",
                ".relations.csv.partial"
            ]
        );
        sink.finish().unwrap();
        assert_eq!(
            names(dir.path()),
            ["errors.csv", "mentions.csv", "relations.csv"]
        );
        let errors = std::fs::read_to_string(dir.path().join("errors.csv")).unwrap();
        assert_eq!(errors, "source,line,reason\na.jsonl,3,broken\n");
    }

    fn one_mention() -> Annotations<'static> {
        Annotations {
            mentions: vec![Mention {
                start: 0,
                end: 11,
                kind: "ORG",
                text: "Sở \"Nội vụ\"",
                canonical: "Sở Nội vụ".into(),
                detail: "a=1; b=2".into(),
                source: "gazetteer:bodies.tsv:3".into(),
            }],
            relations: Vec::new(),
        }
    }

    #[test]
    fn documents_are_rendered_as_the_layout_says() {
        let csv = render(Layout::Folder(Format::Csv), "d,1", &one_mention()).unwrap();
        assert_eq!(
            String::from_utf8(csv.mentions).unwrap(),
            "\"d,1\",0,11,ORG,\"Sở \"\"Nội vụ\"\"\",Sở Nội vụ,a=1; b=2,gazetteer:bodies.tsv:3\n"
        );
        assert!(csv.relations.is_empty());
        let jsonl = render(Layout::Folder(Format::Jsonl), "d", &one_mention()).unwrap();
        assert!(String::from_utf8(jsonl.mentions)
            .unwrap()
            .starts_with("{\"doc_id\":\"d\",\"start\":0,"));
        let stream = render(Layout::Stream, "d", &one_mention()).unwrap();
        let line = String::from_utf8(stream.mentions).unwrap();
        assert!(line.starts_with("{\"id\":\"d\",\"mentions\":[{") && line.ends_with("]}\n"));
    }

    #[test]
    fn cells_are_quoted_as_the_csv_crate_quotes_them() {
        // Each special byte at each position of cells around the eight bytes tested at a time.
        let mut cells = vec![String::new(), "huyện Như Thanh".to_string()];
        for len in 1..=17 {
            for at in 0..len {
                for special in [",", "\"", "\r", "\n"] {
                    cells.push(format!(
                        "{}{special}{}",
                        "a".repeat(at),
                        "ệ".repeat(len - at - 1)
                    ));
                }
            }
        }
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut ours = Vec::new();
        for cell in &cells {
            let row = [cell.as_str(), "x"];
            csv.write_record(row).unwrap();
            ours.extend(rows(Format::Csv, std::iter::once(row.as_slice())).unwrap());
        }
        assert_eq!(ours, csv.into_inner().unwrap());
    }

    #[test]
    fn an_abandoned_run_leaves_nothing() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mentions.jsonl"), "earlier\n").unwrap();
        let mut sink = FolderSink::create(dir.path(), Format::Jsonl, false).unwrap();
        sink.error(&error()).unwrap();
        drop(sink);
        assert_eq!(names(dir.path()), ["mentions.jsonl"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("mentions.jsonl")).unwrap(),
            "earlier\n"
        );
    }

    #[test]
    fn temporaries_can_be_removed_at_once() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let sink = FolderSink::create(dir.path(), Format::Csv, true).unwrap();
        remove_temporaries();
        assert!(names(dir.path()).is_empty());
        drop(sink);
    }
}

//! Reading a corpus: `.txt` files, JSON lines, CSV and standard input, walked lazily so a corpus
//! of millions of documents is never held in memory.
//!
//! A bad file or line never stops the walk: it becomes an [`Item::Error`] naming the source, the
//! line and the reason, and reading goes on with the next line or file. JSON lines are handed on
//! unparsed ([`Item::JsonLine`]) so that decoding runs on the worker threads; their errors come
//! out of [`Item::into_document`], in the same words. No document larger than
//! [`ReadOptions::max_doc_bytes`] is ever buffered: an over-long `.txt` file or JSON line is
//! reported and skipped, so one giant line cannot exhaust memory.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::usual_json;
use crate::bytes::find_byte;

/// One document to annotate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub text: String,
    /// The file it came from (or `-` for standard input).
    pub source: String,
    /// 1-based line where it starts, for JSON lines and CSV rows.
    pub line: Option<usize>,
}

/// Something that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file (or `-` for standard input).
    pub source: String,
    /// 1-based line, where the problem is on one line.
    pub line: Option<usize>,
    pub reason: String,
}

impl InputError {
    /// `source:line`, or just `source` when the problem is not on one line.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.source),
            None => self.source.clone(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.reason)
    }
}

/// What the reader yields, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Document(Document),
    /// A JSON line, decoded and parsed by whoever takes it ([`Item::into_document`]): on the
    /// worker threads, so the reader thread only splits lines.
    JsonLine(JsonLine),
    Error(InputError),
}

impl Item {
    /// The document, or why there is none; `None` for a line with nothing on it.
    pub fn into_document(self) -> Option<Result<Document, InputError>> {
        match self {
            Item::Document(document) => Some(Ok(document)),
            Item::JsonLine(line) => line.parse(),
            Item::Error(error) => Some(Err(error)),
        }
    }

    /// Bytes of input it stands for, to size batches before it is parsed.
    pub fn input_bytes(&self) -> usize {
        match self {
            Item::Document(document) => document.text.len(),
            Item::JsonLine(line) => line.bytes.len(),
            Item::Error(_) => 0,
        }
    }
}

/// How input bytes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    /// Vietnamese Windows code page, still found in old archives.
    Windows1258,
}

/// The default largest document: far above any news article, far below the memory a document
/// needs while annotated (about ten times its size).
pub const DEFAULT_MAX_DOC_BYTES: usize = 64 << 20;

/// The largest `max_doc_bytes` allowed: the pipeline's offsets are 32-bit, and normalisation can
/// make a text a few times longer.
pub const MAX_DOC_BYTES_CEILING: usize = 512 << 20;

/// How inputs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    pub encoding: Encoding,
    /// Documents (a `.txt` file, a JSON line, a CSV `text` field) over this many bytes are
    /// reported as errors instead of read.
    pub max_doc_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            encoding: Encoding::Utf8,
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
        }
    }
}

type Items = Box<dyn Iterator<Item = Item> + Send>;

/// A lazy, ordered stream of documents and errors over the given inputs.
pub struct Reader {
    /// Inputs still to visit, in reverse order (a stack), with the folder they were found under.
    pending: Vec<(PathBuf, Option<PathBuf>)>,
    current: Option<Items>,
    visited_dirs: HashSet<PathBuf>,
    options: ReadOptions,
}

impl Reader {
    /// Reads `inputs` (files, folders, or `-` for JSON lines on standard input), in order.
    pub fn new(inputs: &[PathBuf], options: ReadOptions) -> Reader {
        Reader {
            pending: inputs.iter().rev().map(|p| (p.clone(), None)).collect(),
            current: None,
            visited_dirs: HashSet::new(),
            options,
        }
    }

    fn open(&mut self, path: PathBuf, root: Option<PathBuf>) -> Items {
        let source = path.display().to_string();
        if path.as_os_str() == "-" {
            let stdin = BufReader::new(io::stdin());
            return Box::new(JsonLines::new(source, Box::new(stdin), self.options));
        }
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => return one_error(source, None, e.to_string()),
        };
        if meta.is_dir() {
            let root = root.unwrap_or_else(|| path.clone());
            return Box::new(self.enter_dir(&path, root).into_iter());
        }
        // Named on the command line, a pipe or device is read (`<(zcat news.jsonl.gz)`); found
        // in a folder it could block the walk for ever.
        if root.is_some() && !meta.is_file() {
            return one_error(
                source,
                None,
                "not a regular file (a pipe, socket or device); skipped".into(),
            );
        }
        let max = self.options.max_doc_bytes;
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(extension.as_str(), "jsonl" | "ndjson" | "json" | "csv")
            && meta.len() > max as u64
        {
            return one_error(source, None, too_big(meta.len(), max));
        }
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => return one_error(source, None, e.to_string()),
        };
        match extension.as_str() {
            "jsonl" | "ndjson" | "json" => Box::new(JsonLines::new(
                source,
                Box::new(BufReader::new(file)),
                self.options,
            )),
            "csv" => read_csv(source, file, self.options),
            _ => {
                let id = document_id(&path, root.as_deref());
                Box::new(std::iter::once(read_whole(source, id, file, self.options)))
            }
        }
    }

    /// Queues a folder's entries (sorted, so runs are reproducible). A folder is read once
    /// however many symbolic links lead to it; a link back to a folder above it (a loop) is
    /// reported. Returns the errors met.
    fn enter_dir(&mut self, dir: &Path, root: PathBuf) -> Vec<Item> {
        let error = |reason: String| {
            vec![Item::Error(InputError {
                source: dir.display().to_string(),
                line: None,
                reason,
            })]
        };
        let canonical = match std::fs::canonicalize(dir) {
            Ok(c) => c,
            Err(e) => return error(e.to_string()),
        };
        if self.visited_dirs.contains(&canonical) {
            let parent = dir.parent().and_then(|p| std::fs::canonicalize(p).ok());
            if parent.is_some_and(|p| p.starts_with(&canonical)) {
                return error(format!(
                    "symbolic link loop: leads back to {}, which is being read; not followed",
                    canonical.display()
                ));
            }
            return Vec::new();
        }
        self.visited_dirs.insert(canonical);
        let listing = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => return error(e.to_string()),
        };
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        for entry in listing {
            match entry {
                Ok(e) => entries.push(e.path()),
                Err(e) => errors.extend(error(e.to_string())),
            }
        }
        entries.sort();
        for path in entries.into_iter().rev() {
            let wanted = path.is_dir()
                || path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(
                        e.to_ascii_lowercase().as_str(),
                        "txt" | "jsonl" | "ndjson" | "csv"
                    )
                });
            if wanted {
                self.pending.push((path, Some(root.clone())));
            }
        }
        errors
    }
}

impl Iterator for Reader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(current) = &mut self.current {
                if let Some(item) = current.next() {
                    return Some(item);
                }
            }
            let (path, root) = self.pending.pop()?;
            self.current = Some(self.open(path, root));
        }
    }
}

fn one_error(source: String, line: Option<usize>, reason: String) -> Items {
    Box::new(std::iter::once(Item::Error(InputError {
        source,
        line,
        reason,
    })))
}

fn too_big(bytes: u64, max: usize) -> String {
    format!(
        "the document is {bytes} bytes, over the limit of {max} (raise it with --max-doc-bytes)"
    )
}

fn document_id(path: &Path, root: Option<&Path>) -> String {
    let relative = root
        .and_then(|r| path.strip_prefix(r).ok())
        .unwrap_or_else(|| Path::new(path.file_name().unwrap_or(path.as_os_str())));
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_suffix(".txt")
        .map(str::to_string)
        .unwrap_or(text)
}

/// Where bytes stop being UTF-8: the first invalid byte's offset, and its 1-based line.
#[derive(Debug, PartialEq, Eq)]
pub struct NotUtf8 {
    pub at: usize,
    pub line: usize,
}

/// Decodes bytes, borrowing them where they are UTF-8 already; a UTF-8 byte-order mark is
/// dropped.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Cow<'_, str>, NotUtf8> {
    match encoding {
        Encoding::Windows1258 => Ok(encoding_rs::WINDOWS_1258.decode(bytes).0),
        Encoding::Utf8 => {
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            let skipped = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
            utf8(&bytes[skipped..]).map(Cow::Borrowed).map_err(|valid| {
                let line = 1 + bytes[skipped..skipped + valid]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                NotUtf8 {
                    at: skipped + valid,
                    line,
                }
            })
        }
    }
}

/// `bytes` as a string, or how many of them are valid UTF-8. Validation is a cost per byte of
/// input: simdutf8 does it several times faster than the standard library.
fn utf8(bytes: &[u8]) -> Result<&str, usize> {
    simdutf8::compat::from_utf8(bytes).map_err(|e| e.valid_up_to())
}

const ENCODING_HINT: &str = "use --encoding windows-1258 for old Vietnamese files";

/// Why a whole file is not text, judged from its first bytes.
fn not_text(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Some(
            "UTF-16 text is not supported; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)",
        );
    }
    bytes
        .iter()
        .take(8192)
        .any(|&b| b == 0)
        .then_some("binary file (NUL bytes), not text")
}

fn read_whole(source: String, id: String, file: File, options: ReadOptions) -> Item {
    let error = |line: Option<usize>, reason: String| {
        Item::Error(InputError {
            source: source.clone(),
            line,
            reason,
        })
    };
    let max = options.max_doc_bytes;
    let mut bytes = Vec::new();
    // The size was checked, but a file can grow, and a pipe has no size.
    if let Err(e) = file.take(max as u64 + 1).read_to_end(&mut bytes) {
        return error(None, e.to_string());
    }
    if bytes.len() > max {
        return error(
            None,
            format!(
                "the document is over the limit of {max} bytes (raise it with --max-doc-bytes)"
            ),
        );
    }
    if let Some(reason) = not_text(&bytes) {
        return error(None, reason.into());
    }
    match decode(&bytes, options.encoding) {
        Ok(text) => Item::Document(Document {
            id,
            text: text.into_owned(),
            source: source.clone(),
            line: None,
        }),
        Err(NotUtf8 { at, line }) => error(
            Some(line),
            format!("invalid UTF-8 at byte {at} ({ENCODING_HINT})"),
        ),
    }
}

/// Reads one line, through its `\n`, keeping at most `keep` bytes of it in `line`; returns the
/// line's full length (0 at the end of input). The rest of a longer line is read and dropped.
fn read_line_bounded(
    reader: &mut dyn BufRead,
    line: &mut Vec<u8>,
    keep: usize,
) -> io::Result<usize> {
    line.clear();
    let mut length = 0;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok(length);
        }
        let (chunk, ends) = match find_byte(buffer, b'\n') {
            Some(i) => (&buffer[..=i], true),
            None => (buffer, false),
        };
        let room = keep.saturating_sub(line.len()).min(chunk.len());
        line.extend_from_slice(&chunk[..room]);
        let used = chunk.len();
        reader.consume(used);
        length += used;
        if ends {
            return Ok(length);
        }
    }
}

#[derive(Deserialize)]
struct JsonDocument {
    id: Option<serde_json::Value>,
    text: Option<String>,
}

/// One `{"id", "text"}` object a line; other fields are ignored.
struct JsonLines {
    source: String,
    reader: Box<dyn BufRead + Send>,
    /// The current line's number and the byte offset where it starts.
    line: usize,
    offset: usize,
    options: ReadOptions,
    done: bool,
}

impl JsonLines {
    fn new(source: String, reader: Box<dyn BufRead + Send>, options: ReadOptions) -> JsonLines {
        JsonLines {
            source,
            reader,
            line: 0,
            offset: 0,
            options,
            done: false,
        }
    }

    fn error(&self, reason: String) -> Item {
        Item::Error(InputError {
            source: self.source.clone(),
            line: Some(self.line),
            reason,
        })
    }
}

/// One line of a JSON-lines input, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonLine {
    /// The file (or `-` for standard input).
    source: String,
    /// 1-based line number.
    line: usize,
    /// Byte offset in the file where the line starts, for error messages.
    start: usize,
    /// The line without its line break.
    bytes: Vec<u8>,
    encoding: Encoding,
}

impl JsonLine {
    /// The document on the line, or why there is none; `None` for a blank line.
    fn parse(self) -> Option<Result<Document, InputError>> {
        let JsonLine {
            source,
            line,
            start,
            bytes,
            encoding,
        } = self;
        let error = |source: String, reason: String| InputError {
            source,
            line: Some(line),
            reason,
        };
        let text = match decode(&bytes, encoding) {
            Ok(t) => t,
            Err(NotUtf8 { at, .. }) => {
                let reason = format!(
                    "invalid UTF-8 at byte {} (byte {at} of the line; {ENCODING_HINT})",
                    start + at
                );
                return Some(Err(error(source, reason)));
            }
        };
        if text.trim().is_empty() {
            return None;
        }
        let parsed = match usual_json::read(&text) {
            Some((id, body)) => Ok(JsonDocument {
                id: id.map(serde_json::Value::String),
                text: Some(body),
            }),
            None => serde_json::from_str::<JsonDocument>(&text),
        };
        Some(match parsed {
            Ok(JsonDocument {
                text: Some(body),
                id,
            }) => {
                let id = match id {
                    Some(serde_json::Value::String(s)) => s,
                    Some(serde_json::Value::Null) | None => format!("{source}:{line}"),
                    Some(other) => other.to_string(),
                };
                Ok(Document {
                    id,
                    text: body,
                    source,
                    line: Some(line),
                })
            }
            Ok(JsonDocument { text: None, .. }) => Err(error(source, "no \"text\" field".into())),
            Err(e) => {
                // The line is one line: serde's own "at line 1" would only confuse.
                let message = e.to_string();
                let place = format!(" at line {} column {}", e.line(), e.column());
                let message = message.strip_suffix(&place).unwrap_or(&message);
                let reason = format!(
                    "not a JSON object with \"id\" and \"text\" (column {}: {message})",
                    e.column()
                );
                Err(error(source, reason))
            }
        })
    }
}

impl Iterator for JsonLines {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let max = self.options.max_doc_bytes;
        while !self.done {
            let start = self.offset;
            let mut bytes = Vec::new();
            // Keep two bytes more than allowed: a line at the limit with its `\r\n` fits whole.
            match read_line_bounded(&mut *self.reader, &mut bytes, max.saturating_add(2)) {
                Ok(0) => self.done = true,
                Ok(length) => {
                    self.line += 1;
                    self.offset += length;
                    let content = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                    let content = content.strip_suffix(b"\r").unwrap_or(content).len();
                    if length > bytes.len() || content > max {
                        return Some(self.error(format!(
                            "the line is {length} bytes, over the limit of {max} (raise it with --max-doc-bytes)"
                        )));
                    }
                    bytes.truncate(content);
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(Item::JsonLine(JsonLine {
                        source: self.source.clone(),
                        line: self.line,
                        start,
                        bytes,
                        encoding: self.options.encoding,
                    }));
                }
                Err(e) => {
                    self.done = true;
                    return Some(self.error(e.to_string()));
                }
            }
        }
        None
    }
}

/// Decodes windows-1258 to UTF-8 as it is read, so a large CSV file is never held whole.
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    position: usize,
    finished: bool,
}

impl<R: Read> Decoding<R> {
    fn new(inner: R) -> Decoding<R> {
        Decoding {
            inner,
            decoder: encoding_rs::WINDOWS_1258.new_decoder_without_bom_handling(),
            input: vec![0; 64 << 10],
            output: Vec::new(),
            position: 0,
            finished: false,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position == self.output.len() {
            if self.finished {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let room = self
                .decoder
                .max_utf8_buffer_length(n)
                .ok_or_else(|| io::Error::other("input block too large"))?;
            self.output.resize(room, 0);
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n, "the output buffer is sized for the whole block");
            self.output.truncate(written);
            self.position = 0;
            self.finished = last;
        }
        let n = out.len().min(self.output.len() - self.position);
        out[..n].copy_from_slice(&self.output[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// Where the CSV quoting stands after the bytes seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: it closes the field, unless another `"` follows.
    QuoteInQuoted,
}

/// Follows CSV quoting as the parser reads, so a quoted field still open at the end of the file
/// (which the `csv` crate silently runs to the end) is caught, with the line it opened on.
struct QuoteWatch<R> {
    inner: R,
    state: Quoting,
    line: usize,
    opened_on: usize,
}

impl<R> QuoteWatch<R> {
    fn new(inner: R) -> QuoteWatch<R> {
        QuoteWatch {
            inner,
            state: Quoting::FieldStart,
            line: 1,
            opened_on: 0,
        }
    }

    /// The line of the quoted field left open at the end, if any.
    fn unclosed(&self) -> Option<usize> {
        (self.state == Quoting::Quoted).then_some(self.opened_on)
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        for &b in &out[..n] {
            self.state = match (self.state, b) {
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                (Quoting::Quoted, _) => Quoting::Quoted,
                (Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
                (Quoting::FieldStart, b'"') => {
                    self.opened_on = self.line;
                    Quoting::Quoted
                }
                (_, b',' | b'\n' | b'\r') => Quoting::FieldStart,
                _ => Quoting::Unquoted,
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(n)
    }
}

fn read_csv(source: String, file: File, options: ReadOptions) -> Items {
    let input: Box<dyn Read + Send> = match options.encoding {
        Encoding::Utf8 => Box::new(file),
        Encoding::Windows1258 => Box::new(Decoding::new(file)),
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(QuoteWatch::new(input));
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return one_error(source, Some(1), format!("unreadable CSV header: {e}")),
    };
    if headers.is_empty() {
        // An empty file: no rows, nothing wrong.
        return Box::new(std::iter::empty());
    }
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
    };
    let Some(text_column) = column("text") else {
        return one_error(
            source,
            Some(1),
            "the CSV header has no `text` column".into(),
        );
    };
    let id_column = column("id");
    Box::new(CsvRows {
        source,
        reader,
        columns: headers.len(),
        text_column,
        id_column,
        held: None,
        done: false,
        options,
    })
}

/// The rows of a CSV file. Each row is held back until the next one is read, because only at
/// the end of the file is it known whether the last row swallowed the rest into an open quote.
struct CsvRows {
    source: String,
    reader: csv::Reader<QuoteWatch<Box<dyn Read + Send>>>,
    columns: usize,
    text_column: usize,
    id_column: Option<usize>,
    held: Option<Item>,
    done: bool,
    options: ReadOptions,
}

impl CsvRows {
    fn error(&self, line: usize, reason: String) -> Item {
        Item::Error(InputError {
            source: self.source.clone(),
            line: Some(line),
            reason,
        })
    }

    fn row(&self, record: &csv::ByteRecord) -> Item {
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() != self.columns {
            return self.error(
                line,
                format!(
                    "the row has {} fields but the header has {} (an unquoted comma, or broken quoting?)",
                    record.len(),
                    self.columns
                ),
            );
        }
        let text = &record[self.text_column];
        if text.len() > self.options.max_doc_bytes {
            return self.error(line, too_big(text.len() as u64, self.options.max_doc_bytes));
        }
        let text = match utf8(text) {
            Ok(t) => t.to_owned(),
            Err(at) => {
                return self.error(
                    line,
                    format!("invalid UTF-8 at byte {at} of the `text` field ({ENCODING_HINT})"),
                );
            }
        };
        let id = self
            .id_column
            .and_then(|i| std::str::from_utf8(&record[i]).ok())
            .filter(|id| !id.is_empty());
        let id = id.map_or_else(|| format!("{}:{line}", self.source), str::to_string);
        Item::Document(Document {
            id,
            text,
            source: self.source.clone(),
            line: Some(line),
        })
    }
}

impl Iterator for CsvRows {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            let mut record = csv::ByteRecord::new();
            let item = match self.reader.read_byte_record(&mut record) {
                Ok(true) => self.row(&record),
                Ok(false) => {
                    self.done = true;
                    if let Some(line) = self.reader.get_ref().unclosed() {
                        self.held = Some(self.error(
                            line,
                            "a quoted field opened on this line is never closed (broken quoting); its row ran to \
                             the end of the file and was skipped"
                                .into(),
                        ));
                    }
                    break;
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    self.done = matches!(e.kind(), csv::ErrorKind::Io(_));
                    self.error(line, format!("broken CSV row: {e}"))
                }
            };
            if let Some(previous) = self.held.replace(item) {
                return Some(previous);
            }
        }
        self.held.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_folder() {
        assert_eq!(
            document_id(Path::new("corpus/a/b.txt"), Some(Path::new("corpus"))),
            "a/b"
        );
        assert_eq!(document_id(Path::new("x/c.txt"), None), "c");
    }

    #[test]
    fn decode_names_the_bad_byte() {
        assert_eq!(decode(b"ab\xffcd", Encoding::Utf8).unwrap_err().at, 2);
        assert_eq!(
            decode(b"\xEF\xBB\xBFa\n\nb\xff", Encoding::Utf8),
            Err(NotUtf8 { at: 7, line: 3 })
        );
        assert_eq!(
            decode(b"\xEF\xBB\xBFok", Encoding::Utf8).as_deref(),
            Ok("ok")
        );
        // windows-1258: 0xCC is U+0300 (combining grave), 0xD2 U+0309 (hook above).
        assert_eq!(
            decode(b"a\xCCb\xD2", Encoding::Windows1258).as_deref(),
            Ok("a\u{300}b\u{309}")
        );
    }

    #[test]
    fn long_lines_are_skipped_not_kept() {
        let mut input: &[u8] = b"0123456789\nab\n";
        let mut line = Vec::new();
        assert_eq!(read_line_bounded(&mut input, &mut line, 4).unwrap(), 11);
        assert_eq!(line, b"0123");
        assert_eq!(read_line_bounded(&mut input, &mut line, 4).unwrap(), 3);
        assert_eq!(line, b"ab\n");
        assert_eq!(read_line_bounded(&mut input, &mut line, 4).unwrap(), 0);
    }

    #[test]
    fn windows_1258_decodes_as_it_reads() {
        let mut text = String::new();
        Decoding::new(&b"Hoa\xCC \xF0\xE3"[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "Hoa\u{300} \u{111}\u{103}");
    }

    #[test]
    fn an_open_quote_is_caught_with_its_line() {
        let mut watch = QuoteWatch::new(&b"id,text\n1,\"a \"\"b\"\" c\"\n2,\"open\n3,x\n"[..]);
        io::copy(&mut watch, &mut io::sink()).unwrap();
        assert_eq!(watch.unclosed(), Some(3));
        let mut closed = QuoteWatch::new(&b"id,text\n1,5\" screen\n2,\"ok\"\n"[..]);
        io::copy(&mut closed, &mut io::sink()).unwrap();
        assert_eq!(closed.unclosed(), None);
    }
}

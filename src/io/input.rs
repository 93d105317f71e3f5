//! Reading a corpus: `.txt` files, JSON lines, CSV and standard input, walked lazily so a corpus
//! of millions of documents is never held in memory.
//!
//! A bad file or line never stops the walk: it becomes an [`Item::Error`] naming the source, the
//! line and the reason, and reading goes on with the next line or file.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One document to annotate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub text: String,
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

/// What the reader yields, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Document(Document),
    Error(InputError),
}

/// How input bytes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    /// Vietnamese Windows code page, still found in old archives.
    Windows1258,
}

/// A lazy, ordered stream of documents and errors over the given inputs.
pub struct Reader {
    /// Inputs still to visit, in reverse order (a stack), with the folder they were found under.
    pending: Vec<(PathBuf, Option<PathBuf>)>,
    current: Option<Box<dyn Iterator<Item = Item> + Send>>,
    visited_dirs: HashSet<PathBuf>,
    encoding: Encoding,
}

impl Reader {
    /// Reads `inputs` (files, folders, or `-` for JSON lines on standard input), in order.
    pub fn new(inputs: &[PathBuf], encoding: Encoding) -> Reader {
        Reader {
            pending: inputs.iter().rev().map(|p| (p.clone(), None)).collect(),
            current: None,
            visited_dirs: HashSet::new(),
            encoding,
        }
    }

    fn open(&mut self, path: PathBuf, root: Option<PathBuf>) -> Box<dyn Iterator<Item = Item> + Send> {
        let source = path.display().to_string();
        if path.as_os_str() == "-" {
            let stdin = BufReader::new(std::io::stdin());
            return Box::new(JsonLines::new("-".into(), Box::new(stdin), self.encoding));
        }
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => return one_error(source, None, e.to_string()),
        };
        if meta.is_dir() {
            self.enter_dir(&path, root.unwrap_or_else(|| path.clone()));
            return Box::new(std::iter::empty());
        }
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => return one_error(source, None, e.to_string()),
        };
        match extension.as_str() {
            "jsonl" | "ndjson" | "json" => Box::new(JsonLines::new(source, Box::new(BufReader::new(file)), self.encoding)),
            "csv" => read_csv(source, file, self.encoding),
            _ => {
                let id = document_id(&path, root.as_deref());
                Box::new(std::iter::once(read_whole(source, id, file, self.encoding)))
            }
        }
    }

    /// Queues a folder's entries (sorted, so runs are reproducible); a folder reached twice
    /// through symbolic links is skipped, which also ends symlink loops.
    fn enter_dir(&mut self, dir: &Path, root: PathBuf) {
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if !self.visited_dirs.insert(canonical) {
            return;
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                self.current = Some(one_error(dir.display().to_string(), None, e.to_string()));
                return;
            }
        };
        entries.sort();
        for path in entries.into_iter().rev() {
            let wanted = path.is_dir()
                || path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "txt" | "jsonl" | "ndjson" | "csv"));
            if wanted {
                self.pending.push((path, Some(root.clone())));
            }
        }
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
                self.current = None;
            }
            let (path, root) = self.pending.pop()?;
            let opened = self.open(path, root);
            // `open` may have queued an error of its own for an unreadable folder.
            if self.current.is_none() {
                self.current = Some(opened);
            }
        }
    }
}

fn one_error(source: String, line: Option<usize>, reason: String) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(std::iter::once(Item::Error(InputError { source, line, reason })))
}

/// `folder/a/b.txt` under `folder` → `a/b`; a file given directly → its name without `.txt`.
fn document_id(path: &Path, root: Option<&Path>) -> String {
    let relative = root.and_then(|r| path.strip_prefix(r).ok()).unwrap_or_else(|| Path::new(path.file_name().unwrap_or(path.as_os_str())));
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_suffix(".txt").map(str::to_string).unwrap_or(text)
}

/// Decodes bytes, naming the first invalid byte when they are not UTF-8.
pub fn decode(bytes: Vec<u8>, encoding: Encoding) -> Result<String, String> {
    match encoding {
        Encoding::Windows1258 => Ok(encoding_rs::WINDOWS_1258.decode(&bytes).0.into_owned()),
        Encoding::Utf8 => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
            String::from_utf8(bytes).map_err(|e| {
                format!(
                    "invalid UTF-8 at byte {} (use --encoding windows-1258 for old Vietnamese files)",
                    e.utf8_error().valid_up_to()
                )
            })
        }
    }
}

fn read_whole(source: String, id: String, mut file: File, encoding: Encoding) -> Item {
    let mut bytes = Vec::new();
    if let Err(e) = file.read_to_end(&mut bytes) {
        return Item::Error(InputError { source, line: None, reason: e.to_string() });
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Item::Error(InputError { source, line: None, reason: "binary file (NUL bytes), not text".into() });
    }
    match decode(bytes, encoding) {
        Ok(text) => Item::Document(Document { id, text }),
        Err(reason) => Item::Error(InputError { source, line: None, reason }),
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
    line: usize,
    encoding: Encoding,
    done: bool,
}

impl JsonLines {
    fn new(source: String, reader: Box<dyn BufRead + Send>, encoding: Encoding) -> JsonLines {
        JsonLines { source, reader, line: 0, encoding, done: false }
    }

    fn error(&self, reason: String) -> Item {
        Item::Error(InputError { source: self.source.clone(), line: Some(self.line), reason })
    }
}

impl Iterator for JsonLines {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            let mut bytes = Vec::new();
            match self.reader.read_until(b'\n', &mut bytes) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line += 1;
                    let text = match decode(bytes, self.encoding) {
                        Ok(t) => t,
                        Err(reason) => return Some(self.error(reason)),
                    };
                    if text.trim().is_empty() {
                        continue;
                    }
                    return Some(match serde_json::from_str::<JsonDocument>(&text) {
                        Ok(JsonDocument { text: Some(body), id }) => {
                            let id = match id {
                                Some(serde_json::Value::String(s)) => s,
                                Some(serde_json::Value::Null) | None => format!("{}:{}", self.source, self.line),
                                Some(other) => other.to_string(),
                            };
                            Item::Document(Document { id, text: body })
                        }
                        Ok(JsonDocument { text: None, .. }) => self.error("no \"text\" field".into()),
                        Err(e) => self.error(format!("not a JSON object with \"id\" and \"text\": {e}")),
                    });
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

fn read_csv(source: String, file: File, encoding: Encoding) -> Box<dyn Iterator<Item = Item> + Send> {
    let input: Box<dyn Read + Send> = match encoding {
        Encoding::Utf8 => Box::new(file),
        Encoding::Windows1258 => {
            let mut bytes = Vec::new();
            let mut file = file;
            if let Err(e) = file.read_to_end(&mut bytes) {
                return one_error(source, None, e.to_string());
            }
            Box::new(std::io::Cursor::new(encoding_rs::WINDOWS_1258.decode(&bytes).0.into_owned().into_bytes()))
        }
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return one_error(source, Some(1), format!("unreadable CSV header: {e}")),
    };
    let column = |name: &str| headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name);
    let Some(text_col) = column("text") else {
        return one_error(source, Some(1), "the CSV header has no `text` column".into());
    };
    let id_col = column("id");
    let mut row = 1;
    Box::new(reader.into_byte_records().map(move |record| {
        row += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(row, |p| p.line() as usize);
                return Item::Error(InputError { source: source.clone(), line: Some(line), reason: format!("broken CSV row: {e}") });
            }
        };
        let line = record.position().map_or(row, |p| p.line() as usize);
        let field = |i: usize| record.get(i).map(|b| String::from_utf8(b.to_vec()));
        match (field(text_col), id_col.and_then(field)) {
            (Some(Ok(text)), id) => Item::Document(Document {
                id: match id {
                    Some(Ok(id)) if !id.is_empty() => id,
                    _ => format!("{source}:{line}"),
                },
                text,
            }),
            (Some(Err(e)), _) => Item::Error(InputError {
                source: source.clone(),
                line: Some(line),
                reason: format!("invalid UTF-8 at byte {} of the text field", e.utf8_error().valid_up_to()),
            }),
            (None, _) => Item::Error(InputError { source: source.clone(), line: Some(line), reason: "the row has no `text` field".into() }),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_folder() {
        assert_eq!(document_id(Path::new("corpus/a/b.txt"), Some(Path::new("corpus"))), "a/b");
        assert_eq!(document_id(Path::new("x/c.txt"), None), "c");
    }

    #[test]
    fn decode_names_the_bad_byte() {
        let err = decode(b"ab\xffcd".to_vec(), Encoding::Utf8).unwrap_err();
        assert!(err.starts_with("invalid UTF-8 at byte 2"), "{err}");
        assert_eq!(decode(b"\xEF\xBB\xBFok".to_vec(), Encoding::Utf8).unwrap(), "ok");
        // windows-1258: 0xD2 is U+0300 (combining grave).
        assert_eq!(decode(b"a\xD2".to_vec(), Encoding::Windows1258).unwrap(), "a\u{300}");
    }
}

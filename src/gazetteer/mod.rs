//! Gazetteers: the editable TSV lists of titles, bodies, places, surnames and the rest.
//!
//! A [`Gazetteer`] is the built-in files (embedded at build time) plus any user files, in load
//! order; a user line `surface<TAB>-kind` takes back an entry loaded before it. The format is
//! documented in `gazetteers/README.md`.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::bytes::find_byte;
use crate::error::Error;
use crate::text::match_key;

/// Where an entry or rule was written: file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A cell of a gazetteer file: borrowed from the binary for the built-in files, which are most
/// of the entries (so start-up allocates nothing per cell), copied for a user's files.
pub type Cell = Cow<'static, str>;

/// One gazetteer line.
#[derive(Debug, Clone)]
pub struct Entry {
    /// As written in the file.
    pub surface: Cell,
    /// The normalised form it is matched under.
    pub key: String,
    pub kind: Cell,
    /// The full form, when it differs from the surface (`UBND` → `Ủy ban nhân dân`).
    pub canonical: Option<Cell>,
    /// Every other column: `(name, value)`, non-empty values only. Column names are shared by
    /// the entries of a file (one allocation per column, not per cell).
    pub attrs: Vec<(Arc<str>, Cell)>,
    pub origin: Origin,
}

impl Entry {
    /// The value of attribute `name`, if the entry has it.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| **k == *name)
            .map(|(_, v)| &**v)
    }
}

/// All entries, in load order.
#[derive(Debug, Default, Clone)]
pub struct Gazetteer {
    pub entries: Vec<Entry>,
}

impl Gazetteer {
    /// The built-in gazetteers embedded in the binary.
    pub fn builtin() -> Result<Gazetteer, Error> {
        // The files are parsed in parallel, then applied in load order.
        let files: Vec<Parsed> = crate::embedded::GAZETTEERS
            .par_iter()
            .map(|(name, text)| Parsed::new(name, text, Cow::Borrowed))
            .collect();
        let mut gazetteer = Gazetteer::default();
        gazetteer
            .entries
            .reserve(files.iter().map(Parsed::additions).sum());
        for file in files {
            gazetteer.apply(file)?;
        }
        Ok(gazetteer)
    }

    /// Adds a file, or every `.tsv` file under a folder (sorted by path).
    pub fn add_path(&mut self, path: &Path) -> Result<(), Error> {
        if path.is_dir() {
            let mut files = Vec::new();
            collect_tsv(path, &mut files)?;
            files.sort();
            for file in files {
                self.add_path(&file)?;
            }
            return Ok(());
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        self.add_text(&path.display().to_string(), &text)
    }

    /// Adds the entries of one file's text; `name` is used in error messages and origins.
    ///
    /// On an error, the lines before the failing one stay loaded (`gazetteer check` resumes
    /// after it).
    pub fn add_text(&mut self, name: &str, text: &str) -> Result<(), Error> {
        self.apply(Parsed::new(name, text, |cell| Cow::Owned(cell.to_owned())))
    }

    /// Applies a parsed file's lines in order, then its error if parsing stopped at one.
    fn apply(&mut self, file: Parsed<'_>) -> Result<(), Error> {
        for chunk in file.chunks {
            for line in chunk.lines {
                match line {
                    Line::Add(entry) => self.entries.push(entry),
                    Line::Remove(removal) => self.remove(&removal, file.name)?,
                }
            }
            if let Some(error) = chunk.error {
                return Err(error);
            }
        }
        Ok(())
    }

    /// Takes back the entries a `surface<TAB>-kind` line names; taking back nothing is an error.
    fn remove(&mut self, removal: &Removal<'_>, file: &str) -> Result<(), Error> {
        let before = self.entries.len();
        self.entries
            .retain(|e| !(e.key == removal.key && e.kind == removal.kind));
        if self.entries.len() < before {
            return Ok(());
        }
        Err(Error::gazetteer(
            file,
            removal.line,
            format!(
                "`-{kind}` removes nothing: no {kind} entry {surface:?} was loaded before",
                kind = removal.kind,
                surface = removal.surface
            ),
        ))
    }
}

/// Lines parsed per parallel task: enough to outweigh scheduling, few enough to balance two
/// cores over one big file.
const CHUNK_LINES: usize = 512;

/// One file's data lines, parsed but not yet applied (a removal depends on what was loaded
/// before it), up to the first line that cannot be parsed.
struct Parsed<'t> {
    name: &'t str,
    chunks: Vec<Chunk<'t>>,
}

/// Consecutive lines of a file, up to the first bad one.
struct Chunk<'t> {
    lines: Vec<Line<'t>>,
    error: Option<Error>,
}

/// A parsed data line.
enum Line<'t> {
    Add(Entry),
    Remove(Removal<'t>),
}

/// A `surface<TAB>-kind` line.
struct Removal<'t> {
    key: String,
    kind: &'t str,
    surface: &'t str,
    line: usize,
}

/// How the cells of a file's text are kept in its entries: borrowed when the text lives as long
/// as the program, copied otherwise. (A type parameter rather than a function pointer, so the
/// borrow of the built-in files compiles to nothing.)
trait Keep<'t>: Fn(&'t str) -> Cell + Copy + Sync {}

impl<'t, F: Fn(&'t str) -> Cell + Copy + Sync> Keep<'t> for F {}

impl<'t> Parsed<'t> {
    /// Parses `text` in chunks of lines, in parallel; the order of lines is kept.
    fn new(name: &'t str, text: &'t str, keep: impl Keep<'t>) -> Parsed<'t> {
        let lines: Vec<&str> = lines(text).collect();
        let Some(header) = lines.iter().position(|l| !is_blank_or_comment(clean(l))) else {
            return Parsed::without_lines(name, None);
        };
        let columns = match Columns::parse(clean(lines[header])) {
            Ok(columns) => columns,
            Err(message) => {
                let error = Error::gazetteer(name, header + 1, message);
                return Parsed::without_lines(name, Some(error));
            }
        };
        let file: Arc<str> = Arc::from(name);
        let chunks = lines[header + 1..]
            .par_chunks(CHUNK_LINES)
            .enumerate()
            .map(|(i, chunk)| {
                let first = header + 2 + i * CHUNK_LINES;
                columns.parse_chunk(chunk, first, &file, keep)
            })
            .collect();
        Parsed { name, chunks }
    }

    /// A file with no data lines: it has none, or its header is `error`.
    fn without_lines(name: &'t str, error: Option<Error>) -> Parsed<'t> {
        let chunk = Chunk {
            lines: Vec::new(),
            error,
        };
        Parsed {
            name,
            chunks: vec![chunk],
        }
    }

    /// How many entries the file adds (before removals).
    fn additions(&self) -> usize {
        let lines = self.chunks.iter().flat_map(|c| &c.lines);
        lines.filter(|l| matches!(l, Line::Add(_))).count()
    }
}

/// Whether the loader skips `line` (a [`clean`] one).
fn is_blank_or_comment(line: &str) -> bool {
    // Blank once trimmed is blank once its start is trimmed, which stops at the first visible
    // character instead of also trimming the empty cells at the end of the line.
    line.trim_start().is_empty() || line.starts_with('#')
}

/// A cell without the whitespace around it, as `str::trim` has it. Nearly every cell starts and
/// ends with a visible ASCII character (or is empty), which needs no decoding to know. (Inlined:
/// a call costs as much as the test, some 300,000 times.)
#[inline]
fn trim_cell(cell: &str) -> &str {
    let clean_end = |b: Option<&u8>| b.is_none_or(u8::is_ascii_graphic);
    let cell = match clean_end(cell.as_bytes().first()) {
        true => cell,
        false => cell.trim_start(),
    };
    match clean_end(cell.as_bytes().last()) {
        true => cell,
        false => cell.trim_end(),
    }
}

/// The lines of a file's text, as `str::lines` has them but for the carriage returns, which
/// [`clean`] takes off.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    // Splitting an empty text finds one empty piece, where there is no line.
    let has_lines = !text.is_empty();
    let text = text.strip_suffix('\n').unwrap_or(text);
    split_at(text, b'\n').filter(move |_| has_lines)
}

/// The pieces of `text` between the occurrences of `separator`, an ASCII byte (so the pieces are
/// whole characters), as `str::split` has them: a byte search ([`find_byte`]), where a `char`
/// pattern costs several times more.
fn split_at(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let piece = rest?;
        match find_byte(piece.as_bytes(), separator) {
            Some(at) => {
                rest = Some(&piece[at + 1..]);
                Some(&piece[..at])
            }
            None => {
                rest = None;
                Some(piece)
            }
        }
    })
}

/// A line without the carriage returns a Windows editor leaves.
fn clean(line: &str) -> &str {
    line.trim_end_matches('\r')
}

/// Appends every `.tsv` file under `dir` (recursively, unsorted) to `out`.
pub(crate) fn collect_tsv(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            collect_tsv(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "tsv") {
            out.push(path);
        }
    }
    Ok(())
}

/// Column positions from a header line.
struct Columns {
    names: Vec<Arc<str>>,
    surface: usize,
    kind: usize,
    canonical: Option<usize>,
    /// The other columns, which make an entry's attributes.
    attrs: Vec<usize>,
}

impl Columns {
    fn parse(header: &str) -> Result<Columns, String> {
        let names: Vec<Arc<str>> = split_at(header, b'\t')
            .map(|c| Arc::from(c.trim()))
            .collect();
        let find = |n: &str| names.iter().position(|c| **c == *n);
        let surface = find("surface").ok_or("the header has no `surface` column")?;
        let kind = find("kind").ok_or("the header has no `kind` column")?;
        let canonical = find("canonical");
        let attrs = (0..names.len())
            .filter(|&i| i != surface && i != kind && Some(i) != canonical)
            .collect();
        Ok(Columns {
            names,
            surface,
            kind,
            canonical,
            attrs,
        })
    }

    /// Parses consecutive lines, the first numbered `first`, up to the first bad one.
    fn parse_chunk<'t>(
        &self,
        lines: &[&'t str],
        first: usize,
        file: &Arc<str>,
        keep: impl Keep<'t>,
    ) -> Chunk<'t> {
        let mut chunk = Chunk {
            lines: Vec::with_capacity(lines.len()),
            error: None,
        };
        // One buffer for the cells of every line.
        let mut cells: Vec<&str> = Vec::with_capacity(self.names.len() + 1);
        let mut keys = RepeatedKey::default();
        for (i, line) in lines.iter().map(|l| clean(l)).enumerate() {
            if is_blank_or_comment(line) {
                continue;
            }
            let line_no = first + i;
            cells.clear();
            cells.extend(split_at(line, b'\t').map(trim_cell));
            match self.parse_line(&cells, line_no, file, keep, &mut keys) {
                Ok(line) => chunk.lines.push(line),
                Err(message) => {
                    chunk.error = Some(Error::gazetteer(&**file, line_no, message));
                    break;
                }
            }
        }
        chunk
    }

    /// One data line from its cells.
    fn parse_line<'t>(
        &self,
        cells: &[&'t str],
        line: usize,
        file: &Arc<str>,
        keep: impl Keep<'t>,
        keys: &mut RepeatedKey<'t>,
    ) -> Result<Line<'t>, String> {
        if cells.len() > self.names.len() {
            return Err(format!(
                "{} cells but the header has {} columns (a stray tab?)",
                cells.len(),
                self.names.len()
            ));
        }
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let surface = cell(self.surface);
        let kind = cell(self.kind);
        if surface.is_empty() || kind.is_empty() {
            return Err("`surface` and `kind` must not be empty".into());
        }
        let key = keys.of(surface);
        if key.trim_start().is_empty() {
            return Err(format!("surface {surface:?} has no letters or digits"));
        }
        if let Some(removed) = kind.strip_prefix('-') {
            return Ok(Line::Remove(Removal {
                key,
                kind: removed,
                surface,
                line,
            }));
        }
        let canonical = self
            .canonical
            .map(cell)
            .filter(|c| !c.is_empty() && *c != surface);
        Ok(Line::Add(Entry {
            surface: keep(surface),
            key,
            kind: keep(kind),
            canonical: canonical.map(keep),
            attrs: self.attrs(cells, keep),
            origin: Origin {
                file: file.clone(),
                line,
            },
        }))
    }

    /// The non-empty cells of the columns other than surface, kind and canonical.
    fn attrs<'t>(&self, cells: &[&'t str], keep: impl Keep<'t>) -> Vec<(Arc<str>, Cell)> {
        let filled = || {
            let cells = self.attrs.iter().map(|&i| (i, cells.get(i).copied()));
            cells.filter_map(|(i, cell)| Some((i, cell.filter(|c| !c.is_empty())?)))
        };
        // Sized exactly: grown by pushes, a place entry's nine attributes would get room for
        // sixteen, and attributes are most of the gazetteer's memory.
        let mut attrs = Vec::with_capacity(filled().count());
        attrs.extend(filled().map(|(i, c)| (self.names[i].clone(), keep(c))));
        attrs
    }
}

/// The match key of the surface before, for the next line with the same surface: generated
/// files list a name once per unit it names, on consecutive lines, so a quarter of their surfaces
/// repeat the one before.
#[derive(Default)]
struct RepeatedKey<'t> {
    last: Option<(&'t str, String)>,
}

impl<'t> RepeatedKey<'t> {
    /// The match key of `surface`.
    fn of(&mut self, surface: &'t str) -> String {
        match &self.last {
            Some((last, key)) if *last == surface => key.clone(),
            _ => {
                let key = match_key(surface);
                self.last = Some((surface, key.clone()));
                key
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entries_with_attributes() {
        let mut g = Gazetteer::default();
        g.add_text("t.tsv", "# c\nsurface\tkind\tcanonical\tclass\nUBND\tbody\tỦy ban nhân dân\tstate\nHuyện uỷ\tbody\t\t\n")
            .unwrap();
        assert_eq!(g.entries.len(), 2);
        assert_eq!(g.entries[0].canonical.as_deref(), Some("Ủy ban nhân dân"));
        assert_eq!(g.entries[0].attr("class"), Some("state"));
        assert_eq!(g.entries[1].key, "huyện ủy");
        assert_eq!(g.entries[1].origin.to_string(), "t.tsv:4");
    }

    #[test]
    fn removes_an_entry_loaded_before() {
        let mut g = Gazetteer::default();
        g.add_text("a.tsv", "surface\tkind\nAnh\tplace\nAnh\tsurname\n")
            .unwrap();
        g.add_text("b.tsv", "surface\tkind\nanh\t-place\n").unwrap();
        assert_eq!(g.entries.len(), 1);
        assert_eq!(g.entries[0].kind, "surname");
    }

    #[test]
    fn lines_keep_their_numbers_and_order_across_parallel_chunks() {
        let mut tsv = String::from("# c\nsurface\tkind\n");
        for i in 0..3 * CHUNK_LINES {
            tsv.push_str(&format!("w{i}\tbody\n"));
        }
        tsv.push_str("w1\t-body\n\tbody\n");
        let mut g = Gazetteer::default();
        let err = g.add_text("t.tsv", &tsv).unwrap_err();
        let last = 3 * CHUNK_LINES + 4;
        assert!(
            err.to_string().starts_with(&format!("t.tsv:{last}:")),
            "{err}"
        );
        // Everything before the bad line stays loaded, the removal included.
        assert_eq!(g.entries.len(), 3 * CHUNK_LINES - 1);
        assert_eq!(g.entries[1].surface, "w2");
        assert_eq!(g.entries[1].origin.line, 5);
        let end = g.entries.last().unwrap();
        assert_eq!(end.origin.to_string(), format!("t.tsv:{}", last - 2));
    }

    #[test]
    fn lines_are_those_of_str_lines() {
        for text in ["", "\n", "a", "a\n", "a\n\n", "\na\r\nb\r", "a\n\nb\n"] {
            let ours: Vec<&str> = lines(text).map(clean).collect();
            let std: Vec<&str> = text.lines().map(clean).collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let mut g = Gazetteer::default();
        let err = g.add_text("x.tsv", "surface\tkind\n\tbody\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.tsv:2: gazetteer: `surface` and `kind` must not be empty"
        );
        let err = g.add_text("y.tsv", "name\tkind\n").unwrap_err();
        assert!(err.to_string().starts_with("y.tsv:1:"));
    }
}

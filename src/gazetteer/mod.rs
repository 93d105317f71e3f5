//! Gazetteers: the editable TSV lists of titles, bodies, places, surnames and the rest.
//!
//! A [`Gazetteer`] is the built-in files (embedded at build time) plus any user files, in load
//! order; a user line `surface<TAB>-kind` takes back an entry loaded before it. The format is
//! documented in `gazetteers/README.md`.

use std::path::Path;
use std::sync::Arc;

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

/// One gazetteer line.
#[derive(Debug, Clone)]
pub struct Entry {
    /// As written in the file.
    pub surface: String,
    /// The normalised form it is matched under.
    pub key: String,
    pub kind: String,
    /// The full form, when it differs from the surface (`UBND` → `Ủy ban nhân dân`).
    pub canonical: Option<String>,
    /// Every other column: `(name, value)`, non-empty values only.
    pub attrs: Vec<(String, String)>,
    pub origin: Origin,
}

impl Entry {
    /// The value of attribute `name`, if the entry has it.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
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
        let mut gazetteer = Gazetteer::default();
        for (name, text) in crate::embedded::GAZETTEERS {
            gazetteer.add_text(name, text)?;
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
    pub fn add_text(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let file: Arc<str> = Arc::from(name);
        let mut columns: Option<Columns> = None;
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: String| Error::Gazetteer {
                file: name.to_string(),
                line: line_no,
                message,
            };
            let Some(cols) = &columns else {
                columns = Some(Columns::parse(line).map_err(error)?);
                continue;
            };
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            if cells.len() > cols.names.len() {
                return Err(error(format!(
                    "{} cells but the header has {} columns (a stray tab?)",
                    cells.len(),
                    cols.names.len()
                )));
            }
            let cell = |i: usize| cells.get(i).copied().unwrap_or("");
            let surface = cell(cols.surface);
            let kind = cell(cols.kind);
            if surface.is_empty() || kind.is_empty() {
                return Err(error("`surface` and `kind` must not be empty".into()));
            }
            let key = match_key(surface);
            if key.trim().is_empty() {
                return Err(error(format!(
                    "surface {surface:?} has no letters or digits"
                )));
            }
            if let Some(removed) = kind.strip_prefix('-') {
                let before = self.entries.len();
                self.entries
                    .retain(|e| !(e.key == key && e.kind == removed));
                if self.entries.len() == before {
                    return Err(error(format!("`-{removed}` removes nothing: no {removed} entry {surface:?} was loaded before")));
                }
                continue;
            }
            let canonical = cols
                .canonical
                .map(cell)
                .filter(|c| !c.is_empty() && *c != surface);
            let attrs = cols
                .names
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    *i != cols.surface && *i != cols.kind && Some(*i) != cols.canonical
                })
                .filter(|(i, _)| !cell(*i).is_empty())
                .map(|(i, n)| (n.clone(), cell(i).to_string()))
                .collect();
            self.entries.push(Entry {
                surface: surface.to_string(),
                key,
                kind: kind.to_string(),
                canonical: canonical.map(str::to_string),
                attrs,
                origin: Origin {
                    file: file.clone(),
                    line: line_no,
                },
            });
        }
        Ok(())
    }
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
    names: Vec<String>,
    surface: usize,
    kind: usize,
    canonical: Option<usize>,
}

impl Columns {
    fn parse(header: &str) -> Result<Columns, String> {
        let names: Vec<String> = header.split('\t').map(|c| c.trim().to_string()).collect();
        let find = |n: &str| names.iter().position(|c| c == n);
        let surface = find("surface").ok_or("the header has no `surface` column")?;
        let kind = find("kind").ok_or("the header has no `kind` column")?;
        Ok(Columns {
            canonical: find("canonical"),
            surface,
            kind,
            names,
        })
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

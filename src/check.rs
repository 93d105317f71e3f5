//! `vnner gazetteer check`: every problem in gazetteer files at once, each with its file:line and
//! what to do about it.
//!
//! Files are read by the real loader ([`Gazetteer::add_text`]), so a format error here is exactly
//! what would stop `vnner annotate`; a line it rejects is skipped and reading goes on, so one run
//! shows all of them. The entries that load are then compared with one another and with the rules:
//!
//! - errors: format problems, and exact duplicates (same surface, kind, canonical and attributes);
//! - warnings: spellings that normalise to an entry already there, the same entry twice with other
//!   attributes, one surface with two kinds that exclude each other, kinds no rule reads, and
//!   surfaces that cannot match as meant (a line break inside, or no letter or digit at all).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::gazetteer::{collect_tsv, Entry, Gazetteer};
use crate::label::Labels;

/// How bad a problem is: errors stop `vnner annotate`, warnings are worth a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, at a file and (usually) a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: String,
    /// 1-based; `None` when the problem is the whole file.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(line) => write!(f, "{}:{line}: {severity}: {}", self.file, self.message),
            None => write!(f, "{}: {severity}: {}", self.file, self.message),
        }
    }
}

/// Kinds that say what a span *is* (a role's title, a body, a place, a unit word, a person):
/// one surface with two of them is read both ways by the rules.
const EXCLUSIVE_KINDS: [&str; 5] = ["title", "body", "place", "unit", "person"];

/// Pairs of exclusive kinds that are meant to overlap: well-known persons whose names are also
/// places (`Hồ Chí Minh`) are listed as persons on purpose.
const ALLOWED_PAIRS: [(&str, &str); 1] = [("person", "place")];

/// After this many format errors in one file, the rest of the file is not read.
const MAX_ERRORS_PER_FILE: usize = 50;

/// Checks the given files and folders of `.tsv` files, in order, on top of `base` (the built-in
/// gazetteers, or nothing). `labels` holds every label the rules use. Problems are reported for
/// the given files only; `base` is context.
pub fn check_paths(base: Gazetteer, paths: &[PathBuf], labels: &Labels) -> Vec<Problem> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match tsv_files(path) {
            Ok(found) if found.is_empty() => {
                problems.push(whole_file(path, "a folder with no .tsv file in it"))
            }
            Ok(found) => files.extend(found),
            Err(e) => problems.push(whole_file(path, &e.to_string())),
        }
    }
    let mut texts = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => texts.push((file.display().to_string(), text)),
            Err(e) => problems.push(whole_file(&file, &format!("cannot read it: {e}"))),
        }
    }
    problems.extend(check_texts(base, &texts, labels));
    problems
}

/// Checks the built-in gazetteers embedded in the binary.
pub fn check_builtin(labels: &Labels) -> Vec<Problem> {
    check_texts(Gazetteer::default(), crate::embedded::GAZETTEERS, labels)
}

/// Checks `(file name, text)` pairs in load order on top of `base`.
pub fn check_texts<N: AsRef<str>, T: AsRef<str>>(
    base: Gazetteer,
    files: &[(N, T)],
    labels: &Labels,
) -> Vec<Problem> {
    let mut gazetteer = base;
    let mut problems = Vec::new();
    for (name, text) in files {
        load(&mut gazetteer, name.as_ref(), text.as_ref(), &mut problems);
    }
    let checked: Vec<&str> = files.iter().map(|(name, _)| name.as_ref()).collect();
    let mut by_key: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for entry in &gazetteer.entries {
        let earlier = by_key.entry(entry.key.as_str()).or_default();
        if checked.contains(&&*entry.origin.file) {
            problems.extend(entry_problems(entry, earlier, labels).into_iter().map(
                |(severity, message)| Problem {
                    severity,
                    file: entry.origin.file.to_string(),
                    line: Some(entry.origin.line),
                    message,
                },
            ));
        }
        earlier.push(entry);
    }
    let file_order = |file: &str| checked.iter().position(|c| *c == file);
    problems.sort_by_key(|p| (file_order(&p.file), p.line));
    problems
}

fn whole_file(path: &Path, message: &str) -> Problem {
    Problem {
        severity: Severity::Error,
        file: path.display().to_string(),
        line: None,
        message: message.to_string(),
    }
}

/// A file as itself, or every `.tsv` file under a folder in load order.
fn tsv_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    collect_tsv(path, &mut files)?;
    files.sort();
    Ok(files)
}

/// Loads one file with the real loader, reporting each line it rejects and going on after it.
fn load(gazetteer: &mut Gazetteer, name: &str, text: &str, problems: &mut Vec<Problem>) {
    let lines: Vec<&str> = text.lines().collect();
    // The loader's rule: the header is the first line that is neither blank nor a comment.
    let header = lines.iter().position(|l| {
        let l = l.trim_end_matches('\r');
        !l.trim().is_empty() && !l.starts_with('#')
    });
    let mut resume = 0;
    let mut errors = 0;
    loop {
        // Lines before `resume` were loaded already (or rejected): blank them, keeping the header
        // and the line numbers.
        let remaining: Cow<str> = if resume == 0 {
            Cow::Borrowed(text)
        } else {
            let kept = lines.iter().enumerate().map(|(i, l)| {
                if i < resume && Some(i) != header {
                    ""
                } else {
                    l
                }
            });
            Cow::Owned(kept.collect::<Vec<_>>().join("\n"))
        };
        let (line, message) = match gazetteer.add_text(name, &remaining) {
            Ok(()) => return,
            Err(Error::Gazetteer { line, message, .. }) => (line, message),
            Err(other) => (0, other.to_string()),
        };
        errors += 1;
        let is_header = header.is_some_and(|h| h + 1 == line);
        let advice = if is_header {
            "the whole file is skipped; the first line that is not a comment must name the columns, e.g. `surface<TAB>kind`"
        } else {
            "vnner refuses to load the file until this line is fixed or deleted"
        };
        problems.push(Problem {
            severity: Severity::Error,
            file: name.to_string(),
            line: (line > 0).then_some(line),
            message: format!("{message}; {advice}"),
        });
        if is_header || line == 0 || line >= lines.len() {
            return;
        }
        if errors == MAX_ERRORS_PER_FILE {
            problems.push(Problem {
                severity: Severity::Error,
                file: name.to_string(),
                line: Some(line),
                message: format!("{MAX_ERRORS_PER_FILE} errors; the rest of the file is not checked: fix these first"),
            });
            return;
        }
        resume = line;
    }
}

/// The problems of one loaded entry, given the entries with the same key loaded before it.
fn entry_problems(entry: &Entry, earlier: &[&Entry], labels: &Labels) -> Vec<(Severity, String)> {
    let surface = &entry.surface;
    let mut warnings = Vec::new();
    if labels.get(&entry.kind).is_none() {
        warnings.push(format!(
            "kind `{}` is read by no rule, so {surface:?} does nothing; use a kind from gazetteers/README.md (a typo?)",
            entry.kind
        ));
    }
    if entry.key.contains('\n') {
        warnings.push(format!(
            "{surface:?} contains a line break (U+2028, U+2029 or U+0085); matches never cross lines, so it can never match: write it on one line"
        ));
    }
    if !entry.key.chars().any(char::is_alphanumeric) {
        warnings.push(format!(
            "{surface:?} has no letter or digit: it matches that mark everywhere in every text; write the words around it as well"
        ));
    }

    let repeated = earlier
        .iter()
        .filter(|e| e.kind == entry.kind)
        .filter_map(|e| Some((Repeat::of(e, entry)?, *e)))
        .min_by_key(|(repeat, _)| *repeat);
    let mut problems = Vec::new();
    match repeated {
        Some((Repeat::Duplicate, e)) => problems.push((Severity::Error, format!("duplicate of {}: delete this line", e.origin))),
        Some((Repeat::Spelling, e)) => warnings.push(format!(
            "{surface:?} normalises to {:?}, like {:?} at {}: matching already folds case, tone placement (uỷ/ủy) and spaces, so this line adds nothing; delete it",
            entry.key, e.surface, e.origin
        )),
        Some((Repeat::Attributes, e)) => warnings.push(format!(
            "{surface:?} is already a {} at {} with other attributes ({}): both apply to every match; keep one line",
            entry.kind,
            e.origin,
            differences(e, entry)
        )),
        None => {}
    }

    let mut reported: Vec<&str> = Vec::new();
    for e in earlier.iter().filter(|e| conflicting(&e.kind, &entry.kind)) {
        if reported.contains(&&*e.kind) {
            continue;
        }
        reported.push(&e.kind);
        warnings.push(format!(
            "{surface:?} is a {} here and a {} at {}: every match is read both ways; if one is wrong, take it back with a `{surface}<TAB>-{}` line in your own file, or delete this line",
            entry.kind, e.kind, e.origin, e.kind
        ));
    }
    problems.extend(warnings.into_iter().map(|w| (Severity::Warning, w)));
    problems
}

/// How an entry repeats an earlier one of the same key and kind, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Repeat {
    /// The same line again.
    Duplicate,
    /// Another spelling of the same key, with the same canonical form and attributes.
    Spelling,
    /// The same thing with other attributes.
    Attributes,
}

impl Repeat {
    fn of(earlier: &Entry, entry: &Entry) -> Option<Repeat> {
        let sorted = |e: &Entry| {
            let mut attrs = e.attrs.clone();
            attrs.sort();
            attrs
        };
        let same_content = earlier.canonical == entry.canonical && sorted(earlier) == sorted(entry);
        // A `code` with its `era` and `until` names one administrative unit in one period: the
        // same name with another code, or the same unit before a reorganisation, is no repeat.
        match (same_content, earlier.surface == entry.surface) {
            (true, true) => Some(Repeat::Duplicate),
            (true, false) => Some(Repeat::Spelling),
            (false, _) if unit_id(earlier) == unit_id(entry) => Some(Repeat::Attributes),
            (false, _) => None,
        }
    }
}

fn unit_id(e: &Entry) -> [Option<&str>; 3] {
    ["code", "era", "until"].map(|k| e.attr(k))
}

/// The canonical forms and attributes in which two entries differ: `class=state there, party here`.
fn differences(there: &Entry, here: &Entry) -> String {
    let fields = |e: &Entry| {
        let mut fields: Vec<(String, String)> = e
            .attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        fields.extend(
            e.canonical
                .iter()
                .map(|c| ("canonical".to_string(), c.to_string())),
        );
        fields
    };
    let (there, here) = (fields(there), fields(here));
    let value = |fields: &[(String, String)], key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map_or_else(|| "(none)".to_string(), |(_, v)| v.clone())
    };
    let mut keys: Vec<&str> = there.iter().chain(&here).map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| value(&there, k) != value(&here, k))
        .map(|k| format!("{k}={} there, {} here", value(&there, k), value(&here, k)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn conflicting(a: &str, b: &str) -> bool {
    a != b
        && EXCLUSIVE_KINDS.contains(&a)
        && EXCLUSIVE_KINDS.contains(&b)
        && !ALLOWED_PAIRS
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (y, x) == (a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn labels() -> Labels {
        let mut labels = Labels::default();
        RuleSet::builtin(&mut labels).unwrap();
        labels
    }

    fn check(files: &[(&str, &str)]) -> Vec<String> {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        check_texts(Gazetteer::default(), &files, &labels())
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn reports_every_format_error_and_goes_on() {
        let found = check(&[(
            "a.tsv",
            "surface\tkind\n\tbody\nUBND\tbody\nx\ty\tz\nHĐND\tbody\n",
        )]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("a.tsv:2: error: `surface` and `kind` must not be empty"),
            "{found:?}"
        );
        assert!(found[1].starts_with("a.tsv:4: error: 3 cells"), "{found:?}");
    }

    #[test]
    fn a_bad_header_skips_the_file() {
        let found = check(&[("a.tsv", "# c\nname\tkind\nUBND\tbody\n")]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("a.tsv:2: error: the header has no `surface` column"),
            "{found:?}"
        );
    }

    #[test]
    fn same_name_with_another_code_is_another_unit() {
        let tsv = "surface\tkind\tcode\tera\nAn Bình\tplace\t1\t2025\nAn Bình\tplace\t2\t2025\nAn Bình\tplace\t1\tpre2025\n";
        assert!(check(&[("p.tsv", tsv)]).is_empty());
    }

    #[test]
    fn kinds_that_may_overlap_are_not_reported() {
        let tsv = "surface\tkind\nHồ\tplace\nHồ\tsurname\nÔng\thonorific\nÔng\tsurname\nHồ Chí Minh\tplace\nHồ Chí Minh\tperson\n";
        assert!(check(&[("p.tsv", tsv)]).is_empty());
    }
}

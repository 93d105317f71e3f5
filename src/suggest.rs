//! `vnner gazetteer suggest`: mines a corpus for names the gazetteers lack, and writes them as a
//! gazetteer file for a person to review.
//!
//! Each document is run through the pipeline with [`Pipeline::trace`], which keeps the internal
//! annotations too (`title`, `unit`, gazetteer hits). Four kinds of candidates are collected:
//!
//! - `place`: a place mention (`xã Trực Hùng`) that no place entry resolves (`known=no`);
//! - `body`: capitalised words right after a title that nothing known starts (`Chủ tịch [Hội
//!   Người cao tuổi]`);
//! - `title`: capitalised words right before a person's name that nothing known ends (`[Thiếu
//!   tướng] Nguyễn Văn A`);
//! - `person`: a person's name found by the rules that is not a `person` entry.
//!
//! Word runs are `(Capitalised lower-case?)+`, the shape of Vietnamese names in sentence case
//! (`Hội Nông dân`), of at least two and at most six syllables, on one line, over words that no
//! mention covers and no entry of a kind that ends names (title, body, unit, …).

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::gazetteer::Gazetteer;
use crate::io::input::{Document, InputError, Item};
use crate::pipeline::{Annotations, Pipeline, Trace};
use crate::rules::engine::Source;
use crate::text::{display_form, match_key, Normalized, TokenKind};

/// Word runs shorter than this are too often ordinary words (`Theo`, `Sau`).
const MIN_WORDS: usize = 2;
/// Word runs stop here, so a name never runs on into the rest of a sentence.
const MAX_WORDS: usize = 6;
/// Characters of context kept on each side of an example.
const CONTEXT: usize = 80;

/// One proposed gazetteer entry and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// As first written in the corpus (NFC, single spaces).
    pub surface: String,
    /// The gazetteer kind: `place`, `body`, `title` or `person`.
    pub kind: &'static str,
    /// For a place, the unit word written before it (`xã`).
    pub level: String,
    /// For a place, the rank of that unit word (`commune`), from the `unit` entries.
    pub rank: String,
    /// Occurrences in the corpus.
    pub count: usize,
    /// Documents it occurs in.
    pub documents: usize,
    /// Input position of the first document it occurs in (keeps the output deterministic).
    pub first_document: usize,
    /// That document's id.
    pub document: String,
    /// The sentence of its first occurrence, the candidate in `[brackets]`.
    pub example: String,
}

/// Candidates counted over the documents seen so far.
#[derive(Debug, Default)]
pub struct Tally {
    candidates: HashMap<(String, &'static str), Candidate>,
    pub documents: usize,
    /// Inputs that could not be read, with their input position.
    pub errors: Vec<(usize, InputError)>,
}

/// Counts the candidates of every readable document of `items` (in parallel).
pub fn mine<I>(pipeline: &Pipeline, items: I) -> Tally
where
    I: Iterator<Item = Item> + Send,
{
    items
        .enumerate()
        .par_bridge()
        .fold(Tally::default, |mut tally, (index, item)| {
            match item.into_document() {
                Some(Ok(doc)) => tally.add(pipeline, index, &doc),
                Some(Err(e)) => tally.errors.push((index, e)),
                None => {}
            }
            tally
        })
        .reduce(Tally::default, Tally::merge)
}

impl Tally {
    /// Counts the candidates of one document; `index` is its position in the input.
    pub fn add(&mut self, pipeline: &Pipeline, index: usize, doc: &Document) {
        let (trace, found) = pipeline.trace(&doc.text);
        let mut local = Tally {
            documents: 1,
            ..Tally::default()
        };
        for (start, end, kind, level) in spans(&trace, &found) {
            let surface = display_form(trace.doc.original_slice(&doc.text, start, end));
            let key = (match_key(&surface), kind);
            match local.candidates.get_mut(&key) {
                Some(c) => c.count += 1,
                None => {
                    let example = example(&trace.doc, &doc.text, start, end);
                    let candidate = Candidate {
                        surface,
                        kind,
                        level,
                        rank: String::new(),
                        count: 1,
                        documents: 1,
                        first_document: index,
                        document: doc.id.clone(),
                        example,
                    };
                    local.candidates.insert(key, candidate);
                }
            }
        }
        *self = std::mem::take(self).merge(local);
    }

    /// Both tallies together; the first document in input order gives the spelling and example.
    pub fn merge(mut self, other: Tally) -> Tally {
        self.documents += other.documents;
        self.errors.extend(other.errors);
        for (key, c) in other.candidates {
            match self.candidates.get_mut(&key) {
                Some(mine) => {
                    let (count, documents) = (mine.count + c.count, mine.documents + c.documents);
                    if c.first_document < mine.first_document {
                        *mine = c;
                    }
                    mine.count = count;
                    mine.documents = documents;
                }
                None => {
                    self.candidates.insert(key, c);
                }
            }
        }
        self
    }

    /// Candidates seen at least `min_count` times that `gazetteer` does not already hold under
    /// that kind, most frequent first.
    pub fn ranked(self, gazetteer: &Gazetteer, min_count: usize) -> Vec<Candidate> {
        let known: HashSet<(&str, &str)> = gazetteer
            .entries
            .iter()
            .map(|e| (e.key.as_str(), &*e.kind))
            .collect();
        let ranks: HashMap<&str, &str> = gazetteer
            .entries
            .iter()
            .filter(|e| e.kind == "unit")
            .filter_map(|e| Some((e.attr("level")?, e.attr("rank")?)))
            .collect();
        let mut out: Vec<Candidate> = self
            .candidates
            .into_iter()
            .filter(|((key, kind), c)| {
                c.count >= min_count && !known.contains(&(key.as_str(), *kind))
            })
            .map(|(_, mut c)| {
                c.rank = ranks
                    .get(c.level.as_str())
                    .map_or_else(String::new, |r| r.to_string());
                c
            })
            .collect();
        out.sort_by(|a, b| (b.count, a.kind, &a.surface).cmp(&(a.count, b.kind, &b.surface)));
        out
    }
}

/// The candidates of one document: original code-point span, kind and (for places) level.
fn spans(trace: &Trace<'_>, found: &Annotations) -> Vec<(usize, usize, &'static str, String)> {
    let mut out = Vec::new();
    for m in &found.mentions {
        let detail = |key: &str| {
            m.detail
                .split("; ")
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        // A name that is only a number (`thôn 3`) is no entry.
        let unknown_place = m.kind == "LOC"
            && detail("known") == Some("no")
            && !m.text.chars().any(|c| c.is_ascii_digit());
        if unknown_place {
            out.push((
                m.start,
                m.end,
                "place",
                detail("level").unwrap_or("").to_string(),
            ));
        } else if m.kind == "PER" {
            out.push((m.start, m.end, "person", String::new()));
        }
    }
    let runs = Runs::new(trace);
    let labels = trace.pipeline.labels();
    let alive = |name: &str| {
        let label = labels.get(name);
        trace
            .annotations
            .iter()
            .filter(move |a| a.alive && Some(a.label) == label)
    };
    for title in alive("title") {
        if let Some((first, last)) = runs.after(title.last as usize) {
            let (start, end) = trace.doc.token_span(first, last);
            out.push((start, end, "body", String::new()));
        }
    }
    for person in alive("PER") {
        if let Some((first, last)) = runs.before(person.first as usize) {
            let (start, end) = trace.doc.token_span(first, last);
            out.push((start, end, "title", String::new()));
        }
    }
    out
}

/// Gazetteer kinds that end a word run: what they cover is already known to be something else.
/// (Surnames, body heads and bare place names do not: `Hội Nông dân` holds two of them.)
const STOP_KINDS: [&str; 8] = [
    "title",
    "qualifier",
    "body",
    "dept",
    "unit",
    "plural",
    "academic",
    "honorific",
];

/// Runs of unknown capitalised words next to a token, in one document.
struct Runs<'d> {
    doc: &'d Normalized,
    /// Words that no mention and no gazetteer hit of a [`STOP_KINDS`] kind covers.
    free: Vec<bool>,
}

impl<'d> Runs<'d> {
    fn new(trace: &'d Trace<'_>) -> Runs<'d> {
        let labels = trace.pipeline.labels();
        let stops: Vec<_> = STOP_KINDS.iter().filter_map(|k| labels.get(k)).collect();
        let mut free: Vec<bool> = trace
            .doc
            .tokens
            .iter()
            .map(|t| t.kind == TokenKind::Word)
            .collect();
        for a in &trace.annotations {
            let stop = labels.is_mention(a.label)
                || (matches!(a.source, Source::Gazetteer { .. }) && stops.contains(&a.label));
            if a.alive && stop {
                free[a.first as usize..a.last as usize].fill(false);
            }
        }
        Runs {
            doc: &trace.doc,
            free,
        }
    }

    fn free(&self, i: usize) -> bool {
        self.free.get(i).copied().unwrap_or(false)
    }

    fn capitalised(&self, i: usize) -> bool {
        self.doc.tokens[i].capitalised
    }

    /// Token `i` is on the same line as token `i - 1`.
    fn joins_previous(&self, i: usize) -> bool {
        i > 0 && !self.doc.tokens[i].line_start
    }

    /// The run that starts at token `start`: `(Cap Lower?)+`.
    fn after(&self, start: usize) -> Option<(usize, usize)> {
        let mut end = start;
        while end - start < MAX_WORDS
            && self.free(end)
            && self.capitalised(end)
            && self.joins_previous(end)
        {
            end += 1;
            if end - start < MAX_WORDS
                && self.free(end)
                && !self.capitalised(end)
                && self.joins_previous(end)
            {
                end += 1;
            }
        }
        (end - start >= MIN_WORDS).then_some((start, end))
    }

    /// The run that ends just before token `end`: `(Cap Lower?)+`.
    fn before(&self, end: usize) -> Option<(usize, usize)> {
        let mut start = end;
        while end - start < MAX_WORDS && self.joins_previous(start) && self.free(start - 1) {
            if self.capitalised(start - 1) {
                start -= 1;
            } else if end - start + 1 < MAX_WORDS
                && self.joins_previous(start - 1)
                && self.free(start - 2)
                && self.capitalised(start - 2)
            {
                start -= 2;
            } else {
                break;
            }
        }
        (end - start >= MIN_WORDS).then_some((start, end))
    }
}

/// The sentence around `[start, end)` (code points of `text`), with the span in brackets.
fn example(doc: &Normalized, text: &str, start: usize, end: usize) -> String {
    const ENDS: [&str; 3] = [". ", "? ", "! "];
    let before = doc
        .original_slice(text, 0, start)
        .rsplit('\n')
        .next()
        .unwrap_or("");
    let after = doc
        .original_slice(text, end, usize::MAX)
        .split('\n')
        .next()
        .unwrap_or("");
    let before = ENDS
        .iter()
        .filter_map(|e| before.rfind(e).map(|i| i + e.len()))
        .max()
        .map_or(before, |i| &before[i..]);
    let after = ENDS
        .iter()
        .filter_map(|e| after.find(e).map(|i| i + 1))
        .min()
        .map_or(after, |i| &after[..i]);
    // Long sentences are cut to CONTEXT characters each side, at a space.
    let before = match before.char_indices().rev().nth(CONTEXT) {
        Some((i, _)) => {
            let cut = &before[i..];
            format!("…{}", cut.split_once(' ').map_or(cut, |(_, rest)| rest))
        }
        None => before.to_string(),
    };
    let after = match after.char_indices().nth(CONTEXT) {
        Some((i, _)) => {
            let cut = &after[..i];
            format!("{}…", cut.rsplit_once(' ').map_or(cut, |(kept, _)| kept))
        }
        None => after.to_string(),
    };
    let mention = doc.original_slice(text, start, end);
    display_form(&format!("{before}[{mention}]{after}"))
        .trim()
        .to_string()
}

/// Writes candidates as a gazetteer file: a comment with the evidence above each entry.
pub fn write_tsv(
    out: &mut impl Write,
    candidates: &[Candidate],
    documents: usize,
    min_count: usize,
) -> io::Result<()> {
    writeln!(
        out,
        "# Candidates from `vnner gazetteer suggest`: {} names the gazetteers lack, seen at least {min_count}× in {documents} documents, most frequent first.",
        candidates.len()
    )?;
    writeln!(out, "# Review every entry: delete the wrong ones, fix spelling and kind, then load this file with `--gazetteer FILE`")?;
    writeln!(out, "# and run `vnner gazetteer check FILE`. Lines starting with # are ignored. Format: gazetteers/README.md.")?;
    writeln!(out, "surface\tkind\tlevel\trank")?;
    for c in candidates {
        let documents = if c.documents == 1 {
            "1 document".to_string()
        } else {
            format!("{} documents", c.documents)
        };
        writeln!(
            out,
            "# {}× in {documents}; {}: «{}»",
            c.count, c.document, c.example
        )?;
        writeln!(out, "{}\t{}\t{}\t{}", c.surface, c.kind, c.level, c.rank)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_the_sentence_with_the_span_marked() {
        let text = "Mở đầu. Hôm nay, UBND xã  Tân Lập họp.\nDòng sau.";
        let doc = Normalized::new(text);
        let start = text[..text.find("Tân").unwrap()].chars().count();
        assert_eq!(
            example(&doc, text, start, start + 7),
            "Hôm nay, UBND xã [Tân Lập] họp."
        );
    }
}

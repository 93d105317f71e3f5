//! The matcher: one Aho-Corasick automaton over every normalised gazetteer entry.
//!
//! Matches are searched overlapping, because with leftmost-longest semantics a longest match
//! rejected at a syllable boundary would hide the shorter valid ones at the same position. Only
//! matches that start and end on token boundaries are kept; choosing among the rest is the rules'
//! job, which see every candidate.

use std::collections::{hash_map, HashMap};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::error::Error;
use crate::gazetteer::Gazetteer;
use crate::label::{Label, Labels};
use crate::text::Normalized;

/// The entries that share one normalised key, grouped by kind.
#[derive(Debug, Clone)]
pub struct KeyGroup {
    pub key: String,
    /// `(kind, entry indexes into the gazetteer)`, one group per kind.
    pub kinds: Vec<(Label, Vec<u32>)>,
}

/// A gazetteer key found in a document, as a token span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// First token.
    pub first: u32,
    /// One past the last token.
    pub last: u32,
    /// Index into [`Matcher::groups`].
    pub key: u32,
}

/// The compiled automaton and the entries behind each pattern.
#[derive(Debug, Clone)]
pub struct Matcher {
    automaton: AhoCorasick,
    pub groups: Vec<KeyGroup>,
}

impl Matcher {
    /// Compiles every entry of `gazetteer`; entry kinds are interned in `labels`.
    pub fn new(gazetteer: &Gazetteer, labels: &mut Labels) -> Result<Matcher, Error> {
        let entries = &gazetteer.entries;
        let mut by_key: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
        let mut groups: Vec<KeyGroup> = Vec::with_capacity(entries.len());
        // Entries come in runs of one kind (a file each), so the last label is nearly always
        // the one wanted: interning it again per entry would hash every kind name.
        let mut last: Option<(&str, Label)> = None;
        for (index, entry) in entries.iter().enumerate() {
            let kind = match last {
                Some((name, label)) if name == entry.kind => label,
                _ => labels.intern(&entry.kind),
            };
            last = Some((&entry.kind, kind));
            let index = index as u32;
            match by_key.entry(entry.key.as_str()) {
                // Sized for the one kind and entry most keys have.
                hash_map::Entry::Vacant(slot) => {
                    slot.insert(groups.len());
                    groups.push(KeyGroup {
                        key: entry.key.clone(),
                        kinds: vec![(kind, vec![index])],
                    });
                }
                hash_map::Entry::Occupied(slot) => {
                    let group = &mut groups[*slot.get()];
                    match group.kinds.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, entries)) => entries.push(index),
                        None => group.kinds.push((kind, vec![index])),
                    }
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::Standard)
            .build(groups.iter().map(|g| g.key.as_str()))
            .map_err(|e| Error::Gazetteer {
                file: "(all gazetteers)".into(),
                line: 0,
                message: e.to_string(),
            })?;
        Ok(Matcher { automaton, groups })
    }

    /// How many key occurrences the automaton reports in `text`, boundaries unchecked: the bare
    /// scan that bounds how fast matching can be (the throughput benchmark's ceiling).
    pub fn raw_count(&self, text: &str) -> usize {
        self.automaton.find_overlapping_iter(text).count()
    }

    /// Every key occurrence in `doc` that starts and ends on token boundaries.
    pub fn find(&self, doc: &Normalized) -> Vec<Hit> {
        let tokens = &doc.tokens;
        // The token each byte of the text belongs to: a match is kept when its first byte starts
        // a token and its last byte ends one.
        let mut token_of = vec![u32::MAX; doc.text.len()];
        for (i, t) in tokens.iter().enumerate() {
            token_of[t.range()].fill(i as u32);
        }
        let mut hits = Vec::new();
        for m in self.automaton.find_overlapping_iter(&doc.text) {
            if m.is_empty() {
                continue;
            }
            let (first, last) = (token_of[m.start()], token_of[m.end() - 1]);
            if first == u32::MAX
                || last == u32::MAX
                || tokens[first as usize].start as usize != m.start()
                || tokens[last as usize].end as usize != m.end()
            {
                continue;
            }
            hits.push(Hit {
                first,
                last: last + 1,
                key: m.pattern().as_u32(),
            });
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(tsv: &str) -> (Matcher, Gazetteer) {
        let mut g = Gazetteer::default();
        g.add_text("t.tsv", tsv).unwrap();
        (Matcher::new(&g, &mut Labels::default()).unwrap(), g)
    }

    fn found(m: &Matcher, text: &str) -> Vec<String> {
        let doc = Normalized::new(text);
        m.find(&doc)
            .iter()
            .map(|h| {
                doc.token_text(h.first as usize, h.last as usize)
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn keeps_only_matches_on_syllable_boundaries() {
        let (m, _) = matcher("surface\tkind\nan\tplace\nhòa an\tplace\n");
        assert_eq!(found(&m, "xã Hoà An, Toàn An"), vec!["hòa an", "an", "an"]);
        assert!(found(&m, "toan").is_empty());
    }

    #[test]
    fn a_longer_rejected_match_does_not_hide_a_shorter_one() {
        let (m, _) = matcher("surface\tkind\nUBND huyện\tbody\nUBND\tbody\n");
        assert_eq!(found(&m, "UBND huyệnx"), vec!["ubnd"]);
    }

    #[test]
    fn punctuation_in_entries_matches() {
        let (m, _) = matcher("surface\tkind\nTP.\tunit\nHCM\tplace\n");
        assert_eq!(found(&m, "TP.HCM"), vec!["tp.", "hcm"]);
    }
}

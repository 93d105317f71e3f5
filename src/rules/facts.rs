//! The rules' attribute tests answered once per pipeline for every gazetteer key and kind, so
//! matching a document never compares attribute strings for gazetteer annotations (the filters
//! `unit[!weak, rank!=village]`, `body[generic, cap]` are tried at most tokens).

use super::AttrTest;
use crate::gazetteer::Gazetteer;
use crate::label::Label;
use crate::matcher::Matcher;

/// For each `(key group, kind)` of the matcher, which attribute tests hold.
#[derive(Debug, Clone, Default)]
pub struct EntryFacts {
    /// The slot of each key group's first kind; its other kinds follow.
    base: Vec<u32>,
    /// `u64` words per slot.
    words: usize,
    bits: Vec<u64>,
}

impl EntryFacts {
    /// Evaluates `tests` over the entries behind every key and kind of `matcher`.
    pub fn new(tests: &[AttrTest], matcher: &Matcher, gazetteer: &Gazetteer) -> EntryFacts {
        let words = tests.len().div_ceil(64);
        let mut facts = EntryFacts {
            base: Vec::with_capacity(matcher.groups.len()),
            words,
            bits: Vec::new(),
        };
        for group in &matcher.groups {
            facts.base.push((facts.bits.len() / words.max(1)) as u32);
            for (_, entries) in &group.kinds {
                let mut slot = vec![0u64; words];
                for (t, test) in tests.iter().enumerate() {
                    let attrs = entries.iter().flat_map(|&e| {
                        gazetteer.entries[e as usize]
                            .attrs
                            .iter()
                            .map(|(k, v)| (k.as_str(), v.as_str()))
                    });
                    if test.holds(attrs) {
                        slot[t / 64] |= 1 << (t % 64);
                    }
                }
                facts.bits.extend(slot);
            }
        }
        facts
    }

    /// Whether test `test` holds for the entries of `key` under `label`.
    pub fn holds(&self, matcher: &Matcher, key: u32, label: Label, test: u16) -> bool {
        let Some(kind) = matcher.groups[key as usize]
            .kinds
            .iter()
            .position(|(k, _)| *k == label)
        else {
            return false;
        };
        let slot = self.base[key as usize] as usize + kind;
        let t = test as usize;
        self.bits[slot * self.words + t / 64] & (1 << (t % 64)) != 0
    }
}

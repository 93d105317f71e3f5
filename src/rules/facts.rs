//! The rules' attribute tests answered for gazetteer keys, so matching a document never compares
//! attribute strings for gazetteer annotations (filters such as `unit[!weak, rank!=village]` are
//! tried at most tokens). Answers are worked out the first time a key is asked about, so start-up
//! does not pay for the thousands of keys no document uses.

use std::sync::OnceLock;

use super::AttrTest;
use crate::pipeline::Pipeline;

/// For each `(key group, kind)` of the matcher, which attribute tests hold, 64 tests a word.
#[derive(Debug, Default)]
pub struct EntryFacts {
    /// Words per slot ([`Matcher::slot`](crate::matcher::Matcher::slot)).
    words: usize,
    bits: Vec<OnceLock<u64>>,
    /// The attribute names the tests read, each once, and the tests (by index) that read each.
    /// A place name can have fifty entries of a dozen attributes: each attribute is looked
    /// up among these names once, instead of being compared with every test.
    names: Vec<(String, Vec<u16>)>,
}

impl EntryFacts {
    /// Room for the answers to `tests` over every key and kind of `matcher`.
    pub fn new(tests: &[AttrTest], matcher: &crate::matcher::Matcher) -> EntryFacts {
        let words = tests.len().div_ceil(64);
        let mut names: Vec<(String, Vec<u16>)> = Vec::new();
        for (index, test) in tests.iter().enumerate() {
            let name = test.reads().0;
            let index = index as u16;
            match names.iter_mut().find(|(n, _)| n == name) {
                Some((_, tests)) => tests.push(index),
                None => names.push((name.to_string(), vec![index])),
            }
        }
        EntryFacts {
            words,
            bits: (0..matcher.slot_count() * words)
                .map(|_| OnceLock::new())
                .collect(),
            names,
        }
    }

    /// Whether attribute test `test` holds for the entries of `key` under its `kind`-th kind.
    // Inlined: the label filters ask it at most tokens, and once answered it is a few loads.
    #[inline]
    pub fn holds(&self, pipeline: &Pipeline, key: u32, kind: u32, test: u16) -> bool {
        let word = test as usize / 64;
        let slot = pipeline.matcher().slot(key, kind);
        let cell = &self.bits[slot * self.words + word];
        // Read before `get_or_init`: its closure was built on every call, answered or not.
        let bits = match cell.get() {
            Some(&bits) => bits,
            None => self.first_answer(cell, pipeline, key, kind, word),
        };
        bits & (1 << (test % 64)) != 0
    }

    /// Works out and keeps the answers of `cell` (see [`EntryFacts::answer`]); out of line, as
    /// a key is asked about once.
    #[cold]
    #[inline(never)]
    fn first_answer(
        &self,
        cell: &OnceLock<u64>,
        pipeline: &Pipeline,
        key: u32,
        kind: u32,
        word: usize,
    ) -> u64 {
        *cell.get_or_init(|| self.answer(pipeline, key, kind, word))
    }

    /// The answers of tests `64 * word ..` for the entries of `key` under its `kind`-th kind.
    fn answer(&self, pipeline: &Pipeline, key: u32, kind: u32, word: usize) -> u64 {
        let entries = &pipeline.matcher().groups[key as usize].kinds[kind as usize].1;
        let tests = &pipeline.rules().attr_tests;
        let gazetteer = pipeline.gazetteer();
        let window = word * 64..(word * 64 + 64).min(tests.len());
        // The tests whose attribute (with their value, for those that compare one) some entry has.
        let mut found = 0u64;
        let attrs = entries
            .iter()
            .flat_map(|&e| &gazetteer.entries[e as usize].attrs);
        for (name, value) in attrs {
            let Some((_, reading)) = self.names.iter().find(|(n, _)| **n == **name) else {
                continue;
            };
            for &test in reading {
                let test = test as usize;
                if window.contains(&test)
                    && tests[test]
                        .reads()
                        .1
                        .is_none_or(|wanted| wanted == &**value)
                {
                    found |= 1 << (test - window.start);
                }
            }
        }
        tests[window.clone()]
            .iter()
            .enumerate()
            .filter(|&(bit, test)| (found & (1 << bit) != 0) == test.holds_if_found())
            .fold(0, |bits, (bit, _)| bits | 1 << bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::Gazetteer;

    #[test]
    fn facts_answer_every_test_as_the_entries_attributes_do() {
        // Two entries under one key: any entry's value counts for `=`, none may have it for `!=`.
        let gazetteer = "surface\tkind\trank\tweak\tlevel\n\
            Tân Hòa\tplace\tcommune\t\txã\n\
            Tân Hòa\tplace\tdistrict\tyes\thuyện\n\
            Hà Nội\tplace\tprovince\t\t\n";
        let mut tests = Vec::new();
        for name in ["rank", "weak", "level", "named", "era", "alias"] {
            tests.push(name.to_string());
            tests.push(format!("!{name}"));
            for value in ["commune", "district", "province", "yes", "xã", "huyện"] {
                tests.push(format!("{name}={value}"));
                tests.push(format!("{name}!={value}"));
            }
        }
        // Past 64 tests, a second word of answers.
        assert!(tests.len() > 64);
        let rules: String = tests
            .iter()
            .enumerate()
            .map(|(i, t)| format!("r{i}: place[{t}] => LOC\n"))
            .collect();
        let mut gazetteer_set = Gazetteer::default();
        gazetteer_set.add_text("t.tsv", gazetteer).unwrap();
        let pipeline = Pipeline::from_texts(gazetteer_set, &[("t.rules".into(), rules)]).unwrap();
        let matcher = pipeline.matcher();
        let facts = pipeline.facts();
        let attr_tests = &pipeline.rules().attr_tests;
        assert!(attr_tests.len() > 64);
        for key in 0..matcher.groups.len() as u32 {
            for (kind, (_, entries)) in matcher.groups[key as usize].kinds.iter().enumerate() {
                for (index, test) in attr_tests.iter().enumerate() {
                    let attrs = entries.iter().flat_map(|&e| {
                        pipeline.gazetteer().entries[e as usize]
                            .attrs
                            .iter()
                            .map(|(k, v)| (&**k, &**v))
                    });
                    assert_eq!(
                        facts.holds(&pipeline, key, kind as u32, index as u16),
                        test.holds(attrs),
                        "{test:?} for key {key}"
                    );
                }
            }
        }
    }
}

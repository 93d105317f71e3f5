//! The rules' attribute tests answered for gazetteer keys, so matching a document never compares
//! attribute strings for gazetteer annotations (filters such as `unit[!weak, rank!=village]` are
//! tried at most tokens). Answers are worked out the first time a key is asked about, so start-up
//! does not pay for the thousands of keys no document uses.

use std::sync::OnceLock;

use crate::pipeline::Pipeline;

/// For each `(key group, kind)` of the matcher, which attribute tests hold, 64 tests a word.
#[derive(Debug, Default)]
pub struct EntryFacts {
    /// Words per slot ([`Matcher::slot`](crate::matcher::Matcher::slot)).
    words: usize,
    bits: Vec<OnceLock<u64>>,
}

impl EntryFacts {
    /// Room for the answers to `tests` tests over every key and kind of `matcher`.
    pub fn new(tests: usize, matcher: &crate::matcher::Matcher) -> EntryFacts {
        let words = tests.div_ceil(64);
        EntryFacts {
            words,
            bits: (0..matcher.slot_count() * words)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// Whether attribute test `test` holds for the entries of `key` under its `kind`-th kind.
    pub fn holds(&self, pipeline: &Pipeline, key: u32, kind: u32, test: u16) -> bool {
        let word = test as usize / 64;
        let slot = pipeline.matcher().slot(key, kind);
        let bits = self.bits[slot * self.words + word].get_or_init(|| {
            let entries = &pipeline.matcher().groups[key as usize].kinds[kind as usize].1;
            let tests = &pipeline.rules().attr_tests;
            let gazetteer = pipeline.gazetteer();
            let mut bits = 0u64;
            for (bit, test) in tests.iter().skip(word * 64).take(64).enumerate() {
                let attrs = entries.iter().flat_map(|&e| {
                    gazetteer.entries[e as usize]
                        .attrs
                        .iter()
                        .map(|(k, v)| (&**k, &**v))
                });
                if test.holds(attrs) {
                    bits |= 1 << bit;
                }
            }
            bits
        });
        bits & (1 << (test % 64)) != 0
    }
}

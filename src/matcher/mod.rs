//! The matcher: one Aho-Corasick automaton over every gazetteer key, run over the document's
//! tokens rather than its bytes.
//!
//! Each distinct token of the keys (a few thousand syllables and marks) gets a numeric code, and
//! both keys and documents are read as codes, with the gaps between tokens (a space, a line
//! break, nothing) kept. A byte automaton over the normalised text reported every key found
//! inside a longer word (`an` in `toàn`) and had to throw more than half of its matches away;
//! over codes every match starts and ends on a token by construction, a document takes one step
//! per token, and a token no key contains stops every partial match at once. The automaton
//! itself is in `automaton.rs`.
//!
//! Matches are searched overlapping, because with leftmost-longest semantics a longer key would
//! hide the shorter ones at the same position. Choosing among them is the rules' job, which see
//! every candidate.

mod automaton;
mod table;

use std::collections::hash_map;
use std::ops::Range;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::gazetteer::Gazetteer;
use crate::label::{Label, Labels};
use crate::text::{Normalized, Token, Tokenized};
use automaton::{Automaton, Entry, Symbol};
use table::{Table, Value};

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

/// What the matcher finds in a document.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub hits: Vec<Hit>,
    /// Each token's code ([`Matcher::code`]): 0 for a token that is none of the numbered words.
    pub codes: Vec<u32>,
}

/// One kind of one key group, as annotations ask about it: a flat table of these (see
/// [`Matcher::kinds`]) is read for every hit, where the groups' own lists cost a cache miss each.
#[derive(Debug, Clone, Copy)]
pub struct KindSlot {
    pub label: Label,
    /// Its first entry (index into the gazetteer).
    pub first_entry: u32,
    /// Its first entry with a canonical form, if one has.
    pub canonical_entry: Option<u32>,
}

/// The compiled automaton and the entries behind each pattern.
#[derive(Debug, Clone)]
pub struct Matcher {
    automaton: Automaton,
    codes: Codes,
    pub groups: Vec<KeyGroup>,
    /// Every kind of every group, group by group; the kinds of group `g` are
    /// `slots[slot_ranges[g]]`. A range per group rather than each group's start, so a hit's
    /// kinds are one lookup.
    slots: Vec<KindSlot>,
    slot_ranges: Vec<Range<u32>>,
}

impl Matcher {
    /// Compiles every entry of `gazetteer`; entry kinds are interned in `labels`. The tokens of
    /// the keys are numbered, and so are the `words` (normalised tokens, such as the rules'
    /// literals), so that a document's [`Scan::codes`] say which of them each token is.
    pub fn new(
        gazetteer: &Gazetteer,
        labels: &mut Labels,
        words: &[String],
    ) -> Result<Matcher, Error> {
        let entries = &gazetteer.entries;
        let mut by_key: FxHashMap<&str, usize> =
            FxHashMap::with_capacity_and_hasher(entries.len(), Default::default());
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
        // Keys are normalised already (the gazetteer's `match_key`), but their tokens are made by
        // the same normaliser as a document's, so that the two always agree.
        let keys: Vec<Tokenized> = groups
            .par_chunks(KEYS_PER_TASK)
            .map(|chunk| Tokenized::new(chunk.iter().map(|g| g.key.as_str())))
            .collect();
        let mut codes = Codes::new(&keys, words).ok_or_else(|| {
            Error::gazetteer(
                ALL_GAZETTEERS,
                0,
                "more distinct words than the matcher can number (a billion)",
            )
        })?;
        let automaton = Automaton::new(keys.iter().flat_map(|chunk| {
            chunk
                .texts()
                .map(|tokens| codes.symbols(&chunk.text, tokens))
        }));
        codes.enter(|code| automaton.entry(code));
        let (slots, slot_ranges) = kind_slots(gazetteer, &groups);
        Ok(Matcher {
            automaton,
            codes,
            groups,
            slots,
            slot_ranges,
        })
    }

    /// The kinds of key group `key`, in the order of its [`KeyGroup::kinds`].
    #[inline]
    pub fn kinds(&self, key: u32) -> &[KindSlot] {
        let Range { start, end } = self.slot_ranges[key as usize];
        &self.slots[start as usize..end as usize]
    }

    /// The number of the `kind`-th kind of key group `key` among all groups' kinds (for tables
    /// of facts per kind).
    pub fn slot(&self, key: u32, kind: u32) -> usize {
        self.slot_ranges[key as usize].start as usize + kind as usize
    }

    /// How many kinds all groups have.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The code of a normalised token; 0 when it is neither in a key nor one of the words.
    pub fn code(&self, token: &str) -> u32 {
        self.codes.code(token.as_bytes(), 0..token.len())
    }

    /// How many key occurrences the automaton reports in `doc`: the bare scan that bounds how
    /// fast matching can be (the throughput benchmark's ceiling).
    pub fn raw_count(&self, doc: &Normalized) -> usize {
        let mut count = 0;
        self.scan(doc, &mut Vec::new(), |_| count += 1);
        count
    }

    /// Every key occurrence in `doc`, and the code of each token.
    pub fn find(&self, doc: &Normalized) -> Scan {
        let mut scan = Scan::default();
        self.find_into(doc, &mut scan);
        scan
    }

    /// [`Matcher::find`] into the buffers of `scan`, whose contents are replaced: a worker
    /// scanning document after document allocates only when one has more tokens or hits than
    /// all before.
    pub fn find_into(&self, doc: &Normalized, scan: &mut Scan) {
        let Scan { hits, codes } = scan;
        hits.clear();
        self.scan(doc, codes, |hit| hits.push(hit));
    }

    /// Runs the automaton over `doc`, calling `found` with each key occurrence in order of its
    /// end (longest first at one end); writes the code of each token into `codes`.
    fn scan(&self, doc: &Normalized, codes_out: &mut Vec<u32>, mut found: impl FnMut(Hit)) {
        // Pushed to as a local: through the reference, every push would read the vector again.
        let mut codes = std::mem::take(codes_out);
        codes.clear();
        // Pushed to after reserving: the capacity test is a branch always taken the same way,
        // cheaper than zeroing the vector first to write it in place.
        codes.reserve(doc.tokens.len());
        let text = doc.text.as_bytes();
        let mut state = self.automaton.start();
        let mut previous_end = first_start(&doc.tokens);
        for (last, token) in (1..).zip(&doc.tokens) {
            let [code, entry] = self.codes.lookup(text, token.range());
            codes.push(code);
            let symbol = move || Symbol {
                gap: gap(text, previous_end, token),
                code,
            };
            state = self.automaton.step(state, entry, symbol);
            previous_end = token.end as usize;
            self.automaton.each_match(state, |len, key| {
                found(Hit {
                    first: last - len,
                    last,
                    key,
                })
            });
        }
        *codes_out = codes;
    }
}

/// The [`KindSlot`]s of `groups`, and where each group's kinds are among them.
fn kind_slots(gazetteer: &Gazetteer, groups: &[KeyGroup]) -> (Vec<KindSlot>, Vec<Range<u32>>) {
    let mut slots = Vec::with_capacity(groups.len());
    let mut ranges = Vec::with_capacity(groups.len());
    for group in groups {
        let start = slots.len() as u32;
        slots.extend(group.kinds.iter().map(|(label, entries)| {
            KindSlot {
                label: *label,
                // A group's kind exists because an entry has it.
                first_entry: entries[0],
                canonical_entry: entries
                    .iter()
                    .copied()
                    .find(|&e| gazetteer.entries[e as usize].canonical.is_some()),
            }
        }));
        ranges.push(start..slots.len() as u32);
    }
    (slots, ranges)
}

/// Keys tokenised together, sharing their buffers: enough to make allocations rare, few enough
/// for the threads to share the work.
const KEYS_PER_TASK: usize = 1024;

/// The file named by an error of the gazetteers as a whole.
const ALL_GAZETTEERS: &str = "(all gazetteers)";

/// What separates a token from the one before it, which must be a key's own for the key to
/// match: normalised text has nothing, one space or one line break between tokens; anything
/// else is one more kind of gap, so that it could only ever match itself.
const NO_GAP: u8 = 0;
const SPACE: u8 = 1;
const LINE_BREAK: u8 = 2;
const OTHER_GAP: u8 = 3;

/// The gap a byte makes alone between two tokens: one load, where testing for each of the
/// separators took several instructions.
const GAP_OF_BYTE: [u8; 256] = {
    let mut gaps = [OTHER_GAP; 256];
    gaps[b' ' as usize] = SPACE;
    gaps[b'\n' as usize] = LINE_BREAK;
    gaps
};

/// The gap before `token`, when the token before ends at byte `previous_end` of `text`.
#[inline]
fn gap(text: &[u8], previous_end: usize, token: &Token) -> u8 {
    // On the distance first: a slice of the text between would cost two bounds checks.
    match (token.start as usize).wrapping_sub(previous_end) {
        0 => NO_GAP,
        1 => text
            .get(previous_end)
            .map_or(OTHER_GAP, |&byte| GAP_OF_BYTE[usize::from(byte)]),
        _ => OTHER_GAP,
    }
}

/// The end of the token before the first of `tokens`: nothing comes before it, so it is given
/// its own start.
fn first_start(tokens: &[Token]) -> usize {
    tokens.first().map_or(0, |token| token.start as usize)
}

/// The numbering of tokens that keys and documents are read in by the automaton.
///
/// Codes are numbered from 1, the tokens of keys first; 0 is every token that is neither in a
/// key nor a word. Beside each code is how the automaton enters on it ([`Automaton::entry`]),
/// set once the automaton is built.
#[derive(Debug, Clone)]
struct Codes {
    /// Tokens of up to eight bytes (nearly every Vietnamese syllable), keyed by their bytes read
    /// as one integer ([`short_key`]).
    short: Table,
    /// Longer tokens.
    long: FxHashMap<Box<[u8]>, Value>,
}

impl Codes {
    /// Numbers the distinct tokens of `keys` and `words`; `None` when there are more than
    /// [`Symbol`] can hold. A word no key contains gets a code no pattern has, so it stops a
    /// match as code 0 does.
    fn new(keys: &[Tokenized], words: &[String]) -> Option<Codes> {
        let mut of = FxHashMap::default();
        let key_tokens = keys
            .iter()
            .flat_map(|key| key.tokens.iter().map(|t| &key.text[t.range()]));
        for token in key_tokens.chain(words.iter().map(String::as_str)) {
            let next = of.len() as u32 + 1;
            of.entry(token).or_insert(next);
        }
        if of.len() >= MAX_CODES {
            return None;
        }
        let (short, long): (Vec<_>, Vec<_>) = of
            .into_iter()
            .partition(|(token, _)| token.len() <= SHORT_TOKEN);
        Some(Codes {
            short: Table::new(
                short
                    .iter()
                    .map(|&(token, code)| (short_key(token.as_bytes(), 0..token.len()), [code, 0])),
            ),
            long: long
                .into_iter()
                .map(|(token, code)| (Box::from(token.as_bytes()), [code, 0]))
                .collect(),
        })
    }

    /// Sets the automaton's [`Entry`] beside each code.
    fn enter(&mut self, entry: impl Fn(u32) -> Entry) {
        for value in self.short.values_mut().chain(self.long.values_mut()) {
            value[1] = entry(value[0]);
        }
    }

    /// The code of the token at `range` of `text`.
    fn code(&self, text: &[u8], range: std::ops::Range<usize>) -> u32 {
        self.lookup(text, range)[0]
    }

    /// The code of the token at `range` of `text` and the automaton's [`Entry`] on it.
    #[inline(always)]
    fn lookup(&self, text: &[u8], range: std::ops::Range<usize>) -> Value {
        if range.end.wrapping_sub(range.start) <= SHORT_TOKEN {
            self.short.get(short_key(text, range))
        } else {
            self.long_lookup(text, range)
        }
    }

    /// [`lookup`](Self::lookup) of a token longer than [`SHORT_TOKEN`]: rare, so kept out of the
    /// scan loop that inlines the short case.
    #[inline(never)]
    fn long_lookup(&self, text: &[u8], range: std::ops::Range<usize>) -> Value {
        text.get(range)
            .and_then(|token| self.long.get(token))
            .copied()
            .unwrap_or_default()
    }

    /// The `tokens` of a key's `text` as the automaton reads them: each one's gap and code.
    fn symbols<'t>(
        &'t self,
        text: &'t str,
        tokens: &'t [Token],
    ) -> impl Iterator<Item = Symbol> + 't {
        let bytes = text.as_bytes();
        tokens
            .iter()
            .scan(first_start(tokens), move |previous_end, token| {
                let symbol = Symbol {
                    gap: gap(bytes, *previous_end, token),
                    code: self.code(bytes, token.range()),
                };
                *previous_end = token.end as usize;
                Some(symbol)
            })
    }
}

/// Codes fit in the 29 bits [`Symbol`] gives them.
const MAX_CODES: usize = 1 << 29;

/// The most bytes a token of [`Codes::short`] has.
const SHORT_TOKEN: usize = 8;

/// The bytes at `range` of `text`, at most [`SHORT_TOKEN`] of them, as one integer (the bytes
/// past the token are zero). Tokens have no NUL byte (normalisation makes control characters
/// spaces), so the integer says the token's length too.
#[inline]
fn short_key(text: &[u8], range: std::ops::Range<usize>) -> u64 {
    // A token's end is never before its start: one subtraction, where `len` tests for that.
    let len = range.end.wrapping_sub(range.start);
    // One unaligned load where the text goes on for eight bytes, masked to the token.
    let bytes = match text.get(range.start..range.start + SHORT_TOKEN) {
        Some(&[a, b, c, d, e, f, g, h]) => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => text
            .get(range)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0, |key, &b| key << 8 | u64::from(b)),
    };
    bytes & LOW_BYTES[len]
}

/// The mask of the low `n` bytes of a `u64`, for `n` up to [`SHORT_TOKEN`]: one load where a
/// shift of all ones took seven instructions (the count's test and a move for the zero case).
const LOW_BYTES: [u64; SHORT_TOKEN + 1] = {
    let mut masks = [0; SHORT_TOKEN + 1];
    let mut n = 1;
    while n <= SHORT_TOKEN {
        masks[n] = u64::MAX >> (8 * (SHORT_TOKEN - n));
        n += 1;
    }
    masks
};

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(tsv: &str) -> (Matcher, Gazetteer) {
        let mut g = Gazetteer::default();
        g.add_text("t.tsv", tsv).unwrap();
        (Matcher::new(&g, &mut Labels::default(), &[]).unwrap(), g)
    }

    fn found(m: &Matcher, text: &str) -> Vec<String> {
        let doc = Normalized::new(text);
        m.find(&doc)
            .hits
            .iter()
            .map(|h| {
                doc.token_text(h.first as usize, h.last as usize)
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn each_kind_of_a_key_has_its_slot_with_its_first_canonical_entry() {
        let (m, _) = matcher(
            "surface\tkind\tcanonical\nUBND\tbody\t\nUBND\tbody\tỦy ban nhân dân\nUBND\tcode\t\n",
        );
        let kinds = m.kinds(0);
        assert_eq!(kinds.len(), 2);
        assert_eq!(
            (kinds[0].first_entry, kinds[0].canonical_entry),
            (0, Some(1))
        );
        assert_eq!((kinds[1].first_entry, kinds[1].canonical_entry), (2, None));
        assert_eq!(m.slot(0, 1), 1);
        assert_eq!(m.slot_count(), 2);
    }

    #[test]
    fn matches_are_whole_tokens() {
        let (m, _) = matcher("surface\tkind\nan\tplace\nhòa an\tplace\n");
        assert_eq!(found(&m, "xã Hoà An, Toàn An"), vec!["hòa an", "an", "an"]);
        assert!(found(&m, "toan").is_empty());
    }

    #[test]
    fn a_longer_key_cut_short_does_not_hide_a_shorter_one() {
        let (m, _) = matcher("surface\tkind\nUBND huyện\tbody\nUBND\tbody\n");
        assert_eq!(found(&m, "UBND huyệnx"), vec!["ubnd"]);
    }

    #[test]
    fn the_gaps_between_tokens_must_be_the_keys_own() {
        let (m, _) = matcher("surface\tkind\nTP.HCM\tplace\nHòa An\tplace\n");
        assert_eq!(found(&m, "TP.HCM và Hòa An"), vec!["tp.hcm", "hòa an"]);
        assert!(found(&m, "TP. HCM").is_empty());
        assert!(found(&m, "Hòa\nAn").is_empty());
        assert!(found(&m, "HòaAn").is_empty());
    }

    #[test]
    fn a_word_no_key_contains_stops_a_match() {
        let (m, _) = matcher("surface\tkind\nhòa an\tplace\nan\tplace\n");
        assert_eq!(found(&m, "hòa bình an"), vec!["an"]);
    }

    #[test]
    fn every_token_has_its_own_code_wherever_it_stands() {
        // One, two, eight (`trường`) and more than eight bytes; a prefix of another token.
        let words = ["a", "ab", "trường", "trườn", "nghiêng", "chủtịchhuyện"].map(String::from);
        let codes = Codes::new(&[], &words).unwrap();
        let alone: Vec<u32> = words
            .iter()
            .map(|w| codes.code(w.as_bytes(), 0..w.len()))
            .collect();
        let mut distinct = alone.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), words.len());
        assert!(!alone.contains(&0));
        for (word, &code) in words.iter().zip(&alone) {
            // Followed by more text, the token is read from a longer load.
            let text = format!("x {word} và các xã");
            assert_eq!(
                codes.code(text.as_bytes(), 2..2 + word.len()),
                code,
                "{word}"
            );
        }
        assert_eq!(codes.code(b"abc", 0..3), 0);
        assert_eq!(codes.code("trường".as_bytes(), 0..3), 0);
    }

    #[test]
    fn punctuation_in_entries_matches() {
        let (m, _) = matcher("surface\tkind\nTP.\tunit\nHCM\tplace\n");
        assert_eq!(found(&m, "TP.HCM"), vec!["tp.", "hcm"]);
    }
}

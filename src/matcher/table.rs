//! A map from `u64` keys to pairs of `u32` values, the first nonzero: an open-addressing table
//! at most a quarter full, where a lookup is a multiply and a compare or two (a general hash map
//! hashes and probes in groups, and a string map calls memcmp). The matcher looks up the code of
//! nearly every token of every document here, and beside it what the automaton does on it: a
//! slot holds both in the 16 bytes a key and one value would take with padding.
//!
//! A probe runs on past the last home slot rather than wrapping around: a table keeps the slots
//! its keys overflowed into and one empty slot after them, so a probe keeps no mask.

/// The table.
#[derive(Debug, Clone)]
pub(super) struct Table {
    /// `(key, value)`; a value whose first number is 0 marks an empty slot.
    slots: Vec<(u64, Value)>,
    /// How far a key's hash is shifted to give its home slot: 64 less the bits of the size.
    shift: u32,
}

/// A value of the [`Table`].
pub(super) type Value = [u32; 2];

/// Whether a slot of the [`Table`] holding `value` is empty.
fn unused(value: Value) -> bool {
    value[0] == 0
}

impl Table {
    /// The table of `entries`, whose values' first numbers are nonzero (0 reads as absent) and
    /// keys distinct.
    pub fn new(entries: impl ExactSizeIterator<Item = (u64, Value)>) -> Table {
        // A quarter full rather than half: fewer probes past the home slot, and no more cache
        // misses (the common tokens' slots are the ones read), for a table twice the size.
        let size = (entries.len() * 4).next_power_of_two().max(16);
        let mut table = Table {
            slots: vec![(0, [0; 2]); overflowed(size)],
            shift: 64 - size.trailing_zeros(),
        };
        for (key, value) in entries {
            let (at, _) = table.slot(key);
            table.slots[at] = (key, value);
        }
        table.slots.truncate(kept(&table.slots, size, unused));
        table
    }

    /// The slot of `key` and its value: its own, or the empty one where it would go.
    #[inline]
    fn slot(&self, key: u64) -> (usize, Value) {
        // The high bits of the product are the ones every bit of the key reaches.
        let home = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        probe(&self.slots, home, key, unused)
    }

    /// The value of `key`, or zeros.
    #[inline]
    pub fn get(&self, key: u64) -> Value {
        self.slot(key).1
    }

    /// Every value, to change in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.slots
            .iter_mut()
            .map(|(_, value)| value)
            .filter(|value| !unused(**value))
    }
}

/// The slot of `key` in an open-addressing table (a value that is `unused` marks an empty
/// slot), probing on from slot `at`, its home: the key's own slot, or the empty one where it
/// would go, and the value there (returned with it, as reading it again would test the index
/// again). The table has an empty slot after its last full one ([`kept`]).
#[inline]
pub(super) fn probe<K: Copy + PartialEq, V: Copy>(
    slots: &[(K, V)],
    mut at: usize,
    key: K,
    unused: impl Fn(V) -> bool,
) -> (usize, V) {
    loop {
        match slots[at] {
            (_, value) if unused(value) => return (at, value),
            (k, value) if k == key => return (at, value),
            _ => at += 1,
        }
    }
}

/// The slots to fill a table of `size` home slots in, at most half full: room for every key to
/// overflow past the last home slot.
pub(super) fn overflowed(size: usize) -> usize {
    size * 2
}

/// How many of the [`overflowed`] `slots` of a filled table of `size` home slots to keep: every
/// home slot, and up to one empty slot past the last full one, where every probe ends.
pub(super) fn kept<K, V: Copy>(slots: &[(K, V)], size: usize, unused: impl Fn(V) -> bool) -> usize {
    let last = slots.iter().rposition(|&(_, value)| !unused(value));
    last.map_or(0, |last| last + 2).max(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_nothing_else() {
        // Keys that differ in their low or high bits only, zero among them.
        let keys: Vec<u64> = (0..1000u64)
            .flat_map(|i| [i, i << 40, i << 2 | 3])
            .collect();
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        let entries: Vec<(u64, Value)> = distinct
            .iter()
            .copied()
            .zip(1..)
            .map(|(k, v)| (k, [v, v * 3]))
            .collect();
        let table = Table::new(entries.iter().copied());
        for (key, value) in entries {
            assert_eq!(table.get(key), value);
        }
        assert_eq!(table.get(5000), [0; 2]);
        assert_eq!(table.get(u64::MAX), [0; 2]);
        assert_eq!(Table::new(std::iter::empty()).get(0), [0; 2]);
    }
}

//! A map from `u64` keys to pairs of `u32` values, the first nonzero: an open-addressing table
//! at most half full, where a lookup is a multiply and a compare or two (a general hash map
//! hashes and probes in groups, and a string map calls memcmp). The matcher looks up the code of
//! nearly every token of every document here, and beside it what the automaton does on it: a
//! slot holds both in the 16 bytes a key and one value would take with padding.

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
        let size = (entries.len() * 2).next_power_of_two().max(16);
        let mut table = Table {
            slots: vec![(0, [0; 2]); size],
            shift: 64 - size.trailing_zeros(),
        };
        for (key, value) in entries {
            let (at, _) = table.slot(key);
            table.slots[at] = (key, value);
        }
        table
    }

    /// The slot of `key` and its value: its own, or the empty one where it would go.
    #[inline]
    fn slot(&self, key: u64) -> (usize, Value) {
        // The high bits of the product are the ones every bit of the key reaches.
        let home = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        probe(&self.slots, 0, self.slots.len() - 1, home, key, unused)
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

/// The slot of `key` in the open-addressing table `slots[start..=start + mask]` (`mask + 1` slots,
/// a power of two, `start` a multiple of it; a value that is `unused` marks an empty slot),
/// probing on from slot `home` of the table: the key's own slot, or the empty one where it would
/// go, and the value there (returned with it, as reading it again would test the index again).
#[inline]
pub(super) fn probe<K: Copy + PartialEq, V: Copy>(
    slots: &[(K, V)],
    start: usize,
    mask: usize,
    mut home: usize,
    key: K,
    unused: impl Fn(V) -> bool,
) -> (usize, V) {
    loop {
        let slot = start | home;
        match slots[slot] {
            (_, value) if unused(value) => return (slot, value),
            (k, value) if k == key => return (slot, value),
            _ => home = (home + 1) & mask,
        }
    }
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

//! A map from `u64` keys to nonzero `u32` values: an open-addressing table at most half full,
//! where a lookup is a multiply and a compare or two (a general hash map hashes and probes in
//! groups, and a string map calls memcmp). The matcher looks up the code of nearly every token
//! of every document here.

/// The table.
#[derive(Debug, Clone)]
pub(super) struct Table {
    /// `(key, value)`; value 0 marks an empty slot.
    slots: Vec<(u64, u32)>,
    /// How far a key's hash is shifted to give its home slot: 64 less the bits of the size.
    shift: u32,
}

impl Table {
    /// The table of `entries`, whose values are nonzero (0 reads as absent) and keys distinct.
    pub fn new(entries: impl ExactSizeIterator<Item = (u64, u32)>) -> Table {
        let size = (entries.len() * 2).next_power_of_two().max(16);
        let mut table = Table {
            slots: vec![(0, 0); size],
            shift: 64 - size.trailing_zeros(),
        };
        for (key, value) in entries {
            let at = table.slot(key);
            table.slots[at] = (key, value);
        }
        table
    }

    /// The slot of `key`: its own, or the empty one where it would go.
    #[inline]
    fn slot(&self, key: u64) -> usize {
        // The high bits of the product are the ones every bit of the key reaches.
        let home = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        probe(&self.slots, 0, self.slots.len() - 1, home, key)
    }

    /// The value of `key`, or 0.
    #[inline]
    pub fn get(&self, key: u64) -> u32 {
        self.slots[self.slot(key)].1
    }
}

/// The slot of `key` in the open-addressing table `slots[start..=start + mask]` (`mask + 1` slots,
/// a power of two, `start` a multiple of it; value 0 marks an empty slot), probing on from slot
/// `home` of the table: the key's own slot, or the empty one where it would go.
#[inline]
pub(super) fn probe<K: Copy + PartialEq>(
    slots: &[(K, u32)],
    start: usize,
    mask: usize,
    mut home: usize,
    key: K,
) -> usize {
    loop {
        let slot = start | home;
        match slots[slot] {
            (_, 0) => return slot,
            (k, _) if k == key => return slot,
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
        let entries: Vec<(u64, u32)> = distinct.iter().copied().zip(1..).collect();
        let table = Table::new(entries.iter().copied());
        for (key, value) in entries {
            assert_eq!(table.get(key), value);
        }
        assert_eq!(table.get(5000), 0);
        assert_eq!(table.get(u64::MAX), 0);
        assert_eq!(Table::new(std::iter::empty()).get(0), 0);
    }
}

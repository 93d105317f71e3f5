//! Byte searches eight bytes at a time: a word of eight bytes is tested at once for a byte equal
//! to a needle, after an exclusive or with the needle in every byte, by the classic zero-byte
//! test. The gazetteers' cells and the output's CSV cells are short, so this beats a byte loop and
//! the set-up of a `memchr` call.

const ONES: u64 = u64::from_le_bytes([1; 8]);

/// The high bit of each byte of `word` (read little-endian) equal to `needle`. A borrow may also
/// flag a byte after the first equal one, never one before it: the lowest flag is exact, and so
/// is whether there is any.
#[inline]
pub fn equal_bytes(word: u64, needle: u8) -> u64 {
    let x = word ^ (ONES * u64::from(needle));
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// The high bit of each byte of `word` that is a control character (under 0x20), exact in the
/// same way as [`equal_bytes`].
#[inline]
pub fn control_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x20) & !word & (ONES << 7)
}

/// The eight bytes of `bytes` from `at`, read little-endian.
#[inline]
pub fn word_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Where `needle` first occurs in `haystack`.
pub fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    find_first(haystack, |word| equal_bytes(word, needle), |b| b == needle)
}

/// Where the first byte of `haystack` that `is` holds for lies, found eight bytes at a time by
/// `flags`, which gives the high bit of each byte of a word (read little-endian) that `is` holds
/// for, exact at the lowest (as [`equal_bytes`]).
#[inline]
pub fn find_first(
    haystack: &[u8],
    flags: impl Fn(u64) -> u64,
    is: impl Fn(u8) -> bool,
) -> Option<usize> {
    let (words, rest) = haystack.as_chunks::<8>();
    let mut start = 0;
    for &word in words {
        let found = flags(u64::from_le_bytes(word));
        if found != 0 {
            return Some(start + found.trailing_zeros() as usize / 8);
        }
        start += 8;
    }
    let rest = rest.iter().position(|&b| is(b));
    rest.map(|at| start + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_found_as_a_byte_scan_finds_them() {
        let text = "\tab\t\tcd\u{1ec7}\t\u{9}efghijklmnop\tq\t";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let haystack = &text.as_bytes()[start..end];
                for needle in [b'\t', b'a', 0x87, b'z'] {
                    let scan = haystack.iter().position(|&b| b == needle);
                    assert_eq!(find_byte(haystack, needle), scan, "{haystack:?} {needle}");
                }
            }
        }
    }
}

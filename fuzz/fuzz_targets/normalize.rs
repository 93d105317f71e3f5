//! Arbitrary bytes through the normaliser: no panic, and every token and offset lies on a
//! character boundary within bounds.

#![no_main]

use libfuzzer_sys::fuzz_target;

// Shared with the annotate target, which uses the other half.
#[allow(dead_code)]
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(problem) = invariants::check_normalized(&text) {
        panic!("{problem} in {text:?}");
    }
});

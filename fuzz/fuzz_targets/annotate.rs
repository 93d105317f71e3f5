//! Arbitrary bytes through the whole pipeline: no panic, and every mention's offsets lie within
//! the text with the mention's text equal to its slice.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vnner::Pipeline;

// Shared with the normalize target, which uses the other half.
#[allow(dead_code)]
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let pipeline =
        PIPELINE.get_or_init(|| Pipeline::builtin().expect("the built-in resources load"));
    let text = String::from_utf8_lossy(data);
    if let Err(problem) = invariants::check_annotations(&text, &pipeline.annotate(&text)) {
        panic!("{problem} in {text:?}");
    }
});

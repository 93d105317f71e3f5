//! The invariants checked by the property tests (`tests/properties.rs`) and the fuzz targets
//! (`fuzz/`), in one place: offsets within bounds and on character boundaries, and every
//! mention's text equal to its slice of the original.

use vnner::text::{display_form, match_key, Normalized};
use vnner::Annotations;

/// Normalises `original` and checks the tokens and the map back to the original; also runs the
/// display and match-key folds (which must not panic).
pub fn check_normalized(original: &str) -> Result<(), String> {
    let doc = Normalized::new(original);
    let chars = original.chars().count();
    let mut previous_end = 0;
    for (i, token) in doc.tokens.iter().enumerate() {
        let (start, end) = (token.start as usize, token.end as usize);
        if start < previous_end || start >= end || end > doc.text.len() {
            return Err(format!(
                "token {i} at {start}..{end} is out of order or bounds"
            ));
        }
        if !doc.text.is_char_boundary(start) || !doc.text.is_char_boundary(end) {
            return Err(format!(
                "token {i} at {start}..{end} is not on character boundaries"
            ));
        }
        previous_end = end;
        let (s, e) = doc.original_span(start, end);
        if s > e || e > chars {
            return Err(format!(
                "token {i} maps to {s}..{e} in an original of {chars} characters"
            ));
        }
        let (s, e) = doc.token_span(i, i + 1);
        if s > e || e > chars {
            return Err(format!(
                "token span {i} is {s}..{e} in an original of {chars} characters"
            ));
        }
        doc.original_slice(original, s, e);
    }
    display_form(original);
    match_key(original);
    Ok(())
}

/// Checks that every mention and relation of `found` lies within `text`, and that each
/// mention's text is exactly its code-point slice.
pub fn check_annotations(text: &str, found: &Annotations) -> Result<(), String> {
    let chars: Vec<char> = text.chars().collect();
    for m in &found.mentions {
        if m.start > m.end || m.end > chars.len() {
            return Err(format!(
                "mention {m:?} is outside the {} characters",
                chars.len()
            ));
        }
        let slice: String = chars[m.start..m.end].iter().collect();
        if slice != m.text {
            return Err(format!(
                "mention {m:?} has text {:?} but its slice is {slice:?}",
                m.text
            ));
        }
    }
    for r in &found.relations {
        if r.person_start > chars.len() || r.role_start > chars.len() {
            return Err(format!(
                "relation {r:?} starts outside the {} characters",
                chars.len()
            ));
        }
    }
    Ok(())
}

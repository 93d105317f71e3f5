//! Linking: who holds which role.
//!
//! The rules say which person holds which role (`hold` actions); this stage turns those pairs
//! into relation rows, one per distinct (person, role) of a document, and points each role written
//! without a name (`đồng chí Chủ tịch UBND huyện`) at the person who holds it earlier in the same
//! document.

use rustc_hash::FxHashSet;

use crate::text::match_key;

/// A person-holds-role pair by annotation ids, with the keys used to compare them.
#[derive(Debug, Clone)]
pub struct Pair {
    pub person: u32,
    pub role: u32,
}

/// Keeps the first of each pair whose person and role read the same after normalisation.
pub fn distinct_pairs(holds: &[(u32, u32)], text: impl Fn(u32) -> String) -> Vec<Pair> {
    let mut seen = FxHashSet::default();
    let mut pairs = Vec::new();
    for &(person, role) in holds {
        if seen.insert((match_key(&text(person)), match_key(&text(role)))) {
            pairs.push(Pair { person, role });
        }
    }
    pairs
}

/// For each role annotation not held by anyone, the person who held the same role earlier.
///
/// `roles` are `(annotation id, first token)` in document order; returns `(role id, person id)`.
pub fn refer_nameless(
    roles: &[(u32, u32)],
    held: &[(u32, u32, u32)],
    key: impl Fn(u32) -> String,
) -> Vec<(u32, u32)> {
    let holding: FxHashSet<u32> = held.iter().map(|&(_, role, _)| role).collect();
    let mut out = Vec::new();
    for &(role, first) in roles {
        if holding.contains(&role) {
            continue;
        }
        let wanted = key(role);
        // The nearest earlier holder of a role that reads the same.
        let holder = held
            .iter()
            .filter(|&&(_, r, at)| at < first && key(r) == wanted)
            .max_by_key(|&&(_, _, at)| at)
            .map(|&(person, _, _)| person);
        if let Some(person) = holder {
            out.push((role, person));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_distinct_after_normalisation() {
        let texts = [
            "Phạm Gia Túc",
            "Bí thư Tỉnh ủy",
            "Phạm Gia Túc",
            "Bí thư Tỉnh uỷ",
        ];
        let pairs = distinct_pairs(&[(0, 1), (2, 3)], |i| texts[i as usize].to_string());
        assert_eq!(pairs.len(), 1);
    }

    #[test]
    fn a_nameless_role_refers_to_the_earlier_holder() {
        let keys = ["a", "chủ tịch ubnd huyện", "chủ tịch ubnd huyện", "b"];
        let held = [(0, 1, 5)];
        let refs = refer_nameless(&[(1, 5), (2, 40)], &held, |i| keys[i as usize].to_string());
        assert_eq!(refs, vec![(2, 0)]);
    }
}

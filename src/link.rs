//! Linking: who holds which role.
//!
//! The rules say which person holds which role (`hold` actions); this stage turns those pairs
//! into relation rows, one per distinct (person, role) of a document, and points each role written
//! without a name (`đồng chí Chủ tịch UBND huyện`) at the person who holds it earlier in the same
//! document.

use rustc_hash::FxHashSet;

/// A person-holds-role pair by annotation ids.
#[derive(Debug, Clone)]
pub struct Pair<'t> {
    pub person: u32,
    pub role: u32,
    /// The role's text as roles are compared (normalised).
    pub role_key: &'t str,
}

/// Keeps the first of each pair whose person and role read the same after normalisation;
/// `key` is an annotation's normalised text (the document's own, so nothing is made per pair).
pub fn distinct_pairs<'t>(holds: &[(u32, u32)], key: impl Fn(u32) -> &'t str) -> Vec<Pair<'t>> {
    let mut seen = FxHashSet::default();
    let mut pairs = Vec::new();
    for &(person, role) in holds {
        let role_key = key(role);
        if seen.insert((key(person), role_key)) {
            pairs.push(Pair {
                person,
                role,
                role_key,
            });
        }
    }
    pairs
}

/// For each role annotation not held by anyone, the person who held the same role earlier.
///
/// `roles` are `(annotation id, first token)` in document order, `held` the pairs with their
/// role's first token, `key` an annotation's normalised text; returns `(role id, person id)`.
pub fn refer_nameless<'t>(
    roles: &[(u32, u32)],
    held: &[(&Pair, u32)],
    key: impl Fn(u32) -> &'t str,
) -> Vec<(u32, u32)> {
    let holding: FxHashSet<u32> = held.iter().map(|(pair, _)| pair.role).collect();
    let mut out = Vec::new();
    for &(role, first) in roles {
        if holding.contains(&role) {
            continue;
        }
        let wanted = key(role);
        // The nearest earlier holder of a role that reads the same.
        let holder = held
            .iter()
            .filter(|&&(_, at)| at < first)
            .filter(|(pair, _)| pair.role_key == wanted)
            .max_by_key(|&&(_, at)| at)
            .map(|(pair, _)| pair.person);
        if let Some(person) = holder {
            out.push((role, person));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::match_key;

    #[test]
    fn pairs_are_distinct_after_normalisation() {
        let texts = [
            "Phạm Gia Túc",
            "Bí thư Tỉnh ủy",
            "Phạm Gia Túc",
            "Bí thư Tỉnh uỷ",
        ];
        let keys: Vec<String> = texts.iter().map(|t| match_key(t)).collect();
        let pairs = distinct_pairs(&[(0, 1), (2, 3)], |i| &keys[i as usize]);
        assert_eq!(pairs.len(), 1);
    }

    #[test]
    fn a_nameless_role_refers_to_the_earlier_holder() {
        let texts = ["a", "Chủ tịch UBND huyện", "chủ tịch UBND Huyện", "b"];
        let keys: Vec<String> = texts.iter().map(|t| match_key(t)).collect();
        let pair = Pair {
            person: 0,
            role: 1,
            role_key: &keys[1],
        };
        let refs = refer_nameless(&[(1, 5), (2, 40)], &[(&pair, 5)], |i| &keys[i as usize]);
        assert_eq!(refs, vec![(2, 0)]);
    }
}

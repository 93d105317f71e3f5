//! Places: every administrative unit (both eras, and the units merged away since 2015) and the
//! resolution of a document's place mentions to units.
//!
//! The same name exists in many provinces, so a mention is resolved with the document's own
//! context first (the unit word written before it, the other places of the document and their
//! parent/child links), and only then by prominence. Where that still leaves several units, the
//! mention says so with `candidates=` instead of guessing.

use std::collections::HashMap;

use crate::gazetteer::Gazetteer;

/// One administrative unit (or country or region) of one era.
#[derive(Debug, Clone)]
pub struct Unit {
    pub code: String,
    /// `2025`, `pre2025`, `historical`, or empty for countries and regions.
    pub era: String,
    /// The unit word: `tỉnh`, `huyện`, `xã`, … (`quốc gia` for countries).
    pub level: String,
    pub rank: Rank,
    pub parent: Option<usize>,
    pub province: String,
    pub canonical: String,
    pub until: String,
    pub became: String,
}

/// How high a unit stands; higher ranks are more prominent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Village,
    Commune,
    District,
    Region,
    Province,
    Country,
}

impl Rank {
    fn parse(s: &str) -> Rank {
        match s {
            "province" => Rank::Province,
            "district" => Rank::District,
            "commune" => Rank::Commune,
            "country" => Rank::Country,
            "region" | "foreign-city" => Rank::Region,
            _ => Rank::Village,
        }
    }
}

/// What a document says about one place mention.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The normalised name (`như thanh`).
    pub key: String,
    /// The canonical unit word written before it, if any (`huyện`).
    pub level: Option<String>,
}

/// The outcome for one mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// One unit; `fuzzy` when reached by a one-letter correction.
    Unit { unit: usize, fuzzy: bool },
    /// Several units remain equally likely.
    Ambiguous(Vec<usize>),
    /// No known unit has this name.
    Unknown,
}

/// All units and the names they go by.
#[derive(Debug, Clone, Default)]
pub struct PlaceIndex {
    pub units: Vec<Unit>,
    by_key: HashMap<String, Vec<usize>>,
}

fn era_order(era: &str) -> u8 {
    match era {
        "pre2025" => 0,
        "2025" => 1,
        "historical" => 2,
        _ => 3,
    }
}

impl PlaceIndex {
    /// Builds the index from the gazetteer's `place` entries.
    pub fn new(gazetteer: &Gazetteer) -> PlaceIndex {
        let mut index = PlaceIndex::default();
        let mut by_code: HashMap<(String, String), usize> = HashMap::new();
        let mut parents: Vec<(usize, String)> = Vec::new();
        for entry in gazetteer.entries.iter().filter(|e| e.kind == "place") {
            let code = entry.attr("code").unwrap_or("").to_string();
            let era = entry.attr("era").unwrap_or("").to_string();
            let id = if code.is_empty() {
                None
            } else {
                by_code.get(&(era.clone(), code.clone())).copied()
            };
            let id = match id {
                Some(id) => id,
                None => {
                    let unit = Unit {
                        code: code.clone(),
                        era: era.clone(),
                        level: entry.attr("level").unwrap_or("").to_string(),
                        rank: Rank::parse(entry.attr("rank").unwrap_or("")),
                        parent: None,
                        province: entry.attr("province").unwrap_or("").to_string(),
                        canonical: entry.canonical.clone().unwrap_or_else(|| entry.surface.clone()),
                        until: entry.attr("until").unwrap_or("").to_string(),
                        became: entry.attr("became").unwrap_or("").to_string(),
                    };
                    index.units.push(unit);
                    let id = index.units.len() - 1;
                    if !code.is_empty() {
                        by_code.insert((era.clone(), code), id);
                    }
                    if let Some(parent) = entry.attr("parent") {
                        parents.push((id, parent.to_string()));
                    }
                    id
                }
            };
            let ids = index.by_key.entry(entry.key.clone()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        for (id, parent) in parents {
            let era = index.units[id].era.clone();
            // A historical unit's parent may be a unit that still existed before the reform.
            let found = by_code
                .get(&(era.clone(), parent.clone()))
                .or_else(|| (era == "historical").then(|| by_code.get(&("pre2025".into(), parent.clone()))).flatten());
            index.units[id].parent = found.copied();
        }
        index
    }

    /// The units named `key`.
    pub fn lookup(&self, key: &str) -> &[usize] {
        self.by_key.get(key).map_or(&[], |v| v.as_slice())
    }

    /// `unit` and its ancestors, nearest first.
    pub fn lineage(&self, unit: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(unit), move |&u| self.units[u].parent)
    }

    fn fits_level(&self, unit: usize, level: Option<&str>) -> bool {
        let u = &self.units[unit];
        match level {
            None => true,
            Some(level) => u.level == level || (level == "tỉnh" && u.level == "thành phố" && u.rank == Rank::Province),
        }
    }

    /// Resolves every mention of one document together.
    pub fn resolve(&self, queries: &[Query]) -> Vec<Resolution> {
        let candidates: Vec<Vec<usize>> = queries
            .iter()
            .map(|q| {
                let all = self.lookup(&q.key);
                let fitting: Vec<usize> =
                    all.iter().copied().filter(|&u| self.fits_level(u, q.level.as_deref())).collect();
                if fitting.is_empty() && q.level.is_none() {
                    all.to_vec()
                } else {
                    fitting
                }
            })
            .collect();
        let mut chosen: Vec<Option<usize>> = candidates.iter().map(|c| (c.len() == 1).then(|| c[0])).collect();
        // Context: a candidate inside, above or beside an already chosen unit wins; repeat while
        // choices keep unlocking others.
        loop {
            let anchors: Vec<usize> = chosen.iter().flatten().copied().collect();
            let mut changed = false;
            for (i, cands) in candidates.iter().enumerate() {
                if chosen[i].is_some() || cands.is_empty() {
                    continue;
                }
                if let Some(best) = self.best_by(cands, |u| self.context_score(u, &anchors)) {
                    chosen[i] = Some(best);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let anchors: Vec<usize> = chosen.iter().flatten().copied().collect();
        let era_votes = |era: &str| anchors.iter().filter(|&&a| self.units[a].era == era).count();
        candidates
            .iter()
            .enumerate()
            .map(|(i, cands)| {
                if let Some(u) = chosen[i] {
                    return Resolution::Unit { unit: u, fuzzy: false };
                }
                if cands.is_empty() {
                    return match self.fuzzy(&queries[i], &anchors) {
                        Some(u) => Resolution::Unit { unit: u, fuzzy: true },
                        None => Resolution::Unknown,
                    };
                }
                // Prominence: the highest rank; then the era the document's other places are in.
                let top = cands.iter().map(|&u| self.units[u].rank).max().unwrap_or(Rank::Village);
                let mut best: Vec<usize> = cands.iter().copied().filter(|&u| self.units[u].rank == top).collect();
                best.sort_by_key(|&u| (std::cmp::Reverse(era_votes(&self.units[u].era)), era_order(&self.units[u].era)));
                let first_era = self.units[best[0]].era.clone();
                best.retain(|&u| self.units[u].era == first_era);
                match best.as_slice() {
                    [one] => Resolution::Unit { unit: *one, fuzzy: false },
                    _ => Resolution::Ambiguous(best),
                }
            })
            .collect()
    }

    /// The single best candidate by `score`, if one scores above zero and above the rest.
    fn best_by(&self, cands: &[usize], score: impl Fn(usize) -> u32) -> Option<usize> {
        let scored: Vec<(u32, usize)> = cands.iter().map(|&u| (score(u), u)).collect();
        let top = scored.iter().map(|s| s.0).max()?;
        if top == 0 {
            return None;
        }
        let winners: Vec<usize> = scored.iter().filter(|s| s.0 == top).map(|s| s.1).collect();
        match winners.as_slice() {
            [one] => Some(*one),
            // The same unit in both eras: the era with more support was scored higher already,
            // so a remaining tie is between truly different units.
            _ => None,
        }
    }

    fn context_score(&self, unit: usize, anchors: &[usize]) -> u32 {
        let mut score = 0;
        for &a in anchors {
            if a == unit {
                continue;
            }
            if self.lineage(unit).skip(1).any(|p| p == a) {
                score += 4; // inside a unit the document names
            } else if self.lineage(a).skip(1).any(|p| p == unit) {
                score += 3; // above a unit the document names
            } else if self.units[a].parent.is_some() && self.units[a].parent == self.units[unit].parent {
                score += 2; // a sibling
            } else if !self.units[a].province.is_empty() && self.units[a].province == self.units[unit].province {
                score += 1;
            }
        }
        score
    }

    /// A unit one letter away from `query`, of the right level, under a unit the document names.
    fn fuzzy(&self, query: &Query, anchors: &[usize]) -> Option<usize> {
        query.level.as_ref()?;
        let scope: Vec<usize> = anchors.iter().flat_map(|&a| self.lineage(a)).collect();
        let near: Vec<usize> = self
            .by_key
            .iter()
            .filter(|(k, _)| one_edit_apart(k, &query.key))
            .flat_map(|(_, ids)| ids.iter().copied())
            .filter(|&u| self.fits_level(u, query.level.as_deref()))
            .filter(|&u| scope.contains(&u) || self.units[u].parent.is_some_and(|p| scope.contains(&p)))
            .collect();
        let mut distinct: Vec<usize> = Vec::new();
        for u in near {
            if !distinct.iter().any(|&d| self.units[d].code == self.units[u].code) {
                distinct.push(u);
            }
        }
        match distinct.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// Whether `a` and `b` differ by exactly one inserted, deleted or substituted character.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 || a == b {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    prefix + suffix + 1 >= a.len().max(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(one_edit_apart("trục ninh", "trực ninh"));
        assert!(one_edit_apart("nam định", "nam đinh"));
        assert!(one_edit_apart("ab", "abc"));
        assert!(!one_edit_apart("trục ninh", "trục ninh"));
        assert!(!one_edit_apart("ninh bình", "ninh bính h"));
        assert!(!one_edit_apart("abcd", "abdc"));
    }
}

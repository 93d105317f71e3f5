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
    /// The era the text places it in, if it says (`2025` after `nay là`, `nay thuộc`).
    pub era: Option<String>,
    /// Token position in the document; places written close together support each other more.
    pub pos: usize,
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
    /// The names (normalised) each unit goes by, for one-letter corrections.
    names: Vec<Vec<String>>,
    /// Each unit's children, so a correction only looks under the document's own units.
    children: HashMap<usize, Vec<usize>>,
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
                        canonical: entry
                            .canonical
                            .clone()
                            .unwrap_or_else(|| entry.surface.clone()),
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
                index.names.resize(index.units.len(), Vec::new());
                index.names[id].push(entry.key.clone());
            }
        }
        for (id, parent) in parents {
            let era = index.units[id].era.clone();
            // A historical unit's parent may be a unit that still existed before the reform.
            let found = by_code.get(&(era.clone(), parent.clone())).or_else(|| {
                (era == "historical")
                    .then(|| by_code.get(&("pre2025".into(), parent.clone())))
                    .flatten()
            });
            index.units[id].parent = found.copied();
            if let Some(&p) = found {
                index.children.entry(p).or_default().push(id);
            }
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
            Some(level) => {
                u.level == level
                    || (level == "tỉnh" && u.level == "thành phố" && u.rank == Rank::Province)
            }
        }
    }

    /// The units a query may name: those of its name, of the level of its unit word, and of the
    /// era the text gives, where any are.
    fn candidates(&self, q: &Query) -> Vec<usize> {
        let all = self.lookup(&q.key);
        let mut fitting: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&u| self.fits_level(u, q.level.as_deref()))
            .collect();
        if fitting.is_empty() && q.level.is_none() {
            fitting = all.to_vec();
        }
        if let Some(era) = &q.era {
            if fitting.iter().any(|&u| &self.units[u].era == era) {
                fitting.retain(|&u| &self.units[u].era == era);
            }
        }
        fitting
    }

    /// Resolves every mention of one document together.
    ///
    /// A candidate is scored by the document's other mentions: by the unit another mention was
    /// resolved to, or, while that one is still open, by the best of its candidates (so that
    /// `xã Cổ Lễ, tỉnh Ninh Bình` picks the 2025 pair, whose parent link is direct). Mentions
    /// close together count double. Choices are made in rounds while they unlock others.
    pub fn resolve(&self, queries: &[Query]) -> Vec<Resolution> {
        let candidates: Vec<Vec<usize>> = queries.iter().map(|q| self.candidates(q)).collect();
        let context = Context::new(queries);
        let mut chosen: Vec<Option<usize>> = candidates
            .iter()
            .map(|c| (c.len() == 1).then(|| c[0]))
            .collect();
        for _ in 0..8 {
            let mut next = chosen.clone();
            for (i, cands) in candidates.iter().enumerate() {
                if chosen[i].is_some() || cands.len() < 2 {
                    continue;
                }
                next[i] = self.best_by(cands, |u| {
                    self.support(u, i, queries, &context, &candidates, &chosen)
                });
            }
            if next == chosen {
                break;
            }
            chosen = next;
        }
        let anchors: Vec<usize> = chosen.iter().flatten().copied().collect();
        let era_votes = |era: &str| {
            anchors
                .iter()
                .filter(|&&a| self.units[a].era == era)
                .count()
        };
        candidates
            .iter()
            .enumerate()
            .map(|(i, cands)| {
                if let Some(u) = chosen[i] {
                    return Resolution::Unit {
                        unit: u,
                        fuzzy: false,
                    };
                }
                if cands.is_empty() {
                    let nearby: Vec<usize> = context.around(i).filter_map(|j| chosen[j]).collect();
                    return match self.fuzzy(&queries[i], &nearby) {
                        Some(u) => Resolution::Unit {
                            unit: u,
                            fuzzy: true,
                        },
                        None => Resolution::Unknown,
                    };
                }
                // Prominence: the highest rank; then the era the document's other places are in.
                let top = cands
                    .iter()
                    .map(|&u| self.units[u].rank)
                    .max()
                    .unwrap_or(Rank::Village);
                let mut best: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&u| self.units[u].rank == top)
                    .collect();
                best.sort_by_key(|&u| {
                    (
                        std::cmp::Reverse(era_votes(&self.units[u].era)),
                        era_order(&self.units[u].era),
                    )
                });
                let first_era = self.units[best[0]].era.clone();
                best.retain(|&u| self.units[u].era == first_era);
                match best.as_slice() {
                    [one] => Resolution::Unit {
                        unit: *one,
                        fuzzy: false,
                    },
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
            // A remaining tie is left to prominence and the document's era.
            _ => None,
        }
    }

    /// What the other mentions of the document say for unit `unit` as the reading of mention `i`.
    fn support(
        &self,
        unit: usize,
        i: usize,
        queries: &[Query],
        context: &Context,
        candidates: &[Vec<usize>],
        chosen: &[Option<usize>],
    ) -> u32 {
        let mut total = 0;
        for j in context.around(i) {
            let cands = &candidates[j];
            let score = match chosen[j] {
                // The very unit another mention was resolved to (`huyện Vĩnh Thạnh` … `Vĩnh Thạnh`).
                // (Not across an era the text gives: `tỉnh An Giang (nay là …, tỉnh An Giang)`.)
                Some(v) if v == unit && queries[j].era == queries[i].era => 8,
                Some(v) if v == unit => 0,
                Some(v) => self.relation(unit, v),
                // Open mentions of the same name support each other's readings circularly.
                None if queries[j].key == queries[i].key || cands.len() > 64 => 0,
                None => cands
                    .iter()
                    .filter(|&&v| v != unit)
                    .map(|&v| self.relation(unit, v))
                    .max()
                    .unwrap_or(0),
            };
            let near = queries[i].pos.abs_diff(queries[j].pos) <= 12;
            total += if near { 2 * score } else { score };
        }
        total
    }

    /// How strongly `unit` and `other` belong together.
    fn relation(&self, unit: usize, other: usize) -> u32 {
        let (u, o) = (&self.units[unit], &self.units[other]);
        if u.parent == Some(other) || o.parent == Some(unit) {
            5 // parent and child
        } else if self.lineage(unit).skip(2).any(|p| p == other) {
            4 // inside a unit the document names
        } else if self.lineage(other).skip(2).any(|p| p == unit) {
            3 // above a unit the document names
        } else if u.parent.is_some() && u.parent == o.parent {
            2 // a sibling
        } else if !u.province.is_empty() && u.province == o.province {
            1
        } else {
            0
        }
    }

    /// A unit one letter away from `query`, of the right level, under a unit the document names.
    fn fuzzy(&self, query: &Query, anchors: &[usize]) -> Option<usize> {
        let level = query.level.as_deref()?;
        // The document's units and their ancestors, and the units directly under them.
        let mut scope: Vec<usize> = anchors.iter().flat_map(|&a| self.lineage(a)).collect();
        scope.sort_unstable();
        scope.dedup();
        let under = scope
            .iter()
            .flat_map(|u| self.children.get(u).into_iter().flatten());
        let mut distinct: Vec<usize> = Vec::new();
        for u in scope.iter().copied().chain(under.copied()) {
            let close = self.fits_level(u, Some(level))
                && self.names[u].iter().any(|k| one_edit_apart(k, &query.key));
            if close
                && !distinct
                    .iter()
                    .any(|&d| self.units[d].code == self.units[u].code)
            {
                distinct.push(u);
            }
        }
        match distinct.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// Which place mentions count as a mention's context: the [`CONTEXT`] nearest before and after it
/// in the text. An article's places are all within reach; a book-length document does not make
/// every place weigh on every other (which would also cost the square of its places).
struct Context {
    /// Mention indexes in text order.
    order: Vec<usize>,
    /// Each mention's rank in `order`.
    rank: Vec<usize>,
}

/// Place mentions on each side that make a mention's context.
const CONTEXT: usize = 200;

impl Context {
    fn new(queries: &[Query]) -> Context {
        let mut order: Vec<usize> = (0..queries.len()).collect();
        order.sort_by_key(|&i| queries[i].pos);
        let mut rank = vec![0; queries.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
        }
        Context { order, rank }
    }

    /// The mentions in the context of mention `i`, without `i`.
    fn around(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let r = self.rank[i];
        let window = r.saturating_sub(CONTEXT)..(r + CONTEXT + 1).min(self.order.len());
        self.order[window].iter().copied().filter(move |&j| j != i)
    }
}

/// Whether `a` and `b` differ by exactly one inserted, deleted or substituted character.
///
/// Called for every place key when a name is unknown, so it allocates nothing and rejects on the
/// byte lengths first (one edit changes a UTF-8 length by at most four bytes).
fn one_edit_apart(a: &str, b: &str) -> bool {
    if a.len().abs_diff(b.len()) > 4 || a == b {
        return false;
    }
    // One edit leaves the first or the last character in place (unless both are one character).
    let ends = |s: &str| (s.chars().next(), s.chars().next_back());
    let ((a_first, a_last), (b_first, b_last)) = (ends(a), ends(b));
    if a_first != b_first
        && a_last != b_last
        && a.chars().nth(1).is_some()
        && b.chars().nth(1).is_some()
    {
        return false;
    }
    let (a_len, b_len) = (a.chars().count(), b.chars().count());
    if a_len.abs_diff(b_len) > 1 {
        return false;
    }
    let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let suffix = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take(a_len.min(b_len) - prefix)
        .take_while(|(x, y)| x == y)
        .count();
    prefix + suffix + 1 >= a_len.max(b_len)
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

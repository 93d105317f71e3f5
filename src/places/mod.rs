//! Places: every administrative unit (both eras, and the units merged away since 2015) and the
//! resolution of a document's place mentions to units.
//!
//! The same name exists in many provinces, so a mention is resolved with the document's own
//! context first (the unit word written before it, the other places of the document and their
//! parent/child links), and only then by prominence. Where that still leaves several units, the
//! mention says so with `candidates=` instead of guessing.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::gazetteer::{Cell, Entry, Gazetteer};

/// One administrative unit (or country or region) of one era.
#[derive(Debug, Clone)]
pub struct Unit {
    pub code: Cell,
    /// `2025`, `pre2025`, `historical`, or empty for countries and regions.
    pub era: Cell,
    /// The unit word: `tỉnh`, `huyện`, `xã`, … (`quốc gia` for countries).
    pub level: Cell,
    pub rank: Rank,
    pub parent: Option<usize>,
    pub province: Cell,
    pub canonical: Cell,
    pub until: Cell,
    pub became: Cell,
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

/// The value of an attribute a place entry lacks.
static MISSING: Cell = Cell::Borrowed("");

/// The attributes of a place entry that make a unit, read in one pass over its attributes.
struct PlaceAttrs<'g> {
    code: &'g Cell,
    era: &'g Cell,
    level: &'g Cell,
    rank: &'g Cell,
    parent: Option<&'g Cell>,
    province: &'g Cell,
    until: &'g Cell,
    became: &'g Cell,
}

impl<'g> PlaceAttrs<'g> {
    fn of(entry: &'g Entry) -> PlaceAttrs<'g> {
        let mut attrs = PlaceAttrs {
            code: &MISSING,
            era: &MISSING,
            level: &MISSING,
            rank: &MISSING,
            parent: None,
            province: &MISSING,
            until: &MISSING,
            became: &MISSING,
        };
        // The first value of a name wins, as with `Entry::attr`.
        for (name, value) in entry.attrs.iter().rev() {
            // Byte patterns, which compile to a length test and a few word tests where text
            // patterns call memcmp (ten attributes of 17,000 entries).
            match name.as_bytes() {
                b"code" => attrs.code = value,
                b"era" => attrs.era = value,
                b"level" => attrs.level = value,
                b"rank" => attrs.rank = value,
                b"parent" => attrs.parent = Some(value),
                b"province" => attrs.province = value,
                b"until" => attrs.until = value,
                b"became" => attrs.became = value,
                _ => {}
            }
        }
        attrs
    }

    /// The unit its first entry describes; its parent is linked once all units are known.
    /// (Cloning a cell of a built-in file copies no text.)
    fn unit(&self, entry: &Entry) -> Unit {
        Unit {
            code: self.code.clone(),
            era: self.era.clone(),
            level: self.level.clone(),
            rank: Rank::parse(self.rank),
            parent: None,
            province: self.province.clone(),
            canonical: entry
                .canonical
                .clone()
                .unwrap_or_else(|| entry.surface.clone()),
            until: self.until.clone(),
            became: self.became.clone(),
        }
    }
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
pub struct Query<'a> {
    /// The normalised name (`như thanh`).
    pub key: &'a str,
    /// The canonical unit word written before it, if any (`huyện`).
    pub level: Option<Cow<'a, str>>,
    /// The era the text places it in, if it says (`2025` after `nay là`, `nay thuộc`).
    pub era: Option<&'a str>,
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
    names: Names,
    /// The names each unit goes by (indexes into `names`), for one-letter corrections.
    unit_names: Lists<u32>,
    /// Each unit's children, so a correction only looks under the document's own units.
    children: Lists<usize>,
}

/// Every distinct place name (normalised) with the units it names, ordered by hash.
///
/// Kept flat (one string, sorted hashes, one span table) rather than as a map of strings: some
/// 17,000 names would otherwise cost two allocations each at start-up and again when freed, and
/// sorting by a hash compares integers where sorting by name compares strings.
#[derive(Debug, Clone, Default)]
struct Names {
    /// Each name's hash, ascending.
    hashes: Vec<u64>,
    /// The names, concatenated in the order of `hashes`.
    text: String,
    /// Each name's byte range in `text`.
    spans: Vec<(u32, u32)>,
    /// The units of each name, in load order.
    units: Lists<usize>,
}

impl Names {
    /// Groups `(name, unit)` pairs given in load order.
    fn new(pairs: &[(&str, usize)]) -> Names {
        let mut order: Vec<(u64, u32)> = pairs
            .iter()
            .enumerate()
            .map(|(i, &(name, _))| (hash(name), i as u32))
            .collect();
        // Ordered by hash, then name, then load order, so each name's units stay in load order
        // even when two names share a hash. Sorting compares integers only: the rare run of one
        // hash with several names is then put in name order (stably, keeping load order).
        order.sort_unstable();
        for run in order.chunk_by_mut(|a, b| a.0 == b.0) {
            let name = |&(_, i): &(u64, u32)| pairs[i as usize].0;
            if run.iter().any(|entry| name(entry) != name(&run[0])) {
                run.sort_by_key(name);
            }
        }
        let mut names = Names {
            text: String::with_capacity(pairs.iter().map(|(name, _)| name.len()).sum()),
            ..Names::default()
        };
        let mut units: Vec<usize> = Vec::with_capacity(pairs.len());
        let mut starts: Vec<u32> = Vec::new();
        let mut last: Option<&str> = None;
        for &(hash, i) in &order {
            let (name, unit) = pairs[i as usize];
            if last != Some(name) {
                let start = names.text.len() as u32;
                names.text.push_str(name);
                names.spans.push((start, names.text.len() as u32));
                names.hashes.push(hash);
                starts.push(units.len() as u32);
                last = Some(name);
            }
            // A unit listed under one name twice (two spellings of one key) counts once.
            let first = starts.last().map_or(0, |&s| s as usize);
            if !units[first..].contains(&unit) {
                units.push(unit);
            }
        }
        starts.push(units.len() as u32);
        names.units = Lists {
            starts,
            items: units,
        };
        names
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn name(&self, index: usize) -> &str {
        let (start, end) = self.spans[index];
        &self.text[start as usize..end as usize]
    }

    /// The index of `name`, if it is a place name.
    fn find(&self, name: &str) -> Option<usize> {
        let hash = hash(name);
        let first = self.hashes.partition_point(|&h| h < hash);
        (first..self.len())
            .take_while(|&i| self.hashes[i] == hash)
            .find(|&i| self.name(i) == name)
    }
}

/// A hash that is the same in every run, so the index is built the same way each time.
fn hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    name.hash(&mut hasher);
    hasher.finish()
}

/// A list of items for each of `0..n`, stored flat: list `i` is `items[starts[i]..starts[i + 1]]`.
#[derive(Debug, Clone)]
struct Lists<T> {
    starts: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            starts: vec![0],
            items: Vec::new(),
        }
    }
}

impl<T: Copy + Default> Lists<T> {
    /// Lists for `0..n` from `(list, item)` pairs; items keep their order within a list.
    fn grouped(n: usize, pairs: Vec<(usize, T)>) -> Lists<T> {
        let mut starts = vec![0u32; n + 1];
        for &(list, _) in &pairs {
            starts[list + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        // Each item goes straight to the next free place of its list (a counting sort): no
        // comparisons, and pairs placed in their order keep it within a list.
        let mut free = starts.clone();
        let mut items = vec![T::default(); pairs.len()];
        for (list, item) in pairs {
            items[free[list] as usize] = item;
            free[list] += 1;
        }
        Lists { starts, items }
    }

    fn get(&self, list: usize) -> &[T] {
        match (self.starts.get(list), self.starts.get(list + 1)) {
            (Some(&start), Some(&end)) => &self.items[start as usize..end as usize],
            _ => &[],
        }
    }
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
        let places: Vec<&Entry> = gazetteer
            .entries
            .iter()
            .filter(|e| e.kind == "place")
            .collect();
        let mut units: Vec<Unit> = Vec::with_capacity(places.len());
        // Borrowed from the gazetteer: building clones no code, era or parent.
        let mut by_code: FxHashMap<(&str, &str), usize> =
            FxHashMap::with_capacity_and_hasher(places.len(), Default::default());
        let mut parents: Vec<(usize, &str, &str)> = Vec::with_capacity(places.len());
        let mut named: Vec<(&str, usize)> = Vec::with_capacity(places.len());
        for entry in places {
            let attrs = PlaceAttrs::of(entry);
            let known = (!attrs.code.is_empty())
                .then(|| by_code.get(&(&**attrs.era, &**attrs.code)).copied())
                .flatten();
            let id = known.unwrap_or_else(|| {
                let id = units.len();
                units.push(attrs.unit(entry));
                if !attrs.code.is_empty() {
                    by_code.insert((attrs.era, attrs.code), id);
                }
                if let Some(parent) = attrs.parent {
                    parents.push((id, attrs.era, parent));
                }
                id
            });
            named.push((entry.key.as_str(), id));
        }
        let mut children: Vec<(usize, usize)> = Vec::with_capacity(parents.len());
        for (id, era, parent) in parents {
            // A historical unit's parent may be a unit that still existed before the reform.
            let found = by_code.get(&(era, parent)).or_else(|| {
                (era == "historical")
                    .then(|| by_code.get(&("pre2025", parent)))
                    .flatten()
            });
            units[id].parent = found.copied();
            if let Some(&p) = found {
                children.push((p, id));
            }
        }
        let names = Names::new(&named);
        let unit_names: Vec<(usize, u32)> = (0..names.len())
            .flat_map(|n| names.units.get(n).iter().map(move |&u| (u, n as u32)))
            .collect();
        PlaceIndex {
            unit_names: Lists::grouped(units.len(), unit_names),
            children: Lists::grouped(units.len(), children),
            names,
            units,
        }
    }

    /// The units named `key`.
    pub fn lookup(&self, key: &str) -> &[usize] {
        self.names
            .find(key)
            .map_or(&[], |n| self.names.units.get(n))
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
        let all = self.lookup(q.key);
        let mut fitting: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&u| self.fits_level(u, q.level.as_deref()))
            .collect();
        if fitting.is_empty() && q.level.is_none() {
            fitting = all.to_vec();
        }
        if let Some(era) = q.era {
            if fitting.iter().any(|&u| self.units[u].era == era) {
                fitting.retain(|&u| self.units[u].era == era);
            }
        }
        fitting
    }

    /// Resolves every mention of one document together.
    ///
    /// A candidate is scored by the mentions around it (see [`Context`]): by the unit another mention was
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
        // The resolved places of each era, counted once: the tie-breaks below ask per candidate.
        let mut votes: Vec<(&str, usize)> = Vec::new();
        for &unit in chosen.iter().flatten() {
            let era = &*self.units[unit].era;
            match votes.iter_mut().find(|(e, _)| *e == era) {
                Some((_, count)) => *count += 1,
                None => votes.push((era, 1)),
            }
        }
        let era_votes = |era: &str| {
            votes
                .iter()
                .find(|(e, _)| *e == era)
                .map_or(0, |&(_, count)| count)
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

    /// What the mentions around mention `i` say for unit `unit` as its reading.
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

    /// A unit one letter away from `query`, of the right level, under a unit resolved nearby.
    fn fuzzy(&self, query: &Query, nearby: &[usize]) -> Option<usize> {
        let level = query.level.as_deref()?;
        // The units resolved nearby and their ancestors, and the units directly under them.
        let mut scope: Vec<usize> = nearby.iter().flat_map(|&a| self.lineage(a)).collect();
        scope.sort_unstable();
        scope.dedup();
        let under = scope.iter().flat_map(|&u| self.children.get(u));
        let mut distinct: Vec<usize> = Vec::new();
        for u in scope.iter().copied().chain(under.copied()) {
            let close = self.fits_level(u, Some(level))
                && self
                    .unit_names
                    .get(u)
                    .iter()
                    .any(|&n| one_edit_apart(self.names.name(n as usize), query.key));
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

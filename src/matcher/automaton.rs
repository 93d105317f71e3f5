//! Aho-Corasick over tokens: the automaton the matcher runs over a document's token codes.
//!
//! A byte automaton needs every token spelled out in bytes and takes a transition per byte; its
//! alphabet here is the token itself, so a document is scanned in one step per token. A symbol
//! is a token's code and its gap (what separates it from the token before: nothing, a space, a
//! line break, something else), except at the start of a pattern, where the gap is whatever the
//! text has: a key can start after anything.
//!
//! The construction is the textbook one: a trie of the patterns, failure links from a
//! breadth-first pass, and for each state a link to the nearest state down its failure chain
//! where patterns end, so that every pattern ending at a token is reported (overlapping
//! matches). At one token, matches come longest first, and patterns of the same tokens in the
//! order they were given.

use rustc_hash::FxHashMap;

use super::table::Table;

/// A state of the automaton: an index into its per-state tables.
type StateId = u32;

/// The state of no partial match.
const ROOT: StateId = 0;

/// No state.
const NONE: StateId = u32::MAX;

/// The gap before a token and its code, as the automaton reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Symbol {
    pub gap: u8,
    /// Nonzero in a pattern: code 0 is every token no pattern contains.
    pub code: u32,
}

impl Symbol {
    /// The key of a transition from `state` on this symbol. Codes have at most 30 bits.
    fn edge(self, state: StateId) -> u64 {
        u64::from(state) << 32 | u64::from(self.code) << 2 | u64::from(self.gap & 3)
    }
}

/// The compiled automaton.
#[derive(Debug, Clone)]
pub(super) struct Automaton {
    /// The state after the root on each code: the first token of a pattern, whatever its gap.
    /// [`ROOT`] for a code no pattern starts with; codes past the end start none.
    root: Vec<StateId>,
    /// Every other transition, keyed by [`Symbol::edge`] (none leads back to the root, whose
    /// id 0 is the table's "absent").
    edges: Table,
    fail: Vec<StateId>,
    /// Tokens from the root to each state: the length of the patterns that end there.
    depth: Vec<u32>,
    /// The patterns that end at state `s` are `patterns[ends[s]..ends[s + 1]]`.
    ends: Vec<u32>,
    patterns: Vec<u32>,
    /// The nearest state where patterns end on each state's failure chain, the state itself
    /// included, or [`NONE`]: a scan tests one entry per token for matches.
    report: Vec<StateId>,
}

impl Automaton {
    /// The automaton of `patterns`, numbered in order; a pattern without symbols never matches.
    pub fn new<P: IntoIterator<Item = Symbol>>(patterns: impl IntoIterator<Item = P>) -> Automaton {
        // The trie: the root's transitions by code, the others in a map while it grows.
        let mut root: Vec<StateId> = Vec::new();
        let mut edges: FxHashMap<u64, StateId> = FxHashMap::default();
        let mut depth = vec![0];
        // (state, pattern) for each pattern's last state, and each state's parent and symbol.
        let mut ends: Vec<(StateId, u32)> = Vec::new();
        let mut parents: Vec<(StateId, Symbol)> = vec![(NONE, Symbol { gap: 0, code: 0 })];
        let mut largest_code = 0;
        for (index, pattern) in patterns.into_iter().enumerate() {
            let mut state = ROOT;
            for symbol in pattern {
                largest_code = largest_code.max(symbol.code);
                let next = parents.len() as StateId;
                let child = if state == ROOT {
                    crate::rules::at_grown(&mut root, symbol.code as usize, ROOT)
                } else {
                    edges.entry(symbol.edge(state)).or_insert(ROOT)
                };
                if *child == ROOT {
                    *child = next;
                    parents.push((state, symbol));
                    depth.push(depth[state as usize] + 1);
                }
                state = *child;
            }
            if state != ROOT {
                ends.push((state, index as u32));
            }
        }
        // The root's table covers every code of a pattern: past it, a code is in none.
        if root.len() <= largest_code as usize {
            root.resize(largest_code as usize + 1, ROOT);
        }
        let states = parents.len();
        // Patterns by the state they end at, each state's in pattern order.
        ends.sort_by_key(|&(state, _)| state);
        let mut end_starts = vec![0; states + 1];
        for &(state, _) in &ends {
            end_starts[state as usize + 1] += 1;
        }
        for s in 0..states {
            end_starts[s + 1] += end_starts[s];
        }
        let mut automaton = Automaton {
            root,
            edges: Table::new(edges.into_iter()),
            fail: Vec::new(),
            depth,
            ends: end_starts,
            patterns: ends.into_iter().map(|(_, pattern)| pattern).collect(),
            report: Vec::new(),
        };
        automaton.link(&parents);
        automaton
    }

    /// Failure and report links, state by state in breadth-first order (a state's failure is
    /// shallower than it, so it is linked before).
    fn link(&mut self, parents: &[(StateId, Symbol)]) {
        let states = parents.len();
        let mut order: Vec<StateId> = (1..states as StateId).collect();
        order.sort_by_key(|&s| self.depth[s as usize]);
        self.fail = vec![ROOT; states];
        self.report = vec![NONE; states];
        for state in order {
            let (parent, symbol) = parents[state as usize];
            let fail = if parent == ROOT {
                ROOT
            } else {
                self.next(self.fail[parent as usize], symbol)
            };
            self.fail[state as usize] = fail;
            self.report[state as usize] = if self.ends_here(state) {
                state
            } else {
                self.report[fail as usize]
            };
        }
    }

    /// The state after `state` reads `symbol`.
    #[inline]
    pub fn next(&self, state: StateId, symbol: Symbol) -> StateId {
        // Most tokens are read at the root or are in no pattern: those take one lookup here,
        // inlined into the scan, and only a partial match walks the edges and failure links.
        match self.root.get(symbol.code as usize) {
            // Code 0 and the codes past the root's table are in no pattern: every match ends.
            None => ROOT,
            Some(_) if symbol.code == 0 => ROOT,
            Some(&first) if state == ROOT => first,
            Some(_) => self.follow(state, symbol),
        }
    }

    /// [`next`](Self::next) from a state past the root, on a code some pattern has: down the
    /// failure chain to the first state with a transition on `symbol`, else to the root's.
    #[inline]
    fn follow(&self, mut state: StateId, symbol: Symbol) -> StateId {
        while state != ROOT {
            // No edge leads back to the root, whose id 0 is the table's "absent".
            match self.edges.get(symbol.edge(state)) {
                ROOT => state = self.fail[state as usize],
                next => return next,
            }
        }
        self.root[symbol.code as usize]
    }

    fn ends_here(&self, state: StateId) -> bool {
        self.ends[state as usize] < self.ends[state as usize + 1]
    }

    /// The patterns that end on reaching `state`, longest first, as `(tokens, pattern)`.
    #[inline]
    pub fn matches(&self, state: StateId) -> impl Iterator<Item = (u32, u32)> + '_ {
        // No pattern ends at the root, so its entry (and the chain) is NONE.
        let reported = |s: StateId| Some(self.report[s as usize]).filter(|&r| r != NONE);
        std::iter::successors(reported(state), move |&s| reported(self.fail[s as usize])).flat_map(
            |s| {
                let (from, to) = (self.ends[s as usize], self.ends[s as usize + 1]);
                let depth = self.depth[s as usize];
                self.patterns[from as usize..to as usize]
                    .iter()
                    .map(move |&pattern| (depth, pattern))
            },
        )
    }

    /// The state a scan starts in.
    pub fn start(&self) -> StateId {
        ROOT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(codes: &[u32]) -> Vec<Symbol> {
        codes.iter().map(|&code| Symbol { gap: 1, code }).collect()
    }

    /// Every `(first, last, pattern)` the automaton reports over `text`, in its order.
    fn scan(automaton: &Automaton, text: &[Symbol]) -> Vec<(u32, u32, u32)> {
        let mut state = automaton.start();
        let mut found = Vec::new();
        for (at, &symbol) in text.iter().enumerate() {
            state = automaton.next(state, symbol);
            let last = at as u32 + 1;
            found.extend(
                automaton
                    .matches(state)
                    .map(|(len, p)| (last - len, last, p)),
            );
        }
        found
    }

    /// The same by brute force: at each end, longest first, then in pattern order.
    fn naive(patterns: &[Vec<Symbol>], text: &[Symbol]) -> Vec<(u32, u32, u32)> {
        let mut found = Vec::new();
        for last in 1..=text.len() {
            let mut here: Vec<(u32, u32, u32)> = Vec::new();
            for (index, pattern) in patterns.iter().enumerate() {
                let Some(first) = last.checked_sub(pattern.len()) else {
                    continue;
                };
                let window = &text[first..last];
                let same = !pattern.is_empty()
                    && window[0].code == pattern[0].code
                    && window[1..] == pattern[1..];
                if same {
                    here.push((first as u32, last as u32, index as u32));
                }
            }
            here.sort_by_key(|&(first, _, index)| (first, index));
            found.extend(here);
        }
        found
    }

    #[test]
    fn overlapping_matches_longest_first() {
        let patterns = [
            symbols(&[1, 2, 3]),
            symbols(&[2, 3]),
            symbols(&[3]),
            symbols(&[2]),
        ];
        let automaton = Automaton::new(patterns.clone());
        let text = symbols(&[1, 2, 3, 4, 2, 3]);
        assert_eq!(
            scan(&automaton, &text),
            vec![
                (1, 2, 3),
                (0, 3, 0),
                (1, 3, 1),
                (2, 3, 2),
                (4, 5, 3),
                (4, 6, 1),
                (5, 6, 2)
            ]
        );
        assert_eq!(scan(&automaton, &text), naive(&patterns, &text));
    }

    #[test]
    fn the_first_gap_is_free_and_the_others_must_match() {
        let pattern = vec![Symbol { gap: 1, code: 1 }, Symbol { gap: 1, code: 2 }];
        let automaton = Automaton::new([pattern]);
        let line_break = [Symbol { gap: 2, code: 1 }, Symbol { gap: 1, code: 2 }];
        assert_eq!(scan(&automaton, &line_break), vec![(0, 2, 0)]);
        let joined = [Symbol { gap: 2, code: 1 }, Symbol { gap: 0, code: 2 }];
        assert!(scan(&automaton, &joined).is_empty());
    }

    #[test]
    fn empty_and_repeated_patterns() {
        let patterns = [vec![], symbols(&[5]), symbols(&[5])];
        let automaton = Automaton::new(patterns.clone());
        let text = symbols(&[0, 5, 9]);
        assert_eq!(scan(&automaton, &text), vec![(1, 2, 1), (1, 2, 2)]);
        assert_eq!(scan(&automaton, &text), naive(&patterns, &text));
    }

    #[test]
    fn agrees_with_brute_force_on_random_text() {
        // A small alphabet and many short patterns: failure chains several states deep.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut random = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let symbol = |random: &mut dyn FnMut(u64) -> u64| Symbol {
            gap: random(3) as u8,
            code: random(5) as u32,
        };
        for _ in 0..50 {
            let patterns: Vec<Vec<Symbol>> = (0..random(12))
                .map(|_| {
                    (0..random(4))
                        .map(|_| symbol(&mut random))
                        .map(|s| Symbol {
                            code: s.code + 1,
                            ..s
                        })
                        .collect()
                })
                .collect();
            let text: Vec<Symbol> = (0..200).map(|_| symbol(&mut random)).collect();
            let automaton = Automaton::new(patterns.clone());
            assert_eq!(scan(&automaton, &text), naive(&patterns, &text));
        }
    }
}

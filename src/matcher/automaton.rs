//! Aho-Corasick over tokens: the automaton the matcher runs over a document's token codes.
//!
//! A byte automaton needs every token spelled out in bytes and takes a transition per byte; its
//! alphabet here is the token itself, so a document is scanned in one step per token. A symbol
//! is a token's code and its gap (what separates it from the token before: nothing, a space, a
//! line break, something else), except at the start of a pattern, where the gap is whatever the
//! text has: a key can start after anything.
//!
//! The construction is the textbook one: a trie of the patterns, failure links from a
//! breadth-first pass, and for each state the first of the patterns ending there or at the
//! nearest such state down its failure chain, the outputs chained on down the chain, so that
//! every pattern ending at a token is reported (overlapping matches). A step's target carries a
//! bit saying whether it reports at all. At one token, matches come longest first, and patterns
//! of the same tokens in the order they were given.

use rustc_hash::FxHashMap;

use super::table::{kept, overflowed, probe};

/// A state of the automaton: an index into its per-state tables.
type StateId = u32;

/// How the automaton enters on a code (see [`Automaton::entry`]).
pub(super) type Entry = u32;

/// The state of no partial match.
const ROOT: StateId = 0;

/// No state.
const NONE: StateId = u32::MAX;

/// The bit of a state as the automaton's steps give it that says patterns end there (its node
/// reports): most tokens end none, and a scan tells them by this bit instead of reading the
/// state's node. A state's own number is the rest ([`index`]): states number fewer than 2^31
/// (their nodes alone would take 32 GB).
const REPORTS: StateId = 1 << 31;

/// The index of `state` into the per-state tables, without its [`REPORTS`] bit.
#[inline]
fn index(state: StateId) -> usize {
    (state & !REPORTS) as usize
}

/// The gap before a token and its code, as the automaton reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Symbol {
    pub gap: u8,
    /// Nonzero in a pattern: code 0 is every token no pattern contains.
    pub code: u32,
}

impl Symbol {
    /// The symbol as one integer, which labels a transition on it. Codes have at most 29 bits,
    /// so a label never has [`FORK`]'s bit.
    fn label(self) -> u32 {
        self.code << 2 | u32::from(self.gap & 3)
    }

    /// The key of a transition from `state` on this symbol, while the trie grows.
    fn edge(self, state: StateId) -> u64 {
        u64::from(state) << 32 | u64::from(self.label())
    }
}

/// [`Node::label`] of a state without transitions: a label of code 0, on which no transition is
/// ever taken past the root, so it never equals a label read.
const LEAF: u32 = 0;

/// The bit of [`Node::label`] that marks a state with several transitions, which no label has;
/// the low bits are its table's [`Fork::shift`], so a step finds the table with no arithmetic.
const FORK: u32 = 1 << 31;

/// What a scan reads of one state, together in 16 bytes (four to a cache line): its links and,
/// for the states with a single transition, that transition. Most states have none or one, so
/// that a step from them touches this one record and no table.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// The failure link, without the [`REPORTS`] bit (it is only walked, never reported on).
    fail: StateId,
    /// The first [`Output`] of the nearest state where patterns end on the state's failure
    /// chain, the state itself included, or [`NONE`]: a scan reads this one entry for the
    /// matches at a state with the [`REPORTS`] bit.
    report: u32,
    /// The label of the state's one transition, which leads to `target` (a state with its
    /// [`REPORTS`] bit, as every state a step reads to go to); or [`LEAF`]; or
    /// [`FORK`] and the shift of the state's table of [`Forks`], which starts at `target`.
    label: u32,
    target: u32,
}

/// One pattern a scan reports at a state where it ends. A state's outputs lie together, in
/// pattern order, each leading to the next.
#[derive(Debug, Clone, Copy)]
struct Output {
    /// Tokens from the root to the state: the length of the pattern.
    depth: u32,
    pattern: u32,
    /// The output reported after this one: the state's next, else the first of the next state
    /// where patterns end down its failure chain, else [`NONE`]. One read per match, where a
    /// record per state with a slice of its patterns took a loop in a loop.
    next: u32,
}

/// The transitions of the states with more than one, each state's in a table of its own:
/// `(label, target)` slots with open addressing, at most half full. A state's transitions lie
/// together in a few cache lines, where one table for every transition scattered them over all
/// of it (half a megabyte for the built-in gazetteers, a core's whole L2 cache).
///
/// A table has a power of two of home slots, and after them the slots its labels overflowed
/// into and an empty one ([`kept`]).
#[derive(Debug, Clone, Default)]
struct Forks {
    /// Every table's slots; target [`ROOT`] marks an empty one (no transition leads to the root).
    slots: Vec<(u32, StateId)>,
}

/// Where a state's table of [`Forks`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fork {
    /// Its first slot.
    start: u32,
    /// 32 less the log of its size: the shift that takes a label's hash to a slot of it.
    shift: u32,
}

impl Forks {
    /// The size of a table of so many `transitions`: at most half full, so that a label not in
    /// it is told in a probe or two (tables up to three quarters full missed the cache as often
    /// and took more instructions).
    fn size(transitions: usize) -> usize {
        (transitions * 2).next_power_of_two().max(2)
    }

    /// Adds the table of `transitions` (`(label, target)`, distinct labels); returns where it is.
    fn push(&mut self, transitions: &[(u32, StateId)]) -> Fork {
        let size = Forks::size(transitions.len());
        let start = self.slots.len();
        self.slots.resize(start + overflowed(size), (0, ROOT));
        let table = Fork {
            start: start as u32,
            shift: u32::BITS - size.trailing_zeros(),
        };
        for &(label, target) in transitions {
            let (at, _) = self.slot(table, label);
            self.slots[at] = (label, target);
        }
        let empty = |target| target == ROOT;
        self.slots
            .truncate(start + kept(&self.slots[start..], size, empty));
        table
    }

    /// The slot of `label` in `table` and its target: its own, or the empty one where it would go.
    #[inline]
    fn slot(&self, table: Fork, label: u32) -> (usize, StateId) {
        // The high bits of the product are the ones every bit of the label reaches.
        let home = label.wrapping_mul(0x9E37_79B9) >> table.shift;
        probe(
            &self.slots,
            (table.start + home) as usize,
            label,
            |target| target == ROOT,
        )
    }

    /// The target of the transition labelled `label` in `table`, or [`ROOT`].
    #[inline]
    fn get(&self, table: Fork, label: u32) -> StateId {
        self.slot(table, label).1
    }
}

/// The compiled automaton.
#[derive(Debug, Clone)]
pub(super) struct Automaton {
    /// The state after the root on each code: the first token of a pattern, whatever its gap.
    /// [`ROOT`] for a code no pattern starts with; codes past the end start none.
    root: Vec<StateId>,
    /// Each state's links and its transitions, or where they are.
    nodes: Vec<Node>,
    /// The transitions of the states with several.
    forks: Forks,
    /// The outputs of the states where patterns end, which [`Node::report`] names.
    outputs: Vec<Output>,
}

impl Automaton {
    /// The automaton of `patterns`, numbered in order; a pattern without symbols never matches,
    /// nor does one with a symbol of code 0.
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
                // A scan never takes a transition on code 0, so the pattern cannot match, and
                // its labels would be taken for LEAF.
                if symbol.code == 0 {
                    state = ROOT;
                    break;
                }
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
        // Each state's first output, or NONE where no pattern ends; the links from a state's
        // last output down the chain are set with the failure links.
        let mut output_of = vec![NONE; states];
        let mut outputs = Vec::with_capacity(ends.len());
        for here in ends.chunk_by(|a, b| a.0 == b.0) {
            let state = here[0].0 as usize;
            let first = outputs.len() as u32;
            output_of[state] = first;
            outputs.extend((first + 1..).zip(here).map(|(next, &(_, pattern))| Output {
                depth: depth[state],
                pattern,
                next,
            }));
            if let Some(last) = outputs.last_mut() {
                last.next = NONE;
            }
        }
        let (nodes, forks) = transitions(&parents);
        let mut automaton = Automaton {
            root,
            nodes,
            forks,
            outputs,
        };
        automaton.link(&parents, &depth, &output_of);
        automaton.mark_reports();
        automaton
    }

    /// Sets the [`REPORTS`] bit of every state where patterns end, wherever a step reads a
    /// state to go to: the root's table, the single transitions and the forks.
    fn mark_reports(&mut self) {
        let reports: Vec<bool> = self.nodes.iter().map(|n| n.report != NONE).collect();
        // An empty slot of the root's table or of a fork leads to the root: marked, it would
        // read as full.
        debug_assert!(!reports[ROOT as usize], "the root reports no pattern");
        let mark = |state: StateId| match reports[state as usize] {
            true => state | REPORTS,
            false => state,
        };
        for first in &mut self.root {
            *first = mark(*first);
        }
        for node in &mut self.nodes {
            if node.label & FORK == 0 {
                node.target = mark(node.target);
            }
        }
        for (_, target) in &mut self.forks.slots {
            *target = mark(*target);
        }
    }

    /// Failure and report links, state by state in breadth-first order (a state's failure is
    /// shallower than it, so it is linked before), given each state's `depth` and output.
    fn link(&mut self, parents: &[(StateId, Symbol)], depth: &[u32], output_of: &[u32]) {
        let states = parents.len();
        let mut order: Vec<StateId> = (1..states as StateId).collect();
        order.sort_by_key(|&s| depth[s as usize]);
        for state in order {
            let (parent, symbol) = parents[state as usize];
            let fail = if parent == ROOT {
                ROOT
            } else {
                self.next(self.nodes[parent as usize].fail, symbol)
            };
            let below = self.nodes[fail as usize].report;
            let report = match output_of[state as usize] {
                NONE => below,
                own => {
                    let mut last = own as usize;
                    while self.outputs[last].next != NONE {
                        last = self.outputs[last].next as usize;
                    }
                    self.outputs[last].next = below;
                    own
                }
            };
            let node = &mut self.nodes[state as usize];
            node.fail = fail;
            node.report = report;
        }
    }

    /// The state after `state` reads `symbol`.
    #[inline]
    pub fn next(&self, state: StateId, symbol: Symbol) -> StateId {
        self.step(state, self.entry(symbol.code), || symbol)
    }

    /// How the automaton enters on `code`, as [`step`](Self::step) reads it: 0 for a code in no
    /// pattern, else one more than the state after the root on it. A scan keeps it beside the
    /// code, which saves a lookup per token.
    pub fn entry(&self, code: u32) -> Entry {
        match self.root.get(code as usize) {
            // Code 0 and the codes past the root's table are in no pattern.
            Some(&first) if code != 0 => first + 1,
            _ => 0,
        }
    }

    /// [`next`](Self::next), given the [`entry`](Self::entry) of the symbol's code, and the
    /// symbol to work out if needed: only a partial match reads the gap (a key starts after
    /// anything), so a scan tells it for about half of the tokens.
    #[inline]
    pub fn step(&self, state: StateId, entry: Entry, symbol: impl FnOnce() -> Symbol) -> StateId {
        // Most tokens are read at the root or are in no pattern: those take no lookup here, and
        // only a partial match walks the transitions and failure links.
        match entry {
            // Every match ends.
            0 => ROOT,
            entry if state == ROOT => entry - 1,
            entry => self.follow(state, symbol(), entry - 1),
        }
    }

    /// [`next`](Self::next) from a state past the root, on a code some pattern has: down the
    /// failure chain to the first state with a transition on `symbol`, else to `first`, the
    /// root's.
    #[inline(always)]
    fn follow(&self, state: StateId, symbol: Symbol, first: StateId) -> StateId {
        let label = symbol.label();
        let mut state = state & !REPORTS;
        while state != ROOT {
            let node = &self.nodes[state as usize];
            if node.label == label {
                return node.target;
            }
            if node.label & FORK != 0 {
                let table = Fork {
                    start: node.target,
                    shift: node.label & !FORK,
                };
                match self.forks.get(table, label) {
                    ROOT => {}
                    next => return next,
                }
            }
            state = node.fail;
        }
        first
    }

    /// Calls `found` with each pattern that ends on reaching `state`, longest first, as
    /// `(tokens, pattern)`. A loop of its own rather than an iterator, whose state the scan
    /// would keep across every token, most of which end no pattern.
    #[inline]
    pub fn each_match(&self, state: StateId, mut found: impl FnMut(u32, u32)) {
        if state & REPORTS == 0 {
            return;
        }
        let mut reported = self.nodes[index(state)].report;
        while reported != NONE {
            let output = self.outputs[reported as usize];
            found(output.depth, output.pattern);
            reported = output.next;
        }
    }

    /// The state a scan starts in.
    pub fn start(&self) -> StateId {
        ROOT
    }
}

/// Each state's [`Node`], links still unset, and the tables of the states with several
/// transitions, from each state's `(parent, symbol)`. The root's transitions are not among them.
fn transitions(parents: &[(StateId, Symbol)]) -> (Vec<Node>, Forks) {
    // Every transition from a state past the root as (parent, label, child), by parent: a
    // counting sort, as the parents are the states.
    let mut starts = vec![0u32; parents.len() + 1];
    for &(parent, _) in &parents[1..] {
        if parent != ROOT {
            starts[parent as usize + 1] += 1;
        }
    }
    for s in 0..parents.len() {
        starts[s + 1] += starts[s];
    }
    let mut edges = vec![(ROOT, 0, ROOT); starts[parents.len()] as usize];
    for (child, &(parent, symbol)) in (1..).zip(&parents[1..]) {
        if parent != ROOT {
            let at = &mut starts[parent as usize];
            edges[*at as usize] = (parent, symbol.label(), child);
            *at += 1;
        }
    }
    let unlinked = Node {
        fail: ROOT,
        report: NONE,
        label: LEAF,
        target: ROOT,
    };
    let mut nodes = vec![unlinked; parents.len()];
    let mut forks = Forks::default();
    let mut labelled: Vec<(u32, StateId)> = Vec::new();
    for children in edges.chunk_by(|a, b| a.0 == b.0) {
        let node = &mut nodes[children[0].0 as usize];
        match *children {
            [(_, label, child)] => (node.label, node.target) = (label, child),
            _ => {
                labelled.clear();
                labelled.extend(children.iter().map(|&(_, label, child)| (label, child)));
                let table = forks.push(&labelled);
                (node.label, node.target) = (FORK | table.shift, table.start);
            }
        }
    }
    (nodes, forks)
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
            automaton.each_match(state, |len, p| found.push((last - len, last, p)));
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
    fn states_with_no_one_or_several_transitions() {
        // After 1: several (2, 3 and 2 after a line break); after 1 3: one; after 1 2: none.
        let patterns = [
            symbols(&[1, 2]),
            symbols(&[1, 3]),
            symbols(&[1, 3, 4]),
            vec![Symbol { gap: 1, code: 1 }, Symbol { gap: 2, code: 2 }],
            symbols(&[3, 4]),
        ];
        let automaton = Automaton::new(patterns.clone());
        let after = |codes: &[u32]| {
            codes.iter().fold(automaton.start(), |state, &code| {
                automaton.next(state, Symbol { gap: 1, code })
            })
        };
        let node = |codes: &[u32]| automaton.nodes[index(after(codes))];
        assert_ne!(node(&[1]).label & FORK, 0);
        assert_eq!(node(&[1, 3]).label, Symbol { gap: 1, code: 4 }.label());
        assert_eq!(node(&[1, 2]).label, LEAF);
        let text = symbols(&[1, 3, 4, 1, 2, 1, 1, 3, 3, 4, 2]);
        assert_eq!(scan(&automaton, &text), naive(&patterns, &text));
    }

    #[test]
    fn a_state_with_many_transitions() {
        // 300 transitions after code 1, a table of 1024 slots, among tables of other sizes.
        let mut patterns: Vec<Vec<Symbol>> = (2..302).map(|code| symbols(&[1, code])).collect();
        patterns.extend((2..12).map(|code| symbols(&[code, code, 1])));
        patterns.extend([symbols(&[5, 6]), symbols(&[5, 7, 8])]);
        let automaton = Automaton::new(patterns.clone());
        let text: Vec<Symbol> = (0..2000u32)
            .map(|i| (i * 7919) % 320)
            .flat_map(|c| symbols(&[1, c]))
            .collect();
        assert_eq!(scan(&automaton, &text), naive(&patterns, &text));
    }

    #[test]
    fn a_pattern_with_a_token_of_no_code_never_matches() {
        let patterns = [symbols(&[1, 0, 2]), symbols(&[1, 0]), symbols(&[2])];
        let automaton = Automaton::new(patterns);
        let text = symbols(&[1, 0, 2]);
        assert_eq!(scan(&automaton, &text), vec![(2, 3, 2)]);
    }

    #[test]
    fn forks_find_their_labels_and_no_other() {
        // Tables of every size from 2 to 200 labels, one after another.
        let mut forks = Forks::default();
        let tables: Vec<(Fork, std::ops::Range<u32>)> = (2..200u32)
            .map(|n| {
                let labels = n * 1000..n * 1000 + n;
                let transitions: Vec<(u32, StateId)> = labels.clone().map(|l| (l, l + 1)).collect();
                (forks.push(&transitions), labels)
            })
            .collect();
        for (table, labels) in &tables {
            for label in labels.clone() {
                assert_eq!(forks.get(*table, label), label + 1);
            }
            assert_eq!(forks.get(*table, labels.end), ROOT);
            assert_eq!(forks.get(*table, 7), ROOT);
        }
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

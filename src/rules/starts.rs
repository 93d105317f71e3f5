//! Where rules can start: which rules of a phase a token is offered to ([`StartIndex`]), and for
//! a document, which tokens each phase visits at all ([`StartMaps`]).
//!
//! A phase's rules can start only at a few tokens in a hundred (a unit word, a title, a
//! capitalised word). Rather than every phase testing every token, each phase keeps a bitmap of
//! its start tokens, filled once from the tokens and then from each annotation as it is added.

use super::{at_grown, class_bit, first_bits, CompiledFilter, Node, Phase, Rule, Step};
use crate::label::Label;

/// Which rules of a phase can start at a token, looked up from what the token is and what
/// starts there, so a token is offered only to the few rules that can match it rather than to
/// every rule of the phase. Each lookup gives a set of rules, 64 rules of the phase a set, so a
/// token's sets are joined by `|` and each rule comes out once, in order.
#[derive(Debug, Clone, Default)]
pub struct StartIndex {
    /// The sets of the phase's rules 64 by 64: bit `i` of the `c`-th stands for its rule
    /// `64 * c + i`.
    pub chunks: Vec<RuleSets>,
}

/// Sets of up to 64 rules (one bit each) that can start at a token, by what it is.
#[derive(Debug, Clone)]
pub struct RuleSets {
    /// Rules that can start anywhere.
    anywhere: u64,
    /// By a token's class bits (the [`class_bit`]s of its classes, all below 256): the rules
    /// that can start with one of its classes.
    by_classes: Vec<u64>,
    /// By the label (its id) of an annotation starting at the token.
    by_label: Vec<u64>,
    /// By the rules' word (its id) the token is.
    by_word: Vec<u64>,
}

impl StartIndex {
    /// The index of `rules`.
    pub(super) fn new(rules: &[Rule]) -> StartIndex {
        let chunks = rules.chunks(64).map(RuleSets::new).collect();
        StartIndex { chunks }
    }
}

impl RuleSets {
    /// The sets of `rules` (at most 64).
    fn new(rules: &[Rule]) -> RuleSets {
        let mut sets = RuleSets {
            anywhere: 0,
            by_classes: vec![0; 256],
            by_label: Vec::new(),
            by_word: Vec::new(),
        };
        for (i, rule) in rules.iter().enumerate() {
            let bit = 1u64 << i;
            if rule.first.anything {
                sets.anywhere |= bit;
                continue;
            }
            for &label in &rule.first.labels {
                *at_grown(&mut sets.by_label, label.0 as usize, 0) |= bit;
            }
            for &class in &rule.first.classes {
                for (classes, set) in sets.by_classes.iter_mut().enumerate() {
                    if classes as u64 & class_bit(class) != 0 {
                        *set |= bit;
                    }
                }
            }
            for &word in &rule.first.literals {
                *at_grown(&mut sets.by_word, word as usize, 0) |= bit;
            }
        }
        sets
    }

    /// The rules that can start at a token of class bits `classes` that is rule word `word` (or
    /// none: an id past the words) and where annotations of `labels` start.
    #[inline]
    pub fn at(&self, classes: u64, word: u32, labels: impl Iterator<Item = Label>) -> u64 {
        let by_word = self.by_word.get(word as usize).copied().unwrap_or(0);
        labels.fold(
            self.anywhere | self.by_classes[(classes & 0xff) as usize] | by_word,
            |set, label| set | self.by_label.get(label.0 as usize).copied().unwrap_or(0),
        )
    }
}

/// How a pattern begins, when that can be checked at a start token without walking the pattern:
/// most attempts fail on their first two steps (a unit word not followed by a name, a capitalised
/// word not at the start of a line, a place name that is not a province).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lead {
    /// An annotation of the label that passes the filters (all of them), then a token with one
    /// of the bits `next` ([`FirstSet::bits`](super::FirstSet::bits)).
    Label {
        label: Label,
        filters: Box<[CompiledFilter]>,
        next: u64,
    },
    /// One token (a class or a word, which the start index has checked), then a token with one
    /// of these bits.
    Token(u64),
    /// The start of a line.
    LineStart,
}

impl Lead {
    /// The lead of pattern `root`, if it begins with a label (in every alternative), a single
    /// token or a line start.
    pub(super) fn of(root: &Node) -> Option<Lead> {
        match root {
            Node::LineStart => Some(Lead::LineStart),
            Node::Seq(items, _) => {
                // What a negation rules out is left to the walk: it consumes nothing.
                let at = items
                    .iter()
                    .position(|item| !matches!(item, Node::Not(..)))?;
                let rest = &items[at + 1..];
                match Lead::of_step(&items[at]) {
                    Some(Lead::Label { label, filters, .. }) => Some(Lead::Label {
                        label,
                        filters,
                        next: first_bits(rest),
                    }),
                    Some(Lead::Token(_)) => Some(Lead::Token(first_bits(rest))),
                    _ => Lead::of(&items[at]),
                }
            }
            Node::Capture(_, inner) => Lead::of(inner),
            step => Lead::of_step(step),
        }
    }

    /// The lead of a pattern that is one step (a label or one token, maybe captured or among
    /// alternatives of the same kind) and nothing after it.
    fn of_step(step: &Node) -> Option<Lead> {
        match step {
            Node::Label(label, filters) => Some(Lead::Label {
                label: *label,
                filters: filters.clone().into(),
                next: u64::MAX,
            }),
            Node::Class(_) => Some(Lead::Token(u64::MAX)),
            Node::Literal(words) if words.len() == 1 => Some(Lead::Token(u64::MAX)),
            Node::Capture(_, inner) => Lead::of_step(inner),
            Node::Alt(options, _) => {
                let (first, others) = options.split_first()?;
                others
                    .iter()
                    .try_fold(Lead::of_step(first)?, |lead, option| {
                        lead.either(Lead::of_step(option)?)
                    })
            }
            _ => None,
        }
    }

    /// The lead of alternatives led by `self` and `other`: the same label (with the filters
    /// only if both have the same: either may hold) or both one token.
    fn either(self, other: Lead) -> Option<Lead> {
        match (self, other) {
            (Lead::Token(next), Lead::Token(_)) => Some(Lead::Token(next)),
            (
                Lead::Label {
                    label,
                    filters,
                    next,
                },
                Lead::Label {
                    label: other,
                    filters: others,
                    ..
                },
            ) if label == other => Some(Lead::Label {
                label,
                filters: if filters == others {
                    filters
                } else {
                    Box::default()
                },
                next,
            }),
            _ => None,
        }
    }
}

/// Which phases can start at a token, as a set of phase slots ([`Phase::slot`], one bit each),
/// from the token's classes, the rules' word it is and the labels that start there. Past 64
/// phases a slot serves several, and its bit means "maybe": the [`StartIndex`] decides.
#[derive(Debug, Clone, Default)]
pub struct PhaseStarts {
    /// By a token's class bits (the [`class_bit`]s of its classes, all below 256).
    by_classes: Vec<u64>,
    /// By the rules' word (its id) a token is.
    by_word: Vec<u64>,
    /// By the label (its id) of an annotation starting at a token.
    by_label: Vec<u64>,
    /// Phases with a rule that can start anywhere.
    anywhere: u64,
    slots: usize,
}

impl PhaseStarts {
    /// The start sets of the phases among `steps`.
    pub(super) fn new(steps: &[Step]) -> PhaseStarts {
        let mut starts = PhaseStarts {
            by_classes: vec![0; 256],
            ..PhaseStarts::default()
        };
        for phase in steps.iter().filter_map(|step| match step {
            Step::Phase(phase) => Some(phase),
            Step::Drop { .. } => None,
        }) {
            starts.slots = starts.slots.max(phase.slot + 1);
            let slot = 1u64 << phase.slot;
            for sets in &phase.starts.chunks {
                if sets.anywhere != 0 {
                    starts.anywhere |= slot;
                }
                let used = |list: &[u64]| -> Vec<usize> {
                    (0..list.len()).filter(|&i| list[i] != 0).collect()
                };
                for classes in used(&sets.by_classes) {
                    starts.by_classes[classes] |= slot;
                }
                for word in used(&sets.by_word) {
                    *at_grown(&mut starts.by_word, word, 0) |= slot;
                }
                for label in used(&sets.by_label) {
                    *at_grown(&mut starts.by_label, label, 0) |= slot;
                }
            }
        }
        starts
    }

    /// The phases that can start at a token that is rule word `word`, besides those its classes
    /// give ([`PhaseStarts::of_classes`]).
    pub fn of_word(&self, word: u32) -> u64 {
        self.by_word.get(word as usize).copied().unwrap_or(0)
    }

    /// The phases that can start at a token of these class bits that is none of the rules'
    /// words.
    pub fn of_classes(&self, classes: u64) -> u64 {
        self.by_classes[(classes & 0xff) as usize]
    }

    /// The phases that can start at an annotation of `label`.
    pub fn of_label(&self, label: Label) -> u64 {
        self.by_label.get(label.0 as usize).copied().unwrap_or(0)
    }
}

/// The phase slot of the `ordinal`-th phase.
pub(super) fn slot(ordinal: usize) -> usize {
    ordinal % 64
}

/// For one document, per phase slot, a bitmap of the tokens at which one of the phase's rules can
/// start: a phase then visits its start tokens only, 64 tokens a word.
#[derive(Debug, Default)]
pub struct StartMaps {
    /// Words per bitmap.
    words: usize,
    /// The bitmaps, slot after slot.
    maps: Vec<u64>,
}

impl StartMaps {
    /// Makes these the bitmaps of a document of `tokens` tokens, in the same memory, with every
    /// token marked for the phases that can start anywhere.
    pub fn renew(&mut self, tokens: usize, starts: &PhaseStarts) {
        let words = tokens.div_ceil(64);
        self.words = words;
        self.maps.clear();
        self.maps.resize(words * starts.slots, 0);
        let mut anywhere = starts.anywhere;
        while anywhere != 0 {
            let slot = anywhere.trailing_zeros() as usize;
            anywhere &= anywhere - 1;
            let map = self.map_mut(slot);
            map.fill(u64::MAX);
            if !tokens.is_multiple_of(64) {
                map[words - 1] = (1 << (tokens % 64)) - 1;
            }
        }
    }

    fn map_mut(&mut self, slot: usize) -> &mut [u64] {
        &mut self.maps[slot * self.words..(slot + 1) * self.words]
    }

    /// Marks token `pos` as a start of the phases in `phases` (a set of slots).
    #[inline]
    pub fn mark(&mut self, pos: usize, phases: u64) {
        self.mark_block(pos / 64, phases, 1 << (pos % 64));
    }

    /// Marks the tokens of block `block` (tokens `64 * block` on) whose bits are set in `tokens`
    /// as starts of the phases in `phases` (a set of slots).
    #[inline]
    pub fn mark_block(&mut self, block: usize, mut phases: u64, tokens: u64) {
        while phases != 0 {
            let slot = phases.trailing_zeros() as usize;
            phases &= phases - 1;
            self.maps[slot * self.words + block] |= tokens;
        }
    }

    /// The tokens marked for `phase`, in order.
    pub fn positions(&self, phase: &Phase) -> impl Iterator<Item = u32> + '_ {
        let map = &self.maps[phase.slot * self.words..(phase.slot + 1) * self.words];
        map.iter()
            .zip((0u32..).step_by(64))
            .flat_map(|(&word, first)| {
                let mut word = word;
                std::iter::from_fn(move || {
                    (word != 0).then(|| {
                        let at = word.trailing_zeros();
                        word &= word - 1;
                        first + at
                    })
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Labels;
    use crate::rules::parse::Class;
    use crate::rules::RuleSet;

    /// The lead of a rule with this pattern, and the label named `unit`.
    fn lead(pattern: &str) -> (Option<Lead>, Label) {
        let mut labels = Labels::default();
        let unit = labels.intern("unit");
        let rules = format!("r: {pattern} => LOC");
        let mut set = RuleSet::from_files(&[("t.rules".into(), rules)], &mut labels).unwrap();
        (set.rules.swap_remove(0).lead, unit)
    }

    /// A label lead without filters.
    fn label_lead(label: Label, next: u64) -> Option<Lead> {
        Some(Lead::Label {
            label,
            filters: Box::default(),
            next,
        })
    }

    #[test]
    fn a_lead_is_the_first_label_or_token_and_the_bits_of_what_follows() {
        let (found, unit) = lead("u:unit Num");
        assert_eq!(found, label_lead(unit, class_bit(Class::Num)));
        let (found, unit) = lead("(unit | unit) Upper? Num");
        let upper_or_num = class_bit(Class::Upper) | class_bit(Class::Num);
        assert_eq!(found, label_lead(unit, upper_or_num));
        let (found, unit) = lead("!Num unit");
        assert_eq!(found, label_lead(unit, u64::MAX));
        let (found, _) = lead("(\"ở\" | \"tại\" | Num) (Upper | Num)");
        assert_eq!(found, Some(Lead::Token(upper_or_num)));
        assert_eq!(lead("^ capname $").0, Some(Lead::LineStart));
    }

    #[test]
    fn a_label_lead_keeps_the_filters_every_alternative_has() {
        let filters = |found: Option<Lead>| match found {
            Some(Lead::Label { filters, .. }) => filters.len(),
            other => panic!("not a label lead: {other:?}"),
        };
        assert_eq!(filters(lead("u:unit[!weak, cap] Num").0), 2);
        assert_eq!(filters(lead("(unit[cap] | unit[cap]) Num").0), 1);
        // Either may hold: the lead cannot ask for both.
        assert_eq!(filters(lead("(unit[cap] | unit[lower]) Num").0), 0);
        assert_eq!(filters(lead("(unit[cap] | unit) Num").0), 0);
    }

    #[test]
    fn a_pattern_that_may_begin_otherwise_has_no_lead() {
        assert_eq!(lead("qualifier? title").0, None);
        assert_eq!(lead("(title | unit) Num").0, None);
        assert_eq!(lead("(Num | unit) Num").0, None);
        assert_eq!(lead("\"giữ chức\" unit").0, None);
    }

    #[test]
    fn a_phase_visits_the_tokens_marked_for_it_in_order() {
        let starts = PhaseStarts {
            by_classes: vec![0; 256],
            anywhere: 0b100,
            slots: 3,
            ..PhaseStarts::default()
        };
        let mut maps = StartMaps::default();
        maps.renew(130, &starts);
        maps.mark(129, 0b011);
        maps.mark(3, 0b001);
        maps.mark(64, 0b010);
        let phase = |slot| Phase {
            rules: 0..0,
            starts: StartIndex::default(),
            seen: Vec::new(),
            unless: false,
            slot,
        };
        let visited = |slot| maps.positions(&phase(slot)).collect::<Vec<_>>();
        assert_eq!(visited(0), [3, 129]);
        assert_eq!(visited(1), [64, 129]);
        assert_eq!(visited(2), (0..130).collect::<Vec<_>>());
    }
}

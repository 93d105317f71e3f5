//! The rule engine: phases of patterns over annotations, like a cascade of finite-state
//! transducers (GATE's JAPE is the model).
//!
//! A document starts with one annotation per gazetteer hit. Each phase tries all its rules at
//! every token, keeps each rule's longest match per start, lets overlapping matches compete
//! (longest, then the rule written first, then the leftmost) and runs the winners' actions,
//! which add annotations that later phases see.

use std::cell::Cell;

use super::parse::Class;
use super::{CompiledAction, CompiledFilter, CompiledValue, FirstSet, Node, RuleSet, Step};
use crate::label::Label;
use crate::matcher::{Hit, Matcher};
use crate::text::{Normalized, TokenKind};

/// Where an annotation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A gazetteer key (index into the matcher's groups).
    Gazetteer(u32),
    /// A rule (index into the rule set).
    Rule(u32),
}

/// A labelled token span.
#[derive(Debug, Clone)]
pub struct Annotation {
    pub label: Label,
    pub first: u32,
    pub last: u32,
    pub source: Source,
    /// Attributes set by the rule that made it.
    pub attrs: Vec<(String, String)>,
    pub alive: bool,
}

/// A match that lost, kept for `vnner explain`.
#[derive(Debug, Clone)]
pub struct Loss {
    pub rule: u32,
    pub first: u32,
    pub last: u32,
    /// The rule of the winning match it overlapped, or `None` when an `unless` dropped it.
    pub beaten_by: Option<u32>,
}

/// A document's annotations while the rules run, and what they produced.
pub struct State<'a> {
    /// The document as read, for attribute values written as the text says them.
    original: &'a str,
    pub doc: &'a Normalized,
    matcher: &'a Matcher,
    gazetteer: &'a crate::gazetteer::Gazetteer,
    pub annotations: Vec<Annotation>,
    /// Annotation ids by first token.
    starts: Vec<Vec<u32>>,
    /// `(person annotation, role annotation)` pairs from `hold` actions.
    pub holds: Vec<(u32, u32)>,
    pub losses: Option<Vec<Loss>>,
    /// The first token of the next line after the current match start: matches stay on one line.
    line_end: Cell<u32>,
    /// For each token, the first token of the next line.
    line_ends: Vec<u32>,
}

/// One capture instance: name index, span, and the annotation it consumed if it was a label.
#[derive(Debug, Clone, Copy)]
struct Capture {
    name: u16,
    first: u32,
    last: u32,
    annotation: Option<u32>,
}

struct Found {
    rule: u32,
    first: u32,
    last: u32,
    captures: Vec<Capture>,
}

/// Work budget per rule and start token, so a pathological pattern cannot stall a document.
const STEP_BUDGET: u32 = 20_000;

impl<'a> State<'a> {
    pub fn new(
        original: &'a str,
        doc: &'a Normalized,
        matcher: &'a Matcher,
        gazetteer: &'a crate::gazetteer::Gazetteer,
        hits: &[Hit],
        trace: bool,
    ) -> State<'a> {
        let mut state = State {
            original,
            doc,
            matcher,
            gazetteer,
            annotations: Vec::with_capacity(hits.len() * 2),
            starts: vec![Vec::new(); doc.tokens.len() + 1],
            holds: Vec::new(),
            losses: trace.then(Vec::new),
            line_end: Cell::new(0),
            line_ends: line_ends(doc),
        };
        for hit in hits {
            for (kind, _) in &matcher.groups[hit.key as usize].kinds {
                state.add(Annotation {
                    label: *kind,
                    first: hit.first,
                    last: hit.last,
                    source: Source::Gazetteer(hit.key),
                    attrs: Vec::new(),
                    alive: true,
                });
            }
        }
        state
    }

    fn add(&mut self, annotation: Annotation) -> u32 {
        let id = self.annotations.len() as u32;
        self.starts[annotation.first as usize].push(id);
        self.annotations.push(annotation);
        id
    }

    /// The value of attribute `key` of annotation `id`: its own, else its gazetteer entry's.
    pub fn attr(&self, id: u32, key: &str) -> Option<&str> {
        let a = &self.annotations[id as usize];
        if let Some((_, v)) = a.attrs.iter().find(|(k, _)| k == key) {
            return Some(v);
        }
        self.entries(id).find_map(|e| e.attr(key))
    }

    /// The gazetteer entries behind annotation `id` (none for rule annotations).
    pub fn entries(&self, id: u32) -> impl Iterator<Item = &crate::gazetteer::Entry> {
        let a = &self.annotations[id as usize];
        let ids: &[u32] = match a.source {
            Source::Gazetteer(key) => self.matcher.groups[key as usize]
                .kinds
                .iter()
                .find(|(k, _)| *k == a.label)
                .map_or(&[][..], |(_, e)| e.as_slice()),
            Source::Rule(_) => &[],
        };
        ids.iter().map(|&i| &self.gazetteer.entries[i as usize])
    }

    /// Ids of the annotations that start at token `pos`.
    pub fn starting_at(&self, pos: u32) -> &[u32] {
        self.starts.get(pos as usize).map_or(&[], |v| v.as_slice())
    }

    /// The normalised text of annotation `id`.
    pub fn text(&self, id: u32) -> &str {
        let a = &self.annotations[id as usize];
        self.doc.token_text(a.first as usize, a.last as usize)
    }

    /// Runs every phase of `rules`.
    pub fn run(&mut self, rules: &RuleSet) {
        for step in &rules.steps {
            match step {
                Step::Phase(range) => self.phase(rules, range.clone()),
                Step::Drop {
                    label,
                    other,
                    overlapping,
                } => self.drop(*label, *other, *overlapping),
            }
        }
    }

    fn phase(&mut self, rules: &RuleSet, range: std::ops::Range<usize>) {
        let mut found = Vec::new();
        let n = self.doc.tokens.len() as u32;
        // Annotations do not change until the winners act, so the labels starting at each token
        // are summarised once per phase.
        let masks = self.label_masks();
        for index in range.clone() {
            let rule = &rules.rules[index];
            let wanted = rule.first.labels.iter().fold(0, |m, &l| m | label_bit(l));
            for start in 0..n {
                if !self.may_start(&rule.first, wanted, &masks, start) {
                    continue;
                }
                if let Some((last, captures)) = self.longest(&rule.root, start) {
                    if last > start {
                        found.push(Found {
                            rule: index as u32,
                            first: start,
                            last,
                            captures,
                        });
                    }
                }
            }
        }
        let live = if rules.rules[range.clone()]
            .iter()
            .any(|r| !r.unless.is_empty())
        {
            self.live_spans()
        } else {
            Vec::new()
        };
        found.retain(|f| {
            let rule = &rules.rules[f.rule as usize];
            let keep = rule
                .unless
                .iter()
                .all(|&(label, inside)| !conflicts(&live, label, inside, f.first, f.last));
            if !keep {
                if let Some(losses) = &mut self.losses {
                    losses.push(Loss {
                        rule: f.rule,
                        first: f.first,
                        last: f.last,
                        beaten_by: None,
                    });
                }
            }
            keep
        });
        found.sort_by_key(|f| (std::cmp::Reverse(f.last - f.first), f.rule, f.first));
        // Winners never overlap, so each token has at most one: `owner` holds the index (in
        // `winners`) of the winner covering it, and the earliest winner a match overlaps is the
        // smallest index over its span.
        let mut owner = vec![u32::MAX; self.doc.tokens.len()];
        let mut winners: Vec<Found> = Vec::new();
        for f in found {
            let span = f.first as usize..f.last as usize;
            let beaten = owner[span.clone()]
                .iter()
                .copied()
                .min()
                .filter(|&w| w != u32::MAX);
            if let Some(rule) = beaten.map(|w| winners[w as usize].rule) {
                if let Some(losses) = &mut self.losses {
                    losses.push(Loss {
                        rule: f.rule,
                        first: f.first,
                        last: f.last,
                        beaten_by: Some(rule),
                    });
                }
                continue;
            }
            owner[span].fill(winners.len() as u32);
            winners.push(f);
        }
        winners.sort_by_key(|f| f.first);
        for f in winners {
            self.act(rules, &f);
        }
    }

    /// For each token, a bit per label (modulo 64) of the live annotations that start there.
    fn label_masks(&self) -> Vec<u64> {
        self.starts
            .iter()
            .map(|ids| {
                ids.iter()
                    .map(|&id| &self.annotations[id as usize])
                    .filter(|a| a.alive)
                    .fold(0, |m, a| m | label_bit(a.label))
            })
            .collect()
    }

    /// `(label, first, last)` of every live annotation, sorted, for [`conflicts`].
    fn live_spans(&self) -> Vec<(Label, u32, u32)> {
        let mut spans: Vec<_> = self
            .annotations
            .iter()
            .filter(|a| a.alive)
            .map(|a| (a.label, a.first, a.last))
            .collect();
        spans.sort_unstable();
        spans
    }

    /// Whether a rule with first set `first` can start at `pos`; `wanted` holds the bits of
    /// `first.labels` and `masks` the bits of the labels starting at each token.
    fn may_start(&self, first: &FirstSet, wanted: u64, masks: &[u64], pos: u32) -> bool {
        if first.anything {
            return true;
        }
        let Some(token) = self.doc.tokens.get(pos as usize) else {
            return false;
        };
        if first.classes.iter().any(|c| class_matches(*c, token)) {
            return true;
        }
        if !first.literals.is_empty() {
            let text = &self.doc.text[token.range()];
            if first.literals.iter().any(|l| l == text) {
                return true;
            }
        }
        masks.get(pos as usize).is_some_and(|&m| m & wanted != 0)
            && self.starts[pos as usize].iter().any(|&id| {
                let a = &self.annotations[id as usize];
                a.alive && first.labels.contains(&a.label)
            })
    }

    /// The longest match of `compiled` at `start`, with its captures.
    fn longest(&self, root: &Node, start: u32) -> Option<(u32, Vec<Capture>)> {
        self.line_end.set(self.line_ends[start as usize]);
        let mut best: Option<(u32, Vec<Capture>)> = None;
        let mut captures = Vec::new();
        let budget = Cell::new(STEP_BUDGET);
        let mut done = |end: u32, caps: &mut Vec<Capture>| {
            if best.as_ref().is_none_or(|(b, _)| end > *b) {
                best = Some((end, caps.clone()));
            }
        };
        self.walk(root, start, &mut captures, &budget, &mut done);
        best
    }

    /// Matches `node` at `pos`, calling `k` with every end position reachable (backtracking).
    fn walk(
        &self,
        node: &Node,
        pos: u32,
        caps: &mut Vec<Capture>,
        budget: &Cell<u32>,
        k: &mut dyn FnMut(u32, &mut Vec<Capture>),
    ) {
        if budget.get() == 0 {
            return;
        }
        budget.set(budget.get() - 1);
        let tokens = &self.doc.tokens;
        match node {
            Node::Label(label, filters) => {
                for &id in self
                    .starts
                    .get(pos as usize)
                    .map_or(&[][..], |v| v.as_slice())
                {
                    let a = &self.annotations[id as usize];
                    if a.alive
                        && a.label == *label
                        && a.last <= self.line_end.get()
                        && filters.iter().all(|f| self.filter(id, f))
                    {
                        let end = a.last;
                        caps.push(Capture {
                            name: u16::MAX,
                            first: pos,
                            last: end,
                            annotation: Some(id),
                        });
                        k(end, caps);
                        caps.pop();
                    }
                }
            }
            Node::Literal(words) => {
                let fits = pos + words.len() as u32 <= self.line_end.get()
                    && words.iter().enumerate().all(|(i, w)| {
                        tokens
                            .get(pos as usize + i)
                            .is_some_and(|t| &self.doc.text[t.range()] == w)
                    });
                if fits {
                    k(pos + words.len() as u32, caps);
                }
            }
            Node::Class(class) => {
                if pos < self.line_end.get()
                    && tokens
                        .get(pos as usize)
                        .is_some_and(|t| class_matches(*class, t))
                {
                    k(pos + 1, caps);
                }
            }
            Node::LineStart => {
                if pos == 0 || tokens.get(pos as usize).is_some_and(|t| t.line_start) {
                    k(pos, caps);
                }
            }
            Node::LineEnd => {
                if pos >= self.line_end.get() {
                    k(pos, caps);
                }
            }
            Node::Seq(items) => self.seq(items, pos, caps, budget, k),
            Node::Alt(options) => {
                for option in options {
                    self.walk(option, pos, caps, budget, k);
                }
            }
            Node::Repeat { inner, min, max } => {
                self.repeat(inner, *min, *max, 0, pos, caps, budget, k)
            }
            Node::Capture(name, inner) => {
                let mark = caps.len();
                self.walk(
                    inner,
                    pos,
                    caps,
                    budget,
                    &mut |end, caps: &mut Vec<Capture>| {
                        // A label consumed directly under the capture lends it its annotation.
                        let annotation = match caps.get(mark) {
                            Some(c) if c.name == u16::MAX && c.first == pos && c.last == end => {
                                c.annotation
                            }
                            _ => None,
                        };
                        caps.push(Capture {
                            name: *name,
                            first: pos,
                            last: end,
                            annotation,
                        });
                        k(end, caps);
                        caps.pop();
                    },
                );
            }
            Node::Not(inner) => {
                let mut matched = false;
                let mut scratch = Vec::new();
                self.walk(inner, pos, &mut scratch, budget, &mut |_, _| matched = true);
                if !matched {
                    k(pos, caps);
                }
            }
        }
    }

    fn seq(
        &self,
        items: &[Node],
        pos: u32,
        caps: &mut Vec<Capture>,
        budget: &Cell<u32>,
        k: &mut dyn FnMut(u32, &mut Vec<Capture>),
    ) {
        match items.split_first() {
            None => k(pos, caps),
            Some((head, rest)) => {
                self.walk(
                    head,
                    pos,
                    caps,
                    budget,
                    &mut |next, caps: &mut Vec<Capture>| self.seq(rest, next, caps, budget, k),
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn repeat(
        &self,
        inner: &Node,
        min: u32,
        max: u32,
        count: u32,
        pos: u32,
        caps: &mut Vec<Capture>,
        budget: &Cell<u32>,
        k: &mut dyn FnMut(u32, &mut Vec<Capture>),
    ) {
        if count < max {
            self.walk(
                inner,
                pos,
                caps,
                budget,
                &mut |next, caps: &mut Vec<Capture>| {
                    if next > pos {
                        self.repeat(inner, min, max, count + 1, next, caps, budget, k);
                    }
                },
            );
        }
        if count >= min {
            k(pos, caps);
        }
    }

    fn filter(&self, id: u32, filter: &CompiledFilter) -> bool {
        let a = &self.annotations[id as usize];
        let tokens = &self.doc.tokens[a.first as usize..a.last as usize];
        match filter {
            CompiledFilter::MinTokens(n) => tokens.len() as u32 >= *n,
            CompiledFilter::MaxTokens(n) => tokens.len() as u32 <= *n,
            CompiledFilter::Capitalised => tokens.first().is_some_and(|t| t.capitalised),
            CompiledFilter::LowerCase => tokens.first().is_some_and(|t| !t.capitalised),
            CompiledFilter::AllCapitalised => tokens
                .iter()
                .filter(|t| t.kind == TokenKind::Word)
                .all(|t| t.capitalised),
            CompiledFilter::Has(key) => self.attr(id, key).is_some(),
            CompiledFilter::Lacks(key) => self.attr(id, key).is_none(),
            CompiledFilter::Equals(key, value) => self.attr_values(id, key).any(|v| v == value),
            CompiledFilter::NotEquals(key, value) => !self.attr_values(id, key).any(|v| v == value),
            CompiledFilter::Seen(label) => {
                let text = self.text(id);
                self.annotations.iter().enumerate().any(|(other, b)| {
                    other as u32 != id
                        && b.alive
                        && b.label == *label
                        && self.text(other as u32) == text
                })
            }
        }
    }

    /// Every value of `key` on annotation `id` (one per gazetteer entry behind it).
    fn attr_values<'s>(&'s self, id: u32, key: &'s str) -> Box<dyn Iterator<Item = &'s str> + 's> {
        let a = &self.annotations[id as usize];
        if let Some((_, v)) = a.attrs.iter().find(|(k, _)| k == key) {
            return Box::new(std::iter::once(v.as_str()));
        }
        Box::new(self.entries(id).filter_map(move |e| e.attr(key)))
    }

    fn act(&mut self, rules: &RuleSet, found: &Found) {
        let rule = &rules.rules[found.rule as usize];
        for action in &rule.actions {
            match action {
                CompiledAction::Emit {
                    label,
                    capture,
                    attrs,
                } => {
                    let spans: Vec<(u32, u32)> = match capture {
                        None => vec![(found.first, found.last)],
                        Some(c) => found
                            .captures
                            .iter()
                            .filter(|x| x.name == *c)
                            .map(|x| (x.first, x.last))
                            .collect(),
                    };
                    let values: Vec<(String, String)> = attrs
                        .iter()
                        .filter_map(|(k, v)| self.value(v, &found.captures).map(|v| (k.clone(), v)))
                        .collect();
                    for (first, last) in spans {
                        if first == last {
                            continue;
                        }
                        let exists = self.starts[first as usize].iter().any(|&id| {
                            let a = &self.annotations[id as usize];
                            a.alive && a.label == *label && a.last == last
                        });
                        if !exists {
                            self.add(Annotation {
                                label: *label,
                                first,
                                last,
                                source: Source::Rule(found.rule),
                                attrs: values.clone(),
                                alive: true,
                            });
                        }
                    }
                }
                CompiledAction::Hold {
                    person,
                    role,
                    person_label,
                    role_label,
                } => {
                    let pick = |name: u16, label: Label| -> Vec<u32> {
                        found
                            .captures
                            .iter()
                            .filter(|c| c.name == name)
                            .filter_map(|c| self.find(label, c.first, c.last))
                            .collect()
                    };
                    let persons = pick(*person, *person_label);
                    let roles = pick(*role, *role_label);
                    for &p in &persons {
                        for &r in &roles {
                            self.holds.push((p, r));
                        }
                    }
                }
            }
        }
    }

    /// The live annotation with this label and span.
    pub fn find(&self, label: Label, first: u32, last: u32) -> Option<u32> {
        self.starts[first as usize].iter().copied().find(|&id| {
            let a = &self.annotations[id as usize];
            a.alive && a.label == label && a.last == last
        })
    }

    fn value(&self, value: &CompiledValue, captures: &[Capture]) -> Option<String> {
        match value {
            CompiledValue::Literal(s) => Some(s.clone()),
            CompiledValue::Capture(name, attr) => {
                let c = captures.iter().find(|c| c.name == *name)?;
                match attr {
                    None => {
                        let (start, end) = self.doc.token_span(c.first as usize, c.last as usize);
                        Some(crate::text::display_form(self.doc.original_slice(
                            self.original,
                            start,
                            end,
                        )))
                    }
                    Some(key) => self.attr(c.annotation?, key).map(str::to_string),
                }
            }
        }
    }

    fn drop(&mut self, label: Label, other: Label, overlapping: bool) {
        let outer: Vec<(u32, u32)> = self
            .annotations
            .iter()
            .filter(|a| a.alive && a.label == other)
            .map(|a| (a.first, a.last))
            .collect();
        for a in self
            .annotations
            .iter_mut()
            .filter(|a| a.alive && a.label == label)
        {
            let hit = outer.iter().any(|&(f, l)| {
                if overlapping {
                    a.first < l && f < a.last && (f, l) != (a.first, a.last)
                } else {
                    f <= a.first && a.last <= l && (f, l) != (a.first, a.last)
                }
            });
            if hit {
                a.alive = false;
            }
        }
    }
}

/// Whether a live annotation `label` contains (`inside`) or overlaps the span `[first, last)`;
/// `live` is sorted by label, as [`State::live_spans`] makes it.
fn conflicts(
    live: &[(Label, u32, u32)],
    label: Label,
    inside: bool,
    first: u32,
    last: u32,
) -> bool {
    let from = live.partition_point(|s| s.0 < label);
    live[from..]
        .iter()
        .take_while(|s| s.0 == label)
        .any(|&(_, a_first, a_last)| {
            if inside {
                a_first <= first && last <= a_last
            } else {
                first < a_last && a_first < last
            }
        })
}

/// The bit of `label` in a per-token label mask (labels beyond 64 share bits: a prefilter only).
fn label_bit(label: Label) -> u64 {
    1 << (label.0 % 64)
}

fn line_ends(doc: &Normalized) -> Vec<u32> {
    let n = doc.tokens.len();
    let mut ends = vec![n as u32; n];
    let mut next = n as u32;
    for i in (0..n).rev() {
        ends[i] = next;
        if doc.tokens[i].line_start {
            next = i as u32;
        }
    }
    ends
}

fn class_matches(class: Class, t: &crate::text::Token) -> bool {
    match class {
        Class::Any => true,
        Class::Word => t.kind == TokenKind::Word,
        Class::Cap => t.kind == TokenKind::Word && t.capitalised,
        Class::Name => {
            t.kind == TokenKind::Word && t.capitalised && (!t.all_upper || t.letters < 2)
        }
        Class::Lower => t.kind == TokenKind::Word && !t.capitalised,
        Class::Upper => t.kind == TokenKind::Word && t.all_upper && t.letters >= 2,
        Class::Num => t.kind == TokenKind::Number,
        Class::Punct => t.kind == TokenKind::Punct,
    }
}

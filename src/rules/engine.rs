//! The rule engine: phases of patterns over annotations, like a cascade of finite-state
//! transducers (GATE's JAPE is the model).
//!
//! A document starts with one annotation per gazetteer hit. Each phase tries all its rules at
//! every token, keeps each rule's longest match per start, lets overlapping matches compete
//! (longest, then the rule written first, then the leftmost) and runs the winners' actions,
//! which add annotations that later phases see. A rule is tried by running its compiled
//! [`Program`](super::program::Program) on the backtracking machine (`engine/machine.rs`).

mod machine;

use std::borrow::Cow;
use std::ops::Range;

use rustc_hash::FxHashMap;

use super::parse::Class;
use super::starts::{Lead, PhaseStarts, RuleSets, StartMaps};
use super::{
    class_bit, label_bit, word_bit, CompiledAction, CompiledFilter, CompiledValue, Phase, Step,
    NO_WORD,
};
use crate::label::Label;
use crate::matcher::Scan;
use crate::pipeline::Pipeline;
use crate::text::{Normalized, TokenKind};

/// Where an annotation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A gazetteer key (index into the matcher's groups) and which of its kinds (index into
    /// the group's kinds).
    Gazetteer { key: u32, kind: u32 },
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
    /// The attributes set by the rule that made it, a range of the state's list (see
    /// [`State::attrs`]): kept there, an annotation owns nothing, so adding one allocates nothing
    /// and a document's annotations are dropped at once.
    pub attrs: Range<u32>,
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
    /// The gazetteers, rules and what the rules know of the entries.
    pipeline: &'a Pipeline,
    pub annotations: Vec<Annotation>,
    /// The attributes of the rules' annotations, `(key, value)`: keys and literal values borrow
    /// from the rules, values taken from the text from the document where it is in display form.
    attr_list: Vec<(&'a str, Cow<'a, str>)>,
    /// How many live annotations of a label have a text, for the phase's `[seen=LABEL]` filters.
    seen: FxHashMap<(Label, &'a str), u32>,
    /// `(person annotation, role annotation)` pairs from `hold` actions.
    pub holds: Vec<(u32, u32)>,
    pub losses: Option<Vec<Loss>>,
    tables: Tables,
}

/// A state's tables over the document's tokens and annotations, and its working memory: none of
/// it borrows from the document, so a worker keeps it for the next one (see [`Buffers`]).
#[derive(Default)]
struct Tables {
    /// The first and the last annotation starting at each token ([`NONE`] if none); `next`
    /// chains each token's annotations in the order they were added. One allocation per
    /// document instead of one list per token. These and `owner` keep the length of the longest
    /// document yet rather than be filled afresh for each: past a document's tokens `first_at`
    /// is NONE (`u32::MAX`), as if absent. `last_at` is read only where `first_at` is not NONE,
    /// so it is never set back: elsewhere it holds a former document's.
    first_at: Vec<u32>,
    last_at: Vec<u32>,
    next: Vec<u32>,
    /// The most tokens an annotation of each label (by id) spans, so the annotations around a
    /// span are found by looking back that far instead of over the whole document.
    reach: Vec<u32>,
    /// The last annotation added with each label (by id), or [`NONE`]; `previous_of_label` chains
    /// each annotation to the one added before it with its label, so a label's annotations are
    /// found without passing over the others.
    last_of_label: Vec<u32>,
    previous_of_label: Vec<u32>,
    /// Per token: the bits of its classes, of the rules' word it is and of the labels that start
    /// there (see [`label_bit`](super::label_bit)), so a phase passes over tokens none of its
    /// rules can start at. Like `words`, it keeps the length of the longest document yet.
    token_bits: Vec<u64>,
    /// Per token: which of the rules' words it is, or [`NO_WORD`]. Only a document's tokens are
    /// written (and, in `token_bits`, the end after them): what lies past them is a former
    /// document's, never read.
    words: Vec<u32>,
    /// Per phase, the tokens at which its rules can start.
    starts: StartMaps,
    /// Per token: the index (in a phase's winners) of the winning match that covers it, or
    /// `u32::MAX`; all `u32::MAX` between phases.
    owner: Vec<u32>,
    /// For each token, the first token of the next line.
    line_ends: Vec<u32>,
    /// Working memory of a phase, kept for the next one so phases after the first allocate
    /// nothing.
    scratch: Scratch,
}

/// The memory of a finished [`State`], handed to the next document's ([`State::new`]) so
/// that a worker allocates only when a document needs more than all before it.
#[derive(Default)]
pub struct Buffers {
    /// The last document's, which say where `first_at` is not NONE.
    annotations: Vec<Annotation>,
    holds: Vec<(u32, u32)>,
    tables: Tables,
}

/// A phase's working memory.
#[derive(Default)]
struct Scratch {
    found: Vec<Found>,
    /// The captures of every match found, one list for the phase.
    captures: Vec<Capture>,
    winners: Vec<Found>,
    machine: machine::Machine,
    /// The spans the phase's `unless` clauses test matches against.
    unless_spans: UnlessSpans,
}

/// One capture instance: name index, span, and the annotation it consumed if it was a label.
#[derive(Debug, Clone, Copy)]
struct Capture {
    name: u16,
    first: u32,
    last: u32,
    annotation: Option<u32>,
}

#[derive(Clone)]
struct Found {
    rule: u32,
    first: u32,
    last: u32,
    /// Its captures, a range of the phase's capture list.
    captures: std::ops::Range<usize>,
}

/// No annotation.
const NONE: u32 = u32::MAX;

/// The bits of the tokens that follow the annotations of a label starting at a token, for
/// [`State::may_lead`]: the rules of a phase that lead with the same label (a unit word, then a
/// number or a name) are tested one after another at a start, and one walk over the start's
/// annotations serves them all.
#[derive(Debug, Clone, Copy)]
struct LeadEnds {
    pos: u32,
    label: Label,
    /// The [`token_bits`](State::token_bits) of the token after each such annotation (that ends
    /// on the line), together.
    bits: u64,
    /// The annotation, when there is exactly one: its filters are then tested without another
    /// walk. [`NONE`] when there are several (or none).
    only: u32,
}

impl LeadEnds {
    /// Nothing found yet.
    const NONE: LeadEnds = LeadEnds {
        pos: NONE,
        label: Label(0),
        bits: 0,
        only: NONE,
    };
}

/// What the start of an annotation or of a token marks, worked out once for the pipeline's
/// rules and labels ([`Pipeline::start_marks`]) rather than for every document.
#[derive(Debug, Clone)]
pub struct StartMarks {
    /// What an annotation of each label (by id) marks at its first token.
    by_label: Vec<LabelMarks>,
    /// The phases that can start at a token of each shape ([`token_shape`]) for its classes.
    by_shape: [u64; SHAPES],
}

impl StartMarks {
    /// The marks of every label of `labels` and every token shape, whose phases come from
    /// `starts`.
    pub fn new(labels: &crate::label::Labels, starts: &PhaseStarts) -> StartMarks {
        StartMarks {
            by_label: (0..labels.count())
                .map(|label| LabelMarks::of(Label(label as _), starts))
                .collect(),
            by_shape: std::array::from_fn(|shape| starts.of_classes(CLASSES_BY_SHAPE[shape])),
        }
    }
}

/// What an annotation of a label marks at its first token.
#[derive(Debug, Clone, Copy)]
struct LabelMarks {
    /// Its [`label_bit`] among the token's bits.
    bit: u64,
    /// The phases that can start at it.
    phases: u64,
}

impl LabelMarks {
    /// The marks of `label`, whose phases come from `starts`.
    fn of(label: Label, starts: &PhaseStarts) -> LabelMarks {
        LabelMarks {
            bit: label_bit(label),
            phases: starts.of_label(label),
        }
    }
}

/// How an annotation must lie against a span to count as being around it, for `drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Around {
    /// It contains the span and is longer.
    StrictlyContains,
    /// It shares a token with the span and has another span.
    OverlapsOther,
}

/// The spans of the live annotations of the labels a phase's `unless` clauses name, sorted by
/// first token, each with the furthest end among it and the spans of its label before it.
/// Whether one of them contains or overlaps a match is then a binary search, where looking
/// around the match token by token costs its length and the label's reach. A label's spans are
/// gathered the first time it is asked for (the annotations do not change while a phase's
/// matches are filtered).
#[derive(Debug, Default)]
struct UnlessSpans {
    /// Each label gathered so far, and its spans as a range of `spans`.
    by_label: Vec<(Label, std::ops::Range<usize>)>,
    /// `(first, the furthest last of this span and those sorted before it)`.
    spans: Vec<(u32, u32)>,
}

impl UnlessSpans {
    /// Forgets the spans gathered for the previous phase.
    fn clear(&mut self) {
        self.by_label.clear();
        self.spans.clear();
    }

    /// Whether a live annotation of `label` contains (`inside`) or overlaps the match `found`.
    fn blocks(&mut self, state: &State, label: Label, inside: bool, found: &Found) -> bool {
        let spans = self.of(state, label);
        if inside {
            furthest_end(spans, found.first) >= found.last
        } else {
            // One that starts before the match ends and ends after it starts.
            furthest_end(spans, found.last - 1) > found.first
        }
    }

    /// The spans of `label`, gathered from `state` if they are not yet.
    fn of(&mut self, state: &State, label: Label) -> &[(u32, u32)] {
        let range = match self.by_label.iter().find(|(l, _)| *l == label) {
            Some((_, range)) => range.clone(),
            None => self.gather(state, label),
        };
        &self.spans[range]
    }

    /// Gathers the spans of `label` from `state`; returns where they are in `spans`. Out of
    /// line: once per label and phase, and the usual lookup then saves no registers.
    #[inline(never)]
    fn gather(&mut self, state: &State, label: Label) -> std::ops::Range<usize> {
        let start = self.spans.len();
        self.spans.extend(state.live_of_label(label).map(|id| {
            let a = &state.annotations[id as usize];
            (a.first, a.last)
        }));
        let spans = &mut self.spans[start..];
        // They come latest added first, and a label's annotations are mostly added in order of
        // their first token: reversed, they are nearly in order, which the sort passes through
        // at once instead of moving each span past all the others.
        spans.reverse();
        spans.sort_unstable_by_key(|&(first, _)| first);
        let mut furthest = 0;
        for (_, last) in spans {
            furthest = furthest.max(*last);
            *last = furthest;
        }
        let range = start..self.spans.len();
        self.by_label.push((label, range.clone()));
        range
    }
}

/// The furthest end of the [`UnlessSpans`] `spans` that start at or before token `pos`, or 0
/// if none does.
fn furthest_end(spans: &[(u32, u32)], pos: u32) -> u32 {
    let starting = spans.partition_point(|&(first, _)| first <= pos);
    starting.checked_sub(1).map_or(0, |i| spans[i].1)
}

/// The lists and tables of a [`State`] that adding an annotation writes, cut to the document's
/// tokens and the labels (see [`State::entry`]).
struct Entry<'t> {
    annotations: &'t mut Vec<Annotation>,
    next: &'t mut Vec<u32>,
    previous_of_label: &'t mut Vec<u32>,
    first_at: &'t mut [u32],
    last_at: &'t mut [u32],
    token_bits: &'t mut [u64],
    label_marks: &'t [LabelMarks],
    reach: &'t mut [u32],
    last_of_label: &'t mut [u32],
    starts: &'t mut StartMaps,
}

impl Entry<'_> {
    /// Adds `annotation`; returns its id. Inlined: State::new calls it for every gazetteer
    /// hit, and the call and the annotation built for it cost as much as the work.
    #[inline(always)]
    fn add(&mut self, annotation: Annotation) -> u32 {
        let id = self.annotations.len() as u32;
        let (label, first, last) = (annotation.label, annotation.first, annotation.last);
        // Pushed first: pushed last, it was built aside and copied into place.
        self.annotations.push(annotation);
        let pos = first as usize;
        match self.first_at[pos] {
            NONE => self.first_at[pos] = id,
            _ => self.next[self.last_at[pos] as usize] = id,
        }
        self.last_at[pos] = id;
        self.next.push(NONE);
        let label = label.0 as usize;
        let marks = self.label_marks[label];
        self.token_bits[pos] |= marks.bit;
        self.starts.mark(pos, marks.phases);
        let reach = &mut self.reach[label];
        *reach = (*reach).max(last - first);
        let last_of_label = &mut self.last_of_label[label];
        self.previous_of_label.push(*last_of_label);
        *last_of_label = id;
        id
    }
}

/// Sets back to [`NONE`] the entries of `first_at` where `annotations` start. Out of line: in
/// [`State::new`]'s body the list's address and length were reloaded at every step.
#[inline(never)]
fn forget_starts(first_at: &mut [u32], annotations: &[Annotation]) {
    for a in annotations {
        first_at[a.first as usize] = NONE;
    }
}

impl<'a> State<'a> {
    /// The state of document `doc` before the rules run: its tokens' tables and the
    /// annotations of the gazetteer hits of `scan`. It is built in the memory of a finished
    /// state's `buffers` (whose contents are dropped), or of `Buffers::default()`.
    pub fn new(
        buffers: Buffers,
        original: &'a str,
        doc: &'a Normalized,
        pipeline: &'a Pipeline,
        scan: &Scan,
        trace: bool,
    ) -> State<'a> {
        let Buffers {
            mut annotations,
            mut holds,
            mut tables,
        } = buffers;
        let Tables {
            first_at,
            last_at,
            next,
            reach,
            last_of_label,
            previous_of_label,
            token_bits,
            words,
            starts,
            owner,
            line_ends,
            scratch: _,
        } = &mut tables;
        let tokens = doc.tokens.len();
        // Each token has its code: the loop below zips them, and would leave a former
        // document's words and bits past a shorter list.
        debug_assert_eq!(scan.codes.len(), tokens);
        let phase_starts = &pipeline.rules().phase_starts;
        starts.renew(tokens, phase_starts);
        // A token's classes, and so the phases that can start at it for them, depend only on its
        // shape: a block's tokens of one shape are marked for their phases together, one store
        // per phase and shape rather than per token.
        let marks = pipeline.start_marks();
        // Written in place, in one pass over the tokens for all three tables: no capacity test
        // per token, and no fill (they keep the length of the longest document yet). One more
        // token bit for the end of the document, where a pattern may look for a label: every
        // bit set, so a pattern that can match empty there is not ruled out by the bits it needs.
        words.resize(words.len().max(tokens), NO_WORD);
        token_bits.resize(token_bits.len().max(tokens + 1), 0);
        token_bits[tokens] = u64::MAX;
        line_ends.clear();
        for (block, (((block_tokens, block_codes), block_words), block_bits)) in doc
            .tokens
            .chunks(64)
            .zip(scan.codes.chunks(64))
            .zip(words[..tokens].chunks_mut(64))
            .zip(token_bits[..tokens].chunks_mut(64))
            .enumerate()
        {
            let mut of_shape = [0u64; SHAPES];
            // The token's bit in the block, shifted along rather than made from its index; the
            // rare paths that need its position find it from the bit.
            let mut bit = 1u64;
            let pos = |bit: u64| block * 64 + bit.trailing_zeros() as usize;
            for (((token, &code), word), bits) in block_tokens
                .iter()
                .zip(block_codes)
                .zip(block_words)
                .zip(block_bits)
            {
                let shape = token_shape(token);
                of_shape[shape] |= bit;
                *word = pipeline.rule_word(code);
                *bits = match *word {
                    // Most tokens are none of the rules' words: nothing to look up by word.
                    NO_WORD => CLASSES_BY_SHAPE[shape],
                    word => {
                        starts.mark(pos(bit), phase_starts.of_word(word));
                        CLASSES_BY_SHAPE[shape] | word_bit(word)
                    }
                };
                if token.line_start {
                    // The tokens of the line before end here.
                    line_ends.resize(pos(bit), pos(bit) as u32);
                }
                bit <<= 1;
            }
            for (&marked, &phases) in of_shape.iter().zip(&marks.by_shape) {
                if marked != 0 {
                    starts.mark_block(block, phases, marked);
                }
            }
        }
        // Those of the last line end with the document.
        line_ends.resize(tokens, tokens as u32);
        let hits = &scan.hits;
        // The last document's list is NONE but where its annotations start: setting those back
        // writes less than filling the list. Neither list is shortened (see `Buffers`).
        forget_starts(first_at, &annotations);
        for list in [&mut *first_at, &mut *last_at] {
            list.resize(list.len().max(tokens + 1), NONE);
        }
        annotations.clear();
        annotations.reserve(hits.len() * 2);
        for list in [&mut *next, &mut *previous_of_label] {
            list.clear();
            list.reserve(hits.len() * 2);
        }
        // One entry per label, so that adding an annotation need not grow them.
        let labels = marks.by_label.len();
        reach.clear();
        reach.resize(labels, 0);
        last_of_label.clear();
        last_of_label.resize(labels, NONE);
        holds.clear();
        owner.resize(owner.len().max(tokens), u32::MAX);
        let mut state = State {
            original,
            doc,
            pipeline,
            annotations,
            attr_list: Vec::new(),
            seen: FxHashMap::default(),
            holds,
            losses: trace.then(Vec::new),
            tables,
        };
        let mut entry = state.entry();
        for hit in hits {
            for (index, kind) in pipeline.matcher().kinds(hit.key).iter().enumerate() {
                entry.add(Annotation {
                    label: kind.label,
                    first: hit.first,
                    last: hit.last,
                    source: Source::Gazetteer {
                        key: hit.key,
                        kind: index as u32,
                    },
                    attrs: 0..0,
                    alive: true,
                });
            }
        }
        state
    }

    /// The memory of this state, for the next document's (see [`State::new`]).
    pub fn into_buffers(self) -> Buffers {
        Buffers {
            annotations: self.annotations,
            holds: self.holds,
            tables: self.tables,
        }
    }

    /// Adds `annotation`; returns its id.
    fn add(&mut self, annotation: Annotation) -> u32 {
        self.entry().add(annotation)
    }

    /// The tables an annotation is entered in, borrowed for a run of adds.
    fn entry(&mut self) -> Entry<'_> {
        // Cut to one length per kind of table: an add then tests the token it starts at once
        // for the three token tables and its label once for the three label tables.
        let tokens = self.doc.tokens.len() + 1;
        let pipeline: &'a Pipeline = self.pipeline;
        let label_marks = &pipeline.start_marks().by_label[..];
        let labels = label_marks.len();
        let t = &mut self.tables;
        Entry {
            annotations: &mut self.annotations,
            next: &mut t.next,
            previous_of_label: &mut t.previous_of_label,
            first_at: &mut t.first_at[..tokens],
            last_at: &mut t.last_at[..tokens],
            token_bits: &mut t.token_bits[..tokens],
            label_marks,
            reach: &mut t.reach[..labels],
            last_of_label: &mut t.last_of_label[..labels],
            starts: &mut t.starts,
        }
    }

    /// The attributes annotation `id` was given by the rule that made it, `(key, value)`.
    pub fn attrs(&self, id: u32) -> &[(&'a str, Cow<'a, str>)] {
        let Range { start, end } = self.annotations[id as usize].attrs;
        &self.attr_list[start as usize..end as usize]
    }

    /// The value of attribute `key` of annotation `id`: its own, else its gazetteer entry's.
    pub fn attr(&self, id: u32, key: &str) -> Option<Cow<'a, str>> {
        if let Some((_, v)) = self.attrs(id).iter().find(|(k, _)| *k == key) {
            return Some(v.clone());
        }
        self.entries(id)
            .find_map(|e| e.attr(key))
            .map(Cow::Borrowed)
    }

    /// The gazetteer entries behind annotation `id` (none for rule annotations).
    pub fn entries(&self, id: u32) -> impl Iterator<Item = &'a crate::gazetteer::Entry> {
        let pipeline: &'a Pipeline = self.pipeline;
        let ids: &[u32] = match self.annotations[id as usize].source {
            Source::Gazetteer { key, kind } => {
                &pipeline.matcher().groups[key as usize].kinds[kind as usize].1
            }
            Source::Rule(_) => &[],
        };
        let entries = &pipeline.gazetteer().entries;
        ids.iter().map(|&i| &entries[i as usize])
    }

    /// Ids of the annotations that start at token `pos`, in the order they were added.
    pub fn starting_at(&self, pos: u32) -> impl Iterator<Item = u32> + '_ {
        let mut id = self
            .tables
            .first_at
            .get(pos as usize)
            .copied()
            .unwrap_or(NONE);
        std::iter::from_fn(move || {
            let current = id;
            (current != NONE).then(|| {
                id = self.tables.next[current as usize];
                current
            })
        })
    }

    /// Ids of the live annotations of `label`, the latest added first.
    pub fn live_of_label(&self, label: Label) -> impl Iterator<Item = u32> + '_ {
        let mut id = self
            .tables
            .last_of_label
            .get(label.0 as usize)
            .copied()
            .unwrap_or(NONE);
        std::iter::from_fn(move || {
            let current = id;
            (current != NONE).then(|| {
                id = self.tables.previous_of_label[current as usize];
                current
            })
        })
        .filter(|&id| self.annotations[id as usize].alive)
    }

    /// The live annotations of `label` that start at token `pos` and end by `line_end` (matches
    /// stay on one line): their ids and ends.
    fn on_line(
        &self,
        label: Label,
        pos: u32,
        line_end: u32,
    ) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.starting_at(pos).filter_map(move |id| {
            let a = &self.annotations[id as usize];
            (a.alive && a.label == label && a.last <= line_end).then_some((id, a.last))
        })
    }

    /// The normalised text of annotation `id`.
    pub fn text(&self, id: u32) -> &'a str {
        let a = &self.annotations[id as usize];
        let doc: &'a Normalized = self.doc;
        doc.token_text(a.first as usize, a.last as usize)
    }

    /// Runs every phase of the pipeline's rules.
    pub fn run(&mut self) {
        for step in &self.pipeline.rules().steps {
            match step {
                Step::Phase(phase) => self.phase(phase),
                Step::Drop {
                    label,
                    other,
                    overlapping,
                } => self.drop(*label, *other, *overlapping),
            }
        }
    }

    fn phase(&mut self, phase: &Phase) {
        let rules = self.pipeline.rules();
        self.count_seen(&phase.seen);
        let mut scratch = std::mem::take(&mut self.tables.scratch);
        let Scratch {
            found,
            captures,
            winners,
            machine,
            unless_spans,
        } = &mut scratch;
        found.clear();
        captures.clear();
        let mut lead_ends = LeadEnds::NONE;
        for start in self.tables.starts.positions(phase) {
            for (chunk, sets) in phase.starts.chunks.iter().enumerate() {
                // The start bitmap has already said a phase's one rule may start here.
                let mut set = if phase.rules.len() == 1 {
                    1
                } else {
                    self.start_set(sets, start)
                };
                // Its rules in order, read off the set rather than listed first.
                while set != 0 {
                    let index = phase.rules.start + chunk * 64 + set.trailing_zeros() as usize;
                    let index = index as u32;
                    set &= set - 1;
                    let rule = &rules.rules[index as usize];
                    if rule
                        .lead
                        .as_ref()
                        .is_some_and(|lead| !self.may_lead(lead, start, &mut lead_ends))
                    {
                        continue;
                    }
                    if let Some((last, best)) = self.longest(&rule.program, start, machine) {
                        if last > start {
                            found.push(Found {
                                rule: index,
                                first: start,
                                last,
                                captures: captures.len()..captures.len() + best.len(),
                            });
                            captures.extend_from_slice(best);
                        }
                    }
                }
            }
        }
        if phase.unless {
            unless_spans.clear();
            found.retain(|f| {
                let keep = rules.rules[f.rule as usize]
                    .unless
                    .iter()
                    .all(|&(label, inside)| !unless_spans.blocks(self, label, inside, f));
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
        }
        self.choose(found, winners);
        for f in winners.iter() {
            self.act(f, &captures[f.captures.clone()]);
        }
        self.tables.scratch = scratch;
    }

    /// Picks the winners among a phase's matches `found` (in order of their first token) into
    /// `winners`, in order of their first token: of overlapping matches the longest wins, then
    /// the rule written first, then the leftmost.
    fn choose(&mut self, found: &mut [Found], winners: &mut Vec<Found>) {
        winners.clear();
        let losses_from = self.losses.as_ref().map_or(0, Vec::len);
        // Winners never overlap, so each token has at most one: `owner` holds the index (in
        // `winners`) of the winner covering it, and the earliest winner a match overlaps is the
        // smallest index over its span.
        let owner = &mut self.tables.owner;
        let mut rest = found;
        while let Some(head) = rest.first() {
            // A match competes only with the matches it overlaps, directly or through others:
            // each such cluster is decided alone, and most are one match, with nothing to sort.
            let mut end = head.last;
            let size = rest
                .iter()
                .position(|f| {
                    let joins = f.first < end;
                    end = end.max(f.last);
                    !joins
                })
                .unwrap_or(rest.len());
            let (cluster, tail) = std::mem::take(&mut rest).split_at_mut(size);
            rest = tail;
            // A match that overlaps no other wins, with no tokens to mark.
            if let [alone] = cluster {
                winners.push(alone.clone());
                continue;
            }
            cluster.sort_by_key(|f| precedence(f.rule, f.first, f.last));
            let from = winners.len();
            for f in cluster.iter() {
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
                winners.push(f.clone());
            }
            for f in &winners[from..] {
                owner[f.first as usize..f.last as usize].fill(u32::MAX);
            }
            winners[from..].sort_by_key(|f| f.first);
        }
        // In the order the matches would lose in were they all sorted together.
        if let Some(losses) = &mut self.losses {
            losses[losses_from..].sort_by_key(|l| precedence(l.rule, l.first, l.last));
        }
    }

    /// Counts the texts of the live annotations of `labels`, for `[seen=LABEL]` filters (the
    /// annotations do not change while a phase matches).
    fn count_seen(&mut self, labels: &[Label]) {
        self.seen.clear();
        if labels.is_empty() {
            return;
        }
        let doc: &'a Normalized = self.doc;
        for a in &self.annotations {
            if a.alive && labels.contains(&a.label) {
                let text = doc.token_text(a.first as usize, a.last as usize);
                *self.seen.entry((a.label, text)).or_default() += 1;
            }
        }
    }

    /// The set of rules (of the 64 of `sets`) that can start at `pos`.
    fn start_set(&self, sets: &RuleSets, pos: u32) -> u64 {
        let labels = self
            .starting_at(pos)
            .map(|id| &self.annotations[id as usize])
            .filter(|a| a.alive)
            .map(|a| a.label);
        let (bits, word) = (
            self.tables.token_bits[pos as usize],
            self.tables.words[pos as usize],
        );
        sets.at(bits, word, labels)
    }

    /// Whether a live annotation of `label` lies `around` the span `[first, last)`.
    fn any_around(&self, label: Label, first: u32, last: u32, around: Around) -> bool {
        // One entry per label (see `State::new`).
        let reach = self.tables.reach[label.0 as usize];
        if reach == 0 || first >= last {
            return false;
        }
        // Where such an annotation can start, given that it spans at most `reach` tokens.
        let (from, to) = match around {
            Around::StrictlyContains => (last.saturating_sub(reach), first),
            Around::OverlapsOther => ((first + 1).saturating_sub(reach), last - 1),
        };
        // A token where no annotation of the label ever started (its bit, see `add`) is passed
        // over without walking its annotations.
        let bit = label_bit(label);
        (from..=to)
            .filter(|&pos| self.tables.token_bits[pos as usize] & bit != 0)
            .any(|pos| {
                self.starting_at(pos).any(|id| {
                    let a = &self.annotations[id as usize];
                    let same = (a.first, a.last) == (first, last);
                    a.alive
                        && a.label == label
                        && match around {
                            Around::StrictlyContains => a.first <= first && last <= a.last && !same,
                            Around::OverlapsOther => first < a.last && a.first < last && !same,
                        }
                })
            })
    }

    /// Whether a pattern beginning with `lead` may match at `pos`: a cheap test that rules out
    /// most attempts before the pattern is walked. `ends` keeps what the last label lead found.
    fn may_lead(&self, lead: &Lead, pos: u32, ends: &mut LeadEnds) -> bool {
        match lead {
            Lead::LineStart => self.at_line_start(pos),
            Lead::Token(next) => self.tables.token_bits[pos as usize + 1] & next != 0,
            Lead::Label {
                label,
                filters,
                next,
            } => {
                let line_end = self.tables.line_ends[pos as usize];
                if (ends.pos, ends.label) != (pos, *label) {
                    let (mut bits, mut only, mut count) = (0, NONE, 0);
                    for (id, end) in self.on_line(*label, pos, line_end) {
                        bits |= self.tables.token_bits[end as usize];
                        (only, count) = (id, count + 1);
                    }
                    *ends = LeadEnds {
                        pos,
                        label: *label,
                        bits,
                        only: if count == 1 { only } else { NONE },
                    };
                }
                // The filters are tested only when the bits leave a chance: they cost more.
                let passes = |id| filters.iter().all(|f| self.filter(id, f));
                if ends.bits & next == 0 || filters.is_empty() {
                    return ends.bits & next != 0;
                }
                match ends.only {
                    NONE => self.on_line(*label, pos, line_end).any(|(id, end)| {
                        self.tables.token_bits[end as usize] & next != 0 && passes(id)
                    }),
                    // Its end's bits are `ends.bits`, which have one of `next`.
                    only => passes(only),
                }
            }
        }
    }

    /// Whether token `pos` is the first of its line.
    fn at_line_start(&self, pos: u32) -> bool {
        pos == 0
            || self
                .doc
                .tokens
                .get(pos as usize)
                .is_some_and(|t| t.line_start)
    }

    /// Whether annotation `id` passes `filter`.
    // Inlined for the usual case, a gazetteer annotation's attribute test (a few loads): as one
    // function with the others, every call paid for the registers those need.
    #[inline]
    fn filter(&self, id: u32, filter: &CompiledFilter) -> bool {
        match (filter, self.annotations[id as usize].source) {
            (CompiledFilter::Attr(test), Source::Gazetteer { key, kind }) => {
                self.pipeline.facts().holds(self.pipeline, key, kind, *test)
            }
            _ => self.filter_other(id, filter),
        }
    }

    /// [`State::filter`] for the filters other than a gazetteer annotation's attribute test.
    #[inline(never)]
    fn filter_other(&self, id: u32, filter: &CompiledFilter) -> bool {
        let a = &self.annotations[id as usize];
        // Sliced only for the filters that read the tokens: most test attributes.
        let tokens = || &self.doc.tokens[a.first as usize..a.last as usize];
        match filter {
            CompiledFilter::MinTokens(n) => a.last - a.first >= *n,
            CompiledFilter::MaxTokens(n) => a.last - a.first <= *n,
            CompiledFilter::Capitalised => tokens().first().is_some_and(|t| t.capitalised),
            CompiledFilter::LowerCase => tokens().first().is_some_and(|t| !t.capitalised),
            CompiledFilter::AllCapitalised => tokens()
                .iter()
                .filter(|t| t.kind == TokenKind::Word)
                .all(|t| t.capitalised),
            CompiledFilter::Attr(test) => self.own_attr_holds(id, *test),
            CompiledFilter::Seen(label) => self.seen_elsewhere(id, *label),
        }
    }

    // The two filters that look the annotation up are functions of their own, so the token
    // filters, which call nothing, save no registers on the way in.

    /// Whether attribute test `test` holds for rule annotation `id`'s own attributes (`filter`
    /// answers for the gazetteer's).
    #[inline(never)]
    fn own_attr_holds(&self, id: u32, test: u16) -> bool {
        self.pipeline.rules().attr_tests[test as usize]
            .holds(self.attrs(id).iter().map(|(k, v)| (*k, &**v)))
    }

    /// Whether annotation `id`'s text has been seen as `label` elsewhere in the document: the
    /// annotation itself is not another sighting.
    #[inline(never)]
    fn seen_elsewhere(&self, id: u32, label: Label) -> bool {
        let count = self.seen.get(&(label, self.text(id))).copied();
        let own = self.annotations[id as usize].label == label;
        count.unwrap_or(0) > u32::from(own)
    }

    // Out of line: once per winner, and inlined into the phase's loop it cost that loop more
    // than the call saves.
    #[inline(never)]
    fn act(&mut self, found: &Found, captures: &[Capture]) {
        let pipeline: &'a Pipeline = self.pipeline;
        let rule = &pipeline.rules().rules[found.rule as usize];
        for action in &rule.actions {
            match action {
                CompiledAction::Emit {
                    label,
                    capture,
                    attrs,
                } => {
                    // The whole match, or each instance of the capture.
                    let whole = capture.is_none().then_some((found.first, found.last));
                    let captured = captures
                        .iter()
                        .filter(|x| Some(x.name) == *capture)
                        .map(|x| (x.first, x.last));
                    let spans = whole
                        .into_iter()
                        .chain(captured)
                        .filter(|(first, last)| first < last);
                    let from = self.attr_list.len() as u32;
                    for (key, value) in attrs {
                        if let Some(value) = self.value(value, captures) {
                            self.attr_list.push((key, value));
                        }
                    }
                    // Every annotation of the action has the same attributes: they share them.
                    let attrs = from..self.attr_list.len() as u32;
                    for (first, last) in spans {
                        if self.find(*label, first, last).is_none() {
                            self.add(Annotation {
                                label: *label,
                                first,
                                last,
                                source: Source::Rule(found.rule),
                                attrs: attrs.clone(),
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
                        captures
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
        self.starting_at(first).find(|&id| {
            let a = &self.annotations[id as usize];
            a.alive && a.label == label && a.last == last
        })
    }

    fn value(&self, value: &'a CompiledValue, captures: &[Capture]) -> Option<Cow<'a, str>> {
        match value {
            CompiledValue::Literal(s) => Some(Cow::Borrowed(s)),
            CompiledValue::Capture(name, attr) => {
                // A capture that matched nothing has no text to give.
                let c = captures
                    .iter()
                    .find(|c| c.name == *name)
                    .filter(|c| c.first < c.last)?;
                match attr {
                    None => {
                        let doc: &'a Normalized = self.doc;
                        Some(doc.token_display_form(
                            self.original,
                            c.first as usize,
                            c.last as usize,
                        ))
                    }
                    Some(key) => self.attr(c.annotation?, key),
                }
            }
        }
    }

    fn drop(&mut self, label: Label, other: Label, overlapping: bool) {
        let around = if overlapping {
            Around::OverlapsOther
        } else {
            Around::StrictlyContains
        };
        // Decided before any is dropped, so `drop X inside X` sees every X.
        let doomed: Vec<u32> = self
            .live_of_label(label)
            .filter(|&id| {
                let a = &self.annotations[id as usize];
                self.any_around(other, a.first, a.last, around)
            })
            .collect();
        for id in doomed {
            self.annotations[id as usize].alive = false;
        }
    }
}

/// The order in which overlapping matches of a phase are considered, winners first: the longest,
/// then the rule written first, then the leftmost.
fn precedence(rule: u32, first: u32, last: u32) -> (std::cmp::Reverse<u32>, u32, u32) {
    (std::cmp::Reverse(last - first), rule, first)
}

/// The shape of token `t`, which decides the classes it belongs to ([`CLASSES_BY_SHAPE`]): its
/// kind, its case and whether it has two letters.
fn token_shape(t: &crate::text::Token) -> usize {
    let kind = match t.kind {
        TokenKind::Word => 0,
        TokenKind::Number => 1,
        TokenKind::Punct => 2,
    };
    kind << 3
        | usize::from(t.capitalised) << 2
        | usize::from(t.all_upper) << 1
        | usize::from(t.letters >= 2)
}

/// The number of token shapes ([`token_shape`]).
const SHAPES: usize = 24;

/// The bits ([`class_bit`]) of the classes a token of each shape ([`token_shape`]) belongs to:
/// kind (word, number, punctuation) × capitalised × all in capitals × two letters or more.
const CLASSES_BY_SHAPE: [u64; SHAPES] = {
    let mut table = [0; SHAPES];
    let mut shape = 0;
    while shape < table.len() {
        let (kind, capitalised, all_upper, letters) =
            (shape >> 3, shape & 4 != 0, shape & 2 != 0, shape & 1 != 0);
        let word = kind == 0;
        // `UBND` is written in capitals; `A` is only capitalised.
        let upper = word && all_upper && letters;
        table[shape] = bit_if(Class::Any, true)
            | bit_if(Class::Word, word)
            | bit_if(Class::Cap, word && capitalised)
            | bit_if(Class::Name, word && capitalised && !upper)
            | bit_if(Class::Lower, word && !capitalised)
            | bit_if(Class::Upper, upper)
            | bit_if(Class::Num, kind == 1)
            | bit_if(Class::Punct, kind == 2);
        shape += 1;
    }
    table
};

/// The bit of `class` if `holds`.
const fn bit_if(class: Class, holds: bool) -> u64 {
    if holds {
        class_bit(class)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::Gazetteer;

    /// Runs the rules of `pipeline` over `text` and, before each phase, tests every rule with a
    /// lead at every token: where the lead rules the rule out, walking it must find no match.
    /// Returns how many attempts the leads ruled out.
    fn leads_rule_out_only_what_cannot_match(pipeline: &Pipeline, text: &str) -> usize {
        let doc = Normalized::new(text);
        let scan = pipeline.matcher().find(&doc);
        let mut state = State::new(Buffers::default(), text, &doc, pipeline, &scan, false);
        let mut machine = machine::Machine::default();
        let mut ruled_out = 0;
        for step in &pipeline.rules().steps {
            let phase = match step {
                Step::Phase(phase) => phase,
                Step::Drop {
                    label,
                    other,
                    overlapping,
                } => {
                    state.drop(*label, *other, *overlapping);
                    continue;
                }
            };
            state.count_seen(&phase.seen);
            // Shared by the rules at a start, as when the phase runs.
            let mut ends = LeadEnds::NONE;
            for start in 0..doc.tokens.len() as u32 {
                for rule in &pipeline.rules().rules[phase.rules.clone()] {
                    let Some(lead) = &rule.lead else { continue };
                    if state.may_lead(lead, start, &mut ends) {
                        continue;
                    }
                    ruled_out += 1;
                    let found = state.longest(&rule.program, start, &mut machine);
                    assert!(
                        found.is_none_or(|(last, _)| last == start),
                        "the lead of {} ruled out a match at token {start} of {text:?}",
                        rule.name
                    );
                }
            }
            state.phase(phase);
        }
        ruled_out
    }

    #[test]
    fn leads_never_rule_out_a_match_of_the_builtin_rules() {
        let pipeline = Pipeline::builtin().unwrap();
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seeds");
        let mut ruled_out = 0;
        for entry in std::fs::read_dir(seeds).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            ruled_out += leads_rule_out_only_what_cannot_match(&pipeline, &text);
        }
        assert!(ruled_out > 1000, "only {ruled_out} attempts were ruled out");
    }

    #[test]
    fn leads_with_filters_never_rule_out_a_match() {
        // Filters on the first label, alternatives that share them or not, a negation before
        // the lead, a label that may be followed by anything.
        let rules = "province: n:place[allcap, rank=province] => LOC n\n\
            unit: !LOC u:unit[!weak] (Num | Name) => LOC\n\
            either: (place[cap] | place[allcap]) Name => LOC\n\
            same: (unit[cap] | unit[cap]) Name+ => LOC\n\
            title: t:title[!needs_body] body? => ROLE title=$t\n\
            phase seen\n\
            seen: place[min=2, seen=LOC] => LOC\n\
            lower: u:unit[lower, rank!=village] n:place[cap]? => LOC n";
        let gazetteer = Gazetteer::builtin().unwrap();
        let pipeline =
            Pipeline::from_texts(gazetteer, &[("t.rules".into(), rules.into())]).unwrap();
        let texts = [
            "Chủ tịch UBND tỉnh Thanh Hóa làm việc với huyện Như Thanh, xã Xuân Du và Hà Nội.",
            "THANH HÓA, Nghệ An: phường 12, Quận 1, xã An Bình; thôn 3 Thanh Hóa.\nPhó Bí thư",
            "tại Hà Nội, TP Hồ Chí Minh, Trực Ninh; huyện Trực Ninh Thanh Hóa Thanh Hóa",
        ];
        let ruled_out: usize = texts
            .iter()
            .map(|text| leads_rule_out_only_what_cannot_match(&pipeline, text))
            .sum();
        assert!(ruled_out > 20, "only {ruled_out} attempts were ruled out");
    }
}

//! The pipeline: resources compiled once, then normalise → match → rules → places → link for each
//! document. A [`Pipeline`] is immutable after construction and shared by all threads.

use std::borrow::Cow;

use serde::Serialize;

use crate::error::Error;
use crate::gazetteer::Gazetteer;
use crate::label::{Label, Labels, MENTION_TYPES};
use crate::link;
use crate::matcher::{Matcher, Scan};
use crate::places::{PlaceIndex, Query, Resolution};
use crate::rules::engine::{self, Loss, Source, StartMarks, State};
use crate::rules::facts::EntryFacts;
use crate::rules::{at_grown, RuleSet, NO_WORD};
use crate::text::Normalized;

/// One mention, ready to write. Its text, and its canonical form and source where they can,
/// borrow from the document and the pipeline: most rows are written and dropped at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention<'a> {
    /// Code-point offset in the original text.
    pub start: usize,
    /// Code-point offset just past the mention.
    pub end: usize,
    /// One of [`MENTION_TYPES`].
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Exactly `original[start..end]`.
    pub text: &'a str,
    /// Borrowed when it is the text itself or the name of the unit a place resolves to.
    pub canonical: Cow<'a, str>,
    /// `key=value` pairs separated by spaces.
    pub detail: String,
    /// The gazetteer entry (`file:line`) or rule (`name@file:line`) that made it.
    pub source: Cow<'a, str>,
}

/// One person-holds-role pair, ready to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relation {
    pub person: String,
    pub role: String,
    pub title: String,
    pub body: String,
    pub place: String,
    pub person_start: usize,
    pub role_start: usize,
}

/// What the pipeline finds in one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Annotations<'a> {
    pub mentions: Vec<Mention<'a>>,
    pub relations: Vec<Relation>,
}

/// Where the pipeline's gazetteers and rules come from.
#[derive(Debug, Default)]
pub struct Resources {
    /// User gazetteer files or folders, loaded after the built-in ones.
    pub gazetteers: Vec<std::path::PathBuf>,
    /// A rule folder that replaces the built-in rules.
    pub rules: Option<std::path::PathBuf>,
}

/// The compiled gazetteers and rules.
pub struct Pipeline {
    labels: Labels,
    gazetteer: Gazetteer,
    matcher: Matcher,
    rules: RuleSet,
    /// The rules' attribute tests answered for every gazetteer key and kind.
    facts: EntryFacts,
    /// The id in the rules' words (or [`NO_WORD`]) of each token code of the matcher, up to the
    /// largest code a rule word has.
    rule_words: Vec<u32>,
    places: PlaceIndex,
    loc: Label,
    role: Label,
    /// Whether each label is that of a gazetteer kind with canonical forms, other than place
    /// names (which canonical forms leave to place resolution): the labels worth a lookup when a
    /// mention's tokens are expanded.
    expanding: Vec<bool>,
    /// The label of each of [`MENTION_TYPES`] the rules make, with its index there (the order
    /// of a document's rows at one span).
    mention_labels: Vec<(Label, u8)>,
    /// What the start of an annotation of each label, or of a token of each shape, marks.
    start_marks: StartMarks,
}

/// The memory a worker reuses from one document to the next, as a regex engine's cache: the
/// normalised text, the matcher's scan and the rule engine's state. Everything is cleared
/// before use, so a workspace is never a document's input; the [`Pipeline`] itself stays
/// shared and read-only, and each thread keeps a workspace of its own.
#[derive(Default)]
pub struct Workspace {
    doc: Normalized,
    scan: Scan,
    rules: engine::Buffers,
}

impl Workspace {
    /// The longest document (bytes of text) whose memory a workspace keeps: one outsized
    /// document should not leave its worker holding many times the usual document's memory
    /// for the rest of a run.
    const KEPT_TEXT_LEN: usize = 256 << 10;
}

/// A document's full rule state, for `vnner explain`.
pub struct Trace<'p> {
    pub pipeline: &'p Pipeline,
    pub doc: Normalized,
    pub annotations: Vec<crate::rules::engine::Annotation>,
    pub losses: Vec<Loss>,
}

impl Pipeline {
    /// The built-in gazetteers and rules.
    pub fn builtin() -> Result<Pipeline, Error> {
        Pipeline::new(&Resources::default())
    }

    /// Built-in gazetteers plus the user's, and the built-in rules or the user's folder.
    pub fn new(resources: &Resources) -> Result<Pipeline, Error> {
        let mut labels = Labels::default();
        // The rules need nothing of the gazetteers: they are read while the gazetteers parse.
        // Errors are reported in the same order as when one came after the other.
        let (gazetteer, rules) = rayon::join(Gazetteer::builtin, || match &resources.rules {
            Some(dir) => RuleSet::from_dir(dir, &mut labels),
            None => RuleSet::builtin(&mut labels),
        });
        let mut gazetteer = gazetteer?;
        for path in &resources.gazetteers {
            gazetteer.add_path(path)?;
        }
        Pipeline::from_parts(gazetteer, rules?, labels)
    }

    /// A pipeline from an explicit gazetteer and rule files (tests, benchmarks).
    pub fn from_texts(
        gazetteer: Gazetteer,
        rule_files: &[(String, String)],
    ) -> Result<Pipeline, Error> {
        let mut labels = Labels::default();
        let rules = RuleSet::from_files(rule_files, &mut labels)?;
        Pipeline::from_parts(gazetteer, rules, labels)
    }

    fn from_parts(
        gazetteer: Gazetteer,
        rules: RuleSet,
        mut labels: Labels,
    ) -> Result<Pipeline, Error> {
        // Both only read the gazetteer: built side by side, start-up waits for the slower one.
        let (matcher, places) = rayon::join(
            || Matcher::new(&gazetteer, &mut labels, rules.words.all()),
            || PlaceIndex::new(&gazetteer),
        );
        let matcher = matcher?;
        let facts = EntryFacts::new(&rules.attr_tests, &matcher);
        let mut rule_words = Vec::new();
        for (id, word) in rules.words.all().iter().enumerate() {
            *at_grown(&mut rule_words, matcher.code(word) as usize, NO_WORD) = id as u32;
        }
        let (loc, role) = (labels.intern("LOC"), labels.intern("ROLE"));
        let place = labels.intern("place");
        let mut expanding = vec![false; labels.count()];
        for slot in (0..matcher.groups.len() as u32).flat_map(|key| matcher.kinds(key)) {
            if slot.canonical_entry.is_some() && slot.label != place {
                expanding[usize::from(slot.label.0)] = true;
            }
        }
        let mention_labels = (0..)
            .zip(MENTION_TYPES)
            .filter_map(|(rank, name)| Some((labels.get(name)?, rank)))
            .collect();
        let start_marks = StartMarks::new(&labels, &rules.phase_starts);
        Ok(Pipeline {
            labels,
            gazetteer,
            matcher,
            rules,
            facts,
            rule_words,
            places,
            loc,
            role,
            expanding,
            mention_labels,
            start_marks,
        })
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// What the start of an annotation of each label, or of a token of each shape, marks.
    pub fn start_marks(&self) -> &StartMarks {
        &self.start_marks
    }

    pub fn facts(&self) -> &EntryFacts {
        &self.facts
    }

    /// Which of the rules' words a token of this code is, or [`NO_WORD`].
    pub fn rule_word(&self, code: u32) -> u32 {
        self.rule_words
            .get(code as usize)
            .copied()
            .unwrap_or(NO_WORD)
    }

    pub fn places(&self) -> &PlaceIndex {
        &self.places
    }

    /// Annotates one document.
    pub fn annotate<'a>(&'a self, text: &'a str) -> Annotations<'a> {
        self.annotate_with(text, &mut Workspace::default())
    }

    /// Annotates one document in the memory of `workspace`, which a worker annotating document
    /// after document keeps for the next.
    pub fn annotate_with<'a>(
        &'a self,
        text: &'a str,
        workspace: &mut Workspace,
    ) -> Annotations<'a> {
        let Workspace { doc, scan, rules } = workspace;
        doc.renew(text);
        self.matcher.find_into(doc, scan);
        let mut state = State::new(std::mem::take(rules), text, doc, self, scan, false);
        state.run();
        let annotations = self.assemble(text, &state);
        let buffers = state.into_buffers();
        if text.len() <= Workspace::KEPT_TEXT_LEN {
            *rules = buffers;
        } else {
            *workspace = Workspace::default();
        }
        annotations
    }

    /// Annotates one document and keeps every annotation and lost match, for `explain`.
    pub fn trace<'a>(&'a self, text: &'a str) -> (Trace<'a>, Annotations<'a>) {
        let doc = Normalized::new(text);
        let scan = self.matcher.find(&doc);
        let (annotations, losses, result) = {
            let mut state = State::new(engine::Buffers::default(), text, &doc, self, &scan, true);
            state.run();
            let result = self.assemble(text, &state);
            (state.annotations, state.losses.unwrap_or_default(), result)
        };
        (
            Trace {
                pipeline: self,
                doc,
                annotations,
                losses,
            },
            result,
        )
    }

    /// Where an annotation came from, as written in the `source` column.
    pub fn describe_source(&self, source: Source) -> Cow<'_, str> {
        match source {
            Source::Gazetteer { key, .. } => match self.matcher.kinds(key).first() {
                Some(kind) => Cow::Owned(format!(
                    "gazetteer:{}",
                    self.gazetteer.entries[kind.first_entry as usize].origin
                )),
                None => Cow::Borrowed("gazetteer"),
            },
            Source::Rule(rule) => Cow::Borrowed(&self.rules.rules[rule as usize].source),
        }
    }

    /// The link stage: places resolved, relations paired and mention rows built from a finished
    /// rule state (public so the stage can be benchmarked on its own).
    pub fn assemble<'a>(&'a self, text: &'a str, state: &State<'_>) -> Annotations<'a> {
        let doc = state.doc;
        // The live mentions with their type's rank, in the order they were added (the order
        // places are resolved in, and which of two alike rows is kept). Read from each mention
        // type's chain of annotations, which passes over no annotation of another label.
        let mut live: Vec<(u32, u8)> = self
            .mention_labels
            .iter()
            .flat_map(|&(label, rank)| state.live_of_label(label).map(move |id| (id, rank)))
            .collect();
        live.sort_unstable_by_key(|&(id, _)| id);
        let span = |id: u32| {
            let a = &state.annotations[id as usize];
            doc.token_span(a.first as usize, a.last as usize)
        };
        let original = |id: u32| {
            let (s, e) = span(id);
            doc.original_slice(text, s, e)
        };

        // Places, resolved together.
        let locs: Vec<u32> = live
            .iter()
            .map(|&(id, _)| id)
            .filter(|&id| state.annotations[id as usize].label == self.loc)
            .collect();
        let queries: Vec<Query> = locs
            .iter()
            .map(|&id| {
                let first = state.annotations[id as usize].first as usize;
                Query {
                    key: state.text(id),
                    level: state.attr(id, "level"),
                    era: now_era(doc, first),
                    pos: first,
                }
            })
            .collect();
        let resolutions = self.places.resolve(&queries);

        // Relations.
        // Pairs and roles are compared by their normalised text, the document's own.
        let key = |id: u32| state.text(id);
        let pairs = link::distinct_pairs(&state.holds, key);
        let held: Vec<(&link::Pair, u32)> = pairs
            .iter()
            .map(|p| (p, state.annotations[p.role as usize].first))
            .collect();
        let roles: Vec<(u32, u32)> = live
            .iter()
            .map(|&(id, _)| id)
            .filter(|&id| state.annotations[id as usize].label == self.role)
            .map(|id| (id, state.annotations[id as usize].first))
            .collect();
        let refers = link::refer_nameless(&roles, &held, key);

        // Rows in the order written (by span, then type), of two alike the first added; the
        // rows are made for the survivors only. A place's resolution is its index in `locs`.
        let mut places = 0;
        let mut rows: Vec<Row> = live
            .iter()
            .map(|&(id, rank)| {
                let (start, end) = span(id);
                let place = (state.annotations[id as usize].label == self.loc).then(|| {
                    places += 1;
                    places - 1
                });
                Row {
                    id,
                    start,
                    end,
                    rank,
                    place,
                }
            })
            .collect();
        rows.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end), r.rank));
        rows.dedup_by(|a, b| (a.start, a.end, a.rank) == (b.start, b.end, b.rank));

        // Each row's detail is written here first, then copied out at its size.
        let (mut detail, mut expanded) = (String::new(), String::new());
        let mentions = rows
            .iter()
            .map(|row| {
                let a = &state.annotations[row.id as usize];
                detail.clear();
                let canonical = match row.place {
                    Some(place) => {
                        match self.place_detail(
                            state.attrs(row.id),
                            &resolutions[place],
                            &mut detail,
                        ) {
                            Some(unit) => Cow::Borrowed(unit),
                            None => self.canonical(text, state, row.id, &mut expanded),
                        }
                    }
                    None => {
                        for (k, v) in state.attrs(row.id) {
                            add_detail(&mut detail, k, v);
                        }
                        if a.label == self.role {
                            if let Some(&(_, person)) = refers.iter().find(|(r, _)| *r == row.id) {
                                add_detail(&mut detail, "refers_to", original(person));
                            }
                        }
                        self.canonical(text, state, row.id, &mut expanded)
                    }
                };
                Mention {
                    start: row.start,
                    end: row.end,
                    kind: MENTION_TYPES[usize::from(row.rank)],
                    text: doc.original_slice(text, row.start, row.end),
                    canonical,
                    detail: detail.as_str().into(),
                    source: self.describe_source(a.source),
                }
            })
            .collect();

        let relations = pairs
            .iter()
            .map(|p| {
                let role = &state.annotations[p.role as usize];
                let attr = |k: &str| {
                    state
                        .attr(p.role, k)
                        .map(Cow::into_owned)
                        .unwrap_or_default()
                };
                let place = locs
                    .iter()
                    .enumerate()
                    .find(|(_, &l)| {
                        let loc = &state.annotations[l as usize];
                        role.first <= loc.first && loc.last <= role.last
                    })
                    .map(|(i, &l)| match &resolutions[i] {
                        Resolution::Unit { unit, .. } => {
                            self.places.units[*unit].canonical.to_string()
                        }
                        _ => original(l).to_string(),
                    })
                    .unwrap_or_default();
                Relation {
                    person: original(p.person).to_string(),
                    role: original(p.role).to_string(),
                    title: attr("title"),
                    body: attr("body"),
                    place,
                    person_start: span(p.person).0,
                    role_start: span(p.role).0,
                }
            })
            .collect();
        Annotations {
            mentions,
            relations,
        }
    }

    /// Writes the detail of a place with attributes `attrs` resolved as `resolution`, and returns
    /// the canonical form of the unit it names, if one (which stands for the text's own).
    fn place_detail<'p>(
        &'p self,
        attrs: &[(&str, Cow<str>)],
        resolution: &Resolution,
        detail: &mut String,
    ) -> Option<&'p str> {
        // A unit's level replaces the one the rules found.
        let replaced = |k: &str| matches!(resolution, Resolution::Unit { .. }) && k == "level";
        for (k, v) in attrs.iter().filter(|(k, _)| !replaced(k)) {
            add_detail(detail, k, v);
        }
        match resolution {
            Resolution::Unit { unit, fuzzy } => {
                let u = &self.places.units[*unit];
                for (k, v) in [
                    ("level", &u.level),
                    ("code", &u.code),
                    ("province", &u.province),
                    ("era", &u.era),
                    ("until", &u.until),
                    ("became", &u.became),
                ] {
                    add_detail(detail, k, v);
                }
                if *fuzzy {
                    add_detail(detail, "fuzzy", "yes");
                }
                Some(&u.canonical)
            }
            Resolution::Ambiguous(units) => {
                let codes: Vec<String> = units
                    .iter()
                    .map(|&u| format!("{}/{}", self.places.units[u].era, self.places.units[u].code))
                    .collect();
                add_detail(detail, "candidates", &codes.join("|"));
                None
            }
            Resolution::Unknown => {
                add_detail(detail, "known", "no");
                None
            }
        }
    }

    /// The display form of a mention with abbreviations expanded from the gazetteer.
    ///
    /// An expanded form is written in `out` first (cleared, and kept for the next mention), so
    /// that its copy is made once at its size.
    fn canonical<'a>(
        &self,
        text: &'a str,
        state: &State<'_>,
        id: u32,
        out: &mut String,
    ) -> Cow<'a, str> {
        let doc = state.doc;
        let a = &state.annotations[id as usize];
        out.clear();
        // Tokens without an expansion are written in display form a run at a time: one
        // normalisation per run rather than per token. Each piece is preceded by a space where
        // the text has one.
        let space_before = |out: &mut String, i: u32| {
            if i > a.first && doc.tokens[i as usize].start > doc.tokens[i as usize - 1].end {
                out.push(' ');
            }
        };
        let flush = |out: &mut String, from: u32, to: u32| {
            if from < to {
                space_before(out, from);
                out.push_str(&doc.token_display_form(text, from as usize, to as usize));
            }
        };
        let mut run_start = a.first;
        let mut i = a.first;
        while i < a.last {
            let expansion = state
                .starting_at(i)
                .filter_map(|g| {
                    // Place names are resolved to units instead; other entries expand. An
                    // annotation's entries are all of its own kind, so one test serves them all.
                    let b = &state.annotations[g as usize];
                    let Source::Gazetteer { key, kind } = b.source else {
                        return None;
                    };
                    let expands = self.expanding[usize::from(b.label.0)];
                    if b.last > a.last || !expands {
                        return None;
                    }
                    let entry = self.matcher.kinds(key)[kind as usize].canonical_entry?;
                    Some((
                        g,
                        self.gazetteer.entries[entry as usize]
                            .canonical
                            .as_deref()?,
                    ))
                })
                .max_by_key(|(g, _)| state.annotations[*g as usize].last);
            let Some((g, canonical)) = expansion else {
                i += 1;
                continue;
            };
            flush(out, run_start, i);
            space_before(out, i);
            out.push_str(canonical);
            i = state.annotations[g as usize].last;
            run_start = i;
        }
        if run_start == a.first {
            // Nothing expanded: the mention's own text, if that is its display form.
            return doc.token_display_form(text, a.first as usize, a.last as usize);
        }
        flush(out, run_start, a.last);
        Cow::Owned(out.as_str().to_owned())
    }
}

/// A mention annotation on its way to a row: its span, its type's index in [`MENTION_TYPES`],
/// and for a place its index among the document's places.
struct Row {
    id: u32,
    start: usize,
    end: usize,
    rank: u8,
    place: Option<usize>,
}

/// Appends `key=value` to a mention's detail, after `; ` if it has some already; an empty value
/// is left out.
fn add_detail(detail: &mut String, key: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    if !detail.is_empty() {
        detail.push_str("; ");
    }
    detail.push_str(key);
    detail.push('=');
    detail.push_str(value);
}

/// `2025` for a place the text says a unit is now part of (`nay là`, `nay thuộc`, `(nay …`),
/// looking back from token `first` to the start of its clause.
fn now_era(doc: &Normalized, first: usize) -> Option<&'static str> {
    for i in (first.saturating_sub(12)..first).rev() {
        match doc.token_text(i, i + 1) {
            "nay" => {
                let next = doc.token_text(i + 1, i + 2);
                if next == "là" || next == "thuộc" || (i > 0 && doc.token_text(i - 1, i) == "(")
                {
                    return Some("2025");
                }
            }
            "." | ";" | "(" | ")" | ":" | "\n" => return None,
            _ => {}
        }
    }
    None
}

//! Rules: declarative rule files (`rules/*.rules`) compiled once into a [`RuleSet`].
//!
//! The language is documented in `rules/README.md`; [`parse`] reads it, this module resolves names
//! (labels, captures) and [`engine`] runs it over a document.

pub mod engine;
pub mod facts;
pub mod parse;
pub mod program;
pub mod starts;

use std::path::Path;

use crate::error::Error;
use crate::gazetteer::Origin;
use crate::label::{Label, Labels};
use parse::{Action, Class, Filter, Pattern, Statement, Unless, Value};
use program::Program;
use starts::{Lead, PhaseStarts, StartIndex};

/// A compiled pattern.
#[derive(Debug, Clone)]
pub enum Node {
    Label(Label, Vec<CompiledFilter>),
    /// Words, by their ids in [`RuleSet::words`].
    Literal(Vec<u32>),
    Class(Class),
    LineStart,
    LineEnd,
    /// Steps, and the token bits one of which the sequence needs to match (see [`first_bits`]).
    Seq(Vec<Node>, u64),
    /// Options, and the token bits one of which an option needs to match (see [`first_bits`]).
    Alt(Vec<Node>, u64),
    Repeat {
        inner: Box<Node>,
        min: u32,
        max: u32,
    },
    Capture(u16, Box<Node>),
    /// A negation, and the token bits its inner pattern needs to match.
    Not(Box<Node>, u64),
}

/// A filter with its label names resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompiledFilter {
    /// An attribute test, by its index in [`RuleSet::attr_tests`].
    Attr(u16),
    Capitalised,
    AllCapitalised,
    LowerCase,
    Seen(Label),
    /// `[min=N]` / `[max=N]`: the annotation spans at least / at most N tokens.
    MinTokens(u32),
    MaxTokens(u32),
}

/// A test of an annotation's attributes. A gazetteer annotation has the attributes of every
/// entry behind it, so `Equals` asks whether any entry has the value and `NotEquals` whether none
/// has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrTest {
    Equals(String, String),
    NotEquals(String, String),
    Has(String),
    Lacks(String),
}

impl AttrTest {
    /// The test over an annotation's `(key, value)` attributes.
    pub fn holds<'v>(&self, mut attrs: impl Iterator<Item = (&'v str, &'v str)>) -> bool {
        let (name, value) = self.reads();
        let found = attrs.any(|(k, v)| k == name && value.is_none_or(|wanted| wanted == v));
        found == self.holds_if_found()
    }

    /// The attribute name the test reads, and the value it compares with, if it compares one.
    pub fn reads(&self) -> (&str, Option<&str>) {
        match self {
            AttrTest::Equals(name, value) | AttrTest::NotEquals(name, value) => (name, Some(value)),
            AttrTest::Has(name) | AttrTest::Lacks(name) => (name, None),
        }
    }

    /// Whether the test holds when some attribute is the one it reads (with its value, for a
    /// test that compares one), rather than when none is.
    pub fn holds_if_found(&self) -> bool {
        matches!(self, AttrTest::Equals(..) | AttrTest::Has(_))
    }
}

#[derive(Debug, Clone)]
pub enum CompiledValue {
    Literal(String),
    Capture(u16, Option<String>),
}

#[derive(Debug, Clone)]
pub enum CompiledAction {
    Emit {
        label: Label,
        capture: Option<u16>,
        attrs: Vec<(String, CompiledValue)>,
    },
    Hold {
        person: u16,
        role: u16,
        person_label: Label,
        role_label: Label,
    },
}

/// What can start a match, so most rules are skipped at most tokens.
#[derive(Debug, Clone, Default)]
pub struct FirstSet {
    pub labels: Vec<Label>,
    /// First words of literals, by their ids in [`RuleSet::words`].
    pub literals: Vec<u32>,
    pub classes: Vec<Class>,
    /// The pattern can start with anything (or with a zero-width element).
    pub anything: bool,
}

impl FirstSet {
    /// What can start a match of `items` in sequence (a pattern is a sequence of one).
    fn of(items: &[Node]) -> FirstSet {
        let mut first = FirstSet::default();
        first.anything = !first_set_of_seq(items, &mut first);
        first
    }

    /// The token bits (see [`label_bit`]) one of which a token needs to start such a match; every
    /// bit when anything can.
    fn bits(&self) -> u64 {
        if self.anything {
            return u64::MAX;
        }
        let labels = self.labels.iter().map(|&label| label_bit(label));
        let classes = self.classes.iter().map(|&class| class_bit(class));
        let literals = self.literals.iter().map(|&word| word_bit(word));
        labels
            .chain(classes)
            .chain(literals)
            .fold(0, |bits, bit| bits | bit)
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub origin: Origin,
    /// `rule:NAME@file:line`, as the `source` column writes it.
    pub source: String,
    pub root: Node,
    /// The pattern as the engine runs it.
    pub program: Program,
    pub first: FirstSet,
    /// How its matches begin, checked before it is walked at a token.
    pub lead: Option<Lead>,
    pub actions: Vec<CompiledAction>,
    /// `(label, inside)`: drop a match inside (or overlapping) a live annotation of `label`.
    pub unless: Vec<(Label, bool)>,
}

/// A step of the cascade.
#[derive(Debug, Clone)]
pub enum Step {
    /// A phase: these rules compete with one another.
    Phase(Phase),
    Drop {
        label: Label,
        other: Label,
        overlapping: bool,
    },
}

/// All rules, in order, grouped into phases.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub steps: Vec<Step>,
    /// `(origin, step index)` of each `drop` statement, for `explain`.
    pub drops: Vec<Origin>,
    /// The words of the rules' literals, numbered (normalised tokens).
    pub words: Words,
    /// Every distinct attribute test of the rules, indexed by [`CompiledFilter::Attr`].
    pub attr_tests: Vec<AttrTest>,
    /// Which phases can start at a token.
    pub phase_starts: PhaseStarts,
}

impl RuleSet {
    /// The built-in rules embedded in the binary.
    pub fn builtin(labels: &mut Labels) -> Result<RuleSet, Error> {
        let files: Vec<(String, String)> = crate::embedded::RULES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        RuleSet::from_files(&files, labels)
    }

    /// Every `*.rules` file of a folder, in file-name order.
    pub fn from_dir(dir: &Path, labels: &mut Labels) -> Result<RuleSet, Error> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rules"))
            .collect();
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            files.push((path.display().to_string(), text));
        }
        RuleSet::from_files(&files, labels)
    }

    /// Compiles `(file name, text)` pairs; each file starts a new phase.
    pub fn from_files(files: &[(String, String)], labels: &mut Labels) -> Result<RuleSet, Error> {
        let mut set = RuleSet::default();
        let mut macros = parse::Macros::new();
        for (file, text) in files {
            let statements =
                parse::parse_file(file, text, &mut macros).map_err(|(line, message)| {
                    Error::Rule {
                        file: file.clone(),
                        line,
                        message,
                    }
                })?;
            let mut phase_start = set.rules.len();
            for statement in statements {
                match statement {
                    Statement::Phase(_) => {
                        set.close_phase(phase_start);
                        phase_start = set.rules.len();
                    }
                    Statement::Rule(syntax) => {
                        let origin = syntax.origin.clone();
                        let mut compiler = Compiler {
                            labels,
                            attr_tests: &mut set.attr_tests,
                            words: &mut set.words,
                            names: Vec::new(),
                        };
                        let rule = compiler.rule(syntax).map_err(|message| Error::Rule {
                            file: file.clone(),
                            line: origin.line,
                            message,
                        })?;
                        set.rules.push(rule);
                    }
                    Statement::Drop {
                        label,
                        other,
                        overlapping,
                        origin,
                    } => {
                        set.close_phase(phase_start);
                        phase_start = set.rules.len();
                        set.steps.push(Step::Drop {
                            label: labels.intern(&label),
                            other: labels.intern(&other),
                            overlapping,
                        });
                        set.drops.push(origin);
                    }
                }
            }
            set.close_phase(phase_start);
        }
        set.phase_starts = PhaseStarts::new(&set.steps);
        Ok(set)
    }

    /// How many phases there are so far.
    fn phases(&self) -> usize {
        let phases = self
            .steps
            .iter()
            .filter(|step| matches!(step, Step::Phase(_)));
        phases.count()
    }

    fn close_phase(&mut self, start: usize) {
        if self.rules.len() > start {
            let rules = start..self.rules.len();
            let starts = StartIndex::new(&self.rules[rules.clone()]);
            let seen = seen_labels(&self.rules[rules.clone()]);
            let unless = self.rules[rules.clone()]
                .iter()
                .any(|r| !r.unless.is_empty());
            self.steps.push(Step::Phase(Phase {
                rules,
                starts,
                seen,
                unless,
                slot: starts::slot(self.phases()),
            }));
        }
    }
}

/// A phase's rules and what the engine precomputes about them.
#[derive(Debug, Clone)]
pub struct Phase {
    pub rules: std::ops::Range<usize>,
    pub starts: StartIndex,
    /// Labels that `[seen=LABEL]` filters of this phase look up.
    pub seen: Vec<Label>,
    /// Whether any rule of the phase has an `unless` clause.
    pub unless: bool,
    /// Its start tokens' bitmap in [`starts::StartMaps`], and its bit in [`PhaseStarts`] sets.
    pub slot: usize,
}

/// The element at `index` of `list`, which first grows (with `fill`) to have one: for tables
/// indexed by label, word or code ids, whose largest id is known only once all are seen.
pub(crate) fn at_grown<T: Clone>(list: &mut Vec<T>, index: usize, fill: T) -> &mut T {
    if list.len() <= index {
        list.resize(index + 1, fill);
    }
    &mut list[index]
}

/// The words of the rules' literals, numbered. A document's tokens are numbered by the matcher
/// (which numbers these words too), and the pipeline maps its codes to these ids once, so
/// patterns compare numbers instead of text.
#[derive(Debug, Clone, Default)]
pub struct Words {
    words: Vec<String>,
}

/// A token that is none of the rules' words.
pub const NO_WORD: u32 = u32::MAX;

impl Words {
    fn intern(&mut self, word: &str) -> u32 {
        match self.words.iter().position(|w| w == word) {
            Some(i) => i as u32,
            None => {
                self.words.push(word.to_string());
                self.words.len() as u32 - 1
            }
        }
    }

    /// Every word, at the index that is its id.
    pub fn all(&self) -> &[String] {
        &self.words
    }
}

// Token bits: one `u64` per token says what starts there, for the start prefilter and to skip
// label lookups: bits 0-7 its classes, 8-15 the rules' word it is, 16-63 the labels of the
// annotations starting there. Words and labels beyond those bits share them: a bit that is set
// only means "maybe", and the exact test follows.

/// The bit of a token class.
pub const fn class_bit(class: Class) -> u64 {
    1 << (class as u8)
}

/// The bit of a word ([`Words`]).
pub fn word_bit(word: u32) -> u64 {
    1 << (8 + word % 8)
}

/// The bit of a label.
pub fn label_bit(label: Label) -> u64 {
    1 << (16 + label.0 % 48)
}

/// The labels `[seen=LABEL]` filters refer to in `rules`.
fn seen_labels(rules: &[Rule]) -> Vec<Label> {
    fn visit(node: &Node, out: &mut Vec<Label>) {
        match node {
            Node::Label(_, filters) => {
                for f in filters {
                    if let CompiledFilter::Seen(l) = f {
                        if !out.contains(l) {
                            out.push(*l);
                        }
                    }
                }
            }
            Node::Seq(items, _) | Node::Alt(items, _) => items.iter().for_each(|n| visit(n, out)),
            Node::Repeat { inner, .. } | Node::Capture(_, inner) | Node::Not(inner, _) => {
                visit(inner, out)
            }
            Node::Literal(_) | Node::Class(_) | Node::LineStart | Node::LineEnd => {}
        }
    }
    let mut out = Vec::new();
    for rule in rules {
        visit(&rule.root, &mut out);
    }
    out
}

/// Compiles one rule: resolves label names, capture names and attribute tests.
struct Compiler<'c> {
    labels: &'c mut Labels,
    attr_tests: &'c mut Vec<AttrTest>,
    words: &'c mut Words,
    /// The rule's capture names, indexed by capture id.
    names: Vec<String>,
}

impl Compiler<'_> {
    fn rule(&mut self, syntax: parse::RuleSyntax) -> Result<Rule, String> {
        let root = self.pattern(&syntax.pattern)?;
        let names = std::mem::take(&mut self.names);
        let labels = &mut *self.labels;
        let index = |name: &str| names.iter().position(|n| n == name).map(|i| i as u16);
        let mut actions = Vec::new();
        for action in syntax.actions {
            actions.push(match action {
                Action::Emit {
                    label,
                    capture,
                    attrs,
                } => CompiledAction::Emit {
                    label: labels.intern(&label),
                    capture: capture.as_deref().and_then(index),
                    attrs: attrs
                        .into_iter()
                        .map(|(k, v)| {
                            let v = match v {
                                Value::Literal(s) => CompiledValue::Literal(s),
                                Value::Capture(n, a) => {
                                    CompiledValue::Capture(index(&n).unwrap_or(u16::MAX), a)
                                }
                            };
                            (k, v)
                        })
                        .collect(),
                },
                Action::Hold { person, role } => CompiledAction::Hold {
                    person: index(&person).unwrap_or(u16::MAX),
                    role: index(&role).unwrap_or(u16::MAX),
                    person_label: labels.intern("PER"),
                    role_label: labels.intern("ROLE"),
                },
            });
        }
        let unless = syntax
            .unless
            .iter()
            .map(|u| match u {
                Unless::Overlaps(l) => (labels.intern(l), false),
                Unless::Inside(l) => (labels.intern(l), true),
            })
            .collect();
        let first = FirstSet::of(std::slice::from_ref(&root));
        let lead = Lead::of(&root);
        let program = Program::compile(&root)?;
        Ok(Rule {
            source: format!("rule:{}@{}", syntax.name, syntax.origin),
            name: syntax.name,
            origin: syntax.origin,
            root,
            program,
            first,
            lead,
            actions,
            unless,
        })
    }

    fn pattern(&mut self, p: &Pattern) -> Result<Node, String> {
        Ok(match p {
            Pattern::Label(name, filters) => Node::Label(
                self.labels.intern(name),
                filters
                    .iter()
                    .map(|f| {
                        let f = match f {
                            Filter::Equals(k, v) if k == "min" || k == "max" => {
                                let n: u32 = v
                                    .parse()
                                    .map_err(|_| format!("`[{k}={v}]` needs a number of tokens"))?;
                                if k == "min" {
                                    CompiledFilter::MinTokens(n)
                                } else {
                                    CompiledFilter::MaxTokens(n)
                                }
                            }
                            Filter::Equals(k, v) => {
                                self.attr_test(AttrTest::Equals(k.clone(), v.clone()))?
                            }
                            Filter::NotEquals(k, v) => {
                                self.attr_test(AttrTest::NotEquals(k.clone(), v.clone()))?
                            }
                            Filter::Has(k) => self.attr_test(AttrTest::Has(k.clone()))?,
                            Filter::Lacks(k) => self.attr_test(AttrTest::Lacks(k.clone()))?,
                            Filter::Capitalised => CompiledFilter::Capitalised,
                            Filter::AllCapitalised => CompiledFilter::AllCapitalised,
                            Filter::LowerCase => CompiledFilter::LowerCase,
                            Filter::Seen(l) => CompiledFilter::Seen(self.labels.intern(l)),
                        };
                        Ok(f)
                    })
                    .collect::<Result<_, String>>()?,
            ),
            Pattern::Literal(words) => {
                Node::Literal(words.iter().map(|w| self.words.intern(w)).collect())
            }
            Pattern::Class(c) => Node::Class(*c),
            Pattern::LineStart => Node::LineStart,
            Pattern::LineEnd => Node::LineEnd,
            Pattern::Seq(items) => {
                let items = self.patterns(items)?;
                let bits = first_bits(&items);
                Node::Seq(items, bits)
            }
            Pattern::Alt(items) => {
                let options = self.patterns(items)?;
                let bits = options
                    .iter()
                    .fold(0, |bits, o| bits | first_bits(std::slice::from_ref(o)));
                Node::Alt(options, bits)
            }
            Pattern::Repeat { inner, min, max } => Node::Repeat {
                inner: Box::new(self.pattern(inner)?),
                min: *min,
                max: *max,
            },
            Pattern::Capture(name, inner) => {
                let id = match self.names.iter().position(|n| n == name) {
                    Some(i) => i,
                    None => {
                        self.names.push(name.clone());
                        self.names.len() - 1
                    }
                };
                Node::Capture(id as u16, Box::new(self.pattern(inner)?))
            }
            Pattern::Not(inner) => {
                let inner = self.pattern(inner)?;
                let bits = first_bits(std::slice::from_ref(&inner));
                Node::Not(Box::new(inner), bits)
            }
        })
    }

    fn patterns(&mut self, items: &[Pattern]) -> Result<Vec<Node>, String> {
        items.iter().map(|i| self.pattern(i)).collect()
    }

    /// The filter for `test`, numbered once however many rules use it.
    fn attr_test(&mut self, test: AttrTest) -> Result<CompiledFilter, String> {
        let index = match self.attr_tests.iter().position(|t| *t == test) {
            Some(i) => i,
            None => {
                self.attr_tests.push(test);
                self.attr_tests.len() - 1
            }
        };
        u16::try_from(index)
            .map(CompiledFilter::Attr)
            .map_err(|_| "more than 65536 distinct attribute filters".to_string())
    }
}

/// Adds what `node` can start with to `first`; returns false when it can match empty (then what
/// follows could start the match too, and the caller treats the rule as starting anywhere).
fn first_set(node: &Node, first: &mut FirstSet) -> bool {
    match node {
        Node::Label(l, _) => {
            first.labels.push(*l);
            true
        }
        Node::Literal(words) => {
            first.literals.push(words[0]);
            true
        }
        Node::Class(c) => {
            first.classes.push(*c);
            true
        }
        Node::LineStart | Node::LineEnd | Node::Not(..) => false,
        Node::Seq(items, _) => first_set_of_seq(items, first),
        Node::Alt(options, _) => {
            // Every option adds its first elements, even after one that can match empty.
            let mut never_empty = true;
            for option in options {
                never_empty &= first_set(option, first);
            }
            never_empty
        }
        Node::Repeat { inner, min, .. } => first_set(inner, first) && *min > 0,
        Node::Capture(_, inner) => first_set(inner, first),
    }
}

/// The token bits (see [`label_bit`]) one of which must be set where `items` in sequence match,
/// or every bit when they can match empty or start with any token: a token without them is ruled
/// out at once.
pub(crate) fn first_bits(items: &[Node]) -> u64 {
    FirstSet::of(items).bits()
}

/// [`first_set`] of a sequence of `items`.
fn first_set_of_seq(items: &[Node], first: &mut FirstSet) -> bool {
    items.iter().any(|item| first_set(item, first))
}

#[cfg(test)]
mod tests {
    use crate::gazetteer::Gazetteer;
    use crate::pipeline::Pipeline;

    const GAZETTEER: &str = "surface\tkind\tcanonical\tlevel\n\
        Chủ tịch\ttitle\t\t\n\
        UBND\tbody\tỦy ban nhân dân\t\n\
        huyện\tunit\t\thuyện\n\
        xã\tunit\t\txã\n\
        Nguyễn\tsurname\t\t\n";

    /// `(type, text)` of the mentions the rules make in `text`.
    fn run(rules: &str, text: &str) -> Vec<(String, String)> {
        let mut gazetteer = Gazetteer::default();
        gazetteer.add_text("t.tsv", GAZETTEER).unwrap();
        let pipeline =
            Pipeline::from_texts(gazetteer, &[("t.rules".into(), rules.into())]).unwrap();
        pipeline
            .annotate(text)
            .mentions
            .into_iter()
            .map(|m| (m.kind.to_string(), m.text.to_string()))
            .collect()
    }

    fn rows(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn captures_and_repeats_emit_one_mention_each() {
        let rules = "r: u:unit n:Name (\",\" n:Name)* => LOC n level=$u.level";
        assert_eq!(
            run(rules, "xã An, Bình, Cư."),
            rows(&[("LOC", "An"), ("LOC", "Bình"), ("LOC", "Cư")])
        );
    }

    #[test]
    fn the_longest_match_wins_then_the_first_rule() {
        let rules = "short: body => ORG\nlong: body unit => ORG\nfirst: title => ROLE\nsecond: title => PER";
        assert_eq!(
            run(rules, "Chủ tịch UBND huyện"),
            rows(&[("ROLE", "Chủ tịch"), ("ORG", "UBND huyện")])
        );
    }

    #[test]
    fn steps_that_can_match_nothing_match_at_the_end_of_the_text() {
        // Only the bits of the token after the title say what may follow: there is none.
        let sequence = "r: title (Num? \"x\"?) => ROLE";
        let alternatives = "r: title (Num? | \"x\"?) u:unit? => ROLE";
        for rules in [sequence, alternatives] {
            assert_eq!(run(rules, "Chủ tịch"), rows(&[("ROLE", "Chủ tịch")]));
        }
    }

    #[test]
    fn repetitions_take_as_many_as_they_may() {
        // Unrolled: at most three names, then the next match starts.
        assert_eq!(
            run("r: Name{2,3} => PER", "An Bình Cư Dũng Em"),
            rows(&[("PER", "An Bình Cư"), ("PER", "Dũng Em")])
        );
        // Counted, because an iteration can match nothing: it stops when one does.
        assert_eq!(
            run("r: title (\"x\"? Num?){1,20} unit => ROLE", "Chủ tịch 5 xã"),
            rows(&[("ROLE", "Chủ tịch 5 xã")])
        );
    }

    #[test]
    fn nested_repetitions_do_not_multiply_the_program() {
        let mut labels = crate::label::Labels::default();
        let rules = "r: ((((((((a:Name){8}){8}){8}){8}){8}){8}){8}) => PER a";
        let set =
            super::RuleSet::from_files(&[("x.rules".into(), rules.into())], &mut labels).unwrap();
        assert!(set.rules[0].program.insts.len() < 100);
        assert_eq!(run(rules, "An Bình"), rows(&[]));
    }

    #[test]
    fn a_negation_of_labels_tests_each_label_with_its_filters() {
        // `huyện` is a unit of level huyện, so not a start; `xã` is a unit of another level.
        let rules = "r: !(title | unit[level=huyện]) w:(unit | Name) => LOC w";
        assert_eq!(
            run(rules, "huyện An xã Bình"),
            rows(&[("LOC", "An"), ("LOC", "xã"), ("LOC", "Bình")])
        );
    }

    #[test]
    fn a_value_from_a_capture_that_matched_nothing_is_left_out() {
        for rules in ["r: Name c:Num? => PER x=$c", "r: c:Num? Name => PER x=$c"] {
            assert_eq!(run(rules, "An"), rows(&[("PER", "An")]));
        }
    }

    #[test]
    fn a_capture_inside_another_is_its_own_mention() {
        let rules = "r: whole:(u:unit n:Name) => LOC whole; PER n";
        assert_eq!(
            run(rules, "xã An"),
            rows(&[("LOC", "xã An"), ("PER", "An")])
        );
    }

    #[test]
    fn a_pattern_with_too_many_paths_gives_up_within_its_budget() {
        // Each name can be taken by either step of each iteration: the paths double with every
        // name, and no path ends at a "z". The attempt stops when its budget is spent.
        let names = vec!["An"; 40].join(" ");
        assert_eq!(run("r: (Name? Name?)* \"z\" => PER", &names), rows(&[]));
    }

    #[test]
    fn phases_past_the_sixty_fourth_share_start_maps_and_still_start_where_they_should() {
        // 70 phases: phase i and phase i + 64 share a start bitmap. Each phase marks what it
        // found with its own label; the last phase needs the marks of the ones before.
        let mut rules = String::from("phase p0\nr0: title => m0\n");
        for i in 1..70 {
            rules.push_str(&format!("phase p{i}\nr{i}: m{} => m{i}\n", i - 1));
        }
        rules.push_str("phase last\nrole: m69 => ROLE\n");
        // A rule that can start anywhere (it may match nothing at its start) in an early slot.
        rules.push_str("phase anywhere\nplace: unit? Num => LOC\n");
        assert_eq!(
            run(&rules, "Chủ tịch xã 5"),
            rows(&[("ROLE", "Chủ tịch"), ("LOC", "xã 5")])
        );
    }

    #[test]
    fn rules_past_the_sixty_fourth_of_a_phase_are_offered_their_starts() {
        // One phase of 70 rules: the start index keeps its rules in sets of 64, and the rules
        // that match are in the second set, led by a label, a class and a word.
        let mut rules: String = (0..66)
            .map(|i| format!("r{i}: \"w{i}\" => LOC\n"))
            .collect();
        rules.push_str("title: title => ROLE\nnum: Num => LOC\nword: \"và\" Name => PER\n");
        rules.push_str("anywhere: unit? Name => LOC\n");
        assert_eq!(
            run(&rules, "Chủ tịch 5 và An"),
            rows(&[("ROLE", "Chủ tịch"), ("LOC", "5"), ("PER", "và An")])
        );
    }

    #[test]
    fn matches_stay_on_one_line() {
        assert_eq!(
            run("r: Name+ => PER", "An Bình\nCư"),
            rows(&[("PER", "An Bình"), ("PER", "Cư")])
        );
    }

    #[test]
    fn later_phases_see_earlier_annotations() {
        let rules = "o: body unit? => ORG\nphase roles\nr: t:title o:ORG => ROLE title=$t";
        assert_eq!(
            run(rules, "Chủ tịch UBND huyện"),
            rows(&[("ROLE", "Chủ tịch UBND huyện"), ("ORG", "UBND huyện")])
        );
    }

    #[test]
    fn unless_and_drop() {
        let rules = "o: body unit => ORG\nphase p\np: surname Name => PER unless overlaps ORG\nn: Name Name => PER\ndrop PER inside ORG";
        assert_eq!(
            run(rules, "UBND huyện Nguyễn An"),
            rows(&[("ORG", "UBND huyện"), ("PER", "Nguyễn An")])
        );
    }

    #[test]
    fn unless_inside_sees_an_annotation_starting_well_before() {
        // The second `huyện` lies inside the ORG that starts three tokens before it, and inside
        // no shorter one; the last `xã` lies inside none.
        let rules = "o: body unit unit unit => ORG\nphase p\np: unit => LOC unless inside ORG";
        assert_eq!(
            run(rules, "UBND huyện xã huyện và xã"),
            rows(&[("ORG", "UBND huyện xã huyện"), ("LOC", "xã")])
        );
    }

    #[test]
    fn unless_ignores_dropped_annotations() {
        // The LOC `huyện` is dropped inside the ORG before the last phase, so it no longer stops
        // a PER there; the live LOC `xã` does.
        let rules = "l: unit => LOC\nphase b\no: body unit => ORG\ndrop LOC inside ORG\n\
            phase p\np: unit => PER unless overlaps LOC";
        assert_eq!(
            run(rules, "UBND huyện và xã"),
            rows(&[("ORG", "UBND huyện"), ("PER", "huyện"), ("LOC", "xã")])
        );
    }

    #[test]
    fn literals_match_words_no_gazetteer_has_short_or_long() {
        // Literal words are numbered with the gazetteer's tokens; the second is over eight bytes.
        let rules = "r: \"xin\" \"chàoôngbàcôchú\" n:Name => PER n";
        assert_eq!(
            run(rules, "Xin chàoôngbàcôchú An. Xin chào Bình."),
            rows(&[("PER", "An")])
        );
    }

    #[test]
    fn negation_and_line_anchors() {
        let rules = "r: ^ !surname Name+ $ => PER";
        assert_eq!(
            run(rules, "Nguyễn An\nThanh Thúy"),
            rows(&[("PER", "Thanh Thúy")])
        );
    }

    #[test]
    fn rule_errors_name_file_and_line() {
        let mut labels = crate::label::Labels::default();
        let err = super::RuleSet::from_files(
            &[("x.rules".into(), "\nr: title => ROLE n".into())],
            &mut labels,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("x.rules:2: rule:"), "{err}");
    }
}

//! Rules: declarative rule files (`rules/*.rules`) compiled once into a [`RuleSet`].
//!
//! The language is documented in `rules/README.md`; [`parse`] reads it, this module resolves names
//! (labels, captures) and [`engine`] runs it over a document.

pub mod engine;
pub mod parse;

use std::path::Path;

use crate::error::Error;
use crate::gazetteer::Origin;
use crate::label::{Label, Labels};
use parse::{Action, Class, Filter, Pattern, Statement, Unless, Value};

/// A compiled pattern.
#[derive(Debug, Clone)]
pub enum Node {
    Label(Label, Vec<CompiledFilter>),
    Literal(Vec<String>),
    Class(Class),
    LineStart,
    LineEnd,
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        inner: Box<Node>,
        min: u32,
        max: u32,
    },
    Capture(u16, Box<Node>),
    Not(Box<Node>),
}

/// A filter with its label names resolved.
#[derive(Debug, Clone)]
pub enum CompiledFilter {
    Equals(String, String),
    NotEquals(String, String),
    Has(String),
    Lacks(String),
    Capitalised,
    AllCapitalised,
    LowerCase,
    Seen(Label),
    /// `[min=N]` / `[max=N]`: the annotation spans at least / at most N tokens.
    MinTokens(u32),
    MaxTokens(u32),
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
    pub literals: Vec<String>,
    pub classes: Vec<Class>,
    /// The pattern can start with anything (or with a zero-width element).
    pub anything: bool,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub origin: Origin,
    pub root: Node,
    pub first: FirstSet,
    pub actions: Vec<CompiledAction>,
    /// `(label, inside)`: drop a match inside (or overlapping) a live annotation of `label`.
    pub unless: Vec<(Label, bool)>,
}

/// A step of the cascade.
#[derive(Debug, Clone)]
pub enum Step {
    /// A phase: these rules compete with one another.
    Phase(std::ops::Range<usize>),
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
                        let rule = compile(syntax, labels).map_err(|message| Error::Rule {
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
        Ok(set)
    }

    fn close_phase(&mut self, start: usize) {
        if self.rules.len() > start {
            self.steps.push(Step::Phase(start..self.rules.len()));
        }
    }
}

fn compile(syntax: parse::RuleSyntax, labels: &mut Labels) -> Result<Rule, String> {
    let mut names: Vec<String> = Vec::new();
    let root = compile_pattern(&syntax.pattern, labels, &mut names)?;
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
    let mut first = FirstSet::default();
    if !first_set(&root, &mut first) {
        first.anything = true;
    }
    Ok(Rule {
        name: syntax.name,
        origin: syntax.origin,
        root,
        first,
        actions,
        unless,
    })
}

fn compile_pattern(
    p: &Pattern,
    labels: &mut Labels,
    names: &mut Vec<String>,
) -> Result<Node, String> {
    let all = |items: &[Pattern], labels: &mut Labels, names: &mut Vec<String>| {
        items
            .iter()
            .map(|i| compile_pattern(i, labels, names))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match p {
        Pattern::Label(name, filters) => Node::Label(
            labels.intern(name),
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
                        Filter::Equals(k, v) => CompiledFilter::Equals(k.clone(), v.clone()),
                        Filter::NotEquals(k, v) => CompiledFilter::NotEquals(k.clone(), v.clone()),
                        Filter::Has(k) => CompiledFilter::Has(k.clone()),
                        Filter::Lacks(k) => CompiledFilter::Lacks(k.clone()),
                        Filter::Capitalised => CompiledFilter::Capitalised,
                        Filter::AllCapitalised => CompiledFilter::AllCapitalised,
                        Filter::LowerCase => CompiledFilter::LowerCase,
                        Filter::Seen(l) => CompiledFilter::Seen(labels.intern(l)),
                    };
                    Ok(f)
                })
                .collect::<Result<_, String>>()?,
        ),
        Pattern::Literal(words) => Node::Literal(words.clone()),
        Pattern::Class(c) => Node::Class(*c),
        Pattern::LineStart => Node::LineStart,
        Pattern::LineEnd => Node::LineEnd,
        Pattern::Seq(items) => Node::Seq(all(items, labels, names)?),
        Pattern::Alt(items) => Node::Alt(all(items, labels, names)?),
        Pattern::Repeat { inner, min, max } => Node::Repeat {
            inner: Box::new(compile_pattern(inner, labels, names)?),
            min: *min,
            max: *max,
        },
        Pattern::Capture(name, inner) => {
            let id = match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.clone());
                    names.len() - 1
                }
            };
            Node::Capture(id as u16, Box::new(compile_pattern(inner, labels, names)?))
        }
        Pattern::Not(inner) => Node::Not(Box::new(compile_pattern(inner, labels, names)?)),
    })
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
            first.literals.push(words[0].clone());
            true
        }
        Node::Class(c) => {
            first.classes.push(*c);
            true
        }
        Node::LineStart | Node::LineEnd | Node::Not(_) => false,
        Node::Seq(items) => {
            for item in items {
                if first_set(item, first) {
                    return true;
                }
            }
            false
        }
        Node::Alt(options) => {
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
            .map(|m| (m.kind, m.text))
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

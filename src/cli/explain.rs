//! `vnner explain`: how the pipeline read one text — each mention with the rule or gazetteer entry
//! that made it, the entries inside it, and the competing matches that lost and why.

use std::path::PathBuf;

use super::exit;
use super::gazetteer::ResourceArgs;
use crate::gazetteer::Origin;
use crate::label::Label;
use crate::pipeline::{Pipeline, Trace};
use crate::rules::engine::{Annotation, Source};
use crate::rules::Step;

/// Explain how a text is read: each mention, its span, the rule or gazetteer entry that made it,
/// and the competing matches that lost.
///
/// Each mention is one line: type, code-point span, text, and the rule (`rule:name@file:line`) or
/// gazetteer entry (`gazetteer:file:line`) that made it. Under it: its canonical form and detail,
/// the gazetteer entries inside it, and each match that lost to it (overlapped by a winner of the
/// same phase, thrown out by an `unless`, or removed by a `drop`).
///
/// Examples:
///   vnner explain "Đồng chí Lưu Văn Dương - Chủ tịch UBND huyện Trực Ninh phát biểu."
///   vnner explain --file article.txt --gazetteer my-province.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The text to explain. Example: `"Chủ tịch UBND huyện Trực Ninh"`.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub text: Option<String>,

    /// Read the text from a UTF-8 file instead. Example: `--file article.txt`.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub resources: ResourceArgs,
}

/// Runs `explain`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let text = match (args.text, &args.file) {
        (Some(text), _) => text,
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("vnner: {}: {e}", path.display());
                return exit::NOTHING_RAN;
            }
        },
        (None, None) => {
            eprintln!("vnner: give a TEXT or --file PATH");
            return exit::NOTHING_RAN;
        }
    };
    let Some(pipeline) = args.resources.pipeline() else {
        return exit::NOTHING_RAN;
    };
    print!("{}", render(&pipeline, &text));
    exit::OK
}

/// Which mention a lost match is listed under, when it overlaps several.
enum Prefer {
    /// The mention made by this winning rule.
    Source(Source),
    /// The mention with this label that contains it (what a `drop` compared it with).
    Containing(Label),
    /// No mention in particular.
    Any,
}

/// A match that lost, or an annotation a `drop` removed.
struct Lost {
    first: u32,
    last: u32,
    source: Source,
    reason: String,
    prefer: Prefer,
}

/// The explanation of `text`, one mention a line, with what lost under each.
pub fn render(pipeline: &Pipeline, text: &str) -> String {
    let (trace, found) = pipeline.trace(text);
    let doc = &trace.doc;
    let labels = pipeline.labels();
    let quote = |first: u32, last: u32| {
        let (start, end) = doc.token_span(first as usize, last as usize);
        format!("{start}-{end} {:?}", doc.original_slice(text, start, end))
    };

    // The annotation behind each mention written.
    let winners: Vec<Option<&Annotation>> = found
        .mentions
        .iter()
        .map(|m| {
            trace.annotations.iter().find(|a| {
                a.alive
                    && labels.name(a.label) == m.kind
                    && doc.token_span(a.first as usize, a.last as usize) == (m.start, m.end)
            })
        })
        .collect();
    let mut lost_under: Vec<Vec<String>> = vec![Vec::new(); winners.len()];
    let mut unplaced = Vec::new();
    for lost in losers(&trace) {
        let line = format!(
            "lost: {} {} ({})",
            pipeline.describe_source(lost.source),
            quote(lost.first, lost.last),
            lost.reason
        );
        let overlaps = |a: &Annotation| a.first < lost.last && lost.first < a.last;
        let preferred = |a: &Annotation| match lost.prefer {
            Prefer::Source(source) => a.source == source,
            Prefer::Containing(label) => {
                a.label == label && a.first <= lost.first && lost.last <= a.last
            }
            Prefer::Any => false,
        };
        // Under the widest preferred mention (a winning rule's whole match), else the mention
        // with its span, else the smallest it overlaps.
        let home = winners
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.filter(|a| overlaps(a)).map(|a| (i, a)))
            .min_by_key(|(_, a)| {
                let width = i64::from(a.last - a.first);
                let preferred = preferred(a);
                (
                    !preferred,
                    (a.first, a.last) != (lost.first, lost.last),
                    if preferred { -width } else { width },
                )
            });
        match home {
            Some((i, _)) => lost_under[i].push(line),
            None => unplaced.push(line),
        }
    }

    let mut out = String::new();
    if found.mentions.is_empty() {
        out.push_str("no mentions\n");
    }
    for ((m, winner), lost) in found.mentions.iter().zip(&winners).zip(&lost_under) {
        out.push_str(&format!(
            "{:<4}  {}-{}  {:?}  {}\n",
            m.kind, m.start, m.end, m.text, m.source
        ));
        if m.canonical != m.text {
            out.push_str(&format!("      canonical: {:?}\n", m.canonical));
        }
        if !m.detail.is_empty() {
            out.push_str(&format!("      detail: {}\n", m.detail));
        }
        if let Some(winner) = winner {
            let entries = entries_inside(&trace, winner);
            if !entries.is_empty() {
                out.push_str(&format!("      entries: {}\n", entries.join("; ")));
            }
        }
        for line in lost {
            out.push_str(&format!("      {line}\n"));
        }
    }
    for r in &found.relations {
        out.push_str(&format!("holds: PER {:?} → ROLE {:?}\n", r.person, r.role));
    }
    if !unplaced.is_empty() {
        out.push_str("matches that lost, outside every mention:\n");
        for line in unplaced {
            out.push_str(&format!("      {line}\n"));
        }
    }
    out
}

/// Every match that lost a competition, and every annotation a `drop` removed, with the reason.
/// A rule's matches that lost to its own longer match are left out.
fn losers(trace: &Trace<'_>) -> Vec<Lost> {
    let pipeline = trace.pipeline;
    let rules = pipeline.rules();
    let labels = pipeline.labels();
    let mut out = Vec::new();
    for loss in &trace.losses {
        let (reason, prefer) = match loss.beaten_by {
            Some(winner) if winner == loss.rule => continue,
            Some(winner) => {
                let winner = Source::Rule(winner);
                (
                    format!("overlapped the winner {}", pipeline.describe_source(winner)),
                    Prefer::Source(winner),
                )
            }
            None => {
                let clauses: Vec<String> = rules.rules[loss.rule as usize]
                    .unless
                    .iter()
                    .map(|&(label, inside)| {
                        format!(
                            "unless {} {}",
                            if inside { "inside" } else { "overlaps" },
                            labels.name(label)
                        )
                    })
                    .collect();
                (format!("dropped by `{}`", clauses.join(" / ")), Prefer::Any)
            }
        };
        out.push(Lost {
            first: loss.first,
            last: loss.last,
            source: Source::Rule(loss.rule),
            reason,
            prefer,
        });
    }

    let drops: Vec<(Label, Label, bool, &Origin)> = rules
        .steps
        .iter()
        .filter_map(|step| match step {
            Step::Drop {
                label,
                other,
                overlapping,
            } => Some((*label, *other, *overlapping)),
            Step::Phase(_) => None,
        })
        .zip(&rules.drops)
        .map(|((label, other, overlapping), origin)| (label, other, overlapping, origin))
        .collect();
    for a in trace.annotations.iter().filter(|a| !a.alive) {
        // The `drop` whose condition still holds at the end; the first for the label otherwise.
        let holds = |&(label, other, overlapping, _): &(Label, Label, bool, &Origin)| {
            label == a.label
                && trace.annotations.iter().any(|b| {
                    let touches = if overlapping {
                        b.first < a.last && a.first < b.last
                    } else {
                        b.first <= a.first && a.last <= b.last
                    };
                    b.alive && b.label == other && touches && (b.first, b.last) != (a.first, a.last)
                })
        };
        let chosen = drops
            .iter()
            .find(|d| holds(d))
            .or_else(|| drops.iter().find(|d| d.0 == a.label));
        if let Some(&(label, other, overlapping, origin)) = chosen {
            let how = if overlapping { "overlapping" } else { "inside" };
            out.push(Lost {
                first: a.first,
                last: a.last,
                source: a.source,
                reason: format!(
                    "removed by `drop {} {how} {}` at {origin}",
                    labels.name(label),
                    labels.name(other)
                ),
                prefer: Prefer::Containing(other),
            });
        }
    }
    out
}

/// The gazetteer hits inside an annotation, except those inside a longer one: `kind "surface"
/// file:line` of the first entry, and how many more entries share its key and kind.
fn entries_inside(trace: &Trace<'_>, outer: &Annotation) -> Vec<String> {
    let pipeline = trace.pipeline;
    let hits: Vec<&Annotation> = trace
        .annotations
        .iter()
        .filter(|a| {
            a.alive
                && matches!(a.source, Source::Gazetteer { .. })
                && outer.first <= a.first
                && a.last <= outer.last
        })
        .collect();
    let inside = |a: &Annotation, b: &Annotation| {
        b.first <= a.first && a.last <= b.last && (b.first, b.last) != (a.first, a.last)
    };
    hits.iter()
        .filter(|a| !hits.iter().any(|b| inside(a, b)))
        .filter_map(|a| {
            let Source::Gazetteer { key, kind } = a.source else {
                return None;
            };
            let (_, ids) = &pipeline.matcher().groups[key as usize].kinds[kind as usize];
            let first = &pipeline.gazetteer().entries[*ids.first()? as usize];
            let more = match ids.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            Some(format!(
                "{} {:?} {}{more}",
                first.kind, first.surface, first.origin
            ))
        })
        .collect()
}

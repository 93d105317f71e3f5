//! The quality bar on the hand-annotated seeds: run the `vnner` binary on the gold JSON lines and
//! score its CSV output the way `../shared/eval/score.py` does (strict spans per type; relations
//! after normalisation). Fails when a type's F1 falls below the bar.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

const TYPE_BAR: f64 = 0.90;
const RELATION_BAR: f64 = 0.85;

#[derive(Deserialize)]
struct Gold {
    id: String,
    entities: Vec<GoldEntity>,
    #[serde(default)]
    relations: Vec<GoldRelation>,
}

#[derive(Deserialize)]
struct GoldEntity {
    start: usize,
    end: usize,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct GoldRelation {
    person: String,
    role: String,
}

fn gold_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/gold/seeds.jsonl")
}

/// The scorer's normalisation: NFC, lower case, new tone placement, trimmed punctuation, one space.
fn norm(s: &str) -> String {
    let key = vnner::text::match_key(s);
    key.trim_matches(|c: char| " \t\n,.;:-–".contains(c))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn f1(
    gold: &HashSet<(String, String, usize, usize)>,
    pred: &HashSet<(String, String, usize, usize)>,
) -> f64 {
    let tp = gold.intersection(pred).count() as f64;
    if tp == 0.0 {
        return 0.0;
    }
    let (p, r) = (tp / pred.len() as f64, tp / gold.len() as f64);
    2.0 * p * r / (p + r)
}

#[test]
fn seeds_meet_the_quality_bar() {
    let gold_file = gold_path();
    let text = std::fs::read_to_string(&gold_file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the seeds gold lives in ../shared beside the repo)",
            gold_file.display()
        )
    });
    let docs: Vec<Gold> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("gold JSON"))
        .collect();

    let out = tempfile::tempdir().expect("a temporary folder");
    let status = Command::new(env!("CARGO_BIN_EXE_vnner"))
        .args(["annotate", "--quiet", "-o"])
        .arg(out.path())
        .arg(&gold_file)
        .status()
        .expect("vnner runs");
    assert!(status.success(), "vnner annotate failed: {status}");

    let mut gold = HashSet::new();
    let mut gold_rel = HashSet::new();
    for d in &docs {
        for e in &d.entities {
            gold.insert((d.id.clone(), e.kind.clone(), e.start, e.end));
        }
        for r in &d.relations {
            gold_rel.insert((d.id.clone(), norm(&r.person), norm(&r.role)));
        }
    }
    let mut pred = HashSet::new();
    let mut mentions =
        csv::Reader::from_path(out.path().join("mentions.csv")).expect("mentions.csv");
    for row in mentions.records() {
        let row = row.expect("a mention row");
        pred.insert((
            row[0].to_string(),
            row[3].to_string(),
            row[1].parse().expect("start"),
            row[2].parse().expect("end"),
        ));
    }
    let mut pred_rel = HashSet::new();
    let mut relations =
        csv::Reader::from_path(out.path().join("relations.csv")).expect("relations.csv");
    for row in relations.records() {
        let row = row.expect("a relation row");
        pred_rel.insert((row[0].to_string(), norm(&row[1]), norm(&row[2])));
    }

    let mut scores = BTreeMap::new();
    for kind in ["PER", "ROLE", "ORG", "LOC"] {
        let of = |set: &HashSet<(String, String, usize, usize)>| {
            set.iter()
                .filter(|m| m.1 == kind)
                .cloned()
                .collect::<HashSet<_>>()
        };
        scores.insert(kind, f1(&of(&gold), &of(&pred)));
    }
    let tp = gold_rel.intersection(&pred_rel).count() as f64;
    let relation_f1 = if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (gold_rel.len() + pred_rel.len()) as f64
    };
    eprintln!("seeds F1: {scores:?}, relations {relation_f1:.3}");
    for (kind, score) in &scores {
        assert!(
            *score >= TYPE_BAR,
            "{kind} F1 {score:.3} is below {TYPE_BAR}"
        );
    }
    assert!(
        relation_f1 >= RELATION_BAR,
        "relation F1 {relation_f1:.3} is below {RELATION_BAR}"
    );
}

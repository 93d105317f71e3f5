//! Place benchmark: linking accuracy on sentences generated from the administrative-unit tables
//! (`scripts/gen_place_bench.py`), and the start-up cost of the full gazetteer.
//!
//! ```sh
//! cargo bench --bench places            # generates $TMP/vnner_place_bench.jsonl when missing
//! VNNER_PLACE_BENCH=file.jsonl VNNER_PLACE_ERRORS=20 cargo bench --bench places
//! ```
//!
//! A gold place counts as linked when a `LOC` mention has exactly its span, its `code` and one of
//! its `eras`, and no `fuzzy=yes`. Memory is the live heap (a counting allocator) after building.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use vnner::gazetteer::Gazetteer;
use vnner::label::Labels;
use vnner::matcher::Matcher;
use vnner::places::PlaceIndex;
use vnner::Pipeline;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / 1e6
}

/// Runs `f`, returning its value, the time in ms and the growth of the live heap in MB.
fn measure<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let before = live_mb();
    let t = Instant::now();
    let value = f();
    (value, t.elapsed().as_secs_f64() * 1e3, live_mb() - before)
}

fn bench_file() -> PathBuf {
    if let Some(p) = std::env::var_os("VNNER_PLACE_BENCH") {
        return PathBuf::from(p);
    }
    let path = std::env::temp_dir().join("vnner_place_bench.jsonl");
    if !path.exists() {
        let root = env!("CARGO_MANIFEST_DIR");
        let status = std::process::Command::new("python3")
            .arg(format!("{root}/scripts/gen_place_bench.py"))
            .arg("--out")
            .arg(&path)
            .status()
            .expect("python3 to run scripts/gen_place_bench.py");
        assert!(status.success(), "gen_place_bench.py failed");
    }
    path
}

#[derive(Default)]
struct Tally {
    gold: usize,
    found: usize,
    linked: usize,
    ambiguous: usize,
}

fn main() {
    // Start-up: each stage on its own, then the whole pipeline.
    let (gazetteer, gaz_ms, gaz_mb) = measure(|| Gazetteer::builtin().expect("built-in gazetteer"));
    let places = gazetteer
        .entries
        .iter()
        .filter(|e| e.kind == "place")
        .count();
    let (matcher, ac_ms, ac_mb) =
        measure(|| Matcher::new(&gazetteer, &mut Labels::default(), &[]).expect("matcher"));
    let (index, idx_ms, idx_mb) = measure(|| PlaceIndex::new(&gazetteer));
    drop((matcher, index, gazetteer));
    let (pipeline, all_ms, all_mb) = measure(|| Pipeline::builtin().expect("pipeline"));
    println!("start-up (full gazetteer, {places} place entries):");
    println!("  gazetteer parse   {gaz_ms:8.1} ms {gaz_mb:8.1} MB");
    println!("  automaton build   {ac_ms:8.1} ms {ac_mb:8.1} MB");
    println!("  place index       {idx_ms:8.1} ms {idx_mb:8.1} MB");
    println!("  whole pipeline    {all_ms:8.1} ms {all_mb:8.1} MB");

    let path = bench_file();
    let text = std::fs::read_to_string(&path).expect("benchmark file");
    let show_errors: usize = std::env::var("VNNER_PLACE_ERRORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut by_shape: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut shown = 0;
    let mut extra = 0usize;
    let t = Instant::now();
    let mut sentences = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let sentence = row["text"].as_str().unwrap_or_default();
        let shape = row["shape"]
            .as_str()
            .unwrap_or("?")
            .split('/')
            .next()
            .unwrap_or("?")
            .to_string();
        let found = pipeline.annotate(sentence);
        sentences += 1;
        let locs: Vec<_> = found.mentions.iter().filter(|m| m.kind == "LOC").collect();
        let gold = row["gold"].as_array().cloned().unwrap_or_default();
        extra += locs
            .iter()
            .filter(|m| {
                !gold.iter().any(|g| {
                    g["start"].as_u64() == Some(m.start as u64)
                        && g["end"].as_u64() == Some(m.end as u64)
                })
            })
            .count();
        for g in &gold {
            let (start, end) = (
                g["start"].as_u64().unwrap_or(0) as usize,
                g["end"].as_u64().unwrap_or(0) as usize,
            );
            let code = g["code"].as_str().unwrap_or_default();
            let eras: Vec<&str> = g["eras"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str())
                .collect();
            let mention = locs.iter().find(|m| m.start == start && m.end == end);
            let detail = |m: &vnner::Mention, key: &str| -> Option<String> {
                m.detail.split("; ").find_map(|kv| {
                    kv.strip_prefix(key)
                        .and_then(|v| v.strip_prefix('='))
                        .map(str::to_string)
                })
            };
            let ok = mention.is_some_and(|m| {
                detail(m, "code").as_deref() == Some(code)
                    && detail(m, "era").is_some_and(|e| eras.contains(&e.as_str()))
                    && detail(m, "fuzzy").is_none()
            });
            for t in [&mut total, by_shape.entry(shape.clone()).or_default()] {
                t.gold += 1;
                t.found += mention.is_some() as usize;
                t.linked += ok as usize;
                t.ambiguous += mention.is_some_and(|m| detail(m, "candidates").is_some()) as usize;
            }
            if !ok && shown < show_errors {
                shown += 1;
                let got =
                    mention.map_or("(no LOC with this span)".to_string(), |m| m.detail.clone());
                let span: String = sentence.chars().skip(start).take(end - start).collect();
                println!("  miss [{span}] want {code} {eras:?}, got {got}\n       in: {sentence}");
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "\nplace linking on {} ({sentences} sentences, {:.0} sentences/s):",
        path.display(),
        sentences as f64 / secs
    );
    println!(
        "  {:<12} {:>6} {:>8} {:>8} {:>6}",
        "shape", "gold", "found", "linked", "ambig"
    );
    let print = |shape: &str, t: &Tally| {
        let rate = |n: usize| n as f64 / t.gold.max(1) as f64;
        println!(
            "  {:<12} {:>6} {:>8.3} {:>8.3} {:>6}",
            shape,
            t.gold,
            rate(t.found),
            rate(t.linked),
            t.ambiguous
        );
    };
    for (shape, t) in &by_shape {
        print(shape, t);
    }
    print("ALL", &total);
    println!("  LOC mentions not in gold: {extra}");
}

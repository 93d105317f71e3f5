//! Per-stage benchmarks on the sample articles (`data/seeds/*.txt`): normalise, match, rules,
//! link (places, relations, rows) and write (CSV rows), plus the whole `annotate`.
//!
//! ```sh
//! cargo bench --bench stages            # all stages
//! cargo bench --bench stages -- rules   # one stage
//! ```
//!
//! Each stage is measured over all five articles, with its input prepared outside the timing, so
//! the figures add up to roughly the `annotate` one. Throughput is in bytes of original text.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vnner::io::output::{render, FolderSink, Format, Sink};
use vnner::matcher::Scan;
use vnner::rules::engine::{Buffers, State};
use vnner::text::Normalized;
use vnner::{Annotations, Pipeline, Workspace};

/// The sample articles, in file-name order.
fn seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seeds");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("data/seeds exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("seed articles are UTF-8"))
        .collect()
}

fn stages(c: &mut Criterion) {
    let pipeline = Pipeline::builtin().expect("the built-in resources compile");
    let texts = seeds();
    let docs: Vec<Normalized> = texts.iter().map(|t| Normalized::new(t)).collect();
    let scans: Vec<Scan> = docs.iter().map(|d| pipeline.matcher().find(d)).collect();
    let run_rules = |i: usize| {
        let mut state = State::new(
            Buffers::default(),
            &texts[i],
            &docs[i],
            &pipeline,
            &scans[i],
            false,
        );
        state.run();
        state
    };
    let annotations: Vec<Annotations> = texts.iter().map(|t| pipeline.annotate(t)).collect();

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(
        texts.iter().map(|t| t.len() as u64).sum(),
    ));
    group.bench_function("normalise", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| Normalized::new(black_box(t)).tokens.len())
                .sum::<usize>()
        })
    });
    group.bench_function("match", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| pipeline.matcher().find(black_box(d)).hits.len())
                .sum::<usize>()
        })
    });
    group.bench_function("rules", |b| {
        b.iter(|| {
            (0..docs.len())
                .map(|i| run_rules(i).annotations.len())
                .sum::<usize>()
        })
    });
    group.bench_function("link", |b| {
        let states: Vec<State<'_>> = (0..docs.len()).map(run_rules).collect();
        b.iter(|| {
            states
                .iter()
                .zip(&texts)
                .map(|(s, t)| pipeline.assemble(t, s).mentions.len())
                .sum::<usize>()
        })
    });
    group.bench_function("write", |b| {
        b.iter_batched_ref(
            || {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let sink = FolderSink::create(dir.path(), Format::Csv, false)
                    .expect("the temporary folder is writable");
                (sink, dir)
            },
            |(sink, _)| {
                for (i, a) in annotations.iter().enumerate() {
                    let rendered =
                        render(sink.layout(), &i.to_string(), a).expect("rows format into memory");
                    sink.document(&rendered)
                        .expect("writing to a temporary folder");
                }
            },
            BatchSize::NumIterations(200),
        )
    });
    // With one workspace for every document, as each worker of a run has.
    group.bench_function("annotate", |b| {
        let mut workspace = Workspace::default();
        b.iter(|| {
            texts
                .iter()
                .map(|t| {
                    let found = pipeline.annotate_with(black_box(t), &mut workspace);
                    found.mentions.len()
                })
                .sum::<usize>()
        })
    });
    group.finish();

    c.bench_function("startup", |b| {
        b.iter(|| Pipeline::builtin().expect("the built-in resources compile"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = stages
}
criterion_main!(benches);

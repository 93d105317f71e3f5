//! The tools for extending the gazetteers: `vnner gazetteer check` (one test per check, and the
//! built-in files pass), `vnner gazetteer suggest` (on the seed articles it proposes real names
//! the gazetteers lack, as a file that loads) and `vnner explain` (sources and lost matches).

use std::path::{Path, PathBuf};
use std::process::Command;

use vnner::check::{check_builtin, check_texts, Problem, Severity};
use vnner::gazetteer::Gazetteer;
use vnner::io::input::{ReadOptions, Reader};
use vnner::label::Labels;
use vnner::rules::RuleSet;
use vnner::{suggest, Pipeline, Resources};

fn labels() -> Labels {
    let mut labels = Labels::default();
    RuleSet::builtin(&mut labels).expect("the built-in rules compile");
    labels
}

/// The problems of one user file checked on top of the built-in gazetteers.
fn check_user(tsv: &str) -> Vec<Problem> {
    let base = Gazetteer::builtin().expect("the built-in gazetteers load");
    check_texts(base, &[("mine.tsv", tsv)], &labels())
}

/// `(severity, line)` of each problem, and whether its message mentions `needle`.
fn found(problems: &[Problem], needle: &str) -> Vec<(Severity, Option<usize>)> {
    problems
        .iter()
        .filter(|p| p.message.contains(needle))
        .map(|p| (p.severity, p.line))
        .collect()
}

fn temp_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temporary folder is writable");
    path
}

fn vnner(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_vnner"))
        .args(args)
        .output()
        .expect("vnner runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seeds")
}

// ---- check ----

#[test]
fn the_built_in_gazetteers_have_no_errors() {
    let problems = check_builtin(&labels());
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(Problem::to_string)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let (code, _, stderr) = vnner(&["gazetteer", "check"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn format_errors_name_each_line_and_checking_goes_on() {
    let problems = check_user(
        "surface\tkind\n\tbody\nSở Văn hóa\tbody\ta\tb\nQuảng Trị\t-body\nBan Dân vận tỉnh\tbody\n",
    );
    let lines: Vec<(Severity, Option<usize>)> =
        problems.iter().map(|p| (p.severity, p.line)).collect();
    assert_eq!(
        lines,
        vec![
            (Severity::Error, Some(2)),
            (Severity::Error, Some(3)),
            (Severity::Error, Some(4))
        ],
        "{problems:#?}"
    );
    assert!(problems[0]
        .to_string()
        .starts_with("mine.tsv:2: error: `surface` and `kind` must not be empty"));
    assert!(problems[1].message.contains("a stray tab?"));
    assert!(problems[2].message.contains("`-body` removes nothing"));
}

#[test]
fn a_file_without_a_header_is_one_error() {
    let problems = check_user("# mine\nname\tkind\nUBND\tbody\n");
    assert_eq!(
        found(&problems, "the header has no `surface` column"),
        vec![(Severity::Error, Some(2))]
    );
    assert_eq!(problems.len(), 1);
}

#[test]
fn an_exact_duplicate_is_an_error() {
    let problems = check_user("surface\tkind\tclass\nỦy ban nhân dân\tbody\tstate\nBan Quản lý chợ Đồng Xuân\tbody\tstate\nBan Quản lý chợ Đồng Xuân\tbody\tstate\n");
    assert_eq!(
        found(&problems, "duplicate of gazetteers/bodies.tsv:"),
        vec![(Severity::Error, Some(2))]
    );
    assert_eq!(
        found(&problems, "duplicate of mine.tsv:3"),
        vec![(Severity::Error, Some(4))]
    );
}

#[test]
fn another_spelling_of_the_same_key_is_a_warning() {
    let problems = check_user("surface\tkind\tclass\nUỷ ban nhân dân\tbody\tstate\nHội Người mù\tbody\tmass\nHỘI NGƯỜI  MÙ\tbody\tmass\n");
    let spelling = found(&problems, "normalises to");
    assert_eq!(
        spelling,
        vec![(Severity::Warning, Some(2)), (Severity::Warning, Some(4))],
        "{problems:#?}"
    );
}

#[test]
fn the_same_entry_with_other_attributes_is_a_warning() {
    let problems =
        check_user("surface\tkind\tclass\nHội Người mù\tbody\tmass\nHội Người mù\tbody\tstate\n");
    assert_eq!(
        found(&problems, "class=mass there, state here"),
        vec![(Severity::Warning, Some(3))],
        "{problems:#?}"
    );
}

#[test]
fn one_name_for_several_units_is_not_a_repeat() {
    let tsv =
        "surface\tkind\tcode\tera\tuntil\nAn Bình\tplace\t1\t2025\t\nAn Bình\tplace\t2\t2025\t\n\
               An Bình\tplace\t1\thistorical\t2019\nAn Bình\tplace\t1\thistorical\t2021\n";
    let problems = check_texts(Gazetteer::default(), &[("p.tsv", tsv)], &labels());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn conflicting_kinds_are_a_warning_and_compatible_ones_are_not() {
    let problems =
        check_user("surface\tkind\nChủ tịch\tbody\nNgười mù\tplace\nNgười mù\tsurname\n");
    assert_eq!(
        found(
            &problems,
            "is a body here and a title at gazetteers/titles.tsv:"
        ),
        vec![(Severity::Warning, Some(2))]
    );
    assert!(
        problems[0].message.contains("`Chủ tịch<TAB>-title`"),
        "{problems:#?}"
    );
    assert_eq!(
        problems.len(),
        1,
        "place + surname may overlap: {problems:#?}"
    );
}

#[test]
fn a_retyped_entry_does_not_conflict() {
    let problems = check_user("surface\tkind\nChủ tịch\t-title\nChủ tịch\tbody\n");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn kinds_no_rule_reads_and_surfaces_that_cannot_match_are_warnings() {
    let problems =
        check_user("surface\tkind\nSở Du lịch\ttitel\nBan\u{2028}Dân vận\tbody\n…\tbody\n");
    assert_eq!(
        found(&problems, "kind `titel` is read by no rule"),
        vec![(Severity::Warning, Some(2))]
    );
    assert_eq!(
        found(&problems, "can never match"),
        vec![(Severity::Warning, Some(3))]
    );
    assert_eq!(
        found(&problems, "has no letter or digit"),
        vec![(Severity::Warning, Some(4))]
    );
}

#[test]
fn the_exit_code_says_whether_there_are_errors() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let warned = temp_file(
        dir.path(),
        "warned.tsv",
        "surface\tkind\nUỷ ban nhân dân\tbody\n",
    );
    let broken = temp_file(dir.path(), "broken.tsv", "surface\tkind\n\tbody\n");
    let (code, stdout, _) = vnner(&["gazetteer", "check", &warned.display().to_string()]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("warned.tsv:2: warning:"), "{stdout}");
    let (code, stdout, stderr) = vnner(&["gazetteer", "check", &broken.display().to_string()]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("broken.tsv:2: error:"), "{stdout}");
    assert!(stderr.contains("1 errors, 0 warnings"), "{stderr}");
}

// ---- suggest ----

/// Candidates `(surface, kind, level)` mined from `inputs` with the built-in gazetteers plus `user`.
fn suggestions(
    inputs: &[PathBuf],
    user: &[PathBuf],
    min_count: usize,
) -> Vec<(String, &'static str, String)> {
    let pipeline = Pipeline::new(&Resources {
        gazetteers: user.to_vec(),
        ..Resources::default()
    })
    .expect("resources load");
    let tally = suggest::mine(&pipeline, Reader::new(inputs, ReadOptions::default()));
    assert!(tally.errors.is_empty());
    tally
        .ranked(pipeline.gazetteer(), min_count)
        .into_iter()
        .map(|c| (c.surface, c.kind, c.level))
        .collect()
}

fn has(found: &[(String, &str, String)], surface: &str, kind: &str, level: &str) -> bool {
    found
        .iter()
        .any(|(s, k, l)| s == surface && *k == kind && l == level)
}

#[test]
fn suggest_proposes_the_village_names_the_seeds_use_and_the_gazetteers_lack() {
    let found = suggestions(&[seeds()], &[], 1);
    for (name, unit) in [
        ("Tây Kênh", "tổ dân phố"),
        ("Trại", "xóm"),
        ("Chanh", "thôn"),
    ] {
        assert!(has(&found, name, "place", unit), "{name}: {found:#?}");
    }
    assert!(has(&found, "Lưu Văn Dương", "person", ""), "{found:#?}");
    // Known names are not proposed.
    assert!(
        !found
            .iter()
            .any(|(s, _, _)| s == "Trực Ninh" || s == "Hồ Chí Minh"),
        "{found:#?}"
    );
}

#[test]
fn suggest_finds_a_place_taken_out_of_the_gazetteer_again() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let without = temp_file(dir.path(), "without.tsv", "surface\tkind\nCổ Lễ\t-place\n");
    let found = suggestions(&[seeds()], &[without], 1);
    assert!(has(&found, "Cổ Lễ", "place", "thị trấn"), "{found:#?}");
}

#[test]
fn suggest_finds_bodies_after_titles_and_titles_before_names() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let without = temp_file(
        dir.path(),
        "without.tsv",
        "surface\tkind\nThiếu tướng\t-title\nHội Nông dân\t-body\n",
    );
    let doc = temp_file(
        dir.path(),
        "doc.txt",
        "Thiếu tướng Nguyễn Văn An phát biểu.\nChủ tịch Hội Nông dân tỉnh dự họp. Chủ tịch Hội Nông dân huyện cũng dự.\n\
         Thiếu tướng Nguyễn Văn An cho biết.\n",
    );
    let found = suggestions(&[doc], &[without], 2);
    assert!(has(&found, "Thiếu tướng", "title", ""), "{found:#?}");
    assert!(has(&found, "Hội Nông dân", "body", ""), "{found:#?}");
    assert!(has(&found, "Nguyễn Văn An", "person", ""), "{found:#?}");
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn suggest_writes_a_gazetteer_that_loads_and_closes_the_loop() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (code, stdout, stderr) = vnner(&[
        "gazetteer",
        "suggest",
        &seeds().display().to_string(),
        "--min-count",
        "1",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("# 1× in 1 document; 002_7745632411660537: «"),
        "{stdout}"
    );
    assert!(
        stdout.contains("tổ dân phố [Tây Kênh], thị trấn Cổ Lễ"),
        "{stdout}"
    );
    let mut gazetteer = Gazetteer::default();
    gazetteer
        .add_text("candidates.tsv", &stdout)
        .expect("the output is a gazetteer file");
    let tay_kenh = gazetteer
        .entries
        .iter()
        .find(|e| e.surface == "Tây Kênh")
        .expect("Tây Kênh is proposed");
    assert_eq!(
        (
            &*tay_kenh.kind,
            tay_kenh.attr("level"),
            tay_kenh.attr("rank")
        ),
        ("place", Some("tổ dân phố"), Some("village"))
    );

    // Added as a user gazetteer, the candidates pass the check and are not proposed again.
    let added = temp_file(dir.path(), "added.tsv", &stdout);
    let (code, _, stderr) = vnner(&["gazetteer", "check", &added.display().to_string()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(suggestions(&[seeds()], &[added], 1).is_empty());
}

// ---- explain ----

#[test]
fn explain_names_each_source_and_what_lost() {
    let pipeline = Pipeline::builtin().expect("the built-in resources load");
    let text = vnner::cli::explain::render(
        &pipeline,
        "Đồng chí Lưu Văn Dương - Chủ tịch UBND huyện Trực Ninh phát biểu.",
    );
    let lines: Vec<&str> = text.lines().collect();
    let role = lines.iter().position(|l| l.starts_with("ROLE  25-54  \"Chủ tịch UBND huyện Trực Ninh\"  rule:role.with_body@rules/40-roles.rules:"));
    let role = role.unwrap_or_else(|| panic!("{text}"));
    let org = lines
        .iter()
        .position(|l| l.starts_with("ORG   34-54  \"UBND huyện Trực Ninh\""))
        .unwrap_or_else(|| panic!("{text}"));
    let under_role = &lines[role + 1..org];
    assert!(
        under_role
            .iter()
            .any(|l| l.contains("entries: title \"Chủ tịch\" gazetteers/titles.tsv:")),
        "{text}"
    );
    assert!(
        under_role
            .iter()
            .any(|l| l.contains("lost: rule:role.bare@")
                && l.contains("25-33 \"Chủ tịch\" (overlapped the winner rule:role.with_body@")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.contains("lost: rule:org.body@")
            && l.contains("(dropped by `unless overlaps ROLE")),
        "{text}"
    );
    assert!(
        text.contains("LOC   45-54  \"Trực Ninh\"  rule:loc.after_unit@rules/20-places.rules:"),
        "{text}"
    );
    assert!(
        text.contains("holds: PER \"Lưu Văn Dương\" → ROLE \"Chủ tịch UBND huyện Trực Ninh\""),
        "{text}"
    );
}

#[test]
fn explain_shows_what_a_drop_removed() {
    let pipeline = Pipeline::builtin().expect("the built-in resources load");
    let text = vnner::cli::explain::render(&pipeline, "ông Nguyễn Văn Thái Bình phát biểu");
    assert!(
        text.contains("lost: rule:loc.province@rules/20-places.rules:")
            && text.contains("(removed by `drop LOC inside PER` at rules/60-persons.rules:"),
        "{text}"
    );
}

#[test]
fn explain_reads_a_file_and_a_user_gazetteer_changes_the_answer() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let article = temp_file(
        dir.path(),
        "article.txt",
        "Ông Lưu Văn Dương làm việc tại xóm Trại.\n",
    );
    let (code, stdout, stderr) = vnner(&["explain", "--file", &article.display().to_string()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("detail: level=xóm; known=no"), "{stdout}");

    let user = temp_file(
        dir.path(),
        "villages.tsv",
        "surface\tkind\tlevel\trank\nTrại\tplace\txóm\tvillage\n",
    );
    let (code, stdout, _) = vnner(&[
        "explain",
        "--file",
        &article.display().to_string(),
        "--gazetteer",
        &user.display().to_string(),
    ]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("entries: place \"Trại\" "), "{stdout}");
    assert!(!stdout.contains("known=no"), "{stdout}");
}

// ---- templates ----

#[test]
fn the_gazetteer_templates_load_and_pass_the_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("gazetteers/templates");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("gazetteers/templates exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".tsv.example"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("a UTF-8 template"),
            )
        })
        .collect();
    files.sort();
    assert!(files.len() >= 15, "one template per kind: {files:?}");
    let base = Gazetteer::builtin().expect("the built-in gazetteers load");
    let problems = check_texts(base, &files, &labels());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_rules_template_runs_with_the_built_in_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    for entry in std::fs::read_dir(root.join("rules")).expect("rules/ exists") {
        let path = entry.expect("a readable entry").path();
        if path.extension().is_some_and(|e| e == "rules") {
            std::fs::copy(
                &path,
                dir.path().join(path.file_name().expect("a file name")),
            )
            .expect("copied");
        }
    }
    std::fs::copy(
        root.join("rules/templates/45-village-roles.rules.example"),
        dir.path().join("45-village-roles.rules"),
    )
    .expect("copied");
    let resources = Resources {
        rules: Some(dir.path().to_path_buf()),
        ..Resources::default()
    };
    let pipeline = Pipeline::new(&resources).expect("the template compiles");
    let found = pipeline.annotate("Đồng chí Bí thư Chi bộ thôn Đông phát biểu.");
    let roles: Vec<&str> = found
        .mentions
        .iter()
        .filter(|m| m.kind == "ROLE")
        .map(|m| m.text)
        .collect();
    assert_eq!(roles, vec!["Bí thư Chi bộ thôn Đông"]);
}

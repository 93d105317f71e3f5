//! Broken input never loses data: each kind of bad file is named on standard error and in
//! `errors.csv` with its line, every good document's mentions are all written, and the exit code
//! says how the run went (0 all read, 1 some inputs failed, 2 nothing could run, 130 stopped).
//!
//! Each test runs the built binary on files made in a temporary folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use vnner::Pipeline;

/// A document with a person, a role, a body and a place.
const GOOD: &str = "Đồng chí Lưu Văn Dương - Chủ tịch UBND huyện Trực Ninh phát biểu.";
const OTHER: &str = "Bà Nguyễn Thị Thu Thủy, Phó Chủ tịch UBND tỉnh Nam Định, dự hội nghị.";

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| Pipeline::builtin().expect("the built-in resources load"))
}

/// A finished run of `vnner annotate`.
struct Run {
    code: Option<i32>,
    stderr: String,
    out: PathBuf,
}

impl Run {
    fn from(output: Output, out: PathBuf) -> Run {
        Run {
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            out,
        }
    }

    /// `errors.csv` rows: (source, line, reason).
    fn errors(&self) -> Vec<(String, String, String)> {
        rows(&self.out.join("errors.csv"), &["source", "line", "reason"])
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect()
    }

    /// The error whose source ends with `file`; it must be both in `errors.csv` and on standard
    /// error, with the same line.
    fn error_for(&self, file: &str) -> (String, String) {
        let errors = self.errors();
        let found: Vec<_> = errors
            .iter()
            .filter(|(source, _, _)| source.ends_with(file))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one error for {file} in {errors:?}\nstderr: {}",
            self.stderr
        );
        let (source, line, reason) = found[0].clone();
        let location = if line.is_empty() {
            source
        } else {
            format!("{source}:{line}")
        };
        assert!(
            self.stderr
                .contains(&format!("vnner: {location}: {reason}")),
            "stderr names {location}: {reason}\nstderr: {}",
            self.stderr
        );
        (line, reason)
    }

    /// `(start, end, type, text)` of each mention of document `id`.
    fn mentions(&self, id: &str) -> Vec<(usize, usize, String, String)> {
        rows(
            &self.out.join("mentions.csv"),
            &["doc_id", "start", "end", "type", "text"],
        )
        .into_iter()
        .filter(|r| r[0] == id)
        .map(|r| {
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].clone(),
                r[4].clone(),
            )
        })
        .collect()
    }

    /// Document `id` was written with every mention the pipeline finds in `text`, once.
    fn assert_complete(&self, id: &str, text: &str) {
        let want: Vec<_> = pipeline()
            .annotate(text)
            .mentions
            .into_iter()
            .map(|m| (m.start, m.end, m.kind.to_string(), m.text.to_string()))
            .collect();
        assert!(!want.is_empty(), "the test document {id} has mentions");
        assert_eq!(
            self.mentions(id),
            want,
            "mentions of {id}\nstderr: {}",
            self.stderr
        );
    }

    /// No temporary (`.partial`) file is left in the output folder.
    fn assert_no_temporaries(&self) {
        let Ok(listing) = std::fs::read_dir(&self.out) else {
            return;
        };
        let left: Vec<_> = listing
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "temporary files left behind: {left:?}");
    }
}

/// Reads the named columns of a CSV file.
fn rows(path: &Path, columns: &[&str]) -> Vec<Vec<String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    let index: Vec<usize> = columns
        .iter()
        .map(|c| headers.iter().position(|h| h == *c).unwrap())
        .collect();
    reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| index.iter().map(|&i| r[i].to_string()).collect())
        .collect()
}

/// Runs `vnner annotate ARGS -o DIR/out -q`.
fn annotate(dir: &Path, args: &[&str]) -> Run {
    let out = dir.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_vnner"))
        .arg("annotate")
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .current_dir(dir)
        .output()
        .expect("vnner runs");
    Run::from(output, out)
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

fn json_line(id: &str, text: &str) -> String {
    format!("{}\n", serde_json::json!({ "id": id, "text": text }))
}

#[test]
fn invalid_utf8_names_the_byte_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/good.txt", GOOD);
    let mut bad = b"Dong 1\nDong 2 \xC3".to_vec();
    bad.extend_from_slice(b"(\n");
    write(dir.path(), "in/bad.txt", bad);
    let run = annotate(dir.path(), &["in"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let (line, reason) = run.error_for("bad.txt");
    assert_eq!(line, "2");
    assert!(reason.starts_with("invalid UTF-8 at byte 14 "), "{reason}");
    assert!(reason.contains("--encoding windows-1258"), "{reason}");
    run.assert_complete("good", GOOD);
}

/// Encodes NFC text as windows-1258: letters it has whole stay whole, others become a base
/// letter it has plus a combining tone mark, as old Vietnamese files are written.
fn windows_1258(text: &str) -> Vec<u8> {
    use unicode_normalization::char::{compose, decompose_canonical};
    let encoding = encoding_rs::WINDOWS_1258;
    let mut bytes = Vec::new();
    for c in text.chars() {
        let mut buffer = [0; 4];
        let (whole, _, unmappable) = encoding.encode(c.encode_utf8(&mut buffer));
        if !unmappable {
            bytes.extend_from_slice(&whole);
            continue;
        }
        let mut parts = Vec::new();
        decompose_canonical(c, |p| parts.push(p));
        let (tone, rest): (Vec<char>, Vec<char>) = parts
            .into_iter()
            .partition(|p| matches!(p, '\u{300}' | '\u{301}' | '\u{303}' | '\u{309}' | '\u{323}'));
        let base = rest[1..].iter().fold(rest[0], |b, &m| {
            compose(b, m).expect("a letter windows-1258 has")
        });
        let decomposed: String = std::iter::once(base).chain(tone).collect();
        let (encoded, _, unmappable) = encoding.encode(&decomposed);
        assert!(!unmappable, "{c} in windows-1258");
        bytes.extend_from_slice(&encoded);
    }
    bytes
}

#[test]
fn windows_1258_is_converted_with_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = windows_1258(GOOD);
    write(dir.path(), "old.txt", &bytes);
    let as_utf8 = annotate(dir.path(), &["old.txt"]);
    assert_eq!(as_utf8.code, Some(2), "{}", as_utf8.stderr);
    assert!(as_utf8
        .error_for("old.txt")
        .1
        .contains("--encoding windows-1258"));

    let run = annotate(dir.path(), &["old.txt", "--encoding", "windows-1258"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = encoding_rs::WINDOWS_1258.decode(&bytes).0;
    run.assert_complete("old", &text);
    let people: Vec<_> = run
        .mentions("old")
        .into_iter()
        .filter(|m| m.2 == "PER")
        .collect();
    assert_eq!(vnner::text::display_form(&people[0].3), "Lưu Văn Dương");
}

#[test]
fn empty_files_are_empty_documents_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/empty.txt", "");
    write(dir.path(), "in/blank.txt", " \n\u{a0}\n");
    write(dir.path(), "in/empty.jsonl", "");
    write(dir.path(), "in/empty.csv", "");
    write(dir.path(), "in/header-only.csv", "id,text\n");
    write(dir.path(), "in/good.txt", GOOD);
    let run = annotate(dir.path(), &["in"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.errors(), vec![]);
    assert!(!run.stderr.contains("vnner:"), "{}", run.stderr);
    run.assert_complete("good", GOOD);
}

#[test]
fn binary_and_utf16_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/a-good.txt", GOOD);
    write(
        dir.path(),
        "in/image.txt",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0",
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(GOOD.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    write(dir.path(), "in/utf16.txt", utf16);
    write(dir.path(), "in/z-other.txt", OTHER);
    let run = annotate(dir.path(), &["in"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.error_for("image.txt").1.contains("binary file"));
    assert!(run.error_for("utf16.txt").1.contains("UTF-16"));
    run.assert_complete("a-good", GOOD);
    run.assert_complete("z-other", OTHER);
}

/// A 100 MB line (a database dump pasted into one article, say) is refused without being held in
/// memory, and the documents around it are read.
#[test]
fn a_100_mb_line_is_refused_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let sentence = format!("{GOOD} ");
    let huge = sentence.repeat(100_000_000 / sentence.len() + 1);
    write(dir.path(), "in/a-good.txt", GOOD);
    write(dir.path(), "in/huge.txt", &huge);
    let mut jsonl = json_line("first", GOOD);
    jsonl.push_str(&json_line("huge", &huge));
    jsonl.push_str(&json_line("last", OTHER));
    drop(huge);
    write(dir.path(), "in/news.jsonl", jsonl);
    let started = Instant::now();
    let run = annotate(dir.path(), &["in"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let (line, reason) = run.error_for("huge.txt");
    assert_eq!(line, "");
    assert!(
        reason.contains("over the limit of 67108864") && reason.contains("--max-doc-bytes"),
        "{reason}"
    );
    let (line, reason) = run.error_for("news.jsonl");
    assert_eq!(line, "2");
    let length: usize = reason
        .strip_prefix("the line is ")
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 100_000_000, "{reason}");
    run.assert_complete("a-good", GOOD);
    run.assert_complete("first", GOOD);
    run.assert_complete("last", OTHER);
}

#[test]
fn documents_over_a_lowered_limit_are_refused_and_those_at_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let fits = json_line("fits", GOOD);
    let limit = fits.len() - 1;
    let padded = |bytes: usize| format!("{GOOD}{}", " ".repeat(bytes - GOOD.len()));
    write(dir.path(), "in/exact.txt", padded(limit));
    write(dir.path(), "in/long.txt", padded(limit + 1));
    write(
        dir.path(),
        "in/news.jsonl",
        format!("{fits}{}", json_line("long", &format!("{GOOD}!"))),
    );
    let run = annotate(dir.path(), &["in", "--max-doc-bytes", &limit.to_string()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.error_for("long.txt").1.contains("over the limit"));
    assert_eq!(run.error_for("news.jsonl").0, "2");
    run.assert_complete("exact", &padded(limit));
    run.assert_complete("fits", GOOD);

    let refused = annotate(dir.path(), &["in", "--max-doc-bytes", "2G"]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--max-doc-bytes"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_broken_json_line_is_named_and_the_others_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = json_line("one", GOOD);
    jsonl.push_str("{\"id\": \"two\", \"text\": \"unterminated\n");
    jsonl.push('\n');
    jsonl.push_str("{\"id\": \"four\"}\n");
    let mut bytes = jsonl.into_bytes();
    bytes.extend_from_slice(b"{\"id\": \"five\", \"text\": \"\xFF\"}\n");
    bytes.extend_from_slice(json_line("six", OTHER).as_bytes());
    write(dir.path(), "news.jsonl", &bytes);
    let run = annotate(dir.path(), &["news.jsonl"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let lines: Vec<_> = run
        .errors()
        .into_iter()
        .map(|(_, line, reason)| (line, reason))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0].0, "2");
    assert!(
        lines[0].1
            == "not a JSON object with \"id\" and \"text\" (column 35: EOF while parsing a string)",
        "{}",
        lines[0].1
    );
    assert_eq!(lines[1], ("4".into(), "no \"text\" field".into()));
    assert_eq!(lines[2].0, "5");
    let fifth = bytes.iter().position(|&b| b == 0xFF).unwrap();
    assert!(
        lines[2].1.starts_with(&format!(
            "invalid UTF-8 at byte {fifth} (byte 24 of the line"
        )),
        "{}",
        lines[2].1
    );
    run.assert_complete("one", GOOD);
    run.assert_complete("six", OTHER);
}

#[test]
fn broken_csv_quoting_is_named_and_the_other_rows_read() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "id,text\n\
         one,\"{GOOD}\"\n\
         two,{GOOD}, with an unquoted comma\n\
         three,\"{OTHER} \"\"quoted\"\" and\nspread over two lines\"\n\
         four,\"{GOOD} never closed\n\
         five,{OTHER}\n"
    );
    write(dir.path(), "news.csv", csv);
    let run = annotate(dir.path(), &["news.csv"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let errors: Vec<_> = run
        .errors()
        .into_iter()
        .map(|(_, line, reason)| (line, reason))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "3");
    assert!(
        errors[0]
            .1
            .starts_with("the row has 3 fields but the header has 2"),
        "{}",
        errors[0].1
    );
    assert_eq!(errors[1].0, "6");
    assert!(errors[1].1.contains("never closed"), "{}", errors[1].1);
    run.assert_complete("one", GOOD);
    run.assert_complete(
        "three",
        &format!("{OTHER} \"quoted\" and\nspread over two lines"),
    );
    assert!(run.mentions("four").is_empty() && run.mentions("five").is_empty());
}

#[test]
fn a_csv_without_a_text_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/a.csv", format!("id,body\n1,\"{GOOD}\"\n"));
    write(dir.path(), "in/b.txt", GOOD);
    let run = annotate(dir.path(), &["in"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.error_for("a.csv"),
        ("1".into(), "the CSV header has no `text` column".into())
    );
    run.assert_complete("b", GOOD);

    let alone = annotate(dir.path(), &["in/a.csv"]);
    assert_eq!(alone.code, Some(2), "nothing could run: {}", alone.stderr);
}

#[test]
fn an_unreadable_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/a.txt", GOOD);
    let locked = write(dir.path(), "in/locked.txt", OTHER);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        // Running as root, which reads anything: use a file whose reads fail instead.
        std::fs::remove_file(&locked).unwrap();
        std::os::unix::fs::symlink("/proc/self/mem", &locked).unwrap();
    }
    write(dir.path(), "in/z.txt", OTHER);
    let run = annotate(dir.path(), &["in"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let (line, reason) = run.error_for("locked.txt");
    assert_eq!(line, "");
    assert!(
        reason.contains("denied") || reason.contains("error"),
        "{reason}"
    );
    run.assert_complete("a", GOOD);
    run.assert_complete("z", OTHER);
}

#[test]
fn a_symlink_loop_is_named_and_each_document_read_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/a.txt", GOOD);
    write(dir.path(), "in/sub/b.txt", OTHER);
    symlink("..", dir.path().join("in/sub/up")).unwrap();
    symlink("self.txt", dir.path().join("in/self.txt")).unwrap();
    // Not a loop: a second way into a folder already read, read once, silently.
    symlink("sub", dir.path().join("in/also-sub")).unwrap();
    let run = annotate(dir.path(), &["in"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.error_for("sub/up").1.starts_with("symbolic link loop"));
    assert!(run
        .error_for("self.txt")
        .1
        .to_lowercase()
        .contains("symbolic links"));
    assert_eq!(run.errors().len(), 2);
    run.assert_complete("a", GOOD);
    // Through `also-sub`, which sorts first.
    run.assert_complete("also-sub/b", OTHER);
    assert!(run.mentions("sub/b").is_empty());
}

#[test]
fn a_missing_input_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", GOOD);
    let run = annotate(dir.path(), &["missing.jsonl", "good.txt"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.error_for("missing.jsonl").1.contains("No such file"));
    run.assert_complete("good", GOOD);

    let alone = annotate(dir.path(), &["missing.jsonl"]);
    assert_eq!(alone.code, Some(2), "{}", alone.stderr);
}

#[test]
fn an_unwritable_output_folder_stops_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", GOOD);
    let file = write(
        dir.path(),
        "taken",
        "a file where the output folder should go",
    );
    for out in [file.clone(), file.join("out")] {
        let output = Command::new(env!("CARGO_BIN_EXE_vnner"))
            .args(["annotate", "good.txt", "-q", "-o"])
            .arg(&out)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("vnner: cannot write to {}", out.display())),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "nothing written"
    );
}

#[test]
fn a_bad_gazetteer_line_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", GOOD);
    write(
        dir.path(),
        "mine.tsv",
        "# my province\nsurface\tkind\nTrực Ninh\tplace\n\tplace\n",
    );
    let run = annotate(dir.path(), &["good.txt", "--gazetteer", "mine.tsv"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("vnner: mine.tsv:4: gazetteer: "),
        "{}",
        run.stderr
    );
    assert!(
        !run.out.exists(),
        "no output for a run that could not start"
    );
}

#[test]
fn a_bad_rule_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", GOOD);
    write(
        dir.path(),
        "rules/10-mine.rules",
        "phase mine\n\nname.run: (Name+ => capname\n",
    );
    let run = annotate(dir.path(), &["good.txt", "--rules", "rules"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("vnner: rules/10-mine.rules:3: rule: "),
        "{}",
        run.stderr
    );
    assert!(!run.out.exists());
}

/// Ctrl-C during a run: the output is abandoned and its temporary files removed, a previous
/// run's complete files are left as they were, and the exit code is 130.
#[test]
fn ctrl_c_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    write(dir.path(), "out/mentions.csv", "from an earlier run\n");
    for presses in [1, 2] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vnner"))
            .args(["annotate", "-", "-q", "-o"])
            .arg(&out)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(json_line("one", GOOD).as_bytes()).unwrap();
        stdin.flush().unwrap();
        let partial = out.join(".mentions.csv.partial");
        let waited = Instant::now();
        while !partial.exists() {
            assert!(
                waited.elapsed() < Duration::from_secs(30),
                "the run started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader is now blocked on standard input; the handler is installed before reading.
        std::thread::sleep(Duration::from_millis(200));
        for _ in 0..presses {
            let kill = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(kill.success());
            std::thread::sleep(Duration::from_millis(200));
        }
        // After one press the run stops at the next document; after two it has already exited.
        let _ = stdin.write_all(json_line("two", OTHER).as_bytes());
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        let run = Run::from(output, out.clone());
        assert_eq!(run.code, Some(130), "{presses} presses: {}", run.stderr);
        run.assert_no_temporaries();
        assert_eq!(
            std::fs::read_to_string(out.join("mentions.csv")).unwrap(),
            "from an earlier run\n"
        );
        assert!(!out.join("errors.csv").exists());
    }
}

/// Everything at once, as in a real archive: one run, every problem named, every good document
/// complete.
#[test]
fn an_archive_of_broken_files_loses_no_good_document() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/2019/a.txt", GOOD);
    write(dir.path(), "in/2019/bad.txt", b"\xFE\xED");
    write(dir.path(), "in/2020/empty.txt", "");
    write(
        dir.path(),
        "in/2020/news.jsonl",
        format!(
            "{}{{broken\n{}",
            json_line("j1", OTHER),
            json_line("j2", GOOD)
        ),
    );
    write(
        dir.path(),
        "in/2021/news.csv",
        format!("id,text\nc1,\"{OTHER}\"\nc2,\"open\n"),
    );
    write(dir.path(), "in/2021/blob.txt", [0u8; 64]);
    std::os::unix::fs::symlink("..", dir.path().join("in/2021/loop")).unwrap();
    let run = annotate(dir.path(), &["in", "missing"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let mut sources: Vec<_> = run
        .errors()
        .into_iter()
        .map(|(source, line, _)| format!("{source}:{line}"))
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "in/2019/bad.txt:1",
            "in/2020/news.jsonl:2",
            "in/2021/blob.txt:",
            "in/2021/loop:",
            "in/2021/news.csv:3",
            "missing:"
        ]
    );
    run.assert_complete("2019/a", GOOD);
    run.assert_complete("j1", OTHER);
    run.assert_complete("j2", GOOD);
    run.assert_complete("c1", OTHER);
    run.assert_no_temporaries();
}

#[test]
fn streaming_answers_a_broken_line_with_an_error_record_and_exit_0() {
    let input = format!(
        "{}{{broken\n{}",
        json_line("a", GOOD),
        json_line("b", OTHER)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_vnner"))
        .args(["annotate", "-", "-o", "-", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vnner starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    let output = child.wait_with_output().expect("vnner ends");
    assert_eq!(output.status.code(), Some(0));
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["a", "-:2", "b"]);
    assert!(records[1]["error"].is_string());
    assert!(!records[0]["mentions"]
        .as_array()
        .expect("mentions")
        .is_empty());
}

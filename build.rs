//! Embeds every gazetteer (`gazetteers/**/*.tsv`) and rule file (`rules/*.rules`) into the
//! binary, so `vnner` works with no files around and adding a file needs no code change.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn table(root: &Path, dir: &str, ext: &str) -> String {
    let mut files = Vec::new();
    collect(&root.join(dir), ext, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for file in files {
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push(']');
    code
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=gazetteers");
    println!("cargo:rerun-if-changed=rules");
    let code = format!(
        "/// Built-in gazetteer files: (path, contents).\npub static GAZETTEERS: &[(&str, &str)] = {};\n\
         /// Built-in rule files: (path, contents).\npub static RULES: &[(&str, &str)] = {};\n",
        table(&root, "gazetteers", "tsv"),
        table(&root, "rules", "rules"),
    );
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}

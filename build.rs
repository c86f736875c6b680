//! Compiles `rules/*.toml` and the names of `runbooks/*.md` into the binaries: a Lambda package
//! holds only `bootstrap`, so nothing can be read from disk at run time.

use std::fmt::Write as _;
use std::path::Path;

fn sorted_files(dir: &Path, extension: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().and_then(|e| e.to_str()) == Some(extension))
        .collect();
    files.sort();
    files
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = root.join("rules");
    let runbooks = root.join("runbooks");
    println!("cargo:rerun-if-changed={}", rules.display());
    println!("cargo:rerun-if-changed={}", runbooks.display());

    let mut out = String::from("pub static RULE_FILES: &[(&str, &str)] = &[\n");
    for path in sorted_files(&rules, "toml") {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\npub static RUNBOOKS: &[&str] = &[\n");
    for path in sorted_files(&runbooks, "md") {
        let stem = path.file_stem().unwrap().to_string_lossy();
        if stem != "README" {
            writeln!(out, "    {stem:?},").unwrap();
        }
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(target, out).unwrap();
}

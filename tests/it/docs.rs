//! completions/ and man/ are generated from the clap definitions; this fails when they are stale
//! (fix: scripts/gen-docs).

use crate::support::*;

const COMPLETIONS: &[(&str, &str)] = &[
    ("bash", "completions/ldstore.bash"),
    ("zsh", "completions/_ldstore"),
    ("fish", "completions/ldstore.fish"),
    ("powershell", "completions/_ldstore.ps1"),
    ("elvish", "completions/ldstore.elv"),
];

#[test]
fn completions_are_up_to_date() {
    for (shell, file) in COMPLETIONS {
        let o = run(ldstore().args(["completions", shell]));
        assert_code(&o, 0);
        let committed = std::fs::read(repo_path(file)).unwrap_or_default();
        assert!(o.stdout == committed, "{file} is stale: run scripts/gen-docs");
    }
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(ldstore().args(["man", "--dir"]).arg(dir.path()));
    assert_code(&o, 0);
    let mut generated: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    generated.sort();
    let mut committed: Vec<String> = std::fs::read_dir(repo_path("man"))
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    committed.sort();
    assert_eq!(generated, committed, "man/ has a different set of pages: run scripts/gen-docs");
    assert!(generated.contains(&"ldstore.1".to_string()) && generated.contains(&"ldstore-sync.1".to_string()));
    for name in generated {
        let a = std::fs::read(dir.path().join(&name)).unwrap();
        let b = std::fs::read(repo_path("man").join(&name)).unwrap();
        assert!(a == b, "man/{name} is stale: run scripts/gen-docs");
    }
}

/// docs/fault-matrix.md names a test for every fault: each `file::function` it names (in full,
/// not shortened with `…`) is a function in tests/it/<file>.rs, so the matrix cannot drift.
#[test]
fn the_fault_matrix_names_tests_that_exist() {
    let doc = std::fs::read_to_string(repo_path("docs/fault-matrix.md")).unwrap();
    let mut checked = 0;
    for cell in doc.split('`') {
        let Some((file, rest)) = cell.split_once("::") else { continue };
        if rest.ends_with('…') || rest.ends_with('*') || !file.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        let function = rest.rsplit("::").next().unwrap();
        let source = std::fs::read_to_string(repo_path(&format!("tests/it/{file}.rs")))
            .unwrap_or_else(|e| panic!("docs/fault-matrix.md names {cell}: tests/it/{file}.rs: {e}"));
        assert!(source.contains(&format!("fn {function}(")), "docs/fault-matrix.md names {cell}, which does not exist");
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} test names found in docs/fault-matrix.md");
}

//! Dependency hygiene: `scripts/check-deps` (run by `scripts/test`) fails on a dependency that no
//! source file uses.

use std::process::Command;

use crate::support::*;

fn check_deps(dir: &std::path::Path) -> std::process::Output {
    Command::new(repo_path("scripts/check-deps")).arg(dir).output().expect("run scripts/check-deps")
}

#[test]
fn every_dependency_is_used() {
    let o = check_deps(&repo_path(""));
    assert!(o.status.success(), "scripts/check-deps failed:\n{}", stderr(&o));
}

#[test]
fn an_unused_dependency_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::create_dir_all(d.join("tests")).unwrap();
    let manifest = |extra: &str| {
        format!(
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[dependencies]\nanyhow = \"1\"\nserde = {{ version = \"1\", features = [\"derive\"] }}\nsha2 = \"0.10\"\nis-terminal = \"0.4\"\n\n[dependencies.tokio]\nversion = \"1\"\n\n[dev-dependencies]\ntempfile = \"3\"\n{extra}"
        )
    };
    std::fs::write(d.join("Cargo.toml"), manifest("")).unwrap();
    // Used: as a path, in `use`; named only in comments: not used. (The paths are put together
    // here so that this file does not name the crates itself.)
    let path = |krate: &str, item: &str| format!("{krate}::{item}");
    let lib = format!(
        "use {};\n// {} is not used any more\n/// {}\npub fn f() -> {}<()> {{ {}(async {{}}); Ok(()) }}\n",
        path("serde", "Serialize"),
        path("sha2", "Sha256"),
        path("is_terminal", "IsTerminal"),
        path("anyhow", "Result"),
        path("tokio", "spawn"),
    );
    std::fs::write(d.join("src/lib.rs"), lib).unwrap();
    std::fs::write(d.join("tests/t.rs"), format!("// {}()\n", path("tempfile", "tempdir"))).unwrap();
    let o = check_deps(d);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("unused dependencies in Cargo.toml"), "{err}");
    for unused in ["sha2 ([dependencies])", "is-terminal ([dependencies])", "tempfile ([dev-dependencies])"] {
        assert!(err.contains(unused), "{unused} not named:\n{err}");
    }
    for used in ["anyhow", "serde ", "tokio"] {
        assert!(!err.contains(used), "{used} named:\n{err}");
    }
    // Used, or listed as needed without being named in code: the check passes.
    std::fs::write(d.join("tests/t.rs"), format!("fn t() {{ let _ = {}(); }}\n", path("tempfile", "tempdir"))).unwrap();
    std::fs::write(
        d.join("Cargo.toml"),
        manifest("\n[package.metadata.cargo-machete]\n# both needed for their features only\nignored = [\"sha2\", \"is-terminal\"]\n"),
    )
    .unwrap();
    let o = check_deps(d);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The README and docs/ stand alone: every relative link points at a file in the repository, and
/// nothing points outside it (users do not have the project's working notes).
#[test]
fn readme_and_docs_stand_alone() {
    let root = repo_path("");
    let mut pages = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).expect("docs/ exists") {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    assert!(pages.iter().any(|p| p.ends_with("docs/store-layout.md")), "{pages:?}");
    let root = root.canonicalize().unwrap();
    let mut problems = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let name = page.strip_prefix(&root).unwrap_or(page).display().to_string();
        for (n, line) in text.lines().enumerate() {
            if line.contains("shared/spec") || line.contains("`../") {
                problems.push(format!("{name}:{}: points outside the repository: {line}", n + 1));
            }
            for part in line.split("](").skip(1) {
                let target = part.split(')').next().unwrap_or("");
                if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                    continue;
                }
                let file = target.split('#').next().unwrap();
                let resolved = page.parent().unwrap().join(file);
                match resolved.canonicalize() {
                    Ok(p) if p.starts_with(&root) => {}
                    _ => {
                        problems.push(format!("{name}:{}: link to {target} leaves the repository or is missing", n + 1))
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("](docs/store-layout.md)"), "the README links docs/store-layout.md");
    assert!(readme.contains("## Install") && readme.contains("cargo install --locked --path ."));
}

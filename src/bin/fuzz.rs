//! `ldstore-fuzz`: the stable-toolchain driver of ldstore's fuzz targets (`scripts/fuzz` builds and
//! runs it; feature `fuzz`).
//!
//!   ldstore-fuzz --list
//!   ldstore-fuzz TARGET [--seconds N | --inputs N] [--seed N] [--max-len N] [--artifacts DIR]
//!   ldstore-fuzz TARGET --replay FILE…      run these inputs once each (a crash is reproduced)
//!
//! One line per run: `TARGET: N executions in S s (R/s), K distinct crashes`, then each crash's
//! message and saved input. Exit status 1 when a crash was found, 3 on a hang.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ldstore::fuzz::{self, Limits};

fn main() {
    std::process::exit(match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ldstore-fuzz: error: {e}");
            2
        }
    })
}

fn run() -> Result<i32, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_none_or(|a| a == "--list" || a == "-h" || a == "--help") {
        for t in fuzz::TARGETS {
            println!("{:<12} {}", t.name, t.about);
        }
        return Ok(0);
    }
    let target = fuzz::target(&args[0]).ok_or_else(|| format!("no fuzz target {:?} (see --list)", args[0]))?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut limits = Limits { inputs: None, time: Some(Duration::from_secs(10)), ..Limits::default() };
    limits.artifacts = Some(root.join("fuzz").join("artifacts"));
    limits.forget_secrets = true;
    let mut replay: Vec<PathBuf> = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| it.next().cloned().ok_or_else(|| format!("{a} needs {what}"));
        let number = |v: String| v.parse::<u64>().map_err(|_| format!("{a}: not a number: {v:?}"));
        match a.as_str() {
            "--seconds" => (limits.time, limits.inputs) = (Some(Duration::from_secs(number(value("seconds")?)?)), None),
            "--inputs" => (limits.inputs, limits.time) = (Some(number(value("a count")?)?), None),
            "--seed" => limits.seed = number(value("a number")?)?,
            "--max-len" => limits.max_len = number(value("bytes")?)? as usize,
            "--artifacts" => limits.artifacts = Some(value("a directory")?.into()),
            "--replay" => replay.extend(it.by_ref().map(PathBuf::from)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let (corpus, limits) = if replay.is_empty() {
        let corpus = fuzz::seed_corpus(root, target.name).map_err(|e| format!("{}: seed corpus: {e}", target.name))?;
        (corpus, limits)
    } else {
        let inputs = replay.iter().map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())));
        (inputs.collect::<Result<Vec<_>, _>>()?, Limits { inputs: Some(0), time: None, artifacts: None, ..limits })
    };
    let report = fuzz::fuzz(target, &corpus, &limits);
    let secs = report.elapsed.as_secs_f64();
    println!(
        "{}: {} executions in {:.0} s ({:.0}/s), slowest input {:?}, {} distinct crashes",
        target.name,
        report.executions,
        secs,
        report.executions as f64 / secs.max(1e-9),
        report.slowest,
        report.crashes.len()
    );
    for c in report.crashes.values() {
        println!("  CRASH x{}: {}", c.count, c.message.lines().next().unwrap_or_default());
        if let Some(p) = &c.saved {
            println!("    input: {}", p.display());
        }
    }
    Ok(if report.crashes.is_empty() { 0 } else { 1 })
}

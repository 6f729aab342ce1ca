//! Fuzz targets for every parser that takes outside input, and a small stable-toolchain driver for
//! them (issue #21, section 3).
//!
//! Each target is a plain `fn(&[u8])` that panics on a finding (a panic of the code under test, or
//! a broken invariant such as the one-pass JSON scanner disagreeing with serde_json). The same
//! functions are driven three ways:
//! - `scripts/fuzz [SECONDS_PER_TARGET] [TARGET…]` runs the stable driver ([`fuzz`], binary
//!   `ldstore-fuzz`, feature `fuzz`): inputs made by mutating the committed seed corpus
//!   (`fuzz/corpus/<target>/`) with a seeded PRNG, no coverage feedback;
//! - `fuzz/` is a cargo-fuzz (libFuzzer) crate with one target per entry of [`TARGETS`], for a
//!   nightly toolchain (`cargo +nightly fuzz run <target> fuzz/corpus/<target>`);
//! - `cargo test --lib` runs every target over its seed corpus and a fixed number of mutated
//!   inputs (the smoke test below), so the targets always build and run.

mod targets;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One fuzz target: a parser of outside input and the invariants it must keep.
pub struct Target {
    pub name: &'static str,
    /// What it feeds and checks (shown by `ldstore-fuzz --list`).
    pub about: &'static str,
    pub run: fn(&[u8]),
    /// Tokens the mutator inserts (the syntax of the input).
    pub dictionary: &'static [&'static str],
}

/// Every target, in the order `scripts/fuzz` runs them.
pub const TARGETS: &[Target] = targets::TARGETS;

/// The target of this name.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Run one input through the target of this name (the entry point of the cargo-fuzz targets).
pub fn run_one(name: &str, data: &[u8]) {
    let t = target(name).unwrap_or_else(|| panic!("no fuzz target {name}"));
    (t.run)(data);
}

/// The committed seed corpus of a target: `fuzz/corpus/<target>/*`, sorted by name.
pub fn seed_corpus(root: &Path, target: &str) -> std::io::Result<Vec<Vec<u8>>> {
    let dir = root.join("fuzz").join("corpus").join(target);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    names.sort();
    names.iter().filter(|p| p.is_file()).map(std::fs::read).collect()
}

/// How long and how a driver run goes.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Stop after this much time...
    pub time: Option<Duration>,
    /// ...or after this many generated inputs (the seed corpus is run first, always).
    pub inputs: Option<u64>,
    pub seed: u64,
    /// The largest input generated.
    pub max_len: usize,
    /// One input running longer than this is a hang (reported, and the run stops).
    pub hang: Duration,
    /// Where crashing inputs are written (`<dir>/<target>/crash-<hash>`), if anywhere.
    pub artifacts: Option<PathBuf>,
    /// `true`: register the secrets the inputs hold, as ldstore does, and forget them once there
    /// are many (a long run registers a password per input); for a process of its own. `false`:
    /// register none (the unit tests share the registry).
    pub forget_secrets: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: None,
            inputs: Some(1000),
            seed: 1,
            max_len: 16 * 1024,
            hang: Duration::from_secs(10),
            artifacts: None,
            forget_secrets: false,
        }
    }
}

/// A distinct crash: its panic message (with location), how often it was hit, the smallest input.
#[derive(Debug, Clone)]
pub struct Crash {
    pub message: String,
    pub count: u64,
    pub input: Vec<u8>,
    pub saved: Option<PathBuf>,
}

/// What a driver run did.
#[derive(Debug, Default)]
pub struct Report {
    pub executions: u64,
    pub elapsed: Duration,
    /// By panic message.
    pub crashes: BTreeMap<String, Crash>,
    /// The slowest input's time.
    pub slowest: Duration,
}

thread_local! {
    /// Set while this thread runs a target: its panics are recorded here, not printed.
    static IN_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A panic hook (installed once) that records the panics of a running target (message and
/// location) and leaves every other panic to the hook there was before.
fn record_target_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_TARGET.with(|t| t.get()) {
                return previous(info);
            }
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{at}: {msg}")));
        }));
    });
}

/// Run a target over `corpus` (each input as it is), then over inputs made by mutating it, within
/// `limits`. Crashes are collected (and saved), not fatal; a hang stops the run.
pub fn fuzz(target: &Target, corpus: &[Vec<u8>], limits: &Limits) -> Report {
    record_target_panics();
    let mut report = Report::default();
    let started = Instant::now();
    let mut r = StdRng::seed_from_u64(limits.seed);
    let mut pool: Vec<Vec<u8>> = if corpus.is_empty() { vec![Vec::new()] } else { corpus.to_vec() };
    // A watchdog for hangs: the start of the running input (ms since `started`, 0 = none).
    let running = Arc::new(AtomicU64::new(0));
    let current: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicU64::new(0));
    let watchdog = {
        let (running, done, current, hang, artifacts, name) =
            (running.clone(), done.clone(), current.clone(), limits.hang, limits.artifacts.clone(), target.name);
        std::thread::spawn(move || {
            while done.load(Ordering::Relaxed) == 0 {
                std::thread::sleep(Duration::from_millis(200));
                let since = running.load(Ordering::Relaxed);
                if since != 0 && started.elapsed().as_millis() as u64 > since + hang.as_millis() as u64 {
                    // The input cannot be stopped: save it, say so, and end the process.
                    let input = current.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let saved = save(artifacts.as_deref(), name, "hang", &input);
                    eprintln!(
                        "ldstore-fuzz: {name}: HANG: one input ran longer than {hang:?} ({} bytes{})",
                        input.len(),
                        saved.map(|p| format!(", saved as {}", p.display())).unwrap_or_default()
                    );
                    std::process::exit(3);
                }
            }
        })
    };
    let mut i = 0u64;
    loop {
        let input = if (i as usize) < pool.len().min(corpus.len()) {
            pool[i as usize].clone()
        } else {
            let generated = i - corpus.len() as u64;
            if limits.inputs.is_some_and(|n| generated >= n) || limits.time.is_some_and(|t| started.elapsed() >= t) {
                break;
            }
            mutate(&mut r, &pool, target.dictionary, limits.max_len)
        };
        i += 1;
        *current.lock().unwrap_or_else(|e| e.into_inner()) = input.clone();
        let t0 = Instant::now();
        running.store(started.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        IN_TARGET.with(|t| t.set(true));
        crate::secrets::skip_registration_on_this_thread(!limits.forget_secrets);
        let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        crate::secrets::skip_registration_on_this_thread(false);
        IN_TARGET.with(|t| t.set(false));
        running.store(0, Ordering::Relaxed);
        report.slowest = report.slowest.max(t0.elapsed());
        report.executions += 1;
        if limits.forget_secrets {
            crate::secrets::forget_if_many();
        }
        if outcome.is_err() {
            let message = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "(no message)".into());
            // One entry per panic site: the first line of the message names it well enough.
            let site = message.lines().next().unwrap_or_default().chars().take(300).collect::<String>();
            let c = report.crashes.entry(site).or_insert_with(|| Crash {
                message: message.clone(),
                count: 0,
                input: input.clone(),
                saved: None,
            });
            c.count += 1;
            // The first input found, then any shorter one.
            if c.count == 1 || input.len() < c.input.len() {
                c.input = input.clone();
                c.message = message;
                c.saved = save(limits.artifacts.as_deref(), target.name, "crash", &input);
            }
        } else if pool.len() < 4096 && r.random_ratio(1, 64) {
            // No coverage to tell what is interesting: keep a few mutants to mutate further.
            pool.push(input);
        }
    }
    done.store(1, Ordering::Relaxed);
    let _ = watchdog.join();
    report.elapsed = started.elapsed();
    report
}

/// Write an input to `<dir>/<target>/<what>-<hash>`.
fn save(dir: Option<&Path>, target: &str, what: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = dir?.join(target);
    std::fs::create_dir_all(&dir).ok()?;
    // FNV-1a: a stable name for the same input.
    let h = input.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
    let path = dir.join(format!("{what}-{h:016x}"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// A new input: one from the pool with 1 to 8 random changes (bytes flipped, set, inserted,
/// deleted, duplicated, dictionary tokens inserted, a piece of another input spliced in, cut).
pub fn mutate(r: &mut StdRng, pool: &[Vec<u8>], dictionary: &[&str], max_len: usize) -> Vec<u8> {
    const INTERESTING: &[u8] = &[0, 1, 0x7f, 0x80, 0xff, b'\n', b'\r', b'"', b'\\', b'{', b'}', b'[', b']', b':', b','];
    let mut out = pool[r.random_range(0..pool.len())].clone();
    for _ in 0..r.random_range(1..=8) {
        let len = out.len();
        let at = r.random_range(0..=len);
        match r.random_range(0..10) {
            0 if len > 0 => {
                let i = r.random_range(0..len);
                out[i] ^= 1 << r.random_range(0..8);
            }
            1 if len > 0 => {
                let i = r.random_range(0..len);
                out[i] = INTERESTING[r.random_range(0..INTERESTING.len())];
            }
            2 => {
                let n = r.random_range(1..=4);
                for _ in 0..n {
                    out.insert(at.min(out.len()), r.random());
                }
            }
            3 if len > 0 => {
                let end = (at + r.random_range(1..=16)).min(len);
                out.drain(at.min(len)..end);
            }
            4 if len > 0 => {
                // A piece repeated (deep nesting, long runs).
                let start = r.random_range(0..len);
                let end = (start + r.random_range(1..=32)).min(len);
                let piece = out[start..end].to_vec();
                for _ in 0..r.random_range(1..=8) {
                    let at = at.min(out.len());
                    out.splice(at..at, piece.iter().copied());
                }
            }
            5..=7 if !dictionary.is_empty() => {
                let token = dictionary[r.random_range(0..dictionary.len())].as_bytes();
                let at = at.min(out.len());
                out.splice(at..at, token.iter().copied());
            }
            8 => {
                let other = &pool[r.random_range(0..pool.len())];
                if !other.is_empty() {
                    let start = r.random_range(0..other.len());
                    let end = (start + r.random_range(1..=64)).min(other.len());
                    let at = at.min(out.len());
                    out.splice(at..at, other[start..end].iter().copied());
                }
            }
            9 if len > 0 => out.truncate(r.random_range(0..len)),
            _ => {}
        }
    }
    out.truncate(max_len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target over its committed seed corpus and a few hundred mutated inputs: no crash, no
    /// hang. Proves the targets still build and run (the long runs are `scripts/fuzz`).
    #[test]
    fn every_fuzz_target_runs_its_corpus_without_a_finding() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for t in TARGETS {
            let corpus = seed_corpus(root, t.name).unwrap_or_else(|e| panic!("{}: seed corpus: {e}", t.name));
            assert!(!corpus.is_empty(), "{}: empty seed corpus", t.name);
            let limits = Limits { inputs: Some(300), seed: 7, ..Limits::default() };
            let report = fuzz(t, &corpus, &limits);
            assert_eq!(report.executions, corpus.len() as u64 + 300, "{}", t.name);
            let found: Vec<String> = report
                .crashes
                .values()
                .map(|c| format!("{} ({:?})", c.message, String::from_utf8_lossy(&c.input)))
                .collect();
            assert!(found.is_empty(), "{}: {found:#?}", t.name);
        }
    }

    /// A panicking target is caught, counted once per site, and the run goes on.
    #[test]
    fn the_driver_collects_crashes_and_goes_on() {
        fn boom(data: &[u8]) {
            if data.first() == Some(&b'x') {
                panic!("found x");
            }
        }
        let t = Target { name: "boom", about: "", run: boom, dictionary: &["x"] };
        let report = fuzz(&t, &[b"ab".to_vec(), b"x".to_vec()], &Limits { inputs: Some(200), ..Limits::default() });
        assert_eq!(report.executions, 202);
        assert_eq!(report.crashes.len(), 1, "{:?}", report.crashes);
        let c = report.crashes.values().next().unwrap();
        assert!(c.message.contains("found x"), "{}", c.message);
        assert_eq!(c.input, b"x");
    }
}

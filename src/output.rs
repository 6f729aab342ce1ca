//! Output files: how ldstore writes what it was asked to write (`dump -o`, `man --dir`, standard
//! output), whatever the path names.
//!
//! - A regular file (or a path that does not exist yet) is written atomically: a new file beside it,
//!   synced, then renamed over it (its permissions are kept), so a failed write never leaves half a
//!   file.
//! - A symbolic link is followed and its target written by these rules (the link stays a link);
//!   links into `/proc` (`/dev/stdout`, `/dev/fd/N`) name open files and are written through.
//! - Anything else (a character or block device such as `/dev/null` or `/dev/full`, a FIFO) is
//!   written through: opened for writing, never replaced.
//! - A write error (disk full...) is one line naming the file and the OS error, exit 2. A reader that
//!   goes away early (a broken pipe: standard output or a FIFO) is not an error.

use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exit::UsageError;

/// Symbolic links followed before giving up (as Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Whether a written-through file is opened for appending: only an open file named through `/proc`
/// (what `>>` asked for stays appended to); a block device opened for appending would be written
/// past its end.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Append {
    Yes,
    No,
}

/// What a path turned out to be, after following symbolic links.
#[derive(Debug)]
enum Target {
    /// Nothing there yet: created atomically.
    Missing(PathBuf),
    /// A regular file: replaced atomically, keeping its permissions.
    Regular(PathBuf, Permissions),
    /// A device or FIFO: written through (appending for an open file named through `/proc`).
    Through(PathBuf, Append),
}

/// "cannot write FILE: reason" (exit 2), naming the link's target when the path was a link.
fn cannot_write(given: &Path, real: &Path, reason: impl std::fmt::Display) -> anyhow::Error {
    let name = if given == real {
        given.display().to_string()
    } else {
        format!("{} (a link to {})", given.display(), real.display())
    };
    UsageError::new(format!("cannot write {name}: {reason}")).into()
}

/// Follow symbolic links from `path` to what should be written.
fn resolve(path: &Path) -> Result<Target> {
    let mut cur = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let meta = match fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A link the kernel follows to something with no path of its own (`/dev/stdout` →
                // `/proc/self/fd/1` → `pipe:[…]`): write through what the kernel opens.
                if cur != path
                    && let Ok(m) = fs::metadata(path)
                    && !m.is_dir()
                {
                    return Ok(Target::Through(path.to_path_buf(), Append::Yes));
                }
                return Ok(Target::Missing(cur));
            }
            Err(e) => return Err(cannot_write(path, &cur, e)),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            if cur.starts_with("/proc") {
                // `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` name an open file, not a path: write
                // through what the kernel opens (appending stays appending).
                return Ok(Target::Through(path.to_path_buf(), Append::Yes));
            }
            let to = fs::read_link(&cur).map_err(|e| cannot_write(path, &cur, e))?;
            cur = if to.is_absolute() { to } else { cur.parent().unwrap_or(Path::new("")).join(to) };
            continue;
        }
        if ft.is_dir() {
            return Err(cannot_write(path, &cur, "it is a directory"));
        }
        if ft.is_file() {
            return Ok(Target::Regular(cur, meta.permissions()));
        }
        return Ok(Target::Through(cur, Append::No));
    }
    Err(cannot_write(path, &cur, "too many levels of symbolic links"))
}

/// A writer that remembers the first error of the sink it wraps, so an error from writing the
/// output is told apart from other failures of whatever fills it.
struct Tracked<W> {
    inner: W,
    error: Option<(io::ErrorKind, String)>,
}

impl<W: Write> Tracked<W> {
    fn new(inner: W) -> Self {
        Tracked { inner, error: None }
    }
    fn note<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r
            && self.error.is_none()
        {
            self.error = Some((e.kind(), e.to_string()));
        }
        r
    }
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// How filling an output went.
enum Filled<W> {
    Done(W),
    /// The sink failed: its error kind and text.
    WriteFailed(io::ErrorKind, String),
    /// Something else failed (the error is returned as it is).
    Other(anyhow::Error),
}

/// Run `fill` into `sink` (buffered) and flush.
fn fill_into<W: Write>(sink: W, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Filled<W> {
    let mut w = BufWriter::with_capacity(1 << 16, Tracked::new(sink));
    let r = fill(&mut w).and_then(|()| w.flush().map_err(anyhow::Error::from));
    let (tracked, _) = w.into_parts();
    match (r, tracked.error) {
        (_, Some((kind, text))) => Filled::WriteFailed(kind, text),
        (Err(e), None) => Filled::Other(e),
        (Ok(()), None) => Filled::Done(tracked.inner),
    }
}

/// Write the output at `path` by the rules above; `fill` writes the content. The file is opened
/// (and, for a FIFO, waited for a reader) on the calling thread: see [`write_file`] for a caller
/// that must stay interruptible.
pub fn write_file_blocking(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    match resolve(path)? {
        Target::Missing(real) => replace(path, &real, None, fill),
        Target::Regular(real, perms) => replace(path, &real, Some(perms), fill),
        Target::Through(real, append) => write_through(path, &real, append, fill),
    }
}

/// [`write_file_blocking`] from async code: a device or FIFO (whose open waits for a reader) is
/// written on a blocking thread, so SIGINT still ends the command.
pub async fn write_file<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()> + Send + 'static,
{
    match resolve(path)? {
        Target::Missing(real) => replace(path, &real, None, fill),
        Target::Regular(real, perms) => replace(path, &real, Some(perms), fill),
        Target::Through(real, append) => {
            let given = path.to_path_buf();
            tokio::task::spawn_blocking(move || write_through(&given, &real, append, fill))
                .await
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?
        }
    }
}

/// Open a device or FIFO for writing and write through it.
fn write_through(
    given: &Path,
    real: &Path,
    append: Append,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    // Never truncated: a device or FIFO has nothing to truncate, and an open file named through
    // `/proc` was set up by whoever opened it.
    let file = fs::OpenOptions::new()
        .write(true)
        .append(append == Append::Yes)
        .open(real)
        .map_err(|e| cannot_write(given, real, e))?;
    match fill_into(file, fill) {
        Filled::Done(_) => Ok(()),
        Filled::WriteFailed(io::ErrorKind::BrokenPipe, _) => Ok(()),
        Filled::WriteFailed(_, text) => Err(cannot_write(given, real, text)),
        Filled::Other(e) => Err(e),
    }
}

/// Write a new file beside `real` and rename it over `real` (which is a regular file or nothing).
fn replace(
    given: &Path,
    real: &Path,
    perms: Option<Permissions>,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = real.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = real.file_name().ok_or_else(|| cannot_write(given, real, "not a file name"))?;
    // A fresh name that nothing (not even a planted symbolic link) can already hold.
    let (tmp, file) = {
        let mut attempt = 0;
        loop {
            let tmp = dir.join(format!(
                ".{}.{}-{:08x}.ldstore-tmp",
                name.to_string_lossy(),
                std::process::id(),
                rand::random::<u32>()
            ));
            match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
                Err(e) => {
                    return Err(cannot_write(given, real, format!("cannot create a file in {}: {e}", dir.display())));
                }
            }
        }
    };
    let outcome = match fill_into(file, fill) {
        Filled::Done(file) => {
            let synced = match &perms {
                Some(p) => file.set_permissions(p.clone()).and_then(|()| file.sync_all()),
                None => file.sync_all(),
            };
            synced.and_then(|()| fs::rename(&tmp, real)).map_err(|e| cannot_write(given, real, e))
        }
        Filled::WriteFailed(_, text) => Err(cannot_write(given, real, text)),
        Filled::Other(e) => Err(e.context(format!("writing {}", given.display()))),
    };
    if outcome.is_err() {
        let _ = fs::remove_file(&tmp);
    } else if let Ok(d) = File::open(dir) {
        // Make the rename itself durable (best effort).
        let _ = d.sync_all();
    }
    outcome
}

/// Write to standard output. A reader that went away (a broken pipe, as in `| head`) ends the
/// output quietly; any other write error is "cannot write standard output: …" (exit 2).
pub fn write_stdout(fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let lock = stdout.lock();
    match fill_into(lock, fill) {
        Filled::Done(_) | Filled::WriteFailed(io::ErrorKind::BrokenPipe, _) => Ok(()),
        Filled::WriteFailed(_, text) => Err(UsageError::new(format!("cannot write standard output: {text}")).into()),
        Filled::Other(e) => Err(e),
    }
}

/// Create a directory (and its parents) for output files; failures are exit 2 naming it.
pub fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .map_err(|e| UsageError::new(format!("cannot create directory {}: {e}", dir.display())).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) -> Result<()> {
        let text = text.to_string();
        write_file_blocking(path, move |w| Ok(w.write_all(text.as_bytes())?))
    }

    #[test]
    fn regular_files_are_replaced_and_keep_their_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write(&p, "one").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "one");
        fs::set_permissions(&p, Permissions::from_mode(0o600)).unwrap();
        write(&p, "two").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        // Nothing left beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_fill_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write(&p, "old").unwrap();
        let e = write_file_blocking(&p, |w| {
            w.write_all(b"half")?;
            anyhow::bail!("source broke")
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("source broke"), "{e:#}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn links_are_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        let dangling = dir.path().join("dangling.json");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        std::os::unix::fs::symlink("new.json", &dangling).unwrap();
        write(&link, "new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        write(&dangling, "created").unwrap();
        assert!(fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(dir.path().join("new.json")).unwrap(), "created");
        let looped = dir.path().join("loop");
        std::os::unix::fs::symlink("loop", &looped).unwrap();
        let e = write(&looped, "x").unwrap_err().to_string();
        assert!(e.contains("too many levels of symbolic links"), "{e}");
    }

    #[test]
    fn directories_and_devices() {
        let dir = tempfile::tempdir().unwrap();
        let e = write(dir.path(), "x").unwrap_err();
        assert!(e.to_string().ends_with("it is a directory"), "{e}");
        assert_eq!(crate::exit_code(&e), crate::exit::USAGE);
        // /dev/null is written through (and stays a device).
        write(Path::new("/dev/null"), "x").unwrap();
        let e = write(Path::new("/dev/full"), "x").unwrap_err();
        assert_eq!(e.to_string(), "cannot write /dev/full: No space left on device (os error 28)");
        assert_eq!(crate::exit_code(&e), crate::exit::USAGE);
    }
}

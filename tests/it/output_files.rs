//! Where ldstore writes files (`dump -o`, `man --dir`, standard output): regular files are replaced
//! atomically, links are followed and kept, devices and FIFOs are written through, and a write
//! error is one line naming the file, exit 2. Uses the real redis-server started by scripts/test.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Stdio;

use crate::support::*;

/// A prefix holding one flag; returns it and the exact dump text.
fn synced_prefix(name: &str) -> (String, String) {
    let p = unique_prefix(name);
    let (_d, f) = temp_file("f.json", r#"{"flags":{"a":{"key":"a","version":1}}}"#);
    assert_code(
        &run(ldstore().args(["sync", "--from-file"]).arg(&f).args(["--redis", &redis_addr(), "--prefix", &p])),
        0,
    );
    (p, "{\"flags\":{\"a\":{\"key\":\"a\",\"version\":1}},\"segments\":{}}\n".to_string())
}

fn dump_to(prefix: &str, out: &Path) -> std::process::Output {
    run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", prefix, "-o"]).arg(out))
}

/// A character device like /dev/full (major 1, minor 7) in a temporary directory, so a regression
/// can never replace the system's /dev/full. Needs root, as the test machines run.
fn make_dev_full(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("full");
    let o = std::process::Command::new("mknod").arg(&p).args(["c", "1", "7"]).output().expect("run mknod");
    assert!(o.status.success(), "mknod (needs root): {}", String::from_utf8_lossy(&o.stderr));
    p
}

#[test]
fn dump_to_a_full_device_is_exit_2_and_the_device_stays() {
    let (p, _) = synced_prefix("devfull");
    let dir = tempfile::tempdir().unwrap();
    let full = make_dev_full(dir.path());
    let o = dump_to(&p, &full);
    assert_code(&o, 2);
    assert_eq!(
        stderr(&o).trim_end(),
        format!("ldstore: error: cannot write {}: No space left on device (os error 28)", full.display())
    );
    assert!(std::fs::metadata(&full).unwrap().file_type().is_char_device(), "the device node was replaced");
    // Nothing left behind in its directory either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn dump_to_a_symlink_replaces_the_target_and_keeps_the_link() {
    let (p, expected) = synced_prefix("symlink");
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("backups");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink("backups/real.json", &link).unwrap();
    assert_code(&dump_to(&p, &link), 0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("backups/real.json"));
    assert_eq!(std::fs::read_to_string(&real).unwrap(), expected);
    // The temporary file lived beside the target and is gone.
    assert_eq!(std::fs::read_dir(&real_dir).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn dump_to_a_fifo_gives_the_reader_the_data() {
    let (p, expected) = synced_prefix("fifo");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let o = std::process::Command::new("mkfifo").arg(&fifo).output().expect("run mkfifo");
    assert!(o.status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || tx.send(std::fs::read_to_string(fifo).unwrap()));
    }
    let o = dump_to(&p, &fifo);
    assert_code(&o, 0);
    // A FIFO replaced by a file never gets a writer: its reader would wait forever.
    let got = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the reader got nothing");
    assert_eq!(got, expected);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
}

#[test]
fn dump_to_dev_stdout_writes_to_the_open_file() {
    let (p, expected) = synced_prefix("devstdout");
    // A pipe.
    let o = run(ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &p, "-o", "/dev/stdout"]));
    assert_code(&o, 0);
    assert_eq!(stdout(&o), expected);
    // A file opened for appending (`>> file`) is appended to, not replaced.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("log.json");
    std::fs::write(&out, "old\n").unwrap();
    let f = std::fs::OpenOptions::new().append(true).open(&out).unwrap();
    let o = ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &p, "-o", "/dev/stdout"]).stdout(f).output();
    assert_code(&o.unwrap(), 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("old\n{expected}"));
}

#[test]
fn dump_replaces_a_regular_file_keeping_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (p, expected) = synced_prefix("regular");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup.json");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_code(&dump_to(&p, &out), 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    // A directory is refused, naming it.
    let o = dump_to(&p, dir.path());
    assert_code(&o, 2);
    assert!(stderr(&o).contains("it is a directory"), "{}", stderr(&o));
}

fn dev_full_stdout() -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open("/dev/full").expect("open /dev/full")
}

#[test]
fn standard_output_on_a_full_disk_is_exit_2() {
    let (p, _) = synced_prefix("stdoutfull");
    let o =
        ldstore().args(["dump", "--redis", &redis_addr(), "--prefix", &p]).stdout(dev_full_stdout()).output().unwrap();
    assert_code(&o, 2);
    assert_eq!(stderr(&o), "ldstore: error: cannot write standard output: No space left on device (os error 28)\n");
    // Every command's table or JSON, and the generated documents.
    for args in [
        vec!["inspect", "--redis", &redis_addr()],
        vec!["inspect", "--redis", &redis_addr(), "--prefix", &p, "--output", "json"],
        vec!["man"],
        vec!["completions", "bash"],
    ] {
        let o = ldstore().args(&args).stdout(dev_full_stdout()).output().unwrap();
        assert_code(&o, 2);
        assert_eq!(
            stderr(&o),
            "ldstore: error: cannot write standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_reader_that_goes_away_is_a_quiet_success() {
    let (p, _) = synced_prefix("brokenpipe");
    for args in [
        vec!["dump", "--redis", &redis_addr(), "--prefix", &p],
        vec!["inspect", "--redis", &redis_addr(), "--prefix", &p, "--output", "json"],
    ] {
        let mut child = ldstore().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Close the read end before ldstore writes anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_code(&o, 0);
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}

#[test]
fn man_dir_follows_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("elsewhere.1");
    std::fs::write(&real, "old").unwrap();
    let pages = dir.path().join("man1");
    std::fs::create_dir(&pages).unwrap();
    std::os::unix::fs::symlink(&real, pages.join("ldstore.1")).unwrap();
    assert_code(&run(ldstore().args(["man", "--dir"]).arg(&pages)), 0);
    assert!(std::fs::symlink_metadata(pages.join("ldstore.1")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().starts_with(".ie"), "the link's target holds the page");
    // A page that cannot be written is exit 2 naming it.
    let full = make_dev_full(&pages);
    std::fs::rename(&full, pages.join("ldstore-dump.1")).unwrap();
    let o = run(ldstore().args(["man", "--dir"]).arg(&pages));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("ldstore-dump.1: No space left on device"), "{}", stderr(&o));
    assert!(std::fs::metadata(pages.join("ldstore-dump.1")).unwrap().file_type().is_char_device());
    // A directory that cannot be created.
    let o = run(ldstore().args(["man", "--dir", "/dev/null/man"]));
    assert_code(&o, 2);
    assert_eq!(stderr(&o), "ldstore: error: cannot create directory /dev/null/man: Not a directory (os error 20)\n");
}

//! Command-line behaviour that needs no store.

use crate::support::*;

#[test]
fn help_documents_exit_codes() {
    let o = run(ldstore().arg("--help"));
    assert_code(&o, 0);
    let out = stdout(&o);
    for line in ["0    success", "2    usage or configuration error", "5    partial success", "130  interrupted"] {
        assert!(out.contains(line), "missing {line:?} in --help:\n{out}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = run(ldstore().args(["sync", "--bogus"]));
    assert_code(&o, 2);
    let o = run(ldstore().args(["inspect"]));
    assert_code(&o, 2);
    assert!(stderr(&o).contains("ldstore: error: no store selected"), "{}", stderr(&o));
    let o = run(ldstore().args(["inspect", "--redis", "localhost:1", "--consul", "localhost:2"]));
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("multiple databases are enabled (Redis, Consul); only one is allowed"),
        "{}",
        stderr(&o)
    );
}

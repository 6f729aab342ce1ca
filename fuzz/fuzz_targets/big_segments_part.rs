#![no_main]
// The target function is ldstore::fuzz's (also run by scripts/fuzz on the stable toolchain).
libfuzzer_sys::fuzz_target!(|data: &[u8]| ldstore::fuzz::run_one("big_segments_part", data));

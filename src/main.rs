fn main() {
    std::process::exit(ldstore::run());
}

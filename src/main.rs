fn main() {
    std::process::exit(pgperf::cli::main());
}

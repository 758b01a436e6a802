//! Rebuilds pgperf when a bundled migration or workload file is added, changed or removed:
//! `include_dir!` embeds the folders but does not tell cargo to watch them, so without this a
//! new migration would be missing from the binary until something else changed.

fn main() {
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rerun-if-changed=workloads");
}

//! `docs/specs/` is generated from the catalog of the migrated bundled schema; this test fails
//! when the committed pages differ from what the generator writes now (a migration changed and
//! the docs were not regenerated). Regenerate with
//! `PGPERF_UPDATE_SPECS=1 cargo test --test schema_docs`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use pgperf::catalog_docs;
use pgperf::embedded::{Cluster, ClusterOptions};

#[test]
fn docs_specs_match_the_catalog() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster starts");
    cluster.create_database("specs").expect("create database");
    let mut client = cluster.connect("specs").expect("connect");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let set = pgperf::migrate::load_dir(&root.join("migrations")).expect("bundled migrations load");
    pgperf::migrate::up(&mut client, &set, None).expect("bundled migrations apply");

    let pages =
        catalog_docs::render_pages(&catalog_docs::load(&mut client).expect("catalog loads"));
    let dir = root.join("docs/specs");
    if std::env::var_os("PGPERF_UPDATE_SPECS").is_some() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("old specs removed");
        }
        catalog_docs::write_pages(&dir, &pages).expect("specs written");
    }

    let committed: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| {
                    e.expect("dir entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    let generated: BTreeSet<String> = pages.iter().map(|(name, _)| name.clone()).collect();
    let hint = "docs/specs is out of date: run PGPERF_UPDATE_SPECS=1 cargo test --test schema_docs and commit the result";
    assert_eq!(committed, generated, "{hint} (files differ)");
    for (name, text) in &pages {
        let on_disk = std::fs::read_to_string(dir.join(name)).expect("committed page readable");
        assert!(on_disk == *text, "{hint} ({name} differs)");
    }
}

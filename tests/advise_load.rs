//! Advice that does not flip with the machine's load (issue 13): the same small advise, once
//! on a quiet machine and once while two threads keep two cores busy (bounded in time, stopped
//! by the test), recommends the same indexes, and records both kinds of evidence.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pgperf::advise::{AdviseOptions, VerifyOptions, advise};
use pgperf::embedded::{Cluster, ClusterOptions};
use pgperf::model::advice::Judgement;

/// 200k orders, customer_id ~20k distinct; a lookup an index serves and an aggregate no index
/// can help.
const SETUP: &str = "
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric NOT NULL);
INSERT INTO orders SELECT g, g % 20000, (g % 1000) / 10.0 FROM generate_series(1, 200000) g;
ANALYZE orders;";

const WORKLOAD: &str = r#"
name = "load"
[[query]]
name = "by_customer"
sql = "SELECT id, total FROM orders WHERE customer_id = $1"
params = [{ int_between = [1, 19999] }]
[[query]]
name = "total"
sql = "SELECT sum(total) FROM orders"
"#;

/// Keeps `threads` threads spinning until dropped, and never beyond `limit`.
struct Burner {
    stop: std::sync::Arc<AtomicBool>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Burner {
    fn start(threads: usize, limit: Duration) -> Burner {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + limit;
        let handles = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        for i in 0..10_000u64 {
                            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                        }
                    }
                })
            })
            .collect();
        Burner { stop, handles }
    }
}

impl Drop for Burner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

fn recommended(client: &mut postgres::Client) -> (Vec<String>, Vec<Judgement>) {
    let workload = pgperf::workload::load_str(WORKLOAD, "load.toml").expect("valid workload");
    let options = AdviseOptions {
        verify: Some(VerifyOptions {
            executions: 60,
            ..VerifyOptions::default()
        }),
        ..AdviseOptions::default()
    };
    let advice = advise(client, &workload, &options).expect("advise runs");
    let judgements = advice
        .recommendations
        .iter()
        .flat_map(|r| &r.effects)
        .filter_map(|e| e.evidence.as_ref().map(|evidence| evidence.judgement))
        .collect();
    let definitions = advice
        .recommendations
        .iter()
        .map(|r| pgperf::advise::ddl::definition(&r.spec))
        .collect();
    (definitions, judgements)
}

#[test]
fn the_same_indexes_are_recommended_with_and_without_a_cpu_burner() {
    let cluster = Cluster::start(&ClusterOptions::default()).expect("embedded cluster");
    cluster.create_database("load").expect("create database");
    let mut client = cluster.connect("load").expect("connect");
    client.batch_execute(SETUP).expect("setup");
    let (quiet, judgements) = recommended(&mut client);
    assert_eq!(quiet.len(), 1, "{quiet:?}");
    assert!(quiet[0].contains("customer_id"), "{quiet:?}");
    assert!(
        judgements.contains(&Judgement::FewerBuffers),
        "the lookup reads many times fewer buffers: {judgements:?}"
    );
    let loaded = {
        let _burner = Burner::start(2, Duration::from_secs(120));
        recommended(&mut client).0
    };
    assert_eq!(quiet, loaded);
}

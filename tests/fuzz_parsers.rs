//! Mutation fuzzing of every parser of outside input (issue 15 item 7): workload TOML and its
//! parameters, csvlog / stderr / jsonlog lines, EXPLAIN JSON, migration folders, and results /
//! advice / check files of any schema version. Each target starts from real samples and mutates
//! them (bytes, tokens, JSON nodes, file names); the property is the same everywhere: no panic,
//! and an error, when there is one, says something.
//!
//! `cargo fuzz` needs a nightly toolchain, so this is a small generator of our own on `rand`.
//! The normal suite runs each target for 2 s. A long run:
//! `PGPERF_FUZZ_SECONDS=600 cargo test --release --test fuzz_parsers -- --nocapture --test-threads=1`
//! (seconds per target; `PGPERF_FUZZ_SEED` replays a run). An input that panics is saved under
//! `target/fuzz-failures/` and named in the failure.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use pgperf::record::log::{LogFormat, read_log};

/// Bytes that make parsers take unusual paths.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"'",
    b"\\",
    b"\n",
    b"\r\n",
    b"\t",
    b"\0",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"=",
    b"$",
    b"$1",
    b"$99999999999",
    b"-",
    b".",
    b"#",
    b"::",
    b"\xff",
    b"\xe2\x82",
    b"\xf0\x9f\x98\x80",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"1e309",
    b"NaN",
    b"inf",
    b"null",
    b"true",
    b"0",
    b"-1",
    b"4294967296",
    b"[[query]]",
    b"\"\"\"",
    b"'''",
    b"--",
    b"/*",
    b"*/",
    b"DETAIL:  parameters: $1 = '",
    b"LOG:  ",
    b"duration: ",
    b"statement: ",
];

fn seconds_per_target() -> f64 {
    std::env::var("PGPERF_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

fn seed() -> u64 {
    std::env::var("PGPERF_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// One to four byte-level mutations of a sample, sometimes spliced with another.
fn mutate_bytes(rng: &mut ChaCha8Rng, samples: &[Vec<u8>]) -> Vec<u8> {
    let mut data = samples[rng.gen_range(0..samples.len())].clone();
    for _ in 0..rng.gen_range(1..=4) {
        let len = data.len();
        let at = rng.gen_range(0..=len);
        match rng.gen_range(0..7) {
            0 if len > 0 => data[at.min(len - 1)] = rng.r#gen(),
            1 => {
                let token = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if len > 0 => {
                let end = (at + rng.gen_range(1..64)).min(len);
                data.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                let start = rng.gen_range(0..len);
                let end = (start + rng.gen_range(1..128)).min(len);
                let copy = data[start..end].to_vec();
                data.splice(at..at, copy);
            }
            4 => data.truncate(at),
            5 => {
                let other = &samples[rng.gen_range(0..samples.len())];
                if !other.is_empty() {
                    let from = rng.gen_range(0..other.len());
                    data.truncate(at);
                    data.extend_from_slice(&other[from..]);
                }
            }
            _ => {
                // A number somewhere replaced by an extreme one.
                if let Some(pos) = data.iter().skip(at).position(u8::is_ascii_digit) {
                    let start = at + pos;
                    let end = data[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(data.len(), |n| start + n);
                    let token =
                        [&b"-1"[..], b"0", b"99999999999999999999", b"1e400"][rng.gen_range(0..4)];
                    data.splice(start..end, token.iter().copied());
                }
            }
        }
    }
    data
}

/// A JSON document with one to three of its nodes replaced by other values: wrong types,
/// extremes, empty containers, other schema versions.
fn mutate_json(rng: &mut ChaCha8Rng, samples: &[Value]) -> Value {
    let mut value = samples[rng.gen_range(0..samples.len())].clone();
    for _ in 0..rng.gen_range(1..=3) {
        let count = count_nodes(&value);
        let target = rng.gen_range(0..count);
        let replacement = match rng.gen_range(0..9) {
            0 => Value::Null,
            1 => Value::from(rng.gen_range(-3i64..=3)),
            2 => Value::from(f64::MAX),
            3 => Value::from(i64::MIN),
            4 => Value::from("x"),
            5 => Value::Array(Vec::new()),
            6 => Value::Object(serde_json::Map::new()),
            7 => Value::from(u64::MAX),
            _ => Value::Bool(true),
        };
        replace_node(&mut value, &mut { target }, &replacement, rng);
    }
    value
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Replaces node number `left` (pre-order), or drops it from its parent one time in four.
fn replace_node(value: &mut Value, left: &mut usize, with: &Value, rng: &mut ChaCha8Rng) -> bool {
    if *left == 0 {
        *value = with.clone();
        return true;
    }
    *left -= 1;
    match value {
        Value::Array(items) => {
            for i in 0..items.len() {
                if *left == 0 && rng.gen_range(0..4) == 0 {
                    items.remove(i);
                    return true;
                }
                if replace_node(&mut items[i], left, with, rng) {
                    return true;
                }
            }
        }
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if *left == 0 && rng.gen_range(0..4) == 0 {
                    map.remove(&key);
                    return true;
                }
                if let Some(child) = map.get_mut(&key)
                    && replace_node(child, left, with, rng)
                {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

/// Runs `target` on generated inputs for the configured time; panics (with the saved input)
/// on the first input that panics. Returns (cases, errors).
fn fuzz<T>(
    name: &str,
    mut generate: impl FnMut(&mut ChaCha8Rng) -> T,
    save: impl Fn(&T) -> Vec<u8>,
    target: impl Fn(&T) -> Result<(), String>,
) -> (u64, u64) {
    let seed = seed();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds_per_target());
    let (mut cases, mut errors) = (0u64, 0u64);
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < deadline {
        let input = generate(&mut rng);
        cases += 1;
        match catch_unwind(AssertUnwindSafe(|| target(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                errors += 1;
                if message.trim().is_empty() {
                    let _ = std::panic::take_hook();
                    panic!(
                        "fuzz {name}: an empty error message (seed {seed}, case {cases}), input saved to {}",
                        saved(name, &save(&input)).display()
                    );
                }
            }
            Err(_) => {
                let _ = std::panic::take_hook();
                panic!(
                    "fuzz {name}: panicked (seed {seed}, case {cases}), input saved to {}",
                    saved(name, &save(&input)).display()
                );
            }
        }
    }
    let _ = std::panic::take_hook();
    eprintln!(
        "fuzz {name}: {cases} cases in {:.0} s, {errors} rejected with a message, 0 panics (seed {seed})",
        seconds_per_target()
    );
    (cases, errors)
}

fn saved(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}-{}.bin", std::process::id()));
    let _ = std::fs::write(&path, bytes);
    path
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path),
    )
    .expect("fixture")
}

fn fixtures_in(dir: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("read"))
        .collect()
}

#[test]
fn workload_toml_and_parameters() {
    let mut samples = vec![fixture("shop/workload.toml")];
    samples.extend(pgperf::bundled::default_workload().map(|text| text.as_bytes().to_vec()));
    samples.push(
        b"name = \"p\"\n[personas.a]\nrole = \"r\"\nclaims = { sub = \"1\" }\nsettings = { \"app.t\" = 4 }\n\
          [[query]]\nname = \"q\"\npersona = \"a\"\nsql = \"SELECT $1, $2, $3, $4, $5, $6\"\n\
          params = [{ value = 1 }, { one_of = [1, 2], weights = [1, 3] }, { int_between = [1, 9] },\n\
          { float_between = [0.5, 1.5] }, { ago = \"7 days\", jitter = \"1 day\" }, { sample = \"SELECT 1\", limit = 3 }]\n"
            .to_vec(),
    );
    let (cases, _) = fuzz(
        "workload_toml",
        |rng| mutate_bytes(rng, &samples),
        Clone::clone,
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            pgperf::workload::load_str(&text, "fuzz.toml")
                .map(drop)
                .map_err(|error| error.to_string())
        },
    );
    assert!(cases > 0);
}

#[test]
fn server_log_lines() {
    let samples = vec![
        fixture("logs/csvlog.csv"),
        fixture("logs/stderr.log"),
        fixture("logs/jsonlog.json"),
        fixture("logs/postgrest.log"),
    ];
    let (cases, _) = fuzz(
        "server_logs",
        |rng| mutate_bytes(rng, &samples),
        Clone::clone,
        |bytes| {
            for format in [
                LogFormat::Auto,
                LogFormat::Stderr,
                LogFormat::Csvlog,
                LogFormat::Jsonlog,
            ] {
                read_log(bytes, format);
            }
            Ok(())
        },
    );
    assert!(cases > 0);
}

#[test]
fn explain_json() {
    let samples: Vec<Value> = fixtures_in("report/plans")
        .iter()
        .map(|bytes| serde_json::from_slice(bytes).expect("fixture JSON"))
        .collect();
    let roots = pgperf::pg::explain::PartitionRoots::new();
    let (cases, _) = fuzz(
        "explain_json",
        |rng| mutate_json(rng, &samples),
        |value| value.to_string().into_bytes(),
        |value| {
            let (capture, _) = pgperf::pg::explain::capture_from_json(value.clone(), &[], &roots);
            pgperf::report::plan::plan_view(&capture);
            pgperf::advise::plan::total_cost(value);
            pgperf::advise::plan::largest_scan(value);
            pgperf::advise::plan::scanned_relations(value);
            pgperf::advise::plan::index_names(value);
            Ok(())
        },
    );
    assert!(cases > 0);
}

#[test]
fn migration_folders() {
    let bundled = pgperf::bundled::migration_files();
    let names: Vec<Vec<u8>> = bundled
        .iter()
        .map(|(name, _)| name.as_bytes().to_vec())
        .chain(
            [
                "0007_add_index.sql",
                "0007_add_index.rollback.sql",
                "20240101120000_x.sql",
                "V2__y.sql",
                "3_z/up.sql",
            ]
            .map(|name| name.as_bytes().to_vec()),
        )
        .collect();
    let (cases, _) = fuzz(
        "migration_folders",
        |rng| {
            let count = rng.gen_range(0..8);
            (0..count)
                .map(|_| {
                    let name = String::from_utf8_lossy(&mutate_bytes(rng, &names)).into_owned();
                    let body = bundled[rng.gen_range(0..bundled.len())].1.clone();
                    (name, body)
                })
                .collect::<Vec<(String, String)>>()
        },
        |files| format!("{files:?}").into_bytes(),
        |files| {
            pgperf::migrate::pair_files(files.clone())
                .map(drop)
                .map_err(|error| error.to_string())
        },
    );
    assert!(cases > 0);
}

#[test]
fn results_advice_and_check_files_of_any_version() {
    let raw = fixtures_in("report");
    let samples: Vec<Value> = raw
        .iter()
        .map(|bytes| serde_json::from_slice(bytes).expect("fixture JSON"))
        .collect();
    let (cases, _) = fuzz(
        "result_files",
        |rng| {
            if rng.gen_range(0..4) == 0 {
                mutate_bytes(rng, &raw)
            } else {
                let mut value = mutate_json(rng, &samples);
                if rng.gen_range(0..3) == 0
                    && let Some(object) = value.as_object_mut()
                {
                    object.insert("schema_version".into(), Value::from(rng.gen_range(0..6)));
                }
                value.to_string().into_bytes()
            }
        },
        Clone::clone,
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            let _ = serde_json::from_str::<pgperf::model::RunResult>(&text);
            pgperf::report::input::Document::from_json(&text)
                .map(drop)
                .map_err(|error| error.to_string())
        },
    );
    assert!(cases > 0);
}

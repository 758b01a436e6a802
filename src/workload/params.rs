//! Parameter generation: each workload `ParamSpec` is checked once at load time and compiled
//! into a [`Generator`] that draws one text value per execution from a seeded RNG, so a run is
//! reproducible for a given `--rng-seed`. `sample` generators need the database; they stay a
//! [`ParamPlan::Sample`] until the bench resolves them with the rows their query returns.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::Rng;
use rand::distributions::{Distribution, WeightedIndex};

use super::format::ParamSpec;

/// Rows a `sample` generator keeps when it sets no `limit`.
pub const DEFAULT_SAMPLE_LIMIT: u32 = 1000;

/// A parameter generator as validated: ready, or waiting for its sample query.
#[derive(Debug, Clone)]
pub enum ParamPlan {
    Ready(Generator),
    /// Resolved by running `sql` once before the bench and keeping up to `limit` values.
    Sample {
        sql: String,
        limit: u32,
    },
}

/// Draws one value (text, or `None` for SQL NULL) per execution.
#[derive(Debug, Clone)]
pub enum Generator {
    Fixed(Option<String>),
    /// Picks uniformly from the values, or by the weighted index when there is one.
    Pick {
        values: Vec<Option<String>>,
        weights: Option<WeightedIndex<f64>>,
    },
    IntBetween {
        min: i64,
        max: i64,
    },
    FloatBetween {
        min: f64,
        max: f64,
    },
    /// `now - ago - uniform(0, jitter)`, as an ISO 8601 timestamp in UTC.
    Ago {
        ago: Duration,
        jitter: Duration,
    },
}

impl Generator {
    /// One value. `now` is the run's start, so relative windows are stable during a run.
    pub fn draw(&self, rng: &mut impl Rng, now: DateTime<Utc>) -> Option<String> {
        match self {
            Generator::Fixed(value) => value.clone(),
            Generator::Pick { values, weights } => {
                let index = match weights {
                    Some(weights) => weights.sample(rng),
                    None => rng.gen_range(0..values.len()),
                };
                values[index].clone()
            }
            Generator::IntBetween { min, max } => Some(rng.gen_range(*min..=*max).to_string()),
            Generator::FloatBetween { min, max } => {
                Some(float_between(rng, *min, *max).to_string())
            }
            Generator::Ago { ago, jitter } => {
                let jitter_ms = jitter.num_milliseconds();
                let back_ms = if jitter_ms > 0 {
                    rng.gen_range(0..=jitter_ms)
                } else {
                    0
                };
                let at = now - *ago - Duration::milliseconds(back_ms);
                Some(at.to_rfc3339_opts(SecondsFormat::Millis, true))
            }
        }
    }

    /// A generator picking uniformly from values read from the database.
    pub fn from_rows(values: Vec<Option<String>>) -> Generator {
        Generator::Pick {
            values,
            weights: None,
        }
    }
}

fn float_between(rng: &mut impl Rng, min: f64, max: f64) -> f64 {
    if min < max {
        rng.gen_range(min..max)
    } else {
        min
    }
}

/// Checks a generator and compiles it; the error says what is wrong in the user's terms.
pub fn compile(spec: &ParamSpec) -> Result<ParamPlan, String> {
    let generator = match spec {
        ParamSpec::Value { value } => Generator::Fixed(value_to_text(value)),
        ParamSpec::OneOf { one_of, weights } => pick(one_of, weights.as_deref(), "one_of")?,
        ParamSpec::Recorded { recorded, .. } => pick(recorded, None, "recorded")?,
        ParamSpec::IntBetween {
            int_between: [min, max],
        } => {
            if min > max {
                return Err(format!(
                    "int_between = [{min}, {max}] has min above max; swap them"
                ));
            }
            Generator::IntBetween {
                min: *min,
                max: *max,
            }
        }
        ParamSpec::FloatBetween {
            float_between: [min, max],
        } => {
            if !(min.is_finite() && max.is_finite()) || min > max {
                return Err(format!(
                    "float_between = [{min}, {max}] must be two finite numbers with min <= max"
                ));
            }
            Generator::FloatBetween {
                min: *min,
                max: *max,
            }
        }
        ParamSpec::Ago { ago, jitter } => Generator::Ago {
            ago: parse_duration(ago)?,
            jitter: jitter
                .as_deref()
                .map(parse_duration)
                .transpose()?
                .unwrap_or_default(),
        },
        ParamSpec::Sample { sample, limit } => return compile_sample(sample, *limit),
    };
    Ok(ParamPlan::Ready(generator))
}

fn compile_sample(sql: &str, limit: Option<u32>) -> Result<ParamPlan, String> {
    let placeholders =
        super::sql::placeholders(sql).map_err(|error| format!("sample query {error}"))?;
    if !placeholders.is_empty() {
        return Err("sample query must not use $n parameters".to_string());
    }
    // It runs once before the bench as the connecting user: it must not change data.
    if let Ok(Some(what)) = super::sql::data_change(sql) {
        return Err(format!(
            "sample query is {what}; a sample must be one SELECT"
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_SAMPLE_LIMIT);
    if limit == 0 {
        return Err("sample limit must be at least 1".to_string());
    }
    Ok(ParamPlan::Sample {
        sql: sql.to_string(),
        limit,
    })
}

fn pick(values: &[toml::Value], weights: Option<&[f64]>, key: &str) -> Result<Generator, String> {
    if values.is_empty() {
        return Err(format!("{key} is empty; give at least one value"));
    }
    let weights =
        match weights {
            None => None,
            Some(weights) if weights.len() != values.len() => {
                return Err(format!(
                    "{key} has {} values but weights has {}; give one weight per value",
                    values.len(),
                    weights.len()
                ));
            }
            Some(weights) => Some(WeightedIndex::new(weights.iter().copied()).map_err(|_| {
                "weights must be finite, not negative, and not all zero".to_string()
            })?),
        };
    Ok(Generator::Pick {
        values: values.iter().map(value_to_text).collect(),
        weights,
    })
}

/// The text a TOML value is sent as: strings as they are, numbers and booleans as PostgreSQL
/// reads them, arrays as PostgreSQL array literals (`{1,2}`), tables as JSON.
pub fn value_to_text(value: &toml::Value) -> Option<String> {
    Some(match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        toml::Value::Boolean(flag) => flag.to_string(),
        toml::Value::Datetime(datetime) => datetime.to_string(),
        toml::Value::Array(items) => array_literal(items),
        toml::Value::Table(table) => serde_json::to_string(table).unwrap_or_default(),
    })
}

fn array_literal(items: &[toml::Value]) -> String {
    let elements: Vec<String> = items
        .iter()
        .map(|item| {
            let text = value_to_text(item).unwrap_or_default();
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    format!("{{{}}}", elements.join(","))
}

/// `"30 days"`, `"90 minutes"`, `"1 week"`, `"12h"`: a count and a unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let (count, unit) = trimmed.split_at(digits);
    let count: i64 = count.parse().map_err(|_| duration_error(text))?;
    let seconds = match unit.trim() {
        "s" | "sec" | "second" | "seconds" => 1,
        "m" | "min" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return Err(duration_error(text)),
    };
    count
        .checked_mul(seconds)
        .and_then(Duration::try_seconds)
        .ok_or_else(|| duration_error(text))
}

fn duration_error(text: &str) -> String {
    format!(
        "\"{text}\" is not a duration; write a whole number and a unit: seconds, minutes, hours, days or weeks (\"30 days\")"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ready(spec: &str) -> Generator {
        let spec: ParamSpec = toml::from_str::<toml::Table>(&format!("p = {spec}")).expect("toml")
            ["p"]
            .clone()
            .try_into()
            .expect("a ParamSpec");
        match compile(&spec).expect("valid") {
            ParamPlan::Ready(generator) => generator,
            ParamPlan::Sample { .. } => panic!("not a sample"),
        }
    }

    fn draws(generator: &Generator, count: usize) -> Vec<Option<String>> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let now = DateTime::parse_from_rfc3339("2026-01-31T12:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        (0..count).map(|_| generator.draw(&mut rng, now)).collect()
    }

    #[test]
    fn draws_are_deterministic_for_a_seed() {
        let generator = ready("{ int_between = [1, 1000] }");
        assert_eq!(draws(&generator, 20), draws(&generator, 20));
        assert!(draws(&generator, 200).iter().all(|v| {
            let n: i64 = v.as_deref().expect("value").parse().expect("int");
            (1..=1000).contains(&n)
        }));
    }

    #[test]
    fn weights_skew_the_choice() {
        let generator = ready(r#"{ one_of = ["a", "b"], weights = [1, 0] }"#);
        assert!(
            draws(&generator, 50)
                .iter()
                .all(|v| v.as_deref() == Some("a"))
        );
    }

    #[test]
    fn ago_subtracts_from_the_run_start_with_jitter() {
        let fixed = ready(r#"{ ago = "30 days" }"#);
        assert_eq!(
            draws(&fixed, 1)[0].as_deref(),
            Some("2026-01-01T12:00:00.000Z")
        );
        let jittered = ready(r#"{ ago = "1 day", jitter = "1h" }"#);
        for value in draws(&jittered, 20) {
            let value = value.expect("timestamp");
            assert!(value.as_str() <= "2026-01-30T12:00:00.000Z");
            assert!(value.as_str() >= "2026-01-30T11:00:00.000Z");
        }
    }

    #[test]
    fn values_become_postgres_text() {
        assert_eq!(
            value_to_text(&toml::Value::Integer(5)).as_deref(),
            Some("5")
        );
        let array = toml::Value::Array(vec!["a\"b".into(), 2.into()]);
        assert_eq!(value_to_text(&array).as_deref(), Some(r#"{"a\"b","2"}"#));
    }

    #[test]
    fn bad_generators_say_what_to_fix() {
        let errors: Vec<String> = [
            r#"{ one_of = ["a", "b"], weights = [1] }"#,
            r#"{ one_of = [] }"#,
            r#"{ one_of = ["a"], weights = [0] }"#,
            "{ int_between = [5, 1] }",
            "{ float_between = [2.0, 1.0] }",
            r#"{ ago = "3 fortnights" }"#,
            r#"{ sample = "SELECT id FROM t WHERE x = $1" }"#,
            r#"{ sample = "SELECT 1", limit = 0 }"#,
        ]
        .iter()
        .map(|spec| {
            let spec: ParamSpec = toml::from_str::<toml::Table>(&format!("p = {spec}"))
                .expect("toml")["p"]
                .clone()
                .try_into()
                .expect("a ParamSpec");
            compile(&spec).expect_err("invalid")
        })
        .collect();
        insta::assert_snapshot!(errors.join("\n"));
    }
}

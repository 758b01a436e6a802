//! How numbers read in the report: latencies in ms (µs below 0.1 ms), counts with separators,
//! sizes in binary units. One place, so the summary, the query sections and the charts agree.

/// A latency for a reader: `"42 µs"`, `"0.387 ms"`, `"12.4 ms"`, `"1530 ms"`, `"12.5 s"`.
pub fn latency_us(value_us: f64) -> String {
    if !value_us.is_finite() {
        return "n/a".to_string();
    }
    if value_us < 100.0 {
        return format!("{value_us:.0} µs");
    }
    let ms = value_us / 1000.0;
    if ms >= 10_000.0 {
        return format!("{:.1} s", ms / 1000.0);
    }
    format!("{} ms", significant(ms, 3))
}

/// A latency given in milliseconds (server times), formatted like [`latency_us`].
pub fn latency_ms(value_ms: f64) -> String {
    latency_us(value_ms * 1000.0)
}

/// A number with `digits` significant digits, no exponent, trailing zeros removed after the point.
pub fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_string();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// An integer with thousands separators: `1,234,567`.
pub fn count(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 { format!("-{out}") } else { out }
}

/// A per-call average with up to 3 significant digits (`0.5`, `12`, `1,204`).
pub fn per_call(value: f64) -> String {
    if value >= 1000.0 {
        count(value.round() as i64)
    } else {
        significant(value, 3)
    }
}

/// A byte size in binary units: `512 B`, `8.0 KiB`, `1.2 GiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut size = value as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_in_milliseconds() {
        assert_eq!(latency_us(42.4), "42 µs");
        assert_eq!(latency_us(387.2), "0.387 ms");
        assert_eq!(latency_us(12_449.0), "12.4 ms");
        assert_eq!(latency_us(1_530_000.0), "1530 ms");
        assert_eq!(latency_us(12_500_000.0), "12.5 s");
        assert_eq!(latency_us(f64::NAN), "n/a");
    }

    #[test]
    fn significant_digits_never_print_float_noise() {
        assert_eq!(significant(0.30000000000000004, 3), "0.3");
        assert_eq!(significant(200.0, 3), "200");
        assert_eq!(significant(0.05, 2), "0.05");
    }

    #[test]
    fn counts_and_sizes() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(count(12), "12");
        assert_eq!(per_call(4.56789), "4.57");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(8 * 1024 * 1024), "8.0 MiB");
    }
}

//! Human byte sizes: parsing `2GB`, `500MiB`, `100000` and printing them back.

/// Parses a size such as `2GB`, `1.5 GiB`, `500MB`, `64KiB` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let value: f64 = num
        .parse()
        .map_err(|_| format!("bad size '{text}': expected a number with an optional unit, e.g. 2GB or 500MiB"))?;
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        _ => return Err(format!("bad size unit '{unit}' in '{text}': use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB")),
    };
    if !(value >= 0.0 && value.is_finite()) {
        return Err(format!("bad size '{text}': must be a non-negative number"));
    }
    Ok((value * scale).round() as u64)
}

/// Formats bytes with a decimal unit (`1.5 GB`, `200 MB`, `12 kB`).
pub fn format_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_sizes() {
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5 GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("2 parsecs").unwrap_err().contains("unit"));
        assert!(parse_size("lots").is_err());
        assert_eq!(format_size(2_000_000_000), "2.00 GB");
    }
}

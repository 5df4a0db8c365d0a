//! Units a number answer may be given in besides its own, and the exact conversions. The
//! conversions are physics, not clinical content, so they live here; which codes offer which
//! units, and the question asked in each, are knowledge-base data (`alternative_units` in
//! `vocabulary.toml`), checked against this table at load.

/// `(code unit, other unit, scale, offset)`: value in the code's unit = (other + offset) × scale.
const CONVERSIONS: [(&str, &str, f64, f64); 3] = [
    // °F → °C: (F − 32) × 5/9.
    ("°C", "°F", 5.0 / 9.0, -32.0),
    // International avoirdupois pound, exactly 0.45359237 kg.
    ("kg", "lb", 0.453_592_37, 0.0),
    // Stone = 14 lb = 6.35029318 kg.
    ("kg", "st", 6.350_293_18, 0.0),
];

fn conversion(base: &str, other: &str) -> Option<(f64, f64)> {
    CONVERSIONS
        .iter()
        .find(|(b, o, _, _)| *b == base && *o == other)
        .map(|(_, _, scale, offset)| (*scale, *offset))
}

/// Whether `other` converts to `base`.
pub fn converts(base: &str, other: &str) -> bool {
    conversion(base, other).is_some()
}

/// Rounded to 6 decimals so that 100.4 °F is 38.0 °C, not 37.999…: a threshold in the rules
/// (fever at 38.0) must not be missed by a rounding error.
fn tidy(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// `value` (in `other`) in the code's unit `base`.
pub fn to_base(base: &str, other: &str, value: f64) -> Option<f64> {
    if base == other {
        return Some(value);
    }
    conversion(base, other).map(|(scale, offset)| tidy((value + offset) * scale))
}

/// `[min, max]` (in `base`) in `other`, rounded inwards to one decimal, so that every value a
/// form allows in `other` is inside the code's own range.
pub fn range_in(base: &str, other: &str, min: f64, max: f64) -> Option<(f64, f64)> {
    if base == other {
        return Some((min, max));
    }
    let (scale, offset) = conversion(base, other)?;
    let low = ((min / scale - offset) * 10.0 - 1e-9).ceil() / 10.0;
    let high = ((max / scale - offset) * 10.0 + 1e-9).floor() / 10.0;
    Some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_exact_at_the_thresholds() {
        assert_eq!(to_base("°C", "°F", 100.4), Some(38.0));
        assert_eq!(to_base("°C", "°F", 98.6), Some(37.0));
        assert_eq!(to_base("°C", "°F", 32.0), Some(0.0));
        assert_eq!(to_base("kg", "lb", 100.0), Some(45.359237));
        assert_eq!(to_base("kg", "st", 11.0), Some(69.853225));
        assert_eq!(to_base("kg", "kg", 70.0), Some(70.0));
        assert_eq!(to_base("kg", "°F", 70.0), None);
        assert_eq!(to_base("°C", "lb", 70.0), None);
    }

    #[test]
    fn ranges_in_the_other_unit_are_rounded_inwards() {
        assert_eq!(range_in("kg", "st", 20.0, 350.0), Some((3.2, 55.1)));
        assert_eq!(range_in("°C", "°F", 30.0, 44.0), Some((86.0, 111.2)));
        let (low, high) = range_in("kg", "lb", 20.0, 350.0).unwrap();
        assert!(to_base("kg", "lb", low).unwrap() >= 20.0);
        assert!(to_base("kg", "lb", high).unwrap() <= 350.0);
        let (low, high) = range_in("kg", "st", 20.0, 350.0).unwrap();
        assert!(to_base("kg", "st", low).unwrap() >= 20.0);
        assert!(to_base("kg", "st", high).unwrap() <= 350.0);
    }
}

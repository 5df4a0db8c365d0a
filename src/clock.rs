//! UTC timestamps as RFC 3339 / FHIR `dateTime` strings (seconds precision), without a
//! date-time dependency: the audit line's `time` and FHIR's `occurrenceDateTime`.

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Now, as `YYYY-MM-DDThh:mm:ssZ`.
pub fn utc_now() -> String {
    utc(now_secs())
}

/// Seconds since the Unix epoch as `YYYY-MM-DDThh:mm:ssZ` (civil-from-days, H. Hinnant).
pub fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 of a civil date (days-from-civil, H. Hinnant).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_date(date: &str) -> Option<(i64, i64, i64)> {
    let mut parts = date.split('-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    (parts.next().is_none() && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// A `YYYY-MM-DD` date as an RFC 9745 `Deprecation` value: `@` and the Unix time of its start.
pub fn structured_date(date: &str) -> Option<String> {
    let (y, m, d) = parse_date(date)?;
    Some(format!("@{}", days_from_civil(y, m, d) * 86_400))
}

/// The last second of a `YYYY-MM-DD` date as an HTTP-date (IMF-fixdate, RFC 9110), for
/// the RFC 8594 `Sunset` header.
pub fn http_date_end_of_day(date: &str) -> Option<String> {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = parse_date(date)?;
    let days = days_from_civil(y, m, d);
    let weekday = DAYS[usize::try_from(days.rem_euclid(7)).ok()?];
    let month = MONTHS[usize::try_from(m - 1).ok()?];
    Some(format!("{weekday}, {d:02} {month} {y:04} 23:59:59 GMT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecation_and_sunset_dates() {
        assert_eq!(structured_date("1970-01-02").as_deref(), Some("@86400"));
        assert_eq!(
            structured_date("2026-01-01").as_deref(),
            Some("@1767225600")
        );
        assert_eq!(
            http_date_end_of_day("2027-12-31").as_deref(),
            Some("Fri, 31 Dec 2027 23:59:59 GMT")
        );
        assert_eq!(
            http_date_end_of_day("2000-02-29").as_deref(),
            Some("Tue, 29 Feb 2000 23:59:59 GMT")
        );
        assert_eq!(structured_date("2026-13-01"), None);
    }

    #[test]
    fn datetimes_are_rfc3339_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }
}

//! Rules for the few URLs the service itself calls (issuers' JWKS, an EHR's FHIR server):
//! https, or plain http only on loopback (tests and sidecars).

/// Whether `url` is `http://` to a loopback host.
pub fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|h| {
        rest.starts_with(&format!("{h}:")) || rest.starts_with(&format!("{h}/")) || rest == *h
    })
}

/// Whether the service may call `url` at all: https, or http on loopback.
pub fn is_callable(url: &str) -> bool {
    url.starts_with("https://") || is_loopback_http(url)
}

/// `scheme://authority` of an absolute http(s) URL (lower-cased), or `None`.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the URL would be sent to whoever the host is: never.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_callable() {
        assert!(is_callable("https://ehr.example.org/fhir"));
        assert!(is_callable("http://127.0.0.1:8080/fhir"));
        assert!(is_callable("http://localhost/x"));
        assert!(!is_callable("http://ehr.example.org/fhir"));
        assert!(!is_callable("http://127.0.0.1.evil.example/fhir"));
        assert!(!is_callable("ftp://127.0.0.1/"));
    }

    #[test]
    fn origins_are_scheme_and_authority() {
        assert_eq!(
            origin("https://EHR.example.org:8443/fhir/R4?x=1").as_deref(),
            Some("https://ehr.example.org:8443")
        );
        assert_eq!(
            origin("http://127.0.0.1:9/").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(origin("https://user:pw@ehr.example.org/fhir"), None);
        assert_eq!(origin("ehr.example.org/fhir"), None);
        assert_eq!(origin("file:///etc/passwd"), None);
    }
}

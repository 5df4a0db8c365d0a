//! The reference intake page at `/intake/`: served from the binary, locked down by its CSP,
//! and gone when the deployment switches it off. Its behaviour in a browser is checked by
//! `scripts/ci-browser.sh` (headless Chromium).

use crate::helpers::{spawn_app, spawn_app_with, test_settings};

#[tokio::test]
async fn the_page_and_its_files_are_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let r = app.get("/intake/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    assert!(r.text.contains(r#"<script type="module" src="intake.js">"#));
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    // Its own script and styles, calls to this origin only, nothing inline or third-party.
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    let js = app.get("/intake/intake.js").await;
    assert_eq!(js.status, 200);
    assert_eq!(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert!(js.text.contains("/v1/triage") && js.text.contains("next_questions"));
    let css = app.get("/intake/intake.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");

    // Without the slash the browser is sent to the page (reqwest follows the redirect).
    let r = app.get("/intake").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("intake.js"));
}

#[tokio::test]
async fn the_page_is_read_only() {
    let app = spawn_app().await;
    let r = app
        .post_raw("/intake/", Some("application/json"), b"{}".to_vec())
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, HEAD");
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.body["code"], "method_not_allowed");
    let head = app
        .client
        .head(format!("{}/intake/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn switched_off_the_page_is_not_there() {
    let mut settings = test_settings();
    settings.intake.enabled = false;
    let app = spawn_app_with(settings).await;
    for path in ["/intake/", "/intake/intake.js", "/intake"] {
        let r = app.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body["code"], "not_found", "{path}");
    }
    // The API the page uses is unaffected.
    assert_eq!(app.get("/v1/vocabulary").await.status, 200);
}

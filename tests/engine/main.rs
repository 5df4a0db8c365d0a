//! Engine and knowledge-base tests that need no server.
// Test code asserts by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz_regressions;
mod lifecycle;
mod next_questions;
mod properties;
mod report;
mod rules;
mod support;
mod validator;

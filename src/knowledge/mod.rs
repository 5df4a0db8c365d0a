//! The clinical knowledge base: rule files as data, loaded, validated and compiled.
//! No HTTP and no request handling here.

pub mod condition;
pub mod fuzzy;
pub mod i18n;
pub mod lifecycle;
pub mod load;
pub mod model;
pub mod raw;
pub mod report;
pub mod review;
pub mod units;

pub use load::{load, load_from_files, LoadError, Problem, RuleSource};
pub use model::*;

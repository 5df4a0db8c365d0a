//! The assessment as the API shows it: the JSON response types built from an engine
//! assessment, and the language its patient texts are served in. Pure: no HTTP here.

pub mod dto;
pub mod language;
pub mod rendered;

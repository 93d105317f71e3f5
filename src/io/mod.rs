//! Input and output: corpus readers and result writers.

pub mod input;
pub mod output;
mod usual_json;

//! vnner: people, the roles they hold, the bodies they belong to, and places, from Vietnamese
//! government and political news.
//!
//! Data flows one way through a [`Pipeline`] built once and shared read-only by all threads:
//!
//! ```text
//! text ─ normalise ─ match (Aho-Corasick over gazetteers) ─ rules ─ places ─ link ─ rows
//!        text/       matcher/                              rules/  places/  link.rs  io/
//! ```
//!
//! ```
//! let pipeline = vnner::Pipeline::builtin().unwrap();
//! let found = pipeline.annotate("Đồng chí Lưu Văn Dương - Chủ tịch UBND huyện Trực Ninh phát biểu.");
//! let person = found.mentions.iter().find(|m| m.kind == "PER").unwrap();
//! assert_eq!(person.text, "Lưu Văn Dương");
//! assert_eq!(found.relations[0].role, "Chủ tịch UBND huyện Trực Ninh");
//! ```

pub mod bytes;
pub mod check;
pub mod cli;
pub mod error;
pub mod gazetteer;
pub mod io;
pub mod label;
pub mod link;
pub mod matcher;
pub mod pipeline;
pub mod places;
pub mod rules;
pub mod run;
pub mod suggest;
pub mod text;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub use error::Error;
pub use pipeline::{Annotations, Mention, Pipeline, Relation, Resources, Workspace};

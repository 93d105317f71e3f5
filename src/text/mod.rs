//! Text handling: normalisation with an offset map back to the original, and syllable tokens.
//!
//! Everything downstream works on the normalised text ([`Normalized`]) and its tokens; only the
//! writer goes back to the original, through [`Normalized::original_span`].

mod normalize;
mod token;

pub use normalize::{display_form, match_key, Normalized, Tokenized};
pub use token::{Token, TokenKind};

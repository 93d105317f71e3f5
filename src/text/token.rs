//! Tokens: the syllables and punctuation marks that rules are written over.

use std::ops::Range;

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A syllable with at least one letter (`huyện`, `f0`).
    Word,
    /// Digits only (`12`).
    Number,
    /// One punctuation or symbol character.
    Punct,
}

/// One syllable or punctuation mark of the normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the token in the normalised text.
    pub start: u32,
    /// Byte offset just past the token.
    pub end: u32,
    pub kind: TokenKind,
    /// The original's first letter is upper case.
    pub capitalised: bool,
    /// Every letter of the original is upper case.
    pub all_upper: bool,
    /// Letters in the token (saturating).
    pub letters: u8,
    /// The token is the first on its line.
    pub line_start: bool,
}

impl Token {
    /// The token's byte range in the normalised text.
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

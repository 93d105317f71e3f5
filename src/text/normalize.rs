//! Normalisation: the one place where Vietnamese spelling variation is folded away.
//!
//! Articles mix NFC and NFD, old and new tone placement (`Uỷ`/`Ủy`, `Hoà`/`Hòa`), ALL-CAPS
//! headlines, non-breaking spaces and typographic dashes. Gazetteer entries and document text go
//! through the same fold, so one entry matches every spelling. The document keeps a map from each
//! normalised byte back to the code point of the original it came from, so mentions are reported
//! with the offsets and text of the original.

use unicode_normalization::char::{compose, is_combining_mark};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::token::{Token, TokenKind};

/// A document's text after normalisation, with its tokens and the map back to the original.
#[derive(Debug, Default)]
pub struct Normalized {
    /// NFC, new tone placement, lower case, one space or newline between syllables.
    pub text: String,
    /// Syllables and punctuation of `text`, in order.
    pub tokens: Vec<Token>,
    /// For each byte of `text`, the code-point index in the original it came from.
    origin: Vec<u32>,
    /// Length of the original in code points.
    original_len: u32,
    /// Byte offset in the original of each of its code points, and its length at the end.
    original_bytes: Vec<u32>,
}

impl Normalized {
    /// Normalises `original` for matching.
    pub fn new(original: &str) -> Normalized {
        let mut builder = Builder::new(true, true);
        builder.feed(original);
        builder.finish()
    }

    /// The original code-point span `[start, end)` of the normalised byte span `[start, end)`.
    ///
    /// Both ends must be on token boundaries, which is where every match lies.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let map = |b: usize| match self.origin.get(b) {
            Some(&o) => o as usize,
            None => self.original_len as usize,
        };
        (map(start), map(end).max(map(start)))
    }

    /// The original code-point span of tokens `[first, last)`.
    pub fn token_span(&self, first: usize, last: usize) -> (usize, usize) {
        let start = self.tokens[first].start as usize;
        let end = self.tokens[last - 1].end as usize;
        // The end is the start of whatever follows the last token, so a trailing cluster that
        // normalised to several characters stays whole.
        self.original_span(start, end)
    }

    /// The original text of the code-point span `[start, end)`.
    pub fn original_slice<'t>(&self, original: &'t str, start: usize, end: usize) -> &'t str {
        let byte = |c: usize| {
            self.original_bytes
                .get(c)
                .map_or(original.len(), |&b| b as usize)
        };
        &original[byte(start)..byte(end)]
    }

    /// The normalised text of tokens `[first, last)`.
    pub fn token_text(&self, first: usize, last: usize) -> &str {
        &self.text[self.tokens[first].start as usize..self.tokens[last - 1].end as usize]
    }
}

/// The key a gazetteer surface is matched under: the same fold as document text.
pub fn match_key(surface: &str) -> String {
    let mut builder = Builder::new(true, false);
    builder.feed(surface);
    builder.finish().text
}

/// The display form of a span: NFC, new tone placement and single spaces, case kept.
pub fn display_form(text: &str) -> String {
    let mut builder = Builder::new(false, false);
    builder.feed(text);
    builder.finish().text
}

/// What a character becomes before case folding.
enum Fold {
    Keep(char),
    Space { newline: bool },
    Ampersand,
}

fn fold(c: char) -> Fold {
    match c {
        '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => Fold::Space { newline: true },
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}' => {
            Fold::Space { newline: false }
        }
        c if c.is_whitespace() || c.is_control() => Fold::Space { newline: false },
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => {
            Fold::Keep('-')
        }
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' => Fold::Keep('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' => Fold::Keep('"'),
        '&' => Fold::Ampersand,
        c => Fold::Keep(c),
    }
}

/// A letter of the Latin scripts Vietnamese is written in, decided without the Unicode tables
/// (their lookup dominated normalisation); other scripts fall back to `char::is_alphabetic`.
fn is_letter(c: char) -> bool {
    matches!(c, 'a'..='z' | 'A'..='Z' | '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}')
        && !matches!(c, '\u{D7}' | '\u{F7}')
}

const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];

/// Old → new tone placement for the last two letters of an open syllable: `oà` → `òa`,
/// `oẻ` → `ỏe`, `uý` → `úy` (not after `q`: `quý` is right in both styles).
fn retone(before: Option<char>, x: char, y: char) -> Option<(char, char)> {
    if y.is_ascii() {
        return None;
    }
    let mut parts = std::iter::once(y).nfd();
    let (base, tone) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || !TONE_MARKS.contains(&tone) {
        return None;
    }
    let fits = match x {
        'o' | 'O' => matches!(base, 'a' | 'e' | 'A' | 'E'),
        'u' | 'U' => matches!(base, 'y' | 'Y') && !matches!(before, Some('q' | 'Q')),
        _ => false,
    };
    if !fits {
        return None;
    }
    Some((compose(x, tone)?, base))
}

/// Streams original text into its normalised form, its tokens and the offset map.
struct Builder {
    lowercase: bool,
    track: bool,
    out: Normalized,
    /// Original index of the first pending whitespace character, and whether it held a newline.
    pending_space: Option<(u32, bool)>,
    /// The token being built, if inside a word.
    word: Option<Token>,
    line_start: bool,
    cluster: Vec<char>,
}

impl Builder {
    fn new(lowercase: bool, track: bool) -> Builder {
        Builder {
            lowercase,
            track,
            out: Normalized::default(),
            pending_space: None,
            word: None,
            line_start: true,
            cluster: Vec::with_capacity(4),
        }
    }

    fn feed(&mut self, original: &str) {
        if self.track {
            self.out.text.reserve(original.len());
            self.out.origin.reserve(original.len());
        }
        if self.track {
            self.out.original_bytes.reserve(original.len());
        }
        let mut chars = original.char_indices().peekable();
        let mut index: u32 = 0;
        while let Some((byte, c)) = chars.next() {
            let start = index;
            index += 1;
            if self.track {
                self.out.original_bytes.push(byte as u32);
            }
            // Fast path: ASCII not followed by a combining mark is already NFC.
            let combining_next = chars.peek().is_some_and(|&(_, n)| is_combining_mark(n));
            if c.is_ascii() && !combining_next {
                self.push_original(c, start);
                continue;
            }
            self.cluster.clear();
            self.cluster.push(c);
            while let Some(&(mark_byte, m)) = chars.peek() {
                if !is_combining_mark(m) {
                    break;
                }
                self.cluster.push(m);
                chars.next();
                index += 1;
                if self.track {
                    self.out.original_bytes.push(mark_byte as u32);
                }
            }
            // Most clusters are one precomposed letter (`ệ`), already NFC: no composition needed.
            if let [single] = self.cluster[..] {
                if is_nfc_quick(std::iter::once(single)) == IsNormalized::Yes {
                    self.push_original(single, start);
                    continue;
                }
            }
            let composed: Vec<char> = self.cluster.iter().copied().nfc().collect();
            for n in composed {
                self.push_original(n, start);
            }
        }
        self.out.original_len = index;
    }

    fn push_original(&mut self, c: char, origin: u32) {
        match fold(c) {
            Fold::Space { newline } => self.space(origin, newline),
            Fold::Ampersand => {
                self.space(origin, false);
                self.letters("và", origin, false);
                self.space(origin, false);
            }
            Fold::Keep(k) => {
                let upper = k.is_uppercase();
                if self.lowercase && k.is_uppercase() {
                    for l in k.to_lowercase() {
                        self.emit(l, origin, upper);
                    }
                } else {
                    self.emit(k, origin, upper);
                }
            }
        }
    }

    fn letters(&mut self, s: &str, origin: u32, upper: bool) {
        for c in s.chars() {
            self.emit(c, origin, upper);
        }
    }

    fn space(&mut self, origin: u32, newline: bool) {
        self.close_word();
        match &mut self.pending_space {
            Some((_, nl)) => *nl |= newline,
            None => self.pending_space = Some((origin, newline)),
        }
    }

    fn emit(&mut self, c: char, origin: u32, upper: bool) {
        if let Some((space_origin, newline)) = self.pending_space.take() {
            if !self.out.text.is_empty() {
                self.raw(if newline { '\n' } else { ' ' }, space_origin);
            }
            if newline {
                self.line_start = true;
            }
        }
        let wordy =
            is_letter(c) || c.is_ascii_digit() || c.is_alphanumeric() || is_combining_mark(c);
        if !wordy {
            self.close_word();
        }
        let start = self.out.text.len() as u32;
        self.raw(c, origin);
        let end = self.out.text.len() as u32;
        if wordy {
            let word = self.word.get_or_insert(Token {
                start,
                end,
                kind: TokenKind::Number,
                capitalised: upper,
                all_upper: true,
                letters: 0,
                line_start: std::mem::take(&mut self.line_start),
            });
            word.end = end;
            if is_letter(c) || (!c.is_ascii() && c.is_alphabetic()) {
                word.letters = word.letters.saturating_add(1);
                word.all_upper &= upper;
                word.kind = TokenKind::Word;
            }
        } else if self.track {
            self.out.tokens.push(Token {
                start,
                end,
                kind: TokenKind::Punct,
                capitalised: false,
                all_upper: false,
                letters: 0,
                line_start: std::mem::take(&mut self.line_start),
            });
        }
    }

    fn raw(&mut self, c: char, origin: u32) {
        self.out.text.push(c);
        if self.track {
            let n = c.len_utf8();
            self.out.origin.extend(std::iter::repeat_n(origin, n));
        }
    }

    /// Ends the current word: fixes old tone placement, then records the token.
    fn close_word(&mut self) {
        let Some(mut word) = self.word.take() else {
            return;
        };
        let start = word.start as usize;
        let tail: Vec<(usize, char)> = self.out.text[start..]
            .char_indices()
            .rev()
            .take(3)
            .collect();
        if let [(yi, y), (xi, x), rest @ ..] = tail.as_slice() {
            let before = rest.first().map(|&(_, b)| b);
            if let Some((nx, ny)) = retone(before, *x, *y) {
                let (xi, yi) = (start + xi, start + yi);
                let origin_x = self.out.origin.get(xi).copied();
                let origin_y = self.out.origin.get(yi).copied();
                let mut replacement = String::with_capacity(4);
                replacement.push(nx);
                replacement.push(ny);
                self.out.text.replace_range(xi.., &replacement);
                if let (Some(ox), Some(oy)) = (origin_x, origin_y) {
                    self.out.origin.truncate(xi);
                    self.out
                        .origin
                        .extend(std::iter::repeat_n(ox, nx.len_utf8()));
                    self.out
                        .origin
                        .extend(std::iter::repeat_n(oy, ny.len_utf8()));
                }
                word.end = self.out.text.len() as u32;
            }
        }
        if self.track {
            self.out.tokens.push(word);
        }
    }

    fn finish(mut self) -> Normalized {
        self.close_word();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_tone_placement_and_spaces() {
        let rows = [
            ("Uỷ ban", "ủy ban"),
            ("HOÀ BÌNH", "hòa bình"),
            ("Thuý", "thúy"),
            ("Quý", "quý"),
            ("khoẻ", "khỏe"),
            ("Hoàng", "hoàng"),
            ("a\u{a0}\u{a0}b", "a b"),
            ("a \n\n b", "a\nb"),
            ("Lao động – Thương binh", "lao động - thương binh"),
            ("Tài chính & Kế hoạch", "tài chính và kế hoạch"),
            ("HĐND&UBND", "hđnd và ubnd"),
        ];
        for (input, want) in rows {
            assert_eq!(Normalized::new(input).text, want, "{input:?}");
        }
    }

    #[test]
    fn nfd_input_maps_back_to_original_code_points() {
        let nfd: String = "Trực Ninh".nfd().collect();
        let text = format!("Huyện {nfd} tổ chức");
        let n = Normalized::new(&text);
        let first = n
            .tokens
            .iter()
            .position(|t| &n.text[t.range()] == "trực")
            .unwrap();
        let (s, e) = n.token_span(first, first + 2);
        let original: String = text.chars().skip(s).take(e - s).collect();
        assert_eq!(original, nfd);
    }

    #[test]
    fn old_tone_placement_keeps_offsets() {
        let text = "xã Hoà An";
        let n = Normalized::new(text);
        assert_eq!(n.text, "xã hòa an");
        let (s, e) = n.token_span(1, 3);
        assert_eq!((s, e), (3, 9));
    }

    #[test]
    fn tokens_carry_case_and_line_starts() {
        let n = Normalized::new("Tin, ảnh: THANH Thúy\nBBT 12");
        let flags: Vec<(&str, bool, bool, bool)> = n
            .tokens
            .iter()
            .map(|t| (&n.text[t.range()], t.capitalised, t.all_upper, t.line_start))
            .collect();
        assert_eq!(flags[0], ("tin", true, false, true));
        assert_eq!(flags[4], ("thanh", true, true, false));
        assert_eq!(flags[6], ("bbt", true, true, true));
        assert_eq!(n.tokens[7].kind, TokenKind::Number);
    }

    #[test]
    fn display_form_keeps_case() {
        assert_eq!(display_form("Huyện  Uỷ"), "Huyện Ủy");
    }
}

//! Normalisation: the one place where Vietnamese spelling variation is folded away.
//!
//! Articles mix NFC and NFD, old and new tone placement (`Uỷ`/`Ủy`, `Hoà`/`Hòa`), ALL-CAPS
//! headlines, non-breaking spaces and typographic dashes. Gazetteer entries and document text go
//! through the same fold, so one entry matches every spelling. The document keeps a map from each
//! normalised byte back to the code point of the original it came from, so mentions are reported
//! with the offsets and text of the original.
//!
//! Every document goes through here, so most text takes a fast path: stretches of words whose
//! letters are already NFC and fold to themselves (ASCII and the Latin letters Vietnamese uses),
//! with single spaces and ASCII punctuation between them, are copied as they are (lower-cased),
//! their tokens made a word at a time and their offsets read off the bytes. Everything else goes
//! a cluster at a time through the general path, which the fast path must agree with exactly;
//! range checks stand in for the Unicode tables where the answers are the same.

use std::borrow::Cow;

use unicode_normalization::char::{compose, is_combining_mark};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::token::{Token, TokenKind};
use crate::bytes::word_at;

/// A document's text after normalisation, with its tokens and the map back to the original.
#[derive(Debug, Default)]
pub struct Normalized {
    /// NFC, new tone placement, lower case, one space or newline between syllables.
    pub text: String,
    /// Syllables and punctuation of `text`, in order.
    pub tokens: Vec<Token>,
    /// For each byte of `text`, the code-point index in the original it came from.
    origin: Vec<u32>,
    /// Byte offset in the original of each of its code points.
    original_bytes: Vec<u32>,
}

impl Normalized {
    /// Normalises `original` for matching.
    pub fn new(original: &str) -> Normalized {
        let mut normalized = Normalized::default();
        normalized.renew(original);
        normalized
    }

    /// Normalises `original` in place of the text held, in its buffers, so that a worker
    /// normalising document after document allocates only when one is longer than all before.
    pub fn renew(&mut self, original: &str) {
        let buffers = std::mem::take(self);
        let mut builder = Builder::reusing(buffers, true, Record::Offsets, original.len());
        builder.feed(original);
        *self = builder.finish();
    }

    /// The original code-point span `[start, end)` of the normalised byte span `[start, end)`.
    ///
    /// Both ends must be on token boundaries, which is where every match lies.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let map = |b: usize| match self.origin.get(b) {
            Some(&o) => o as usize,
            None => self.original_bytes.len(),
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

    /// The display form of the original text of tokens `[first, last)`, borrowing it when it is
    /// its own: as when it is their normalised text with some letters upper case, which is
    /// cheaper to see than by looking at the original alone.
    pub fn token_display_form<'t>(
        &self,
        original: &'t str,
        first: usize,
        last: usize,
    ) -> Cow<'t, str> {
        let (start, end) = self.token_span(first, last);
        let text = self.original_slice(original, start, end);
        if is_recased(text, self.token_text(first, last)) {
            return Cow::Borrowed(text);
        }
        as_display_form(text)
    }
}

/// Whether `original` is `normalized` with some letters upper case (of those of [`latin_case`]),
/// compared eight bytes at a time. Then `original` is its own display form, as only case stands
/// between that and the normalised form.
fn is_recased(original: &str, normalized: &str) -> bool {
    let (o, n) = (original.as_bytes(), normalized.as_bytes());
    if o.len() != n.len() {
        return false;
    }
    let mut at = 0;
    while at < o.len() {
        // The first byte from `at` on where they differ.
        let differs = if at + 8 <= o.len() {
            match word_at(o, at) ^ word_at(n, at) {
                0 => {
                    at += 8;
                    continue;
                }
                unlike => at + unlike.trailing_zeros() as usize / 8,
            }
        } else if o[at] == n[at] {
            at += 1;
            continue;
        } else {
            at
        };
        let b = o[differs];
        if b.is_ascii() {
            if !b.is_ascii_uppercase() || n[differs] != b.to_ascii_lowercase() {
                return false;
            }
            at = differs + 1;
            continue;
        }
        // The character differing starts at the same byte in both, as the bytes before are alike.
        let start = o[..=differs]
            .iter()
            .rposition(|&b| is_char_start(b))
            .unwrap_or_default();
        let char_at = |s: &str| s.get(start..).and_then(|rest| rest.chars().next());
        let (Some(upper), Some(lower)) = (char_at(original), char_at(normalized)) else {
            return false;
        };
        if latin_case(upper) != Some((lower, true)) {
            return false;
        }
        at = start + upper.len_utf8();
    }
    true
}

/// Texts normalised for matching, with their tokens but without the maps back to the original:
/// what gazetteer keys need, as keys are matched but never reported. The texts are kept one after
/// another, so that thousands of keys take a few allocations rather than two each.
#[derive(Debug, Default)]
pub struct Tokenized {
    /// Each text as [`Normalized::text`], one after another with nothing between them.
    pub text: String,
    /// Syllables and punctuation of `text`, in order.
    pub tokens: Vec<Token>,
    /// Where the tokens of each text end in `tokens`.
    ends: Vec<u32>,
}

impl Tokenized {
    /// Normalises each of `texts` for matching, as [`Normalized::new`] does.
    pub fn new<'t>(texts: impl ExactSizeIterator<Item = &'t str> + Clone) -> Tokenized {
        // Room for all of them at once, rather than copies as the buffers grow.
        let mut builder = Builder::new(true, Record::Tokens, texts.clone().map(str::len).sum());
        let mut ends = Vec::with_capacity(texts.len());
        for text in texts {
            builder.feed(text);
            builder.end_text();
            ends.push(builder.out.tokens.len() as u32);
        }
        let Normalized { text, tokens, .. } = builder.finish();
        Tokenized { text, tokens, ends }
    }

    /// The tokens of each text, in order.
    pub fn texts(&self) -> impl Iterator<Item = &[Token]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.tokens[start as usize..end as usize])
    }
}

/// The key a gazetteer surface is matched under: the same fold as document text.
pub fn match_key(surface: &str) -> String {
    match display_form_capitals(surface) {
        // Nothing to fold but case.
        Some(0) => surface.to_ascii_lowercase(),
        Some(_) => {
            let mut key = surface.to_ascii_lowercase();
            // Its letters lower-case to letters as long as they are: the rest stays in place.
            for (at, c) in surface.char_indices().filter(|(_, c)| !c.is_ascii()) {
                if let Some((lower, true)) = latin_case(c) {
                    key.replace_range(at..at + c.len_utf8(), lower.encode_utf8(&mut [0; 4]));
                }
            }
            key
        }
        None => {
            let mut builder = Builder::new(true, Record::Text, surface.len());
            builder.feed(surface);
            builder.finish().text
        }
    }
}

/// The display form of a span: NFC, new tone placement and single spaces, case kept.
pub fn display_form(text: &str) -> String {
    as_display_form(text).into_owned()
}

/// The display form of `text`, borrowing `text` when it is its own (as most names are).
fn as_display_form(text: &str) -> Cow<'_, str> {
    if display_form_capitals(text).is_some() {
        return Cow::Borrowed(text);
    }
    let mut builder = Builder::new(false, Record::Text, text.len());
    builder.feed(text);
    Cow::Owned(builder.finish().text)
}

/// If `text` is its own display form, how many of its letters are upper-case letters outside
/// ASCII; decided on its bytes, as most names and keys are display forms and a [`Builder`] costs
/// far more than a look at them. It is if it is all pieces of a stretch (see
/// [`Builder::push_stretch`]) with single spaces between them and none at its ends, and no word
/// may need its tone moved (see [`may_retone`]). Then only case stands between it and its
/// normalised form.
fn display_form_capitals(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return None;
    }
    let (mut at, mut capitals) = (0, 0);
    while let Some(&b) = bytes.get(at) {
        match DISPLAY_BYTES[usize::from(b)] {
            DisplayByte::Alphanumeric => at += 1,
            DisplayByte::Lead => {
                let (len, upper) = latin_letter(bytes, at)?;
                capitals += usize::from(upper);
                at += len;
            }
            // A word ends here: checked for its tone, as what ends it is.
            DisplayByte::Punct if !may_retone(bytes, at) => at += 1,
            DisplayByte::Space if bytes.get(at + 1) != Some(&b' ') && !may_retone(bytes, at) => {
                at += 1
            }
            _ => return None,
        }
    }
    (!may_retone(bytes, bytes.len())).then_some(capitals)
}

/// What a byte is to [`display_form_capitals`], looked up rather than tested range by range.
#[derive(Clone, Copy)]
enum DisplayByte {
    Alphanumeric,
    /// A [`is_plain_punct`] mark.
    Punct,
    Space,
    /// The first byte of a character outside ASCII (or a byte inside one).
    Lead,
    /// Any other ASCII byte: never in a display form.
    Other,
}

const DISPLAY_BYTES: [DisplayByte; 256] = {
    let mut table = [DisplayByte::Other; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_alphanumeric() {
            DisplayByte::Alphanumeric
        } else if !byte.is_ascii() {
            DisplayByte::Lead
        } else if byte == b' ' {
            DisplayByte::Space
        } else if is_plain_punct(byte) {
            DisplayByte::Punct
        } else {
            DisplayByte::Other
        };
        b += 1;
    }
    table
};

/// What a character becomes before case folding.
enum Fold {
    Keep(char),
    Space { newline: bool },
    Ampersand,
}

fn fold(c: char) -> Fold {
    // Letters and digits are most of the text and none of the cases below.
    if c.is_ascii_alphanumeric() || is_letter(c) {
        return Fold::Keep(c);
    }
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
const fn is_letter(c: char) -> bool {
    matches!(c, 'a'..='z' | 'A'..='Z' | '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}')
        && !matches!(c, '\u{D7}' | '\u{F7}')
}

/// A combining mark. None lies below U+0300, so most characters skip the table lookup.
fn is_mark(c: char) -> bool {
    c >= '\u{300}' && is_combining_mark(c)
}

/// `c` alone is NFC. Nothing below U+0300 nor in Latin Extended Additional (`ệ`, `ữ`) changes
/// under NFC, so those skip the quick-check tables.
fn is_nfc_alone(c: char) -> bool {
    c < '\u{300}'
        || matches!(c, '\u{1E00}'..='\u{1EFF}')
        || is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// Whether `c` is upper case, and its lower case if it is (else `c` itself), for the letters
/// Vietnamese uses; `None` sends every other character to the Unicode tables.
const fn latin_case(c: char) -> Option<(char, bool)> {
    let code = c as u32;
    let lower = match code {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE => code + 0x20,
        0x00..=0x7F | 0xDF..=0xFF => return Some((c, false)),
        // Pairs of upper case at even and lower case at odd code points (`Ă ă`, `Đ đ`, `Ũ ũ`,
        // `Ạ ạ`, `Ư ư`).
        0x100..=0x12F | 0x1EA0..=0x1EF9 if code % 2 == 1 => return Some((c, false)),
        0x100..=0x12F | 0x1EA0..=0x1EF9 | 0x1A0 | 0x1AF => code + 1,
        0x1A1 | 0x1B0 => return Some((c, false)),
        _ => return None,
    };
    match char::from_u32(lower) {
        Some(lower) => Some((lower, true)),
        None => None,
    }
}

/// The case of a Latin letter of [`latin_case`], in the tables [`latin_letter`] looks up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LetterCase {
    /// Not such a letter.
    None,
    Lower,
    Upper,
}

/// [`LetterCase`] of the `N` code points from `first` on, worked out at compile time.
const fn letter_cases<const N: usize>(first: u32) -> [LetterCase; N] {
    let mut table = [LetterCase::None; N];
    let mut i = 0;
    while i < N {
        if let Some(c) = char::from_u32(first + i as u32) {
            if is_letter(c) {
                table[i] = match latin_case(c) {
                    Some((_, true)) => LetterCase::Upper,
                    Some((_, false)) => LetterCase::Lower,
                    None => LetterCase::None,
                };
            }
        }
        i += 1;
    }
    table
}

/// U+0000–U+07FF, of which the two-byte sequences are U+0080 on: the code point of every such
/// sequence indexes it without a check of its lead byte.
const TWO_BYTE_LETTERS: [LetterCase; 0x800] = letter_cases(0);
/// U+1E80–U+1EFF: the three-byte sequences starting 0xE1 0xBA–0xBB, where Vietnamese letters
/// with two diacritics (`ệ`, `ữ`) are.
const THREE_BYTE_LETTERS: [LetterCase; 128] = letter_cases(0x1E80);

/// The Latin letter of [`latin_case`] at byte `at` of `bytes`, if there is one: its length and
/// whether it is upper case. Looked up by its bytes, as decoding and range checks cost more; so
/// byte `at`, if `bytes` goes that far, must start a character of two bytes or more (callers
/// have tested for ASCII).
#[inline]
fn latin_letter(bytes: &[u8], at: usize) -> Option<(usize, bool)> {
    debug_assert!(bytes.get(at).is_none_or(|&b| b >= 0xC2));
    let byte = |i: usize| bytes.get(at + i).copied().unwrap_or_default();
    let low_bits = |b: u8, bits: u8| usize::from(b & ((1 << bits) - 1));
    let (case, len) = match byte(0) {
        b0 @ ..=0xDF => {
            let code_point = (low_bits(b0, 5) << 6) | low_bits(byte(1), 6);
            (TWO_BYTE_LETTERS.get(code_point), 2)
        }
        0xE1 => {
            // Read with one bounds test: UTF-8 has both continuation bytes after this lead.
            let [b1, b2] = <[u8; 2]>::try_from(bytes.get(at + 1..at + 3)?).ok()?;
            // Second bytes other than 0xBA–0xBB make indices past the table's end.
            let index = (usize::from(b1.wrapping_sub(0xBA)) << 6) | low_bits(b2, 6);
            (THREE_BYTE_LETTERS.get(index), 3)
        }
        _ => return None,
    };
    match case? {
        LetterCase::None => None,
        LetterCase::Lower => Some((len, false)),
        LetterCase::Upper => Some((len, true)),
    }
}

/// Whether a combining mark starts at byte `at` of `s`, decided on the bytes when it can be:
/// marks start at U+0300 (lead byte 0xCC) and Latin Extended Additional (U+1E00–U+1EFF) has none.
#[inline]
fn mark_at(s: &str, at: usize) -> bool {
    let bytes = s.as_bytes();
    match bytes.get(at) {
        None => false,
        Some(&b) if b < 0xCC => false,
        Some(0xE1) if matches!(bytes.get(at + 1), Some(0xB8..=0xBB)) => false,
        _ => s
            .get(at..)
            .and_then(|t| t.chars().next())
            .is_some_and(is_mark),
    }
}

/// Counts of a run of letters and digits that are each NFC on their own, fold to themselves
/// and lower-case to one letter of the same length: ASCII ones and the Latin letters of
/// [`latin_case`].
struct Run {
    /// Length in bytes.
    len: usize,
    letters: usize,
    upper_letters: usize,
    non_ascii_capitals: usize,
    /// The first character is an upper-case letter.
    capitalised: bool,
    /// What follows is ASCII (a space, a punctuation mark, a control character), which ends
    /// the run's word whatever comes after it.
    ends_word: bool,
}

impl Run {
    /// The run at byte `from` of `s`. A character followed by a combining mark is left out: it
    /// may compose with it. Always inlined, so that the run stays in registers in both loops that
    /// read runs.
    #[inline(always)]
    fn scan(s: &str, from: usize) -> Run {
        let bytes = s.as_bytes();
        let (mut at, mut letters, mut ascii_capitals, mut non_ascii_capitals) = (from, 0, 0, 0);
        // Whether the first letter is upper case: tested here if it is ASCII, else found out on
        // the way, which costs less than decoding it again.
        let mut capitalised = bytes.get(from).is_some_and(u8::is_ascii_uppercase);
        let mut ends_word = false;
        // Tested in order of frequency.
        while let Some(&b) = bytes.get(at) {
            if b.is_ascii_lowercase() {
                letters += 1;
                at += 1;
            } else if !b.is_ascii() {
                let Some((len, upper)) = latin_letter(bytes, at) else {
                    break;
                };
                letters += 1;
                if upper {
                    non_ascii_capitals += 1;
                    capitalised |= at == from;
                }
                at += len;
            } else if b < b'0' {
                // Spaces and most punctuation, what runs mostly end at.
                ends_word = true;
                break;
            } else if b.is_ascii_uppercase() {
                letters += 1;
                ascii_capitals += 1;
                at += 1;
            } else if b.is_ascii_digit() {
                at += 1;
            } else {
                ends_word = true;
                break;
            }
        }
        let upper_letters = ascii_capitals + non_ascii_capitals;
        let mut run = Run {
            len: at - from,
            letters,
            upper_letters,
            non_ascii_capitals,
            capitalised,
            ends_word,
        };
        if run.len > 0 && !ends_word && mark_at(s, at) {
            run.remove_last(bytes.get(from..).unwrap_or_default());
        }
        debug_assert_eq!(run.capitalised, run.len > 0 && is_capital(bytes, from));
        run
    }

    /// Takes the last character out of the run, which starts with `bytes`. Rare, but inlined all
    /// the same: a run whose address is taken is kept in memory, padding and all, and the loops
    /// that read runs would copy it at every piece.
    #[inline(always)]
    fn remove_last(&mut self, bytes: &[u8]) {
        let last = bytes
            .get(..self.len)
            .and_then(|run| run.iter().rposition(|&b| is_char_start(b)))
            .unwrap_or_default();
        let letter = !matches!(bytes.get(last), Some(b'0'..=b'9'));
        let upper = is_capital(bytes, last);
        self.len = last;
        self.letters -= usize::from(letter);
        self.upper_letters -= usize::from(upper);
        self.non_ascii_capitals -= usize::from(upper && !bytes.get(last).is_some_and(u8::is_ascii));
        if last == 0 {
            self.capitalised = false;
        }
    }
}

/// Whether the character at byte `at` of `bytes` is an upper-case letter of a [`Run`].
fn is_capital(bytes: &[u8], at: usize) -> bool {
    match bytes.get(at) {
        Some(b) if b.is_ascii() => b.is_ascii_uppercase(),
        _ => latin_letter(bytes, at).is_some_and(|(_, upper)| upper),
    }
}

/// What follows a stretch (see [`Builder::push_stretch`]) so far, and where: what
/// [`Builder::push_plain_pieces`] hands back when it stops, so that `push_stretch` goes on from
/// the run it stopped at rather than reading it again.
struct Next {
    /// Where the stretch so far ends.
    end: usize,
    /// Where what follows starts: `end`, or the byte after it if a space there is written as it
    /// is.
    from: usize,
    /// The run at `from`. If it is empty, a punctuation mark of [`plain_punct_at`] is there, a
    /// piece of its own, or else the stretch ends.
    run: Run,
}

impl Next {
    /// What follows byte `end` of `s`, after the space there if there is one and `spaces_kept`.
    /// Always inlined, as [`Run::scan`] is.
    #[inline(always)]
    fn at(s: &str, end: usize, spaces_kept: bool) -> Next {
        let spaced = spaces_kept && s.as_bytes().get(end) == Some(&b' ');
        let from = end + usize::from(spaced);
        Next {
            end,
            from,
            run: Run::scan(s, from),
        }
    }
}

/// Bytes of text past which [`Builder::push_plain_pieces`] pays, a few words.
const PLAIN_PIECES_MIN_LEN: usize = 32;

/// Whether a stretch (see [`Builder::push_stretch`]) may start with byte `b`.
fn may_start_stretch(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b' ' || is_plain_punct(b) || matches!(b, 0xC3..=0xC6 | 0xE1)
}

/// An ASCII punctuation mark that normalises to itself, a token of its own (`&` becomes `và`).
const fn is_plain_punct(b: u8) -> bool {
    b.is_ascii_punctuation() && b != b'&'
}

/// Whether a [`is_plain_punct`] mark is at byte `at` of `s`, a cluster of its own.
fn plain_punct_at(s: &str, at: usize) -> bool {
    s.as_bytes().get(at).is_some_and(|&b| is_plain_punct(b)) && !mark_at(s, at + 1)
}

/// The token of a word at bytes `start..end` of the text, with `letters` letters, `upper` of
/// them upper case; `capitalised` if its first letter is.
fn word_token(
    start: u32,
    end: u32,
    capitalised: bool,
    letters: usize,
    upper: usize,
    line_start: bool,
) -> Token {
    Token {
        start,
        end,
        kind: if letters > 0 {
            TokenKind::Word
        } else {
            TokenKind::Number
        },
        capitalised,
        all_upper: upper == letters,
        letters: u8::try_from(letters).unwrap_or(u8::MAX),
        line_start,
    }
}

/// Extends `word` to byte `end` of the text, with `letters` more letters, `upper` of them upper
/// case.
#[inline]
fn grow(word: &mut Token, end: u32, letters: usize, upper: usize) {
    word.end = end;
    if letters > 0 {
        word.letters = word
            .letters
            .saturating_add(u8::try_from(letters).unwrap_or(u8::MAX));
        word.all_upper &= upper == letters;
        word.kind = TokenKind::Word;
    }
}

/// Whether the word that ends at byte `end` of `bytes` may need its tone moved by [`retone`]:
/// its last letter is not ASCII and follows `o` or `u`, or what it follows is not in `bytes`.
fn may_retone(bytes: &[u8], end: usize) -> bool {
    let Some(word) = bytes
        .get(..end)
        .filter(|word| word.last().is_some_and(|b| !b.is_ascii()))
    else {
        return false;
    };
    // `end` is a character boundary, so the last byte continues a character. The Latin letters
    // of a run are two or three bytes long: their start is looked for there before searching.
    let last = match *word {
        [.., b, _] if is_char_start(b) => Some(word.len() - 2),
        [.., b, _, _] if is_char_start(b) => Some(word.len() - 3),
        _ => word.iter().rposition(|&b| is_char_start(b)),
    };
    match last {
        Some(last) if last > 0 => matches!(word[last - 1], b'o' | b'O' | b'u' | b'U'),
        _ => true,
    }
}

/// Bytes handled at a time by the offset maps, which are written branch-free from masks of
/// where code points start: branching on each byte mispredicts on every non-ASCII letter.
const CHUNK: usize = 8;

/// Bit `i` set if byte `i` of `chunk` starts a code point (its first [`CHUNK`] bytes).
fn starts_mask(chunk: &[u8]) -> u8 {
    let mut word = [0; CHUNK];
    word.copy_from_slice(chunk.get(..CHUNK).unwrap_or(&[0; CHUNK]));
    let x = u64::from_le_bytes(word);
    // Bit 0 of each byte: not a continuation byte (0b10xx_xxxx).
    let starts = !((x >> 7) & !(x >> 6)) & 0x0101_0101_0101_0101;
    // Gathers bit 0 of byte `i` into bit 56 + `i`.
    (starts.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// For each mask of [`starts_mask`], the positions of its set bits in order (then zeros).
/// `u32`, like the maps, so that a chunk is a vector add.
const START_POSITIONS: [[u32; CHUNK]; 256] = start_tables().0;

/// For each mask of [`starts_mask`], how many of its bits are set up to each position.
const STARTS_UP_TO: [[u32; CHUNK]; 256] = start_tables().1;

/// Both tables above, made in one pass over the masks.
const fn start_tables() -> ([[u32; CHUNK]; 256], [[u32; CHUNK]; 256]) {
    let (mut positions, mut up_to) = ([[0; CHUNK]; 256], [[0; CHUNK]; 256]);
    let mut mask = 0;
    while mask < 256 {
        let (mut bit, mut n) = (0, 0);
        while bit < CHUNK {
            if mask & (1 << bit) != 0 {
                positions[mask][n] = bit as u32;
                n += 1;
            }
            up_to[mask][bit] = n as u32;
            bit += 1;
        }
        mask += 1;
    }
    (positions, up_to)
}

/// Whether `b` starts a UTF-8 sequence rather than continuing one.
fn is_char_start(b: u8) -> bool {
    (b as i8) >= -0x40
}

/// How a normalised character takes part in tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Part of a word, and counted among its letters.
    Letter,
    /// Part of a word without being a letter: digits and combining marks.
    WordPart,
    /// A token of its own.
    Punct,
}

fn role(c: char) -> Role {
    if is_letter(c) {
        Role::Letter
    } else if c.is_ascii() {
        if c.is_ascii_digit() {
            Role::WordPart
        } else {
            Role::Punct
        }
    } else if c.is_alphabetic() {
        Role::Letter
    } else if c.is_alphanumeric() || is_mark(c) {
        Role::WordPart
    } else {
        Role::Punct
    }
}

const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];

/// Old → new tone placement for the last two letters of an open syllable: `oà` → `òa`,
/// `oẻ` → `ỏe`, `uý` → `úy` (not after `q`: `quý` is right in both styles).
fn retone(before: Option<char>, x: char, y: char) -> Option<(char, char)> {
    // Decided on `x` first: decomposing `y` is the expensive part and rarely needed.
    let fits: fn(char) -> bool = match x {
        'o' | 'O' => |base| matches!(base, 'a' | 'e' | 'A' | 'E'),
        'u' | 'U' if !matches!(before, Some('q' | 'Q')) => |base| matches!(base, 'y' | 'Y'),
        _ => return None,
    };
    if y.is_ascii() {
        return None;
    }
    let mut parts = std::iter::once(y).nfd();
    let (base, tone) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || !TONE_MARKS.contains(&tone) || !fits(base) {
        return None;
    }
    Some((compose(x, tone)?, base))
}

/// What a [`Builder`] records besides the normalised text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    /// Nothing (match keys, display forms).
    Text,
    /// The tokens (gazetteer keys, see [`Tokenized`]).
    Tokens,
    /// The tokens and the maps back to the original (documents).
    Offsets,
}

/// Streams original text into its normalised form and what else [`Record`] asks for. Texts fed
/// one after another with [`Builder::end_text`] between them are each normalised as if alone.
struct Builder {
    lowercase: bool,
    /// Tokens are recorded.
    tokens: bool,
    /// The maps back to the original are written.
    offsets: bool,
    out: Normalized,
    /// Original index of the first pending whitespace character, and whether it held a newline.
    pending_space: Option<(u32, bool)>,
    /// The token being built, when inside a word.
    word: Token,
    /// Inside a word: `word` is being built.
    word_open: bool,
    line_start: bool,
    /// Where the text being fed starts in `out.text`, after those before it.
    text_start: usize,
}

impl Builder {
    /// A builder with room for `len` bytes of original text, all told: room for the usual case,
    /// where the normalised text is about as long as the original.
    fn new(lowercase: bool, record: Record, len: usize) -> Builder {
        Builder::reusing(Normalized::default(), lowercase, record, len)
    }

    /// [`Builder::new`], writing into the buffers of `out`, whose contents are dropped.
    fn reusing(mut out: Normalized, lowercase: bool, record: Record, len: usize) -> Builder {
        let (tokens, offsets) = (record != Record::Text, record == Record::Offsets);
        let room = |recorded: bool, len: usize| if recorded { len } else { 0 };
        let Normalized {
            text,
            tokens: token_list,
            origin,
            original_bytes,
        } = &mut out;
        text.clear();
        text.reserve(len);
        token_list.clear();
        token_list.reserve(room(tokens, len / 4));
        origin.clear();
        origin.reserve(room(offsets, len));
        original_bytes.clear();
        // A chunk's slots are written before those past its code points are dropped.
        original_bytes.reserve(room(offsets, len + CHUNK));
        Builder {
            lowercase,
            tokens,
            offsets,
            out,
            pending_space: None,
            // Replaced when the first word opens.
            word: Token {
                start: 0,
                end: 0,
                kind: TokenKind::Number,
                capitalised: false,
                all_upper: false,
                letters: 0,
                line_start: false,
            },
            word_open: false,
            line_start: true,
            text_start: 0,
        }
    }

    /// Whether the text being fed has anything written yet.
    fn text_written(&self) -> bool {
        self.out.text.len() > self.text_start
    }

    fn feed(&mut self, original: &str) {
        let mut rest = original;
        while !rest.is_empty() {
            let at = original.len() - rest.len();
            rest = match self.push_stretch(rest, at) {
                0 => self.push_cluster(rest, at),
                len => rest.get(len..).unwrap_or_default(),
            };
        }
    }

    /// Pushes the stretch at the start of `rest` and returns its length in bytes: runs of letters
    /// and digits (see [`Run`]) and ASCII punctuation marks, with single ASCII spaces between
    /// them, as long as each normalises to itself. The first run continues the open word, if any.
    ///
    /// This is most of any text, so it is done in bulk: tokens are made a run at a time, from
    /// offsets in the original (the normalised text of a stretch is as long, but for retoned
    /// words, which are copied first), and the text and its offset map are written a stretch at
    /// a time. Most pieces go through [`Builder::push_plain_pieces`]; this takes the first and
    /// those that need more.
    #[inline(never)]
    fn push_stretch(&mut self, rest: &str, at: usize) -> usize {
        if !rest
            .as_bytes()
            .first()
            .is_some_and(|&b| may_start_stretch(b))
        {
            return 0;
        }
        let mut next = Next::at(rest, 0, self.keeps_leading_space());
        let punct = next.run.len == 0;
        if punct && !plain_punct_at(rest, next.from) {
            return 0;
        }
        self.flush_space();
        if (next.from > 0 || punct) && self.word_open {
            // The open word is all in the text: stretches are copied as they end.
            self.close_word();
        }
        // The stretch is in the text up to byte `copied`.
        let mut copied = 0;
        let end = loop {
            let Next { end, from, run } = next;
            let start = (self.out.text.len() + from - copied) as u32;
            let end = if run.len > 0 {
                let word_end = start + run.len as u32;
                let (letters, upper) = (run.letters, run.upper_letters);
                self.grow_word(start, word_end, run.capitalised, letters, upper);
                let end = from + run.len;
                if run.non_ascii_capitals > 0 && self.lowercase {
                    // Rare enough to copy what comes before and lower-case the run on its own.
                    self.copy_verbatim(rest, at, &mut copied, from);
                    self.push_lowered(rest.get(from..end).unwrap_or_default(), at + from);
                    copied = end;
                }
                if !run.ends_word {
                    // What follows goes on with the word or needs the general path.
                    break end;
                }
                // Ended now rather than at the next piece, which leaves that to the plain pieces.
                if may_retone(rest.as_bytes(), end) {
                    self.close_word_in_text(rest, at, end, &mut copied);
                } else {
                    self.push_word();
                }
                end
            } else if plain_punct_at(rest, from) {
                self.push_punct(start, start + 1);
                from + 1
            } else {
                break end;
            };
            // Past the first piece no word is open: a run that leaves its word open ends the
            // stretch. Short texts (names, keys) have too few pieces left to pay for the plain
            // pieces' start and end, and text recorded without its tokens (match keys, display
            // forms) has nothing for them to do.
            debug_assert!(!self.word_open);
            next = if self.tokens && rest.len() - end > PLAIN_PIECES_MIN_LEN {
                self.push_plain_pieces(rest, end, self.out.text.len() + end - copied)
            } else {
                Next::at(rest, end, true)
            };
        };
        self.copy_verbatim(rest, at, &mut copied, end);
        end
    }

    /// Pushes the pieces of the stretch `rest` from byte `first` on, where no word is open and
    /// tokens are recorded, as long as each needs nothing but its token: punctuation marks, and
    /// runs that are words of their own (ended by what follows them, neither lower-cased nor
    /// retoned). Returns what it
    /// stopped at, for [`Builder::push_stretch`] to take. Byte `first` of `rest` goes to byte
    /// `text_at` of the text, and the pieces after it as far on.
    ///
    /// Nothing but the tokens changes, so the loop keeps its state in registers.
    #[inline(never)]
    fn push_plain_pieces(&mut self, rest: &str, first: usize, text_at: usize) -> Next {
        // Past the stretch's start, so every space is kept (see `keeps_leading_space`) and the
        // first piece took the line start. Only called when tokens are recorded.
        debug_assert!(first > 0 && !self.word_open);
        debug_assert!(self.tokens && !self.line_start);
        let mut end = first;
        loop {
            let Next { from, run, .. } = Next::at(rest, end, true);
            // Nothing is copied in this loop, so a piece lands in the text as far after `text_at`
            // as it is after `first` in the stretch.
            let start = (text_at + (from - first)) as u32;
            if run.len == 0 {
                if !plain_punct_at(rest, from) {
                    return Next { end, from, run };
                }
                self.push_punct(start, start + 1);
                end = from + 1;
            } else if run.ends_word
                && !(run.non_ascii_capitals > 0 && self.lowercase)
                && !may_retone(rest.as_bytes(), from + run.len)
            {
                let word_end = start + run.len as u32;
                let (letters, upper) = (run.letters, run.upper_letters);
                let word = word_token(start, word_end, run.capitalised, letters, upper, false);
                self.out.tokens.push(word);
                end = from + run.len;
            } else {
                return Next { end, from, run };
            }
        }
    }

    /// Whether a space at the start of a stretch is written as it is, as `space` and
    /// `flush_space` would: after an open word or other text. Past the start, every space is.
    fn keeps_leading_space(&self) -> bool {
        self.word_open || (self.pending_space.is_none() && self.text_written())
    }

    /// Ends the open word, which ends at byte `end` of the stretch `rest`, through the text:
    /// retoning works on the text, so the word must be in it.
    #[cold]
    #[inline(never)]
    fn close_word_in_text(&mut self, rest: &str, at: usize, end: usize, copied: &mut usize) {
        self.copy_verbatim(rest, at, copied, end);
        self.close_word();
    }

    /// Extends the word being built (opened at `start` if there is none, `capitalised` if its
    /// first letter is upper case) to byte `end`, with `letters` more letters, `upper` of them
    /// upper case.
    #[inline]
    fn grow_word(&mut self, start: u32, end: u32, capitalised: bool, letters: usize, upper: usize) {
        if self.word_open {
            grow(&mut self.word, end, letters, upper);
        } else {
            let line_start = std::mem::take(&mut self.line_start);
            self.word = word_token(start, end, capitalised, letters, upper, line_start);
            self.word_open = true;
        }
    }

    /// Copies the stretch `rest`, at byte `at` of the original, into the text from byte
    /// `copied` up to byte `to`.
    fn copy_verbatim(&mut self, rest: &str, at: usize, copied: &mut usize, to: usize) {
        let text = rest.get(*copied..to).unwrap_or_default();
        self.push_verbatim(text, at + *copied);
        *copied = to;
    }

    /// Pushes `text`, at byte `at` of the original, with its offset map; when lower-casing, its
    /// upper-case letters are ASCII.
    fn push_verbatim(&mut self, text: &str, at: usize) {
        let start = self.out.text.len();
        self.out.text.push_str(text);
        // Lower-casing every copy costs less than counting capitals to skip it.
        if self.lowercase {
            if let Some(pushed) = self.out.text.get_mut(start..) {
                pushed.make_ascii_lowercase();
            }
        }
        self.map_verbatim(at, text.len());
    }

    /// Pushes `text`, at byte `at` of the original, lower-cased as letters of [`latin_case`],
    /// with its offset map.
    fn push_lowered(&mut self, text: &str, at: usize) {
        for c in text.chars() {
            self.out
                .text
                .push(latin_case(c).map_or(c, |(lower, _)| lower));
        }
        self.map_verbatim(at, text.len());
    }

    /// Writes the offset maps of the last `len` bytes written, which are bytes `at..at + len` of
    /// the original (or characters of the same lengths in their place): each byte maps to the
    /// code point it is part of, and each code point to its byte.
    fn map_verbatim(&mut self, at: usize, len: usize) {
        if !self.offsets {
            return;
        }
        let text = self.out.text.as_bytes();
        let pushed = text.get(text.len() - len..).unwrap_or_default();
        let (origin, original_bytes) = (&mut self.out.origin, &mut self.out.original_bytes);
        let mut chunks = pushed.chunks_exact(CHUNK);
        for (chunk, offset) in chunks.by_ref().zip((at as u32..).step_by(CHUNK)) {
            let starts = usize::from(starts_mask(chunk));
            let up_to = STARTS_UP_TO[starts];
            // The code points started before; the chunk's first byte starts one or continues the
            // last of them.
            let before = original_bytes.len() as u32;
            origin.extend_from_slice(&up_to.map(|n| before + n - 1));
            // All of a chunk's slots are written, and those past its code points dropped.
            original_bytes.extend_from_slice(&START_POSITIONS[starts].map(|p| offset + p));
            original_bytes.truncate((before + up_to[CHUNK - 1]) as usize);
        }
        let tail = at + pushed.len() - chunks.remainder().len();
        for (offset, &b) in chunks.remainder().iter().enumerate() {
            if is_char_start(b) {
                original_bytes.push((tail + offset) as u32);
            }
            origin.push(original_bytes.len() as u32 - 1);
        }
    }

    /// Pushes the cluster at the start of `rest`, a character and the combining marks after it,
    /// every character it normalises to mapped to its first code point. Returns what follows.
    fn push_cluster<'a>(&mut self, rest: &'a str, at: usize) -> &'a str {
        let mut chars = rest.chars();
        let Some(base) = chars.next() else {
            return rest;
        };
        let origin = self.out.original_bytes.len() as u32;
        self.map_code_point(at);
        let mut len = base.len_utf8();
        if !mark_at(rest, len) {
            self.push_char(base, origin);
            return chars.as_str();
        }
        for mark in chars.take_while(|&m| is_mark(m)) {
            self.map_code_point(at + len);
            len += mark.len_utf8();
        }
        let (cluster, rest) = rest.split_at(len);
        for c in cluster.nfc() {
            self.push_original(c, origin);
        }
        rest
    }

    /// Records that the original's next code point starts at its byte `at`.
    fn map_code_point(&mut self, at: usize) {
        if self.offsets {
            self.out.original_bytes.push(at as u32);
        }
    }

    /// Pushes a character that is a cluster of its own.
    fn push_char(&mut self, c: char, origin: u32) {
        // The commonest character outside stretches, and nothing but a space.
        if c == ' ' {
            self.space(origin, false);
        } else if is_nfc_alone(c) {
            self.push_original(c, origin);
        } else {
            for n in std::iter::once(c).nfc() {
                self.push_original(n, origin);
            }
        }
    }

    fn push_original(&mut self, c: char, origin: u32) {
        match fold(c) {
            Fold::Space { newline } => self.space(origin, newline),
            Fold::Ampersand => {
                self.space(origin, false);
                self.letters("và", origin, false);
                self.space(origin, false);
            }
            Fold::Keep(k) => self.push_cased(k, origin),
        }
    }

    fn push_cased(&mut self, c: char, origin: u32) {
        if let Some((lower, upper)) = latin_case(c) {
            self.emit(if self.lowercase { lower } else { c }, origin, upper);
            return;
        }
        let upper = c.is_uppercase();
        if self.lowercase && upper {
            for l in c.to_lowercase() {
                self.emit(l, origin, upper);
            }
        } else {
            self.emit(c, origin, upper);
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

    /// Writes out the whitespace pending before the next character, if any.
    #[inline]
    fn flush_space(&mut self) {
        if let Some((space_origin, newline)) = self.pending_space.take() {
            if self.text_written() {
                self.raw(if newline { '\n' } else { ' ' }, space_origin);
            }
            if newline {
                self.line_start = true;
            }
        }
    }

    fn emit(&mut self, c: char, origin: u32, upper: bool) {
        self.flush_space();
        match role(c) {
            Role::Punct => self.punct(c, origin),
            role => self.word_char(c, origin, upper, role == Role::Letter),
        }
    }

    #[inline]
    fn word_char(&mut self, c: char, origin: u32, upper: bool, letter: bool) {
        let start = self.out.text.len() as u32;
        self.raw(c, origin);
        let end = self.out.text.len() as u32;
        let letters = usize::from(letter);
        self.grow_word(start, end, upper, letters, letters & usize::from(upper));
    }

    /// Ends the current word as it is.
    fn push_word(&mut self) {
        self.word_open = false;
        self.push_word_token(self.word);
    }

    /// Records the token of a word that has ended.
    #[inline]
    fn push_word_token(&mut self, word: Token) {
        if self.tokens {
            self.out.tokens.push(word);
        }
    }

    fn punct(&mut self, c: char, origin: u32) {
        self.close_word();
        let start = self.out.text.len() as u32;
        self.raw(c, origin);
        self.push_punct(start, self.out.text.len() as u32);
    }

    /// Records the punctuation mark at bytes `start..end` of the text.
    fn push_punct(&mut self, start: u32, end: u32) {
        if self.tokens {
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

    #[inline]
    fn raw(&mut self, c: char, origin: u32) {
        self.out.text.push(c);
        self.map_bytes(origin, c.len_utf8());
    }

    /// Maps the last `len` bytes written to the original code point `origin`.
    #[inline]
    fn map_bytes(&mut self, origin: u32, len: usize) {
        if self.offsets {
            let len = self.out.origin.len() + len;
            self.out.origin.resize(len, origin);
        }
    }

    /// Ends the current word: fixes old tone placement, then records the token.
    fn close_word(&mut self) {
        if !self.word_open {
            return;
        }
        // The word is the end of the text, and a tone can only sit on a non-ASCII last letter.
        if self
            .out
            .text
            .as_bytes()
            .last()
            .is_some_and(|b| !b.is_ascii())
        {
            self.retone_tail();
        }
        self.push_word();
    }

    /// Moves the tone of the word being built, at the end of the text, to its new place.
    fn retone_tail(&mut self) {
        let start = self.word.start as usize;
        let Some(word) = self.out.text.get(start..) else {
            return;
        };
        let mut tail = word.char_indices().rev();
        let (Some((yi, y)), Some((xi, x))) = (tail.next(), tail.next()) else {
            return;
        };
        let before = tail.next().map(|(_, b)| b);
        let Some((nx, ny)) = retone(before, x, y) else {
            return;
        };
        let (xi, yi) = (start + xi, start + yi);
        let origin_x = self.out.origin.get(xi).copied();
        let origin_y = self.out.origin.get(yi).copied();
        self.out.text.truncate(xi);
        self.out.text.push(nx);
        self.out.text.push(ny);
        if let (Some(ox), Some(oy)) = (origin_x, origin_y) {
            self.out.origin.truncate(xi);
            self.map_bytes(ox, nx.len_utf8());
            self.map_bytes(oy, ny.len_utf8());
        }
        self.word.end = self.out.text.len() as u32;
    }

    fn finish(mut self) -> Normalized {
        self.close_word();
        self.out
    }

    /// Ends the text fed so far, as [`Builder::finish`] would, so that the next is fed as if it
    /// were the first, after it.
    fn end_text(&mut self) {
        // The maps count the original's code points from the first text's start.
        debug_assert!(!self.offsets);
        self.close_word();
        self.pending_space = None;
        self.line_start = true;
        self.text_start = self.out.text.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{any, prop, prop_oneof, Strategy};

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
    fn names_written_as_displayed_are_recognised() {
        let rows = [
            ("Nguyễn Văn An", 0),
            ("UBND tỉnh Hà Nam", 0),
            ("Bà Rịa-Vĩnh Long", 0),
            ("F1 (ĐẢNG)", 2),
            ("", 0),
        ];
        for (text, capitals) in rows {
            assert_eq!(display_form_capitals(text), Some(capitals), "{text:?}");
        }
        for text in [
            "Hoà",
            "Thuý Kiều",
            "a  b",
            " a",
            "a ",
            "a&b",
            "a\nb",
            "a\u{a0}b",
            "ạ\u{301}",
        ] {
            assert_eq!(display_form_capitals(text), None, "{text:?}");
        }
    }

    #[test]
    fn token_display_forms_are_the_originals_display_forms() {
        let original =
            "Ông NGUYỄN Văn An (Hoà Bình),  ĐẢNG ủy Thuý\nKiều; Ðà k\u{212a} Ạ\u{301}b 12.5";
        let n = Normalized::new(original);
        for first in 0..n.tokens.len() {
            for last in first + 1..=n.tokens.len() {
                let (start, end) = n.token_span(first, last);
                let text = n.original_slice(original, start, end);
                let form = n.token_display_form(original, first, last);
                assert_eq!(form, display_form(text), "{text:?}");
                assert_eq!(matches!(form, Cow::Borrowed(_)), form == text, "{text:?}");
            }
        }
    }

    #[test]
    fn recased_texts_differ_from_their_normalised_form_in_case_only() {
        assert!(is_recased("Nguyễn Văn AN Đà ẠB", "nguyễn văn an đà ạb"));
        assert!(is_recased("", ""));
        for (original, normalized) in [
            ("Hoà", "hòa"),
            ("Ðà", "đà"),
            ("\u{212a}", "k"),
            ("a", "A"),
            ("ab", "a"),
            ("Nguyễn Văn An-", "nguyễn văn an_"),
        ] {
            assert!(!is_recased(original, normalized), "{original:?}");
        }
    }

    #[test]
    fn display_form_keeps_case() {
        assert_eq!(display_form("Huyện  Uỷ"), "Huyện Ủy");
    }

    /// Each token as `text|original text|kind|flags|letters`, with flags `c` capitalised,
    /// `u` all upper case and `l` line start, each 0 or 1.
    fn describe(original: &str) -> Vec<String> {
        let n = Normalized::new(original);
        (0..n.tokens.len())
            .map(|i| {
                let t = n.tokens[i];
                let (start, end) = n.token_span(i, i + 1);
                format!(
                    "{}|{}|{:?}|c{}u{}l{}|{}",
                    n.token_text(i, i + 1),
                    n.original_slice(original, start, end),
                    t.kind,
                    u8::from(t.capitalised),
                    u8::from(t.all_upper),
                    u8::from(t.line_start),
                    t.letters
                )
            })
            .collect()
    }

    #[test]
    fn letters_before_combining_marks_compose_with_them() {
        let n = Normalized::new("Nguye\u{302}\u{303}n Văn");
        assert_eq!(n.text, "nguyễn văn");
        assert_eq!(
            describe("Nguye\u{302}\u{303}n Văn"),
            [
                "nguyễn|Nguye\u{302}\u{303}n|Word|c1u0l1|6",
                "văn|Văn|Word|c1u0l0|3"
            ]
        );
    }

    #[test]
    fn running_text_keeps_flags_offsets_and_tone_placement() {
        let original = " \u{a0}Hoà An, THUÝ\u{a0}Khoẻ.";
        assert_eq!(Normalized::new(original).text, "hòa an, thúy khỏe.");
        assert_eq!(
            describe(original),
            [
                "hòa|Hoà|Word|c1u0l1|3",
                "an|An|Word|c1u0l0|2",
                ",|,|Punct|c0u0l0|0",
                "thúy|THUÝ|Word|c1u1l0|4",
                "khỏe|Khoẻ|Word|c1u0l0|4",
                ".|.|Punct|c0u0l0|0"
            ]
        );
    }

    #[test]
    fn vietnamese_capitals_are_lower_cased() {
        assert_eq!(
            describe("ĐẢNG Cộng sản"),
            [
                "đảng|ĐẢNG|Word|c1u1l1|4",
                "cộng|Cộng|Word|c1u0l0|4",
                "sản|sản|Word|c0u0l0|3"
            ]
        );
        assert_eq!(display_form("ĐẢNG  Cộng"), "ĐẢNG Cộng");
    }

    #[test]
    fn combining_marks_stay_with_what_they_follow() {
        // A mark after a space is in the space's cluster, so the word maps back from the space.
        assert_eq!(Normalized::new("a\u{301}, \u{301}b").text, "á, \u{301}b");
        assert_eq!(
            describe("a\u{301}, \u{301}b"),
            [
                "á|a\u{301}|Word|c0u0l1|1",
                ",|,|Punct|c0u0l0|0",
                "\u{301}b| \u{301}b|Word|c0u0l0|1"
            ]
        );
    }

    #[test]
    fn numbers_line_breaks_and_ampersands() {
        assert_eq!(
            describe("12 ab\r\nXy"),
            [
                "12|12|Number|c0u1l1|0",
                "ab|ab|Word|c0u0l0|2",
                "xy|Xy|Word|c1u0l1|2"
            ]
        );
        assert_eq!(
            describe("A&B"),
            [
                "a|A|Word|c1u1l1|1",
                "và||Word|c0u0l0|2",
                "b|B|Word|c1u1l0|1"
            ]
        );
    }

    #[test]
    fn letter_counts_saturate() {
        let n = Normalized::new(&"a".repeat(300));
        assert_eq!(n.tokens[0].letters, u8::MAX);
    }

    /// Every character, for checking the fast paths against the Unicode tables.
    fn all_chars() -> impl Iterator<Item = char> {
        (0..=u32::from(char::MAX)).filter_map(char::from_u32)
    }

    #[test]
    fn latin_case_agrees_with_unicode() {
        for c in all_chars() {
            let Some((lower, upper)) = latin_case(c) else {
                continue;
            };
            assert_eq!(upper, c.is_uppercase(), "{c:?}");
            let want = if upper {
                c.to_lowercase().collect()
            } else {
                c.to_string()
            };
            assert_eq!(lower.to_string(), want, "{c:?}");
            // Lower-casing in place relies on this.
            assert_eq!(lower.len_utf8(), c.len_utf8(), "{c:?}");
        }
    }

    #[test]
    fn letter_tables_agree_with_latin_case() {
        for c in all_chars().filter(|c| !c.is_ascii()) {
            let mut buf = [0; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let tabled = matches!(c, '\u{80}'..='\u{7FF}' | '\u{1E80}'..='\u{1EFF}');
            let want = latin_case(c)
                .filter(|_| tabled && is_letter(c))
                .map(|(_, upper)| (bytes.len(), upper));
            assert_eq!(latin_letter(bytes, 0), want, "{c:?}");
        }
    }

    #[test]
    fn fast_paths_agree_with_unicode_tables() {
        for c in all_chars() {
            assert_eq!(is_mark(c), is_combining_mark(c), "{c:?}");
            let nfc = is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes;
            assert_eq!(is_nfc_alone(c), nfc, "{c:?}");
            let s = format!("a{c}");
            assert_eq!(mark_at(&s, 1), is_mark(c), "{c:?}");
        }
    }

    #[test]
    fn offset_maps_match_char_indices() {
        let pieces = ["a", "ệ", "đ", "😀", "中", " ", "ữ"];
        for len in 0..40 {
            let s: String = (0..len)
                .map(|i| pieces[(i * 5 + len) % pieces.len()])
                .collect();
            let n = Normalized::new(&s);
            let want: Vec<u32> = s.char_indices().map(|(i, _)| i as u32).collect();
            assert_eq!(n.original_bytes, want, "{s:?}");
            // Text that normalises to itself maps each byte to the character it is part of.
            if !s.starts_with(' ') {
                assert_eq!(n.text, s.trim_end(), "{s:?}");
                let want: Vec<u32> = (s.chars().enumerate())
                    .flat_map(|(i, c)| std::iter::repeat_n(i as u32, c.len_utf8()))
                    .take(n.text.len())
                    .collect();
                assert_eq!(n.origin, want, "{s:?}");
            }
        }
    }

    /// `original` normalised by the general path alone, a cluster at a time.
    fn through_general_path(original: &str, lowercase: bool) -> Normalized {
        let mut builder = Builder::new(lowercase, Record::Offsets, original.len());
        let mut rest = original;
        while !rest.is_empty() {
            rest = builder.push_cluster(rest, original.len() - rest.len());
        }
        builder.finish()
    }

    /// Asserts that the fast paths normalise `original` exactly as the general path does: text,
    /// tokens and the map back to the original, lower-cased and not; the same text when nothing
    /// else is recorded (as for match keys and display forms); the same text and tokens when
    /// tokenised among other texts without offset maps (as gazetteer keys are).
    fn assert_fast_path_agrees(original: &str) {
        for lowercase in [true, false] {
            let mut builder = Builder::new(lowercase, Record::Offsets, original.len());
            builder.feed(original);
            let fast = builder.finish();
            let general = through_general_path(original, lowercase);
            assert_eq!(fast.text, general.text, "{original:?}");
            assert_eq!(fast.tokens, general.tokens, "{original:?}");
            assert_eq!(fast.origin, general.origin, "{original:?}");
            assert_eq!(fast.original_bytes, general.original_bytes, "{original:?}");
            let mut builder = Builder::new(lowercase, Record::Text, original.len());
            builder.feed(original);
            let fast = builder.finish();
            assert_eq!(fast.text, general.text, "{original:?}");
            assert_eq!(fast.tokens, [], "{original:?}");
            let key_or_form = if lowercase { match_key } else { display_form };
            assert_eq!(key_or_form(original), general.text, "{original:?}");
        }
        // Gazetteer keys are tokenised one after another, each as if it were alone.
        let neighbour = "Ông Hoà\n";
        let texts = [neighbour, original, neighbour];
        let keys = Tokenized::new(texts.into_iter());
        let mut start = 0;
        for (text, tokens) in texts.into_iter().zip(keys.texts()) {
            let general = through_general_path(text, true);
            let end = start + general.text.len();
            assert_eq!(
                keys.text.get(start..end),
                Some(&*general.text),
                "{original:?}"
            );
            let shift = |t: &Token| Token {
                start: t.start + start as u32,
                end: t.end + start as u32,
                ..*t
            };
            let want: Vec<Token> = general.tokens.iter().map(shift).collect();
            assert_eq!(tokens, want, "{original:?}");
            start = end;
        }
        assert_eq!(keys.text.len(), start, "{original:?}");
    }

    #[test]
    fn fast_path_agrees_with_general_path_on_tricky_text() {
        let nfd: String = "Nguyễn Văn Thuý".nfd().collect();
        let rows = [
            "Uỷ ban nhân dân xã Hoà An, THUÝ Khoẻ.",
            &nfd,
            "ĐẢNG Cộng sản ViỆt Nam: HĐND&UBND",
            "a\u{a0}b  c \n d\r\n\ne",
            " leading, trailing ",
            "a\u{301}, \u{301}b ,\u{301} x.\u{300}",
            "e\u{302}\u{303} Hoa\u{300} u\u{309}y",
            "12ab AB12 3.5 x2 Ă ă Ư ư Ơ ơ Đ đ",
            "quý Quý QUÝ thuý oà oạ uỷ",
            // Retoned to fewer bytes (`ỳ` is three, `ù` two).
            "Thuỳ Linh, uỹ oẽ",
            "mid-word ThànhPhố HồChíMinh aBc",
            "İstanbul ẞ ǅ Ωmega \u{1f600} 中文",
            "ends mid-wor",
            "ends on a capital Ấ",
            "ends on a mark ạ\u{301}",
            "xoà",
            "oà",
            "à",
            "&",
            "",
        ];
        for row in rows {
            assert_fast_path_agrees_with_leads(row);
        }
    }

    /// Text long enough for [`Builder::push_plain_pieces`] to take what follows.
    const LEAD: &str = "các đại biểu, ông bà và người dân tham dự ";

    /// [`assert_fast_path_agrees`] on `text` alone, and before and after [`LEAD`], so that the
    /// plain pieces take what they can of it, and what they stop at and hand to
    /// [`Builder::push_stretch`] is followed by enough for them to start again.
    fn assert_fast_path_agrees_with_leads(text: &str) {
        assert!(LEAD.len() > PLAIN_PIECES_MIN_LEN);
        assert_fast_path_agrees(text);
        assert_fast_path_agrees(&format!("{LEAD}{text}"));
        assert_fast_path_agrees(&format!("{text} {LEAD}"));
        assert_fast_path_agrees(&format!("{LEAD}{text} {LEAD}"));
    }

    #[test]
    fn stretches_go_on_from_where_the_plain_pieces_stop() {
        // After each lead the plain pieces run until they stop at what needs more than a token,
        // which the stretch takes from them as they read it: capitalised non-ASCII words, words
        // to retone, words that go on past their run (NFD letters, a typographic quote) and the
        // end of the text.
        let nfd: String = "Nguyễn Văn".nfd().collect();
        let text = format!(
            "Hoà {LEAD}ĐẢNG Cộng sản, Đà Nẵng; {LEAD}“Thuý” {nfd} {LEAD}UBND TỈNH {LEAD}Thuỳ"
        );
        assert_fast_path_agrees(&text);
        assert_eq!(
            Normalized::new(&text).text,
            format!(
                "hòa {LEAD}đảng cộng sản, đà nẵng; {LEAD}\"thúy\" nguyễn văn {LEAD}ubnd tỉnh \
                 {LEAD}thùy"
            )
        );
        let tokens = describe(&text);
        for want in [
            "hòa|Hoà|Word|c1u0l1|3",
            "đảng|ĐẢNG|Word|c1u1l0|4",
            "đà|Đà|Word|c1u0l0|2",
            "thúy|Thuý|Word|c1u0l0|4",
            "tỉnh|TỈNH|Word|c1u1l0|4",
            "thùy|Thuỳ|Word|c1u0l0|4",
        ] {
            assert!(tokens.iter().any(|t| t == want), "{want:?} in {tokens:?}");
        }
    }

    /// A piece of text for the property test: Vietnamese words in their spellings, separators
    /// and the characters that send text off the fast path.
    fn piece() -> impl Strategy<Value = String> {
        const WORDS: &[&str] = &[
            "Uỷ", "ban", "Hoà", "HOÀ", "khoẻ", "Thuý", "quý", "Nguyễn", "ĐẢNG", "người", "Việt",
            "a", "A", "oà", "uỷ", "o", "u", "12", "x2", "ệ", "Ữ", "đ", "ăn", "ƯỚC", "İ", "ǅ",
        ];
        let word = (prop::sample::select(WORDS), 0..3u8).prop_map(|(w, form)| match form {
            0 => w.to_string(),
            1 => w.nfd().collect(),
            _ => w.to_uppercase(),
        });
        const SEPARATORS: &[&str] = &[
            " ",
            " ",
            "  ",
            "\u{a0}",
            "\n",
            "\r\n",
            ",",
            ".",
            "&",
            "-",
            "–",
            "“",
            "\u{300}",
            "\u{301}",
            "\u{323}",
            "\u{200b}",
            "\t",
            "(",
            "\u{1f600}",
        ];
        let separator = prop::sample::select(SEPARATORS).prop_map(str::to_string);
        prop_oneof![4 => word, 3 => separator, 1 => any::<char>().prop_map(String::from)]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn fast_path_agrees_with_general_path(
            pieces in proptest::collection::vec(piece(), 0..24)
        ) {
            assert_fast_path_agrees_with_leads(&pieces.concat());
        }
    }
}

//! The usual JSON line, `{"id": "…", "text": "…"}`, read without serde_json. serde_json looks
//! for the end of a string eight bytes at a time and copies a string with escapes (every text
//! has its `\n`s) twice; reading the usual line here takes less than half its instructions. Only a
//! line that is one object of the string fields `id` and `text` (each at most once, `text`
//! present) whose strings need no `\u` escape is read here; any other line, and every error, is
//! left to serde_json, which decides it and words its errors as before.

use crate::bytes::{control_bytes, equal_bytes, find_first};

/// The id (if given) and the text of a usual line; `None` for any other line.
pub fn read(line: &str) -> Option<(Option<String>, String)> {
    let mut cursor = Cursor { line, at: 0 };
    let mut id = None;
    let mut text = None;
    cursor.expect(b'{')?;
    loop {
        // The text is most of the line: once it has an escape, room for the rest is reserved.
        let (field, most_of_line) = match cursor.raw_string()? {
            b"id" if id.is_none() => (&mut id, false),
            b"text" if text.is_none() => (&mut text, true),
            _ => return None,
        };
        cursor.expect(b':')?;
        *field = Some(cursor.string(most_of_line)?);
        match cursor.next_byte()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    cursor.skip_space();
    (cursor.at == line.len()).then_some((id, text?))
}

struct Cursor<'a> {
    line: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn skip_space(&mut self) {
        let rest = &self.line.as_bytes()[self.at..];
        self.at += rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
    }

    /// The next byte after white space, taken.
    fn next_byte(&mut self) -> Option<u8> {
        self.skip_space();
        let byte = *self.line.as_bytes().get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next_byte()? == wanted).then_some(())
    }

    /// A string with no escapes, as it stands (a field name).
    fn raw_string(&mut self) -> Option<&[u8]> {
        self.expect(b'"')?;
        let start = self.at;
        let end = start + plain_run(&self.line.as_bytes()[start..]);
        self.at = end + 1;
        (self.line.as_bytes().get(end)? == &b'"').then(|| &self.line.as_bytes()[start..end])
    }

    /// A string value, its one-character escapes undone; `most_of_line` if it may run on to the
    /// line's end, to size the copy made at its first escape.
    fn string(&mut self, most_of_line: bool) -> Option<String> {
        self.expect(b'"')?;
        let bytes = self.line.as_bytes();
        // Filled only once an escape is met: a string without one is copied once, at its end.
        let mut unescaped = String::new();
        loop {
            let start = self.at;
            let end = start + plain_run(&bytes[start..]);
            let piece = &self.line[start..end];
            if *bytes.get(end)? == b'"' {
                self.at = end + 1;
                if unescaped.capacity() == 0 {
                    return Some(piece.to_owned());
                }
                unescaped.push_str(piece);
                return Some(unescaped);
            }
            if bytes[end] != b'\\' {
                // A control character, which JSON wants escaped.
                return None;
            }
            let escaped = match bytes.get(end + 1)? {
                b'n' => '\n',
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b't' => '\t',
                b'r' => '\r',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                // `\u` (and surrogate pairs), or a bad escape.
                _ => return None,
            };
            if unescaped.capacity() == 0 {
                // The string is no longer than the rest of the line.
                let room = if most_of_line { bytes.len() } else { end + 2 };
                unescaped.reserve(room - start);
            }
            unescaped.push_str(piece);
            unescaped.push(escaped);
            self.at = end + 2;
        }
    }
}

/// How many bytes from the start of `bytes` need no attention inside a JSON string: none is a
/// quote, a backslash or a control character. Thirty-two bytes are tested at once, with no
/// branch inside, which the compiler turns into vector instructions; the block with the byte
/// that stops the run is then searched eight bytes at a time.
fn plain_run(bytes: &[u8]) -> usize {
    // Zero exactly for a quote, a backslash or a control character.
    let plain = |b: u8| (b ^ b'"').min(b ^ b'\\').min(b.saturating_sub(0x1f));
    let (blocks, _) = bytes.as_chunks::<32>();
    let mut start = 0;
    for block in blocks {
        if block.iter().fold(false, |any, &b| any | (plain(b) == 0)) {
            break;
        }
        start += 32;
    }
    let rest = &bytes[start..];
    let flags = |word| equal_bytes(word, b'"') | equal_bytes(word, b'\\') | control_bytes(word);
    start + find_first(rest, flags, |b| plain(b) == 0).unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Serde {
        id: Option<String>,
        text: Option<String>,
    }

    impl Serde {
        /// What [`read`] gave, as serde_json would give it.
        fn of((id, text): (Option<String>, String)) -> Serde {
            Serde {
                id,
                text: Some(text),
            }
        }
    }

    #[test]
    fn usual_lines_read_as_serde_json_reads_them() {
        let long = "Hà Nội \\\"x\\\" ".repeat(9);
        let lines = [
            r#"{"id":"a","text":"Bí thư Tỉnh ủy"}"#.to_string(),
            r#" { "text" : "a\nb\\c\/d\te\rf\bg\fh\"" , "id" : "" } "#.to_string(),
            "{\"text\":\"\"}\r\t".to_string(),
            format!(r#"{{"id": "gen-1", "text": "{long}\n\n{long}"}}"#),
            format!(r#"{{"text": "{long}"}}"#),
        ];
        for line in &lines {
            let serde: Serde = serde_json::from_str(line).unwrap();
            let read = read(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(Serde::of(read), serde, "{line}");
        }
    }

    #[test]
    fn any_ascii_byte_in_a_string_reads_as_serde_json_reads_it() {
        for byte in 0..0x80u8 {
            for escaped in [false, true] {
                for at in 0..40 {
                    let mut body = "n".repeat(40) + &"ắ".repeat(12);
                    let inserted = if escaped {
                        format!("\\{}", byte as char)
                    } else {
                        (byte as char).to_string()
                    };
                    body.insert_str(at, &inserted);
                    let line = format!(r#"{{"id":"d","text":"{body}"}}"#);
                    let serde = serde_json::from_str::<Serde>(&line);
                    match (read(&line), serde) {
                        (Some(read), Ok(serde)) => assert_eq!(Serde::of(read), serde, "{line}"),
                        (Some(_), Err(error)) => {
                            panic!("{line}: read, but serde_json says {error}")
                        }
                        (None, Ok(_)) => assert!(escaped && byte == b'u', "{line}"),
                        (None, Err(_)) => {}
                    }
                }
            }
        }
    }

    #[test]
    fn other_lines_are_left_to_serde_json() {
        let lines = [
            r#"{"id":"a"}"#,
            r#"{"id":1,"text":"x"}"#,
            r#"{"id":null,"text":"x"}"#,
            r#"{"id":"a","text":null}"#,
            r#"{"id":"a","text":"x","lang":"vi"}"#,
            r#"{"text":"x","text":"y"}"#,
            r#"{"id":"a","id":"b","text":"y"}"#,
            r#"{"t\u0065xt":"x"}"#,
            r#"{"text":"\u0041"}"#,
            r#"{"text":"\ud83d\ude00"}"#,
            r#"{"text":"\x"}"#,
            "{\"text\":\"a\tb\"}",
            r#"{"text":"x"} x"#,
            r#"{"text":"x"}}"#,
            r#"{"text":"x",}"#,
            r#"{"text":"x""#,
            r#"{"text":"x"#,
            r#"{"text":"x\"#,
            r#"["text","x"]"#,
            r#"{}"#,
            "not json",
        ];
        for line in lines {
            assert_eq!(read(line), None, "{line}");
        }
    }

    #[test]
    fn a_plain_run_stops_where_a_byte_scan_stops() {
        let text = "abcdefghijklmnopqrstuvwxyzắằẳẵặ\"\\\t\u{1f}0123456789abcdefghij".as_bytes();
        for start in 0..text.len() {
            for end in start..=text.len() {
                let bytes = &text[start..end];
                let scan = bytes
                    .iter()
                    .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
                    .unwrap_or(bytes.len());
                assert_eq!(plain_run(bytes), scan, "{bytes:?}");
            }
        }
    }
}

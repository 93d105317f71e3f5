//! The rule language's parser: rule files → syntax trees. The language is documented, one example
//! per construct, in `rules/README.md`.

use crate::gazetteer::Origin;
use crate::text::match_key;

/// Token classes a pattern can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A word whose first letter is upper case.
    Cap,
    /// A capitalised word that is not in capitals (`Thanh`, not `THANH`): a name's syllable.
    Name,
    /// A word of two or more letters, all upper case.
    Upper,
    /// A word whose first letter is lower case.
    Lower,
    /// Any word.
    Word,
    /// Digits only.
    Num,
    /// One punctuation mark.
    Punct,
    /// Any token.
    Any,
}

impl Class {
    fn from_name(name: &str) -> Option<Class> {
        Some(match name {
            "Cap" => Class::Cap,
            "Name" => Class::Name,
            "Upper" => Class::Upper,
            "Lower" => Class::Lower,
            "Word" => Class::Word,
            "Num" => Class::Num,
            "Punct" => Class::Punct,
            "Any" => Class::Any,
            _ => return None,
        })
    }
}

/// A condition on an annotation, written `label[...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `[key=value]`: an attribute equals a value.
    Equals(String, String),
    /// `[key!=value]`: the attribute is missing or differs.
    NotEquals(String, String),
    /// `[key]`: the attribute is present.
    Has(String),
    /// `[!key]`: the attribute is absent.
    Lacks(String),
    /// `[cap]`: the first word is capitalised.
    Capitalised,
    /// `[allcap]`: every word is capitalised.
    AllCapitalised,
    /// `[lower]`: the first word is not capitalised.
    LowerCase,
    /// `[seen=LABEL]`: an annotation `LABEL` with the same text exists in the document.
    Seen(String),
}

/// A pattern syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// An annotation with this label starting here; consumes its span.
    Label(String, Vec<Filter>),
    /// These normalised tokens, in order.
    Literal(Vec<String>),
    Class(Class),
    LineStart,
    LineEnd,
    Seq(Vec<Pattern>),
    Alt(Vec<Pattern>),
    Repeat {
        inner: Box<Pattern>,
        min: u32,
        max: u32,
    },
    Capture(String, Box<Pattern>),
    /// Zero-width: what follows is not this.
    Not(Box<Pattern>),
}

/// A value in an action: a literal, or a capture's text or attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Literal(String),
    /// `$name` (attribute `None`: the capture's text) or `$name.attr`.
    Capture(String, Option<String>),
}

/// What a matched rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add an annotation over the whole match or over each instance of a capture.
    Emit {
        label: String,
        capture: Option<String>,
        attrs: Vec<(String, Value)>,
    },
    /// Record that each person capture holds each role capture.
    Hold { person: String, role: String },
}

/// When a match is thrown away before competing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unless {
    /// The match overlaps an annotation with this label.
    Overlaps(String),
    /// The match lies inside an annotation with this label.
    Inside(String),
}

/// One line of a rule file after parsing.
#[derive(Debug, Clone)]
pub enum Statement {
    Phase(String),
    Rule(RuleSyntax),
    /// `drop A inside B` / `drop A overlapping B`.
    Drop {
        label: String,
        other: String,
        overlapping: bool,
        origin: Origin,
    },
}

#[derive(Debug, Clone)]
pub struct RuleSyntax {
    pub name: String,
    pub pattern: Pattern,
    pub actions: Vec<Action>,
    pub unless: Vec<Unless>,
    pub origin: Origin,
}

/// Named sub-patterns from `let` lines, usable as `@name` in later lines and files.
pub type Macros = std::collections::HashMap<String, Pattern>;

/// Parses a whole rule file. Errors are `(line, message)`.
pub fn parse_file(
    file: &str,
    text: &str,
    macros: &mut Macros,
) -> Result<Vec<Statement>, (usize, String)> {
    let file: std::sync::Arc<str> = std::sync::Arc::from(file);
    let mut statements = Vec::new();
    // Join continuation lines (indented) onto the line they continue.
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        if line.trim().is_empty() {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            match logical.last_mut() {
                Some((_, prev)) => {
                    prev.push(' ');
                    prev.push_str(line.trim());
                    continue;
                }
                None => return Err((index + 1, "an indented line continues nothing".into())),
            }
        }
        logical.push((index + 1, line.trim().to_string()));
    }
    for (line, text) in logical {
        let origin = Origin {
            file: file.clone(),
            line,
        };
        if let Some(statement) = parse_statement(&text, origin, macros).map_err(|m| (line, m))? {
            statements.push(statement);
        }
    }
    Ok(statements)
}

/// Drops a `#` comment, but not a `#` inside a quoted literal.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse_statement(
    text: &str,
    origin: Origin,
    macros: &mut Macros,
) -> Result<Option<Statement>, String> {
    let tokens = lex(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        macros,
    };
    match p.peek() {
        Some(Tok::Ident(w)) if w == "let" => {
            p.pos += 1;
            let name = p.ident("a name for the sub-pattern")?;
            p.expect(&Tok::Sym('='))?;
            let pattern = p.alt()?;
            p.end()?;
            p.macros.insert(name, pattern);
            return Ok(None);
        }
        Some(Tok::Ident(w)) if w == "phase" => {
            let name = text.trim_start()["phase".len()..].trim();
            if name.is_empty() {
                return Err("expected a phase name after `phase`".into());
            }
            return Ok(Some(Statement::Phase(name.to_string())));
        }
        Some(Tok::Ident(w)) if w == "drop" => {
            p.pos += 1;
            let label = p.ident("a label to drop")?;
            let how = p.ident("`inside` or `overlapping`")?;
            let overlapping = match how.as_str() {
                "inside" => false,
                "overlapping" => true,
                other => {
                    return Err(format!(
                        "expected `inside` or `overlapping`, found `{other}`"
                    ))
                }
            };
            let other = p.ident("a label")?;
            p.end()?;
            return Ok(Some(Statement::Drop {
                label,
                other,
                overlapping,
                origin,
            }));
        }
        _ => {}
    }
    let name = p.ident("a rule name")?;
    p.expect(&Tok::Sym(':'))?;
    let pattern = p.alt()?;
    p.expect(&Tok::Arrow)?;
    let mut captures = Vec::new();
    collect_captures(&pattern, &mut captures);
    let mut actions = vec![p.action(&captures)?];
    while p.eat(&Tok::Sym(';')) {
        actions.push(p.action(&captures)?);
    }
    let mut unless = Vec::new();
    while matches!(p.peek(), Some(Tok::Ident(w)) if w == "unless") {
        p.pos += 1;
        let how = p.ident("`overlaps` or `inside`")?;
        let label = p.ident("a label")?;
        unless.push(match how.as_str() {
            "overlaps" => Unless::Overlaps(label),
            "inside" => Unless::Inside(label),
            other => {
                return Err(format!(
                    "expected `overlaps` or `inside` after `unless`, found `{other}`"
                ))
            }
        });
    }
    p.end()?;
    Ok(Some(Statement::Rule(RuleSyntax {
        name,
        pattern,
        actions,
        unless,
        origin,
    })))
}

fn collect_captures(pattern: &Pattern, out: &mut Vec<String>) {
    match pattern {
        Pattern::Capture(name, inner) => {
            out.push(name.clone());
            collect_captures(inner, out);
        }
        Pattern::Seq(items) | Pattern::Alt(items) => {
            items.iter().for_each(|p| collect_captures(p, out))
        }
        Pattern::Repeat { inner, .. } | Pattern::Not(inner) => collect_captures(inner, out),
        _ => {}
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(u32),
    Sym(char),
    Arrow,
    NotEq,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, ch)) => s.push(ch),
                    None => return Err(format!("unclosed string starting at column {}", i + 1)),
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&(_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            out.push(Tok::Num(
                n.parse().map_err(|_| format!("number {n} is too large"))?,
            ));
        } else if c.is_alphanumeric() || c == '_' {
            let mut w = String::new();
            while let Some(&(_, d)) = chars
                .peek()
                .filter(|(_, d)| d.is_alphanumeric() || matches!(d, '_' | '.' | '-'))
            {
                w.push(d);
                chars.next();
            }
            out.push(Tok::Ident(w));
        } else if c == '=' && text[i..].starts_with("=>") {
            chars.next();
            chars.next();
            out.push(Tok::Arrow);
        } else if c == '!' && text[i..].starts_with("!=") {
            chars.next();
            chars.next();
            out.push(Tok::NotEq);
        } else if "()|?*+{}[],=!:^$;@".contains(c) {
            chars.next();
            out.push(Tok::Sym(c));
        } else {
            return Err(format!("unexpected character {c:?} at column {}", i + 1));
        }
    }
    Ok(out)
}

struct Parser<'m> {
    tokens: Vec<Tok>,
    pos: usize,
    macros: &'m mut Macros,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), String> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(format!(
                "expected {}, found {}",
                show(Some(tok)),
                show(self.peek())
            ))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Ident(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            other => Err(format!("expected {what}, found {}", show(other))),
        }
    }

    fn end(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            other => Err(format!("unexpected {} at the end", show(other))),
        }
    }

    fn alt(&mut self) -> Result<Pattern, String> {
        let mut options = vec![self.seq()?];
        while self.eat(&Tok::Sym('|')) {
            options.push(self.seq()?);
        }
        Ok(if options.len() == 1 {
            options.remove(0)
        } else {
            Pattern::Alt(options)
        })
    }

    fn seq(&mut self) -> Result<Pattern, String> {
        let mut items = Vec::new();
        while let Some(tok) = self.peek() {
            if matches!(tok, Tok::Sym('|' | ')') | Tok::Arrow) {
                break;
            }
            items.push(self.item()?);
        }
        match items.len() {
            0 => Err(format!(
                "expected a pattern element, found {}",
                show(self.peek())
            )),
            1 => Ok(items.remove(0)),
            _ => Ok(Pattern::Seq(items)),
        }
    }

    fn item(&mut self) -> Result<Pattern, String> {
        // `name:atom` captures.
        if let (Some(Tok::Ident(name)), Some(Tok::Sym(':'))) =
            (self.tokens.get(self.pos), self.tokens.get(self.pos + 1))
        {
            let name = name.clone();
            self.pos += 2;
            let inner = self.quantified()?;
            return Ok(Pattern::Capture(name, Box::new(inner)));
        }
        self.quantified()
    }

    fn quantified(&mut self) -> Result<Pattern, String> {
        let atom = self.atom()?;
        let (min, max) = match self.peek() {
            Some(Tok::Sym('?')) => (0, 1),
            Some(Tok::Sym('*')) => (0, u32::MAX),
            Some(Tok::Sym('+')) => (1, u32::MAX),
            Some(Tok::Sym('{')) => {
                self.pos += 1;
                let min = self.number()?;
                let max = if self.eat(&Tok::Sym(',')) {
                    if matches!(self.peek(), Some(Tok::Num(_))) {
                        self.number()?
                    } else {
                        u32::MAX
                    }
                } else {
                    min
                };
                self.expect(&Tok::Sym('}'))?;
                if max < min {
                    return Err(format!(
                        "repeat {{{min},{max}}}: the maximum is below the minimum"
                    ));
                }
                return Ok(Pattern::Repeat {
                    inner: Box::new(atom),
                    min,
                    max,
                });
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        Ok(Pattern::Repeat {
            inner: Box::new(atom),
            min,
            max,
        })
    }

    fn number(&mut self) -> Result<u32, String> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let n = *n;
                self.pos += 1;
                Ok(n)
            }
            other => Err(format!("expected a number, found {}", show(other))),
        }
    }

    fn atom(&mut self) -> Result<Pattern, String> {
        let tok = self.peek().cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Sym('(')) => {
                let inner = self.alt()?;
                self.expect(&Tok::Sym(')'))?;
                Ok(inner)
            }
            Some(Tok::Sym('!')) => Ok(Pattern::Not(Box::new(self.atom()?))),
            Some(Tok::Sym('^')) => Ok(Pattern::LineStart),
            Some(Tok::Sym('@')) => {
                let name = self.ident("a sub-pattern name after `@`")?;
                self.macros
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| format!("`@{name}` is not defined by an earlier `let`"))
            }
            Some(Tok::Sym('$')) => Ok(Pattern::LineEnd),
            Some(Tok::Str(s)) => {
                let key = match_key(&s);
                let key = crate::text::Tokenized::new(std::iter::once(key.as_str()));
                let words: Vec<String> = key
                    .tokens
                    .iter()
                    .map(|t| key.text[t.range()].to_string())
                    .collect();
                if words.is_empty() {
                    return Err(format!("the literal {s:?} has no tokens"));
                }
                Ok(Pattern::Literal(words))
            }
            Some(Tok::Ident(name)) => {
                if let Some(class) = Class::from_name(&name) {
                    return Ok(Pattern::Class(class));
                }
                let filters = if self.eat(&Tok::Sym('[')) {
                    self.filters()?
                } else {
                    Vec::new()
                };
                Ok(Pattern::Label(name, filters))
            }
            other => {
                self.pos -= 1;
                Err(format!(
                    "expected a pattern element, found {}",
                    show(other.as_ref())
                ))
            }
        }
    }

    fn filters(&mut self) -> Result<Vec<Filter>, String> {
        let mut filters = Vec::new();
        loop {
            let negated = self.eat(&Tok::Sym('!'));
            let key = self.ident("an attribute name")?;
            let filter = if self.eat(&Tok::Sym('=')) {
                let value = self.word("a value")?;
                match key.as_str() {
                    "seen" => Filter::Seen(value),
                    _ => Filter::Equals(key, value),
                }
            } else if self.eat(&Tok::NotEq) {
                Filter::NotEquals(key, self.word("a value")?)
            } else if negated {
                Filter::Lacks(key)
            } else {
                match key.as_str() {
                    "cap" => Filter::Capitalised,
                    "allcap" => Filter::AllCapitalised,
                    "lower" => Filter::LowerCase,
                    _ => Filter::Has(key),
                }
            };
            filters.push(filter);
            if self.eat(&Tok::Sym(']')) {
                return Ok(filters);
            }
            self.expect(&Tok::Sym(','))?;
        }
    }

    fn word(&mut self, what: &str) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Tok::Ident(w) | Tok::Str(w)) => {
                self.pos += 1;
                Ok(w)
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(n.to_string())
            }
            other => Err(format!("expected {what}, found {}", show(other.as_ref()))),
        }
    }

    fn action(&mut self, captures: &[String]) -> Result<Action, String> {
        let head = self.ident("an action (a label to emit, or `hold`)")?;
        let is_capture =
            |p: &Parser<'_>| matches!(p.peek(), Some(Tok::Ident(w)) if captures.contains(w));
        if head == "hold" {
            let person = self.ident("a person capture")?;
            let role = self.ident("a role capture")?;
            for c in [&person, &role] {
                if !captures.contains(c) {
                    return Err(format!(
                        "`hold` names `{c}`, which the pattern does not capture"
                    ));
                }
            }
            return Ok(Action::Hold { person, role });
        }
        let capture = if is_capture(self) {
            Some(self.ident("a capture")?)
        } else {
            None
        };
        let mut attrs = Vec::new();
        while let Some(Tok::Ident(key)) = self.peek().cloned() {
            if key == "unless" {
                break;
            }
            self.pos += 1;
            self.expect(&Tok::Sym('='))?;
            let value = if self.eat(&Tok::Sym('$')) {
                let reference = self.ident("a capture after `$`")?;
                let (name, attr) = match reference.split_once('.') {
                    Some((n, a)) => (n.to_string(), Some(a.to_string())),
                    None => (reference, None),
                };
                if !captures.contains(&name) {
                    return Err(format!("`${name}` names no capture of the pattern"));
                }
                Value::Capture(name, attr)
            } else {
                Value::Literal(self.word("a value")?)
            };
            attrs.push((key, value));
        }
        Ok(Action::Emit {
            label: head,
            capture,
            attrs,
        })
    }
}

fn show(tok: Option<&Tok>) -> String {
    match tok {
        None => "the end of the rule".into(),
        Some(Tok::Ident(w)) => format!("`{w}`"),
        Some(Tok::Str(s)) => format!("{s:?}"),
        Some(Tok::Num(n)) => n.to_string(),
        Some(Tok::Sym(c)) => format!("`{c}`"),
        Some(Tok::Arrow) => "`=>`".into(),
        Some(Tok::NotEq) => "`!=`".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> RuleSyntax {
        match parse_file("t.rules", text, &mut Macros::new())
            .unwrap()
            .remove(0)
        {
            Statement::Rule(r) => r,
            other => panic!("not a rule: {other:?}"),
        }
    }

    #[test]
    fn parses_captures_quantifiers_filters_and_actions() {
        let r = rule("loc.list: plural u:unit \":\"? n:place[cap] (\",\" n:Cap+)* => LOC n level=$u.level unless inside ORG");
        assert_eq!(r.name, "loc.list");
        let Pattern::Seq(items) = &r.pattern else {
            panic!()
        };
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[3],
            Pattern::Capture(
                "n".into(),
                Box::new(Pattern::Label("place".into(), vec![Filter::Capitalised]))
            )
        );
        assert_eq!(
            r.actions,
            vec![Action::Emit {
                label: "LOC".into(),
                capture: Some("n".into()),
                attrs: vec![(
                    "level".into(),
                    Value::Capture("u".into(), Some("level".into()))
                )]
            }]
        );
        assert_eq!(r.unless, vec![Unless::Inside("ORG".into())]);
    }

    #[test]
    fn continuation_lines_and_comments() {
        let s = parse_file(
            "t.rules",
            "# c\nphase p\nr: title  # x\n  ORG? => ROLE\ndrop PER inside ORG\n",
            &mut Macros::new(),
        )
        .unwrap();
        assert_eq!(s.len(), 3);
        let Statement::Rule(r) = &s[1] else { panic!() };
        assert_eq!(r.origin.line, 3);
    }

    #[test]
    fn errors_carry_the_line() {
        assert_eq!(
            parse_file("t.rules", "\n\nr: title => hold a b", &mut Macros::new())
                .unwrap_err()
                .0,
            3
        );
        let (line, msg) =
            parse_file("t.rules", "r: (title => ROLE", &mut Macros::new()).unwrap_err();
        assert_eq!(line, 1);
        assert!(msg.contains("expected `)`"), "{msg}");
    }

    #[test]
    fn let_defines_a_sub_pattern() {
        let mut macros = Macros::new();
        let s = parse_file(
            "t.rules",
            "let org = body unit?\nr: title @org => ROLE\n",
            &mut macros,
        )
        .unwrap();
        let Statement::Rule(r) = &s[0] else { panic!() };
        let Pattern::Seq(items) = &r.pattern else {
            panic!()
        };
        assert_eq!(items[1], macros["org"]);
        let (line, msg) = parse_file("t.rules", "r: @nope => X", &mut macros).unwrap_err();
        assert_eq!(
            (line, msg.as_str()),
            (1, "`@nope` is not defined by an earlier `let`")
        );
    }

    #[test]
    fn literals_are_normalised_tokens() {
        let r = rule("r: \"Giữ chức\" \",\" => X");
        let Pattern::Seq(items) = r.pattern else {
            panic!()
        };
        assert_eq!(
            items[0],
            Pattern::Literal(vec!["giữ".into(), "chức".into()])
        );
    }
}

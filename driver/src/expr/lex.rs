//! The tokenizer of the expression language: source text to tokens with
//! their spans (Python's operators, numbers, strings, names and brackets).

use super::parse::{Span, SyntaxError};
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Name(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Dot,
    Ellipsis,
    Comma,
    Assign,
    Semi,
    Newline,
    Plus,
    Minus,
    Star,
    Slash,
    SlashSlash,
    Percent,
    At,
    StarStar,
    LtLt,
    GtGt,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) span: Span,
}

/// Splits `source` into tokens, always ending with `Tok::Eof`.
pub(super) fn lex(source: &str) -> Result<Vec<Token>, SyntaxError> {
    let b = source.as_bytes();
    let mut tokens = Vec::new();
    let mut depth = 0usize; // bracket depth: newlines inside parentheses and brackets are ignored
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let next = b.get(i + 1).copied();
        let (tok, end) = match b[i] {
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' if depth > 0 => {
                i += 1;
                continue;
            }
            b'\n' => (Tok::Newline, i + 1),
            b'0'..=b'9' => lex_number(source, i)?,
            b'.' if next == Some(b'.') && b.get(i + 2) == Some(&b'.') => (Tok::Ellipsis, i + 3),
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => lex_number(source, i)?,
            b'.' => (Tok::Dot, i + 1),
            b'\'' | b'"' => lex_string(source, i)?,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                (Tok::Name(source[i..j].to_string()), j)
            }
            b'*' if next == Some(b'*') => (Tok::StarStar, i + 2),
            b'/' if next == Some(b'/') => (Tok::SlashSlash, i + 2),
            b'<' if next == Some(b'<') => (Tok::LtLt, i + 2),
            b'>' if next == Some(b'>') => (Tok::GtGt, i + 2),
            b'<' if next == Some(b'=') => (Tok::Le, i + 2),
            b'>' if next == Some(b'=') => (Tok::Ge, i + 2),
            b'=' if next == Some(b'=') => (Tok::EqEq, i + 2),
            b'!' if next == Some(b'=') => (Tok::Ne, i + 2),
            b'(' => {
                depth += 1;
                (Tok::LParen, i + 1)
            }
            b')' => {
                depth = depth.saturating_sub(1);
                (Tok::RParen, i + 1)
            }
            b'[' => {
                depth += 1;
                (Tok::LBracket, i + 1)
            }
            b']' => {
                depth = depth.saturating_sub(1);
                (Tok::RBracket, i + 1)
            }
            b':' => (Tok::Colon, i + 1),
            b',' => (Tok::Comma, i + 1),
            b'=' => (Tok::Assign, i + 1),
            b';' => (Tok::Semi, i + 1),
            b'+' => (Tok::Plus, i + 1),
            b'-' => (Tok::Minus, i + 1),
            b'*' => (Tok::Star, i + 1),
            b'/' => (Tok::Slash, i + 1),
            b'%' => (Tok::Percent, i + 1),
            b'@' => (Tok::At, i + 1),
            b'&' => (Tok::Amp, i + 1),
            b'|' => (Tok::Pipe, i + 1),
            b'^' => (Tok::Caret, i + 1),
            b'~' => (Tok::Tilde, i + 1),
            b'<' => (Tok::Lt, i + 1),
            b'>' => (Tok::Gt, i + 1),
            _ => {
                let c = source[i..].chars().next().unwrap_or('?');
                let span = Span::new(i, i + c.len_utf8());
                return Err(SyntaxError::new(
                    format!("unexpected character {c:?}"),
                    span,
                ));
            }
        };
        tokens.push(Token {
            tok,
            span: Span::new(start, end),
        });
        i = end;
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: Span::new(b.len(), b.len()),
    });
    Ok(tokens)
}

/// Lexes an integer or float literal starting at `start` (a digit or `.`).
fn lex_number(source: &str, start: usize) -> Result<(Tok, usize), SyntaxError> {
    let b = source.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let mut is_float = false;
    if b.get(i) == Some(&b'.') {
        is_float = true;
        i = digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        is_float = true;
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if !b.get(j).is_some_and(u8::is_ascii_digit) {
            let message = format!(
                "invalid number literal '{}': expected digits after the exponent",
                &source[start..j]
            );
            return Err(SyntaxError::new(message, Span::new(start, j)));
        }
        i = digits(j);
    }
    let mut end = i;
    while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
        end += 1;
    }
    let text = &source[start..end];
    let span = Span::new(start, end);
    let invalid =
        |why: &str| SyntaxError::new(format!("invalid number literal '{text}'{why}"), span);
    if end > i {
        return Err(invalid(""));
    }
    let tb = text.as_bytes();
    let digit_at = |k: Option<usize>| k.and_then(|k| tb.get(k)).is_some_and(u8::is_ascii_digit);
    if (0..tb.len())
        .any(|k| tb[k] == b'_' && !(digit_at(k.checked_sub(1)) && digit_at(Some(k + 1))))
    {
        return Err(invalid(": underscores must separate digits"));
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let tok = if is_float {
        Tok::Float(clean.parse().map_err(|_| invalid(""))?)
    } else {
        let too_large = || SyntaxError::new(format!("integer literal {text} is too large"), span);
        Tok::Int(clean.parse().map_err(|_| too_large())?)
    };
    Ok((tok, end))
}

/// Lexes a quoted string starting at `start`; supports `\\ \" \' \n \t` escapes.
fn lex_string(source: &str, start: usize) -> Result<(Tok, usize), SyntaxError> {
    let quote = source.as_bytes()[start] as char;
    let mut value = String::new();
    let mut chars = source[start + 1..]
        .char_indices()
        .map(|(o, c)| (start + 1 + o, c));
    while let Some((pos, c)) = chars.next() {
        match c {
            _ if c == quote => return Ok((Tok::Str(value), pos + 1)),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, e @ ('\\' | '"' | '\''))) => value.push(e),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, '\n')) | None => break,
                Some((o, e)) => {
                    let span = Span::new(pos, o + e.len_utf8());
                    let message = format!("unknown escape sequence '\\{e}' in string literal");
                    return Err(SyntaxError::new(message, span));
                }
            },
            _ => value.push(c),
        }
    }
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let message = format!(
        "unterminated string literal: expected a closing {quote} before the end of the line"
    );
    Err(SyntaxError::new(message, Span::new(start, line_end)))
}

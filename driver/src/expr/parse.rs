//! Parser for the small numpy-like expression language (a subset of Python
//! expression syntax), e.g. `x = a * 2; (mean(x + 1, axis=0), max(x))`.
//!
//! Precedence is Python's; lowest first:
//!
//! | level | operators                           | associativity     |
//! |-------|-------------------------------------|-------------------|
//! | 1     | `<` `<=` `>` `>=` `==` `!=`         | non-associative   |
//! | 2     | `\|`                                | left              |
//! | 3     | `^`                                 | left              |
//! | 4     | `&`                                 | left              |
//! | 5     | `<<` `>>`                           | left              |
//! | 6     | `+` `-`                             | left              |
//! | 7     | `*` `/` `//` `%` `@`                | left              |
//! | 8     | unary `-` `+` `~`                   | prefix            |
//! | 9     | `**`                                | right             |
//! | 10    | `f(...)` `x[...]` `x.name` `x.m(...)` | postfix, left     |
//! | 11    | atoms                               |                   |
//!
//! `**` binds tighter than a unary operator on its left and looser than one
//! on its right, as in Python: `-a**2` is `-(a**2)` and `a**-b` is `a**(-b)`.
//! Postfix operations bind tighter than both: `-x[0] ** 2` is `-((x[0]) ** 2)`.
//! Chained comparisons (`a < b < c`) are refused rather than given Python's
//! meaning; add parentheses.
//!
//! The postfix forms, as Python parses them:
//!
//! ```text
//! postfix   := atom trailer*
//! trailer   := '(' args ')'          -- only after a name (a call) or an attribute (a method call)
//!            | '[' indices ']'
//!            | '.' NAME
//! indices   := index (',' index)* ','?  -- any ',' makes the index a tuple: x[0,] is not x[0]
//! index     := '...' | expr | expr? ':' expr? (':' expr?)?
//! ```
//!
//! so `x[0][1:]`, `f(x)[::2]`, `x[..., None, ::-1]`, `x.T[0].sum(axis=0)`.
//! `x[]` and a slice with a fourth part (`x[1:2:3:4]`) are errors, as in
//! Python; `...` is only accepted as a whole index element. Which attributes
//! and methods exist is for the evaluator to decide.
//!
//! A program is zero or more `name = expr` bindings separated by `;` or
//! newlines, followed by the result expression. Newlines inside parentheses
//! and brackets are ignored, as in Python. The parser never panics: every
//! problem is reported as a [`SyntaxError`] located by a [`Span`].

use std::fmt;

use super::lex::{lex, Tok, Token};

/// Byte offsets into the source, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// Creates a span covering `start..end`.
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A literal constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    None,
}

/// A prefix operator: `-`, `+` or `~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-a`
    Neg,
    /// `+a`
    Pos,
    /// `~a` (bitwise not)
    Invert,
}

impl UnaryOp {
    /// The operator as written in the source: `"-"`, `"+"` or `"~"`.
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
            UnaryOp::Invert => "~",
        }
    }
}

/// An infix operator (arithmetic, bitwise or comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `@`
    MatMul,
    /// `**`
    Pow,
    /// `<<`
    LShift,
    /// `>>`
    RShift,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl BinaryOp {
    /// The operator as written in the source, e.g. `"+"`, `"//"` or `"<="`.
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::FloorDiv => "//",
            BinaryOp::Mod => "%",
            BinaryOp::MatMul => "@",
            BinaryOp::Pow => "**",
            BinaryOp::LShift => "<<",
            BinaryOp::RShift => ">>",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
        }
    }
}

/// The shape of an expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Name(String),
    Tuple(Vec<Expr>),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        func: String,
        func_span: Span,
        args: Vec<Expr>,
        kwargs: Vec<Keyword>,
    },
    /// `value[index]`; `tuple` is whether the index list had a comma
    /// (`x[0,]` and `x[0, 1]` index with a tuple, `x[0]` does not).
    Subscript {
        value: Box<Expr>,
        index: Vec<Index>,
        tuple: bool,
    },
    /// `value.name`
    Attribute {
        value: Box<Expr>,
        name: String,
        name_span: Span,
    },
    /// `receiver.name(args, kwargs)`
    Method {
        receiver: Box<Expr>,
        name: String,
        name_span: Span,
        args: Vec<Expr>,
        kwargs: Vec<Keyword>,
    },
}

/// One element of the index list of a subscript `x[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Index {
    /// An expression, e.g. `0`, `i + 1` or `None` (a new axis).
    Expr(Expr),
    /// `start:stop:step`, each part optional (`:`, `1:`, `::-1`).
    Slice {
        start: Option<Box<Expr>>,
        stop: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
        /// From the first part or `:` to the last part or `:`.
        span: Span,
    },
    /// `...`
    Ellipsis(Span),
}

impl Index {
    /// Where the element is in the source.
    #[must_use]
    pub fn span(&self) -> Span {
        match self {
            Index::Expr(e) => e.span,
            Index::Slice { span, .. } | Index::Ellipsis(span) => *span,
        }
    }
}

/// An expression with its location (parentheses included when it was parenthesised).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A keyword argument `name=value` of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyword {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
}

/// A statement `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
}

/// A whole program: zero or more bindings, then the result expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub bindings: Vec<Binding>,
    pub result: Expr,
}

/// An error located in the source (used by the parser and by later checking passes).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

impl SyntaxError {
    /// Creates an error with `message` located at `span`.
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        SyntaxError {
            message: message.into(),
            span,
        }
    }

    /// Renders `"error at line L, column C: MESSAGE\n  <source line>\n  <spaces>^^^"`
    /// (1-based line and column, column counted in chars; at least one caret).
    #[must_use]
    pub fn render(&self, source: &str) -> String {
        /// Characters of context shown on each side of the error in a long line.
        const CONTEXT: usize = 80;
        let (line, col, line_start) = line_col(source, self.span.start);
        let start = floor_boundary(source, self.span.start).max(line_start);
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |i| line_start + i);
        let text = source[line_start..line_end].trim_end_matches('\r');
        // The span may point at a trailing '\r' or past it: keep it on the shown text.
        let text_end = line_start + text.len();
        let start = start.min(text_end);
        let end = floor_boundary(source, self.span.end).min(text_end).max(start);
        let before: Vec<char> = source[line_start..start].chars().collect();
        let marked: Vec<char> = source[start..end].chars().collect();
        let after: Vec<char> = source[end..line_start + text.len()].chars().collect();
        // A long line is cut around the error, marked with "...".
        let (cut_before, before) = if before.len() > CONTEXT { ("...", &before[before.len() - CONTEXT..]) } else { ("", &before[..]) };
        let (marked, cut_marked) = if marked.len() > CONTEXT { (&marked[..CONTEXT], "...") } else { (&marked[..], "") };
        let (after, cut_after) = if after.len() > CONTEXT && cut_marked.is_empty() { (&after[..CONTEXT], "...") } else if cut_marked.is_empty() { (&after[..], "") } else { (&after[..0], "") };
        let shown: String = [cut_before, &before.iter().collect::<String>(), &marked.iter().collect::<String>(), cut_marked, &after.iter().collect::<String>(), cut_after].concat();
        let pad: String = cut_before.chars().chain(before.iter().copied()).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        format!(
            "error at line {line}, column {col}: {}\n  {shown}\n  {pad}{}",
            self.message,
            "^".repeat(marked.len().max(1))
        )
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Parses a whole program (bindings followed by a result expression).
///
/// # Errors
/// Returns the first lexical or syntax error found, located in `source`.
pub fn parse(source: &str) -> Result<Program, SyntaxError> {
    let tokens = lex(source)?;
    let program = Parser {
        source,
        tokens,
        pos: 0,
        depth: 0,
    }
    .parse_program()?;
    // The nesting limit counts each chain from where it starts, so chains
    // inside nested parentheses could still build a tree deep enough to
    // exhaust the evaluator's stack: bound the tree's real height too.
    for e in program.bindings.iter().map(|b| &b.value).chain([&program.result]) {
        if height(e) > MAX_HEIGHT {
            return Err(SyntaxError::new(
                format!("expression is nested too deeply (a tree more than {MAX_HEIGHT} levels high); split it with names, e.g. `x = <first part>; x + <rest>`"),
                e.span,
            ));
        }
    }
    Ok(program)
}

/// Largest height of an expression tree (see [`parse`]); twice [`MAX_DEPTH`],
/// so every expression within the nesting limit of one chain fits.
const MAX_HEIGHT: usize = 2 * MAX_DEPTH;

/// The expressions inside one index element.
fn index_exprs(i: &Index) -> Vec<&Expr> {
    match i {
        Index::Expr(x) => vec![x],
        Index::Slice { start, stop, step, .. } => [start, stop, step].into_iter().flatten().map(|b| &**b).collect(),
        Index::Ellipsis(_) => vec![],
    }
}

/// The height of an expression tree (a leaf is 1).
fn height(e: &Expr) -> usize {
    let of = |items: &mut dyn Iterator<Item = &Expr>| items.map(height).max().unwrap_or(0);
    1 + match &e.kind {
        ExprKind::Literal(_) | ExprKind::Name(_) => 0,
        ExprKind::Tuple(items) => of(&mut items.iter()),
        ExprKind::Unary { operand, .. } => height(operand),
        ExprKind::Binary { lhs, rhs, .. } => height(lhs).max(height(rhs)),
        ExprKind::Call { args, kwargs, .. } => of(&mut args.iter().chain(kwargs.iter().map(|k| &k.value))),
        ExprKind::Subscript { value, index, .. } => height(value).max(of(&mut index.iter().flat_map(index_exprs))),
        ExprKind::Attribute { value, .. } => height(value),
        ExprKind::Method { receiver, args, kwargs, .. } => {
            height(receiver).max(of(&mut args.iter().chain(kwargs.iter().map(|k| &k.value))))
        }
    }
}

/// Maximum nesting of parentheses, calls, subscripts and unary/power
/// operators, where each operator of a binary chain like `a + 1 + 1` and each
/// postfix operation after the first of a chain like `x[0].T[1:]` also counts
/// as one level.
const MAX_DEPTH: usize = 100;

/// Largest char boundary of `s` that is `<= offset` (clamped to `s.len()`).
fn floor_boundary(s: &str, offset: usize) -> usize {
    let mut o = offset.min(s.len());
    while !s.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// 1-based (line, column in chars) of `offset`, plus the byte offset of its line start.
fn line_col(source: &str, offset: usize) -> (usize, usize, usize) {
    let offset = floor_boundary(source, offset);
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    (
        line,
        source[line_start..offset].chars().count() + 1,
        line_start,
    )
}

/// What an element of an index list may be, for "expected ..." errors.
const INDEX: &str = "an index (an expression, a slice such as 1:2, or '...')";

fn is_reserved(name: &str) -> bool {
    matches!(name, "True" | "False" | "None")
}


fn comparison_op(tok: &Tok) -> Option<BinaryOp> {
    Some(match tok {
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::EqEq => BinaryOp::Eq,
        Tok::Ne => BinaryOp::Ne,
        _ => return None,
    })
}

/// The left-associative binary levels between comparisons and unary
/// operators, loosest first (Python's `|`, `^`, `&`, shifts, `+ -`, `* / // % @`).
const BINARY_LEVELS: [&[BinaryOp]; 6] = [
    &[BinaryOp::BitOr],
    &[BinaryOp::BitXor],
    &[BinaryOp::BitAnd],
    &[BinaryOp::LShift, BinaryOp::RShift],
    &[BinaryOp::Add, BinaryOp::Sub],
    &[
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::FloorDiv,
        BinaryOp::Mod,
        BinaryOp::MatMul,
    ],
];

/// The operator of `tok` if it is one of the [`BINARY_LEVELS`], with its level.
fn level_op(tok: &Tok) -> Option<(BinaryOp, usize)> {
    let op = match tok {
        Tok::Pipe => BinaryOp::BitOr,
        Tok::Caret => BinaryOp::BitXor,
        Tok::Amp => BinaryOp::BitAnd,
        Tok::LtLt => BinaryOp::LShift,
        Tok::GtGt => BinaryOp::RShift,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        Tok::SlashSlash => BinaryOp::FloorDiv,
        Tok::Percent => BinaryOp::Mod,
        Tok::At => BinaryOp::MatMul,
        _ => return None,
    };
    let level = BINARY_LEVELS.iter().position(|ops| ops.contains(&op))?;
    Some((op, level))
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

/// Recursive-descent parser over the token list (which always ends with `Eof`).
struct Parser<'s> {
    source: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

type PResult<T> = Result<T, SyntaxError>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_tok_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, tok: &Tok) -> Option<Span> {
        (self.peek().tok == *tok).then(|| self.bump().span)
    }

    fn at_statement_end(&self) -> bool {
        matches!(self.peek().tok, Tok::Semi | Tok::Newline | Tok::Eof)
    }

    /// Human description of the current token, e.g. `'*'` or `end of input`.
    fn found(&self) -> String {
        let token = self.peek();
        let text = &self.source[token.span.start..token.span.end];
        match token.tok {
            Tok::Eof => "end of input".into(),
            Tok::Newline => "end of line".into(),
            Tok::Name(_) if !is_reserved(text) => format!("name '{text}'"),
            Tok::Int(_) | Tok::Float(_) => format!("number {text}"),
            Tok::Str(_) => format!("string {text}"),
            _ => format!("'{text}'"),
        }
    }

    /// "expected EXPECTED, found X" located at the current token.
    fn expected(&self, expected: &str) -> SyntaxError {
        SyntaxError::new(
            format!("expected {expected}, found {}", self.found()),
            self.peek().span,
        )
    }

    /// Error for a missing `close` (`)` or `]`) closing `what`, opened at `open`.
    fn unclosed(&self, what: &str, open: Span, close: char) -> SyntaxError {
        let (line, col, _) = line_col(self.source, open.start);
        let at = if line == 1 {
            format!("column {col}")
        } else {
            format!("line {line}, column {col}")
        };
        let close = if self.at_statement_end() {
            format!("'{close}'")
        } else {
            format!("',' or '{close}'")
        };
        self.expected(&format!("{close} to close {what} opened at {at}"))
    }

    /// Skips `;` and newlines; returns whether any were skipped.
    fn skip_separators(&mut self) -> bool {
        let mut skipped = false;
        while matches!(self.peek().tok, Tok::Semi | Tok::Newline) {
            self.bump();
            skipped = true;
        }
        skipped
    }

    fn parse_program(mut self) -> PResult<Program> {
        let mut bindings = Vec::new();
        loop {
            self.skip_separators();
            if self.peek().tok == Tok::Eof && !bindings.is_empty() {
                return Err(self.expected("a result expression after the bindings"));
            }
            if let (Tok::Name(name), Tok::Assign) = (&self.peek().tok, self.peek_tok_at(1)) {
                let name = name.clone();
                let name_span = self.bump().span;
                if is_reserved(&name) {
                    return Err(SyntaxError::new(
                        format!("cannot assign to '{name}'"),
                        name_span,
                    ));
                }
                self.bump();
                let value = self.parse_tuple_or_expr()?;
                if !self.at_statement_end() {
                    return Err(
                        self.expected(&format!("';' or a new line after the binding of '{name}'"))
                    );
                }
                bindings.push(Binding {
                    name,
                    name_span,
                    value,
                });
                continue;
            }
            let result = self.parse_tuple_or_expr()?;
            let separated = self.skip_separators();
            if self.peek().tok != Tok::Eof {
                return Err(self.expected(if separated {
                    "end of input after the result expression (bindings must come first)"
                } else {
                    "an operator or end of input"
                }));
            }
            return Ok(Program { bindings, result });
        }
    }

    /// An expression, or a bare tuple `a, b` (allowed for bindings and the result).
    fn parse_tuple_or_expr(&mut self) -> PResult<Expr> {
        let first = self.parse_expr()?;
        if self.peek().tok != Tok::Comma {
            return Ok(first);
        }
        let mut span = first.span;
        let mut items = vec![first];
        while let Some(comma) = self.eat(&Tok::Comma) {
            span = span.to(comma);
            if self.at_statement_end() {
                break;
            }
            let item = self.parse_expr()?;
            span = span.to(item.span);
            items.push(item);
        }
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            span,
        })
    }

    /// `comparison := bitor (cmp_op bitor)?`
    fn parse_expr(&mut self) -> PResult<Expr> {
        let lhs = self.parse_binary(0)?;
        let Some(op) = comparison_op(&self.peek().tok) else {
            return Ok(lhs);
        };
        self.bump();
        let rhs = self.parse_binary(0)?;
        if comparison_op(&self.peek().tok).is_some() {
            let message = format!(
                "chained comparisons are not supported, found a second comparison {}; add parentheses",
                self.found()
            );
            return Err(SyntaxError::new(message, self.peek().span));
        }
        Ok(binary(op, lhs, rhs))
    }

    /// `binary := unary (op binary)*` over the [`BINARY_LEVELS`], by precedence
    /// climbing: only operators of `min_level` or tighter are taken here, and
    /// the right operand of an operator of level `L` takes only those tighter
    /// than `L`, which makes every level left-associative. (One function for all
    /// levels rather than one per level keeps the stack per nesting level small.)
    fn parse_binary(&mut self, min_level: usize) -> PResult<Expr> {
        let outer = self.depth;
        let result = self.parse_binary_chain(min_level, outer);
        self.depth = outer;
        result
    }

    /// Each operator of a chain of one level makes the tree one level deeper.
    /// The operators come in non-increasing levels (a tighter one went into the
    /// right operand of the one before), so when the level changes, the chain
    /// so far is the left operand of a new, looser chain counted from `outer`.
    fn parse_binary_chain(&mut self, min_level: usize, outer: usize) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        let mut chain_level = None;
        while let Some((op, level)) = level_op(&self.peek().tok).filter(|&(_, l)| l >= min_level) {
            if chain_level != Some(level) {
                chain_level = Some(level);
                self.depth = outer;
            }
            self.enter()?;
            self.bump();
            lhs = binary(op, lhs, self.parse_binary(level + 1)?);
        }
        Ok(lhs)
    }

    /// Goes one level deeper into the expression tree, refusing to pass
    /// [`MAX_DEPTH`]: nested calls and parentheses, and also each operator of a
    /// chain like `a + 1 + 1 + ...`, whose tree is as deep as it is long.
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            let message = format!(
                "expression is nested too deeply (more than {MAX_DEPTH} levels); split it with names, e.g. `x = <first part>; x + <rest>`"
            );
            return Err(SyntaxError::new(message, self.peek().span));
        }
        self.depth += 1;
        Ok(())
    }

    /// `unary := ('-' | '+' | '~') unary | power`; also the recursion-depth guard.
    fn parse_unary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.parse_unary_inner();
        self.depth -= 1;
        result
    }

    fn parse_unary_inner(&mut self) -> PResult<Expr> {
        let op = match self.peek().tok {
            Tok::Minus => UnaryOp::Neg,
            Tok::Plus => UnaryOp::Pos,
            Tok::Tilde => UnaryOp::Invert,
            _ => return self.parse_power(),
        };
        let start = self.bump().span;
        let operand = self.parse_unary()?;
        let span = start.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        })
    }

    /// `power := postfix ('**' unary)?`
    fn parse_power(&mut self) -> PResult<Expr> {
        let base = self.parse_postfix()?;
        if self.eat(&Tok::StarStar).is_none() {
            return Ok(base);
        }
        let exponent = self.parse_unary()?;
        Ok(binary(BinaryOp::Pow, base, exponent))
    }

    /// `postfix := atom trailer*`, see the module docs. The first postfix
    /// operation sits at the level of the expression, like a call; each further
    /// one is a level deeper (the tree is as deep as the chain is long), counted
    /// like the operators of a binary chain.
    fn parse_postfix(&mut self) -> PResult<Expr> {
        let outer = self.depth;
        let result = self.parse_postfix_chain();
        self.depth = outer;
        result
    }

    fn parse_postfix_chain(&mut self) -> PResult<Expr> {
        let mut expr = self.parse_atom()?;
        let mut first = true;
        loop {
            let token = self.peek().clone();
            match token.tok {
                // A call of a name, or of an attribute (a method call): this
                // replaces the node before rather than adding a level.
                Tok::LParen => {
                    expr = match expr.kind {
                        ExprKind::Name(func) => self.parse_call(func, expr.span)?,
                        ExprKind::Attribute { value, name, name_span } => {
                            self.parse_method(*value, name, name_span, expr.span)?
                        }
                        _ => {
                            let message = "only a function name or a method can be called, found '(' after an expression";
                            return Err(SyntaxError::new(message, token.span));
                        }
                    };
                }
                Tok::LBracket | Tok::Dot => {
                    if !first {
                        self.enter()?;
                    }
                    expr = if token.tok == Tok::Dot {
                        self.parse_attribute(expr)?
                    } else {
                        self.parse_subscript(expr)?
                    };
                }
                // `x.1` is lexed as `x` and the number `.1`.
                Tok::Float(_)
                    if self.source[token.span.start..].starts_with('.')
                        && token.span.start == expr.span.end =>
                {
                    let digits = Span::new(token.span.start + 1, token.span.end);
                    let message = format!(
                        "expected an attribute name after '.', found number {}",
                        &self.source[digits.start..digits.end]
                    );
                    return Err(SyntaxError::new(message, digits));
                }
                _ => return Ok(expr),
            }
            first = false;
        }
    }

    /// `value '.' NAME`; the current token is the `.`.
    fn parse_attribute(&mut self, value: Expr) -> PResult<Expr> {
        self.bump();
        let token = self.peek().clone();
        let name = match token.tok {
            Tok::Name(name) if !is_reserved(&name) => name,
            _ => return Err(self.expected("an attribute name after '.'")),
        };
        self.bump();
        Ok(Expr {
            span: value.span.to(token.span),
            kind: ExprKind::Attribute {
                value: Box::new(value),
                name,
                name_span: token.span,
            },
        })
    }

    /// `value '[' indices ']'`; the current token is the `[`.
    fn parse_subscript(&mut self, value: Expr) -> PResult<Expr> {
        const WHAT: &str = "the subscript";
        let open = self.bump().span;
        if self.peek().tok == Tok::RBracket {
            return Err(self.expected(INDEX));
        }
        let mut index = Vec::new();
        let mut tuple = false;
        loop {
            if let Some(close) = self.eat(&Tok::RBracket) {
                return Ok(Expr {
                    span: value.span.to(close),
                    kind: ExprKind::Subscript {
                        value: Box::new(value),
                        index,
                        tuple,
                    },
                });
            }
            if self.at_statement_end() {
                return Err(self.unclosed(WHAT, open, ']'));
            }
            index.push(self.parse_index()?);
            if self.eat(&Tok::Comma).is_some() {
                tuple = true;
            } else if self.peek().tok != Tok::RBracket {
                return Err(self.unclosed(WHAT, open, ']'));
            }
        }
    }

    /// One element of an index list: `...`, an expression or a slice.
    fn parse_index(&mut self) -> PResult<Index> {
        if let Some(span) = self.eat(&Tok::Ellipsis) {
            return Ok(Index::Ellipsis(span));
        }
        if self.peek().tok == Tok::Comma {
            return Err(self.expected(INDEX));
        }
        let mut start = None;
        if self.peek().tok != Tok::Colon {
            let e = self.parse_expr()?;
            if self.peek().tok != Tok::Colon {
                return Ok(Index::Expr(e));
            }
            start = Some(Box::new(e));
        }
        let first_colon = self.bump().span;
        let mut span = start.as_ref().map_or(first_colon, |e| e.span.to(first_colon));
        let stop = self.parse_slice_part()?;
        if let Some(stop) = &stop {
            span = span.to(stop.span);
        }
        let mut step = None;
        if let Some(second_colon) = self.eat(&Tok::Colon) {
            span = span.to(second_colon);
            step = self.parse_slice_part()?;
            if let Some(step) = &step {
                span = span.to(step.span);
            }
            if self.peek().tok == Tok::Colon {
                let message = "a slice has at most three parts, start:stop:step; found a third ':'";
                return Err(SyntaxError::new(message, self.peek().span));
            }
        }
        Ok(Index::Slice {
            start,
            stop,
            step,
            span,
        })
    }

    /// A part of a slice: an expression, or nothing before `:`, `,`, `]` or the
    /// end of the statement (where the subscript then reports the missing `]`).
    fn parse_slice_part(&mut self) -> PResult<Option<Box<Expr>>> {
        if matches!(self.peek().tok, Tok::Colon | Tok::Comma | Tok::RBracket) || self.at_statement_end() {
            return Ok(None);
        }
        Ok(Some(Box::new(self.parse_expr()?)))
    }

    fn parse_atom(&mut self) -> PResult<Expr> {
        let token = self.peek().clone();
        let kind = match token.tok {
            Tok::Int(v) => ExprKind::Literal(Literal::Int(v)),
            Tok::Float(v) => ExprKind::Literal(Literal::Float(v)),
            Tok::Str(s) => ExprKind::Literal(Literal::Str(s)),
            Tok::Name(name) => match name.as_str() {
                "True" => ExprKind::Literal(Literal::Bool(true)),
                "False" => ExprKind::Literal(Literal::Bool(false)),
                "None" => ExprKind::Literal(Literal::None),
                _ => ExprKind::Name(name),
            },
            Tok::LParen => return self.parse_parenthesized(),
            Tok::Ellipsis => {
                let message = "'...' is only allowed as an element of an index, e.g. x[..., 0]";
                return Err(SyntaxError::new(message, token.span));
            }
            _ => return Err(self.expected("an expression")),
        };
        self.bump();
        Ok(Expr {
            kind,
            span: token.span,
        })
    }

    /// `()`, `(e)`, `(e,)`, `(e1, e2, ...)`.
    fn parse_parenthesized(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if let Some(close) = self.eat(&Tok::RParen) {
                let span = open.to(close);
                if items.len() == 1 && !trailing_comma {
                    let mut inner: Expr = items.pop().expect("one item");
                    inner.span = span;
                    return Ok(inner);
                }
                return Ok(Expr {
                    kind: ExprKind::Tuple(items),
                    span,
                });
            }
            if self.at_statement_end() {
                return Err(self.unclosed("the parenthesis", open, ')'));
            }
            items.push(self.parse_expr()?);
            trailing_comma = self.eat(&Tok::Comma).is_some();
            if !trailing_comma && self.peek().tok != Tok::RParen {
                return Err(self.unclosed("the parenthesis", open, ')'));
            }
        }
    }

    /// A call of the function `func`; the current token is its `(`.
    fn parse_call(&mut self, func: String, func_span: Span) -> PResult<Expr> {
        let (args, kwargs, close) = self.parse_args(&format!("the call to '{func}'"))?;
        Ok(Expr {
            kind: ExprKind::Call {
                func,
                func_span,
                args,
                kwargs,
            },
            span: func_span.to(close),
        })
    }

    /// A call of the method `name` of `receiver`, written from `start` (the
    /// attribute `receiver.name`, maybe parenthesised); the current token is its `(`.
    fn parse_method(&mut self, receiver: Expr, name: String, name_span: Span, start: Span) -> PResult<Expr> {
        let (args, kwargs, close) = self.parse_args(&format!("the call to method '{name}'"))?;
        Ok(Expr {
            span: start.to(close),
            kind: ExprKind::Method {
                receiver: Box::new(receiver),
                name,
                name_span,
                args,
                kwargs,
            },
        })
    }

    /// Arguments `(args, kw=value)` of `what`; the current token is the `(`.
    /// Returns them with the span of the closing `)`.
    fn parse_args(&mut self, what: &str) -> PResult<(Vec<Expr>, Vec<Keyword>, Span)> {
        let open = self.bump().span;
        let mut args = Vec::new();
        let mut kwargs: Vec<Keyword> = Vec::new();
        loop {
            if let Some(close) = self.eat(&Tok::RParen) {
                return Ok((args, kwargs, close));
            }
            if self.at_statement_end() {
                return Err(self.unclosed(what, open, ')'));
            }
            if let (Tok::Name(name), Tok::Assign) = (&self.peek().tok, self.peek_tok_at(1)) {
                let name = name.clone();
                let name_span = self.bump().span;
                self.bump();
                if is_reserved(&name) {
                    let message = format!("'{name}' cannot be used as a keyword argument name");
                    return Err(SyntaxError::new(message, name_span));
                }
                if kwargs.iter().any(|k| k.name == name) {
                    let message = format!("keyword argument '{name}' repeated in {what}");
                    return Err(SyntaxError::new(message, name_span));
                }
                let value = self.parse_expr()?;
                kwargs.push(Keyword {
                    name,
                    name_span,
                    value,
                });
            } else {
                let value = self.parse_expr()?;
                if !kwargs.is_empty() {
                    let message = format!("positional argument follows keyword argument in {what}");
                    return Err(SyntaxError::new(message, value.span));
                }
                args.push(value);
            }
            if self.eat(&Tok::Comma).is_none() && self.peek().tok != Tok::RParen {
                return Err(self.unclosed(what, open, ')'));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compact S-expression rendering of an expression, for structural assertions.
    fn sexp(e: &Expr) -> String {
        let list = |items: &[Expr]| items.iter().map(sexp).collect::<Vec<_>>().join(" ");
        match &e.kind {
            ExprKind::Literal(Literal::Int(v)) => v.to_string(),
            ExprKind::Literal(Literal::Float(v)) => format!("{v:?}"),
            ExprKind::Literal(Literal::Bool(v)) => if *v { "True" } else { "False" }.into(),
            ExprKind::Literal(Literal::Str(s)) => format!("{s:?}"),
            ExprKind::Literal(Literal::None) => "None".into(),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Tuple(items) => format!(
                "(tuple{}{})",
                if items.is_empty() { "" } else { " " },
                list(items)
            ),
            ExprKind::Unary { op, operand } => format!("({op:?} {})", sexp(operand)),
            ExprKind::Binary { op, lhs, rhs } => format!("({op:?} {} {})", sexp(lhs), sexp(rhs)),
            ExprKind::Call {
                func, args, kwargs, ..
            } => {
                let mut parts = vec![func.clone()];
                parts.extend(args.iter().map(sexp));
                parts.extend(
                    kwargs
                        .iter()
                        .map(|k| format!("{}={}", k.name, sexp(&k.value))),
                );
                format!("(call {})", parts.join(" "))
            }
            ExprKind::Subscript {
                value,
                index,
                tuple,
            } => {
                let items = index.iter().map(sexp_index).collect::<Vec<_>>().join(" ");
                if *tuple {
                    format!("(sub {} [{items}])", sexp(value))
                } else {
                    format!("(sub {} {items})", sexp(value))
                }
            }
            ExprKind::Attribute { value, name, .. } => format!("(attr {} {name})", sexp(value)),
            ExprKind::Method {
                receiver,
                name,
                args,
                kwargs,
                ..
            } => {
                let mut parts = vec![sexp(receiver), name.clone()];
                parts.extend(args.iter().map(sexp));
                parts.extend(
                    kwargs
                        .iter()
                        .map(|k| format!("{}={}", k.name, sexp(&k.value))),
                );
                format!("(method {})", parts.join(" "))
            }
        }
    }

    /// `(sub x 0)` for `x[0]`, `(sub x [0 1])` for a tuple index, `(slice 1 _ _)`
    /// for `1:` and `...` for an ellipsis.
    fn sexp_index(i: &Index) -> String {
        let part = |p: &Option<Box<Expr>>| p.as_deref().map_or("_".to_string(), sexp);
        match i {
            Index::Expr(e) => sexp(e),
            Index::Slice {
                start, stop, step, ..
            } => format!("(slice {} {} {})", part(start), part(stop), part(step)),
            Index::Ellipsis(_) => "...".into(),
        }
    }

    fn p(src: &str) -> String {
        let program = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
        let mut out: Vec<String> = program
            .bindings
            .iter()
            .map(|b| format!("{} = {}", b.name, sexp(&b.value)))
            .collect();
        out.push(sexp(&program.result));
        out.join("; ")
    }

    fn err(src: &str) -> String {
        match parse(src) {
            Ok(prog) => panic!("expected an error for {src:?}, got {prog:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn examples() {
        assert_eq!(
            p("mean(a*a + b*b, axis=0)"),
            "(call mean (Add (Mul a a) (Mul b b)) axis=0)"
        );
        assert_eq!(
            p("sum(sin(a)*b + 1, axis=1)"),
            "(call sum (Add (Mul (call sin a) b) 1) axis=1)"
        );
        assert_eq!(
            p("rechunk(a, (10000, 200))"),
            "(call rechunk a (tuple 10000 200))"
        );
        assert_eq!(
            p("random((20000, 20000), chunks=(2000, 2000), seed=1)"),
            "(call random (tuple 20000 20000) chunks=(tuple 2000 2000) seed=1)"
        );
        assert_eq!(
            p("where(a > 0.5, a, -a) ** 2"),
            "(Pow (call where (Gt a 0.5) a (Neg a)) 2)"
        );
        assert_eq!(p("astype(a, \"float32\")"), "(call astype a \"float32\")");
        assert_eq!(p("astype(a, float32)"), "(call astype a float32)");
        assert_eq!(p("sum(a, axis=(0, 1))"), "(call sum a axis=(tuple 0 1))");
        assert_eq!(p("mean(a, axis=None)"), "(call mean a axis=None)");
        assert_eq!(
            p("(mean(a, axis=0), max(a))"),
            "(tuple (call mean a axis=0) (call max a))"
        );
        assert_eq!(
            p("x = a * 2; y = x + 1; (sum(y), y)"),
            "x = (Mul a 2); y = (Add x 1); (tuple (call sum y) y)"
        );
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(p("a + b * c"), "(Add a (Mul b c))");
        assert_eq!(p("a - b - c"), "(Sub (Sub a b) c)");
        assert_eq!(p("a / b * c"), "(Mul (Div a b) c)");
        assert_eq!(p("-a**2"), "(Neg (Pow a 2))");
        assert_eq!(p("a**-b"), "(Pow a (Neg b))");
        assert_eq!(p("a**b**c"), "(Pow a (Pow b c))");
        assert_eq!(p("- + -a"), "(Neg (Pos (Neg a)))");
        assert_eq!(p("2 * -a ** 2"), "(Mul 2 (Neg (Pow a 2)))");
        assert_eq!(p("a + 1 <= b * 2"), "(Le (Add a 1) (Mul b 2))");
        assert_eq!(p("(a < b) == c"), "(Eq (Lt a b) c)");
        assert_eq!(p("a != b"), "(Ne a b)");
        assert_eq!(p("a >= b"), "(Ge a b)");
    }

    /// Every binary operator, and every unary one.
    const ALL_BINARY: [BinaryOp; 19] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::FloorDiv,
        BinaryOp::Mod,
        BinaryOp::MatMul,
        BinaryOp::Pow,
        BinaryOp::LShift,
        BinaryOp::RShift,
        BinaryOp::BitAnd,
        BinaryOp::BitOr,
        BinaryOp::BitXor,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::Eq,
        BinaryOp::Ne,
    ];
    const ALL_UNARY: [UnaryOp; 3] = [UnaryOp::Neg, UnaryOp::Pos, UnaryOp::Invert];

    /// The message and 1-based column of the error for `src`.
    fn err_at(src: &str) -> (String, usize) {
        match parse(src) {
            Ok(prog) => panic!("expected an error for {src:?}, got {prog:?}"),
            Err(e) => (e.message.clone(), line_col(src, e.span.start).1),
        }
    }

    #[test]
    fn precedence_of_every_level_against_its_neighbours() {
        // All levels at once, loosest first and tightest first.
        assert_eq!(
            p("a | b ^ c & d << e + f * g ** h"),
            "(BitOr a (BitXor b (BitAnd c (LShift d (Add e (Mul f (Pow g h)))))))"
        );
        assert_eq!(
            p("a ** b * c + d << e & f ^ g | h"),
            "(BitOr (BitXor (BitAnd (LShift (Add (Mul (Pow a b) c) d) e) f) g) h)"
        );
        assert_eq!(
            p("a < b | c ^ d & e >> f - g // h ** -i"),
            "(Lt a (BitOr b (BitXor c (BitAnd d (RShift e (Sub f (FloorDiv g (Pow h (Neg i)))))))))"
        );
        // Comparisons against `|`.
        assert_eq!(p("a | b < c | d"), "(Lt (BitOr a b) (BitOr c d))");
        assert_eq!(p("a == b | c"), "(Eq a (BitOr b c))");
        // `|` against `^`.
        assert_eq!(p("a | b ^ c"), "(BitOr a (BitXor b c))");
        assert_eq!(p("a ^ b | c"), "(BitOr (BitXor a b) c)");
        // `^` against `&`.
        assert_eq!(p("a ^ b & c"), "(BitXor a (BitAnd b c))");
        assert_eq!(p("a & b ^ c"), "(BitXor (BitAnd a b) c)");
        // `&` against shifts.
        assert_eq!(p("a & b << c"), "(BitAnd a (LShift b c))");
        assert_eq!(p("a >> b & c"), "(BitAnd (RShift a b) c)");
        // Shifts against `+ -`.
        assert_eq!(p("a << b + c"), "(LShift a (Add b c))");
        assert_eq!(p("a - b >> c"), "(RShift (Sub a b) c)");
        // `+ -` against `* / // % @`.
        assert_eq!(p("a + b % c"), "(Add a (Mod b c))");
        assert_eq!(p("a // b - c"), "(Sub (FloorDiv a b) c)");
        assert_eq!(p("a - b @ c"), "(Sub a (MatMul b c))");
        // `* / // % @` against unary.
        assert_eq!(p("-a // b"), "(FloorDiv (Neg a) b)");
        assert_eq!(p("a % -b"), "(Mod a (Neg b))");
        assert_eq!(p("~a @ +b"), "(MatMul (Invert a) (Pos b))");
        // Unary against `**`: `**` binds tighter on its left, a unary is allowed on its right.
        assert_eq!(p("~a ** 2"), "(Invert (Pow a 2))");
        assert_eq!(p("-2**2"), "(Neg (Pow 2 2))");
        assert_eq!(p("2**-1"), "(Pow 2 (Neg 1))");
        assert_eq!(p("2 ** ~a"), "(Pow 2 (Invert a))");
        assert_eq!(p("a ** -b ** c"), "(Pow a (Neg (Pow b c)))");
        assert_eq!(p("a ** b ** c * d"), "(Mul (Pow a (Pow b c)) d)");
        assert_eq!(p("-~+a"), "(Neg (Invert (Pos a)))");
        assert_eq!(p("~~a"), "(Invert (Invert a))");
        // Parentheses override everything.
        assert_eq!(p("(a | b) & c"), "(BitAnd (BitOr a b) c)");
        assert_eq!(p("(-a) ** 2"), "(Pow (Neg a) 2)");
        // Calls and tuples take the new operators in their arguments.
        assert_eq!(p("f(a | b, k=c << 1)"), "(call f (BitOr a b) k=(LShift c 1))");
        assert_eq!(p("a & b, ~c"), "(tuple (BitAnd a b) (Invert c))");
    }

    #[test]
    fn every_binary_level_is_left_associative() {
        assert_eq!(p("a @ b * c"), "(Mul (MatMul a b) c)");
        assert_eq!(p("a * b @ c"), "(MatMul (Mul a b) c)");
        assert_eq!(p("a // b % c / d"), "(Div (Mod (FloorDiv a b) c) d)");
        assert_eq!(p("a % b // c"), "(FloorDiv (Mod a b) c)");
        assert_eq!(p("a - b + c"), "(Add (Sub a b) c)");
        assert_eq!(p("a << b >> c"), "(RShift (LShift a b) c)");
        assert_eq!(p("a >> b << c"), "(LShift (RShift a b) c)");
        assert_eq!(p("a & b & c"), "(BitAnd (BitAnd a b) c)");
        assert_eq!(p("a ^ b ^ c"), "(BitXor (BitXor a b) c)");
        assert_eq!(p("a | b | c"), "(BitOr (BitOr a b) c)");
    }

    #[test]
    fn symbols_round_trip_through_the_parser() {
        let mut seen = std::collections::HashSet::new();
        for op in ALL_BINARY {
            assert!(seen.insert(op.symbol()), "duplicate symbol {}", op.symbol());
            let src = format!("a {} b", op.symbol());
            let ExprKind::Binary { op: parsed, .. } = parse(&src).unwrap().result.kind else {
                panic!("{src}")
            };
            assert_eq!(parsed, op, "{src}");
            // Without spaces too.
            let src = format!("a{}b", op.symbol());
            let ExprKind::Binary { op: parsed, .. } = parse(&src).unwrap().result.kind else {
                panic!("{src}")
            };
            assert_eq!(parsed, op, "{src}");
        }
        let symbols: Vec<&str> = ALL_UNARY.iter().map(|op| op.symbol()).collect();
        assert_eq!(symbols, ["-", "+", "~"]);
        for op in ALL_UNARY {
            let src = format!("{}a", op.symbol());
            let ExprKind::Unary { op: parsed, .. } = parse(&src).unwrap().result.kind else {
                panic!("{src}")
            };
            assert_eq!(parsed, op, "{src}");
        }
    }

    #[test]
    fn tokenizer_operator_edge_cases() {
        let toks = |src: &str| -> Vec<Tok> { lex(src).unwrap().into_iter().map(|t| t.tok).collect() };
        use Tok::{Amp, At, Caret, Eof, Ge, GtGt, Gt, Le, Lt, LtLt, Percent, Pipe, Slash, SlashSlash, Star, StarStar, Tilde};
        assert_eq!(toks("/ // ///"), [Slash, SlashSlash, SlashSlash, Slash, Eof]);
        assert_eq!(toks("* ** ***"), [Star, StarStar, StarStar, Star, Eof]);
        assert_eq!(toks("< << <= <<= < <"), [Lt, LtLt, Le, LtLt, Tok::Assign, Lt, Lt, Eof]);
        assert_eq!(toks("> >> >= >>= > >"), [Gt, GtGt, Ge, GtGt, Tok::Assign, Gt, Gt, Eof]);
        assert_eq!(toks("<<<"), [LtLt, Lt, Eof]);
        assert_eq!(toks("%@&|^~~"), [Percent, At, Amp, Pipe, Caret, Tilde, Tilde, Eof]);
        let spans: Vec<Span> = lex("a//b<<c").unwrap().iter().map(|t| t.span).collect();
        assert_eq!(spans[1], Span::new(1, 3));
        assert_eq!(spans[3], Span::new(4, 6));
        // `a<<b` is a shift; `a< <b` is a comparison missing its right operand.
        assert_eq!(p("a<<b"), "(LShift a b)");
        assert_eq!(err_at("a< <b"), ("expected an expression, found '<'".into(), 4));
        assert_eq!(p("a>>b"), "(RShift a b)");
        assert_eq!(err_at("a> >b"), ("expected an expression, found '>'".into(), 4));
        assert_eq!(p("a<=b"), "(Le a b)");
        assert_eq!(p("a>=b"), "(Ge a b)");
        assert_eq!(p("a < -b"), "(Lt a (Neg b))");
        assert_eq!(p("a<~b"), "(Lt a (Invert b))");
        assert_eq!(p("a//b"), "(FloorDiv a b)");
        assert_eq!(p("a//-b"), "(FloorDiv a (Neg b))");
        assert_eq!(err_at("a/ /b"), ("expected an expression, found '/'".into(), 4));
        assert_eq!(p("a**b"), "(Pow a b)");
        assert_eq!(err_at("a* *b"), ("expected an expression, found '*'".into(), 4));
        assert_eq!(err_at("a***b"), ("expected an expression, found '*'".into(), 4));
        assert_eq!(p("a*-b"), "(Mul a (Neg b))");
        // Numbers next to operators.
        assert_eq!(p("1//2%3"), "(Mod (FloorDiv 1 2) 3)");
        assert_eq!(p("1.//2."), "(FloorDiv 1.0 2.0)");
        assert_eq!(p("1<<2>>3"), "(RShift (LShift 1 2) 3)");
        assert_eq!(p("x@y&1|2^~3"), "(BitOr (BitAnd (MatMul x y) 1) (BitXor 2 (Invert 3)))");
        // Augmented assignments are not part of the language.
        assert_eq!(err_at("a <<= b"), ("expected an expression, found '='".into(), 5));
        assert_eq!(err_at("a //= b"), ("expected an expression, found '='".into(), 5));
        // Inside strings and comments operators are just text.
        assert_eq!(p("f('a // b') # c << d"), "(call f \"a // b\")");
    }

    #[test]
    fn error_messages_for_new_operators() {
        assert_eq!(err_at("a // "), ("expected an expression, found end of input".into(), 6));
        assert_eq!(err_at("a <<< b"), ("expected an expression, found '<'".into(), 5));
        assert_eq!(err_at("a >>> b"), ("expected an expression, found '>'".into(), 5));
        assert_eq!(err_at("// a"), ("expected an expression, found '//'".into(), 1));
        assert_eq!(err_at("<< a"), ("expected an expression, found '<<'".into(), 1));
        assert_eq!(err_at("a ** // b"), ("expected an expression, found '//'".into(), 6));
        assert_eq!(err_at("a + >> b"), ("expected an expression, found '>>'".into(), 5));
        assert_eq!(err_at("a & ^ b"), ("expected an expression, found '^'".into(), 5));
        assert_eq!(err_at("a | & b"), ("expected an expression, found '&'".into(), 5));
        assert_eq!(err_at("a ^ | b"), ("expected an expression, found '|'".into(), 5));
        assert_eq!(err_at("a @ % b"), ("expected an expression, found '%'".into(), 5));
        assert_eq!(err_at("a % @ b"), ("expected an expression, found '@'".into(), 5));
        assert_eq!(err_at("~"), ("expected an expression, found end of input".into(), 2));
        assert_eq!(err_at("a ~ b"), ("expected an operator or end of input, found '~'".into(), 3));
        assert_eq!(err_at("a // b c"), ("expected an operator or end of input, found name 'c'".into(), 8));
        assert_eq!(err_at("mean(a //)"), ("expected an expression, found ')'".into(), 10));
        assert_eq!(
            err_at("mean(a | b c)"),
            ("expected ',' or ')' to close the call to 'mean' opened at column 5, found name 'c'".into(), 12)
        );
        assert_eq!(
            err_at("a < b << c < d"),
            ("chained comparisons are not supported, found a second comparison '<'; add parentheses".into(), 12)
        );
        assert_eq!(
            err_at("a == b | c != d"),
            ("chained comparisons are not supported, found a second comparison '!='; add parentheses".into(), 12)
        );
        assert_eq!(p("(a < b) | (c < d)"), "(BitOr (Lt a b) (Lt c d))");
        let src = "x = a <<< b";
        assert_eq!(
            parse(src).unwrap_err().render(src),
            "error at line 1, column 9: expected an expression, found '<'\n  x = a <<< b\n          ^"
        );
        let src = "y = a //\n";
        assert_eq!(
            parse(src).unwrap_err().render(src),
            "error at line 1, column 9: expected an expression, found end of line\n  y = a //\n          ^"
        );
    }

    #[test]
    fn spans_of_new_operators() {
        let prog = parse("-a // b").unwrap();
        assert_eq!(prog.result.span, Span::new(0, 7));
        let ExprKind::Binary { lhs, rhs, .. } = &prog.result.kind else { panic!() };
        assert_eq!((lhs.span, rhs.span), (Span::new(0, 2), Span::new(6, 7)));
        let prog = parse("x | ~(a ** 2)").unwrap();
        assert_eq!(prog.result.span, Span::new(0, 13));
        let ExprKind::Binary { rhs, .. } = &prog.result.kind else { panic!() };
        assert_eq!(rhs.span, Span::new(4, 13));
        let ExprKind::Unary { operand, .. } = &rhs.kind else { panic!() };
        assert_eq!(operand.span, Span::new(5, 13));
        let prog = parse("a<<b @ c").unwrap();
        let ExprKind::Binary { rhs, .. } = &prog.result.kind else { panic!() };
        assert_eq!((prog.result.span, rhs.span), (Span::new(0, 8), Span::new(3, 8)));
    }

    #[test]
    fn long_chains_of_every_operator_are_refused_by_the_depth_limit() {
        let chain = |n: usize, op: &str| format!("a{}", format!("{op}a").repeat(n));
        for op in ["|", "^", "&", "<<", ">>", "+", "-", "*", "/", "//", "%", "@"] {
            assert!(parse(&chain(MAX_DEPTH - 2, op)).is_ok(), "{op}");
            let src = chain(100_000, op);
            let e = parse(&src).unwrap_err();
            assert!(e.message.starts_with("expression is nested too deeply"), "{op}: {}", e.message);
            // The error is located where the limit is passed, not at the end of the chain.
            assert!(e.span.start <= chain(MAX_DEPTH, op).len(), "{op}: {:?}", e.span);
        }
        // A chain mixing every level, repeated.
        let mixed = "a ** a * a + a << a & a ^ a | ".repeat(100_000) + "a";
        assert!(err(&mixed).starts_with("expression is nested too deeply"));
        let mixed = "a | a ^ a & a << a + a * a ** ".repeat(100_000) + "a";
        assert!(err(&mixed).starts_with("expression is nested too deeply"));
        // Prefix operators and powers nest.
        assert!(err(&"~".repeat(100_000)).starts_with("expression is nested too deeply"));
        assert!(err(&format!("{}a", "-~".repeat(50_000))).starts_with("expression is nested too deeply"));
        assert!(err(&chain(100_000, "**")).starts_with("expression is nested too deeply"));
        // Chains inside nesting count with it, whatever their level.
        for op in ["|", "<<", "//"] {
            let src = format!("{}{}{}", "(".repeat(60), chain(60, op), ")".repeat(60));
            assert!(err(&src).starts_with("expression is nested too deeply"), "{op}");
        }
        // Exactly at the limit: a chain of one level may have MAX_DEPTH - 1 operators.
        for op in ["|", "<<", "+", "%"] {
            assert!(parse(&chain(MAX_DEPTH - 1, op)).is_ok(), "{op}");
            assert!(err(&chain(MAX_DEPTH, op)).starts_with("expression is nested too deeply"), "{op}");
        }
        // A tighter chain counts from its place in the looser one, and is not counted
        // again once it is over: long sums of products are fine.
        assert!(parse(&("a*a*a + ".repeat(MAX_DEPTH - 10) + "a")).is_ok());
        // Chains inside nested parentheses: each within the limit, the tree not.
        let mut nested = String::from("a");
        for _ in 0..MAX_DEPTH / 3 {
            nested = format!("({nested}){}", "+a".repeat(MAX_DEPTH / 2));
        }
        assert!(err(&nested).starts_with("expression is nested too deeply (a tree"), "{}", err(&nested));
        assert!(parse(&("a*a*a | a << a & ".repeat(MAX_DEPTH / 3) + "a")).is_ok());
        let tail = |n: usize| format!("{}a{}", "a | ".repeat(90), "*a".repeat(n));
        assert!(parse(&tail(MAX_DEPTH - 91)).is_ok());
        assert!(err(&tail(MAX_DEPTH - 90)).starts_with("expression is nested too deeply"));
        // Below the limit, nesting through every level is fine.
        let n = MAX_DEPTH - 1;
        let src = format!("{}a{}", "(a | a ^ a & a << a + a * ~".repeat(n / 8), ")".repeat(n / 8));
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn literals() {
        assert_eq!(p("1_000"), "1000");
        assert_eq!(
            p("(.5, 1e-3, 2., 1.5, 1E+2, 1_0.2_5)"),
            "(tuple 0.5 0.001 2.0 1.5 100.0 10.25)"
        );
        assert_eq!(p("('x', \"a\\\"b\\\\\")"), "(tuple \"x\" \"a\\\"b\\\\\")");
        assert_eq!(p("(True, False, None)"), "(tuple True False None)");
        assert_eq!(p("9223372036854775807"), "9223372036854775807");
    }

    #[test]
    fn tuples_and_grouping() {
        assert_eq!(p("()"), "(tuple)");
        assert_eq!(p("(a,)"), "(tuple a)");
        assert_eq!(p("(a)"), "a");
        assert_eq!(p("(a, b,)"), "(tuple a b)");
        assert_eq!(p("a, b"), "(tuple a b)");
        assert_eq!(p("f()"), "(call f)");
        assert_eq!(p("f(a, k=1,)"), "(call f a k=1)");
    }

    #[test]
    fn bindings_newlines_and_comments() {
        let src = "# setup\nx = a * 2   # double\n\ny = mean(\n  x,\n  axis=0,\n)\n(sum(y), y)\n";
        assert_eq!(
            p(src),
            "x = (Mul a 2); y = (call mean x axis=0); (tuple (call sum y) y)"
        );
        assert_eq!(p(";;x = 1;\n;x"), "x = 1; x");
        assert_eq!(p("a == b"), "(Eq a b)");
    }

    #[test]
    fn spans() {
        let prog = parse("mean(a, axis=0) + -b").unwrap();
        assert_eq!(prog.result.span, Span::new(0, 20));
        let ExprKind::Binary { lhs, rhs, .. } = &prog.result.kind else {
            panic!()
        };
        assert_eq!(rhs.span, Span::new(18, 20));
        let ExprKind::Call {
            func_span,
            args,
            kwargs,
            ..
        } = &lhs.kind
        else {
            panic!()
        };
        assert_eq!(
            (lhs.span, *func_span, args[0].span),
            (Span::new(0, 15), Span::new(0, 4), Span::new(5, 6))
        );
        assert_eq!(
            (kwargs[0].name_span, kwargs[0].value.span),
            (Span::new(8, 12), Span::new(13, 14))
        );
        let prog = parse("x = (a + 1)\nx").unwrap();
        assert_eq!(
            (prog.bindings[0].name_span, prog.bindings[0].value.span),
            (Span::new(0, 1), Span::new(4, 11))
        );
        assert_eq!(prog.result.span, Span::new(12, 13));
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            err("mean(a*a + b*b, axis=0"),
            "expected ')' to close the call to 'mean' opened at column 5, found end of input"
        );
        assert_eq!(
            err("mean(a b)"),
            "expected ',' or ')' to close the call to 'mean' opened at column 5, found name 'b'"
        );
        assert_eq!(
            err("x = 1\ny = (a,\n b"),
            "expected ')' to close the parenthesis opened at line 2, column 5, found end of input"
        );
        assert_eq!(err("a $ b"), "unexpected character '$'");
        assert_eq!(err("é+1"), "unexpected character 'é'");
        assert_eq!(err("*a"), "expected an expression, found '*'");
        assert_eq!(err("a +"), "expected an expression, found end of input");
        assert_eq!(err(""), "expected an expression, found end of input");
        assert_eq!(
            err("99999999999999999999"),
            "integer literal 99999999999999999999 is too large"
        );
        assert!(err("a < b < c").starts_with("chained comparisons are not supported"));
        assert_eq!(
            err("f(axis=0, a)"),
            "positional argument follows keyword argument in the call to 'f'"
        );
        assert_eq!(
            err("f(k=1, k=2)"),
            "keyword argument 'k' repeated in the call to 'f'"
        );
        assert_eq!(
            err("1e"),
            "invalid number literal '1e': expected digits after the exponent"
        );
        assert_eq!(
            err("1__0"),
            "invalid number literal '1__0': underscores must separate digits"
        );
        assert_eq!(err("12abc"), "invalid number literal '12abc'");
        assert!(err("'abc").starts_with("unterminated string literal"));
        assert_eq!(
            err("x = 1"),
            "expected a result expression after the bindings, found end of input"
        );
        assert_eq!(err("True = 1\nx"), "cannot assign to 'True'");
        assert_eq!(
            err("x = 1 2"),
            "expected ';' or a new line after the binding of 'x', found number 2"
        );
        assert_eq!(err("a; x = 1"), "expected end of input after the result expression (bindings must come first), found name 'x'");
        assert_eq!(
            err("a )"),
            "expected an operator or end of input, found ')'"
        );
        assert_eq!(
            err("f(a)(b)"),
            "only a function name or a method can be called, found '(' after an expression"
        );
        assert!(err(&"(".repeat(5000)).starts_with("expression is nested too deeply"));
        assert!(err(&"-".repeat(5000)).starts_with("expression is nested too deeply"));
    }

    #[test]
    fn long_lines_are_cut_around_the_error() {
        let src = format!("{}(", "a + ".repeat(500));
        let e = parse(&src).unwrap_err().render(&src);
        let lines: Vec<&str> = e.lines().collect();
        assert!(lines[1].starts_with("  ...") && lines[1].len() < 200, "{e}");
        let caret = lines[2].find('^').expect("a caret");
        assert!(caret <= lines[1].len() + 1 && lines[2].len() < 200, "{e}");
        // Found by the expr fuzz target: an error span on a trailing carriage return.
        for src in ["#)\r", "a +\r", "(\r\n", "\r"] {
            let _ = parse(src).map_err(|e| e.render(src));
        }
        // Short lines are shown whole.
        assert_eq!(parse("a +").unwrap_err().render("a +").lines().nth(1), Some("  a +"));
    }

    #[test]
    fn long_operator_chains_count_as_depth() {
        let chain = |n: usize, op: &str| format!("a{}", format!(" {op} 1").repeat(n));
        for op in ["+", "-", "*", "/"] {
            assert!(parse(&chain(MAX_DEPTH - 2, op)).is_ok(), "{op}");
            assert!(err(&chain(10_000, op)).starts_with("expression is nested too deeply"), "{op}");
        }
        // Chains inside nesting count with it.
        assert!(err(&format!("{}{}{}", "(".repeat(60), chain(60, "+"), ")".repeat(60))).starts_with("expression is nested too deeply"));
    }

    #[test]
    fn deep_nesting_below_limit_is_ok() {
        let n = MAX_DEPTH - 1;
        let src = format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(p(&src), "a");
        let src = format!("{}a{}", "f(".repeat(n), ")".repeat(n));
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn render() {
        let src = "x = 1\ny = mean(a, $)";
        let e = parse(src).unwrap_err();
        assert_eq!(e.render(src), "error at line 2, column 13: unexpected character '$'\n  y = mean(a, $)\n              ^");
        let src = "mean(a";
        assert_eq!(
            parse(src).unwrap_err().render(src),
            "error at line 1, column 7: expected ')' to close the call to 'mean' opened at column 5, found end of input\n  mean(a\n        ^"
        );
        let e = SyntaxError::new("bad", Span::new(3, 9));
        assert_eq!(
            e.render("é = foo(1)"),
            "error at line 1, column 3: bad\n  é = foo(1)\n    ^^^^^^"
        );
        assert_eq!(e.to_string(), "bad");
        // Out-of-range and mid-character spans are clamped rather than panicking.
        assert!(SyntaxError::new("x", Span::new(99, 3))
            .render("é")
            .contains('^'));
        assert!(SyntaxError::new("x", Span::new(1, 2))
            .render("é\r\n")
            .contains('^'));
    }

    #[test]
    fn subscripts() {
        assert_eq!(p("x[0]"), "(sub x 0)");
        assert_eq!(p("x[i + 1]"), "(sub x (Add i 1))");
        assert_eq!(p("x[a < b]"), "(sub x (Lt a b))");
        assert_eq!(p("x[None]"), "(sub x None)");
        // A comma, trailing or not, makes the index a tuple, as in Python.
        assert_eq!(p("x[0,]"), "(sub x [0])");
        assert_eq!(p("x[0, 1]"), "(sub x [0 1])");
        assert_eq!(p("x[0, 1,]"), "(sub x [0 1])");
        // A parenthesised tuple is one element (Python makes no difference; the evaluator may).
        assert_eq!(p("x[(0, 1)]"), "(sub x (tuple 0 1))");
        assert_eq!(p("x[()]"), "(sub x (tuple))");
        // Slices: every part optional.
        assert_eq!(p("x[:]"), "(sub x (slice _ _ _))");
        assert_eq!(p("x[::]"), "(sub x (slice _ _ _))");
        assert_eq!(p("x[::2]"), "(sub x (slice _ _ 2))");
        assert_eq!(p("x[1:]"), "(sub x (slice 1 _ _))");
        assert_eq!(p("x[:-1]"), "(sub x (slice _ (Neg 1) _))");
        assert_eq!(p("x[::-1]"), "(sub x (slice _ _ (Neg 1)))");
        assert_eq!(p("x[a:b:c]"), "(sub x (slice a b c))");
        assert_eq!(p("x[1::3]"), "(sub x (slice 1 _ 3))");
        assert_eq!(p("x[:2:]"), "(sub x (slice _ 2 _))");
        assert_eq!(p("x[1:2:]"), "(sub x (slice 1 2 _))");
        assert_eq!(p("a[1:-1]"), "(sub a (slice 1 (Neg 1) _))");
        assert_eq!(
            p("x[i + 1 : n * 2 : -(k)]"),
            "(sub x (slice (Add i 1) (Mul n 2) (Neg k)))"
        );
        assert_eq!(
            p("x[f(a):g(b, k=1):y[0]]"),
            "(sub x (slice (call f a) (call g b k=1) (sub y 0)))"
        );
        assert_eq!(p("x[None:]"), "(sub x (slice None _ _))");
        // Ellipsis and mixed index lists.
        assert_eq!(p("x[...]"), "(sub x ...)");
        assert_eq!(p("x[...,]"), "(sub x [...])");
        assert_eq!(p("x[..., 0]"), "(sub x [... 0])");
        assert_eq!(p("x[...,0]"), "(sub x [... 0])");
        assert_eq!(
            p("x[:, None, ..., 1:, 2,]"),
            "(sub x [(slice _ _ _) None ... (slice 1 _ _) 2])"
        );
        assert_eq!(p("x[::2, ::-1]"), "(sub x [(slice _ _ 2) (slice _ _ (Neg 1))])");
        // Chains and other values.
        assert_eq!(p("x[0][1:]"), "(sub (sub x 0) (slice 1 _ _))");
        assert_eq!(p("x[0][1][2]"), "(sub (sub (sub x 0) 1) 2)");
        assert_eq!(p("f(x)[::2]"), "(sub (call f x) (slice _ _ 2))");
        assert_eq!(p("(a + b)[0]"), "(sub (Add a b) 0)");
        assert_eq!(p("x[y[0]]"), "(sub x (sub y 0))");
        assert_eq!(p("x[y[z[0]:]]"), "(sub x (sub y (slice (sub z 0) _ _)))");
        assert_eq!(p("(1, 2)[0]"), "(sub (tuple 1 2) 0)");
        assert_eq!(p("'abc'[1:]"), "(sub \"abc\" (slice 1 _ _))");
        assert_eq!(p("x [0]"), "(sub x 0)");
        // Newlines inside brackets are ignored, as in Python.
        assert_eq!(p("x[\n1,\n  2:\n3\n]"), "(sub x [1 (slice 2 3 _)])");
        assert_eq!(p("y = x[0]\ny[1:]"), "y = (sub x 0); (sub y (slice 1 _ _))");
        assert_eq!(p("f(x[0], k=x[1:])"), "(call f (sub x 0) k=(sub x (slice 1 _ _)))");
        assert_eq!(p("x[0], x[1]"), "(tuple (sub x 0) (sub x 1))");
        // The tuple flag itself.
        let tuple_of = |src: &str| match parse(src).unwrap().result.kind {
            ExprKind::Subscript { index, tuple, .. } => (index.len(), tuple),
            other => panic!("{other:?}"),
        };
        assert_eq!(tuple_of("x[0]"), (1, false));
        assert_eq!(tuple_of("x[0,]"), (1, true));
        assert_eq!(tuple_of("x[:]"), (1, false));
        assert_eq!(tuple_of("x[:,]"), (1, true));
        assert_eq!(tuple_of("x[...]"), (1, false));
        assert_eq!(tuple_of("x[0, 1]"), (2, true));
        assert_eq!(tuple_of("x[(0, 1)]"), (1, false));
    }

    #[test]
    fn attributes_and_methods() {
        assert_eq!(p("x.T"), "(attr x T)");
        assert_eq!(p("x.mT"), "(attr x mT)");
        assert_eq!(p("x.shape"), "(attr x shape)");
        assert_eq!(p("x.a.b.c"), "(attr (attr (attr x a) b) c)");
        assert_eq!(p("x . T"), "(attr x T)");
        assert_eq!(p("(x\n.T)"), "(attr x T)");
        assert_eq!(p("x.e5"), "(attr x e5)");
        assert_eq!(p("x._a1"), "(attr x _a1)");
        assert_eq!(p("x.astype(float32)"), "(method x astype float32)");
        assert_eq!(p("x.sum(axis=0)"), "(method x sum axis=0)");
        assert_eq!(p("x.f()"), "(method x f)");
        assert_eq!(p("x.f(1, (2, 3), k=a.T,)"), "(method x f 1 (tuple 2 3) k=(attr a T))");
        assert_eq!(
            p("x.T[0].sum(axis=0)"),
            "(method (sub (attr x T) 0) sum axis=0)"
        );
        assert_eq!(p("x.sum().T"), "(attr (method x sum) T)");
        assert_eq!(p("x.sum(1).max(0)"), "(method (method x sum 1) max 0)");
        assert_eq!(p("x.reshape((2, 3))[0]"), "(sub (method x reshape (tuple 2 3)) 0)");
        assert_eq!(p("f(x).T"), "(attr (call f x) T)");
        assert_eq!(p("(a + b).T"), "(attr (Add a b) T)");
        assert_eq!(p("x[0].T"), "(attr (sub x 0) T)");
        assert_eq!(p("'a'.upper()"), "(method \"a\" upper)");
        assert_eq!(p("1..real"), "(attr 1.0 real)");
        assert_eq!(p("1.5.real"), "(attr 1.5 real)");
        assert_eq!(p("1e3.real"), "(attr 1000.0 real)");
        assert_eq!(p("mean(x.T, axis=x.ndim - 1)"), "(call mean (attr x T) axis=(Sub (attr x ndim) 1))");
        // A parenthesised name or attribute is still called, as in Python.
        assert_eq!(p("(f)(x)"), "(call f x)");
        assert_eq!(p("(x.sum)(1)"), "(method x sum 1)");
        assert_eq!(p("y = x.T\ny.sum()"), "y = (attr x T); (method y sum)");
    }

    #[test]
    fn postfix_binds_tighter_than_power_and_unary() {
        assert_eq!(p("-x[0] ** 2"), "(Neg (Pow (sub x 0) 2))");
        assert_eq!(p("x.T ** 2"), "(Pow (attr x T) 2)");
        assert_eq!(p("2 ** x.T"), "(Pow 2 (attr x T))");
        assert_eq!(p("2 ** -x[0]"), "(Pow 2 (Neg (sub x 0)))");
        assert_eq!(p("x[0] ** y[1] ** 2"), "(Pow (sub x 0) (Pow (sub y 1) 2))");
        assert_eq!(p("~x.T"), "(Invert (attr x T))");
        assert_eq!(p("-x.sum()"), "(Neg (method x sum))");
        assert_eq!(p("+x[::-1]"), "(Pos (sub x (slice _ _ (Neg 1))))");
        assert_eq!(p("-x.T[0] ** -y.sum(axis=0)"), "(Neg (Pow (sub (attr x T) 0) (Neg (method y sum axis=0))))");
        assert_eq!(p("(-x)[0]"), "(sub (Neg x) 0)");
        assert_eq!(p("(x ** 2).T"), "(attr (Pow x 2) T)");
        assert_eq!(p("a + b[0] * c.T"), "(Add a (Mul (sub b 0) (attr c T)))");
        assert_eq!(p("a[0] < b.T"), "(Lt (sub a 0) (attr b T))");
        assert_eq!(p("a @ b.T"), "(MatMul a (attr b T))");
        assert_eq!(p("x[1:] - x[:-1]"), "(Sub (sub x (slice 1 _ _)) (sub x (slice _ (Neg 1) _)))");
    }

    #[test]
    fn tokenizer_postfix_edge_cases() {
        use Tok::{Colon, Comma, Dot, Ellipsis, Eof, Float, Int, LBracket, Minus, RBracket};
        let toks = |src: &str| -> Vec<Tok> { lex(src).unwrap().into_iter().map(|t| t.tok).collect() };
        let name = |n: &str| Tok::Name(n.into());
        assert_eq!(toks("x.T"), [name("x"), Dot, name("T"), Eof]);
        assert_eq!(toks("x . T"), [name("x"), Dot, name("T"), Eof]);
        assert_eq!(toks("1.5"), [Float(1.5), Eof]);
        assert_eq!(toks("1."), [Float(1.0), Eof]);
        assert_eq!(toks(".5"), [Float(0.5), Eof]);
        assert_eq!(toks("1e3"), [Float(1000.0), Eof]);
        assert_eq!(toks("1.e3"), [Float(1000.0), Eof]);
        assert_eq!(toks("..."), [Ellipsis, Eof]);
        assert_eq!(toks("...."), [Ellipsis, Dot, Eof]);
        assert_eq!(toks(".."), [Dot, Dot, Eof]);
        assert_eq!(toks("x..T"), [name("x"), Dot, Dot, name("T"), Eof]);
        assert_eq!(toks("x.1"), [name("x"), Float(0.1), Eof]);
        assert_eq!(toks("1..real"), [Float(1.0), Dot, name("real"), Eof]);
        assert_eq!(toks("1e3.real"), [Float(1000.0), Dot, name("real"), Eof]);
        assert_eq!(toks("x[...,0]"), [name("x"), LBracket, Ellipsis, Comma, Int(0), RBracket, Eof]);
        assert_eq!(toks("a[1:-1]"), [name("a"), LBracket, Int(1), Colon, Minus, Int(1), RBracket, Eof]);
        assert_eq!(toks("x[::2]"), [name("x"), LBracket, Colon, Colon, Int(2), RBracket, Eof]);
        // Newlines inside brackets are not tokens; outside they are.
        assert_eq!(toks("x[1,\n2]\n"), [name("x"), LBracket, Int(1), Comma, Int(2), RBracket, Tok::Newline, Eof]);
        let spans: Vec<Span> = lex("x.T[...]").unwrap().iter().map(|t| t.span).collect();
        assert_eq!(spans[..6], [Span::new(0, 1), Span::new(1, 2), Span::new(2, 3), Span::new(3, 4), Span::new(4, 7), Span::new(7, 8)]);
        // `1.T` is a malformed number, as in Python.
        assert_eq!(err("1.T"), "invalid number literal '1.T'");
    }

    #[test]
    fn postfix_errors_with_columns() {
        let e = |m: &str, c: usize| (m.to_string(), c);
        let index = "expected an index (an expression, a slice such as 1:2, or '...'), found";
        assert_eq!(err_at("x["), e("expected ']' to close the subscript opened at column 2, found end of input", 3));
        assert_eq!(err_at("x[1:"), e("expected ']' to close the subscript opened at column 2, found end of input", 5));
        assert_eq!(err_at("x[0,"), e("expected ']' to close the subscript opened at column 2, found end of input", 5));
        assert_eq!(err_at("y = x[0\nz"), e("expected ',' or ']' to close the subscript opened at column 6, found name 'z'", 1));
        assert_eq!(err_at("x[1 2]"), e("expected ',' or ']' to close the subscript opened at column 2, found number 2", 5));
        assert_eq!(err_at("x[1:2 3]"), e("expected ',' or ']' to close the subscript opened at column 2, found number 3", 7));
        assert_eq!(err_at("x[1)"), e("expected ',' or ']' to close the subscript opened at column 2, found ')'", 4));
        assert_eq!(err_at("x(1]"), e("expected ',' or ')' to close the call to 'x' opened at column 2, found ']'", 4));
        assert_eq!(err_at("x[a=1]"), e("expected ',' or ']' to close the subscript opened at column 2, found '='", 4));
        assert_eq!(err_at("x[1:2:3:4]"), e("a slice has at most three parts, start:stop:step; found a third ':'", 8));
        assert_eq!(err_at("x[:::]"), e("a slice has at most three parts, start:stop:step; found a third ':'", 5));
        assert_eq!(err_at("x[]"), e(&format!("{index} ']'"), 3));
        assert_eq!(err_at("x[,]"), e(&format!("{index} ','"), 3));
        assert_eq!(err_at("x[0,,]"), e(&format!("{index} ','"), 5));
        assert_eq!(err_at("x[1+]"), e("expected an expression, found ']'", 5));
        assert_eq!(err_at("x[1:+]"), e("expected an expression, found ']'", 6));
        assert_eq!(err_at("x."), e("expected an attribute name after '.', found end of input", 3));
        assert_eq!(err_at("x.1"), e("expected an attribute name after '.', found number 1", 3));
        assert_eq!(err_at("x.5e3 + 1"), e("expected an attribute name after '.', found number 5e3", 3));
        assert_eq!(err_at("x .5"), e("expected an operator or end of input, found number .5", 3));
        assert_eq!(err_at("x..T"), e("expected an attribute name after '.', found '.'", 3));
        assert_eq!(err_at("x.(1)"), e("expected an attribute name after '.', found '('", 3));
        assert_eq!(err_at("x.True"), e("expected an attribute name after '.', found 'True'", 3));
        assert_eq!(err_at("x.None"), e("expected an attribute name after '.', found 'None'", 3));
        assert_eq!(err_at("x.'a'"), e("expected an attribute name after '.', found string 'a'", 3));
        assert_eq!(err_at("x.[0]"), e("expected an attribute name after '.', found '['", 3));
        assert_eq!(err_at("x.T.\n"), e("expected an attribute name after '.', found end of line", 5));
        assert_eq!(err_at(".T"), e("expected an expression, found '.'", 1));
        // `...` is only an index element.
        let ellipsis = "'...' is only allowed as an element of an index, e.g. x[..., 0]";
        assert_eq!(err_at("..."), e(ellipsis, 1));
        assert_eq!(err_at("f(...)"), e(ellipsis, 3));
        assert_eq!(err_at("x[1:...]"), e(ellipsis, 5));
        assert_eq!(err_at("x[(...)]"), e(ellipsis, 4));
        assert_eq!(err_at("x[... + 1]"), e("expected ',' or ']' to close the subscript opened at column 2, found '+'", 7));
        assert_eq!(err_at("x[...:]"), e("expected ',' or ']' to close the subscript opened at column 2, found ':'", 6));
        assert_eq!(err_at("x..."), e("expected an operator or end of input, found '...'", 2));
        // Method calls reuse the argument rules of calls.
        assert_eq!(err_at("x.sum("), e("expected ')' to close the call to method 'sum' opened at column 6, found end of input", 7));
        assert_eq!(err_at("x.sum(a b)"), e("expected ',' or ')' to close the call to method 'sum' opened at column 6, found name 'b'", 9));
        assert_eq!(err_at("x.sum(k=1, 2)"), e("positional argument follows keyword argument in the call to method 'sum'", 12));
        assert_eq!(err_at("x.sum(k=1, k=2)"), e("keyword argument 'k' repeated in the call to method 'sum'", 12));
        assert_eq!(err_at("x.sum(None=1)"), e("'None' cannot be used as a keyword argument name", 7));
        // Only names and methods can be called.
        let call = "only a function name or a method can be called, found '(' after an expression";
        assert_eq!(err_at("(a+b)(1)"), e(call, 6));
        assert_eq!(err_at("x[0](1)"), e(call, 5));
        assert_eq!(err_at("f(x)(1)"), e(call, 5));
        assert_eq!(err_at("x.sum()(1)"), e(call, 8));
        assert_eq!(err_at("x.T[0](1)"), e(call, 7));
        assert_eq!(err_at("1(2)"), e(call, 2));
        assert_eq!(err_at("None()"), e(call, 5));
        // Neither subscripts nor attributes are assignment targets.
        assert_eq!(err_at("x[0] = 1\nx"), e("expected an operator or end of input, found '='", 6));
        assert_eq!(err_at("x.T = 1\nx"), e("expected an operator or end of input, found '='", 5));
        assert_eq!(err_at("a:b"), e("expected an operator or end of input, found ':'", 2));
        assert_eq!(err_at("x]"), e("expected an operator or end of input, found ']'", 2));
        let src = "y = x[1:2:3:4]";
        assert_eq!(
            parse(src).unwrap_err().render(src),
            "error at line 1, column 12: a slice has at most three parts, start:stop:step; found a third ':'\n  y = x[1:2:3:4]\n             ^"
        );
        let src = "x.1";
        assert_eq!(
            parse(src).unwrap_err().render(src),
            "error at line 1, column 3: expected an attribute name after '.', found number 1\n  x.1\n    ^"
        );
    }

    #[test]
    fn spans_of_postfix_forms() {
        let src = "x.T[1:2, ...].sum(axis=0)";
        let prog = parse(src).unwrap();
        assert_eq!(prog.result.span, Span::new(0, 25));
        let ExprKind::Method { receiver, name_span, kwargs, .. } = &prog.result.kind else { panic!() };
        assert_eq!((*name_span, kwargs[0].name_span, kwargs[0].value.span), (Span::new(14, 17), Span::new(18, 22), Span::new(23, 24)));
        assert_eq!(receiver.span, Span::new(0, 13));
        let ExprKind::Subscript { value, index, tuple } = &receiver.kind else { panic!() };
        assert!(*tuple);
        assert_eq!(value.span, Span::new(0, 3));
        assert_eq!((index[0].span(), index[1].span()), (Span::new(4, 7), Span::new(9, 12)));
        assert!(matches!(index[1], Index::Ellipsis(_)));
        let Index::Slice { start: Some(start), stop: Some(stop), step: None, .. } = &index[0] else { panic!() };
        assert_eq!((start.span, stop.span), (Span::new(4, 5), Span::new(6, 7)));
        let ExprKind::Attribute { value: x, name_span, name } = &value.kind else { panic!() };
        assert_eq!((x.span, *name_span, name.as_str()), (Span::new(0, 1), Span::new(2, 3), "T"));
        // Slice spans run from the first part or ':' to the last part or ':'.
        let slice_span = |src: &str| match parse(src).unwrap().result.kind {
            ExprKind::Subscript { index, .. } => index[0].span(),
            other => panic!("{other:?}"),
        };
        assert_eq!(slice_span("x[:]"), Span::new(2, 3));
        assert_eq!(slice_span("x[ : ]"), Span::new(3, 4));
        assert_eq!(slice_span("x[::]"), Span::new(2, 4));
        assert_eq!(slice_span("x[1:]"), Span::new(2, 4));
        assert_eq!(slice_span("x[:-1]"), Span::new(2, 5));
        assert_eq!(slice_span("x[a:b:c]"), Span::new(2, 7));
        assert_eq!(slice_span("x[(a) : (b) : ]"), Span::new(2, 13));
        assert_eq!(slice_span("x[ 0 ]"), Span::new(3, 4));
        // Parenthesised values and methods keep their parentheses.
        assert_eq!(parse("(x)[0]").unwrap().result.span, Span::new(0, 6));
        assert_eq!(parse("(x.sum)(1)").unwrap().result.span, Span::new(0, 10));
        assert_eq!(parse("((x).T)").unwrap().result.span, Span::new(0, 7));
        let prog = parse("a + -x[0] ** 2").unwrap();
        let ExprKind::Binary { rhs, .. } = &prog.result.kind else { panic!() };
        assert_eq!(rhs.span, Span::new(4, 14));
    }

    #[test]
    fn postfix_chains_count_towards_the_depth_limit() {
        let chain = |n: usize, t: &str| format!("x{}", t.repeat(n));
        let too_deep = |src: &str| err(src).starts_with("expression is nested too deeply");
        for t in ["[0]", "[:]", "[::-1, ...]", ".T", ".sum()", ".f(a, k=1)", "[0].T"] {
            assert!(parse(&chain(MAX_DEPTH / 2 - 1, t)).is_ok(), "{t}");
            let src = chain(100_000, t);
            let e = parse(&src).unwrap_err();
            assert!(e.message.starts_with("expression is nested too deeply"), "{t}: {}", e.message);
            // Located where the limit is passed, not at the end of the chain.
            assert!(e.span.start <= chain(MAX_DEPTH + 1, t).len(), "{t}: {:?}", e.span);
        }
        // Exactly at the limit: the first postfix operation sits at the level of the
        // expression (like a call), each further one is a level deeper, and an index
        // or the arguments are one more.
        assert!(parse(&chain(MAX_DEPTH, ".T")).is_ok());
        assert!(too_deep(&chain(MAX_DEPTH + 1, ".T")));
        assert!(parse(&chain(MAX_DEPTH, ".sum()")).is_ok());
        assert!(too_deep(&chain(MAX_DEPTH + 1, ".sum()")));
        assert!(parse(&chain(MAX_DEPTH - 1, "[0]")).is_ok());
        assert!(too_deep(&chain(MAX_DEPTH, "[0]")));
        assert!(parse(&chain(MAX_DEPTH - 1, ".f(a)")).is_ok());
        assert!(too_deep(&chain(MAX_DEPTH, ".f(a)")));
        assert!(parse(&format!("f(a){}", "[0]".repeat(MAX_DEPTH - 2))).is_ok());
        assert!(too_deep(&format!("f(a){}", "[0]".repeat(MAX_DEPTH - 1))));
        // Nested subscripts and methods nest like calls.
        let n = MAX_DEPTH - 1;
        for (open, close) in [("x[", "]"), ("x.f(", ")"), ("x[:", "]"), ("f(", ")")] {
            let nest = |n: usize| format!("{}a{}", open.repeat(n), close.repeat(n));
            assert!(parse(&nest(n)).is_ok(), "{open}");
            assert!(too_deep(&nest(n + 1)), "{open}");
            assert!(too_deep(&nest(100_000)), "{open}");
        }
        // Chains inside nesting, and nesting inside chains, count together.
        assert!(too_deep(&format!("{}{}{}", "(".repeat(60), chain(60, ".T"), ")".repeat(60))));
        assert!(too_deep(&format!("{}{}{}", "x[".repeat(60), chain(60, "[0]"), "]".repeat(60))));
        assert!(too_deep(&format!("{}[{}0{}]", chain(60, ".T"), "(".repeat(60), ")".repeat(60))));
        // Mixed with every other level, repeated.
        let mixed = "-x.T[0] ** a.f(1)[::2] * ".repeat(100_000) + "a";
        assert!(too_deep(&mixed));
        let mixed = "x[0].T[".repeat(100_000) + "a";
        assert!(too_deep(&mixed));
        // A chain is not counted again once it is over: long sums of chains are fine.
        assert!(parse(&format!("{}{}", chain(MAX_DEPTH, ".T"), " + a.T.T".repeat(MAX_DEPTH - 5))).is_ok());
    }

    #[test]
    fn postfix_forms_evaluate_or_say_why() {
        let spec = crate::Spec::new("memory://expr-parse-tests/work");
        let inputs = std::collections::HashMap::new();
        for (src, col, want) in [
            ("x = 1\nx[0]", 1, "an integer cannot be indexed"),
            ("ones(3).Q", 1, "arrays have no attribute 'Q'"),
            ("ones(3).bogus(1)", 9, "arrays have no method 'bogus'"),
            ("ones(3).arange(1)", 9, "arrays have no method 'arange'"),
            ("(1, 2)[1, 2]", 1, "a tuple is indexed with one integer or slice"),
            ("(1, 2)[5]", 8, "tuple index 5 is out of range for a tuple of 2"),
            ("ones(3)[1.5]", 9, "only integers, slices"),
            ("ones(3)[ones(2)]", 9, "indexing with an array"),
            ("ones(3)[::'a']", 11, "slice indices must be integers or None, found a string"),
        ] {
            let Err(super::super::EvalError::Syntax(e)) = super::super::evaluate(src, &spec, &inputs) else { panic!("{src}") };
            assert!(e.contains(&format!("column {col}: {want}")), "{src}: {e}");
        }
        let shape = super::super::evaluate("ones((2, 3, 4)).mT.shape[::-1]", &spec, &inputs).unwrap();
        assert_eq!(shape.len(), 3);
        let arrays = super::super::evaluate("ones((2, 3)).T[0], eye(3).sum(axis=0)", &spec, &inputs).unwrap();
        assert_eq!((arrays[0].shape(), arrays[1].shape()), (&[2][..], &[3][..]));
    }

    #[test]
    fn never_panics() {
        let examples = [
            "mean(a*a + b*b, axis=0)",
            "sum(sin(a)*b + 1, axis=1)",
            "rechunk(a, (10000, 200))",
            "random((20000, 20000), chunks=(2000, 2000), seed=1)",
            "where(a > 0.5, a, -a) ** 2",
            "astype(a, \"float32\")",
            "sum(a, axis=(0, 1)) # c",
            "x = a * 2; y = x + 1\n(sum(y), y)",
            "'a\\\"b\\\\c' .5e+3 1_0 é",
            "a | b ^ c & d << e >> f + g // h % i @ j ** ~k",
            "x.T[0].sum(axis=0)[..., ::-1, None, 1:2:3,] ** -y[i][j:]",
            "x[1:2:3:4] x..T x.1 x[] x[ (a+b)(1) 1..real 1.5.e ....",
        ];
        let mut inputs: Vec<String> = [
            "(((", "a+", "1e", "'abc", "é+1", "\\", "\"\\", "1.", ".", "1e+", "_1", "1_", ")))",
            "a=", "=", "f(a=", ",", "(,)", "a**", "\r\n", "\t#", "!", "!=", "\u{0}", "a\n=\n1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for ex in examples {
            inputs.extend(ex.char_indices().map(|(i, _)| ex[..i].to_string()));
            inputs.extend(ex.char_indices().map(|(i, _)| ex[i..].to_string()));
        }
        let alphabet: Vec<char> = "ab_1.e5()[],;:=<>!*+-/%@&|^~ \n#'\"\\éxTN".chars().collect();
        // Mostly the postfix forms.
        let postfix: Vec<char> = "x[]:.,()0-1T ".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..10_000 {
            let alphabet = if round % 2 == 0 { &alphabet } else { &postfix };
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 59) as usize;
            let s: String = (0..len)
                .map(|k| {
                    let r = state.rotate_left(7 * k as u32 + 3);
                    alphabet[(r % alphabet.len() as u64) as usize]
                })
                .collect();
            inputs.push(s);
        }
        for src in &inputs {
            if let Err(e) = parse(src) {
                assert!(!e.message.is_empty());
                let _ = e.render(src);
            }
        }
    }
}

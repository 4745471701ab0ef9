//! Boolean code queries: `valuing AND (trust OR hope) NOT "feeling known"`.
//!
//! A query's value is a set of passages per source (spans that do not overlap, each with the
//! codings behind it). Semantics (docs/findings.md):
//! - `A`: the text coded A (codings of A merged where they overlap);
//! - `A OR B`: text coded A or B (merged where they overlap);
//! - `A AND B`: text coded both: the intersections of A's and B's passages;
//! - `A OVERLAPPING B`: the whole passages of A that overlap a passage of B;
//! - `A NOT B` (also `A AND NOT B`): the passages of A that overlap no passage of B;
//! - `A NEAR n B` (also `NEAR(n)`, `NEAR/n`): the passages of A with a passage of B at most n
//!   characters away (overlapping included), each joined with those B passages into one.
//!
//! `OR` binds loosest; the other operators bind tighter and read left to right; parentheses
//! group. Operators are case-insensitive. A code is named as `Corpus::resolve_code` accepts; a
//! name of several words may be written as it is, or in double quotes (needed when it holds an
//! operator word or a parenthesis).
//!
//! A query nests parentheses at most [`MAX_QUERY_DEPTH`] deep and has at most
//! [`MAX_QUERY_OPERATORS`] operators: the parser and the evaluation recurse over the query, so
//! these bound the stack they need (and the work a query asks for).

use between_core::{CodeId, CodingId, Span};
use serde::Serialize;

use crate::excerpt::Excerpt;
use crate::{CodingFilter, Corpus, QueryError};

/// How deep parentheses may nest in a query.
pub const MAX_QUERY_DEPTH: usize = 64;

/// How many operators (AND, OR, NOT, OVERLAPPING, NEAR) a query may have.
pub const MAX_QUERY_OPERATORS: usize = 256;

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Codes(Vec<CodeId>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Overlapping(Box<Expr>, Box<Expr>),
    Not(Box<Expr>, Box<Expr>),
    Near(Box<Expr>, Box<Expr>, usize),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
    Quoted(String),
}

/// A token with its 1-based character position.
type Token = (Tok, usize);

fn lex(query: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push((if c == '(' { Tok::Open } else { Tok::Close }, i + 1));
            i += 1;
        } else if c == '"' {
            let close = chars[i + 1..]
                .iter()
                .position(|&d| d == '"')
                .ok_or_else(|| QueryError {
                    position: i + 1,
                    message: "this quote is never closed".into(),
                })?;
            out.push((
                Tok::Quoted(chars[i + 1..i + 1 + close].iter().collect()),
                i + 1,
            ));
            i += close + 2;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()\"".contains(chars[i]) {
                i += 1;
            }
            out.push((Tok::Word(chars[start..i].iter().collect()), start + 1));
        }
    }
    Ok(out)
}

fn is_operator(word: &str) -> bool {
    let w = word.to_uppercase();
    ["AND", "OR", "NOT", "OVERLAPPING"].contains(&w.as_str())
        || w == "NEAR"
        || w.starts_with("NEAR/")
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    end: usize,
    corpus: &'a Corpus,
    include_subcodes: bool,
    /// Parentheses open at this point.
    depth: usize,
    operators: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn position(&self) -> usize {
        self.peek().map_or(self.end, |t| t.1)
    }

    fn error(&self, message: impl Into<String>) -> QueryError {
        QueryError {
            position: self.position(),
            message: message.into(),
        }
    }

    fn peek_word(&self) -> Option<String> {
        match self.peek() {
            Some((Tok::Word(w), _)) => Some(w.to_uppercase()),
            _ => None,
        }
    }

    /// Counts an operator about to be read; refuses one too many.
    fn operator(&mut self) -> Result<(), QueryError> {
        self.operators += 1;
        if self.operators > MAX_QUERY_OPERATORS {
            return Err(self.error(format!(
                "the query has more than {MAX_QUERY_OPERATORS} operators, the limit"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.peek_word().as_deref() == Some("OR") {
            self.operator()?;
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.atom()?;
        while let Some(word) = self.peek_word() {
            if is_operator(&word) && word != "OR" {
                self.operator()?;
            }
            let op = match word.as_str() {
                "AND" => {
                    self.at += 1;
                    if self.peek_word().as_deref() == Some("NOT") {
                        self.at += 1;
                        "NOT"
                    } else {
                        "AND"
                    }
                }
                "NOT" => {
                    self.at += 1;
                    "NOT"
                }
                "OVERLAPPING" => {
                    self.at += 1;
                    "OVERLAPPING"
                }
                w if w == "NEAR" || w.starts_with("NEAR/") => {
                    let n = self.distance(w)?;
                    let right = self.atom()?;
                    left = Expr::Near(Box::new(left), Box::new(right), n);
                    continue;
                }
                _ => break,
            };
            let right = self.atom()?;
            left = match op {
                "AND" => Expr::And(Box::new(left), Box::new(right)),
                "NOT" => Expr::Not(Box::new(left), Box::new(right)),
                _ => Expr::Overlapping(Box::new(left), Box::new(right)),
            };
        }
        Ok(left)
    }

    /// After `NEAR`: `n`, `(n)`; or `NEAR/n` as one word.
    fn distance(&mut self, word: &str) -> Result<usize, QueryError> {
        let number = |s: &str, p: usize| {
            s.parse::<usize>().map_err(|_| QueryError {
                position: p,
                message: format!("NEAR needs a distance in characters, not '{s}'"),
            })
        };
        let near_at = self.position();
        self.at += 1;
        if let Some(n) = word.strip_prefix("NEAR/") {
            return number(n, near_at);
        }
        match self.peek().cloned() {
            Some((Tok::Word(w), p)) => {
                self.at += 1;
                number(&w, p)
            }
            Some((Tok::Open, _)) => {
                self.at += 1;
                let Some((Tok::Word(w), p)) = self.peek().cloned() else {
                    return Err(self.error("NEAR( needs a distance in characters"));
                };
                self.at += 1;
                let n = number(&w, p)?;
                match self.peek() {
                    Some((Tok::Close, _)) => {
                        self.at += 1;
                        Ok(n)
                    }
                    _ => Err(self.error("expected ')' after NEAR's distance")),
                }
            }
            _ => Err(self.error("NEAR needs a distance in characters, e.g. NEAR 200")),
        }
    }

    fn atom(&mut self) -> Result<Expr, QueryError> {
        match self.peek().cloned() {
            None => Err(self.error("expected a code or '(' here, at the end of the query")),
            Some((Tok::Open, _)) => {
                if self.depth == MAX_QUERY_DEPTH {
                    return Err(self.error(format!(
                        "parentheses nest more than {MAX_QUERY_DEPTH} deep, the limit"
                    )));
                }
                self.depth += 1;
                self.at += 1;
                let inner = self.or()?;
                match self.peek() {
                    Some((Tok::Close, _)) => {
                        self.at += 1;
                        self.depth -= 1;
                        Ok(inner)
                    }
                    _ => Err(self.error("expected ')'")),
                }
            }
            Some((Tok::Close, _)) => Err(self.error("expected a code, not ')'")),
            Some((Tok::Quoted(name), p)) => {
                self.at += 1;
                self.code(&name, p)
            }
            Some((Tok::Word(w), p)) => {
                if is_operator(&w) {
                    return Err(self.error(format!(
                        "expected a code, not the operator {}",
                        w.to_uppercase()
                    )));
                }
                let mut words = vec![w];
                self.at += 1;
                while let Some((Tok::Word(next), _)) = self.peek() {
                    if is_operator(next) {
                        break;
                    }
                    words.push(next.clone());
                    self.at += 1;
                }
                self.code(&words.join(" "), p)
            }
        }
    }

    fn code(&self, reference: &str, position: usize) -> Result<Expr, QueryError> {
        let code = self
            .corpus
            .resolve_code(reference)
            .map_err(|e| QueryError {
                position,
                message: e.to_string(),
            })?;
        Ok(Expr::Codes(if self.include_subcodes {
            self.corpus.code_and_descendants(code.id)
        } else {
            vec![code.id]
        }))
    }
}

/// A parsed boolean code query, its codes resolved in a corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeQuery {
    expr: Expr,
}

impl CodeQuery {
    /// Parses `query`; with `include_subcodes` a code stands for itself and every code under it.
    pub fn parse(query: &str, corpus: &Corpus, include_subcodes: bool) -> Result<Self, QueryError> {
        let tokens = lex(query)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            end: query.chars().count() + 1,
            corpus,
            include_subcodes,
            depth: 0,
            operators: 0,
        };
        let expr = parser.or()?;
        if parser.peek().is_some() {
            return Err(parser.error("expected an operator (AND, OR, NOT, OVERLAPPING, NEAR n)"));
        }
        Ok(Self { expr })
    }
}

/// A passage of the result: a span and the corpus's codings (indexes) behind it.
#[derive(Clone, Debug, PartialEq)]
struct Passage {
    span: Span,
    codings: Vec<u32>,
}

/// Per source position: passages, sorted, not overlapping.
type Passages = Vec<Vec<Passage>>;

/// Combines two sources' passage lists into one.
type Combine<'a> = &'a dyn Fn(&[Passage], &[Passage]) -> Vec<Passage>;

/// Sorts and joins overlapping passages.
fn merge(mut list: Vec<Passage>) -> Vec<Passage> {
    list.sort_by_key(|p| (p.span.start, p.span.end));
    let mut out: Vec<Passage> = Vec::with_capacity(list.len());
    for p in list {
        match out.last_mut() {
            Some(last) if p.span.start < last.span.end => {
                last.span.end = last.span.end.max(p.span.end);
                last.codings.extend(p.codings);
            }
            _ => out.push(p),
        }
    }
    for p in &mut out {
        p.codings.sort_unstable();
        p.codings.dedup();
    }
    out
}

/// For each passage of `a`, the passages of `b` within `reach` (0: overlapping; n + 1: at most
/// n characters apart). Both are sorted and disjoint, so one forward scan serves.
fn related<'b>(a: &[Passage], b: &'b [Passage], reach: usize) -> Vec<Vec<&'b Passage>> {
    let mut lo = 0;
    a.iter()
        .map(|x| {
            while lo < b.len() && b[lo].span.end + reach <= x.span.start {
                lo += 1;
            }
            b[lo..]
                .iter()
                .take_while(|y| y.span.start < x.span.end + reach)
                .collect()
        })
        .collect()
}

/// The result of a boolean query: passages with context.
#[derive(Clone, Debug, Serialize)]
pub struct CodeQueryResult {
    pub total: usize,
    pub sources: usize,
    pub passages: Vec<Excerpt>,
}

impl Corpus {
    fn evaluate(&self, expr: &Expr, filter: &CodingFilter, contrast: bool) -> Passages {
        let pairwise = |a: &Expr, b: &Expr, f: Combine| {
            let (a, b) = (
                self.evaluate(a, filter, contrast),
                self.evaluate(b, filter, contrast),
            );
            a.iter().zip(&b).map(|(x, y)| f(x, y)).collect()
        };
        match expr {
            Expr::Codes(codes) => self
                .sources
                .iter()
                .map(|s| {
                    let range = self.source_range(s.id);
                    merge(
                        self.codings[range.clone()]
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| {
                                codes.contains(&c.code)
                                    && (contrast || !c.contrast)
                                    && filter.admits(c)
                            })
                            .map(|(k, c)| Passage {
                                span: c.span,
                                codings: vec![(range.start + k) as u32],
                            })
                            .collect(),
                    )
                })
                .collect(),
            Expr::Or(a, b) => pairwise(a, b, &|x, y| merge([x, y].concat())),
            Expr::And(a, b) => pairwise(a, b, &|x, y| {
                let near = related(x, y, 0);
                merge(
                    x.iter()
                        .zip(near)
                        .flat_map(|(p, qs)| {
                            qs.into_iter().map(move |q| Passage {
                                span: Span {
                                    start: p.span.start.max(q.span.start),
                                    end: p.span.end.min(q.span.end),
                                },
                                codings: [p.codings.as_slice(), &q.codings].concat(),
                            })
                        })
                        .collect(),
                )
            }),
            Expr::Overlapping(a, b) => pairwise(a, b, &|x, y| joined(x, y, 0, false)),
            Expr::Near(a, b, n) => pairwise(a, b, &|x, y| joined(x, y, n + 1, true)),
            Expr::Not(a, b) => pairwise(a, b, &|x, y| {
                x.iter()
                    .zip(related(x, y, 0))
                    .filter(|(_, qs)| qs.is_empty())
                    .map(|(p, _)| p.clone())
                    .collect()
            }),
        }
    }

    /// Runs a boolean query; all passages are counted, those at positions `shown` come with
    /// `context` characters either side. Contrast codings take part only with `contrast`.
    pub fn code_query(
        &self,
        query: &CodeQuery,
        filter: &CodingFilter,
        contrast: bool,
        context: usize,
        shown: std::ops::Range<usize>,
    ) -> CodeQueryResult {
        let passages = self.evaluate(&query.expr, filter, contrast);
        let total = passages.iter().map(Vec::len).sum();
        let sources = passages.iter().filter(|p| !p.is_empty()).count();
        let shown = passages
            .iter()
            .enumerate()
            .flat_map(|(s, list)| list.iter().map(move |p| (s, p)))
            .skip(shown.start)
            .take(shown.len())
            .map(|(s, p)| {
                let ids: Vec<CodingId> = p
                    .codings
                    .iter()
                    .map(|&k| self.codings[k as usize].id)
                    .collect();
                self.excerpt(s, p.span, context, ids)
            })
            .collect();
        CodeQueryResult {
            total,
            sources,
            passages: shown,
        }
    }
}

/// The passages of `x` with a passage of `y` within `reach`; with `extend`, each joined with
/// those passages.
fn joined(x: &[Passage], y: &[Passage], reach: usize, extend: bool) -> Vec<Passage> {
    let out = x
        .iter()
        .zip(related(x, y, reach))
        .filter(|(_, qs)| !qs.is_empty())
        .map(|(p, qs)| {
            let mut joined = p.clone();
            for q in qs {
                if extend {
                    joined.span.start = joined.span.start.min(q.span.start);
                    joined.span.end = joined.span.end.max(q.span.end);
                }
                joined.codings.extend(&q.codings);
            }
            joined
        })
        .collect();
    merge(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_fixtures::two_turns;
    use crate::test_support::sample;

    fn fixture() -> Corpus {
        two_turns(&[
            (0, "Small hope", 27, 31, "ann", false),
            (0, "Hope", 17, 26, "ann", true),
        ])
    }

    fn spans(corpus: &Corpus, q: &str, subcodes: bool) -> Vec<(usize, usize)> {
        let query = CodeQuery::parse(q, corpus, subcodes).expect("query");
        corpus
            .code_query(&query, &CodingFilter::default(), false, 10, 0..usize::MAX)
            .passages
            .iter()
            .map(|p| (p.span.start, p.span.end))
            .collect()
    }

    #[test]
    fn operators_follow_the_documented_semantics() {
        let c = fixture();
        assert_eq!(
            spans(&c, "hope", false),
            [(3, 12)],
            "the contrast coding is left out"
        );
        assert_eq!(spans(&c, "hope", true), [(3, 12), (27, 31)]);
        assert_eq!(spans(&c, "hope OR trust", false), [(3, 12), (17, 22)]);
        assert_eq!(spans(&c, "hope AND trust", false), [(8, 12)]);
        assert_eq!(spans(&c, "hope OVERLAPPING trust", false), [(3, 12)]);
        assert_eq!(spans(&c, "trust NOT hope", false), [(17, 22)]);
        assert_eq!(spans(&c, "trust and not hope", false), [(17, 22)]);
        // Trust 17..22 and Small hope 27..31 are 5 characters apart.
        assert_eq!(
            spans(&c, "trust NEAR 4 \"small hope\"", false),
            Vec::<(usize, usize)>::new()
        );
        assert_eq!(spans(&c, "trust NEAR(5) small hope", false), [(17, 31)]);
        // With sub-codes, Trust 17..22 is 5 characters from Hope 3..12 and from Small hope
        // 27..31: one passage joins all three.
        assert_eq!(spans(&c, "(trust NEAR/5 hope) OR hope", true), [(3, 31)]);
        let query = CodeQuery::parse("hope AND trust", &c, false).expect("query");
        let r = c.code_query(&query, &CodingFilter::default(), false, 40, 0..10);
        assert_eq!(
            r.passages[0].codings.len(),
            2,
            "both codings behind the passage"
        );
        assert_eq!(r.passages[0].text, "here");
        assert_eq!(r.passages[0].before, "A: hope ");
        let with_contrast = c.code_query(
            &CodeQuery::parse("hope", &c, false).expect("query"),
            &CodingFilter::default(),
            true,
            0,
            0..10,
        );
        assert_eq!(with_contrast.total, 2);
    }

    #[test]
    fn bad_queries_say_where() {
        let c = fixture();
        let err = |q: &str| CodeQuery::parse(q, &c, false).expect_err(q);
        assert_eq!(err("hope AND").position, 9);
        assert_eq!(err("hope AND (trust").position, 16);
        let unknown = err("hope OR despair");
        assert_eq!(unknown.position, 9);
        assert!(unknown.message.contains("despair"), "{unknown}");
        assert_eq!(err("hope NEAR x trust").position, 11);
        assert_eq!(err("AND hope").position, 1);
        assert_eq!(err("hope OR trust)").position, 14);
        assert_eq!(
            err("hope trust").position,
            1,
            "one name of two words, unknown"
        );
        assert_eq!(err("\"hope").position, 1);
    }

    #[test]
    fn deep_or_long_queries_are_refused_at_the_limit() {
        let c = fixture();
        let nested = |depth: usize| format!("{}hope{}", "(".repeat(depth), ")".repeat(depth));
        assert!(CodeQuery::parse(&nested(MAX_QUERY_DEPTH), &c, false).is_ok());
        for depth in [MAX_QUERY_DEPTH + 1, 3_000, 100_000] {
            let e = CodeQuery::parse(&nested(depth), &c, false).expect_err("too deep");
            assert_eq!(e.position, MAX_QUERY_DEPTH + 1, "the first paren too many");
            assert!(e.message.contains("nest more than 64 deep"), "{e}");
        }
        // Operators chain to the left, each one a level of the expression.
        let chain = |operators: usize| vec!["hope"; operators + 1].join(" OR ");
        let at_limit = CodeQuery::parse(&chain(MAX_QUERY_OPERATORS), &c, false).expect("query");
        assert_eq!(
            c.code_query(&at_limit, &CodingFilter::default(), false, 0, 0..10)
                .total,
            1
        );
        for operators in [MAX_QUERY_OPERATORS + 1, 100_000] {
            let e = CodeQuery::parse(&chain(operators), &c, false).expect_err("too many");
            assert!(e.message.contains("more than 256 operators"), "{e}");
        }
        let mixed = vec!["hope"; 100_000].join(" AND NOT ");
        assert!(CodeQuery::parse(&mixed, &c, false).is_err());
    }

    #[test]
    fn sample_and_is_within_overlapping_and_not_complements_it() {
        let c = sample();
        let codes: Vec<&str> = c
            .codes()
            .iter()
            .filter(|k| c.codings.iter().any(|x| x.code == k.id))
            .map(|k| c.code_path(k.id))
            .take(2)
            .collect();
        let [a, b] = codes[..] else {
            panic!("two used codes")
        };
        let q = |s: String| {
            let query = CodeQuery::parse(&s, &c, false).expect("query");
            c.code_query(&query, &CodingFilter::default(), false, 0, 0..usize::MAX)
        };
        let (all, over, not, and) = (
            q(format!("\"{a}\"")),
            q(format!("\"{a}\" OVERLAPPING \"{b}\"")),
            q(format!("\"{a}\" NOT \"{b}\"")),
            q(format!("\"{a}\" AND \"{b}\"")),
        );
        assert_eq!(over.total + not.total, all.total);
        for p in &and.passages {
            assert!(over.passages.iter().any(|o| o.source == p.source
                && o.span.start <= p.span.start
                && p.span.end <= o.span.end));
        }
    }
}

//! Text cells a spreadsheet must not run ("CSV injection", OWASP): a cell starting with `=`,
//! `+`, `-` or `@` is read as a formula, and a tab or carriage return before one hides it. Every
//! CSV and XLSX writer passes its text cells (never its numbers) through here.
//!
//! The rule, so that our own CSV reads back exactly: a text cell that starts with one of
//! [`FORMULA_STARTS`], after any number of apostrophes, is written with one more apostrophe in
//! front (`=SUM(A1)` → `'=SUM(A1)`, `'=x` → `''=x`); reading removes that apostrophe again
//! ([`restore`]). Any other cell is written as it is.

use std::borrow::Cow;

/// What makes a spreadsheet read a cell as a formula.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a spreadsheet could take `text` for a formula (or it only needs an apostrophe less
/// to be one), so that a writer must neutralise it.
pub fn is_formula_like(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// A text cell as a CSV writer writes it: with an apostrophe in front when formula-like.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if is_formula_like(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A cell of a table whose cells are all written as text (a command's CSV output): one that
/// reads as a number (`-0.25`, `3`) is a number, not a formula, and stays as it is; any other
/// is [`neutralise`]d.
pub fn neutralise_unless_number(cell: &str) -> Cow<'_, str> {
    if cell.parse::<f64>().is_ok() {
        Cow::Borrowed(cell)
    } else {
        neutralise(cell)
    }
}

/// A text cell of a CSV as it was before [`neutralise`]: the apostrophe it added removed.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if is_formula_like(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_get_an_apostrophe_and_other_text_does_not() {
        for (text, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("it's", "it's"),
            ("'quoted'", "'quoted'"),
            (" =1", " =1"),
            ("Trust", "Trust"),
            ("", ""),
        ] {
            assert_eq!(neutralise(text), written, "{text:?}");
            assert_eq!(restore(written), text, "{written:?}");
        }
    }

    #[test]
    fn untyped_cells_that_read_as_numbers_stay_numbers() {
        for (cell, written) in [
            ("-0.25", "-0.25"),
            ("3", "3"),
            ("-2+3", "'-2+3"),
            ("=1", "'=1"),
            ("@x", "'@x"),
        ] {
            assert_eq!(neutralise_unless_number(cell), written, "{cell:?}");
        }
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back_and_never_starts_a_formula(
            text in "['=+@\\t\\r -]{0,3}[a-z'=+-]{0,4}"
        ) {
            let written = neutralise(&text);
            prop_assert!(!written.starts_with(FORMULA_STARTS));
            prop_assert_eq!(restore(&written), text.as_str());
        }
    }
}

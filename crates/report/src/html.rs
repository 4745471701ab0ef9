//! The report as one self-contained HTML file: inline CSS, inline SVG, no scripts, no external
//! assets. Everything from the study is escaped; figures are SVG this crate drew.

use std::fmt::Write;

use crate::Report;
use crate::tables::{Cell, Table};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.4}
h1{font-size:1.7rem;margin-bottom:.2rem}
h2{font-size:1.3rem;border-bottom:1px solid #999;margin-top:2.2rem;break-after:avoid}
h3{font-size:1.05rem;break-after:avoid}
p.meta{color:#555;font-size:.9rem}
p.note{color:#444;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.6rem 0 1.2rem}
th,td{border-top:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{border-bottom:2px solid #333;background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.quote{white-space:pre-line;font-style:italic}
tr{break-inside:avoid}
figure{margin:1rem 0}
figure svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#444}
nav ol{columns:2;font-size:.9rem}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}}
";

fn table_html(out: &mut String, number: usize, table: &Table) {
    let _ = writeln!(
        out,
        "<h3 id=\"table-{}\">Table {number}. {}</h3>",
        escape(&table.id),
        escape(&table.title)
    );
    if !table.note.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&table.note));
    }
    out.push_str("<table>\n<thead><tr>");
    for c in &table.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = match cell {
                Cell::Count(_) | Cell::Number { .. } => " class=\"num\"",
                Cell::Text(t) if t.contains('“') && i + 1 == row.len() => " class=\"quote\"",
                _ => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&cell.display()));
        }
        out.push_str("</tr>\n");
    }
    if table.rows.is_empty() {
        let _ = writeln!(
            out,
            "<tr><td colspan=\"{}\">(none)</td></tr>",
            table.columns.len().max(1)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The report as HTML; `generated_at` is the only line that changes between runs.
pub fn render(report: &Report, generated_at: &str) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(&report.title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>{}</h1>", escape(&report.title));
    if !report.subtitle.is_empty() {
        let _ = writeln!(out, "<p class=\"meta\">{}</p>", escape(&report.subtitle));
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">Generated {}</p>",
        escape(generated_at)
    );
    out.push_str("<nav><ol>\n");
    for s in &report.sections {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&s.id),
            escape(&s.title)
        );
    }
    out.push_str("</ol></nav>\n");
    let mut table_number = 0;
    let mut figure_number = 0;
    for s in &report.sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            escape(&s.id),
            escape(&s.title)
        );
        if !s.text.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", escape(&s.text));
        }
        for f in &s.figures {
            figure_number += 1;
            let _ = writeln!(
                out,
                "<figure>\n{}\n<figcaption>Figure {figure_number}. {}</figcaption>\n</figure>",
                f.svg,
                escape(&f.title)
            );
        }
        for t in &s.tables {
            table_number += 1;
            table_html(&mut out, table_number, t);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_study_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}

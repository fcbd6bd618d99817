//! The human-readable tables (comfy-table): columns sized to their widest cell, so they stay
//! aligned whatever the cell widths. No borders: each row starts with its first cell at the
//! start of the line (scripts grep `^name `), columns are two spaces apart, and a header, when
//! there is one, is underlined with dashes.

use comfy_table::{CellAlignment, ContentLineStyle, LineStyle, Table, TableStyle};

/// Columns two spaces apart (one of padding, one of junction), dashes under the header.
const PLAIN: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction(' '))
    .header_separator(LineStyle::none().fill('-').junction(' '))
    .content_lines(ContentLineStyle::none().junction(' '));

/// Two columns divided by `|`, the header ruled with `-+-`.
const SIDE_BY_SIDE: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction('|'))
    .header_separator(LineStyle::none().fill('-').junction('+'))
    .content_lines(ContentLineStyle::none().junction('|'));

/// A table under construction: rows are kept as given and laid out by `render`.
pub struct TextTable {
    style: TableStyle,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns (from 0) aligned to the right (numbers).
    right: Vec<usize>,
}

/// A borderless table; an empty `header` prints no header row. `right` lists the columns
/// (from 0) aligned to the right.
pub fn new(header: &[&str], right: &[usize]) -> TextTable {
    TextTable {
        style: PLAIN,
        header: header.iter().map(|s| s.to_string()).collect(),
        rows: Vec::new(),
        right: right.to_vec(),
    }
}

/// Two columns side by side under their titles, divided by ` | `.
pub fn side_by_side(left: &str, right: &str) -> TextTable {
    TextTable {
        style: SIDE_BY_SIDE,
        ..new(&[left, right], &[])
    }
}

impl TextTable {
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }

    /// The table's lines, each with `indent` before it and no trailing blanks; empty for a
    /// table with neither header nor rows.
    pub fn render(&self, indent: &str) -> String {
        let mut t = Table::new();
        t.load_style(self.style);
        if !self.header.is_empty() {
            t.set_header(self.header.clone());
        }
        t.add_rows(self.rows.clone());
        let side = self.style == SIDE_BY_SIDE;
        for (i, c) in t.column_iter_mut().enumerate() {
            // The divider of a side-by-side table gets a blank on either side.
            c.set_padding(if side && i > 0 { (1, 0) } else { (0, 1) });
            if self.right.contains(&i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        t.lines()
            .map(|l| format!("{indent}{}", l.trim_end()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn print(&self) {
        self.print_indented("");
    }

    pub fn print_indented(&self, indent: &str) {
        let text = self.render(indent);
        if !text.is_empty() {
            println!("{text}");
        }
    }
}

/// The status cell of a check: `ok` or `FAIL`.
pub fn status(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "FAIL"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_whatever_the_widths() {
        let mut t = new(&["op", "n", "what"], &[1]);
        t.row(["syscall", "5", "short"]);
        t.row(["a-much-longer-name-than-the-header", "123456", "x"]);
        let text = t.render("");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("op "), "{text}");
        assert!(lines[1].starts_with("---"), "{text}");
        assert!(lines[2].starts_with("syscall "), "{text}");
        // Every column starts at the same offset on every line; numbers end at the same one.
        let at = |l: &str, s: &str| l.find(s).unwrap();
        assert_eq!(at(lines[0], "what"), at(lines[2], "short"));
        assert_eq!(at(lines[2], "short"), at(lines[3], "x"));
        assert_eq!(at(lines[2], "5") + 1, at(lines[3], "123456") + 6);
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }

    #[test]
    fn headless_tables_keep_leading_blanks_and_indent() {
        let mut t = new(&[], &[1]);
        t.row(["netns", "1"]);
        t.row(["  table: node", "22"]);
        let text = t.render("  ");
        assert_eq!(text, "  netns           1\n    table: node  22");
        assert_eq!(new(&[], &[]).render(""), "");
    }

    #[test]
    fn side_by_side_divides_with_a_bar() {
        let mut t = side_by_side("left title", "right");
        t.row(["a-long-left-cell-here", "r"]);
        t.row(["l", ""]);
        let text = t.render("");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "left title            | right");
        assert!(lines[1].starts_with("----------------------+-"), "{text}");
        assert_eq!(lines[2], "a-long-left-cell-here | r");
        assert_eq!(lines[3], "l                     |");
    }
}

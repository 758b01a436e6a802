//! The one escaping function every piece of report text goes through, and a tiny HTML writer
//! that makes it the only way dynamic text reaches the page.
//!
//! Tag and attribute names are `&'static str` (written by pgperf); attribute values and text
//! are always escaped. The only unescaped dynamic content is SVG produced by [`super::svg`],
//! wrapped in [`Svg`] so it cannot be confused with text.

/// Escapes text for HTML element content and quoted attribute values (`& < > " '`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// An SVG document drawn by pgperf's chart code (plotters escapes the text it draws).
#[derive(Debug, Clone)]
pub struct Svg(pub(super) String);

/// Appends HTML to a string; dynamic text can only enter escaped.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// Appends markup written by pgperf itself (tags, entities), never user data.
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Appends escaped text.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text));
        self
    }

    /// Opens `<tag a="v" ...>` with escaped attribute values.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            self.out.push_str(&escape(value));
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    /// Closes `</tag>`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag attrs>escaped text</tag>`.
    pub fn element(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// Appends a chart.
    pub fn svg(&mut self, svg: &Svg) -> &mut Self {
        self.out.push_str(&svg.0);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_stays_text() {
        assert_eq!(
            escape(r#"</script><img src=x onerror='alert(1)'>&"#),
            "&lt;/script&gt;&lt;img src=x onerror=&#39;alert(1)&#39;&gt;&amp;"
        );
    }

    #[test]
    fn attribute_values_cannot_break_out_of_quotes() {
        let mut html = Html::default();
        html.element("td", &[("title", "\" onmouseover=\"x")], "a<b");
        assert_eq!(
            html.finish(),
            "<td title=\"&quot; onmouseover=&quot;x\">a&lt;b</td>"
        );
    }
}

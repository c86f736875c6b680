//! Making outside text safe for SMS, email subjects and bodies, log lines and short reports.

/// Replaces control characters (line breaks included) with spaces and squeezes runs of spaces.
pub fn single_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    out.trim_end().to_owned()
}

/// Keeps line breaks and tabs but drops every other control character.
pub fn printable(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect()
}

/// At most `max_bytes` bytes, cut on a character boundary, with `…` when cut.
pub fn cut_bytes(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    const ELLIPSIS: &str = "...";
    let budget = max_bytes.saturating_sub(ELLIPSIS.len());
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

/// At most `max_chars` characters, with `...` when cut.
pub fn cut_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(3)).collect();
    format!("{kept}...")
}

/// Text an SMS can carry in GSM-7 at one byte a character: ASCII without the characters GSM-7
/// encodes as two (`[]{}\^~|`) or lacks (`` ` ``). Others become `-`.
pub fn sms_safe(text: &str) -> String {
    single_line(text)
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' => c,
            '!' | '"' | '#' | '%' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | '-' | '.' | '/'
            | ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' | '$' => c,
            _ => '-',
        })
        .collect()
}

/// A number as a person reads it: no `.0` on whole numbers.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_survive_a_single_line() {
        assert_eq!(single_line("a\r\n\tb\u{7}  c\u{1b}[31m"), "a b c [31m");
    }

    #[test]
    fn cutting_respects_utf8_and_limits() {
        let text = "ééééé";
        let cut = cut_bytes(text, 7);
        assert!(cut.len() <= 7);
        assert!(cut.ends_with("..."));
        assert_eq!(cut_bytes("short", 10), "short");
        assert_eq!(cut_chars("abcdef", 5), "ab...");
    }

    #[test]
    fn sms_text_is_plain_gsm() {
        assert_eq!(sms_safe("quota {é} ~ok|"), "quota --- -ok-");
        assert_eq!(number(1500.0), "1500");
        assert_eq!(number(2.5), "2.5");
    }
}

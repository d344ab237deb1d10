//! Configuration errors. Every message names where the fault is (file, `--set`
//! argument or dotted key), the offending value, and what would be accepted,
//! because the operator reads it once at start-up and must fix it from that.

use std::path::PathBuf;

/// Why a configuration could not be loaded. All causes are operator faults;
/// sipedge refuses to start on any of them.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read: {}", path.display(), io_reason(error))]
    Read { path: PathBuf, error: std::io::Error },
    /// The text is not valid TOML.
    #[error("{origin}:{line}:{column}: invalid TOML: {message}")]
    Syntax {
        /// File name, or `<inline>` for text given directly.
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A `--set` argument is not of the form `SECTION.KEY=VALUE`.
    #[error("--set {arg:?}: {reason}; expected SECTION.KEY=VALUE, e.g. core.children=2")]
    SetSyntax { arg: String, reason: String },
    /// A top-level table that sipedge does not define.
    #[error("{section}: unknown section (known sections: {known})")]
    UnknownSection { section: String, known: String },
    /// A key that its section does not define.
    #[error("{key}: unknown key (known keys in [{section}]: {known})")]
    UnknownKey { key: String, section: String, known: String },
    /// A value of the wrong type or form for its key.
    #[error("{key} = {value}: {reason}")]
    Invalid { key: String, value: String, reason: String },
    /// A well-formed value that breaks a rule: a range, a duplicate, or a
    /// conflict with another key.
    #[error("{key} = {value}: {reason}")]
    Rejected { key: String, value: String, reason: String },
}

impl ConfigError {
    /// Builds the error for a failed deserialization of `root` (the merged
    /// file and overrides), looking up the offending value by its path.
    pub(super) fn from_deserialize(
        err: serde_path_to_error::Error<toml::de::Error>,
        root: &toml::Value,
    ) -> ConfigError {
        let path = err.path();
        let key = path.to_string();
        let message = err.inner().message();
        if let Some(known) = unknown_field_alternatives(message) {
            let names: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            return match names.split_last() {
                Some((section, [])) => ConfigError::UnknownSection { section: section.clone(), known },
                _ => ConfigError::UnknownKey { section: names[..names.len() - 1].join("."), key, known },
            };
        }
        let value = lookup(root, path).map(render).unwrap_or_else(|| "(absent)".to_owned());
        ConfigError::Invalid { key, value, reason: message.to_owned() }
    }

    /// Builds the error for a TOML parse failure of `text`.
    pub(super) fn syntax(origin: &str, text: &str, err: &toml::de::Error) -> ConfigError {
        let start = err.span().map_or(0, |s| s.start).min(text.len());
        // The span is a byte offset; the column counts characters.
        let before = text.get(..start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ConfigError::Syntax { origin: origin.to_owned(), line, column, message: err.message().to_owned() }
    }
}

/// Quotes a string as a TOML basic string on one line, so that the value in
/// a message can be pasted back into the file. (toml's own Display picks
/// multi-line or literal forms, which break a one-line message.)
pub(super) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value as it would appear on one line of the file.
fn render(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => quoted(s),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// `io::Error`'s Display appends " (os error N)", which is noise for operators.
fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Recognises serde's `deny_unknown_fields` message ("unknown field `x`,
/// expected one of `a`, `b`") and returns the alternatives as "a, b".
/// serde offers no structured form of this error, and its wording has been
/// stable since serde 1.0; a test below pins it.
fn unknown_field_alternatives(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (_, alternatives) = rest.split_once("`, ")?;
    let names: Vec<&str> = alternatives.split('`').skip(1).step_by(2).collect();
    Some(names.join(", "))
}

fn lookup<'a>(root: &'a toml::Value, path: &serde_path_to_error::Path) -> Option<&'a toml::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(root, |value, segment| match segment {
        Segment::Map { key } => value.get(key.as_str()),
        Segment::Seq { index } => value.get(*index),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_unknown_field_wording_is_recognised() {
        use serde::de::Error as _;
        let many = toml::de::Error::unknown_field("x", &["a", "b", "c"]);
        assert_eq!(unknown_field_alternatives(many.message()).as_deref(), Some("a, b, c"));
        let two = toml::de::Error::unknown_field("x", &["a", "b"]);
        assert_eq!(unknown_field_alternatives(two.message()).as_deref(), Some("a, b"));
        let one = toml::de::Error::unknown_field("x", &["a"]);
        assert_eq!(unknown_field_alternatives(one.message()).as_deref(), Some("a"));
        assert_eq!(unknown_field_alternatives("invalid type: integer"), None);
    }

    #[test]
    fn syntax_position_counts_lines_and_characters() {
        let text = "[core]\nchildren = 2\n  é = = 3\n";
        let err = toml::from_str::<toml::Table>(text).unwrap_err();
        let shown = ConfigError::syntax("x.toml", text, &err).to_string();
        assert!(shown.starts_with("x.toml:3:"), "{shown}");
    }

    #[test]
    fn values_render_on_one_line() {
        assert_eq!(quoted("a\"b\\c\r\n\u{1}"), r#""a\"b\\c\r\n\u0001""#);
        let v: toml::Value = "['x', 2, [true]]".parse().unwrap();
        assert_eq!(render(&v), r#"["x", 2, [true]]"#);
    }

    #[test]
    fn read_error_drops_os_error_code() {
        let error = std::io::Error::from_raw_os_error(2);
        let shown = ConfigError::Read { path: "/etc/x.toml".into(), error }.to_string();
        assert_eq!(shown, "/etc/x.toml: cannot read: No such file or directory");
    }
}

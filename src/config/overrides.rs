//! Building the one TOML table that gets deserialized: the file's contents,
//! then `--listen`, then each `--set` in order. Overrides are merged as TOML
//! values, before any typing, so that a bad override fails exactly like the
//! same mistake written in the file, with the same key in the message.

use super::ConfigError;
use std::path::Path;
use toml::{Table, Value};

/// Reads and parses the configuration file.
pub(super) fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_owned(), error })?;
    parse(&path.display().to_string(), &text)
}

/// Parses TOML text; `origin` names it in syntax errors.
pub(super) fn parse(origin: &str, text: &str) -> Result<Table, ConfigError> {
    toml::from_str(text).map_err(|err| ConfigError::syntax(origin, text, &err))
}

/// Applies `--listen`: any given replace `core.listen` entirely, because an
/// operator naming addresses on the command line means "these, not the file's".
pub(super) fn apply_listen(table: &mut Table, listen: &[String]) {
    if listen.is_empty() {
        return;
    }
    let values = listen.iter().map(|l| Value::String(l.clone())).collect();
    let core = table.entry("core").or_insert_with(|| Value::Table(Table::new()));
    // A non-table `core` is left for deserialization to report.
    if let Value::Table(core) = core {
        core.insert("listen".to_owned(), Value::Array(values));
    }
}

/// Applies one `--set SECTION.KEY=VALUE`.
pub(super) fn apply_set(table: &mut Table, arg: &str) -> Result<(), ConfigError> {
    let bad = |reason: &str| ConfigError::SetSyntax { arg: arg.to_owned(), reason: reason.to_owned() };
    let (path, raw) = arg.split_once('=').ok_or_else(|| bad("missing '='"))?;
    let names: Vec<&str> = path.split('.').map(str::trim).collect();
    if names.len() < 2 {
        return Err(bad("missing the section: write SECTION.KEY"));
    }
    if names.iter().any(|n| n.is_empty()) {
        return Err(bad("empty name in the key path"));
    }
    let (key, sections) = names.split_last().expect("checked: at least two names");
    let mut current = table;
    for (depth, name) in sections.iter().enumerate() {
        let slot = current.entry(name.to_string()).or_insert_with(|| Value::Table(Table::new()));
        current = match slot {
            Value::Table(t) => t,
            _ => {
                let prefix = names[..=depth].join(".");
                return Err(bad(&format!("{prefix} is a key, not a section")));
            }
        };
    }
    current.insert(key.to_string(), override_value(raw));
    Ok(())
}

/// The value part is TOML when it parses as TOML (`2`, `true`, `["a"]`,
/// `"x"`), else a plain string, so that `core.server_header=Server: foo`
/// needs no shell-level quoting.
fn override_value(raw: &str) -> Value {
    raw.trim().parse::<Value>().unwrap_or_else(|_| Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(table: &mut Table, arg: &str) {
        apply_set(table, arg).expect("valid --set");
    }

    #[test]
    fn values_are_toml_or_plain_strings() {
        let mut t = Table::new();
        set(&mut t, "core.children=2");
        set(&mut t, "core.server_signature = false");
        set(&mut t, "core.alias=[\"a.example\", \"b.example:5070\"]");
        set(&mut t, "core.server_header=Server: foo");
        set(&mut t, "core.quoted=\"x y\"");
        set(&mut t, "core.empty=");
        let core = t["core"].as_table().unwrap();
        assert_eq!(core["children"], Value::Integer(2));
        assert_eq!(core["server_signature"], Value::Boolean(false));
        assert_eq!(core["alias"].as_array().unwrap().len(), 2);
        assert_eq!(core["server_header"], Value::String("Server: foo".into()));
        assert_eq!(core["quoted"], Value::String("x y".into()));
        assert_eq!(core["empty"], Value::String(String::new()));
    }

    #[test]
    fn toml_injection_stays_one_string() {
        let mut t = Table::new();
        set(&mut t, "core.server_header=1\n[evil]\nx=1");
        assert_eq!(t.len(), 1);
        assert!(t["core"]["server_header"].is_str());
    }

    #[test]
    fn later_sets_win() {
        let mut t = Table::new();
        set(&mut t, "core.children=2");
        set(&mut t, "core.children=3");
        assert_eq!(t["core"]["children"], Value::Integer(3));
    }

    #[test]
    fn malformed_sets() {
        let err = |arg: &str| apply_set(&mut Table::new(), arg).unwrap_err().to_string();
        assert_eq!(
            err("core.children"),
            "--set \"core.children\": missing '='; expected SECTION.KEY=VALUE, e.g. core.children=2"
        );
        assert!(err("children=2").contains("missing the section"));
        assert!(err("core..x=2").contains("empty name"));
        let mut t = Table::new();
        set(&mut t, "core.children=2");
        let e = apply_set(&mut t, "core.children.x=1").unwrap_err().to_string();
        assert!(e.contains("core.children is a key, not a section"), "{e}");
    }

    #[test]
    fn listen_replaces_and_creates_core() {
        let mut t = parse("t", "[core]\nlisten = [\"udp:1.1.1.1\", \"udp:2.2.2.2\"]").unwrap();
        apply_listen(&mut t, &["udp:3.3.3.3".into()]);
        assert_eq!(t["core"]["listen"], Value::Array(vec![Value::String("udp:3.3.3.3".into())]));
        let mut empty = Table::new();
        apply_listen(&mut empty, &["udp:3.3.3.3".into()]);
        assert!(empty["core"]["listen"].is_array());
        apply_listen(&mut empty, &[]);
        assert!(empty["core"]["listen"].is_array());
    }
}

use super::*;

/// The documented example, which must stay equal to the defaults.
const EXAMPLE: &str = include_str!("../../tuning/sipedge.toml");

fn parse(text: &str) -> Config {
    Config::from_toml_str(text).expect("valid config")
}

fn error(text: &str) -> String {
    Config::from_toml_str(text).unwrap_err().to_string()
}

fn with_sets(sets: &[&str]) -> Result<Config, ConfigError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Config::load(None, &[], &sets)
}

/// Known keys of a section, as serde reports them for an unknown one.
fn known_keys(section: &str) -> Vec<String> {
    match Config::from_toml_str(&format!("[{section}]\nno_such_key_probe = 0")) {
        Err(ConfigError::UnknownKey { known, .. }) => known.split(", ").map(String::from).collect(),
        other => panic!("probe of [{section}] gave {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = Config::default();
    assert_eq!(c.core.listen.len(), 1);
    assert_eq!(c.core.listen[0].to_string(), "udp:127.0.0.1:5060");
    assert!(c.core.alias.is_empty());
    assert_eq!(c.core.children, 0);
    assert!(c.core.cores.is_empty());
    assert_eq!(c.core.max_msg_size, 16384);
    assert!(c.core.server_signature);
    assert_eq!(c.core.server_header, "Server: sipedge");
    assert_eq!(c.core.debug, 2);
    assert_eq!(c.core.log_level(), log::LevelFilter::Info);
    assert_eq!(parse(""), c);
    assert_eq!(Config::load(None, &[], &[]).unwrap(), c);
}

#[test]
fn example_file_equals_defaults() {
    assert_eq!(parse(EXAMPLE), Config::default());
}

#[test]
fn example_file_documents_every_key() {
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for key in known_keys("core") {
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("example lacks core.{key}"));
        assert!(
            at > 0 && lines[at - 1].starts_with('#'),
            "core.{key} has no comment above it"
        );
        let paragraph: String = lines[..at]
            .iter()
            .rev()
            .take_while(|l| l.starts_with('#'))
            .copied()
            .collect();
        assert!(
            paragraph.contains("Default:"),
            "core.{key}: no default documented"
        );
        assert!(
            paragraph.contains("Kamailio:"),
            "core.{key}: no Kamailio equivalent"
        );
    }
}

#[test]
fn file_values() {
    let c = parse(
        "[core]\nlisten = \"udp:10.0.0.5 advertise 203.0.113.10\"\nalias = [\"example.com\", \"[2001:db8::1]:5060\"]\n\
         children = 4\ncores = [2, 3, 4, 5]\nmax_msg_size = 65535\nserver_signature = false\ndebug = -3\n",
    );
    assert_eq!(c.core.listen[0].advertised(), ("203.0.113.10".into(), 5060));
    assert_eq!(c.core.alias[1].to_string(), "[2001:db8::1]:5060");
    assert_eq!((c.core.children, c.core.cores.len()), (4, 4));
    assert_eq!(c.core.max_msg_size, 65535);
    assert!(!c.core.server_signature);
    assert_eq!(c.core.log_level(), log::LevelFilter::Error);
}

#[test]
fn set_overrides_each_kind() {
    let c = with_sets(&[
        "core.children=2",
        "core.server_signature=false",
        "core.server_header=Server: foo bar",
        "core.debug=-1",
        "core.cores=[6, 7]",
        "core.alias=[\"a.example\", \"b.example:5070\"]",
        "core.listen=[\"udp:10.0.0.1:5070\", \"udp:[::1]\"]",
    ])
    .unwrap();
    assert_eq!(c.core.children, 2);
    assert!(!c.core.server_signature);
    assert_eq!(c.core.server_header, "Server: foo bar");
    assert_eq!(c.core.debug, -1);
    assert_eq!(c.core.cores, vec![6, 7]);
    assert_eq!(c.core.alias[1].port, Some(5070));
    let listen: Vec<String> = c.core.listen.iter().map(|l| l.to_string()).collect();
    assert_eq!(listen, ["udp:10.0.0.1:5070", "udp:[::1]:5060"]);
    // A bare string is one listen address.
    let c = with_sets(&["core.listen=udp:10.0.0.9"]).unwrap();
    assert_eq!(c.core.listen[0].to_string(), "udp:10.0.0.9:5060");
}

#[test]
fn file_then_listen_then_sets() {
    let path =
        std::env::temp_dir().join(format!("sipedge-config-test-{}.toml", std::process::id()));
    let file = "[core]\nlisten = [\"udp:1.1.1.1\", \"udp:2.2.2.2\"]\nchildren = 3\n";
    std::fs::write(&path, file).unwrap();
    let listen = vec!["udp:3.3.3.3:5070".to_string()];
    let sets = vec!["core.children=5".to_string()];
    let loaded = Config::load(Some(&path), &listen, &sets);
    let from_file = Config::load(Some(&path), &[], &[]);
    std::fs::remove_file(&path).unwrap();
    let c = loaded.unwrap();
    assert_eq!(c.core.listen.len(), 1, "--listen replaces the file's list");
    assert_eq!(c.core.listen[0].addr, "3.3.3.3:5070".parse().unwrap());
    assert_eq!(c.core.children, 5);
    assert_eq!(from_file.unwrap().core.listen.len(), 2);
    // --set comes after --listen, so it wins.
    let sets = vec!["core.listen=\"udp:4.4.4.4\"".to_string()];
    let c = Config::load(None, &listen, &sets).unwrap();
    assert_eq!(c.core.listen[0].to_string(), "udp:4.4.4.4:5060");
}

#[test]
fn ipv6_listen_and_advertise_round_trip() {
    let text = "udp:[2001:db8::5]:5062 advertise [2001:db8::10]:5060";
    let c = parse(&format!("[core]\nlisten = [{text:?}]"));
    assert_eq!(c.core.listen[0].to_string(), text);
    assert_eq!(c.core.listen[0].advertised(), ("2001:db8::10".into(), 5060));
    let again = parse(&format!("[core]\nlisten = [\"{}\"]", c.core.listen[0]));
    assert_eq!(again, c);
}

#[test]
fn log_levels() {
    let level = |debug| {
        CoreConfig {
            debug,
            ..CoreConfig::default()
        }
        .log_level()
    };
    assert_eq!(level(-5), log::LevelFilter::Error);
    assert_eq!(level(0), log::LevelFilter::Warn);
    assert_eq!(level(1), log::LevelFilter::Info);
    assert_eq!(level(3), log::LevelFilter::Debug);
    assert_eq!(level(4), log::LevelFilter::Trace);
}

#[test]
fn range_errors_name_key_value_reason() {
    let e = |s: &str| with_sets(&[s]).unwrap_err().to_string();
    assert_eq!(
        e("core.max_msg_size=100"),
        "core.max_msg_size = 100: must be between 512 and 65535"
    );
    assert_eq!(
        e("core.children=2000"),
        "core.children = 2000: must be at most 1024 (0 = one shard per available core)"
    );
    assert_eq!(
        e("core.debug=5"),
        "core.debug = 5: must be between -5 (alert) and 4 (trace)"
    );
    assert_eq!(
        e("core.listen=[]"),
        "core.listen = []: at least one listen address is required, e.g. \"udp:127.0.0.1:5060\""
    );
    assert_eq!(
        e("core.cores=[1, 2, 1]"),
        "core.cores = [1, 2, 1]: core 1 is listed twice; each shard needs its own core"
    );
    let short = with_sets(&["core.children=3", "core.cores=[1, 2]"])
        .unwrap_err()
        .to_string();
    assert_eq!(
        short,
        "core.cores = [1, 2]: lists 2 cores but core.children = 3 needs one per shard"
    );
    assert_eq!(
        e("core.server_header=X-Evil"),
        "core.server_header = \"X-Evil\": must be one header line \"Name: value\" without CR or LF"
    );
    assert_eq!(
        e("core.server_header=\"Server: a\\r\\nX: b\""),
        "core.server_header = \"Server: a\\r\\nX: b\": must be one header line \"Name: value\" without CR or LF"
    );
}

#[test]
fn listen_errors_name_entry_value_reason() {
    assert_eq!(
        error("[core]\nlisten = [\"udp:1.2.3.4\", \"tcp:1.2.3.4:5060\"]"),
        "core.listen[1] = \"tcp:1.2.3.4:5060\": only udp listeners are supported; tcp is not available yet"
    );
    assert_eq!(
        error("[core]\nlisten = [\"udp:1.2.3.4\", \"1.2.3.4:5060\"]"),
        "core.listen[1] = \"udp:1.2.3.4:5060\": duplicate of core.listen[0]"
    );
    let bad = error("[core]\nlisten = \"udp:pbx.example.com\"");
    assert!(
        bad.starts_with("core.listen = \"udp:pbx.example.com\": `pbx.example.com` is not an IP"),
        "{bad}"
    );
    let listen = vec!["udp:1.2.3.4:70000".to_string()];
    let e = Config::load(None, &listen, &[]).unwrap_err().to_string();
    assert!(
        e.starts_with("core.listen[0] = \"udp:1.2.3.4:70000\": `70000` is not a valid port"),
        "{e}"
    );
    let e = error("[core]\nalias = [\"ok.example\", \"bad host\"]");
    assert!(
        e.starts_with("core.alias[1] = \"bad host\": `bad host` is not a valid host"),
        "{e}"
    );
}

#[test]
fn type_errors_name_key_value_reason() {
    let e = error("[core]\nchildren = \"four\"");
    assert!(
        e.starts_with("core.children = \"four\": invalid type: string \"four\""),
        "{e}"
    );
    let e = error("[core]\nchildren = -1");
    assert!(e.starts_with("core.children = -1: invalid value"), "{e}");
    let e = error("[core]\nlisten = [5060]");
    assert!(
        e.starts_with("core.listen[0] = 5060: invalid type: integer"),
        "{e}"
    );
    assert_eq!(
        error("core = 5"),
        "core = 5: invalid type: integer `5`, expected a [core] table"
    );
}

#[test]
fn unknown_keys_and_sections() {
    let keys =
        "listen, alias, children, cores, max_msg_size, server_signature, server_header, debug";
    assert_eq!(
        error("[core]\ncolour = \"blue\""),
        format!("core.colour: unknown key (known keys in [core]: {keys})")
    );
    assert_eq!(
        with_sets(&["core.colour=blue"]).unwrap_err().to_string(),
        format!("core.colour: unknown key (known keys in [core]: {keys})")
    );
    assert_eq!(
        error("[tm]\nfr_timer = 1"),
        "tm: unknown section (known sections: core)"
    );
    assert_eq!(
        error("children = 2"),
        "children: unknown section (known sections: core)"
    );
}

#[test]
fn bad_toml_reports_origin_line_and_column() {
    let e = error("[core]\nchildren = 2\ndebug = = 3\n");
    assert!(e.starts_with("<inline>:3:"), "{e}");
    assert!(e.contains("invalid TOML"), "{e}");
    let path = std::env::temp_dir().join(format!("sipedge-config-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[core]\n\nlisten = [\"udp:1.2.3.4\"\n").unwrap();
    let e = Config::load(Some(&path), &[], &[]).unwrap_err().to_string();
    std::fs::remove_file(&path).unwrap();
    assert!(e.starts_with(&format!("{}:3:", path.display())), "{e}");
}

#[test]
fn missing_file_is_named() {
    let e = Config::load(Some(Path::new("/nonexistent/sipedge.toml")), &[], &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/sipedge.toml: cannot read: No such file or directory"
    );
}

#[test]
fn malformed_set_is_refused() {
    let e = with_sets(&["core.children"]).unwrap_err().to_string();
    assert!(e.contains("missing '='"), "{e}");
    let e = with_sets(&["children=2"]).unwrap_err().to_string();
    assert!(e.contains("missing the section"), "{e}");
}

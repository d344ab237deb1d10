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
    for section in ["core", "registrar", "usrloc"] {
        let start = lines
            .iter()
            .position(|l| *l == format!("[{section}]"))
            .unwrap_or_else(|| panic!("example lacks [{section}]"));
        let end = lines[start + 1..].iter().position(|l| l.starts_with('[')).map_or(lines.len(), |i| start + 1 + i);
        for key in known_keys(section) {
            let at = lines[start..end]
                .iter()
                .position(|l| l.starts_with(&format!("{key} =")))
                .map(|i| start + i)
                .unwrap_or_else(|| panic!("example lacks {section}.{key}"));
            assert!(lines[at - 1].starts_with('#'), "{section}.{key} has no comment above it");
            let paragraph: String = lines[..at].iter().rev().take_while(|l| l.starts_with('#')).copied().collect();
            assert!(paragraph.contains("Default:"), "{section}.{key}: no default documented");
            assert!(paragraph.contains("Kamailio:"), "{section}.{key}: no Kamailio equivalent");
        }
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
    let path = std::env::temp_dir().join(format!("sipedge-config-test-{}.toml", std::process::id()));
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
    let level = |debug| CoreConfig { debug, ..CoreConfig::default() }.log_level();
    assert_eq!(level(-5), log::LevelFilter::Error);
    assert_eq!(level(0), log::LevelFilter::Warn);
    assert_eq!(level(1), log::LevelFilter::Info);
    assert_eq!(level(3), log::LevelFilter::Debug);
    assert_eq!(level(4), log::LevelFilter::Trace);
}

#[test]
fn range_errors_name_key_value_reason() {
    let e = |s: &str| with_sets(&[s]).unwrap_err().to_string();
    assert_eq!(e("core.max_msg_size=100"), "core.max_msg_size = 100: must be between 512 and 65535");
    assert_eq!(
        e("core.children=2000"),
        "core.children = 2000: must be at most 1024 (0 = one shard per available core)"
    );
    assert_eq!(e("core.debug=5"), "core.debug = 5: must be between -5 (alert) and 4 (trace)");
    assert_eq!(
        e("core.listen=[]"),
        "core.listen = []: at least one listen address is required, e.g. \"udp:127.0.0.1:5060\""
    );
    assert_eq!(
        e("core.cores=[1, 2, 1]"),
        "core.cores = [1, 2, 1]: core 1 is listed twice; each shard needs its own core"
    );
    let short = with_sets(&["core.children=3", "core.cores=[1, 2]"]).unwrap_err().to_string();
    assert_eq!(short, "core.cores = [1, 2]: lists 2 cores but core.children = 3 needs one per shard");
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
    assert!(bad.starts_with("core.listen = \"udp:pbx.example.com\": `pbx.example.com` is not an IP"), "{bad}");
    let listen = vec!["udp:1.2.3.4:70000".to_string()];
    let e = Config::load(None, &listen, &[]).unwrap_err().to_string();
    assert!(e.starts_with("core.listen[0] = \"udp:1.2.3.4:70000\": `70000` is not a valid port"), "{e}");
    let e = error("[core]\nalias = [\"ok.example\", \"bad host\"]");
    assert!(e.starts_with("core.alias[1] = \"bad host\": `bad host` is not a valid host"), "{e}");
}

#[test]
fn type_errors_name_key_value_reason() {
    let e = error("[core]\nchildren = \"four\"");
    assert!(e.starts_with("core.children = \"four\": invalid type: string \"four\""), "{e}");
    let e = error("[core]\nchildren = -1");
    assert!(e.starts_with("core.children = -1: invalid value"), "{e}");
    let e = error("[core]\nlisten = [5060]");
    assert!(e.starts_with("core.listen[0] = 5060: invalid type: integer"), "{e}");
    assert_eq!(error("core = 5"), "core = 5: invalid type: integer `5`, expected a [core] table");
}

#[test]
fn unknown_keys_and_sections() {
    let keys = "listen, alias, children, cores, steering, max_msg_size, server_signature, server_header, debug";
    assert_eq!(error("[core]\ncolour = \"blue\""), format!("core.colour: unknown key (known keys in [core]: {keys})"));
    assert_eq!(
        with_sets(&["core.colour=blue"]).unwrap_err().to_string(),
        format!("core.colour: unknown key (known keys in [core]: {keys})")
    );
    assert_eq!(
        error("[tmx]\nfr_timer = 1"),
        "tmx: unknown section (known sections: core, registrar, usrloc, tm, dialog)"
    );
    assert!(error("[tm]\nfr_timer = 0").contains("fr_timer must be above zero"));
    assert_eq!(
        error("children = 2"),
        "children: unknown section (known sections: core, registrar, usrloc, tm, dialog)"
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
    assert_eq!(e.to_string(), "/nonexistent/sipedge.toml: cannot read: No such file or directory");
}

#[test]
fn malformed_set_is_refused() {
    let e = with_sets(&["core.children"]).unwrap_err().to_string();
    assert!(e.contains("missing '='"), "{e}");
    let e = with_sets(&["children=2"]).unwrap_err().to_string();
    assert!(e.contains("missing the section"), "{e}");
}

#[test]
fn registrar_and_usrloc_defaults() {
    let c = Config::default();
    let r = &c.registrar;
    assert_eq!((r.default_expires, r.min_expires, r.max_expires), (3600, 60, 3600));
    assert_eq!((r.min_expires_mode, r.max_contacts, r.retry_after), (0, 0, 0));
    assert_eq!((r.default_q, r.default_q()), (-1, None));
    assert!(r.append_branches && r.use_path && !r.path_use_received);
    assert_eq!(r.received_param, "received");
    assert_eq!(r.cseq_delay, 20);
    let u = &c.usrloc;
    assert_eq!((u.db_mode, u.timer_interval, u.matching_mode), (2, 1, 0));
    assert!(!u.desc_time_order);
    assert_eq!(u.db_path, Path::new("sipedge-data"));
}

#[test]
fn registrar_and_usrloc_values() {
    let c = with_sets(&[
        "registrar.default_q=500",
        "registrar.max_expires=0",
        "registrar.min_expires=10",
        "registrar.min_expires_mode=1",
        "registrar.received_param=",
        "usrloc.db_mode=0",
        "usrloc.db_path=/var/lib/sipedge",
        "usrloc.desc_time_order=true",
    ])
    .unwrap();
    assert_eq!(c.registrar.default_q(), Some(500));
    assert_eq!(c.registrar.max_expires, 0);
    assert_eq!(c.registrar.min_expires_mode, 1);
    assert_eq!(c.registrar.received_param, "");
    assert_eq!(c.usrloc.db_mode, 0);
    assert_eq!(c.usrloc.db_path, Path::new("/var/lib/sipedge"));
    assert!(c.usrloc.desc_time_order);
}

#[test]
fn registrar_and_usrloc_errors_name_key_value_reason() {
    let e = |s: &[&str]| with_sets(s).unwrap_err().to_string();
    assert_eq!(
        e(&["registrar.default_expires=0"]),
        "registrar.default_expires = 0: must be at least 1: 0 would turn every REGISTER without Expires into an unregister"
    );
    assert_eq!(
        e(&["registrar.min_expires=7200"]),
        "registrar.min_expires = 7200: must not exceed registrar.max_expires = 3600 (0 there means no limit)"
    );
    assert!(with_sets(&["registrar.min_expires=7200", "registrar.max_expires=0"]).is_ok());
    assert_eq!(
        e(&["registrar.min_expires_mode=2"]),
        "registrar.min_expires_mode = 2: must be 0 (raise to min_expires) or 1 (answer 423 Interval Too Brief)"
    );
    assert_eq!(
        e(&["registrar.default_q=1001"]),
        "registrar.default_q = 1001: must be -1 (unspecified) or between 0 and 1000 (thousandths: 500 = q 0.5)"
    );
    assert!(e(&["registrar.default_q=-2"]).starts_with("registrar.default_q = -2: must be -1"));
    assert_eq!(
        e(&["registrar.received_param=\"a b\""]),
        "registrar.received_param = \"a b\": must be a SIP token (letters, digits, -.!%*_+`'~) or empty to hide received"
    );
    assert_eq!(
        e(&["usrloc.db_mode=3"]),
        "usrloc.db_mode = 3: DB-only mode is not supported: sipedge has no SQL database and serves lookups from memory; use 1 (write-through) or 2 (write-back)"
    );
    assert_eq!(
        e(&["usrloc.db_mode=4"]),
        "usrloc.db_mode = 4: load once, then memory only, is not supported: its changes are never saved; use 2 (write-back) to keep them, or 0 (memory only)"
    );
    assert_eq!(
        e(&["usrloc.db_mode=5"]),
        "usrloc.db_mode = 5: must be 0 (memory only), 1 (write-through) or 2 (write-back)"
    );
    assert_eq!(
        e(&["usrloc.timer_interval=0"]),
        "usrloc.timer_interval = 0: must be at least 1 second: expired contacts are removed by this timer"
    );
    assert_eq!(
        e(&["usrloc.matching_mode=1"]),
        "usrloc.matching_mode = 1: only 0 (match on the Contact URI) is implemented; modes 1 (contact+callid), 2 (contact+path) and 3 (callid) are not"
    );
    assert_eq!(
        e(&["usrloc.db_path=\"\""]),
        "usrloc.db_path = \"\": must name a directory, e.g. \"sipedge-data\" or \"/var/lib/sipedge\""
    );
    let e = error("[registrar]\nmax_contacts = -1");
    assert!(e.starts_with("registrar.max_contacts = -1: invalid value"), "{e}");
    let e = error("[usrloc]\ncolour = 1");
    assert!(e.starts_with("usrloc.colour: unknown key (known keys in [usrloc]: db_mode, timer_interval"), "{e}");
}

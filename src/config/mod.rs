//! Configuration: a TOML file plus command-line overrides.
//!
//! Operators come from Kamailio, so sections and keys reuse Kamailio's module
//! and parameter names (`[core] listen`, `children`, `debug`, ...). Every key
//! has a default; `tuning/sipedge.toml` documents each one and must stay equal
//! to the defaults (a test below checks it).
//!
//! Loading is: parse the file into a TOML table, merge `--listen` and `--set`
//! into that table, deserialize with `serde_path_to_error` (so a type error
//! names its key), then `validate` the rules serde cannot express.

mod address;
mod error;
mod overrides;
mod proxy;
mod registrar;

pub use address::{AddressError, DEFAULT_SIP_PORT, HostPort, ListenSpec, Transport};
pub use error::ConfigError;
pub use proxy::{DialogSection, TmConfig};
pub use registrar::{RegistrarConfig, UsrlocConfig};

use error::quoted;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// Range of `core.max_msg_size`: below 512 even a minimal INVITE does not fit;
/// 65535 is the largest UDP payload.
const MSG_SIZE_RANGE: std::ops::RangeInclusive<usize> = 512..=65535;
/// More shards than this is a typo, not a machine.
const MAX_CHILDREN: usize = 1024;
/// Kamailio's levels run from L_ALERT (-5) to L_DBG (3); 4 is our trace.
const DEBUG_RANGE: std::ops::RangeInclusive<i32> = -5..=4;

/// The whole configuration, one field per TOML section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a TOML document of [sections]")]
pub struct Config {
    pub core: CoreConfig,
    pub registrar: RegistrarConfig,
    pub usrloc: UsrlocConfig,
    pub tm: TmConfig,
    pub dialog: DialogSection,
}

/// `[core]`: Kamailio core parameters, plus a few sipedge ones for sharding.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [core] table")]
pub struct CoreConfig {
    /// Kamailio `listen`: "udp:127.0.0.1:5060" or
    /// "udp:10.0.0.5:5060 advertise 203.0.113.10:5060". One string or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub listen: Vec<ListenSpec>,
    /// Kamailio `alias`: extra host[:port] names that count as "myself".
    #[serde(deserialize_with = "one_or_many")]
    pub alias: Vec<HostPort>,
    /// Kamailio `children`: number of shards (threads, one per core);
    /// 0 = one per available core.
    pub children: usize,
    /// sipedge: cores to pin shards to; shard i runs on `cores[i]`.
    /// Empty = cores 0..children.
    pub cores: Vec<usize>,
    /// sipedge: let the kernel deliver each datagram to the shard owning
    /// its Call-ID, or for a REGISTER its AOR (an eBPF program on the
    /// SO_REUSEPORT group).
    pub steering: bool,
    /// sipedge: largest SIP datagram accepted, in bytes (Kamailio BUF_SIZE).
    pub max_msg_size: usize,
    /// Kamailio `server_signature`: add `server_header` to local replies.
    pub server_signature: bool,
    /// Kamailio `server_header`: the full header line, name included.
    pub server_header: String,
    /// Kamailio `debug`: log level, -5..=4; see [`CoreConfig::log_level`].
    pub debug: i32,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            listen: vec![ListenSpec {
                transport: Transport::Udp,
                addr: ([127, 0, 0, 1], DEFAULT_SIP_PORT).into(),
                advertise: None,
            }],
            alias: Vec::new(),
            children: 0,
            cores: Vec::new(),
            steering: true,
            max_msg_size: 16384,
            server_signature: true,
            server_header: "Server: sipedge".to_owned(),
            debug: 2,
        }
    }
}

impl Config {
    /// Loads the optional file, then applies `--listen` values (if any are
    /// given they replace `core.listen` entirely), then the
    /// `--set SECTION.KEY=VALUE` overrides in order.
    pub fn load(file: Option<&Path>, listen: &[String], sets: &[String]) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => overrides::read_file(path)?,
            None => toml::Table::new(),
        };
        overrides::apply_listen(&mut table, listen);
        for arg in sets {
            overrides::apply_set(&mut table, arg)?;
        }
        Config::from_table(table)
    }

    /// Parses configuration text, with no overrides.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Config::from_table(overrides::parse("<inline>", text)?)
    }

    fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
        let root = toml::Value::Table(table);
        let config: Config =
            serde_path_to_error::deserialize(root.clone()).map_err(|err| ConfigError::from_deserialize(err, &root))?;
        config.core.validate()?;
        config.registrar.validate()?;
        config.usrloc.validate()?;
        config.tm.validate()?;
        config.dialog.validate()?;
        Ok(config)
    }
}

impl CoreConfig {
    /// Maps Kamailio's `debug` onto `log`: L_ALERT..L_ERR (-5..=-1) → Error,
    /// L_WARN (0) → Warn, L_NOTICE (1) and L_INFO (2) → Info (`log` has no
    /// notice level), L_DBG (3) → Debug, and sipedge's 4 → Trace.
    pub fn log_level(&self) -> log::LevelFilter {
        match self.debug {
            i32::MIN..=-1 => log::LevelFilter::Error,
            0 => log::LevelFilter::Warn,
            1 | 2 => log::LevelFilter::Info,
            3 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        }
    }

    /// Rules that the types alone do not enforce.
    fn validate(&self) -> Result<(), ConfigError> {
        let reject = |key: &str, value: String, reason: String| ConfigError::Rejected {
            key: format!("core.{key}"),
            value,
            reason,
        };
        if self.listen.is_empty() {
            let reason = "at least one listen address is required, e.g. \"udp:127.0.0.1:5060\"";
            return Err(reject("listen", "[]".into(), reason.into()));
        }
        // Every shard binds every listen address with SO_REUSEPORT, so a
        // duplicate would not fail at bind time; catch it here instead.
        let mut seen = HashMap::new();
        for (i, l) in self.listen.iter().enumerate() {
            if let Some(first) = seen.insert((l.transport, l.addr), i) {
                let reason = format!("duplicate of core.listen[{first}]");
                return Err(reject(&format!("listen[{i}]"), quoted(&l.to_string()), reason));
            }
        }
        if !MSG_SIZE_RANGE.contains(&self.max_msg_size) {
            let reason = format!("must be between {} and {}", MSG_SIZE_RANGE.start(), MSG_SIZE_RANGE.end());
            return Err(reject("max_msg_size", self.max_msg_size.to_string(), reason));
        }
        if self.children > MAX_CHILDREN {
            let reason = format!("must be at most {MAX_CHILDREN} (0 = one shard per available core)");
            return Err(reject("children", self.children.to_string(), reason));
        }
        self.validate_cores(&reject)?;
        if !is_header_line(&self.server_header) {
            let reason = "must be one header line \"Name: value\" without CR or LF";
            return Err(reject("server_header", quoted(&self.server_header), reason.into()));
        }
        if !DEBUG_RANGE.contains(&self.debug) {
            let reason = format!("must be between {} (alert) and {} (trace)", DEBUG_RANGE.start(), DEBUG_RANGE.end());
            return Err(reject("debug", self.debug.to_string(), reason));
        }
        Ok(())
    }

    /// Whether a core number exists is a runtime question; here we check only
    /// that the list is usable: one distinct core per shard.
    fn validate_cores(&self, reject: &impl Fn(&str, String, String) -> ConfigError) -> Result<(), ConfigError> {
        let value = format!("{:?}", self.cores);
        for (i, core) in self.cores.iter().enumerate() {
            if self.cores[..i].contains(core) {
                let reason = format!("core {core} is listed twice; each shard needs its own core");
                return Err(reject("cores", value, reason));
            }
        }
        if !self.cores.is_empty() && self.cores.len() < self.children {
            let reason =
                format!("lists {} cores but core.children = {} needs one per shard", self.cores.len(), self.children);
            return Err(reject("cores", value, reason));
        }
        Ok(())
    }
}

/// `Name: value` on one line. CR or LF would let the config inject headers
/// into every reply we generate.
fn is_header_line(text: &str) -> bool {
    let Some((name, _)) = text.split_once(':') else {
        return false;
    };
    !text.contains(['\r', '\n']) && !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic())
}

/// Accepts one string or an array of strings for list keys, as Kamailio
/// accepts one `listen =` line or several.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + std::str::FromStr,
    T::Err: std::fmt::Display,
{
    struct OneOrMany<T>(std::marker::PhantomData<T>);

    impl<'de, T> serde::de::Visitor<'de> for OneOrMany<T>
    where
        T: Deserialize<'de> + std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Vec<T>, E> {
            s.parse().map(|v| vec![v]).map_err(E::custom)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element()? {
                out.push(v);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

#[cfg(test)]
mod tests;

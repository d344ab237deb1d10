//! `[registrar]` and `[usrloc]`: Kamailio's registrar and usrloc module
//! parameters, with their names and (unless documented) their defaults.
//! `tuning/sipedge.toml` explains every key.

use super::ConfigError;
use super::error::quoted;
use serde::Deserialize;
use std::path::PathBuf;

/// `[registrar]`: how REGISTER requests are saved and answered, and how
/// lookup forks (Kamailio registrar module; reference §4.1, §4.2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [registrar] table")]
pub struct RegistrarConfig {
    /// Seconds granted to a contact when neither its `expires` parameter
    /// nor an Expires header says (Kamailio `default_expires`).
    pub default_expires: u32,
    /// Shortest registration accepted, in seconds (`min_expires`).
    pub min_expires: u32,
    /// Longest registration granted, in seconds; 0 = no limit (`max_expires`).
    pub max_expires: u32,
    /// 0 raises a too-short expiry to `min_expires`; 1 answers 423 Interval
    /// Too Brief with `Min-Expires:` (`min_expires_mode`).
    pub min_expires_mode: u32,
    /// Most valid contacts per AOR; 0 = no limit (`max_contacts`).
    pub max_contacts: u32,
    /// Seconds for `Retry-After:` in 5xx replies; 0 = none (`retry_after`).
    pub retry_after: u32,
    /// q of contacts without one, in thousandths; -1 = unspecified (`default_q`).
    pub default_q: i32,
    /// Whether lookup forks to every contact, not only the best (`append_branches`).
    pub append_branches: bool,
    /// Take `received` from the first Path URI's `received` param
    /// (`path_use_received`).
    pub path_use_received: bool,
    /// Store Path (RFC 3327) and echo it when the UA supports it (`use_path`).
    pub use_path: bool,
    /// Name of the 200 OK Contact param that shows `received`; empty hides
    /// it (`received_param`).
    pub received_param: String,
    /// Seconds within which an equal CSeq on the same Call-ID counts as a
    /// retransmission (Kamailio usrloc `cseq_delay`).
    pub cseq_delay: u32,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            default_expires: 3600,
            min_expires: 60,
            // Kamailio's module default is 0; its default kamailio.cfg sets 3600.
            max_expires: 3600,
            min_expires_mode: 0,
            max_contacts: 0,
            retry_after: 0,
            default_q: -1,
            append_branches: true,
            path_use_received: false,
            use_path: true,
            received_param: "received".to_owned(),
            cseq_delay: 20,
        }
    }
}

/// `[usrloc]`: the location table and its persistence (Kamailio usrloc
/// module; reference §4.3).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [usrloc] table")]
pub struct UsrlocConfig {
    /// 0 memory only, 1 write-through, 2 write-back (`db_mode`); Kamailio's
    /// 3 (DB only) and 4 (load once) are refused.
    pub db_mode: u32,
    /// Seconds between expiry sweeps and write-back flushes (`timer_interval`).
    pub timer_interval: u32,
    /// Order contacts newest first instead of by q (`desc_time_order`).
    pub desc_time_order: bool,
    /// How a REGISTER's contact finds its binding; only 0 (Contact URI) is
    /// implemented (`matching_mode`).
    pub matching_mode: u32,
    /// Directory that holds the persisted table (Kamailio `db_url`).
    pub db_path: PathBuf,
}

impl Default for UsrlocConfig {
    fn default() -> Self {
        UsrlocConfig {
            db_mode: 2,
            timer_interval: 1,
            desc_time_order: false,
            matching_mode: 0,
            db_path: PathBuf::from("sipedge-data"),
        }
    }
}

/// Builds a `Rejected` error for `section.key`.
fn reject(section: &str, key: &str, value: String, reason: impl Into<String>) -> ConfigError {
    ConfigError::Rejected { key: format!("{section}.{key}"), value, reason: reason.into() }
}

impl RegistrarConfig {
    /// Rules that the types alone do not enforce.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let reject = |key: &str, value: String, reason: String| reject("registrar", key, value, reason);
        if self.default_expires == 0 {
            let reason = "must be at least 1: 0 would turn every REGISTER without Expires into an unregister";
            return Err(reject("default_expires", "0".into(), reason.into()));
        }
        if self.max_expires != 0 && self.min_expires > self.max_expires {
            let reason =
                format!("must not exceed registrar.max_expires = {} (0 there means no limit)", self.max_expires);
            return Err(reject("min_expires", self.min_expires.to_string(), reason));
        }
        if self.min_expires_mode > 1 {
            let reason = "must be 0 (raise to min_expires) or 1 (answer 423 Interval Too Brief)";
            return Err(reject("min_expires_mode", self.min_expires_mode.to_string(), reason.into()));
        }
        if self.default_q != -1 && !(0..=1000).contains(&self.default_q) {
            let reason = "must be -1 (unspecified) or between 0 and 1000 (thousandths: 500 = q 0.5)";
            return Err(reject("default_q", self.default_q.to_string(), reason.into()));
        }
        let token = |b: u8| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b);
        if !self.received_param.bytes().all(token) {
            let reason = "must be a SIP token (letters, digits, -.!%*_+`'~) or empty to hide received";
            return Err(reject("received_param", quoted(&self.received_param), reason.into()));
        }
        Ok(())
    }

    /// `default_q` as stored in a binding: `None` when unspecified.
    pub fn default_q(&self) -> Option<u16> {
        u16::try_from(self.default_q).ok().filter(|q| *q <= 1000)
    }
}

impl UsrlocConfig {
    /// Rules that the types alone do not enforce.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let reject = |key: &str, value: String, reason: &str| reject("usrloc", key, value, reason);
        // The same set as runtime::store::DbMode.
        let db_mode = match self.db_mode {
            0..=2 => None,
            3 => Some(
                "DB-only mode is not supported: sipedge has no SQL database and serves lookups \
                 from memory; use 1 (write-through) or 2 (write-back)",
            ),
            4 => Some(
                "load once, then memory only, is not supported: its changes are never saved; \
                 use 2 (write-back) to keep them, or 0 (memory only)",
            ),
            _ => Some("must be 0 (memory only), 1 (write-through) or 2 (write-back)"),
        };
        if let Some(reason) = db_mode {
            return Err(reject("db_mode", self.db_mode.to_string(), reason));
        }
        if self.timer_interval == 0 {
            let reason = "must be at least 1 second: expired contacts are removed by this timer";
            return Err(reject("timer_interval", "0".into(), reason));
        }
        if self.matching_mode != 0 {
            let reason = "only 0 (match on the Contact URI) is implemented; \
                          modes 1 (contact+callid), 2 (contact+path) and 3 (callid) are not";
            return Err(reject("matching_mode", self.matching_mode.to_string(), reason));
        }
        if self.db_path.as_os_str().is_empty() {
            let reason = "must name a directory, e.g. \"sipedge-data\" or \"/var/lib/sipedge\"";
            return Err(reject("db_path", "\"\"".into(), reason));
        }
        Ok(())
    }
}

//! `[tm]` and `[dialog]`: Kamailio's tm and dialog module parameters, with
//! their names, units and defaults. `tuning/sipedge.toml` explains every key.

use super::ConfigError;
use crate::dialog::DialogConfig;
use crate::txn::TimerConfig;
use serde::Deserialize;
use std::time::Duration;

/// `[tm]`: transaction timers, in milliseconds as Kamailio gives them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [tm] table")]
pub struct TmConfig {
    /// Wait for any response to a request (`fr_timer`; RFC 3261 Timers B and F).
    pub fr_timer: u64,
    /// Wait for the final response of an INVITE after a provisional
    /// (`fr_inv_timer`; RFC 3261 §16.6 Timer C).
    pub fr_inv_timer: u64,
    /// First retransmission interval, T1 (`retr_timer1`).
    pub retr_timer1: u64,
    /// Retransmission interval cap, T2 (`retr_timer2`).
    pub retr_timer2: u64,
    /// How long a cancelled or timed-out branch waits for its 487 (`wt_timer`).
    pub wt_timer: u64,
}

impl Default for TmConfig {
    fn default() -> Self {
        TmConfig { fr_timer: 30_000, fr_inv_timer: 120_000, retr_timer1: 500, retr_timer2: 4000, wt_timer: 5000 }
    }
}

impl TmConfig {
    pub fn timers(&self) -> TimerConfig {
        let ms = Duration::from_millis;
        TimerConfig {
            t1: ms(self.retr_timer1),
            t2: ms(self.retr_timer2),
            t4: TimerConfig::default().t4,
            fr_timer: ms(self.fr_timer),
            fr_inv_timer: ms(self.fr_inv_timer),
            wt_timer: ms(self.wt_timer),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.timers().check().map_err(|e| ConfigError::Rejected {
            key: "tm".into(),
            value: format!(
                "fr_timer={} fr_inv_timer={} retr_timer1={} retr_timer2={} wt_timer={}",
                self.fr_timer, self.fr_inv_timer, self.retr_timer1, self.retr_timer2, self.wt_timer
            ),
            reason: e.to_string(),
        })
    }
}

/// `[dialog]`: dialog tracking, in seconds as Kamailio gives them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, expecting = "a [dialog] table")]
pub struct DialogSection {
    /// Lifetime of a confirmed dialog (`default_timeout`).
    pub default_timeout: u64,
    /// Longest time in the unconfirmed and early states (`early_timeout`).
    pub early_timeout: u64,
    /// Longest wait for the ACK of a 2xx (`noack_timeout`).
    pub noack_timeout: u64,
    /// How long an ended dialog stays for late messages (`end_timeout`).
    pub end_timeout: u64,
    /// In-dialog requests do not restart the lifetime (`timeout_noreset`).
    pub timeout_noreset: bool,
    /// A dialog that times out is ended with a BYE to both sides (`send_bye`).
    pub send_bye: bool,
}

impl Default for DialogSection {
    fn default() -> Self {
        let d = DialogConfig::default();
        DialogSection {
            default_timeout: d.default_timeout.as_secs(),
            early_timeout: d.early_timeout.as_secs(),
            noack_timeout: d.noack_timeout.as_secs(),
            end_timeout: d.end_timeout.as_secs(),
            timeout_noreset: d.timeout_noreset,
            send_bye: d.send_bye,
        }
    }
}

impl DialogSection {
    pub fn to_dialog_config(&self) -> DialogConfig {
        let s = Duration::from_secs;
        DialogConfig {
            default_timeout: s(self.default_timeout),
            early_timeout: s(self.early_timeout),
            noack_timeout: s(self.noack_timeout),
            end_timeout: s(self.end_timeout),
            timeout_noreset: self.timeout_noreset,
            send_bye: self.send_bye,
            ..DialogConfig::default()
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, v) in [("default_timeout", self.default_timeout), ("early_timeout", self.early_timeout)] {
            if v == 0 {
                return Err(ConfigError::Rejected {
                    key: format!("dialog.{key}"),
                    value: "0".into(),
                    reason: "must be at least 1 second".into(),
                });
            }
        }
        Ok(())
    }
}

//! What `save` decided: the verdict and the reasons it can refuse, with
//! Kamailio's codes and `P-Registrar-Error` texts (registrar/reply.c).

use super::aor::AorError;
use super::binding::Aor;

/// What `save` did (Kamailio save() return values 1..4, -1, -2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveResult {
    /// The last contact applied added a binding.
    Inserted,
    /// The last contact applied refreshed or changed one.
    Updated,
    /// The last contact applied removed one, `Contact: *` removed all, or
    /// every contact asked for removal of a binding that did not exist.
    Deleted,
    /// No Contact: the reply lists the current bindings.
    Query,
    /// Every contact was a retransmission (same Call-ID and CSeq within
    /// `cseq_delay`); nothing changed.
    Retransmission,
    /// Refused; nothing changed.
    Rejected,
}

/// The verdict, from which the engine builds the reply
/// (see `reply::write_reply_headers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveOutcome {
    pub code: u16,
    pub reason: &'static str,
    /// `P-Registrar-Error:` value, on every non-200 (registrar reply.c).
    pub error: Option<&'static str>,
    /// `Min-Expires:` value, on 423.
    pub min_expires: Option<u32>,
    /// `Retry-After:` value, on 5xx when `retry_after` is set.
    pub retry_after: Option<u32>,
    pub result: SaveResult,
    /// The AOR from To, once it was understood.
    pub aor: Option<Aor>,
    /// Whether the reply carries the AOR's bindings in `Contact:`. Kamailio
    /// lists them on every reply once contacts were processed, errors
    /// included; not after `Contact: *` or a malformed request.
    pub list_contacts: bool,
    /// Whether the reply echoes the request's Path (RFC 3327 §5.3).
    pub echo_path: bool,
}

/// Why a REGISTER is refused. Each variant is one Kamailio rerrno; its
/// Display is the exact `P-Registrar-Error` text (registrar/reply.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// No To header (400).
    #[error("To header not found")]
    ToMissing,
    /// A To header that does not parse (400).
    #[error("Message parse error")]
    ToMalformed,
    /// To is not a sip/sips AOR (400).
    #[error("Error while parsing AOR")]
    AorParse,
    /// To user or host too long to store (500).
    #[error("Address Of Record too long")]
    AorTooLong,
    /// Bad `%` escape in the To user (400).
    #[error("Error while unescaping username")]
    Unescape,
    /// No Call-ID (400).
    #[error("Call-ID header not found")]
    CallIdMissing,
    /// No CSeq (400).
    #[error("CSeq header not found")]
    CSeqMissing,
    /// A CSeq that does not parse (400).
    #[error("Invalid CSeq number")]
    CSeqMalformed,
    /// Expires header not delta-seconds (400).
    #[error("Expires parse error")]
    ExpiresParse,
    /// A Contact that does not parse (400).
    #[error("Contact parse error")]
    ContactParse,
    /// `Contact: *` without `Expires: 0` (400, RFC 3261 §10.3 step 6).
    #[error("* used in contact and expires is not zero")]
    StarExpires,
    /// `Contact: *` with other contacts (400, RFC 3261 §10.3 step 6).
    #[error("* used in contact and more than 1 contact")]
    StarWithOthers,
    /// Contact URI or its `received` too long to store (400).
    #[error("Contact/received too long")]
    ContactTooLong,
    /// Call-ID too long to store (400).
    #[error("Callid too long")]
    CallIdTooLong,
    /// Path unusable: too long, unparsable, or first hop not `;lr` (400).
    #[error("Path parse error")]
    PathParse,
    /// Same Call-ID with a lower CSeq, or an equal one after `cseq_delay`
    /// (400, RFC 3261 §10.3 step 7).
    #[error("Invalid CSeq number")]
    OutOfOrder,
    /// A Contact `q` that is not a qvalue (400).
    #[error("Invalid q param in contact")]
    InvalidQ,
    /// A `reg-id` that is not a positive number (400).
    #[error("Invalid Reg-Id number")]
    InvalidRegId,
    /// Expiry below min_expires with min_expires_mode 1 (423 + Min-Expires).
    #[error("Interval too brief")]
    IntervalTooBrief,
    /// More than max_contacts valid bindings would result (503).
    #[error("Too many registered contacts")]
    TooManyContacts,
}

impl SaveError {
    /// Kamailio registrar reply.c `codes[]`.
    pub fn code(self) -> u16 {
        match self {
            SaveError::AorTooLong => 500,
            SaveError::IntervalTooBrief => 423,
            SaveError::TooManyContacts => 503,
            _ => 400,
        }
    }

    /// The `P-Registrar-Error` text.
    pub fn text(self) -> &'static str {
        match self {
            SaveError::ToMissing => "To header not found",
            SaveError::ToMalformed => "Message parse error",
            SaveError::AorParse => "Error while parsing AOR",
            SaveError::AorTooLong => "Address Of Record too long",
            SaveError::Unescape => "Error while unescaping username",
            SaveError::CallIdMissing => "Call-ID header not found",
            SaveError::CSeqMissing => "CSeq header not found",
            SaveError::CSeqMalformed | SaveError::OutOfOrder => "Invalid CSeq number",
            SaveError::ExpiresParse => "Expires parse error",
            SaveError::ContactParse => "Contact parse error",
            SaveError::StarExpires => "* used in contact and expires is not zero",
            SaveError::StarWithOthers => "* used in contact and more than 1 contact",
            SaveError::ContactTooLong => "Contact/received too long",
            SaveError::CallIdTooLong => "Callid too long",
            SaveError::PathParse => "Path parse error",
            SaveError::InvalidQ => "Invalid q param in contact",
            SaveError::InvalidRegId => "Invalid Reg-Id number",
            SaveError::IntervalTooBrief => "Interval too brief",
            SaveError::TooManyContacts => "Too many registered contacts",
        }
    }

    /// Raised while contacts were processed against the record, where
    /// Kamailio has already built the Contact list for the reply.
    pub(super) fn lists_contacts(self) -> bool {
        matches!(
            self,
            SaveError::CallIdTooLong
                | SaveError::PathParse
                | SaveError::OutOfOrder
                | SaveError::InvalidQ
                | SaveError::InvalidRegId
                | SaveError::IntervalTooBrief
                | SaveError::TooManyContacts
        )
    }
}

impl From<AorError> for SaveError {
    fn from(e: AorError) -> SaveError {
        match e {
            AorError::NotSip => SaveError::AorParse,
            AorError::TooLong => SaveError::AorTooLong,
            AorError::BadEscape => SaveError::Unescape,
        }
    }
}

/// The reason phrase Kamailio sends with each code (reply.c MSG_*).
pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        423 => "Interval Too Brief",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        _ => "Bad Request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [SaveError; 20] = [
        SaveError::ToMissing,
        SaveError::ToMalformed,
        SaveError::AorParse,
        SaveError::AorTooLong,
        SaveError::Unescape,
        SaveError::CallIdMissing,
        SaveError::CSeqMissing,
        SaveError::CSeqMalformed,
        SaveError::ExpiresParse,
        SaveError::ContactParse,
        SaveError::StarExpires,
        SaveError::StarWithOthers,
        SaveError::ContactTooLong,
        SaveError::CallIdTooLong,
        SaveError::PathParse,
        SaveError::OutOfOrder,
        SaveError::InvalidQ,
        SaveError::InvalidRegId,
        SaveError::IntervalTooBrief,
        SaveError::TooManyContacts,
    ];

    #[test]
    fn display_is_the_p_registrar_error_text() {
        for e in ALL {
            assert_eq!(e.to_string(), e.text(), "{e:?}");
        }
    }

    #[test]
    fn codes_and_reasons_match_kamailio() {
        let code = |e: SaveError| (e.code(), reason(e.code()));
        assert_eq!(code(SaveError::OutOfOrder), (400, "Bad Request"));
        assert_eq!(code(SaveError::IntervalTooBrief), (423, "Interval Too Brief"));
        assert_eq!(code(SaveError::AorTooLong), (500, "Server Internal Error"));
        assert_eq!(code(SaveError::TooManyContacts), (503, "Service Unavailable"));
        assert_eq!(reason(200), "OK");
        let listed = ALL.iter().filter(|e| e.lists_contacts()).count();
        assert_eq!(listed, 7);
    }
}

//! Request methods (RFC 3261 §7.1, §27.4). Methods are case-sensitive.

use super::list::is_token;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Prack,
    Update,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    /// An extension method: any token (RFC 3261 §25.1 extension-method).
    Other(&'a [u8]),
}

impl<'a> Method<'a> {
    /// Parses a method token; `None` when it is not a token.
    pub fn parse(text: &'a [u8]) -> Option<Method<'a>> {
        let m = match text {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"INFO" => Method::Info,
            b"PRACK" => Method::Prack,
            b"UPDATE" => Method::Update,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"MESSAGE" => Method::Message,
            b"PUBLISH" => Method::Publish,
            other if is_token(other) => Method::Other(other),
            _ => return None,
        };
        Some(m)
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            Method::Invite => b"INVITE",
            Method::Ack => b"ACK",
            Method::Bye => b"BYE",
            Method::Cancel => b"CANCEL",
            Method::Register => b"REGISTER",
            Method::Options => b"OPTIONS",
            Method::Info => b"INFO",
            Method::Prack => b"PRACK",
            Method::Update => b"UPDATE",
            Method::Subscribe => b"SUBSCRIBE",
            Method::Notify => b"NOTIFY",
            Method::Refer => b"REFER",
            Method::Message => b"MESSAGE",
            Method::Publish => b"PUBLISH",
            Method::Other(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_extension_and_invalid() {
        assert_eq!(Method::parse(b"INVITE"), Some(Method::Invite));
        assert_eq!(Method::parse(b"invite"), Some(Method::Other(b"invite")));
        let odd = b"!interesting-Method0123456789_*+`.%indeed'~";
        assert_eq!(Method::parse(odd), Some(Method::Other(odd)));
        assert_eq!(Method::parse(b"IN VITE"), None);
        assert_eq!(Method::parse(b""), None);
        assert_eq!(Method::Register.as_bytes(), b"REGISTER");
    }
}

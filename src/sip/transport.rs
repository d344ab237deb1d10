//! SIP transports, with the protocol numbers Kamailio writes in
//! `;alias=ip~port~proto` (src/core/ip_addr.h enum sip_protos).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
}

impl Transport {
    /// Kamailio's proto digit: 1 UDP, 2 TCP, 3 TLS, 4 SCTP, 5 WS, 6 WSS.
    pub fn proto_digit(self) -> u8 {
        match self {
            Transport::Udp => 1,
            Transport::Tcp => 2,
            Transport::Tls => 3,
            Transport::Sctp => 4,
            Transport::Ws => 5,
            Transport::Wss => 6,
        }
    }

    pub fn from_proto_digit(d: u8) -> Option<Transport> {
        Some(match d {
            1 => Transport::Udp,
            2 => Transport::Tcp,
            3 => Transport::Tls,
            4 => Transport::Sctp,
            5 => Transport::Ws,
            6 => Transport::Wss,
            _ => return None,
        })
    }

    /// Parses a `;transport=` value or a Via transport, case-insensitively.
    pub fn parse(text: &[u8]) -> Option<Transport> {
        let t = [
            (&b"udp"[..], Transport::Udp),
            (b"tcp", Transport::Tcp),
            (b"tls", Transport::Tls),
            (b"sctp", Transport::Sctp),
            (b"ws", Transport::Ws),
            (b"wss", Transport::Wss),
        ];
        t.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)).map(|&(_, t)| t)
    }

    /// Lower-case name as used in URI `;transport=` values.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Sctp => "sctp",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_round_trip() {
        for d in 1..=6 {
            let t = Transport::from_proto_digit(d).unwrap();
            assert_eq!(t.proto_digit(), d);
            assert_eq!(Transport::parse(t.as_str().to_uppercase().as_bytes()), Some(t));
        }
        assert_eq!(Transport::from_proto_digit(0), None);
        assert_eq!(Transport::parse(b"quic"), None);
    }
}

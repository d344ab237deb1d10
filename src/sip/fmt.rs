//! Number and address formatting for the hot path: `write!` goes through
//! `core::fmt`, which costs hundreds of instructions per call.

use std::io::Write;
use std::net::IpAddr;

/// Appends a decimal number.
pub fn push_u32(out: &mut Vec<u8>, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends an address as SIP writes it in `received` (RFC 5118 §4.5:
/// IPv6 without brackets).
pub fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u32(out, u32::from(octet));
            }
        }
        // Rare enough that core::fmt's compressed form is fine.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_display() {
        for v in [0u32, 7, 10, 5060, 65535, u32::MAX] {
            let mut out = Vec::new();
            push_u32(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        for ip in ["0.0.0.0", "203.0.113.7", "255.255.255.255", "2001:db8::1"] {
            let mut out = Vec::new();
            push_ip(&mut out, ip.parse().unwrap());
            assert_eq!(out, ip.as_bytes());
        }
    }
}

//! The source address the kernel writes into a received `msghdr` name,
//! read without pointer casts (`sockaddr_in` / `sockaddr_in6`, in the
//! layout of `<netinet/in.h>`: family in host order, port and address in
//! network order).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Room for either address family.
pub const NAME_LEN: usize = size_of::<libc::sockaddr_in6>();

/// The socket address in `name`, or `None` for a family we do not serve.
pub fn parse(name: &[u8]) -> Option<SocketAddr> {
    let family = i32::from(u16::from_ne_bytes(name.get(0..2)?.try_into().ok()?));
    let port = u16::from_be_bytes(name.get(2..4)?.try_into().ok()?);
    match family {
        libc::AF_INET => {
            let ip: [u8; 4] = name.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        }
        libc::AF_INET6 => {
            let flow = u32::from_be_bytes(name.get(4..8)?.try_into().ok()?);
            let ip: [u8; 16] = name.get(8..24)?.try_into().ok()?;
            let scope = u32::from_ne_bytes(name.get(24..28)?.try_into().ok()?);
            Some(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, scope)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the kernel writes for `addr`.
    fn raw(addr: SocketAddr) -> Vec<u8> {
        match addr {
            SocketAddr::V4(a) => {
                let mut b = vec![0u8; 16];
                b[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&a.port().to_be_bytes());
                b[4..8].copy_from_slice(&a.ip().octets());
                b
            }
            SocketAddr::V6(a) => {
                let mut b = vec![0u8; 28];
                b[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&a.port().to_be_bytes());
                b[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
                b[8..24].copy_from_slice(&a.ip().octets());
                b[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
                b
            }
        }
    }

    #[test]
    fn ipv4_and_ipv6_round_trip() {
        for a in ["192.0.2.7:5060", "[2001:db8::1]:5070", "[fe80::1%3]:1"] {
            let addr: SocketAddr = a.parse().unwrap();
            assert_eq!(parse(&raw(addr)), Some(addr), "{a}");
        }
    }

    #[test]
    fn short_or_foreign_names_are_refused() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&raw("192.0.2.7:5060".parse().unwrap())[..6]), None);
        let mut unix = vec![0u8; 16];
        unix[0..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        assert_eq!(parse(&unix), None);
    }
}

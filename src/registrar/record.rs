//! Binary encoding of location-table changes and the CRC frame around each.
//!
//! Pure: bytes in, bytes out, no I/O, so every corruption case is a unit
//! test. Integers are little-endian. Decoding checks every length against
//! the bytes that are actually there before it allocates, so a corrupt
//! length can never make it allocate more than the file holds.

use crate::registrar::binding::{Aor, Binding, BindingFlags, UnixMillis};
use crate::sip::transport::Transport;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// First byte of every frame. Not ASCII, not 0x00 and not 0xFF, so neither
/// the text inside records nor zero- or one-filled sectors look like the
/// start of a frame when the loader searches for the next good one.
pub const FRAME_MAGIC: u8 = 0xA5;
/// Magic byte, then the u32 payload length.
pub const FRAME_HEAD: usize = 5;
/// The u32 CRC32 (IEEE) after the payload, over length and payload.
pub const FRAME_TAIL: usize = 4;
/// Largest payload written or accepted. One change comes from one SIP
/// message (at most 64 KiB), so anything bigger is corruption; the bound
/// also caps what a corrupt length makes the loader checksum.
pub const MAX_PAYLOAD: usize = 1 << 20;

const TAG_UPSERT: u8 = 1;
const TAG_REMOVE: u8 = 2;
const TAG_REMOVE_AOR: u8 = 3;
const TAG_CLEAR: u8 = 4;

const FLAG_NATED: u8 = 1;
const FLAG_PING: u8 = 2;

/// One change to a shard's slice of the location table, borrowed from the
/// table so that logging it costs no clone. A binding is identified by its
/// AOR and Contact URI (Kamailio usrloc matching_mode 0, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// The binding was added or refreshed; replaces the one with the same contact.
    Upsert { aor: &'a Aor, binding: &'a Binding },
    /// One binding of the AOR was removed (expires=0, or ul.rm_contact).
    Remove { aor: &'a Aor, contact: &'a [u8] },
    /// Every binding of the AOR was removed (`Contact: *`, or ul.rm).
    RemoveAor { aor: &'a Aor },
    /// The shard's whole table was emptied.
    Clear,
}

/// A change as read back from a file: owns its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Upsert { aor: Aor, binding: Binding },
    Remove { aor: Aor, contact: Box<[u8]> },
    RemoveAor { aor: Aor },
    Clear,
}

impl Record {
    pub fn as_change(&self) -> Change<'_> {
        match self {
            Record::Upsert { aor, binding } => Change::Upsert { aor, binding },
            Record::Remove { aor, contact } => Change::Remove { aor, contact },
            Record::RemoveAor { aor } => Change::RemoveAor { aor },
            Record::Clear => Change::Clear,
        }
    }
}

/// Why a frame's payload, whose CRC was good, is still not a record. Only a
/// writer bug or a CRC collision on corrupt bytes gets here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A field runs past the end of the payload.
    #[error("record truncated")]
    Truncated,
    /// The first byte names no kind of change.
    #[error("unknown record kind {0}")]
    Kind(u8),
    /// A transport that is not Kamailio proto digit 1..=6.
    #[error("unknown transport digit {0}")]
    Transport(u8),
    /// An address family other than 4 or 6.
    #[error("unknown address family {0}")]
    Family(u8),
    /// An optional field whose presence byte is neither 0 nor 1.
    #[error("bad presence byte {0}")]
    Presence(u8),
    /// Flag bits that version 1 does not define.
    #[error("unknown flag bits {0:#04x}")]
    Flags(u8),
    /// Bytes left over after the record.
    #[error("{0} bytes after the record")]
    Trailing(usize),
}

/// Appends one frame holding `change` to `out` and returns the payload
/// length. When the payload would exceed [`MAX_PAYLOAD`], leaves `out`
/// as it was and returns the length as the error.
pub fn encode_frame(change: &Change<'_>, out: &mut Vec<u8>) -> Result<usize, usize> {
    let start = out.len();
    out.push(FRAME_MAGIC);
    out.extend_from_slice(&[0; 4]);
    encode_payload(change, out);
    let len = out.len() - start - FRAME_HEAD;
    let Some(len32) = u32::try_from(len).ok().filter(|_| len <= MAX_PAYLOAD) else {
        out.truncate(start);
        return Err(len);
    };
    out[start + 1..start + FRAME_HEAD].copy_from_slice(&len32.to_le_bytes());
    let crc = crc32fast::hash(&out[start + 1..]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(len)
}

/// Why the bytes at a position are not a good frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The first byte is not [`FRAME_MAGIC`].
    Magic,
    /// The length field is over [`MAX_PAYLOAD`].
    Length(u32),
    /// The frame runs past the end of the data.
    Truncated,
    /// The CRC does not match.
    Crc,
    /// The CRC matches but the payload is not a record.
    Record(DecodeError),
}

/// Decodes the frame at the start of `data`: the record and the frame's
/// total length.
pub fn decode_frame(data: &[u8]) -> Result<(Record, usize), FrameError> {
    match data.first() {
        None => return Err(FrameError::Truncated),
        Some(&FRAME_MAGIC) => {}
        Some(_) => return Err(FrameError::Magic),
    }
    let len_bytes: [u8; 4] = data.get(1..FRAME_HEAD).and_then(|b| b.try_into().ok()).ok_or(FrameError::Truncated)?;
    let len32 = u32::from_le_bytes(len_bytes);
    let len = usize::try_from(len32).map_err(|_| FrameError::Length(len32))?;
    if len > MAX_PAYLOAD {
        return Err(FrameError::Length(len32));
    }
    let total = FRAME_HEAD + len + FRAME_TAIL;
    let frame = data.get(..total).ok_or(FrameError::Truncated)?;
    let (body, crc) = frame.split_at(FRAME_HEAD + len);
    let crc = u32::from_le_bytes(crc.try_into().map_err(|_| FrameError::Truncated)?);
    if crc32fast::hash(&body[1..]) != crc {
        return Err(FrameError::Crc);
    }
    let record = decode_payload(&body[FRAME_HEAD..]).map_err(FrameError::Record)?;
    Ok((record, total))
}

fn encode_payload(change: &Change<'_>, out: &mut Vec<u8>) {
    match change {
        Change::Upsert { aor, binding } => {
            out.push(TAG_UPSERT);
            put_bytes(out, &aor.0);
            put_binding(out, binding);
        }
        Change::Remove { aor, contact } => {
            out.push(TAG_REMOVE);
            put_bytes(out, &aor.0);
            put_bytes(out, contact);
        }
        Change::RemoveAor { aor } => {
            out.push(TAG_REMOVE_AOR);
            put_bytes(out, &aor.0);
        }
        Change::Clear => out.push(TAG_CLEAR),
    }
}

fn put_binding(out: &mut Vec<u8>, b: &Binding) {
    put_bytes(out, &b.contact);
    put_opt_bytes(out, b.received.as_deref());
    put_addr(out, b.source);
    out.push(b.transport.proto_digit());
    put_addr(out, b.local);
    put_opt_bytes(out, b.path.as_deref());
    match b.q {
        Some(q) => {
            out.push(1);
            out.extend_from_slice(&q.to_le_bytes());
        }
        None => out.push(0),
    }
    put_bytes(out, &b.call_id);
    out.extend_from_slice(&b.cseq.to_le_bytes());
    put_opt_bytes(out, b.user_agent.as_deref());
    let mut bits = 0;
    if b.flags.nated {
        bits |= FLAG_NATED;
    }
    if b.flags.ping {
        bits |= FLAG_PING;
    }
    out.push(bits);
    for t in [b.expires, b.last_keepalive, b.updated] {
        out.extend_from_slice(&t.0.to_le_bytes());
    }
    put_opt_bytes(out, b.instance.as_deref());
    match b.reg_id {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.to_le_bytes());
        }
        None => out.push(0),
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // A field over 4 GiB cannot occur (one SIP message is at most 64 KiB);
    // saturating keeps the frame decodable-as-corrupt rather than panicking,
    // and encode_frame refuses the oversized payload anyway.
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(b);
}

fn put_opt_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            out.push(1);
            put_bytes(out, b);
        }
        None => out.push(0),
    }
}

fn put_addr(out: &mut Vec<u8>, a: SocketAddr) {
    match a {
        SocketAddr::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_le_bytes());
        }
        SocketAddr::V6(a) => {
            out.push(6);
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_le_bytes());
            out.extend_from_slice(&a.flowinfo().to_le_bytes());
            out.extend_from_slice(&a.scope_id().to_le_bytes());
        }
    }
}

fn decode_payload(payload: &[u8]) -> Result<Record, DecodeError> {
    let mut r = Reader(payload);
    let record = match r.u8()? {
        TAG_UPSERT => Record::Upsert { aor: Aor(r.bytes()?), binding: r.binding()? },
        TAG_REMOVE => Record::Remove { aor: Aor(r.bytes()?), contact: r.bytes()? },
        TAG_REMOVE_AOR => Record::RemoveAor { aor: Aor(r.bytes()?) },
        TAG_CLEAR => Record::Clear,
        other => return Err(DecodeError::Kind(other)),
    };
    match r.0.len() {
        0 => Ok(record),
        n => Err(DecodeError::Trailing(n)),
    }
}

/// A cursor over a payload; every read checks the remaining length first.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        self.take().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        self.take().map(u64::from_le_bytes)
    }

    fn bytes(&mut self) -> Result<Box<[u8]>, DecodeError> {
        let len = usize::try_from(self.u32()?).map_err(|_| DecodeError::Truncated)?;
        // Checked against what is there before copying: no allocation
        // larger than the payload, whatever the length field says.
        if len > self.0.len() {
            return Err(DecodeError::Truncated);
        }
        let (b, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(b.into())
    }

    fn present(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::Presence(other)),
        }
    }

    fn opt_bytes(&mut self) -> Result<Option<Box<[u8]>>, DecodeError> {
        self.present()?.then(|| self.bytes()).transpose()
    }

    fn addr(&mut self) -> Result<SocketAddr, DecodeError> {
        Ok(match self.u8()? {
            4 => {
                let ip = Ipv4Addr::from(self.take::<4>()?);
                SocketAddr::V4(SocketAddrV4::new(ip, self.u16()?))
            }
            6 => {
                let ip = Ipv6Addr::from(self.take::<16>()?);
                let port = self.u16()?;
                let (flow, scope) = (self.u32()?, self.u32()?);
                SocketAddr::V6(SocketAddrV6::new(ip, port, flow, scope))
            }
            other => return Err(DecodeError::Family(other)),
        })
    }

    fn binding(&mut self) -> Result<Binding, DecodeError> {
        let contact = self.bytes()?;
        let received = self.opt_bytes()?;
        let source = self.addr()?;
        let digit = self.u8()?;
        let transport = Transport::from_proto_digit(digit).ok_or(DecodeError::Transport(digit))?;
        let local = self.addr()?;
        let path = self.opt_bytes()?;
        let q = self.present()?.then(|| self.u16()).transpose()?;
        let call_id = self.bytes()?;
        let cseq = self.u32()?;
        let user_agent = self.opt_bytes()?;
        let bits = self.u8()?;
        if bits & !(FLAG_NATED | FLAG_PING) != 0 {
            return Err(DecodeError::Flags(bits));
        }
        let flags = BindingFlags { nated: bits & FLAG_NATED != 0, ping: bits & FLAG_PING != 0 };
        let expires = UnixMillis(self.u64()?);
        let last_keepalive = UnixMillis(self.u64()?);
        let updated = UnixMillis(self.u64()?);
        let instance = self.opt_bytes()?;
        let reg_id = self.present()?.then(|| self.u32()).transpose()?;
        Ok(Binding {
            contact,
            received,
            source,
            transport,
            local,
            path,
            q,
            call_id,
            cseq,
            user_agent,
            flags,
            expires,
            last_keepalive,
            updated,
            instance,
            reg_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::store::tests::{XorShift, binding, full_binding};

    fn round_trip(change: Change<'_>) {
        let mut buf = vec![0x42];
        let len = encode_frame(&change, &mut buf).unwrap();
        assert_eq!(buf.len(), 1 + FRAME_HEAD + len + FRAME_TAIL);
        let (record, used) = decode_frame(&buf[1..]).unwrap();
        assert_eq!(used, buf.len() - 1);
        assert_eq!(record.as_change(), change);
    }

    #[test]
    fn every_field_round_trips() {
        let aor = Aor(b"alice@example.com".as_slice().into());
        let full = full_binding();
        assert!(full.source.is_ipv6() && full.local.is_ipv4());
        round_trip(Change::Upsert { aor: &aor, binding: &full });
        // All optional fields None, IPv4 source, IPv6 local.
        let mut bare = binding(3, 9_000);
        bare.local = "[2001:db8::1]:5061".parse().unwrap();
        assert!(bare.received.is_none() && bare.q.is_none() && bare.reg_id.is_none());
        round_trip(Change::Upsert { aor: &aor, binding: &bare });
        round_trip(Change::Remove { aor: &aor, contact: b"sip:a@b" });
        round_trip(Change::RemoveAor { aor: &aor });
        round_trip(Change::Clear);
        let empty = Aor(Box::default());
        round_trip(Change::Remove { aor: &empty, contact: b"" });
    }

    #[test]
    fn every_transport_and_flag_round_trips() {
        let aor = Aor(b"bob@example.com".as_slice().into());
        for d in 1..=6 {
            let mut b = binding(d.into(), 1);
            b.transport = Transport::from_proto_digit(d).unwrap();
            b.flags = BindingFlags { nated: d % 2 == 0, ping: d % 3 == 0 };
            round_trip(Change::Upsert { aor: &aor, binding: &b });
        }
    }

    #[test]
    fn damaged_frames_are_rejected() {
        let aor = Aor(b"carol@example.com".as_slice().into());
        let mut buf = Vec::new();
        encode_frame(&Change::RemoveAor { aor: &aor }, &mut buf).unwrap();
        for cut in 0..buf.len() {
            assert_eq!(decode_frame(&buf[..cut]).unwrap_err(), FrameError::Truncated);
        }
        let mut bad = buf.clone();
        bad[0] = 0;
        assert_eq!(decode_frame(&bad).unwrap_err(), FrameError::Magic);
        let mut bad = buf.clone();
        bad[FRAME_HEAD + 2] ^= 1;
        assert_eq!(decode_frame(&bad).unwrap_err(), FrameError::Crc);
        let mut bad = buf.clone();
        bad[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_frame(&bad).unwrap_err(), FrameError::Length(u32::MAX));
    }

    #[test]
    fn good_crc_over_bad_payload_is_a_record_error() {
        let frame = |payload: &[u8]| {
            let mut f = vec![FRAME_MAGIC];
            f.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
            f.extend_from_slice(payload);
            let crc = crc32fast::hash(&f[1..]);
            f.extend_from_slice(&crc.to_le_bytes());
            f
        };
        let err = |p: &[u8]| decode_frame(&frame(p)).unwrap_err();
        assert_eq!(err(&[9]), FrameError::Record(DecodeError::Kind(9)));
        assert_eq!(err(&[TAG_CLEAR, 0]), FrameError::Record(DecodeError::Trailing(1)));
        let huge_field = [TAG_REMOVE_AOR, 0xFF, 0xFF, 0xFF, 0x7F];
        assert_eq!(err(&huge_field), FrameError::Record(DecodeError::Truncated));
    }

    /// Random and mutated bytes never panic, and a decoded frame never
    /// claims more bytes than it was given.
    #[test]
    fn decoder_survives_random_and_mutated_bytes() {
        let aor = Aor(b"dave@example.com".as_slice().into());
        let full = full_binding();
        let mut seed = Vec::new();
        encode_frame(&Change::Upsert { aor: &aor, binding: &full }, &mut seed).unwrap();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for i in 0..20_000 {
            let data = if i % 2 == 0 {
                let mut m = seed.clone();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(m.len());
                    m[at] = rng.byte();
                }
                m.truncate(rng.below(m.len() + 1));
                if rng.below(2) == 0 && m.len() >= FRAME_HEAD + FRAME_TAIL {
                    // Re-seal so the mutation reaches the payload decoder.
                    let len = m.len() - FRAME_HEAD - FRAME_TAIL;
                    m[1..FRAME_HEAD].copy_from_slice(&u32::try_from(len).unwrap().to_le_bytes());
                    let crc = crc32fast::hash(&m[1..FRAME_HEAD + len]);
                    m[FRAME_HEAD + len..].copy_from_slice(&crc.to_le_bytes());
                }
                m
            } else {
                let mut m = vec![FRAME_MAGIC];
                m.extend((0..rng.below(64)).map(|_| rng.byte()));
                m
            };
            if let Ok((_, used)) = decode_frame(&data) {
                assert!(used <= data.len());
            }
            let _ = decode_payload(data.get(FRAME_HEAD..).unwrap_or_default());
        }
    }
}

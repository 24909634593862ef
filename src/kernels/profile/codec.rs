//! Little-endian primitives of the serialised profile-state body
//! ([`super::ProfileState::write_body`] / [`super::ProfileState::read_body`]).
//!
//! Readers take `&mut &[u8]` and advance it. They never panic and never allocate a size
//! read from the bytes before checking it against the bytes that remain and a hard cap:
//! [`count`] does both, so a corrupt length is an `Err`, not an allocation.

/// The error of a corrupt body: names the function and what to do.
pub fn corrupt(what: impl std::fmt::Display) -> String {
    format!("dr_profile: corrupt state body ({what}); serialise the state again from its rows")
}

/// The next `n` bytes.
pub fn take<'b>(r: &mut &'b [u8], n: usize) -> Result<&'b [u8], String> {
    if r.len() < n {
        return Err(corrupt(format_args!("truncated: {n} bytes needed, {} left", r.len())));
    }
    let (a, b) = r.split_at(n);
    *r = b;
    Ok(a)
}

fn array<const N: usize>(r: &mut &[u8]) -> Result<[u8; N], String> {
    let mut a = [0u8; N];
    a.copy_from_slice(take(r, N)?);
    Ok(a)
}

/// One byte.
pub fn get_u8(r: &mut &[u8]) -> Result<u8, String> {
    Ok(take(r, 1)?[0])
}

/// A `u64`.
pub fn get_u64(r: &mut &[u8]) -> Result<u64, String> {
    array(r).map(u64::from_le_bytes)
}

/// A `u128`.
pub fn get_u128(r: &mut &[u8]) -> Result<u128, String> {
    array(r).map(u128::from_le_bytes)
}

/// An `i128`.
pub fn get_i128(r: &mut &[u8]) -> Result<i128, String> {
    array(r).map(i128::from_le_bytes)
}

/// An `f64` (bit pattern).
pub fn get_f64(r: &mut &[u8]) -> Result<f64, String> {
    array(r).map(f64::from_le_bytes)
}

/// A 0/1 flag.
pub fn get_bool(r: &mut &[u8]) -> Result<bool, String> {
    match get_u8(r)? {
        0 => Ok(false),
        1 => Ok(true),
        t => Err(corrupt(format_args!("flag {t}"))),
    }
}

/// A `usize` stored as `u64`, at most `max`.
pub fn get_usize(r: &mut &[u8], max: u64, what: &str) -> Result<usize, String> {
    let v = get_u64(r)?;
    if v > max {
        return Err(corrupt(format_args!("{what} {v} above {max}")));
    }
    usize::try_from(v).map_err(|_| corrupt(what))
}

/// An element count: at most `max`, and `count · min_size` bytes must remain.
pub fn count(r: &mut &[u8], max: usize, min_size: usize, what: &str) -> Result<usize, String> {
    let n = get_usize(r, max as u64, what)?;
    if n.saturating_mul(min_size) > r.len() {
        return Err(corrupt(format_args!("{n} {what} need more than the {} bytes left", r.len())));
    }
    Ok(n)
}

/// A length-prefixed byte string of at most `max` bytes.
pub fn get_bytes<'b>(r: &mut &'b [u8], max: usize, what: &str) -> Result<&'b [u8], String> {
    let n = count(r, max, 1, what)?;
    take(r, n)
}

/// Appends a `u64`.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

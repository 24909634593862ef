//! Exact, order-independent sums of doubles and of their products.
//!
//! Floating-point moment updates (Welford, Pébay, Chan) round differently for every split
//! of the rows and every merge order. The states here instead add, for every value, terms
//! that depend on the value alone (x, x², x³, x⁴, or x·y) into fixed-point integers wide
//! enough to hold any finite double's powers exactly. Integer addition is associative,
//! so the sums, their bytes and everything finalize derives from them are bit-identical
//! whatever the split and the merge tree (issue #15).
//!
//! - [`ExactSum`]: Neal's *small superaccumulator* (R. M. Neal, "Fast exact summation
//!   using small and large superaccumulators", arXiv:1505.05571, 2015, §3): an array of
//!   i64 chunks, chunk `i` weighing `2^(lsb + 32·i)`. A term is split at chunk boundaries
//!   and its pieces are added without carries; a carry pass ("normalise") runs every
//!   [`LIMIT`] terms. Neal puts up to 53 bits in a chunk's top piece and propagates
//!   every ~2^10 terms; here a term's top piece is at most 52 bits, the others 32, so
//!   2047 terms fit in the 63 bits of a chunk. The grid of `ExactSum<K>` starts at
//!   `2^(−1074·K)`, the lowest bit of a product of K doubles; only the touched span of
//!   chunks is allocated, so a column of prices uses a handful of chunks, not the ~270
//!   a full-range x⁴ accumulator would need.
//! - [`BigFixed`]: a signed big integer times a power of two, for finalize only: the
//!   central sums `n·M2 = n·S2 − S1²`, `n²·M3 = n²S3 − 3nS1S2 + 2S1³`,
//!   `n³·M4 = n³S4 − 4n²S1S3 + 6nS1²S2 − 3S1⁴` (Pébay 2008, SAND2008-6212, eq. 1.1
//!   expanded in raw power sums) are computed exactly and rounded once, to nearest even.
//! - [`PowerSums`] (moments of one column) and [`CoSums`] (Pearson of a column pair) are
//!   the states; skewness and kurtosis use DuckDB's estimators as `profile::stats`
//!   documents them.
//!
//! - Integers below 2^21 in magnitude (counts, ages, years, small ids) skip the chunks:
//!   their powers are summed in i128 integer parts, folded into the chunks on every read.
//!
//! Serialisation writes each sum in canonical form (carries propagated, zero chunks at
//! both ends dropped), so equal sums give equal bytes.

use std::cmp::Ordering;

/// Terms added between two carry passes: each adds less than 2^52 to a chunk, a
/// normalised chunk is below 2^32 in magnitude, and 2047·2^52 + 2^32 < 2^63.
pub const LIMIT: u32 = 2047;
const M32: u64 = 0xffff_ffff;
/// Integers below 2^21 in magnitude take the states' fast path: x⁴ < 2^84, so
/// SMALL_COUNT = 2^40 of them sum exactly in an i128 before a flush into the chunks.
const SMALL_INT: u64 = 1 << 21;
const SMALL_COUNT: u64 = 1 << 40;
const FRAC: u64 = (1 << 52) - 1;
/// Hard cap on the chunks of one serialised sum: x⁴ of finite doubles spans 8392 bits,
/// plus 128 bits for counts and weights; everything beyond is corrupt input.
const fn cap_chunks(k: u32) -> usize {
    (2098 * k as usize + 192) / 32 + 1
}

/// Applies the sign mask `s` (0 or −1) to a piece below 2^63.
#[inline(always)]
fn sgn(v: u64, s: i64) -> i64 {
    ((v as i64) ^ s).wrapping_sub(s)
}

/// `x = ±m·2^(p−1074)`: the sign mask (0 or −1), the integer mantissa (< 2^53) and the
/// bit position `p ≥ 0` of its lowest bit on the `2^−1074` grid. None for ±∞ and NaN.
#[inline(always)]
fn split(x: f64) -> Option<(i64, u64, usize)> {
    let b = x.to_bits();
    let be = (b >> 52) & 0x7ff;
    if be == 0x7ff {
        return None;
    }
    let s = -((b >> 63) as i64);
    let frac = b & FRAC;
    Some(if be == 0 { (s, frac, 0) } else { (s, frac | (1 << 52), be as usize - 1) })
}

/// `m·2^sh` (m < 2^53, sh < 32) as a low 32-bit piece and a high piece < 2^52.
#[inline(always)]
fn pieces1(m: u64, sh: u32, s: i64) -> [i64; 2] {
    let v = (m as u128) << sh;
    [sgn(v as u64 & M32, s), sgn((v >> 32) as u64, s)]
}

/// `m2·2^sh` (m2 < 2^106): three 32-bit pieces and a top piece < 2^41.
#[inline(always)]
fn pieces2(m2: u128, sh: u32, s: i64) -> [i64; 4] {
    let lo = m2 << sh;
    let hi = ((m2 >> 1) >> (127 - sh)) as u64;
    [
        sgn(lo as u64 & M32, s),
        sgn((lo >> 32) as u64 & M32, s),
        sgn((lo >> 64) as u64 & M32, s),
        sgn(((lo >> 96) as u64) | (hi << 32), s),
    ]
}

/// `m3·2^sh` (m3 < 2^159 in three limbs): five 32-bit pieces and a top piece < 2^30.
#[inline(always)]
fn pieces3(l: [u64; 3], sh: u32, s: i64) -> [i64; 6] {
    let v0 = l[0] << sh;
    let v1 = (l[1] << sh) | ((l[0] >> 1) >> (63 - sh));
    let v2 = (l[2] << sh) | ((l[1] >> 1) >> (63 - sh));
    [sgn(v0 & M32, s), sgn(v0 >> 32, s), sgn(v1 & M32, s), sgn(v1 >> 32, s), sgn(v2 & M32, s), sgn(v2 >> 32, s)]
}

/// `m4·2^sh` (m4 < 2^212 in four limbs, never negative): six 32-bit pieces and a top
/// piece < 2^51.
#[inline(always)]
fn pieces4(l: [u64; 4], sh: u32) -> [i64; 7] {
    let v0 = l[0] << sh;
    let v1 = (l[1] << sh) | ((l[0] >> 1) >> (63 - sh));
    let v2 = (l[2] << sh) | ((l[1] >> 1) >> (63 - sh));
    let v3 = (l[3] << sh) | ((l[2] >> 1) >> (63 - sh));
    [
        (v0 & M32) as i64,
        (v0 >> 32) as i64,
        (v1 & M32) as i64,
        (v1 >> 32) as i64,
        (v2 & M32) as i64,
        (v2 >> 32) as i64,
        v3 as i64,
    ]
}

/// `m2·m` for m2 < 2^106, m < 2^53.
#[inline(always)]
fn mul3(m2: u128, m: u64) -> [u64; 3] {
    let t0 = (m2 as u64 as u128) * m as u128;
    let t1 = (m2 >> 64) * m as u128;
    let w = t1 + (t0 >> 64);
    [t0 as u64, w as u64, (w >> 64) as u64]
}

/// `m2²` for m2 < 2^106.
#[inline(always)]
fn square4(m2: u128) -> [u64; 4] {
    let (a0, a1) = (m2 as u64 as u128, m2 >> 64);
    let sq0 = a0 * a0;
    let cross = (a0 * a1) << 1;
    let sq1 = a1 * a1;
    let mut acc = (sq0 >> 64) + (cross as u64 as u128);
    let r1 = acc as u64;
    acc = (acc >> 64) + (cross >> 64) + (sq1 as u64 as u128);
    let r2 = acc as u64;
    acc = (acc >> 64) + (sq1 >> 64);
    [sq0 as u64, r1, r2, acc as u64]
}

// ---------------------------------------------------------------------------------------
// ExactSum: the small superaccumulator.
// ---------------------------------------------------------------------------------------

/// Exact sum of terms `±m·2^e` on the grid `2^(−1074·K)` (products of K finite doubles),
/// `m` up to 320 bits. Only the touched span of 32-bit chunks is allocated.
#[derive(Clone, Debug, Default)]
pub struct ExactSum<const K: u32> {
    /// Chunk index of `chunks[0]` on the grid.
    base: usize,
    /// Chunk `i` weighs `2^(LSB + 32·(base + i))`; between carry passes any i64.
    chunks: Vec<i64>,
    /// Terms added since the last carry pass (each < 2^52 per chunk).
    pending: u32,
    /// An integer part (weight 2^0) for the small-integer fast paths of the states,
    /// which bound it; folded into the chunks by `flush_int` and by every read.
    int: i128,
}

impl<const K: u32> PartialEq for ExactSum<K> {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl<const K: u32> ExactSum<K> {
    /// Binary exponent of the grid's lowest bit.
    pub const LSB: i64 = -1074 * K as i64;

    /// The empty sum.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `±mag·2^exp` (`mag` little-endian u64 limbs, at most 320 significant bits).
    /// Err when the term lies off the grid (below `2^LSB` or above the cap).
    pub fn add(&mut self, negative: bool, mag: &[u64], exp: i64) -> Result<(), String> {
        let used = mag.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1);
        if used == 0 {
            return Ok(());
        }
        if used > 5 {
            return Err("exact: a term has more than 320 bits".into());
        }
        let pos = exp - Self::LSB;
        let top = pos + 64 * used as i64;
        if pos < 0 || top > 32 * cap_chunks(K) as i64 - 64 {
            return Err(format!("exact: term 2^{exp} is off the grid of ExactSum<{K}>"));
        }
        if self.pending >= LIMIT {
            self.normalise();
        }
        self.pending += 1;
        self.add_wide(-(negative as i64), &mag[..used], pos as usize);
        Ok(())
    }

    /// Adds a finite double; ±∞ and NaN are ignored and return false.
    pub fn add_f64(&mut self, x: f64) -> bool {
        let Some((s, m, p)) = split(x) else { return false };
        if m != 0 {
            if self.pending >= LIMIT {
                self.normalise();
            }
            self.pending += 1;
            let p = p + 1074 * (K as usize - 1);
            self.put(p >> 5, pieces1(m, (p & 31) as u32, s));
        }
        true
    }

    /// Adds `other` (never modified) chunk by chunk.
    pub fn merge(&mut self, other: &Self) {
        self.normalise();
        self.add_raw(other);
        self.pending = other.pending + 2;
        if self.pending >= LIMIT {
            self.normalise();
        }
    }

    /// Adds `pieces` to the chunks starting at grid index `idx` (no carry, no count).
    #[inline(always)]
    fn put<const W: usize>(&mut self, idx: usize, pieces: [i64; W]) {
        let off = idx.wrapping_sub(self.base);
        if off > self.chunks.len() || self.chunks.len() - off < W {
            self.grow(idx, W);
        }
        let off = idx.wrapping_sub(self.base);
        if let Some(c) = self.chunks.get_mut(off..).and_then(|c| c.first_chunk_mut::<W>()) {
            for (c, p) in c.iter_mut().zip(pieces) {
                *c += p;
            }
        }
    }

    /// Adds `±mag·2^(LSB + pos)` as 32-bit pieces (mag ≤ 5 limbs); no count.
    fn add_wide(&mut self, s: i64, mag: &[u64], pos: usize) {
        let (idx, sh) = (pos >> 5, (pos & 31) as u32);
        let mut v = [0u64; 6];
        for (i, &l) in mag.iter().take(5).enumerate() {
            v[i] |= l << sh;
            v[i + 1] |= (l >> 1) >> (63 - sh);
        }
        let limbs = v.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1);
        if limbs == 0 {
            return;
        }
        let n = 2 * limbs - usize::from(v[limbs - 1] >> 32 == 0);
        let off = idx.wrapping_sub(self.base);
        if off > self.chunks.len() || self.chunks.len() - off < n {
            self.grow(idx, n);
        }
        let off = idx.wrapping_sub(self.base);
        if let Some(c) = self.chunks.get_mut(off..off + n) {
            for (j, c) in c.iter_mut().enumerate() {
                *c += sgn((v[j / 2] >> (32 * (j % 2))) & M32, s);
            }
        }
    }

    /// Adds `other`'s chunks as they are (and its integer part, which may flush this
    /// one's: one more term); the caller accounts for their size.
    fn add_raw(&mut self, other: &Self) {
        match self.int.checked_add(other.int) {
            Some(v) => self.int = v,
            None => {
                self.flush_int();
                self.int = other.int;
            }
        }
        if other.chunks.is_empty() {
            return;
        }
        self.grow(other.base, other.chunks.len());
        let off = other.base - self.base;
        for (c, o) in self.chunks[off..].iter_mut().zip(&other.chunks) {
            *c += o;
        }
    }

    /// Folds the integer part into the chunks (one term).
    fn flush_int(&mut self) {
        if self.int == 0 {
            return;
        }
        if self.pending >= LIMIT {
            self.normalise();
        }
        self.pending += 1;
        let v = self.int.unsigned_abs();
        self.add_wide(-((self.int < 0) as i64), &[v as u64, (v >> 64) as u64], (-Self::LSB) as usize);
        self.int = 0;
    }

    /// Widens the window to cover chunks `idx .. idx + w`.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, idx: usize, w: usize) {
        if self.chunks.is_empty() {
            self.base = idx;
            self.chunks = vec![0; w];
            return;
        }
        let lo = self.base.min(idx);
        let hi = (self.base + self.chunks.len()).max(idx + w);
        if lo == self.base {
            self.chunks.resize(hi - lo, 0);
            return;
        }
        let mut v = vec![0; hi - lo];
        v[self.base - lo..self.base - lo + self.chunks.len()].copy_from_slice(&self.chunks);
        self.chunks = v;
        self.base = lo;
    }

    /// Carry pass: every chunk in [0, 2^32) but the top one, which is in [−2^31, 2^31).
    pub fn normalise(&mut self) {
        self.pending = 0;
        let Some((last, rest)) = self.chunks.split_last_mut() else { return };
        let mut carry = 0i64;
        for c in rest {
            let t = *c + carry;
            *c = t & M32 as i64;
            carry = t >> 32;
        }
        let t = *last + carry;
        if (-(1 << 31)..(1 << 31)).contains(&t) {
            *last = t;
        } else {
            *last = t & M32 as i64;
            self.chunks.push(t >> 32);
        }
    }

    /// The canonical form: (grid index of the lowest chunk, chunks) with every chunk in
    /// [0, 2^32) but the top one in [−2^31, 2^31), no zero lowest chunk and no redundant
    /// top chunk. Zero is `(0, [])`.
    fn canonical(&self) -> (usize, Vec<i64>) {
        let mut c = self.clone();
        c.flush_int();
        c.normalise();
        let mut d = c.chunks;
        while d.len() >= 2 {
            let (top, below) = (d[d.len() - 1], d[d.len() - 2]);
            if top == 0 && below < 1 << 31 {
                d.pop();
            } else if top == -1 && below >= 1 << 31 {
                d.pop();
                let l = d.len();
                d[l - 1] = below - (1 << 32);
            } else {
                break;
            }
        }
        let lo = d.iter().position(|&v| v != 0).unwrap_or(d.len());
        d.drain(..lo);
        if d.is_empty() {
            return (0, d);
        }
        (c.base + lo, d)
    }

    /// True when the sum is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.canonical().1.is_empty()
    }

    /// −1, 0 or 1.
    pub fn signum(&self) -> i32 {
        match self.canonical().1.last() {
            None => 0,
            Some(&t) if t < 0 => -1,
            Some(_) => 1,
        }
    }

    /// The sum as a [`BigFixed`].
    pub fn to_big(&self) -> BigFixed {
        let (base, d) = self.canonical();
        let Some(&top) = d.last() else { return BigFixed::zero() };
        let neg = top < 0;
        let mut u: Vec<u32> = d.iter().map(|&v| v as u32).collect();
        if neg {
            let mut carry = 1u64;
            for x in &mut u {
                let t = (!*x) as u64 + carry;
                *x = t as u32;
                carry = t >> 32;
            }
        }
        let mag = u.chunks(2).map(|p| p[0] as u64 | (p.get(1).copied().unwrap_or(0) as u64) << 32).collect();
        BigFixed::from_parts(neg, mag, Self::LSB + 32 * base as i64)
    }

    /// The sum correctly rounded to the nearest double (ties to even; ±∞ beyond range).
    pub fn to_f64(&self) -> f64 {
        self.to_big().to_f64()
    }

    /// Heap bytes held by the chunk window.
    pub fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * 8
    }

    /// Appends the canonical form: varint chunk count, then (if non-zero) varint grid
    /// index and 4 little-endian bytes per chunk (the top one as i32).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let (base, d) = self.canonical();
        put_varint(out, d.len() as u64);
        if d.is_empty() {
            return;
        }
        put_varint(out, base as u64);
        for &v in &d {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
    }

    /// Reads what [`write_to`](Self::write_to) wrote and advances `buf`; Err on truncated,
    /// out-of-range or non-canonical input.
    pub fn read_from(buf: &mut &[u8]) -> Result<Self, String> {
        let len = get_varint(buf)?;
        if len == 0 {
            return Ok(Self::default());
        }
        let base = get_varint(buf)?;
        let cap = cap_chunks(K) as u64;
        if len > cap || base > cap - len {
            return Err(format!("exact: a sum spans chunks {base}+{len}, beyond the cap {cap}"));
        }
        let (len, base) = (len as usize, base as usize);
        if buf.len() < 4 * len {
            return Err("exact: truncated sum".into());
        }
        let (bytes, rest) = buf.split_at(4 * len);
        *buf = rest;
        let mut chunks: Vec<i64> =
            bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64).collect();
        let last = len - 1;
        chunks[last] = chunks[last] as u32 as i32 as i64;
        let redundant = len >= 2
            && ((chunks[last] == 0 && chunks[last - 1] < 1 << 31)
                || (chunks[last] == -1 && chunks[last - 1] >= 1 << 31));
        if chunks[0] == 0 || redundant {
            return Err("exact: non-canonical sum".into());
        }
        Ok(Self { base, chunks, pending: 0, int: 0 })
    }
}

// ---------------------------------------------------------------------------------------
// Varints.
// ---------------------------------------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for i in 0..10 {
        let Some((&b, rest)) = buf.split_first() else { return Err("exact: truncated varint".into()) };
        *buf = rest;
        if i == 9 && b > 1 {
            return Err("exact: varint overflows 64 bits".into());
        }
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err("exact: varint overflows 64 bits".into())
}

fn get_u8(buf: &mut &[u8]) -> Result<u8, String> {
    let Some((&b, rest)) = buf.split_first() else { return Err("exact: truncated state".into()) };
    *buf = rest;
    Ok(b)
}

// ---------------------------------------------------------------------------------------
// BigFixed: exact finalize arithmetic.
// ---------------------------------------------------------------------------------------

/// A signed big integer times a power of two: `±mag·2^exp`, `mag` little-endian u64
/// limbs with no zero limb at either end (zero is an empty `mag`, `exp` 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BigFixed {
    neg: bool,
    mag: Vec<u64>,
    exp: i64,
}

impl BigFixed {
    /// Zero.
    pub fn zero() -> Self {
        Self::default()
    }

    /// An unsigned integer.
    pub fn from_u128(v: u128) -> Self {
        Self::from_parts(false, vec![v as u64, (v >> 64) as u64], 0)
    }

    /// A signed integer.
    pub fn from_i128(v: i128) -> Self {
        let mut b = Self::from_u128(v.unsigned_abs());
        b.neg = v < 0 && !b.mag.is_empty();
        b
    }

    /// `±mag·2^exp`, trimmed.
    pub fn from_parts(neg: bool, mut mag: Vec<u64>, mut exp: i64) -> Self {
        while mag.last() == Some(&0) {
            mag.pop();
        }
        let low = mag.iter().take_while(|&&l| l == 0).count();
        if low == mag.len() {
            return Self::zero();
        }
        mag.drain(..low);
        exp += 64 * low as i64;
        // an odd lowest limb makes the form unique, so `==` is numeric equality
        let tz = mag[0].trailing_zeros();
        if tz > 0 {
            for i in 0..mag.len() {
                let hi = mag.get(i + 1).copied().unwrap_or(0);
                mag[i] = (mag[i] >> tz) | (hi << (64 - tz));
            }
            if mag.last() == Some(&0) {
                mag.pop();
            }
            exp += tz as i64;
        }
        Self { neg, mag, exp }
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }

    /// −1, 0 or 1.
    pub fn signum(&self) -> i32 {
        if self.mag.is_empty() {
            0
        } else if self.neg {
            -1
        } else {
            1
        }
    }

    /// `−self`.
    pub fn negated(&self) -> Self {
        let mut b = self.clone();
        b.neg = !b.neg && !b.mag.is_empty();
        b
    }

    /// Binary exponent of the highest set bit (None for zero).
    pub fn top_bit(&self) -> Option<i64> {
        (!self.mag.is_empty()).then(|| self.exp + mag_bits(&self.mag) as i64 - 1)
    }

    /// Exact product.
    pub fn mul(&self, o: &Self) -> Self {
        if self.is_zero() || o.is_zero() {
            return Self::zero();
        }
        Self::from_parts(self.neg != o.neg, mag_mul(&self.mag, &o.mag), self.exp + o.exp)
    }

    /// Exact product with an unsigned integer.
    pub fn mul_u128(&self, v: u128) -> Self {
        self.mul(&Self::from_u128(v))
    }

    /// Exact sum.
    pub fn add(&self, o: &Self) -> Self {
        if self.is_zero() {
            return o.clone();
        }
        if o.is_zero() {
            return self.clone();
        }
        let e = self.exp.min(o.exp);
        let a = mag_shl(&self.mag, (self.exp - e) as u64);
        let b = mag_shl(&o.mag, (o.exp - e) as u64);
        if self.neg == o.neg {
            return Self::from_parts(self.neg, mag_add(&a, &b), e);
        }
        match mag_cmp(&a, &b) {
            Ordering::Greater => Self::from_parts(self.neg, mag_sub(&a, &b), e),
            Ordering::Less => Self::from_parts(o.neg, mag_sub(&b, &a), e),
            Ordering::Equal => Self::zero(),
        }
    }

    /// Exact difference.
    pub fn sub(&self, o: &Self) -> Self {
        self.add(&o.negated())
    }

    /// Numeric comparison.
    pub fn cmp_value(&self, o: &Self) -> Ordering {
        self.sub(o).signum().cmp(&0)
    }

    /// Correctly rounded double (ties to even; ±∞ beyond range).
    pub fn to_f64(&self) -> f64 {
        self.to_f64_scaled(0)
    }

    /// `self·2^shift` correctly rounded, so that huge or tiny intermediates can be
    /// brought into range before the final f64 operations.
    pub fn to_f64_scaled(&self, shift: i64) -> f64 {
        round_to_f64(self.neg, &self.mag, self.exp.saturating_add(shift), false)
    }

    /// `self / (d₁·d₂·…)` correctly rounded (NaN if a divisor is zero): the quotient
    /// is computed to ≥ 66 bits by exact long division, the remainders become the
    /// sticky bit; `⌊⌊a/b⌋/c⌋ = ⌊a/(bc)⌋` makes the chain exact.
    pub fn div_to_f64(&self, divisors: &[u64]) -> f64 {
        if divisors.contains(&0) {
            return f64::NAN;
        }
        if self.is_zero() {
            return 0.0;
        }
        let dbits: u64 = divisors.iter().map(|d| 64 - d.leading_zeros() as u64).sum();
        let s = (dbits + 66).saturating_sub(mag_bits(&self.mag));
        let mut q = mag_shl(&self.mag, s);
        let mut sticky = false;
        for &d in divisors {
            let r = mag_divrem_u64(&mut q, d);
            sticky |= r != 0;
        }
        round_to_f64(self.neg, &q, self.exp - s as i64, sticky)
    }
}

fn mag_bits(a: &[u64]) -> u64 {
    match a.iter().rposition(|&l| l != 0) {
        None => 0,
        Some(i) => 64 * i as u64 + 64 - a[i].leading_zeros() as u64,
    }
}

fn mag_shl(a: &[u64], s: u64) -> Vec<u64> {
    let (limbs, bits) = ((s / 64) as usize, (s % 64) as u32);
    let mut r = vec![0u64; limbs + a.len() + 1];
    for (i, &l) in a.iter().enumerate() {
        r[limbs + i] |= l << bits;
        r[limbs + i + 1] |= (l >> 1) >> (63 - bits);
    }
    r
}

fn mag_cmp(a: &[u64], b: &[u64]) -> Ordering {
    let (la, lb) = (mag_bits(a), mag_bits(b));
    if la != lb {
        return la.cmp(&lb);
    }
    let n = a.len().max(b.len());
    for i in (0..n).rev() {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        if x != y {
            return x.cmp(&y);
        }
    }
    Ordering::Equal
}

fn mag_add(a: &[u64], b: &[u64]) -> Vec<u64> {
    let n = a.len().max(b.len());
    let mut r = Vec::with_capacity(n + 1);
    let mut carry = 0u64;
    for i in 0..n {
        let t = a.get(i).copied().unwrap_or(0) as u128 + b.get(i).copied().unwrap_or(0) as u128 + carry as u128;
        r.push(t as u64);
        carry = (t >> 64) as u64;
    }
    r.push(carry);
    r
}

/// `a − b` for `a ≥ b`.
fn mag_sub(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut r = Vec::with_capacity(a.len());
    let mut borrow = false;
    for (i, &x) in a.iter().enumerate() {
        let (t, b1) = x.overflowing_sub(b.get(i).copied().unwrap_or(0));
        let (t, b2) = t.overflowing_sub(borrow as u64);
        r.push(t);
        borrow = b1 || b2;
    }
    debug_assert!(!borrow);
    r
}

fn mag_mul(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut r = vec![0u64; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &y) in b.iter().enumerate() {
            let t = x as u128 * y as u128 + r[i + j] as u128 + carry;
            r[i + j] = t as u64;
            carry = t >> 64;
        }
        r[i + b.len()] = carry as u64;
    }
    r
}

/// `a·w` as `N + 1` limbs: [`mag_mul`]`(a, &[w])` without the heap (a weighted push
/// runs once per distinct value of a sketch batch).
#[inline(always)]
fn mul_u64<const N: usize, const M: usize>(a: &[u64; N], w: u64) -> [u64; M] {
    debug_assert_eq!(M, N + 1);
    let mut r = [0u64; M];
    let mut carry = 0u128;
    for (x, &l) in r.iter_mut().zip(a) {
        let t = u128::from(l) * u128::from(w) + carry;
        *x = t as u64;
        carry = t >> 64;
    }
    if let Some(top) = r.get_mut(N) {
        *top = carry as u64;
    }
    r
}

/// `a ← ⌊a/d⌋`, returns the remainder.
fn mag_divrem_u64(a: &mut [u64], d: u64) -> u64 {
    let mut rem = 0u128;
    for l in a.iter_mut().rev() {
        let cur = (rem << 64) | *l as u128;
        *l = (cur / d as u128) as u64;
        rem = cur % d as u128;
    }
    rem as u64
}

/// 64 bits of `a` starting at bit `pos` (zeros beyond the end).
fn bits_at(a: &[u64], pos: u64) -> u64 {
    let (i, b) = ((pos / 64) as usize, (pos % 64) as u32);
    let lo = a.get(i).copied().unwrap_or(0) >> b;
    let hi = (a.get(i + 1).copied().unwrap_or(0) << 1) << (63 - b);
    lo | hi
}

/// True if any bit of `a` below bit `pos` is set.
fn any_below(a: &[u64], pos: u64) -> bool {
    let (i, b) = ((pos / 64) as usize, (pos % 64) as u32);
    a.iter().take(i).any(|&l| l != 0) || a.get(i).is_some_and(|&l| b > 0 && l << (64 - b) != 0)
}

/// `±(mag + δ)·2^exp` rounded to nearest, ties to even, where `δ ∈ (0, 1)` if `sticky`
/// (callers with `sticky` pass ≥ 66 significant bits, so δ is below the rounding bit).
fn round_to_f64(neg: bool, mag: &[u64], exp: i64, sticky: bool) -> f64 {
    let sign = if neg { 1u64 << 63 } else { 0 };
    let len = mag_bits(mag) as i64;
    if len == 0 {
        return f64::from_bits(sign);
    }
    let top = exp.saturating_add(len - 1);
    if top > 1023 {
        return f64::from_bits(sign | 0x7ff0_0000_0000_0000);
    }
    if top < -1076 {
        return f64::from_bits(sign);
    }
    let mut lsb = (top - 52).max(-1074);
    let q = lsb - exp;
    let mut mant = if q <= 0 {
        debug_assert!(!sticky);
        mag[0] << (-q)
    } else {
        let q = q as u64;
        let m = bits_at(mag, q);
        let half = bits_at(mag, q - 1) & 1 == 1;
        let rest = sticky || any_below(mag, q - 1);
        if half && (rest || m & 1 == 1) {
            m + 1
        } else {
            m
        }
    };
    if mant == 1 << 53 {
        mant >>= 1;
        lsb += 1;
    }
    if lsb > 971 {
        return f64::from_bits(sign | 0x7ff0_0000_0000_0000);
    }
    let bits = if mant >= 1 << 52 { ((lsb + 1075) as u64) << 52 | (mant & FRAC) } else { mant };
    f64::from_bits(sign | bits)
}

// ---------------------------------------------------------------------------------------
// PowerSums: moments of one column.
// ---------------------------------------------------------------------------------------

/// Exact `n, Σx, Σx², Σx³, Σx⁴` over finite doubles; merge is exact, so every statistic
/// is bit-identical for any split and merge order.
#[derive(Clone, Debug, Default)]
pub struct PowerSums {
    n: u64,
    /// Terms since the last carry pass of all four sums.
    pending: u32,
    /// Values taken by the small-integer path since the integer parts were last flushed.
    small: u64,
    s1: ExactSum<1>,
    s2: ExactSum<2>,
    s3: ExactSum<3>,
    s4: ExactSum<4>,
}

/// Equal exact sums (the carry state does not matter).
impl PartialEq for PowerSums {
    fn eq(&self, o: &Self) -> bool {
        self.n == o.n && self.s1 == o.s1 && self.s2 == o.s2 && self.s3 == o.s3 && self.s4 == o.s4
    }
}

impl PowerSums {
    /// The empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `x`; ±∞ and NaN are skipped (not counted).
    #[inline]
    pub fn push(&mut self, x: f64) {
        let i = x as i64;
        if i as f64 == x && i.unsigned_abs() < SMALL_INT {
            // |x^k| < 2^(21k): the i128 integer parts hold SMALL_COUNT of them exactly
            self.n = self.n.saturating_add(1);
            if self.small >= SMALL_COUNT {
                self.flush_ints();
            }
            self.small += 1;
            let i2 = i * i;
            self.s1.int += i as i128;
            self.s2.int += i2 as i128;
            self.s3.int += (i2 * i) as i128;
            self.s4.int += (i2 as u128 * i2 as u128) as i128;
            return;
        }
        let Some((s, m, p)) = split(x) else { return };
        self.n = self.n.saturating_add(1);
        if m == 0 {
            return;
        }
        if self.pending >= LIMIT {
            self.normalise();
        }
        self.pending += 1;
        let m2 = m as u128 * m as u128;
        self.s1.put(p >> 5, pieces1(m, (p & 31) as u32, s));
        let p2 = 2 * p;
        self.s2.put(p2 >> 5, pieces2(m2, (p2 & 31) as u32, 0));
        let p3 = 3 * p;
        self.s3.put(p3 >> 5, pieces3(mul3(m2, m), (p3 & 31) as u32, s));
        let p4 = 4 * p;
        self.s4.put(p4 >> 5, pieces4(square4(m2), (p4 & 31) as u32));
    }

    /// Adds `x` with integer weight `w` (exactly `w·x^k`); ±∞ and NaN are skipped.
    pub fn push_weighted(&mut self, x: f64, w: u64) {
        let Some((s, m, p)) = split(x) else { return };
        if w == 0 {
            return;
        }
        self.n = self.n.saturating_add(w);
        if m == 0 {
            return;
        }
        if self.pending >= LIMIT {
            self.normalise();
        }
        self.pending += 1;
        let m2 = m as u128 * m as u128;
        let m3 = mul3(m2, m);
        let m4 = square4(m2);
        self.s1.add_wide(s, &mul_u64::<1, 2>(&[m], w), p);
        self.s2.add_wide(0, &mul_u64::<2, 3>(&[m2 as u64, (m2 >> 64) as u64], w), 2 * p);
        self.s3.add_wide(s, &mul_u64::<3, 4>(&m3, w), 3 * p);
        self.s4.add_wide(0, &mul_u64::<4, 5>(&m4, w), 4 * p);
    }

    /// Adds `other` (never modified).
    pub fn merge(&mut self, other: &PowerSums) {
        self.normalise();
        if self.small + other.small > SMALL_COUNT {
            self.flush_ints();
        }
        self.small += other.small;
        self.n = self.n.saturating_add(other.n);
        self.s1.add_raw(&other.s1);
        self.s2.add_raw(&other.s2);
        self.s3.add_raw(&other.s3);
        self.s4.add_raw(&other.s4);
        self.pending = other.pending + 2;
        if self.pending >= LIMIT {
            self.normalise();
        }
    }

    fn flush_ints(&mut self) {
        self.small = 0;
        self.s1.flush_int();
        self.s2.flush_int();
        self.s3.flush_int();
        self.s4.flush_int();
    }

    fn normalise(&mut self) {
        self.pending = 0;
        self.s1.normalise();
        self.s2.normalise();
        self.s3.normalise();
        self.s4.normalise();
    }

    /// Number of finite values (total weight).
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Σx correctly rounded.
    pub fn sum(&self) -> f64 {
        self.s1.to_f64()
    }

    /// The exact sums Σx, Σx², Σx³, Σx⁴.
    pub fn sums(&self) -> [BigFixed; 4] {
        [self.s1.to_big(), self.s2.to_big(), self.s3.to_big(), self.s4.to_big()]
    }

    /// Σx/n correctly rounded; None without values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.s1.to_big().div_to_f64(&[self.n]))
    }

    /// `n·M2 = n·S2 − S1²` (exact; M2 = Σ(x − mean)²).
    fn nm2(&self, s1: &BigFixed) -> BigFixed {
        self.s2.to_big().mul_u128(self.n as u128).sub(&s1.mul(s1))
    }

    /// Sample variance `M2/(n−1)`, correctly rounded; None for n ≤ 1 (as `Moments`).
    pub fn variance(&self) -> Option<f64> {
        if self.n <= 1 {
            return None;
        }
        let b = self.nm2(&self.s1.to_big());
        if b.signum() < 0 {
            return None;
        }
        Some(b.div_to_f64(&[self.n, self.n - 1])).filter(|v| v.is_finite())
    }

    /// DuckDB `skewness`: `√(n(n−1))/(n−2) · m3/m2^1.5 = √(n(n−1))/(n−2) · n²M3/(nM2)^1.5`;
    /// None for n ≤ 2 or zero variance (as `Moments`).
    pub fn skewness(&self) -> Option<f64> {
        let n = self.n;
        if n <= 2 {
            return None;
        }
        let [s1, s2, s3, _] = self.sums();
        let b = self.nm2(&s1);
        let v = b.top_bit().filter(|_| b.signum() > 0)?.div_euclid(2);
        let n_ = n as u128;
        let nb = BigFixed::from_u128(n_);
        let s1sq = s1.mul(&s1);
        let a = s3.mul_u128(n_ * n_).sub(&nb.mul(&s1).mul(&s2).mul_u128(3)).add(&s1sq.mul(&s1).mul_u128(2));
        let (af, bf) = (a.to_f64_scaled(-3 * v), b.to_f64_scaled(-2 * v));
        let nf = n as f64;
        let g = (nf * (nf - 1.0)).sqrt() / (nf - 2.0) * (af / (bf * bf.sqrt()));
        g.is_finite().then_some(g)
    }

    /// DuckDB `kurtosis` (excess, bias-corrected):
    /// `(n−1)/((n−2)(n−3)) · ((n+1)·m4/m2² − 3(n−1)) = (n−1)/((n−2)(n−3)) · K/(nM2)²` with
    /// `K = (n+1)·n³M4 − 3(n−1)·(nM2)²` exact, so the cancellation inside costs nothing;
    /// None for n ≤ 3 or zero variance (as `Moments`).
    pub fn kurtosis(&self) -> Option<f64> {
        let n = self.n;
        if n <= 3 {
            return None;
        }
        let [s1, s2, s3, s4] = self.sums();
        let b = self.nm2(&s1);
        let v = b.top_bit().filter(|_| b.signum() > 0)?.div_euclid(2);
        let n_ = n as u128;
        let nb = BigFixed::from_u128(n_);
        let n2 = BigFixed::from_u128(n_ * n_);
        let s1sq = s1.mul(&s1);
        let c = s4
            .mul(&n2.mul(&nb))
            .sub(&n2.mul(&s1).mul(&s3).mul_u128(4))
            .add(&nb.mul(&s1sq).mul(&s2).mul_u128(6))
            .sub(&s1sq.mul(&s1sq).mul_u128(3));
        let b2 = b.mul(&b);
        let k = c.mul_u128(n_ + 1).sub(&b2.mul_u128(3 * (n_ - 1)));
        let (kf, b2f) = (k.to_f64_scaled(-4 * v), b2.to_f64_scaled(-4 * v));
        let nf = n as f64;
        let g = (nf - 1.0) / ((nf - 2.0) * (nf - 3.0)) * (kf / b2f);
        g.is_finite().then_some(g)
    }

    /// Heap bytes held by the four sums.
    pub fn heap_bytes(&self) -> usize {
        self.s1.heap_bytes() + self.s2.heap_bytes() + self.s3.heap_bytes() + self.s4.heap_bytes()
    }

    /// Appends the canonical bytes: version 1, varint n, the four sums.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.push(1);
        put_varint(out, self.n);
        self.s1.write_to(out);
        self.s2.write_to(out);
        self.s3.write_to(out);
        self.s4.write_to(out);
    }

    /// Reads what [`write_to`](Self::write_to) wrote and advances `buf`.
    pub fn read_from(buf: &mut &[u8]) -> Result<Self, String> {
        if get_u8(buf)? != 1 {
            return Err("exact: unknown PowerSums version".into());
        }
        let n = get_varint(buf)?;
        let r = Self {
            n,
            pending: 0,
            small: 0,
            s1: ExactSum::read_from(buf)?,
            s2: ExactSum::read_from(buf)?,
            s3: ExactSum::read_from(buf)?,
            s4: ExactSum::read_from(buf)?,
        };
        // Any non-zero value makes Σx² and Σx⁴ positive; Σx and Σx³ may cancel to zero.
        let zero2 = r.s2.chunks.is_empty();
        if (n == 0 && !zero2)
            || zero2 != r.s4.chunks.is_empty()
            || (zero2 && !(r.s1.chunks.is_empty() && r.s3.chunks.is_empty()))
            || r.s2.signum() < 0
            || r.s4.signum() < 0
        {
            return Err("exact: inconsistent PowerSums".into());
        }
        Ok(r)
    }
}

/// Pearson's `r = C/√(P·Q)` from the exact `C = nΣxy − ΣxΣy` and positive `P = nΣx² − (Σx)²`,
/// `Q = nΣy² − (Σy)²`: `P·Q` is exact, C and P·Q are rounded once each after a common
/// power-of-two scaling (no overflow), then one division and one square root; within ~2 ulp,
/// clamped to [−1, 1].
pub fn pearson_of(c: &BigFixed, p: &BigFixed, q: &BigFixed) -> Option<f64> {
    let pq = p.mul(q);
    let v = pq.top_bit()?.div_euclid(2);
    let r = c.to_f64_scaled(-v) / pq.to_f64_scaled(-2 * v).sqrt();
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

// ---------------------------------------------------------------------------------------
// CoSums: Pearson of a column pair.
// ---------------------------------------------------------------------------------------

/// Exact `n, Σx, Σy, Σx², Σy², Σxy` over pairs of finite doubles.
#[derive(Clone, Debug, Default)]
pub struct CoSums {
    n: u64,
    pending: u32,
    /// Pairs taken by the small-integer path since the integer parts were last flushed.
    small: u64,
    sx: ExactSum<1>,
    sy: ExactSum<1>,
    sxx: ExactSum<2>,
    syy: ExactSum<2>,
    sxy: ExactSum<2>,
}

/// Equal exact sums (the carry state does not matter).
impl PartialEq for CoSums {
    fn eq(&self, o: &Self) -> bool {
        self.n == o.n
            && self.sx == o.sx
            && self.sy == o.sy
            && self.sxx == o.sxx
            && self.syy == o.syy
            && self.sxy == o.sxy
    }
}

impl CoSums {
    /// The empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the pair `(x, y)`; a pair with ±∞ or NaN is skipped (not counted).
    #[inline]
    pub fn push(&mut self, x: f64, y: f64) {
        let (i, j) = (x as i64, y as i64);
        if i as f64 == x && j as f64 == y && (i.unsigned_abs() | j.unsigned_abs()) < SMALL_INT {
            self.n = self.n.saturating_add(1);
            if self.small >= SMALL_COUNT {
                self.flush_ints();
            }
            self.small += 1;
            self.sx.int += i as i128;
            self.sy.int += j as i128;
            self.sxx.int += (i * i) as i128;
            self.syy.int += (j * j) as i128;
            self.sxy.int += (i * j) as i128;
            return;
        }
        let (Some((sx, mx, px)), Some((sy, my, py))) = (split(x), split(y)) else { return };
        self.n = self.n.saturating_add(1);
        if self.pending >= LIMIT {
            self.normalise();
        }
        self.pending += 1;
        if mx != 0 {
            self.sx.put(px >> 5, pieces1(mx, (px & 31) as u32, sx));
            let p = 2 * px;
            self.sxx.put(p >> 5, pieces2(mx as u128 * mx as u128, (p & 31) as u32, 0));
        }
        if my != 0 {
            self.sy.put(py >> 5, pieces1(my, (py & 31) as u32, sy));
            let p = 2 * py;
            self.syy.put(p >> 5, pieces2(my as u128 * my as u128, (p & 31) as u32, 0));
            if mx != 0 {
                let p = px + py;
                self.sxy.put(p >> 5, pieces2(mx as u128 * my as u128, (p & 31) as u32, sx ^ sy));
            }
        }
    }

    /// Adds `other` (never modified).
    pub fn merge(&mut self, other: &CoSums) {
        self.normalise();
        if self.small + other.small > SMALL_COUNT {
            self.flush_ints();
        }
        self.small += other.small;
        self.n = self.n.saturating_add(other.n);
        self.sx.add_raw(&other.sx);
        self.sy.add_raw(&other.sy);
        self.sxx.add_raw(&other.sxx);
        self.syy.add_raw(&other.syy);
        self.sxy.add_raw(&other.sxy);
        self.pending = other.pending + 2;
        if self.pending >= LIMIT {
            self.normalise();
        }
    }

    fn flush_ints(&mut self) {
        self.small = 0;
        self.sx.flush_int();
        self.sy.flush_int();
        self.sxx.flush_int();
        self.syy.flush_int();
        self.sxy.flush_int();
    }

    fn normalise(&mut self) {
        self.pending = 0;
        self.sx.normalise();
        self.sy.normalise();
        self.sxx.normalise();
        self.syy.normalise();
        self.sxy.normalise();
    }

    /// Number of pairs.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Σx/n correctly rounded; None without pairs.
    pub fn mean_x(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sx.to_big().div_to_f64(&[self.n]))
    }

    /// Σy/n correctly rounded; None without pairs.
    pub fn mean_y(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sy.to_big().div_to_f64(&[self.n]))
    }

    /// `n·Σab − Σa·Σb`, exact.
    fn co(&self, sab: &ExactSum<2>, sa: &ExactSum<1>, sb: &ExactSum<1>) -> BigFixed {
        sab.to_big().mul_u128(self.n as u128).sub(&sa.to_big().mul(&sb.to_big()))
    }

    fn sample(&self, num: BigFixed) -> Option<f64> {
        (self.n > 1).then(|| num.div_to_f64(&[self.n, self.n - 1])).filter(|v| v.is_finite())
    }

    /// Sample covariance `(n·Σxy − Σx·Σy)/(n(n−1))`, correctly rounded; None for n ≤ 1.
    pub fn covariance(&self) -> Option<f64> {
        self.sample(self.co(&self.sxy, &self.sx, &self.sy))
    }

    /// Sample variance of x, correctly rounded; None for n ≤ 1.
    pub fn var_x(&self) -> Option<f64> {
        self.sample(self.co(&self.sxx, &self.sx, &self.sx)).filter(|v| *v >= 0.0)
    }

    /// Sample variance of y, correctly rounded; None for n ≤ 1.
    pub fn var_y(&self) -> Option<f64> {
        self.sample(self.co(&self.syy, &self.sy, &self.sy)).filter(|v| *v >= 0.0)
    }

    /// Pearson `r = C/√(P·Q)` with `C = nΣxy − ΣxΣy`, `P = nΣx² − (Σx)²`,
    /// `Q = nΣy² − (Σy)²` exact and `P·Q` exact; C and P·Q are rounded once each (after a
    /// common power-of-two scaling, so no overflow), then one division and one square
    /// root: within ~2 ulp, clamped to [−1, 1]. None for n < 2 or a zero variance.
    pub fn pearson(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let p = self.co(&self.sxx, &self.sx, &self.sx);
        let q = self.co(&self.syy, &self.sy, &self.sy);
        if p.signum() <= 0 || q.signum() <= 0 {
            return None;
        }
        pearson_of(&self.co(&self.sxy, &self.sx, &self.sy), &p, &q)
    }

    /// Heap bytes held by the five sums.
    pub fn heap_bytes(&self) -> usize {
        self.sx.heap_bytes()
            + self.sy.heap_bytes()
            + self.sxx.heap_bytes()
            + self.syy.heap_bytes()
            + self.sxy.heap_bytes()
    }

    /// Appends the canonical bytes: version 1, varint n, the five sums.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.push(1);
        put_varint(out, self.n);
        self.sx.write_to(out);
        self.sy.write_to(out);
        self.sxx.write_to(out);
        self.syy.write_to(out);
        self.sxy.write_to(out);
    }

    /// Reads what [`write_to`](Self::write_to) wrote and advances `buf`.
    pub fn read_from(buf: &mut &[u8]) -> Result<Self, String> {
        if get_u8(buf)? != 1 {
            return Err("exact: unknown CoSums version".into());
        }
        let n = get_varint(buf)?;
        let r = Self {
            n,
            pending: 0,
            small: 0,
            sx: ExactSum::read_from(buf)?,
            sy: ExactSum::read_from(buf)?,
            sxx: ExactSum::read_from(buf)?,
            syy: ExactSum::read_from(buf)?,
            sxy: ExactSum::read_from(buf)?,
        };
        // Any non-zero x makes Σx² positive; Σx and Σxy may cancel to zero.
        let (zx, zy) = (r.sxx.chunks.is_empty(), r.syy.chunks.is_empty());
        if (n == 0 && !(zx && zy))
            || (zx && !r.sx.chunks.is_empty())
            || (zy && !r.sy.chunks.is_empty())
            || ((zx || zy) && !r.sxy.chunks.is_empty())
            || r.sxx.signum() < 0
            || r.syy.signum() < 0
        {
            return Err("exact: inconsistent CoSums".into());
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64* for reproducible test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                v.swap(i, self.below(i + 1));
            }
        }
    }

    /// Magnitudes 10^±range, negatives, integers, subnormals, zeros.
    fn mixed_in(n: usize, seed: u64, range: f64) -> Vec<f64> {
        let mut r = Rng(seed);
        (0..n)
            .map(|i| {
                let sign = if r.next() & 1 == 0 { 1.0 } else { -1.0 };
                sign * match i % 6 {
                    0 => 10f64.powf((r.unit() * 2.0 - 1.0) * range),
                    1 => (r.next() % 2_000_000) as f64,
                    2 => f64::from_bits(r.next() & FRAC), // subnormal
                    3 => r.unit() * 100.0,
                    4 => 0.0,
                    _ => 10f64.powf(r.unit() * 20.0 - 10.0),
                }
            })
            .collect()
    }

    fn mixed(n: usize, seed: u64) -> Vec<f64> {
        mixed_in(n, seed, 300.0)
    }

    /// Pushes `data` in `parts` random parts and merges them in a random tree.
    fn split_merge<S: Clone + Default>(
        data: &[f64],
        parts: usize,
        r: &mut Rng,
        push: impl Fn(&mut S, f64),
        merge: impl Fn(&mut S, &S),
    ) -> S {
        let mut states: Vec<S> = vec![S::default(); parts];
        for &x in data {
            push(&mut states[r.below(parts)], x);
        }
        while states.len() > 1 {
            let i = r.below(states.len());
            let b = states.swap_remove(i);
            let j = r.below(states.len());
            merge(&mut states[j], &b);
        }
        states.pop().unwrap_or_default()
    }

    fn bytes_p(s: &PowerSums) -> Vec<u8> {
        let mut v = Vec::new();
        s.write_to(&mut v);
        v
    }

    fn bytes_c(s: &CoSums) -> Vec<u8> {
        let mut v = Vec::new();
        s.write_to(&mut v);
        v
    }

    fn results_p(s: &PowerSums) -> [Option<u64>; 5] {
        [Some(s.sum()), s.mean(), s.variance(), s.skewness(), s.kurtosis()].map(|v| v.map(f64::to_bits))
    }

    fn results_c(s: &CoSums) -> [Option<u64>; 6] {
        [s.mean_x(), s.mean_y(), s.covariance(), s.var_x(), s.var_y(), s.pearson()].map(|v| v.map(f64::to_bits))
    }

    #[test]
    fn power_sums_are_identical_for_any_order_split_and_merge_tree() {
        // 1e±300: the variance overflows (None); 1e±100: every result is finite
        for (range, finite) in [(300.0, 2), (100.0, 5)] {
            let data = mixed_in(10_000, 7, range);
            let mut whole = PowerSums::new();
            data.iter().for_each(|&x| whole.push(x));
            let (b0, r0) = (bytes_p(&whole), results_p(&whole));
            assert!(r0.iter().take(finite).all(|r| r.is_some()), "{r0:?}");
            // push_weighted has no small-integer path: the two paths agree exactly
            let mut w = PowerSums::new();
            data.iter().for_each(|&x| w.push_weighted(x, 1));
            assert_eq!(bytes_p(&w), b0);
            let mut r = Rng(99);
            for round in 0..5 {
                let mut d = data.clone();
                r.shuffle(&mut d);
                for parts in [1, 3, 17] {
                    let s = split_merge(&d, parts, &mut r, |s: &mut PowerSums, x| s.push(x), |a, b| a.merge(b));
                    assert_eq!(bytes_p(&s), b0, "round {round}, {parts} parts");
                    assert_eq!(results_p(&s), r0, "round {round}, {parts} parts");
                    assert_eq!(s, whole);
                }
            }
        }
        let data = mixed(10, 7);
        // The same data as (value, weight) pairs.
        let mut w = PowerSums::new();
        w.push_weighted(data[0], 3);
        w.push_weighted(data[1], 1);
        let mut u = PowerSums::new();
        [data[0], data[1], data[0], data[0]].iter().for_each(|&x| u.push(x));
        assert_eq!(bytes_p(&w), bytes_p(&u));
    }

    #[test]
    fn weighted_power_sums_equal_big_integer_products() {
        // Σ w·x^k against BigFixed products (schoolbook multiplication, independent of the
        // chunked accumulator), with weights up to u64::MAX
        let data = mixed_in(3_000, 11, 300.0);
        let mut r = Rng(5);
        let mut ps = PowerSums::new();
        let mut oracle = [BigFixed::zero(), BigFixed::zero(), BigFixed::zero(), BigFixed::zero()];
        for (i, &x) in data.iter().enumerate() {
            let w = match i % 4 {
                0 => 1,
                1 => r.next() >> (r.next() % 64),
                2 => u64::MAX,
                _ => 2 + r.next() % 1000,
            };
            ps.push_weighted(x, w);
            let Some((s, m, p)) = split(x) else { continue };
            let xb = BigFixed::from_parts(s != 0, vec![m], p as i64 - 1074);
            let mut pow = BigFixed::from_u128(1);
            for o in &mut oracle {
                pow = pow.mul(&xb);
                *o = o.add(&pow.mul_u128(u128::from(w)));
            }
        }
        for (k, (got, want)) in ps.sums().iter().zip(&oracle).enumerate() {
            assert_eq!(got.cmp_value(want), Ordering::Equal, "sum of x^{}", k + 1);
        }
    }

    #[test]
    fn co_sums_are_identical_for_any_order_split_and_merge_tree() {
        let xs = mixed_in(10_000, 8, 100.0);
        let ys = mixed_in(10_000, 9, 100.0);
        // pairs encoded as indices so split_merge can shuffle them
        let idx: Vec<f64> = (0..xs.len()).map(|i| i as f64).collect();
        let push = |s: &mut CoSums, i: f64| s.push(xs[i as usize], ys[i as usize] + xs[i as usize] * 0.5);
        let mut whole = CoSums::new();
        idx.iter().for_each(|&i| push(&mut whole, i));
        let (b0, r0) = (bytes_c(&whole), results_c(&whole));
        assert!(r0.iter().all(|r| r.is_some()), "{r0:?}");
        let mut r = Rng(5);
        for round in 0..5 {
            let mut d = idx.clone();
            r.shuffle(&mut d);
            for parts in [1, 3, 17] {
                let s = split_merge(&d, parts, &mut r, push, |a: &mut CoSums, b| a.merge(b));
                assert_eq!(bytes_c(&s), b0, "round {round}, {parts} parts");
                assert_eq!(results_c(&s), r0, "round {round}, {parts} parts");
            }
        }
    }

    /// Python's `math.fsum` (Shewchuk's partials, correctly rounded): an independent oracle.
    fn fsum(xs: &[f64]) -> f64 {
        let mut partials: Vec<f64> = Vec::new();
        for &x0 in xs {
            let mut x = x0;
            let mut i = 0;
            for j in 0..partials.len() {
                let mut y = partials[j];
                if x.abs() < y.abs() {
                    std::mem::swap(&mut x, &mut y);
                }
                let hi = x + y;
                let lo = y - (hi - x);
                if lo != 0.0 {
                    partials[i] = lo;
                    i += 1;
                }
                x = hi;
            }
            partials.truncate(i);
            partials.push(x);
        }
        let mut n = partials.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = partials[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = partials[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }

    #[test]
    fn sums_are_exact_and_correctly_rounded() {
        let mut s = PowerSums::new();
        [1e308, 1.0, -1e308].iter().for_each(|&x| s.push(x));
        assert_eq!(s.sum(), 1.0);
        assert_eq!(s.sums()[1].to_f64(), f64::INFINITY, "Σx² = 2e616 + 1 is exact but not a double");

        // a million 0.1s: exactly 10⁶·m·2^e, rounded by Rust's (correct) u128 → f64
        let (m, e) = (0.1f64.to_bits() & FRAC | 1 << 52, (0.1f64.to_bits() >> 52) as i32 - 1075);
        let mut s = PowerSums::new();
        (0..1_000_000).for_each(|_| s.push(0.1));
        let want = (1_000_000u128 * m as u128) as f64 * 2f64.powi(e);
        assert_eq!(s.sum(), want);
        assert_ne!((0..1_000_000).map(|_| 0.1).sum::<f64>(), want, "the naive sum is off");
        assert_eq!(s.mean(), Some(0.1));

        // mixed magnitudes against fsum
        for seed in 1..20 {
            let d = mixed(2_000, seed);
            let mut s = PowerSums::new();
            d.iter().for_each(|&x| s.push(x));
            assert_eq!(s.sum().to_bits(), fsum(&d).to_bits(), "seed {seed}");
            let sq: Vec<f64> = d.iter().filter(|x| x.abs() < 1e150 && x.abs() > 1e-150).map(|x| x * x).collect();
            let mut t = ExactSum::<3>::new();
            sq.iter().for_each(|&x| {
                t.add_f64(x);
            });
            assert_eq!(t.to_f64().to_bits(), fsum(&sq).to_bits(), "seed {seed}, squares");
        }

        // subnormals and underflow: Σ of subnormals is exact, ties round to even
        let tiny = f64::from_bits(1);
        let mut t = ExactSum::<1>::new();
        (0..5).for_each(|_| {
            t.add_f64(f64::from_bits(3));
        });
        assert_eq!(t.to_f64(), f64::from_bits(15));
        let mut q = ExactSum::<2>::new();
        q.add(false, &[1], -1075).unwrap_or_default(); // exactly half the least subnormal: ties to 0
        assert_eq!(q.to_f64(), 0.0);
        q.add(false, &[1], -2000).unwrap_or_default(); // a hair above half: rounds up
        assert_eq!(q.to_f64(), tiny);
        assert!(q.add(false, &[1], -3000).is_err(), "below the grid of ExactSum<2>");
    }

    #[test]
    fn big_fixed_rounds_to_nearest_even_and_divides_exactly() {
        let b = |v: u128| BigFixed::from_u128(v);
        assert_eq!(b((1 << 53) + 1).to_f64(), (1u64 << 53) as f64);
        assert_eq!(b((1 << 53) + 3).to_f64(), ((1u64 << 53) + 4) as f64);
        assert_eq!(b(u128::MAX).to_f64(), 2f64.powi(128));
        let mut r = Rng(3);
        for _ in 0..10_000 {
            let v = (r.next() as u128 * r.next() as u128) >> r.below(120);
            assert_eq!(b(v).to_f64(), v as f64, "{v}");
            let i = v as i128 * if r.next() & 1 == 0 { 1 } else { -1 };
            assert_eq!(BigFixed::from_i128(i).to_f64_scaled(-60), i as f64 / 2f64.powi(60));
            // a < 2^53 and d < 2^53: IEEE division is the correctly rounded oracle
            let (a, d1, d2) = (r.next() >> 11, (r.next() >> 40) | 1, (r.next() >> 40) | 1);
            let q = BigFixed::from_u128(a as u128).div_to_f64(&[d1, d2]);
            let d = d1 as u128 * d2 as u128;
            if d < 1 << 53 {
                assert_eq!(q, a as f64 / d as f64, "{a}/{d}");
            }
        }
        let x = b(12345).mul(&b(1 << 100)).sub(&b(1 << 70));
        assert_eq!(x, BigFixed::from_parts(false, vec![0, (12345u64 << 36) - (1 << 6)], 0));
        assert_eq!(b(5).cmp_value(&b(7)), Ordering::Less);
        assert_eq!(b(5).sub(&b(5)), BigFixed::zero());
    }

    /// Integer data whose power sums fit in i128: the sums match i128 arithmetic, the
    /// variance matches IEEE division of exact integers (both below 2^53).
    #[test]
    fn integer_data_matches_i128_arithmetic() {
        let mut r = Rng(11);
        for round in 0..20 {
            let n = 2 + r.below(1000) as i128;
            let xs: Vec<i128> = (0..n).map(|_| r.below(2047) as i128 - 1023 + round).collect();
            let mut s = PowerSums::new();
            xs.iter().for_each(|&x| s.push(x as f64));
            let p = |k: u32| xs.iter().map(|x| x.pow(k)).sum::<i128>();
            let (s1, s2, s3, s4) = (p(1), p(2), p(3), p(4));
            let sums = s.sums();
            for (k, want) in [s1, s2, s3, s4].into_iter().enumerate() {
                assert_eq!(sums[k], BigFixed::from_i128(want), "Σx^{}", k + 1);
                assert_eq!(sums[k].to_f64(), want as f64);
            }
            let b = n * s2 - s1 * s1;
            assert_eq!(s.variance(), Some(b as f64 / (n * (n - 1)) as f64), "round {round}");
            let mut c = CoSums::new();
            let ys: Vec<i128> = xs.iter().map(|&x| (x * 7) % 1001 - 500).collect();
            xs.iter().zip(&ys).for_each(|(&x, &y)| c.push(x as f64, y as f64));
            let sy = ys.iter().sum::<i128>();
            let cxy = n * xs.iter().zip(&ys).map(|(x, y)| x * y).sum::<i128>() - s1 * sy;
            assert_eq!(c.covariance(), Some(cxy as f64 / (n * (n - 1)) as f64), "round {round}");
            assert_eq!(c.var_x(), s.variance());
            let a = n * n * s3 - 3 * n * s1 * s2 + 2 * s1 * s1 * s1;
            let c = n * n * n * s4 - 4 * n * n * s1 * s3 + 6 * n * s1 * s1 * s2 - 3 * s1.pow(4);
            let (nf, af, bf, cf) = (n as f64, a as f64, b as f64, c as f64);
            let g1 = (nf * (nf - 1.0)).sqrt() / (nf - 2.0) * af / bf.powf(1.5);
            let g2 = (nf - 1.0) / ((nf - 2.0) * (nf - 3.0)) * ((nf + 1.0) * cf / (bf * bf) - 3.0 * (nf - 1.0));
            if n > 3 {
                let (sk, ku) = (s.skewness().unwrap_or(f64::NAN), s.kurtosis().unwrap_or(f64::NAN));
                assert!((sk - g1).abs() <= 1e-13 * g1.abs().max(1e-3), "{sk} vs {g1}");
                assert!((ku - g2).abs() <= 1e-12 * g2.abs().max(1.0), "{ku} vs {g2}");
            }
        }
    }

    /// Two-pass f64 moments, an independent oracle on well-conditioned data.
    fn two_pass(xs: &[f64]) -> (f64, f64, f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let m = |k: i32| xs.iter().map(|x| (x - mean).powi(k)).sum::<f64>() / n;
        let (m2, m3, m4) = (m(2), m(3), m(4));
        let var = m2 * n / (n - 1.0);
        let g1 = (n * (n - 1.0)).sqrt() / (n - 2.0) * m3 / m2.powf(1.5);
        let g2 = (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * m4 / (m2 * m2) - 3.0 * (n - 1.0));
        (mean, var, g1, g2)
    }

    fn close(a: Option<f64>, b: f64, rel: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= rel * b.abs())
    }

    #[test]
    fn agrees_with_two_pass_on_well_conditioned_data() {
        let mut r = Rng(21);
        let xs: Vec<f64> = (0..5000).map(|_| (r.unit() * 3.0).exp() * 10.0 - 30.0).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 0.3 * x + r.unit() * 40.0).collect();
        let mut s = PowerSums::new();
        xs.iter().for_each(|&x| s.push(x));
        let (mean, var, g1, g2) = two_pass(&xs);
        assert!(close(s.mean(), mean, 1e-12) && close(s.variance(), var, 1e-12));
        assert!(close(s.skewness(), g1, 1e-12) && close(s.kurtosis(), g2, 1e-12), "{g1} {g2}");
        let mut c = CoSums::new();
        xs.iter().zip(&ys).for_each(|(&x, &y)| c.push(x, y));
        let my = ys.iter().sum::<f64>() / ys.len() as f64;
        let (sxy, syy) =
            xs.iter().zip(&ys).fold((0.0, 0.0), |a, (x, y)| (a.0 + (x - mean) * (y - my), a.1 + (y - my) * (y - my)));
        let n1 = xs.len() as f64 - 1.0;
        let r_ = sxy / (var * n1 * syy).sqrt();
        assert!(close(c.pearson(), r_, 1e-12), "{:?} vs {r_}", c.pearson());
        assert!(close(c.covariance(), sxy / n1, 1e-12) && close(c.var_x(), var, 1e-12));
        assert!(close(c.var_y(), syy / n1, 1e-12) && close(c.mean_y(), my, 1e-12));
        assert_eq!(c.mean_x(), s.mean());
        assert_eq!(c.var_x(), s.variance());
    }

    /// 1e9 + k·2^−10: the central moments are those of the integers k, scaled, so an
    /// exact oracle exists; the naive one-pass formula loses everything.
    #[test]
    fn catastrophic_cancellation_is_exact() {
        let mut r = Rng(31);
        let ks: Vec<i128> = (0..10_000).map(|_| r.below(1025) as i128 - 512).collect();
        let js: Vec<i128> = (0..10_000).map(|_| r.below(1025) as i128 - 512).collect();
        let h = 2f64.powi(-10);
        let xs: Vec<f64> = ks.iter().map(|&k| 1e9 + k as f64 * h).collect();
        let ys: Vec<f64> = ks.iter().zip(&js).map(|(&k, &j)| -2e9 + (k + j) as f64 * h).collect();
        let n = ks.len() as i128;
        let var_k = |v: &[i128]| {
            let (s1, s2) = (v.iter().sum::<i128>(), v.iter().map(|k| k * k).sum::<i128>());
            n * s2 - s1 * s1
        };
        let bx = var_k(&ks);
        let kj: Vec<i128> = ks.iter().zip(&js).map(|(k, j)| k + j).collect();
        let by = var_k(&kj);
        let cxy = n * ks.iter().zip(&kj).map(|(a, b)| a * b).sum::<i128>()
            - ks.iter().sum::<i128>() * kj.iter().sum::<i128>();
        let want_var = bx as f64 / (n * (n - 1)) as f64 * h * h;
        let mut s = PowerSums::new();
        xs.iter().for_each(|&x| s.push(x));
        assert_eq!(s.variance(), Some(want_var));
        let naive = {
            let nf = n as f64;
            let (a, b) = (xs.iter().sum::<f64>(), xs.iter().map(|x| x * x).sum::<f64>());
            (b - a * a / nf) / (nf - 1.0)
        };
        assert!((naive - want_var).abs() > 1e-3 * want_var, "naive {naive} vs {want_var}");
        let mut c = CoSums::new();
        xs.iter().zip(&ys).for_each(|(&x, &y)| c.push(x, y));
        let want_r = cxy as f64 / ((bx as f64) * (by as f64)).sqrt();
        assert!(close(c.pearson(), want_r, 4e-16), "{:?} vs {want_r}", c.pearson());
        assert_eq!(c.covariance(), Some(cxy as f64 / (n * (n - 1)) as f64 * h * h));
    }

    #[test]
    fn round_trip_and_corrupt_input() {
        let data = mixed(3000, 41);
        let mut s = PowerSums::new();
        let mut c = CoSums::new();
        data.iter().for_each(|&x| s.push(x));
        data.windows(2).for_each(|w| c.push(w[0], w[1]));
        for empty in [true, false] {
            let (s, c) = if empty { (PowerSums::new(), CoSums::new()) } else { (s.clone(), c.clone()) };
            let (bs, bc) = (bytes_p(&s), bytes_c(&c));
            let mut all = bs.clone();
            all.extend_from_slice(&bc);
            let mut buf = &all[..];
            let s2 = PowerSums::read_from(&mut buf).unwrap_or_default();
            let c2 = CoSums::read_from(&mut buf).unwrap_or_default();
            assert!(buf.is_empty());
            assert_eq!((bytes_p(&s2), results_p(&s2)), (bs.clone(), results_p(&s)));
            assert_eq!((bytes_c(&c2), results_c(&c2)), (bc.clone(), results_c(&c)));
            for cut in 0..bs.len() {
                assert!(PowerSums::read_from(&mut &bs[..cut]).is_err(), "cut at {cut}");
            }
            for cut in 0..bc.len() {
                assert!(CoSums::read_from(&mut &bc[..cut]).is_err(), "cut at {cut}");
            }
        }
        // random bytes and bit flips never panic; what parses round-trips
        let good = bytes_p(&s);
        let mut r = Rng(77);
        for i in 0..20_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let mut b = good.clone();
                let at = r.below(b.len());
                b[at] ^= 1 << r.below(8);
                b
            } else {
                let mut b: Vec<u8> = (0..r.below(64)).map(|_| r.next() as u8).collect();
                if let Some(f) = b.first_mut() {
                    *f = 1;
                }
                b
            };
            if let Ok(p) = PowerSums::read_from(&mut &bytes[..]) {
                let _ = results_p(&p);
                let back = bytes_p(&p);
                assert_eq!(back, bytes[..back.len()]);
            }
            if let Ok(p) = CoSums::read_from(&mut &bytes[..]) {
                let _ = results_c(&p);
            }
        }
        assert!(PowerSums::read_from(&mut &[1u8, 0, 0xff, 0xff, 0xff, 0xff, 0x0f][..]).is_err());
    }

    /// The None cases of `profile::stats::Moments`: variance for n ≤ 1, skewness for
    /// n ≤ 2 or m2 ≤ 0, kurtosis for n ≤ 3 or m2 ≤ 0 (mirrored here: that type is private).
    #[test]
    fn none_cases_match_moments() {
        for data in [&[][..], &[1.0], &[1.0, 2.0], &[1.0, 2.0, 4.0], &[1.0, 2.0, 4.0, 8.0], &[3.0; 5], &[0.0; 4]] {
            let mut s = PowerSums::new();
            data.iter().for_each(|&x| s.push(x));
            let n = data.len();
            let m2 = two_pass(data).1;
            assert_eq!(s.variance().is_none(), n <= 1, "{data:?}");
            assert_eq!(s.skewness().is_none(), n <= 2 || m2.is_nan() || m2 <= 0.0, "{data:?}");
            assert_eq!(s.kurtosis().is_none(), n <= 3 || m2.is_nan() || m2 <= 0.0, "{data:?}");
            assert_eq!(s.mean().is_none(), n == 0);
            let mut c = CoSums::new();
            data.iter().for_each(|&x| c.push(x, 2.0 * x));
            assert_eq!(c.pearson().is_none(), n < 2 || m2.is_nan() || m2 <= 0.0, "{data:?}");
            if c.pearson().is_some() {
                assert_eq!(c.pearson(), Some(1.0));
            }
        }
        let mut s = PowerSums::new();
        [f64::NAN, f64::INFINITY, 1.0].iter().for_each(|&x| s.push(x));
        assert_eq!(s.count(), 1);
    }

    /// ns per push against an f64 Welford-style update of the same moments (Pébay, the
    /// `Moments::push` being replaced). Run: cargo test --release --lib kernels::exact -- --ignored --nocapture
    #[test]
    #[ignore]
    fn bench_push() {
        use std::time::Instant;
        let mut r = Rng(1);
        let n = 4_000_000;
        let sets: [(&str, Vec<f64>); 3] = [
            ("lognormal", (0..n).map(|_| (r.unit() * 6.0 - 1.0).exp() * 100.0).collect()),
            ("integers", (0..n).map(|_| (r.next() % 100_000) as f64).collect()),
            ("mixed", mixed(n, 5)),
        ];
        // best of 5: the machine is shared
        let best = |f: &mut dyn FnMut()| {
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64() * 1e9 / n as f64
                })
                .fold(f64::INFINITY, f64::min)
        };
        for (name, xs) in &sets {
            let mut s = PowerSums::new();
            let tp = best(&mut || {
                s = PowerSums::new();
                xs.iter().for_each(|&x| s.push(x));
            });
            let mut c = CoSums::new();
            let tc = best(&mut || {
                c = CoSums::new();
                xs.windows(2).for_each(|w| c.push(w[0], w[1]));
            });
            let (mut k, mut mean, mut m2, mut m3, mut m4) = (0f64, 0f64, 0f64, 0f64, 0f64);
            let tw = best(&mut || {
                (k, mean, m2, m3, m4) = (0.0, 0.0, 0.0, 0.0, 0.0);
                for &x in xs {
                    let k1 = k;
                    k += 1.0;
                    let d = x - mean;
                    let dn = d / k;
                    let dn2 = dn * dn;
                    let t1 = d * dn * k1;
                    m4 += t1 * dn2 * (k * k - 3.0 * k + 3.0) + 6.0 * dn2 * m2 - 4.0 * dn * m3;
                    m3 += t1 * dn * (k - 2.0) - 3.0 * dn * m2;
                    m2 += t1;
                    mean += dn;
                }
            });
            let mut b = Vec::new();
            s.write_to(&mut b);
            let mut bc = Vec::new();
            c.write_to(&mut bc);
            println!(
                "{name:>10}: PowerSums {tp:.1} ns/push (state {} B), CoSums {tc:.1} ns/push, f64 Pébay {tw:.1} ns/push \
                 (ratio {:.1}x); heap {} B / {} B; serialized {} B / {} B [{}]",
                std::mem::size_of::<PowerSums>(),
                tp / tw,
                s.heap_bytes(),
                c.heap_bytes(),
                b.len(),
                bc.len(),
                std::hint::black_box(m4 + m3 + m2 + mean) > 0.0
            );
        }
    }
}

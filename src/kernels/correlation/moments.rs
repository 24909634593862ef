//! Exact sums behind Pearson's r (per column pair) and η (per category of a pair): `n, Σx,
//! Σy, Σx², Σy², Σxy` and `n, Σx, Σx²` held in the fixed-point superaccumulators of
//! [`crate::kernels::exact`], so merging in any order and any split gives the same sums,
//! bytes and results, bit for bit.
//!
//! The per-row work is integer arithmetic. Each batch of a numeric column is put on one
//! fixed-point grid: with `t` the top bit of its largest magnitude, a value `x` splits into
//! `X·2^u + x_lo` where `X` is an integer below 2^62 (`u = t − 62`, at least the double grid
//! 2^−1074) and `x_lo` the bits of `x` below `2^u` (zero unless `x` is more than 2^9 times
//! smaller than the largest value). A pair then adds `X·Y` into a 192-bit integer per row,
//! one batch's sums go into the superaccumulators once, and the rare rows with a low part add
//! the exact cross terms `x_hi·y_lo + x_lo·y_hi + x_lo·y_lo` (products of doubles, exact in
//! the 2^−2148 grid). Columns valid on every row of a batch share their `Σx, Σx²` across
//! pairs; only `Σxy` is per pair.
//!
//! A batch of integers below 2^31 in magnitude (the usual case) is converted in one pass, and
//! its 64-bit block sums use AVX2 where the CPU has it (`lanes`: one `vpmuldq` per 4 products);
//! integer sums are exact in any order, so every path gives the same bits.

use crate::kernels::exact::{BigFixed, ExactSum};
use crate::kernels::infer::codec::Reader;

/// `x = ±m·2^(p−1074)`: sign, integer mantissa (< 2^53), bit position p ≥ 0. None for ±∞/NaN.
#[inline]
fn split(x: f64) -> Option<(bool, u64, i64)> {
    let b = x.to_bits();
    let be = ((b >> 52) & 0x7ff) as i64;
    if be == 0x7ff {
        return None;
    }
    let frac = b & ((1 << 52) - 1);
    Some(if be == 0 { (b >> 63 == 1, frac, 0) } else { (b >> 63 == 1, frac | (1 << 52), be - 1) })
}

/// Adds the exact product `a·b·2^shift` (shift 0 or 1) of two finite doubles.
fn add_product(s: &mut ExactSum<2>, a: f64, b: f64, shift: i64) {
    let (Some((na, ma, pa)), Some((nb, mb, pb))) = (split(a), split(b)) else { return };
    let m = ma as u128 * mb as u128;
    let ok = s.add(na != nb, &[m as u64, (m >> 64) as u64], ExactSum::<2>::LSB + pa + pb + shift).is_ok();
    debug_assert!(ok, "a product of doubles lies on the grid");
}

/// A signed 192-bit integer accumulator of i128 terms.
#[derive(Clone, Copy, Default)]
struct Wide {
    lo: u128,
    hi: i64,
}

impl Wide {
    #[inline(always)]
    fn add(&mut self, p: i128) {
        let (s, c) = self.lo.overflowing_add(p as u128);
        self.lo = s;
        self.hi = self.hi.wrapping_add((p >> 127) as i64).wrapping_add(c as i64);
    }

    fn merge(&mut self, o: &Wide) {
        let (s, c) = self.lo.overflowing_add(o.lo);
        self.lo = s;
        self.hi = self.hi.wrapping_add(o.hi).wrapping_add(c as i64);
    }

    /// Adds the accumulated value times `2^unit` to `s`.
    fn fold<const K: u32>(&self, s: &mut ExactSum<K>, unit: i64) {
        let neg = self.hi < 0;
        let (lo, hi) = if neg {
            let lo = (!self.lo).wrapping_add(1);
            (lo, (!self.hi as u64).wrapping_add(u64::from(lo == 0)))
        } else {
            (self.lo, self.hi as u64)
        };
        let ok = s.add(neg, &[lo as u64, (lo >> 64) as u64, hi], unit).is_ok();
        debug_assert!(ok, "a batch sum lies on the grid");
    }
}

fn fold_i128<const K: u32>(v: i128, s: &mut ExactSum<K>, unit: i64) {
    let m = v.unsigned_abs();
    let ok = s.add(v < 0, &[m as u64, (m >> 64) as u64], unit).is_ok();
    debug_assert!(ok, "a batch sum lies on the grid");
}

/// One batch of a numeric column on its fixed-point grid.
pub(crate) struct ColumnBatch {
    /// `X` per row (0 where NULL).
    x: Vec<i64>,
    /// The value per row (0.0 where NULL); empty for a batch of small integers (see
    /// [`ColumnBatch::value`]).
    v: Vec<f64>,
    /// Rows whose value has bits below the grid, ascending, with their low part.
    low: Vec<(u32, f64)>,
    /// Exponent of the unit of `X`.
    unit: i64,
    /// `|X| < 2^bits` on every row.
    bits: u32,
}

impl ColumnBatch {
    /// The value words of a batch (`f64` bits), valid where `valid[r]` (finite, as the state's
    /// words guarantee).
    ///
    /// The grid is the coarsest that holds every value whole when one exists (integers stay
    /// integers, so their products fit in 64 bits), else the one that puts the largest value
    /// just below 2^62 (the rest may then have low parts). The sums are exact either way: the
    /// grid changes how fast they are formed, never what they are.
    pub(crate) fn new(words: &[u64], valid: &[bool]) -> Self {
        Self::of_small_integers(words, valid).unwrap_or_else(|| Self::general(words, valid))
    }

    /// [`ColumnBatch::new`] for any finite values.
    fn general(words: &[u64], valid: &[bool]) -> Self {
        let values = || words.iter().map(|&b| f64::from_bits(b));
        let (mut top, mut lowest) = (0i64, i64::MAX);
        for (x, &ok) in values().zip(valid) {
            if let Some((_, m, p)) = split(x).filter(|s| ok && s.1 != 0) {
                top = top.max(p + 64 - i64::from(m.leading_zeros()));
                lowest = lowest.min(p + i64::from(m.trailing_zeros()));
            }
        }
        let q = if lowest == i64::MAX { (top - 62).max(0) } else { (top - 62).max(lowest).max(0) };
        let mut x = vec![0i64; words.len()];
        let mut v = vec![0.0f64; words.len()];
        let mut low = Vec::new();
        for (r, (val, &ok)) in values().zip(valid).enumerate() {
            let Some((neg, m, p)) = split(val).filter(|_| ok) else { continue };
            v[r] = val;
            let d = q - p;
            let xi = if d <= 0 {
                (m << (-d)) as i64
            } else if d <= 52 {
                let hi = m >> d;
                if hi << d != m {
                    // x minus its truncation to the grid: the low bits, exact in binary64
                    let xh = f64::from_bits(val.to_bits() & !((1u64 << d) - 1));
                    low.push((r as u32, val - xh));
                }
                hi as i64
            } else {
                low.push((r as u32, val));
                0
            };
            x[r] = if neg { -xi } else { xi };
        }
        let bits = (top - q).clamp(0, 63) as u32;
        ColumnBatch { x, v, low, unit: q - 1074, bits }
    }

    /// The common case in one pass: every valid value an integer of magnitude below 2^31. Such a
    /// batch sits on the integer grid (unit 2^0) with no low parts; that grid may be finer than
    /// the coarsest (all-even values), which changes no sum.
    fn of_small_integers(words: &[u64], valid: &[bool]) -> Option<Self> {
        let mut x = vec![0i64; words.len().min(valid.len())];
        let top = lanes::small_integers(words, valid, &mut x)?;
        // `v` is read only at rows with a low part: none here.
        Some(ColumnBatch { x, v: Vec::new(), low: Vec::new(), unit: 0, bits: 64 - top.leading_zeros() })
    }

    /// The value of row r (0.0 where NULL).
    fn value(&self, r: usize) -> f64 {
        if self.v.is_empty() {
            // A batch of small integers (unit 2^0): the value is `X`, exactly.
            self.x[r] as f64
        } else {
            self.v[r]
        }
    }

    /// `n, Σx, Σx²` over the rows valid here and set in `mask` (the complete rows of a pair
    /// whose other column has validity `mask`).
    pub(crate) fn sums_over(&self, valid: &[bool], mask: &[bool]) -> GroupSums {
        let rows = self.x.len().min(valid.len()).min(mask.len());
        let (xs, ms) = (&self.x[..rows], &mask[..rows]);
        let mut g = GroupSums::default();
        let (mut s1, mut s2) = (0i128, Wide::default());
        // x is 0 where this column is NULL, so only the other side's mask is applied (as an
        // all-ones or all-zeros word).
        // |x| < 2^bits: blocks of 2^k rows sum x² in 64 bits while 2·bits + k ≤ 62.
        let lim = 62 - 2 * i64::from(self.bits);
        if lim >= 6 {
            let block = 1usize << lim.min(20);
            let narrow = self.bits <= 31;
            for (bx, bm) in xs.chunks(block).zip(ms.chunks(block)) {
                let (a1, a2) = lanes::masked_sums(bx, bm, narrow);
                s1 += i128::from(a1);
                s2.add(i128::from(a2));
            }
        } else {
            for (&xi, &k) in xs.iter().zip(ms) {
                let xi = i128::from(xi & -i64::from(k));
                s1 += xi;
                s2.add(xi * xi);
            }
        }
        g.n = valid[..rows].iter().zip(ms).filter(|(&v, &k)| v & k).count() as u64;
        fold_i128(s1, &mut g.s1, self.unit);
        s2.fold(&mut g.s2, 2 * self.unit);
        for &(r, lo) in &self.low {
            if (r as usize) < rows && valid[r as usize] && ms[r as usize] {
                g.add_low(self.value(r as usize), lo);
            }
        }
        g
    }
}

/// Exact `n, Σx, Σx²` of one group (η) or one column batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct GroupSums {
    n: u64,
    s1: ExactSum<1>,
    s2: ExactSum<2>,
}

impl GroupSums {
    /// Adds the low-part terms of a value `x = x_hi + lo`: `lo` to Σx, `2·x_hi·lo + lo²` to Σx².
    fn add_low(&mut self, x: f64, lo: f64) {
        let hi = x - lo;
        self.s1.add_f64(lo);
        add_product(&mut self.s2, hi, lo, 1);
        add_product(&mut self.s2, lo, lo, 0);
    }

    /// Adds `other` (not modified).
    pub(crate) fn merge(&mut self, o: &GroupSums) {
        self.n += o.n;
        self.s1.merge(&o.s1);
        self.s2.merge(&o.s2);
    }

    /// Number of values.
    pub(crate) fn count(&self) -> u64 {
        self.n
    }

    /// Inline plus heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.s1.heap_bytes() + self.s2.heap_bytes()
    }

    /// Count, mean and centred sum of squares, each correctly rounded from the exact sums
    /// (`M2 = (n·Σx² − (Σx)²)/n`).
    pub(crate) fn moments(&self) -> super::contingency::Moments {
        let n = self.n.max(1);
        let s1 = self.s1.to_big();
        let nm2 = self.s2.to_big().mul_u128(u128::from(n)).sub(&s1.mul(&s1));
        super::contingency::Moments {
            n: self.n as f64,
            mean: s1.div_to_f64(&[n]),
            m2: if nm2.signum() > 0 { nm2.div_to_f64(&[n]) } else { 0.0 },
        }
    }

    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.n.to_le_bytes());
        self.s1.write_to(out);
        self.s2.write_to(out);
    }

    pub(crate) fn read_from(r: &mut Reader) -> Result<Self, String> {
        let n = r.u64()?;
        let (s1, s2) = r.with_slice(|b| Ok((ExactSum::<1>::read_from(b)?, ExactSum::<2>::read_from(b)?)))?;
        if (n == 0 && !(s1.is_zero() && s2.is_zero())) || s2.signum() < 0 || (s2.is_zero() && !s1.is_zero()) {
            return Err(r.err("inconsistent sums"));
        }
        Ok(GroupSums { n, s1, s2 })
    }

    /// Adds the valid values of `b` grouped by `ids` (u32::MAX = skip) into `groups[id]`.
    pub(crate) fn add_grouped(groups: &mut [GroupSums], b: &ColumnBatch, valid: &[bool], ids: &[u32]) {
        let mut acc: Vec<(u64, i128, Wide)> = vec![(0, 0, Wide::default()); groups.len()];
        for (r, &id) in ids.iter().enumerate() {
            if id != u32::MAX && valid[r] {
                if let Some(a) = acc.get_mut(id as usize) {
                    let xi = i128::from(b.x[r]);
                    a.0 += 1;
                    a.1 += xi;
                    a.2.add(xi * xi);
                }
            }
        }
        for (g, a) in groups.iter_mut().zip(&acc) {
            if a.0 > 0 {
                g.n += a.0;
                fold_i128(a.1, &mut g.s1, b.unit);
                a.2.fold(&mut g.s2, 2 * b.unit);
            }
        }
        for &(r, lo) in &b.low {
            let r = r as usize;
            if let (Some(&id), true) = (ids.get(r), valid[r]) {
                if let Some(g) = groups.get_mut(id as usize) {
                    g.add_low(b.value(r), lo);
                }
            }
        }
    }
}

/// Exact `n, Σx, Σy, Σx², Σy², Σxy` of a numeric pair over its complete rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PairSums {
    x: GroupSums,
    y: GroupSums,
    sxy: ExactSum<2>,
}

impl PairSums {
    /// Number of complete rows.
    pub(crate) fn count(&self) -> u64 {
        self.x.n
    }

    /// Inline plus heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.x.heap_bytes() + self.y.heap_bytes() + std::mem::size_of::<ExactSum<2>>() + self.sxy.heap_bytes()
    }

    /// Adds `other` (not modified).
    pub(crate) fn merge(&mut self, o: &PairSums) {
        self.x.merge(&o.x);
        self.y.merge(&o.y);
        self.sxy.merge(&o.sxy);
    }

    /// Adds the complete rows of one batch of columns `a` and `b`, given each column's sums
    /// over those rows (`a.sums_over(va, vb)` and the mirror; a batch shares them
    /// between every pair whose other column has the same validity).
    pub(crate) fn add_batch_with(
        &mut self,
        a: &ColumnBatch,
        va: &[bool],
        sa: &GroupSums,
        b: &ColumnBatch,
        vb: &[bool],
        sb: &GroupSums,
    ) {
        self.x.merge(sa);
        self.y.merge(sb);
        // Σxy over every row: x and y are 0 where NULL, so incomplete rows add nothing.
        let mut xy = [Wide::default(); 4];
        let n = a.x.len().min(b.x.len());
        let (xs, ys) = (&a.x[..n], &b.x[..n]);
        // |xy| < 2^(bits_a + bits_b): blocks of 2^k rows sum in 64 bits while that plus k stays
        // ≤ 62 (integer columns: always).
        let lim = 62 - i64::from(a.bits) - i64::from(b.bits);
        if lim >= 6 {
            let narrow = a.bits <= 31 && b.bits <= 31;
            for (bx, by) in xs.chunks(1 << lim.min(20)).zip(ys.chunks(1 << lim.min(20))) {
                xy[0].add(i128::from(lanes::dot(bx, by, narrow)));
            }
        } else {
            let mut cx = xs.chunks_exact(4);
            let mut cy = ys.chunks_exact(4);
            for (p, q) in (&mut cx).zip(&mut cy) {
                for k in 0..4 {
                    xy[k].add(i128::from(p[k]) * i128::from(q[k]));
                }
            }
            for (p, q) in cx.remainder().iter().zip(cy.remainder()) {
                xy[0].add(i128::from(*p) * i128::from(*q));
            }
        }
        let (x0, rest) = xy.split_at_mut(1);
        for w in rest.iter() {
            x0[0].merge(w);
        }
        x0[0].fold(&mut self.sxy, a.unit + b.unit);
        // cross terms of the rows where either side has a low part
        let (mut i, mut j) = (0, 0);
        while i < a.low.len() || j < b.low.len() {
            let ra = a.low.get(i).map_or(u32::MAX, |t| t.0);
            let rb = b.low.get(j).map_or(u32::MAX, |t| t.0);
            let r = ra.min(rb);
            let la = if ra == r {
                i += 1;
                a.low[i - 1].1
            } else {
                0.0
            };
            let lb = if rb == r {
                j += 1;
                b.low[j - 1].1
            } else {
                0.0
            };
            let r = r as usize;
            if va[r] && vb[r] {
                let (ha, hb) = (a.value(r) - la, b.value(r) - lb);
                add_product(&mut self.sxy, ha, lb, 0);
                add_product(&mut self.sxy, la, hb, 0);
                add_product(&mut self.sxy, la, lb, 0);
            }
        }
    }

    /// `(n·Σxy − ΣxΣy, n·Σx² − (Σx)², n·Σy² − (Σy)²)`, exact.
    fn co(&self) -> (BigFixed, BigFixed, BigFixed) {
        let n = u128::from(self.x.n);
        let (sx, sy) = (self.x.s1.to_big(), self.y.s1.to_big());
        let c = self.sxy.to_big().mul_u128(n).sub(&sx.mul(&sy));
        let p = self.x.s2.to_big().mul_u128(n).sub(&sx.mul(&sx));
        let q = self.y.s2.to_big().mul_u128(n).sub(&sy.mul(&sy));
        (c, p, q)
    }

    /// Whether both sides vary over the complete rows.
    pub(crate) fn both_vary(&self) -> bool {
        let (_, p, q) = self.co();
        p.signum() > 0 && q.signum() > 0
    }

    /// Pearson's r from the exact C, P, Q ([`crate::kernels::exact::pearson_of`]); None for
    /// n < 2 or a constant side.
    pub(crate) fn pearson(&self) -> Option<f64> {
        if self.x.n < 2 {
            return None;
        }
        let (c, p, q) = self.co();
        if p.signum() <= 0 || q.signum() <= 0 {
            return None;
        }
        crate::kernels::exact::pearson_of(&c, &p, &q)
    }

    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        self.x.write_to(out);
        self.y.write_to(out);
        self.sxy.write_to(out);
    }

    pub(crate) fn read_from(r: &mut Reader) -> Result<Self, String> {
        let x = GroupSums::read_from(r)?;
        let y = GroupSums::read_from(r)?;
        let sxy = r.with_slice(ExactSum::<2>::read_from)?;
        if x.n != y.n || ((x.s2.is_zero() || y.s2.is_zero()) && !sxy.is_zero()) {
            return Err(r.err("inconsistent pair sums"));
        }
        Ok(PairSums { x, y, sxy })
    }
}

/// The 64-bit inner loops of one block. Integer sums are exact in any order, so the AVX2
/// versions (4 products per `vpmuldq` when every value fits in 32 bits, instead of SSE2's
/// emulated 64-bit multiplies) give the same sums as the portable ones. The caller bounds the
/// block so each total fits in 64 bits (the adds wrap: only the total has to fit).
mod lanes {
    /// `Σ x·y` over the block; `narrow`: every `|x|, |y| < 2^31`.
    #[inline]
    pub(super) fn dot(xs: &[i64], ys: &[i64], narrow: bool) -> i64 {
        #[cfg(target_arch = "x86_64")]
        if narrow && std::arch::is_x86_feature_detected!("avx2") {
            // Safety: the CPU has AVX2 (checked just above), the only requirement of `dot_avx2`.
            return unsafe { dot_avx2(xs, ys) };
        }
        let _ = narrow;
        dot_of::<false>(xs, ys)
    }

    /// `(Σ x, Σ x²)` over the rows with `mask[r]`; `narrow`: every `|x| < 2^31`.
    #[inline]
    pub(super) fn masked_sums(xs: &[i64], mask: &[bool], narrow: bool) -> (i64, i64) {
        #[cfg(target_arch = "x86_64")]
        if narrow && std::arch::is_x86_feature_detected!("avx2") {
            // Safety: the CPU has AVX2 (checked just above), the only requirement of
            // `masked_sums_avx2`.
            return unsafe { masked_sums_avx2(xs, mask) };
        }
        let _ = narrow;
        masked_sums_of::<false>(xs, mask)
    }

    /// Writes the valid values (0 elsewhere) to `x` when each is an integer of magnitude below
    /// 2^31, and returns the OR of their magnitudes; None otherwise.
    #[inline]
    pub(super) fn small_integers(words: &[u64], valid: &[bool], x: &mut [i64]) -> Option<u64> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // Safety: the CPU has AVX2 (checked just above), the only requirement of
            // `small_integers_avx2`.
            return unsafe { small_integers_avx2(words, valid, x) };
        }
        small_integers_of(words, valid, x)
    }

    #[inline(always)]
    fn small_integers_of(words: &[u64], valid: &[bool], x: &mut [i64]) -> Option<u64> {
        let (mut ok, mut top) = (true, 0u64);
        for ((&w, &k), x) in words.iter().zip(valid).zip(x.iter_mut()) {
            let v = f64::from_bits(w & 0u64.wrapping_sub(u64::from(k)));
            // Saturating cast: NaN, ±∞ and anything outside the i32 range fail the round trip.
            let i = v as i32;
            ok &= f64::from(i) == v && i != i32::MIN;
            top |= u64::from(i.unsigned_abs());
            *x = i64::from(i);
        }
        ok.then_some(top)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn small_integers_avx2(words: &[u64], valid: &[bool], x: &mut [i64]) -> Option<u64> {
        small_integers_of(words, valid, x)
    }

    /// A product of two values; `NARROW`: both fit in 32 bits (a signed 32×32→64 multiply).
    #[inline(always)]
    fn mul<const NARROW: bool>(p: i64, q: i64) -> i64 {
        if NARROW {
            i64::from(p as i32) * i64::from(q as i32)
        } else {
            p.wrapping_mul(q)
        }
    }

    #[inline(always)]
    pub(super) fn dot_of<const NARROW: bool>(xs: &[i64], ys: &[i64]) -> i64 {
        xs.iter().zip(ys).fold(0i64, |acc, (&p, &q)| acc.wrapping_add(mul::<NARROW>(p, q)))
    }

    #[inline(always)]
    pub(super) fn masked_sums_of<const NARROW: bool>(xs: &[i64], mask: &[bool]) -> (i64, i64) {
        xs.iter().zip(mask).fold((0i64, 0i64), |(a1, a2), (&x, &k)| {
            let x = x & -i64::from(k);
            (a1.wrapping_add(x), a2.wrapping_add(mul::<NARROW>(x, x)))
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) fn dot_avx2(xs: &[i64], ys: &[i64]) -> i64 {
        dot_of::<true>(xs, ys)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) fn masked_sums_avx2(xs: &[i64], mask: &[bool]) -> (i64, i64) {
        masked_sums_of::<true>(xs, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut z = seed;
        move || {
            z = z.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            z >> 11
        }
    }

    /// The AVX2 loops (where the CPU has them) and the portable ones give the same 64-bit sums,
    /// and those are the exact sums when they fit: values at the 32-bit bound, mixed signs,
    /// blocks whose totals reach 2^62 and beyond (wrapped the same way).
    #[test]
    fn wide_and_narrow_lanes_agree() {
        let mut g = rng(5);
        let top = (1i64 << 31) - 1;
        let mut cases: Vec<(Vec<i64>, Vec<i64>)> = vec![
            (vec![top; 64], vec![-top; 64]),
            (vec![-top; 1000], vec![-top; 1000]),
            ((0..777).map(|i| if i % 2 == 0 { top } else { -top }).collect(), vec![top; 777]),
            (vec![0; 5], vec![top; 5]),
            (Vec::new(), Vec::new()),
        ];
        for len in [1, 3, 4, 17, 64, 2048] {
            let x = (0..len).map(|_| (g() % (2 * top as u64 + 1)) as i64 - top).collect();
            let y = (0..len).map(|_| (g() % 2001) as i64 - 1000).collect();
            cases.push((x, y));
        }
        for (x, y) in &cases {
            let exact: i128 = x.iter().zip(y).map(|(&a, &b)| i128::from(a) * i128::from(b)).sum();
            let d = lanes::dot(x, y, true);
            assert_eq!(d, lanes::dot_of::<false>(x, y));
            assert_eq!(d, exact as i64, "the same sum modulo 2^64");
            if exact.abs() < 1 << 62 {
                assert_eq!(i128::from(d), exact);
            }
            let mask: Vec<bool> = (0..x.len()).map(|_| g() % 3 != 0).collect();
            let (s1, s2) = lanes::masked_sums(x, &mask, true);
            assert_eq!((s1, s2), lanes::masked_sums_of::<false>(x, &mask));
            let e1: i128 = x.iter().zip(&mask).filter(|t| *t.1).map(|t| i128::from(*t.0)).sum();
            let e2: i128 = x.iter().zip(&mask).filter(|t| *t.1).map(|t| i128::from(*t.0) * i128::from(*t.0)).sum();
            assert_eq!((i128::from(s1), s2), (e1, e2 as i64));
        }
    }

    /// Batches of small integers (the one-pass grid) give the same sums as the general grid.
    #[test]
    fn small_integer_batches_match_the_general_grid() {
        let mut g = rng(9);
        let top = (1i64 << 31) - 1;
        let columns: Vec<Vec<f64>> = vec![
            (0..2048).map(|_| (g() % 4001) as f64 - 2000.0).collect(),
            (0..2048).map(|_| ((g() % 1000) * 2) as f64).collect(),
            (0..2048).map(|i| if i % 3 == 0 { top as f64 } else { -(top as f64) }).collect(),
            (0..2048).map(|_| (g() % (1 << 20)) as f64).collect(),
            vec![0.0; 2048],
        ];
        let valid: Vec<Vec<bool>> =
            (0..columns.len()).map(|c| (0..2048).map(|_| c == 4 || g() % 5 != 0).collect()).collect();
        let words: Vec<Vec<u64>> = columns
            .iter()
            .zip(&valid)
            .map(|(x, v)| x.iter().zip(v).map(|(x, &v)| if v { (x + 0.0).to_bits() } else { 0 }).collect())
            .collect();
        let fast: Vec<ColumnBatch> = words.iter().zip(&valid).map(|(w, v)| ColumnBatch::new(w, v)).collect();
        let slow: Vec<ColumnBatch> = words.iter().zip(&valid).map(|(w, v)| ColumnBatch::general(w, v)).collect();
        assert!(fast.iter().all(|b| b.unit == 0 && b.low.is_empty() && b.v.is_empty()));
        for i in 0..columns.len() {
            for j in 0..columns.len() {
                let pair = |b: &[ColumnBatch]| {
                    let (sa, sb) = (b[i].sums_over(&valid[i], &valid[j]), b[j].sums_over(&valid[j], &valid[i]));
                    let mut p = PairSums::default();
                    p.add_batch_with(&b[i], &valid[i], &sa, &b[j], &valid[j], &sb);
                    p
                };
                assert_eq!(pair(&fast), pair(&slow), "pair {i} {j}");
            }
        }
        // Not small integers: the general grid.
        for x in [0.5f64, 2147483648.0, -2147483648.0, 1e300] {
            let b = ColumnBatch::new(&[x.to_bits(), 1f64.to_bits()], &[true, true]);
            assert!(!b.v.is_empty(), "{x}: the general grid");
        }
    }
}

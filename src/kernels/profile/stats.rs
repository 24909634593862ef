//! Finalize-time statistics over a sorted, weighted value list `(value, count)`: in exact
//! mode the list is the whole value→count map, in sketch mode the list derived from the
//! quantile buckets (`sketch::BucketQuantiles::weighted_items`), so MAD, outlier counts
//! and the histogram share one code path.
//!
//! - Quantiles: DuckDB `quantile_cont` — position `q·(n−1)`, linear interpolation
//!   `lo·(1 − d) + hi·d` between the neighbouring order statistics (Hyndman & Fan
//!   type 7; DuckDB's `CastInterpolation` for doubles, which keeps ±∞ endpoints).
//! - Moments: two-pass central moments in exact mode (sketch mode uses the exact power
//!   sums of `kernels::exact`). Skewness and kurtosis use DuckDB's estimators:
//!   `g1 = √(n(n−1))/(n−2) · m3/m2^1.5` and
//!   `g2 = (n−1)/((n−2)(n−3)) · ((n+1)·m4/m2² − 3(n−1))` with `m_k` the biased central
//!   moments; NULL for n ≤ 2 (skewness), n ≤ 3 (kurtosis) or zero variance, as DuckDB.
//! - Modified z-score outliers: Iglewicz & Hoaglin (1993), |0.6745·(x − median)/MAD| > 3.5.
//! - Benford: first significant digit; χ² against log10(1 + 1/d) with 8 degrees of
//!   freedom, p-value = Q(4, χ²/2) = e^{−x}(1 + x + x²/2 + x³/6) (closed form for even df).
//! - Shannon entropy in bits, as DuckDB's `entropy`: −Σ p·log2 p over value counts.

/// `quantile_cont(q)` over `n` values whose value at 0-based rank `r` is `at(r)`; None when
/// empty. Position `q·(n−1)`, linear interpolation between the neighbouring ranks.
pub fn quantile_cont(n: u64, q: f64, at: impl Fn(u64) -> f64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let rn = q * (n - 1) as f64;
    let lo_r = rn.floor();
    let hi_r = rn.ceil();
    let lo = at(lo_r as u64);
    if lo_r == hi_r {
        return Some(lo);
    }
    let hi = at(hi_r as u64);
    if lo == hi {
        return Some(lo);
    }
    // DuckDB's double interpolation: keeps ±∞ endpoints finite-safe (no ∞ − ∞).
    let d = rn - lo_r;
    Some(lo * (1.0 - d) + hi * d)
}

/// A sorted weighted list with cumulative counts.
pub struct Dist {
    items: Vec<(f64, u64)>,
    cum: Vec<u64>,
    n: u64,
}

impl Dist {
    /// `items` must be sorted by value and contain no NaN.
    pub fn new(items: Vec<(f64, u64)>) -> Self {
        let mut cum = Vec::with_capacity(items.len());
        let mut acc = 0u64;
        for &(_, c) in &items {
            acc += c;
            cum.push(acc);
        }
        Dist { items, cum, n: acc }
    }

    /// Total weight.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The items.
    pub fn items(&self) -> &[(f64, u64)] {
        &self.items
    }

    /// Value at 0-based rank `r` of the expanded multiset.
    fn at(&self, r: u64) -> f64 {
        let i = self.cum.partition_point(|&c| c <= r);
        self.items[i.min(self.items.len() - 1)].0
    }

    /// `quantile_cont(q)`; None when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        quantile_cont(self.n, q, |r| self.at(r))
    }

    /// Number of values strictly below `lo` or strictly above `hi`.
    pub fn count_outside(&self, lo: f64, hi: f64) -> u64 {
        let below = self.items.partition_point(|&(v, _)| v < lo);
        let above = self.items.partition_point(|&(v, _)| v <= hi);
        let b = if below == 0 { 0 } else { self.cum[below - 1] };
        let a = if above == 0 { 0 } else { self.cum[above - 1] };
        b + (self.n - a)
    }

    /// Median absolute deviation around `median` (`quantile_cont(|x − median|, 0.5)`).
    pub fn mad(&self, median: f64) -> Option<f64> {
        let mut dev: Vec<(f64, u64)> = self.items.iter().map(|&(v, c)| ((v - median).abs(), c)).collect();
        dev.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        Dist::new(dev).quantile(0.5)
    }
}

/// Equal-width histogram of the finite items between `min` and `max` (finite).
pub fn histogram(items: &[(f64, u64)], min: f64, max: f64, bins: usize) -> Vec<(f64, f64, u64)> {
    let bins = bins.max(1);
    let total: u64 = items.iter().filter(|x| x.0.is_finite()).map(|x| x.1).sum();
    if min >= max {
        return vec![(min, max, total)];
    }
    // Halves keep max − min finite at ±1e308.
    let half_span = max * 0.5 - min * 0.5;
    let width = half_span / bins as f64 * 2.0;
    let mut counts = vec![0u64; bins];
    for &(v, c) in items {
        if !v.is_finite() {
            continue;
        }
        let t = (v * 0.5 - min * 0.5) / half_span * bins as f64;
        let i = if t.is_nan() || t < 0.0 { 0 } else { (t as usize).min(bins - 1) };
        counts[i] += c;
    }
    (0..bins)
        .map(|i| {
            let lo = min + width * i as f64;
            let hi = if i + 1 == bins { max } else { min + width * (i + 1) as f64 };
            (lo, hi, counts[i])
        })
        .collect()
}

/// One bar per histogram bin, `▁..█` scaled to the fullest bin; an empty bin is a space.
pub fn sparkline(hist: &[(f64, f64, u64)]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = hist.iter().map(|b| b.2).max().unwrap_or(0);
    hist.iter()
        .map(|b| {
            if b.2 == 0 || max == 0 {
                ' '
            } else {
                let l = ((b.2 as f64 / max as f64) * 8.0).ceil() as usize;
                BARS[l.clamp(1, 8) - 1]
            }
        })
        .collect()
}

/// Weighted central moments up to order 4 (two-pass, from a sorted weighted list).
#[derive(Clone, Copy, Default, Debug)]
pub struct Moments {
    /// Total weight.
    pub n: f64,
    /// Mean.
    pub mean: f64,
    /// Σ (x − mean)^2.
    pub m2: f64,
    /// Σ (x − mean)^3.
    pub m3: f64,
    /// Σ (x − mean)^4.
    pub m4: f64,
}

impl Moments {
    /// Two-pass moments of a sorted weighted list of finite values, given the mean.
    pub fn two_pass(items: &[(f64, u64)], mean: f64) -> Moments {
        let mut m = Moments { mean, ..Default::default() };
        for &(v, c) in items {
            let w = c as f64;
            let d = v - mean;
            let d2 = d * d;
            m.n += w;
            m.m2 += w * d2;
            m.m3 += w * d2 * d;
            m.m4 += w * d2 * d2;
        }
        m
    }

    /// Sample variance (NULL for n < 2).
    pub fn variance(&self) -> Option<f64> {
        (self.n >= 2.0).then(|| self.m2 / (self.n - 1.0)).filter(|v| v.is_finite())
    }

    /// DuckDB `skewness`.
    pub fn skewness(&self) -> Option<f64> {
        let n = self.n;
        if n <= 2.0 || self.m2 <= 0.0 {
            return None;
        }
        let m2 = self.m2 / n;
        let m3 = self.m3 / n;
        let g = (n * (n - 1.0)).sqrt() / (n - 2.0) * m3 / m2.powf(1.5);
        g.is_finite().then_some(g)
    }

    /// DuckDB `kurtosis` (excess, bias-corrected).
    pub fn kurtosis(&self) -> Option<f64> {
        let n = self.n;
        if n <= 3.0 || self.m2 <= 0.0 {
            return None;
        }
        let m2 = self.m2 / n;
        let m4 = self.m4 / n;
        let g = (n - 1.0) * ((n + 1.0) * m4 / (m2 * m2) - 3.0 * (n - 1.0)) / ((n - 2.0) * (n - 3.0));
        g.is_finite().then_some(g)
    }
}

/// Neumaier-compensated sum.
#[derive(Clone, Copy, Default, Debug)]
pub struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    /// Adds `x`.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    /// The compensated total.
    pub fn value(&self) -> f64 {
        self.s + self.c
    }
}

/// 10^0 ..= 10^19, every power of ten a u64 holds.
const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// First significant digit of a non-zero integer magnitude.
pub fn lead_digit_u128(mut v: u128) -> Option<u8> {
    if v == 0 {
        return None;
    }
    if let Ok(s) = u64::try_from(v) {
        // One division by the largest power of ten ≤ s (a loop of divisions by 10 costs
        // ~30 cycles each, per value, in sketch mode).
        return Some((s / POW10_U64[s.ilog10() as usize]) as u8);
    }
    while v >= 1_000_000 {
        v /= 1_000_000;
    }
    while v >= 10 {
        v /= 10;
    }
    Some(v as u8)
}

/// 10^-308 ..= 10^308, each correctly rounded (parsed once).
fn pow10_table() -> &'static [f64] {
    static T: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    T.get_or_init(|| (-308..=308).map(|e| format!("1e{e}").parse::<f64>().unwrap_or(f64::NAN)).collect())
}

/// First significant digit of a finite non-zero double (correct for |x| < 1): the first
/// digit of its shortest round-trip decimal form, so 0.3 (stored as 0.2999…) counts as 3.
pub fn lead_digit_f64(x: f64) -> Option<u8> {
    if !x.is_finite() || x == 0.0 {
        return None;
    }
    let a = x.abs();
    // `(a as u64) as f64 == a` is `a.fract() == 0.0` here, without the `trunc` library call
    if a < 9.0e15 && (a as u64) as f64 == a {
        return lead_digit_u128(a as u128);
    }
    if (1e-300..1e300).contains(&a) {
        // Fast path: scale into [1, 10) by a correctly rounded power of ten picked from
        // the binary exponent; trust it unless within 1e-12 of a digit boundary.
        let e2 = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        // floor(e2 · log10 2), exactly, for |e2| ≤ 2620 (Ryu's log10Pow2; checked over
        // every exponent in `tests::integer_log10_of_powers_of_two`)
        let mut e10 = (e2 * 78913) >> 18;
        let table = pow10_table();
        let p = |e: i32| table[(e + 308).clamp(0, 616) as usize];
        let mut m = a / p(e10);
        if m >= 10.0 {
            e10 += 1;
            m = a / p(e10);
        } else if m < 1.0 {
            e10 -= 1;
            m = a / p(e10);
        }
        // m > 0: truncation is the floor (saturating far above 9, which fails the check)
        let f = f64::from(m as u32);
        if (1.0..=9.0).contains(&f) && m - f > 1e-12 * m && (f + 1.0) - m > 1e-12 * m {
            return Some(f as u8);
        }
    }
    // `{:e}` gives the shortest round-trip digits; written to the stack, no allocation.
    use std::io::Write;
    let mut buf = [0u8; 40];
    let mut w = &mut buf[..];
    write!(w, "{:e}", a).ok()?;
    Some(buf[0]).filter(|b| (b'1'..=b'9').contains(b)).map(|b| b - b'0')
}

/// Benford summary: digit frequencies, χ² and p-value.
pub fn benford(counts: &[u64; 9]) -> Option<super::Benford> {
    let n: u64 = counts.iter().sum();
    if n < 100 {
        return None;
    }
    let nf = n as f64;
    let mut freq = [0.0; 9];
    let mut chi2 = 0.0;
    for d in 0..9 {
        freq[d] = counts[d] as f64 / nf;
        let e = nf * (1.0 + 1.0 / (d as f64 + 1.0)).log10();
        let o = counts[d] as f64;
        chi2 += (o - e) * (o - e) / e;
    }
    let x = chi2 / 2.0;
    let p = (-x).exp() * (1.0 + x + x * x / 2.0 + x * x * x / 6.0);
    Some(super::Benford { digit_freq: freq, chi2, p_value: p.clamp(0.0, 1.0) })
}

/// Shannon entropy (bits) of a count distribution with total `n`.
pub fn entropy(counts: impl Iterator<Item = u64>, n: u64) -> f64 {
    let nf = n as f64;
    let mut h = 0.0;
    for c in counts {
        if c > 0 {
            let p = c as f64 / nf;
            h -= p * p.log2();
        }
    }
    h.max(0.0)
}

/// The `Aa9` shape of a string: upper-case letters → `A`, other letters → `a`, digits →
/// `9`, runs of one class collapsed, other characters kept; capped at 64 characters.
pub fn pattern(s: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; PATTERN_BYTES];
    let n = pattern_buf(s, &mut buf);
    buf[..n].to_vec()
}

/// Longest pattern in bytes: 64 classes of ≤ 4 bytes, then `…`.
pub const PATTERN_BYTES: usize = 64 * 4 + 3;

/// [`pattern`] into `buf`, returning its length: without allocating, and byte by byte for
/// ASCII text (for ASCII the classes below are exactly these byte ranges).
pub fn pattern_buf(s: &[u8], buf: &mut [u8; PATTERN_BYTES]) -> usize {
    if !s.is_ascii() {
        let p = pattern_chars(s);
        let n = p.len().min(PATTERN_BYTES);
        buf[..n].copy_from_slice(&p[..n]);
        return n;
    }
    // Without branches on the data (random letters and digits mispredict): every class is
    // written at `len`, which advances unless it continues a run. Each ASCII class is one
    // byte, so `len` counts the classes. `last` starts at 0, which never collapses (only
    // `9`, `A` and `a` do). `keep` is computed with non-short-circuit `|` from a table, so
    // that it compiles to flag arithmetic instead of a data-dependent branch.
    let mut len = 0usize;
    let mut last = 0u8;
    if s.len() <= 64 {
        // at most 64 classes: the cap cannot be reached, so the loop needs no exit test
        // (`len` < 64 at every write, so the mask never changes the index)
        for &b in s {
            let class = ASCII_CLASS[b as usize];
            let keep = (class != last) | !ASCII_RUNS[b as usize];
            buf[len & 0xff] = class;
            len += usize::from(keep);
            last = class;
        }
        return len;
    }
    for &b in s {
        let class = ASCII_CLASS[b as usize];
        let keep = (class != last) | !ASCII_RUNS[b as usize];
        if len == 64 && keep {
            buf[len..len + 3].copy_from_slice("…".as_bytes());
            return len + 3;
        }
        buf[len & 0xff] = class;
        len += usize::from(keep);
        last = class;
    }
    len
}

/// Whether the class of each ASCII byte collapses in runs (`9`, `A`, `a`).
static ASCII_RUNS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = matches!(i as u8, b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z');
        i += 1;
    }
    t
};

/// The pattern class of each ASCII byte (non-ASCII bytes map to themselves, unused).
static ASCII_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' => b'9',
            b'A'..=b'Z' => b'A',
            b'a'..=b'z' => b'a',
            _ => b,
        };
        i += 1;
    }
    t
};

/// [`pattern`] by characters (any UTF-8, invalid bytes rendered lossily).
fn pattern_chars(s: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(s);
    let mut out = String::new();
    let mut last: Option<char> = None;
    let mut len = 0usize;
    for ch in text.chars() {
        let class = if ch.is_ascii_digit() || ch.is_numeric() {
            '9'
        } else if ch.is_uppercase() {
            'A'
        } else if ch.is_alphabetic() {
            'a'
        } else {
            ch
        };
        if matches!(class, '9' | 'A' | 'a') && last == Some(class) {
            continue;
        }
        last = Some(class);
        if len == 64 {
            out.push('…');
            break;
        }
        out.push(class);
        len += 1;
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_patterns_match_the_character_path() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut buf = [0u8; PATTERN_BYTES];
        for len in 0..300usize {
            for _ in 0..20 {
                let s: Vec<u8> = (0..len)
                    .map(|_| {
                        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let b = (rng >> 33) as u8 & 0x7f;
                        // mostly letters and digits, so runs and the 64-class cap both occur
                        if b % 3 == 0 {
                            b"aZ9 -"[(b as usize / 3) % 5]
                        } else {
                            b
                        }
                    })
                    .collect();
                let n = pattern_buf(&s, &mut buf);
                assert_eq!(&buf[..n], &pattern_chars(&s)[..], "{:?}", String::from_utf8_lossy(&s));
            }
        }
        let long = "x1".repeat(100);
        assert_eq!(pattern(long.as_bytes()).len(), 64 + 3);
        assert!(pattern(long.as_bytes()).ends_with("…".as_bytes()));
    }

    #[test]
    fn quantile_cont_interpolates_like_duckdb() {
        // duckdb: quantile_cont([1,2,3,10], 0.25) = 1.75, 0.5 = 2.5, 0.9 = 7.9
        let d = Dist::new(vec![(1.0, 1), (2.0, 1), (3.0, 1), (10.0, 1)]);
        assert_eq!(d.quantile(0.25), Some(1.75));
        assert_eq!(d.quantile(0.5), Some(2.5));
        assert!((d.quantile(0.9).unwrap() - 7.9).abs() < 1e-12);
        assert_eq!(d.mad(2.5), Some(1.0));
        // weighted: [1,1,1,5] → median 1
        let w = Dist::new(vec![(1.0, 3), (5.0, 1)]);
        assert_eq!(w.quantile(0.5), Some(1.0));
        assert_eq!(w.count_outside(1.0, 4.0), 1);
    }

    #[test]
    fn integer_log10_of_powers_of_two() {
        for e2 in -1100i32..=1100 {
            let want = (f64::from(e2) * std::f64::consts::LOG10_2).floor() as i32;
            assert_eq!((e2 * 78913) >> 18, want, "2^{e2}");
        }
    }

    #[test]
    fn lead_digits_are_first_significant() {
        assert_eq!(lead_digit_f64(0.00345), Some(3));
        assert_eq!(lead_digit_f64(0.3), Some(3), "0.3 is stored as 0.29999…");
        assert_eq!(lead_digit_f64(2.9999999999), Some(2));
        assert_eq!(lead_digit_f64(1e23), Some(1), "1e23 is stored as 9.99999…e22");
        assert_eq!(lead_digit_f64(200.0), Some(2));
        assert_eq!(lead_digit_f64(-7.25e-200), Some(7));
        for i in 1..10_000 {
            let x = i as f64 * 0.001 + 1e-9;
            assert_eq!(lead_digit_f64(x), format!("{:e}", x).bytes().next().map(|b| b - b'0'), "{x}");
        }
        assert_eq!(lead_digit_f64(-0.9), Some(9));
        assert_eq!(lead_digit_f64(5e-324), Some(5));
        assert_eq!(lead_digit_f64(1.7e308), Some(1));
        assert_eq!(lead_digit_f64(0.0), None);
        assert_eq!(lead_digit_u128(u128::MAX), Some(3));
        assert_eq!(lead_digit_u128(7), Some(7));
    }

    #[test]
    fn benford_p_value_matches_chi2_sf() {
        // Exact Benford proportions → χ² ≈ 0, p ≈ 1. scipy.stats.chi2.sf(15.507, 8) = 0.05.
        let x: f64 = 15.507 / 2.0;
        let p = (-x).exp() * (1.0 + x + x * x / 2.0 + x * x * x / 6.0);
        assert!((p - 0.05).abs() < 1e-4);
        let uniform = [100u64; 9];
        let b = benford(&uniform).unwrap();
        assert!(b.chi2 > 100.0 && b.p_value < 1e-10);
    }

    #[test]
    fn patterns_collapse_runs() {
        assert_eq!(pattern(b"AB-123 xyZ"), b"A-9 aA".to_vec());
        assert_eq!(pattern(b""), b"".to_vec());
        assert_eq!(pattern("Ünïcode 42".as_bytes()), "Aa 9".as_bytes().to_vec());
    }

    #[test]
    fn histogram_survives_double_extremes() {
        let items = vec![(-1e308, 1), (0.0, 2), (1e308, 1)];
        let h = histogram(&items, -1e308, 1e308, 20);
        assert_eq!(h.len(), 20);
        assert_eq!(h.iter().map(|b| b.2).sum::<u64>(), 4);
        assert_eq!(h[0].2, 1);
        assert_eq!(h[10].2, 2);
        assert_eq!(h[19].2, 1);
        assert_eq!(h[19].1, 1e308);
        assert_eq!(sparkline(&h).chars().count(), 20);
    }
}

//! Measures from contingency tables and grouped moments: χ² / Cramér's V, Theil's U,
//! normalised mutual information, and the correlation ratio η.
//!
//! - χ² test of independence without Yates' continuity correction (scipy
//!   `chi2_contingency(..., correction=False)`), dof = (r−1)(k−1), p = Q(dof/2, χ²/2).
//! - Cramér's V with the bias correction of W. Bergsma, "A bias-correction for Cramér's V
//!   and Tschuprow's T", J. Korean Stat. Soc. 42(3), 2013, eq. (3)–(4):
//!   φ̃² = max(0, φ² − (k−1)(r−1)/(n−1)), r̃ = r − (r−1)²/(n−1), k̃ = k − (k−1)²/(n−1),
//!   Ṽ = √(φ̃² / min(k̃−1, r̃−1)).
//! - Theil's uncertainty coefficient U(Y|X) = I(X;Y) / H(Y) (Theil 1970), natural logs.
//! - Normalised mutual information: I(X;Y) / ((H(X)+H(Y))/2) (the "arithmetic"
//!   normalisation, scikit-learn's default).
//! - Correlation ratio η = √(SS_between / SS_total) (Pearson 1903) with the one-way
//!   ANOVA F test, p = F_sf(k−1, n−k) (scipy `f_oneway`).

// NaN-safe `!(x > 0.0)` tests and index loops over parallel arrays are intended.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

use super::special;
use super::HashMap;

/// A contingency table in dense form: `cells[i * cols + j]` counts row value i, column value j.
pub struct Table {
    /// Number of distinct row values.
    pub rows: usize,
    /// Number of distinct column values.
    pub cols: usize,
    /// Dense counts, row-major.
    pub cells: Vec<u64>,
}

impl Table {
    /// Builds a dense table from sparse counts keyed by (row value, column value) hashes.
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a (u64, u64), &'a u64)> + Clone) -> Table {
        let mut ra: HashMap<u64, usize> = HashMap::default();
        let mut ca: HashMap<u64, usize> = HashMap::default();
        let mut keys: Vec<(u64, u64, u64)> = pairs.map(|(&(a, b), &c)| (a, b, c)).collect();
        keys.sort_unstable();
        for &(a, b, _) in &keys {
            let l = ra.len();
            ra.entry(a).or_insert(l);
            let l = ca.len();
            ca.entry(b).or_insert(l);
        }
        let (rows, cols) = (ra.len(), ca.len());
        let mut cells = vec![0u64; rows * cols];
        for &(a, b, c) in &keys {
            if let (Some(&i), Some(&j)) = (ra.get(&a), ca.get(&b)) {
                cells[i * cols + j] += c;
            }
        }
        Table { rows, cols, cells }
    }

    fn margins(&self) -> (Vec<f64>, Vec<f64>, f64) {
        let mut r = vec![0.0; self.rows];
        let mut c = vec![0.0; self.cols];
        for i in 0..self.rows {
            for j in 0..self.cols {
                let v = self.cells[i * self.cols + j] as f64;
                r[i] += v;
                c[j] += v;
            }
        }
        let n = r.iter().sum();
        (r, c, n)
    }
}

/// χ² test and Cramér's V of a table.
#[derive(Debug, Clone, Copy)]
pub struct ChiSquare {
    /// Pearson's χ² statistic (no continuity correction).
    pub chi2: f64,
    /// Degrees of freedom (r−1)(k−1).
    pub dof: f64,
    /// Upper-tail p-value.
    pub p_value: f64,
    /// Bias-corrected Cramér's V (Bergsma 2013), None when the correction's denominator
    /// is not positive (too few rows).
    pub v_corrected: Option<f64>,
}

/// χ² independence test of `t`; None when a side has fewer than 2 values.
pub fn chi_square(t: &Table) -> Option<ChiSquare> {
    if t.rows < 2 || t.cols < 2 {
        return None;
    }
    let (r, c, n) = t.margins();
    let mut chi2 = 0.0;
    for i in 0..t.rows {
        for j in 0..t.cols {
            let e = r[i] * c[j] / n;
            let d = t.cells[i * t.cols + j] as f64 - e;
            chi2 += d * d / e;
        }
    }
    let (rf, kf) = (t.rows as f64, t.cols as f64);
    let dof = (rf - 1.0) * (kf - 1.0);
    let p_value = special::chi2_sf(chi2, dof);
    let phi2 = chi2 / n;
    let v_corrected = if n > 1.0 {
        let phi2c = (phi2 - (kf - 1.0) * (rf - 1.0) / (n - 1.0)).max(0.0);
        let rc = rf - (rf - 1.0).powi(2) / (n - 1.0);
        let kc = kf - (kf - 1.0).powi(2) / (n - 1.0);
        let den = (kc - 1.0).min(rc - 1.0);
        if den > 0.0 {
            Some((phi2c / den).sqrt().min(1.0))
        } else {
            None
        }
    } else {
        None
    };
    Some(ChiSquare { chi2, dof, p_value, v_corrected })
}

fn entropy(counts: impl Iterator<Item = f64>, n: f64) -> f64 {
    let mut h = 0.0;
    for c in counts {
        if c > 0.0 {
            let p = c / n;
            h -= p * p.ln();
        }
    }
    h
}

/// Entropies of a table: (H(row), H(col), H(row, col)), natural logs.
pub fn entropies(t: &Table) -> (f64, f64, f64) {
    let (r, c, n) = t.margins();
    let hr = entropy(r.into_iter(), n);
    let hc = entropy(c.into_iter(), n);
    let hj = entropy(t.cells.iter().map(|&v| v as f64), n);
    (hr, hc, hj)
}

/// Theil's U in both directions: (U(col | row), U(row | col)); a direction is None when
/// the predicted side has zero entropy (constant).
pub fn theils_u(t: &Table) -> (Option<f64>, Option<f64>) {
    let (hr, hc, hj) = entropies(t);
    let mi = (hr + hc - hj).max(0.0);
    let u = |h: f64| if h > 0.0 { Some((mi / h).clamp(0.0, 1.0)) } else { None };
    (u(hc), u(hr))
}

/// Normalised mutual information I/((H(X)+H(Y))/2); None when both sides are constant.
pub fn normalized_mi(t: &Table) -> Option<f64> {
    let (hr, hc, hj) = entropies(t);
    let mi = (hr + hc - hj).max(0.0);
    let den = (hr + hc) / 2.0;
    if den > 0.0 && hr > 0.0 && hc > 0.0 {
        Some((mi / den).clamp(0.0, 1.0))
    } else {
        None
    }
}

/// Count, mean and centred sum of squares of a group (merged with Chan et al.).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Number of values.
    pub n: f64,
    /// Mean.
    pub mean: f64,
    /// Σ (x − mean)².
    pub m2: f64,
}

impl Moments {
    /// Merges another group (Chan, Golub, LeVeque 1979, eq. 2.1b).
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n / n;
        self.m2 += o.m2 + d * d * self.n * o.n / n;
        self.n = n;
    }
}

/// Correlation ratio η and ANOVA p-value from per-category moments.
/// None when the numeric side is constant or fewer than 2 groups.
pub fn correlation_ratio(groups: &[Moments]) -> Option<(f64, Option<f64>, f64)> {
    let groups: Vec<&Moments> = groups.iter().filter(|g| g.n > 0.0).collect();
    if groups.len() < 2 {
        return None;
    }
    let mut all = Moments::default();
    for g in &groups {
        all.merge(g);
    }
    let ssb: f64 = groups.iter().map(|g| g.n * (g.mean - all.mean).powi(2)).sum();
    let ssw: f64 = groups.iter().map(|g| g.m2).sum();
    let sst = ssb + ssw;
    if !(sst > 0.0) {
        return None;
    }
    let eta = (ssb / sst).sqrt().clamp(0.0, 1.0);
    let k = groups.len() as f64;
    let dfw = all.n - k;
    let p = if dfw >= 1.0 {
        let f = if ssw > 0.0 { (ssb / (k - 1.0)) / (ssw / dfw) } else { f64::INFINITY };
        Some(special::f_sf(f, k - 1.0, dfw))
    } else {
        None
    };
    Some((eta, p, all.n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_textbook_2x2() {
        // [[10, 20], [30, 40]]: chi2 (no Yates) = 0.7936507936507936 (scipy), dof 1.
        let t = Table { rows: 2, cols: 2, cells: vec![10, 20, 30, 40] };
        let c = chi_square(&t).unwrap();
        assert!((c.chi2 - 0.793_650_793_650_793_6).abs() < 1e-12);
        assert_eq!(c.dof, 1.0);
    }

    #[test]
    fn theils_u_perfect_and_independent() {
        // col is a function of row -> U(col|row) = 1
        let t = Table { rows: 3, cols: 2, cells: vec![5, 0, 0, 7, 4, 0] };
        let (u_cr, u_rc) = theils_u(&t);
        assert!((u_cr.unwrap() - 1.0).abs() < 1e-12);
        assert!(u_rc.unwrap() < 1.0);
        let ind = Table { rows: 2, cols: 2, cells: vec![5, 5, 5, 5] };
        assert!(theils_u(&ind).0.unwrap().abs() < 1e-12);
    }
}

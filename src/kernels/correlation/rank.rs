//! Rank correlations over complete pairs: Spearman ρ and Kendall τ-b with p-values.
//!
//! - Spearman ρ: Pearson r of mid-ranks (ties get their average rank); p-value from the
//!   t test with n − 2 degrees of freedom, as scipy's `spearmanr`.
//! - Kendall τ-b: Knight's O(n log n) algorithm (W. R. Knight, "A computer method for
//!   calculating Kendall's tau with ungrouped data", JASA 61(314), 1966): sort by (x, y)
//!   (two stable counting sorts of dense ranks), count ties in runs, count discordant pairs as
//!   inversions of y (here with a Fenwick tree instead of Knight's merge sort; same O(n log n)).
//!   τ-b = (C − D) / √((n₀ − n₁)(n₀ − n₂)). The p-value follows scipy's `kendalltau`
//!   default `method='auto'`: the exact null distribution (Kendall 1970, the Mahonian
//!   recurrence as in scipy's `_kendall_p_exact`) when there are no ties and n <= 33 or
//!   min(C, D) <= 1, otherwise the asymptotic normal with the tie-corrected variance
//!   (Kendall 1970, eq. 4.4 as used by scipy).
//!
//! [`SortedColumn`] sorts a column's valid rows once; the mid-ranks or tie ids of any subset of
//! those rows (a pair's complete rows) then take one linear pass over the sorted order, so a
//! table with p columns needs p sorts rather than one per pair. The slice functions that rank
//! from scratch (`mid_ranks`, `dense_ids`, `spearman`, `kendall_tau_b`) are kept for the tests
//! as the straightforward reference.

use super::special;

/// Mid-ranks (1-based, ties averaged) of `v`; `v` must hold no NaN.
#[cfg(test)]
pub fn mid_ranks(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_unstable_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && v[idx[j]] == v[idx[i]] {
            j += 1;
        }
        // positions i..j (0-based) share rank average of (i+1)..=j
        let r = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = r;
        }
        i = j;
    }
    ranks
}

/// Pearson r by two passes (centred), or None when either side is constant.
#[cfg(test)]
pub fn pearson_two_pass(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    if x.len() < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Spearman ρ and its two-sided p-value; None when a side is constant or n < 3.
#[cfg(test)]
pub fn spearman(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    spearman_ranked(&mid_ranks(x), &mid_ranks(y))
}

/// Spearman ρ from precomputed mid-ranks of the complete pairs.
#[cfg(test)]
pub fn spearman_ranked(rx: &[f64], ry: &[f64]) -> Option<(f64, f64)> {
    if rx.len() < 3 {
        return None;
    }
    let r = pearson_two_pass(rx, ry)?;
    Some((r, special::r_two_sided(r, rx.len() as f64)))
}

/// One numeric column's sample rows sorted by value, so that the mid-ranks or tie ids of any
/// subset of its rows (the complete rows of a pair) come from one O(n) pass instead of a sort.
#[derive(Debug, Clone)]
pub struct SortedColumn {
    /// Valid rows, ascending by value (ties in any order).
    order: Vec<u32>,
    /// Start of each run of equal values in `order`, then `order.len()`.
    runs: Vec<u32>,
    /// Rows of the sample, valid or not.
    rows: usize,
}

/// Maps the bits of a finite f64 to a u64 with the same order (sign flip; negatives reversed).
fn order_key(bits: u64) -> u64 {
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

impl SortedColumn {
    /// Sorts the valid rows of a column given as f64 bits (finite, −0 stored as +0, so equal
    /// bits are equal values).
    pub fn new(bits: &[u64], valid: &[bool]) -> Self {
        Self::of_small_integers(bits, valid).unwrap_or_else(|| Self::by_sort(bits, valid))
    }

    /// [`SortedColumn::new`] by a counting sort, when every valid value is an integer and their
    /// range is at most a few times the row count (dates, codes, counts, delays): O(n + range)
    /// instead of a comparison sort. Ties come out in row order, which nothing depends on.
    fn of_small_integers(bits: &[u64], valid: &[bool]) -> Option<Self> {
        let (mut lo, mut hi, mut n) = (i64::MAX, i64::MIN, 0usize);
        for (&b, &v) in bits.iter().zip(valid) {
            if v {
                let x = f64::from_bits(b);
                let i = x as i32;
                if f64::from(i) != x {
                    return None;
                }
                lo = lo.min(i64::from(i));
                hi = hi.max(i64::from(i));
                n += 1;
            }
        }
        if n == 0 || hi - lo >= (4 * n as i64).max(1 << 12) {
            return None;
        }
        let slot = |b: u64| (f64::from_bits(b) as i64 - lo) as usize;
        // start[k]: first position of value lo + k in the order, after the prefix sums.
        let mut start = vec![0u32; (hi - lo) as usize + 2];
        for (&b, &v) in bits.iter().zip(valid) {
            if v {
                start[slot(b) + 1] += 1;
            }
        }
        let mut runs = Vec::new();
        for k in 1..start.len() {
            if start[k] > 0 {
                runs.push(start[k - 1]);
            }
            start[k] += start[k - 1];
        }
        runs.push(n as u32);
        let mut order = vec![0u32; n];
        for (r, (&b, &v)) in bits.iter().zip(valid).enumerate() {
            if v {
                let k = slot(b);
                order[start[k] as usize] = r as u32;
                start[k] += 1;
            }
        }
        Some(SortedColumn { order, runs, rows: bits.len() })
    }

    /// [`SortedColumn::new`] by sorting (value, row) keys.
    fn by_sort(bits: &[u64], valid: &[bool]) -> Self {
        let mut keys: Vec<(u64, u32)> =
            (0..bits.len()).filter(|&r| valid[r]).map(|r| (order_key(bits[r]), r as u32)).collect();
        keys.sort_unstable_by_key(|k| k.0);
        let mut runs = Vec::new();
        for (k, key) in keys.iter().enumerate() {
            if k == 0 || key.0 != keys[k - 1].0 {
                runs.push(k as u32);
            }
        }
        runs.push(keys.len() as u32);
        SortedColumn { order: keys.into_iter().map(|k| k.1).collect(), runs, rows: bits.len() }
    }

    /// Number of valid rows.
    pub fn valid(&self) -> usize {
        self.order.len()
    }

    /// Mid-ranks (1-based, ties averaged) among the valid rows with `keep[r]` (all valid rows
    /// when `keep` is None), indexed by row. The other rows hold the mean rank (m + 1) / 2 of the
    /// m ranked rows, so they add exactly nothing to sums of centred ranks.
    pub fn mid_ranks(&self, keep: Option<&[bool]>) -> Vec<f64> {
        let kept = |r: u32| keep.is_none_or(|k| k[r as usize]);
        let m = match keep {
            None => self.order.len(),
            Some(_) => self.order.iter().filter(|&&r| kept(r)).count(),
        };
        let mut out = vec![(m as f64 + 1.0) / 2.0; self.rows];
        let mut seen = 0usize;
        for w in self.runs.windows(2) {
            let run = &self.order[w[0] as usize..w[1] as usize];
            let t = if keep.is_none() { run.len() } else { run.iter().filter(|&&r| kept(r)).count() };
            if t == 0 {
                continue;
            }
            // positions seen+1 ..= seen+t share their average
            let rank = (2 * seen + t + 1) as f64 / 2.0;
            for &r in run {
                if kept(r) {
                    out[r as usize] = rank;
                }
            }
            seen += t;
        }
        out
    }

    /// Dense tie ids (0, 1, … ascending by value) among the valid rows with `keep[r]` (all when
    /// None), indexed by row; u32::MAX elsewhere.
    pub fn dense_ids(&self, keep: Option<&[bool]>) -> Vec<u32> {
        let kept = |r: u32| keep.is_none_or(|k| k[r as usize]);
        let mut out = vec![u32::MAX; self.rows];
        let mut id = 0u32;
        for w in self.runs.windows(2) {
            let mut any = false;
            for &r in &self.order[w[0] as usize..w[1] as usize] {
                if kept(r) {
                    out[r as usize] = id;
                    any = true;
                }
            }
            id += u32::from(any);
        }
        out
    }
}

/// Spearman ρ and its two-sided p-value from mid-ranks indexed by row (see
/// [`SortedColumn::mid_ranks`]) over the same m complete rows, every other row holding the mean
/// rank (m + 1) / 2. ρ is the Pearson r of the ranks, centred on that exact mean. Centred ranks
/// are multiples of 1/2, so the sums are exact in f64 while m³/12 < 2^51 (m below ~300 000) and
/// the lane order does not matter.
/// None when a side is constant or m < 3.
pub fn spearman_mid_ranks(rx: &[f64], ry: &[f64], m: usize) -> Option<(f64, f64)> {
    if m < 3 {
        return None;
    }
    let mean = (m as f64 + 1.0) / 2.0;
    let (mut sxx, mut syy, mut sxy) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4]);
    let (cx, cy) = (rx.chunks_exact(4), ry.chunks_exact(4));
    let tail: Vec<(f64, f64)> = cx.remainder().iter().zip(cy.remainder()).map(|(a, b)| (*a, *b)).collect();
    for (a, b) in cx.zip(cy) {
        for k in 0..4 {
            let (dx, dy) = (a[k] - mean, b[k] - mean);
            sxx[k] += dx * dx;
            syy[k] += dy * dy;
            sxy[k] += dx * dy;
        }
    }
    let (mut sx, mut sy, mut cxy) = (sxx.iter().sum::<f64>(), syy.iter().sum::<f64>(), sxy.iter().sum::<f64>());
    for (a, b) in tail {
        let (dx, dy) = (a - mean, b - mean);
        sx += dx * dx;
        sy += dy * dy;
        cxy += dx * dy;
    }
    if sx <= 0.0 || sy <= 0.0 {
        return None;
    }
    let r = (cxy / (sx.sqrt() * sy.sqrt())).clamp(-1.0, 1.0);
    Some((r, special::r_two_sided(r, m as f64)))
}

/// Stable counting sort of `items` by `key[item]` (keys < `d`).
fn counting_sort(items: &[u32], key: &[u32], d: usize) -> Vec<u32> {
    let mut start = vec![0usize; d + 1];
    for &i in items {
        start[key[i as usize] as usize + 1] += 1;
    }
    for k in 1..=d {
        start[k] += start[k - 1];
    }
    let mut out = vec![0u32; items.len()];
    for &i in items {
        let k = key[i as usize] as usize;
        out[start[k]] = i;
        start[k] += 1;
    }
    out
}

/// Tie statistics of run lengths: (Σ t(t−1)/2, Σ t(t−1)(t−2), Σ t(t−1)(2t+5)).
fn tie_stats(runs: &[u64]) -> (f64, f64, f64) {
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    for &t in runs.iter().filter(|&&t| t > 1) {
        let t = t as f64;
        a += t * (t - 1.0) / 2.0;
        b += t * (t - 1.0) * (t - 2.0);
        c += t * (t - 1.0) * (2.0 * t + 5.0);
    }
    (a, b, c)
}

/// Dense ranks 0, 1, … of `v` (equal values share an id).
#[cfg(test)]
pub fn dense_ids(v: &[f64]) -> Vec<u32> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_unstable_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0u32; v.len()];
    let mut id = 0u32;
    for w in 0..idx.len() {
        if w > 0 && v[idx[w]] != v[idx[w - 1]] {
            id += 1;
        }
        out[idx[w]] = id;
    }
    out
}

fn runs_of(ids: &[u32]) -> Vec<u64> {
    let mut counts = vec![0u64; ids.iter().map(|&i| i as usize + 1).max().unwrap_or(0)];
    for &i in ids {
        counts[i as usize] += 1;
    }
    counts
}

/// Exact two-sided p-value of Kendall's statistic without ties (scipy `_kendall_p_exact`).
fn kendall_p_exact(n: u64, c: u64) -> f64 {
    let tot = n * (n - 1) / 2;
    let c = c.min(tot - c);
    let fact = |k: u64| (1..=k).fold(1.0f64, |acc, i| acc * i as f64);
    let prob = if n <= 2 {
        1.0
    } else if c == 0 {
        if n < 171 {
            2.0 / fact(n)
        } else {
            0.0
        }
    } else if c == 1 {
        if n < 172 {
            2.0 / fact(n - 1)
        } else {
            0.0
        }
    } else if 4 * c == n * (n - 1) {
        1.0
    } else {
        let c = c as usize;
        let mut new = vec![0.0f64; c + 1];
        new[0] = 1.0;
        new[1] = 1.0;
        let big = n >= 171;
        for j in 3..=(n as usize) {
            let mut acc = 0.0;
            for v in new.iter_mut() {
                acc += *v;
                *v = if big { acc / j as f64 } else { acc };
            }
            if j <= c {
                let old: Vec<f64> = new[..c + 1 - j].to_vec();
                for (k, o) in old.iter().enumerate() {
                    new[j + k] -= o;
                }
            }
        }
        let s: f64 = new.iter().sum();
        if big {
            s
        } else {
            2.0 * s / fact(n)
        }
    };
    prob.clamp(0.0, 1.0)
}

/// Kendall τ-b and its two-sided p-value (scipy `kendalltau` default); None when a
/// side is constant or n < 2.
#[cfg(test)]
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    kendall_ids(&dense_ids(x), &dense_ids(y))
}

/// Kendall τ-b from dense ranks (see [`dense_ids`]) of the complete pairs.
pub fn kendall_ids(xi: &[u32], yi: &[u32]) -> Option<(f64, f64)> {
    let n = xi.len();
    if n < 2 {
        return None;
    }
    // Order by (x, y): stable counting sort by y, then by x (ids are dense).
    let dx = xi.iter().map(|&v| v as usize + 1).max().unwrap_or(0);
    let dy = yi.iter().map(|&v| v as usize + 1).max().unwrap_or(0);
    let by_y = counting_sort(&(0..n as u32).collect::<Vec<u32>>(), yi, dy);
    let order = counting_sort(&by_y, xi, dx);
    // joint ties
    let mut joint_runs = Vec::new();
    let mut run = 1u64;
    for w in 1..n {
        let (a, b) = (order[w] as usize, order[w - 1] as usize);
        if xi[a] == xi[b] && yi[a] == yi[b] {
            run += 1;
        } else {
            joint_runs.push(run);
            run = 1;
        }
    }
    joint_runs.push(run);
    let (ntie, _, _) = tie_stats(&joint_runs);
    let (xtie, x0, x1) = tie_stats(&runs_of(xi));
    let (ytie, y0, y1) = tie_stats(&runs_of(yi));
    // Discordant pairs = inversions of y in (x, y) order (ties in x are sorted by y, so they
    // add none; equal y is not an inversion). Fenwick tree over y ids: O(n log d_y).
    let mut tree = vec![0u32; dy + 1];
    let mut dis = 0u64;
    for (seen, &r) in order.iter().enumerate() {
        let y = yi[r as usize] as usize + 1;
        // inserted so far with id <= y
        let mut k = y;
        let mut le = 0u64;
        while k > 0 {
            le += u64::from(tree[k]);
            k &= k - 1;
        }
        dis += seen as u64 - le;
        let mut k = y;
        while k <= dy {
            tree[k] += 1;
            k += k & k.wrapping_neg();
        }
    }
    let dis = dis as f64;
    let nf = n as f64;
    let tot = nf * (nf - 1.0) / 2.0;
    if xtie == tot || ytie == tot {
        return None;
    }
    let con_minus_dis = tot - xtie - ytie + ntie - 2.0 * dis;
    let tau = (con_minus_dis / (tot - xtie).sqrt() / (tot - ytie).sqrt()).clamp(-1.0, 1.0);
    let exact = xtie == 0.0 && ytie == 0.0 && (n <= 33 || dis.min(tot - dis) <= 1.0);
    let p = if exact {
        kendall_p_exact(n as u64, (tot - dis) as u64)
    } else {
        let m = nf * (nf - 1.0);
        let var = (m * (2.0 * nf + 5.0) - x1 - y1) / 18.0 + (2.0 * xtie * ytie) / m + x0 * y0 / (9.0 * m * (nf - 2.0));
        special::normal_two_sided(con_minus_dis / var.sqrt())
    };
    Some((tau, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_ranks_average_ties() {
        assert_eq!(mid_ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
    }

    #[test]
    fn kendall_hand_example() {
        // x = 1..5, y = [1,3,2,5,4]: C = 8, D = 2, tau = 0.6, exact p (scipy) = 0.23333333333333334
        let (t, p) = kendall_tau_b(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 3.0, 2.0, 5.0, 4.0]).unwrap();
        assert!((t - 0.6).abs() < 1e-15);
        assert!((p - 0.233_333_333_333_333_34).abs() < 1e-12, "{p}");
    }

    /// Ranks of a subset from the presorted column equal ranking the subset from scratch.
    #[test]
    fn presorted_subset_ranks_match_ranking_from_scratch() {
        let mut z = 12345u64;
        let mut next = || {
            z = z.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            z >> 33
        };
        let n = 500;
        // Few distinct values (many ties), negatives included.
        let x: Vec<f64> = (0..n).map(|_| (next() % 23) as f64 - 11.0).collect();
        let y: Vec<f64> = (0..n).map(|_| (next() % 1000) as f64 * 0.25).collect();
        let vx: Vec<bool> = (0..n).map(|_| next() % 7 != 0).collect();
        let vy: Vec<bool> = (0..n).map(|_| next() % 5 != 0).collect();
        let bits: Vec<u64> = x.iter().map(|v| (v + 0.0).to_bits()).collect();
        let ybits: Vec<u64> = y.iter().map(|v| (v + 0.0).to_bits()).collect();
        let (sx, sy) = (SortedColumn::new(&bits, &vx), SortedColumn::new(&ybits, &vy));
        let keep: Vec<bool> = vx.iter().zip(&vy).map(|(a, b)| *a && *b).collect();
        let rows: Vec<usize> = (0..n).filter(|&r| keep[r]).collect();
        let m = rows.len();
        let (cx, cy): (Vec<f64>, Vec<f64>) = rows.iter().map(|&r| (x[r], y[r])).unzip();
        let (rx, ry) = (sx.mid_ranks(Some(&keep)), sy.mid_ranks(Some(&keep)));
        let mean = (m as f64 + 1.0) / 2.0;
        assert!((0..n).filter(|&r| !keep[r]).all(|r| rx[r] == mean && ry[r] == mean));
        let got: Vec<f64> = rows.iter().map(|&r| rx[r]).collect();
        assert_eq!(got, mid_ranks(&cx));
        let ids = sx.dense_ids(Some(&keep));
        let got: Vec<u32> = rows.iter().map(|&r| ids[r]).collect();
        assert_eq!(got, dense_ids(&cx));
        assert!((0..n).filter(|&r| !keep[r]).all(|r| ids[r] == u32::MAX));
        let (a, b) = (spearman_mid_ranks(&rx, &ry, m).unwrap(), spearman(&cx, &cy).unwrap());
        assert!((a.0 - b.0).abs() < 1e-14 && (a.1 - b.1).abs() < 1e-12, "{a:?} {b:?}");
        // All valid rows, no subset.
        let own: Vec<f64> = (0..n).filter(|&r| vx[r]).map(|r| sx.mid_ranks(None)[r]).collect();
        let all: Vec<f64> = (0..n).filter(|&r| vx[r]).map(|r| x[r]).collect();
        assert_eq!(own, mid_ranks(&all));
    }

    /// The counting sort of small integers and the comparison sort give the same runs of
    /// rows (ties in any order), so the same ranks.
    #[test]
    fn counting_sort_matches_comparison_sort() {
        let mut z = 99u64;
        let mut next = || {
            z = z.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            z >> 33
        };
        let n = 3000;
        let cases: Vec<Vec<f64>> = vec![
            (0..n).map(|_| (next() % 50) as f64 - 20.0).collect(),
            (0..n).map(|_| (next() % 900) as f64 * 3.0 - 1.0).collect(),
            (0..n).map(|i| if i % 2 == 0 { 2147483647.0 } else { -2147483647.0 + (i % 5) as f64 }).collect(),
            (0..n).map(|i| if i == 7 { 1e6 } else { (i % 3) as f64 }).collect(),
            (0..n).map(|_| (next() % 100) as f64 * 0.5).collect(),
            vec![5.0; n],
        ];
        for (k, x) in cases.iter().enumerate() {
            let bits: Vec<u64> = x.iter().map(|v| (v + 0.0).to_bits()).collect();
            let valid: Vec<bool> = (0..n).map(|_| next() % 6 != 0).collect();
            let fast = SortedColumn::of_small_integers(&bits, &valid);
            assert_eq!(fast.is_some(), k < 2 || k == 5, "case {k}");
            let slow = SortedColumn::by_sort(&bits, &valid);
            if let Some(f) = fast {
                assert_eq!((&f.runs, f.rows), (&slow.runs, slow.rows), "case {k}");
                for w in f.runs.windows(2) {
                    let (a, b) = (w[0] as usize, w[1] as usize);
                    let (mut p, mut q) = (f.order[a..b].to_vec(), slow.order[a..b].to_vec());
                    p.sort_unstable();
                    q.sort_unstable();
                    assert_eq!(p, q, "case {k}");
                }
                let keep: Vec<bool> = (0..n).map(|_| next() % 3 != 0).collect();
                assert_eq!(f.mid_ranks(Some(&keep)), slow.mid_ranks(Some(&keep)));
                assert_eq!(f.dense_ids(None), slow.dense_ids(None));
            }
        }
    }

    #[test]
    fn constant_side_is_none() {
        assert!(kendall_tau_b(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
        assert!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
    }
}

//! Dependencies between columns: functional dependencies, candidate keys, derived columns
//! and multicollinearity.
//!
//! - **Functional dependencies** A → B: confidence = Σ_a max_b count(a, b) / n over rows where
//!   both are non-NULL (the share of rows agreeing with the majority dependent value of their
//!   determinant value — the g₃-style measure of Kivinen & Mannila, "Approximate inference of
//!   functional dependencies from relations", TCS 149, 1995, row-weighted); violations = n −
//!   Σ max. Exact from the pair count tables while they fit their cap, else over the sample
//!   (details say which). Rows whose determinant value occurs once agree trivially, so a
//!   dependency is reported only when the confidence over the rows in groups of two or more
//!   ("evidence", at least 10 rows) also reaches the threshold, and never from a determinant
//!   with distinct/n at the threshold (a key is reported as a candidate key instead).
//!   Over the sample, each column's rows are grouped by value once (a counting sort of its
//!   dense value ids); A → B then walks A's groups, counting B's ids in a scratch array reset
//!   through a touched list (no hashing), and stops as soon as the violations so far rule out
//!   the threshold, which in unrelated columns happens after a few groups.
//!   Two-column determinants (A, B) → C are searched on the sample when the table is narrow,
//!   only when neither A → C nor B → C holds and (A, B) is not near-unique.
//! - **Candidate keys**: non-NULL columns whose values are all distinct; minimal unique pairs
//!   of columns that are not themselves near-unique (over the sample: B's ids must differ
//!   within each of A's value groups, stopping at the first repeat).
//! - **Derived columns** C = A + B, A − B, A × B, A ÷ B over the sample: a row matches when
//!   |C − f(A,B)| <= tol · max(|C|, |f|) (so a zero target matches only an exact zero); a
//!   candidate is reported at match rate >= `derived_min_rate`, unless C is a copy of A or B.
//! - **Multicollinearity** from the (exact, pairwise-complete) Pearson correlation matrix R of
//!   the usable numeric columns: eigen-decomposition by cyclic Jacobi rotations (Golub & Van
//!   Loan, *Matrix Computations*, 4th ed., §8.5), VIF_j = (R⁻¹)_jj = Σ_k v_jk²/λ_k (reported
//!   above 10), condition indices η_k = √(λ_max/λ_k) with variance-decomposition proportions
//!   π_kj = (v_jk²/λ_k) / VIF_j (Belsley, Kuh & Welsch, *Regression Diagnostics*, 1980, §3.2;
//!   reported at η_k >= 30 with the columns whose π_kj >= 0.5).

// NaN-safe `!(x > 0.0)` tests and index loops over parallel arrays are intended.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

use super::{par_map, par_map_with, Ctx, Dependency};
use super::{HashMap, HashSet};
use crate::kernels::Result;

/// Value-pair counts ((a, b), rows).
type PairCounts = Vec<((u64, u64), u64)>;

/// VIF above which a column is reported.
const VIF_REPORT: f64 = 10.0;
/// Condition index above which a near-dependency is reported (Belsley et al. 1980).
const CONDITION_REPORT: f64 = 30.0;

pub(crate) fn find(ctx: &Ctx, pool: Option<&rayon::ThreadPool>) -> Result<Vec<Dependency>> {
    let mut out = Vec::new();
    let grouped = Grouped::all(ctx, pool)?;
    let fd1 = functional_dependencies(ctx, pool, &grouped);
    let fd_set: HashSet<(usize, usize)> = fd1.iter().map(|(a, b, _)| (*a, *b)).collect();
    out.extend(fd1.into_iter().map(|(_, _, d)| d));
    out.extend(two_column_fds(ctx, pool, &fd_set));
    out.extend(candidate_keys(ctx, pool, &grouped));
    out.extend(derived_columns(ctx, pool));
    out.extend(multicollinearity(ctx));
    Ok(out)
}

/// Facts of A → B from counts keyed (a, b).
struct FdCounts {
    conf: f64,
    violations: u64,
    n: u64,
    determinants: usize,
    /// Rows in determinant groups of two or more rows: the only rows that can disagree.
    evidence: u64,
    /// Confidence over those rows alone.
    evidence_conf: f64,
}

/// How far below the thresholds a dependency found on the sample may be and still go on to
/// verification over all rows (sampling error of a confidence near 0.95 over 20 000 rows is
/// about 0.0015).
const SAMPLE_SLACK: f64 = 0.01;

/// The dependent word standing for NULL in the candidate counts: NULL counts as a value of the
/// dependent (the reading [`super::verify`] applies over all rows).
const NULL_WORD: u64 = u64::MAX;

/// Whether A → B goes on to verification. From counts over all rows (`q` None): confidence at
/// the threshold and determinant groups averaging at least two rows — the very tests of the
/// verification. From a sample holding a share `q` of the rows: confidence within
/// [`SAMPLE_SLACK`], at least 10 rows in repeated groups agreeing as well, and a determinant
/// whose distinct/rows ratio in the sample is one a determinant averaging two rows per value
/// over all rows can show: such a column shows at most 1 − q/2 in expectation (groups of exactly
/// two rows maximise it, the expected distinct count Σ 1 − (1 − q)^g being concave in g), plus
/// three standard errors.
fn fd_candidate(f: &FdCounts, min: f64, q: Option<f64>) -> bool {
    if f.n < 2 || f.determinants == 0 {
        return false;
    }
    match q {
        None => f.conf >= min && f.n >= 2 * f.determinants as u64,
        Some(q) => {
            let ratio = f.determinants as f64 / f.n as f64;
            f.conf >= min - SAMPLE_SLACK
                && f.evidence >= 10
                && f.evidence_conf >= min - SAMPLE_SLACK
                && ratio <= 1.0 - q.clamp(0.0, 1.0) / 2.0 + 3.0 / (f.n as f64).sqrt()
        }
    }
}

fn fd_from_counts(counts: impl Iterator<Item = ((u64, u64), u64)>) -> FdCounts {
    // per determinant value: (rows, largest dependent count)
    let mut best: HashMap<u64, (u64, u64)> = HashMap::default();
    let mut n = 0u64;
    for ((a, _), c) in counts {
        n += c;
        let e = best.entry(a).or_insert((0, 0));
        e.0 += c;
        e.1 = e.1.max(c);
    }
    let agree: u64 = best.values().map(|v| v.1).sum();
    let singles = best.values().filter(|v| v.0 == 1).count() as u64;
    let conf = if n > 0 { agree as f64 / n as f64 } else { 0.0 };
    let evidence = n - singles;
    let evidence_conf = if evidence > 0 { (agree - singles) as f64 / evidence as f64 } else { 0.0 };
    FdCounts { conf, violations: n - agree, n, determinants: best.len(), evidence, evidence_conf }
}

/// Exact counts of A → B over all rows with a non-NULL A, NULL in B counted as a value
/// ([`NULL_WORD`]): the pair table (rows where both are non-NULL) plus, per value of A, its
/// rows the table misses. None when either table overflowed its cap.
fn exact_fd_counts(ctx: &Ctx, a: usize, b: usize) -> Option<PairCounts> {
    let m = ctx.exact_pairs(a.min(b), a.max(b))?;
    let totals = ctx.column_counts(a)?;
    let mut seen: HashMap<u64, u64> = HashMap::default();
    let mut out: PairCounts = Vec::with_capacity(m.len());
    for (&(x, y), &c) in m {
        let (va, vb) = if a < b { (x, y) } else { (y, x) };
        *seen.entry(va).or_insert(0) += c;
        out.push(((va, vb), c));
    }
    for (&va, &total) in totals {
        let paired = seen.get(&va).copied().unwrap_or(0);
        if total > paired {
            out.push(((va, NULL_WORD), total - paired));
        }
    }
    Some(out)
}

/// Details of a candidate: where its counts came from.
fn candidate_details(f: &FdCounts, all_rows: bool, sample_rows: usize) -> String {
    format!(
        "candidate: confidence {:.6} over {} rows ({} determinant values) of {}; column_dependencies and \
         table_context verify it over all rows (dr_verify_dependencies)",
        f.conf,
        f.n,
        f.determinants,
        if all_rows { "all rows".to_string() } else { format!("a {sample_rows}-row sample") }
    )
}

fn functional_dependencies(
    ctx: &Ctx,
    pool: Option<&rayon::ThreadPool>,
    grouped: &[Grouped],
) -> Vec<(usize, usize, Dependency)> {
    let p = ctx.p();
    let min = ctx.s.options.fd_min_confidence;
    let pairs: Vec<(usize, usize)> = (0..p)
        .flat_map(|i| (i + 1..p).map(move |j| (i, j)))
        .filter(|&(i, j)| ctx.skip[i].is_none() && ctx.skip[j].is_none())
        .collect();
    // Share of the table's rows in the sample, for the sample's floor test.
    let q = if ctx.s.rows == 0 { 1.0 } else { ctx.rows as f64 / ctx.s.rows as f64 };
    // Distinct/non-NULL ratio of each column in the sample. The judged rows of A → B are A's
    // non-NULL rows, so A's ratio must pass the floor test of `fd_candidate` (with the sample's
    // bound, or 1/2 over all rows). When neither column has a NULL in the sample, confidence c
    // also needs d_B <= d_A + (1 − c)·n (each extra value of B is a violation). Pairs where
    // neither direction can hold by these column-level tests skip the sample pass.
    let ratio: Vec<f64> =
        grouped.iter().map(|g| if g.valid() == 0 { 1.0 } else { g.values() as f64 / g.valid() as f64 }).collect();
    let nulls: Vec<bool> = grouped.iter().map(|g| g.valid() < ctx.rows).collect();
    let floor = |a: usize| {
        let n = grouped[a].valid().max(1) as f64;
        if ctx.sample_exact {
            0.5
        } else {
            1.0 - q / 2.0 + 3.0 / n.sqrt()
        }
    };
    let possible = |a: usize, b: usize| {
        ratio[a] <= floor(a) + 1e-9
            && (nulls[a] || nulls[b] || ratio[b] <= ratio[a] + (1.0 - min) + SAMPLE_SLACK + 1e-9)
    };
    let found: Vec<Vec<(usize, usize, Dependency)>> =
        par_map_with(pool, &pairs, Scratch::default, |scratch, &(i, j)| {
            let mut res = Vec::new();
            for (a, b) in [(i, j), (j, i)] {
                let (f, all_rows) = match exact_fd_counts(ctx, a, b) {
                    Some(counts) => (fd_from_counts(counts.into_iter()), true),
                    None if possible(a, b) => {
                        match fd_from_groups(&grouped[a], &grouped[b], min - SAMPLE_SLACK, scratch) {
                            Some(f) => (f, ctx.sample_exact),
                            None => continue,
                        }
                    }
                    None => continue,
                };
                if !fd_candidate(&f, min, if all_rows { None } else { Some(q) }) {
                    continue;
                }
                res.push((
                    a,
                    b,
                    Dependency {
                        kind: "fd_candidate".into(),
                        determinant: vec![ctx.name(a).to_string()],
                        dependent: Some(ctx.name(b).to_string()),
                        confidence: f.conf,
                        violations: f.violations,
                        mu_plus: None,
                        rows: Some(f.n),
                        determinant_values: Some(f.determinants as u64),
                        expression: None,
                        details: candidate_details(&f, all_rows, ctx.rows),
                    },
                ));
            }
            res
        });
    let mut all: Vec<(usize, usize, Dependency)> = found.into_iter().flatten().collect();
    all.sort_by_key(|x| (x.0, x.1));
    all
}

/// The sample rows of one column grouped by value: row numbers ordered by dense value id (a
/// stable counting sort of `Ctx::ids`), with the start of each id's run. Built once per column,
/// it serves every pair the column takes part in.
struct Grouped<'c> {
    /// Dense value id of every sample row (u32::MAX = NULL).
    codes: &'c [u32],
    /// Valid rows, by value id then row.
    rows: Vec<u32>,
    /// `rows[starts[v]..starts[v + 1]]` are the rows holding value id v.
    starts: Vec<u32>,
}

impl<'c> Grouped<'c> {
    fn all(ctx: &'c Ctx, pool: Option<&rayon::ThreadPool>) -> Result<Vec<Grouped<'c>>> {
        let columns: Vec<usize> = (0..ctx.p()).collect();
        par_map(pool, &columns, |&c| {
            let (codes, k) = (&ctx.ids[c].0, ctx.ids[c].1);
            let g = super::verify::rows_by_group(codes, k as u32)?;
            Ok(Grouped { codes, rows: g.rows, starts: g.start })
        })
        .into_iter()
        .collect()
    }
    /// Non-NULL sample rows.
    fn valid(&self) -> usize {
        self.rows.len()
    }
    /// Distinct non-NULL values.
    fn values(&self) -> usize {
        self.starts.len() - 1
    }
}

/// Per-worker buffers of the group scans: a counter per value id of the dependent column (all
/// zero between uses) and the ids touched since the last reset.
#[derive(Default)]
struct Scratch {
    counts: Vec<u32>,
    touched: Vec<u32>,
}

impl Scratch {
    /// Zeroed counters for `values` ids and an empty touched list.
    fn take(&mut self, values: usize) -> (&mut [u32], &mut Vec<u32>) {
        if self.counts.len() < values {
            self.counts.resize(values, 0);
        }
        self.touched.clear();
        (&mut self.counts[..values], &mut self.touched)
    }
}

/// The largest count among `ids`, counted in `cnt` (indexed by id, all zero before and after:
/// reset through the `touched` list, so no hashing and no clearing of the whole array).
#[inline]
fn majority(cnt: &mut [u32], touched: &mut Vec<u32>, ids: impl Iterator<Item = u32>) -> u32 {
    let mut best = 0u32;
    for y in ids {
        let c = &mut cnt[y as usize];
        if *c == 0 {
            touched.push(y);
        }
        *c += 1;
        best = best.max(*c);
    }
    for &y in touched.iter() {
        cnt[y as usize] = 0;
    }
    touched.clear();
    best
}

/// Facts of A → B over the sample, from A's value groups (rows with a NULL A left out, NULL in
/// B counted as a value): within each group the majority value of B is counted in `scratch`
/// (indexed by B's value id, NULL taking the id after the last, all zero between calls) and
/// reset through a list of the ids touched, so no hashing. Gives the same counts as
/// [`fd_from_counts`] over the sample pair table with NULL as a value of B. Returns None as
/// soon as the violations so far rule out confidence `min`: confidence is (n − violations)/n,
/// violations only grow and n is the rows counted so far plus A's rows not yet visited, so
/// (n̂ − v)/n̂ with that n̂ is at least the final confidence (in floating point too: conversion
/// and division round monotonically). In unrelated columns this stops after a few groups.
fn fd_from_groups(a: &Grouped, b: &Grouped, min: f64, scratch: &mut Scratch) -> Option<FdCounts> {
    let null_id = b.values() as u32;
    let (cnt, touched) = scratch.take(b.values() + 1);
    let (mut n, mut agree, mut determinants, mut singles) = (0u64, 0u64, 0usize, 0u64);
    let mut left = a.valid() as u64;
    for v in 0..a.values() {
        let group = &a.rows[a.starts[v] as usize..a.starts[v + 1] as usize];
        left -= group.len() as u64;
        let best = majority(cnt, touched, group.iter().map(|&r| b.codes[r as usize].min(null_id)));
        let size = group.len() as u64;
        if size == 0 {
            continue;
        }
        determinants += 1;
        singles += (size == 1) as u64;
        n += size;
        agree += u64::from(best);
        let violations = n - agree;
        if violations > 0 {
            let bound = n + left;
            if ((bound - violations) as f64 / bound as f64) < min {
                return None;
            }
        }
    }
    let conf = if n > 0 { agree as f64 / n as f64 } else { 0.0 };
    let evidence = n - singles;
    let evidence_conf = if evidence > 0 { (agree - singles) as f64 / evidence as f64 } else { 0.0 };
    Some(FdCounts { conf, violations: n - agree, n, determinants, evidence, evidence_conf })
}

/// Dense ids of each column over the first `m` sample rows (u32::MAX = NULL).
fn dense_codes(ctx: &Ctx, m: usize, pool: Option<&rayon::ThreadPool>) -> Vec<Vec<u32>> {
    let columns: Vec<usize> = (0..ctx.p()).collect();
    super::par_map(pool, &columns, |&c| {
        let mut ids: HashMap<u64, u32> = HashMap::default();
        (0..m)
            .map(|r| match ctx.word(r, c) {
                Some(w) => {
                    let l = ids.len() as u32;
                    *ids.entry(w).or_insert(l)
                }
                None => u32::MAX,
            })
            .collect()
    })
}

/// `rows` stably ordered by `code[row]` (every code below `values`).
fn counting_sort(rows: &[u32], code: &[u32], values: usize) -> Vec<u32> {
    let mut start = vec![0u32; values + 1];
    for &r in rows {
        start[code[r as usize] as usize + 1] += 1;
    }
    for v in 0..values {
        start[v + 1] += start[v];
    }
    let mut out = vec![0u32; rows.len()];
    for &r in rows {
        let c = code[r as usize] as usize;
        out[start[c] as usize] = r;
        start[c] += 1;
    }
    out
}

fn two_column_fds(ctx: &Ctx, pool: Option<&rayon::ThreadPool>, single: &HashSet<(usize, usize)>) -> Vec<Dependency> {
    let p = ctx.p();
    let o = &ctx.s.options;
    if p < 3 || p > o.fd2_max_columns {
        return Vec::new();
    }
    let m = ctx.rows.min(o.fd2_rows);
    let all_rows = ctx.sample_exact && m == ctx.rows;
    let q = if ctx.s.rows == 0 { 1.0 } else { m as f64 / ctx.s.rows as f64 };
    let min = o.fd_min_confidence;
    let codes = dense_codes(ctx, m, pool);
    // Distinct values of each column over those rows (dense ids are 0..values).
    let values: Vec<u32> =
        codes.iter().map(|c| c.iter().filter(|&&v| v != u32::MAX).max().map_or(0, |&v| v + 1)).collect();
    let usable: Vec<usize> = (0..p).filter(|&c| ctx.skip[c].is_none()).collect();
    let pairs: Vec<(usize, usize)> =
        usable.iter().flat_map(|&a| usable.iter().filter(move |&&b| b > a).map(move |&b| (a, b))).collect();
    let found: Vec<Vec<Dependency>> = par_map(pool, &pairs, |&(a, b)| {
        // Rows with a NULL in the determinant are left out; NULL in the dependent is a value.
        let rows: Vec<u32> =
            (0..m as u32).filter(|&r| codes[a][r as usize] != u32::MAX && codes[b][r as usize] != u32::MAX).collect();
        // Ordered by (code of A, code of B): two stable counting sorts, B's code first.
        let by_b = counting_sort(&rows, &codes[b], values[b] as usize);
        let rows = counting_sort(&by_b, &codes[a], values[a] as usize);
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut s = 0;
        for w in 1..=rows.len() {
            let brk = w == rows.len() || {
                let (x, y) = (rows[w] as usize, rows[w - 1] as usize);
                codes[a][x] != codes[a][y] || codes[b][x] != codes[b][y]
            };
            if brk {
                groups.push((s, w));
                s = w;
            }
        }
        let mut res = Vec::new();
        // The floor test of `fd_candidate` on the pair alone (it does not depend on C).
        let probe = FdCounts {
            conf: 1.0,
            violations: 0,
            n: rows.len() as u64,
            determinants: groups.len(),
            evidence: rows.len() as u64,
            evidence_conf: 1.0,
        };
        if !fd_candidate(&probe, min, if all_rows { None } else { Some(q) }) {
            return res;
        }
        let mut scratch = Scratch::default();
        // Violations beyond this rule the candidate out (n is the rows of the pair, fixed: NULL
        // in the dependent is a value).
        let most = ((1.0 - (min - SAMPLE_SLACK)) * rows.len() as f64).floor() as u64;
        for &c in &usable {
            if c == a || c == b || single.contains(&(a, c)) || single.contains(&(b, c)) {
                continue;
            }
            // Majority of C per group by counting its value ids (NULL = the id after the last)
            // in a scratch array reset through the touched list; stop once too many disagree.
            let null_id = values[c];
            let (cnt, touched) = scratch.take(values[c] as usize + 1);
            let (mut n, mut agree, mut singles) = (0u64, 0u64, 0u64);
            let mut dead = false;
            for &(s, e) in &groups {
                let best = majority(cnt, touched, rows[s..e].iter().map(|&r| codes[c][r as usize].min(null_id)));
                let size = (e - s) as u64;
                singles += (size == 1) as u64;
                n += size;
                agree += u64::from(best);
                if n - agree > most {
                    dead = true;
                    break;
                }
            }
            if dead {
                continue;
            }
            let f = FdCounts {
                conf: if n > 0 { agree as f64 / n as f64 } else { 0.0 },
                violations: n - agree,
                n,
                determinants: groups.len(),
                evidence: n - singles,
                evidence_conf: if n > singles { (agree - singles) as f64 / (n - singles) as f64 } else { 0.0 },
            };
            if fd_candidate(&f, min, if all_rows { None } else { Some(q) }) {
                res.push(Dependency {
                    kind: "fd_candidate".into(),
                    determinant: vec![ctx.name(a).to_string(), ctx.name(b).to_string()],
                    dependent: Some(ctx.name(c).to_string()),
                    confidence: f.conf,
                    violations: f.violations,
                    mu_plus: None,
                    rows: Some(f.n),
                    determinant_values: Some(f.determinants as u64),
                    expression: None,
                    details: candidate_details(&f, all_rows, m),
                });
            }
        }
        // The floor test again over the whole sample when it is larger than the search's rows:
        // a share q_all of the table's rows tells groups of two from near-unique pairs far
        // better (the bound is 1 − q/2), and only pairs with candidates pay for it.
        if !res.is_empty() && !all_rows && ctx.rows > m {
            let (ia, ib) = (&ctx.ids[a].0, &ctx.ids[b].0);
            let mut pairs: Vec<u64> = (0..ctx.rows)
                .filter(|&r| ia[r] != u32::MAX && ib[r] != u32::MAX)
                .map(|r| (u64::from(ia[r]) << 32) | u64::from(ib[r]))
                .collect();
            pairs.sort_unstable();
            let n = pairs.len();
            let d = n - pairs.windows(2).filter(|w| w[0] == w[1]).count();
            let q_all = if ctx.s.rows == 0 { 1.0 } else { ctx.rows as f64 / ctx.s.rows as f64 };
            let probe = FdCounts {
                conf: 1.0,
                violations: 0,
                n: n as u64,
                determinants: d,
                evidence: n as u64,
                evidence_conf: 1.0,
            };
            if !fd_candidate(&probe, min, if ctx.sample_exact { None } else { Some(q_all) }) {
                res.clear();
            }
        }
        res
    });
    found.into_iter().flatten().collect()
}

fn candidate_keys(ctx: &Ctx, pool: Option<&rayon::ThreadPool>, grouped: &[Grouped]) -> Vec<Dependency> {
    let s = ctx.s;
    let p = ctx.p();
    let rows = s.rows;
    let mut out = Vec::new();
    if rows < 2 {
        return out;
    }
    // Uniqueness of one column over the sample (used when its exact counts overflowed).
    let sample_unique = |c: usize| -> bool {
        let mut seen: HashSet<u64> = HashSet::default();
        (0..ctx.rows).all(|r| seen.insert(ctx.word(r, c).unwrap_or(u64::MAX)))
    };
    // The same for a pair with NULLs in the sample (not reached: pairs are checked only when
    // both columns are non-NULL on every row), NULL counting as one more value.
    let sample_unique_pair = |i: usize, j: usize| -> bool {
        let mut seen: HashSet<(u64, u64)> = HashSet::default();
        (0..ctx.rows).all(|r| seen.insert((ctx.word(r, i).unwrap_or(u64::MAX), ctx.word(r, j).unwrap_or(u64::MAX))))
    };
    let no_nulls: Vec<bool> = (0..p).map(|c| s.nonnull[c] == rows).collect();
    let mut key = vec![false; p];
    let mut near_unique = vec![false; p];
    for c in 0..p {
        let (unique, exact) = match ctx.distinct(c) {
            Some(d) => (d as u64 == s.nonnull[c], true),
            None => (sample_unique(c), ctx.sample_exact),
        };
        near_unique[c] = match ctx.distinct(c) {
            Some(d) => d as f64 >= s.options.fd_min_confidence * s.nonnull[c] as f64,
            None => true,
        };
        if no_nulls[c] && unique {
            key[c] = true;
            out.push(Dependency {
                kind: "candidate_key".into(),
                determinant: vec![ctx.name(c).to_string()],
                dependent: None,
                confidence: 1.0,
                violations: 0,
                mu_plus: None,
                rows: Some(rows),
                determinant_values: Some(rows),
                expression: None,
                details: format!(
                    "unique and non-NULL over {} rows; {}",
                    rows,
                    if exact { "all rows" } else { "sampled" }
                ),
            });
        }
    }
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for i in 0..p {
        for j in i + 1..p {
            if key[i] || key[j] || near_unique[i] || near_unique[j] || !no_nulls[i] || !no_nulls[j] {
                continue;
            }
            // A unique pair needs at least `rows` value combinations.
            if let (Some(di), Some(dj)) = (ctx.distinct(i), ctx.distinct(j)) {
                if (di as u128) * (dj as u128) < rows as u128 {
                    continue;
                }
            }
            pairs.push((i, j));
        }
    }
    let checked: Vec<(bool, bool)> = par_map_with(pool, &pairs, Scratch::default, |scratch, &(i, j)| {
        match ctx.exact_pairs(i, j) {
            Some(m) => (m.len() as u64 == rows, true),
            // Both columns are non-NULL on every row, so on every sample row too.
            None if grouped[i].valid() == ctx.rows && grouped[j].valid() == ctx.rows => {
                (pair_unique_in_sample(&grouped[i], &grouped[j], scratch), ctx.sample_exact)
            }
            None => (sample_unique_pair(i, j), ctx.sample_exact),
        }
    });
    for (&(i, j), &(unique, exact)) in pairs.iter().zip(&checked) {
        if unique {
            out.push(Dependency {
                kind: "candidate_key".into(),
                determinant: vec![ctx.name(i).to_string(), ctx.name(j).to_string()],
                dependent: None,
                confidence: 1.0,
                violations: 0,
                mu_plus: None,
                rows: Some(rows),
                determinant_values: Some(rows),
                expression: None,
                details: format!(
                    "unique and non-NULL pair over {} rows; {}",
                    rows,
                    if exact { "all rows" } else { "sampled" }
                ),
            });
        }
    }
    out
}

/// Whether no two sample rows share both values of columns A and B, both non-NULL on every
/// sample row: within each value group of A the value ids of B must differ (marked in
/// `scratch`, stopping at the first repeat).
fn pair_unique_in_sample(a: &Grouped, b: &Grouped, scratch: &mut Scratch) -> bool {
    let (seen, touched) = scratch.take(b.values());
    let mut unique = true;
    'groups: for v in 0..a.values() {
        for &r in &a.rows[a.starts[v] as usize..a.starts[v + 1] as usize] {
            let y = b.codes[r as usize] as usize;
            if seen[y] != 0 {
                unique = false;
                break 'groups;
            }
            seen[y] = 1;
            touched.push(y as u32);
        }
        for &y in touched.iter() {
            seen[y as usize] = 0;
        }
        touched.clear();
    }
    for &y in touched.iter() {
        seen[y as usize] = 0;
    }
    unique
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }
}

fn matches(c: f64, f: f64, tol: f64) -> bool {
    if !f.is_finite() {
        return false;
    }
    (c - f).abs() <= tol * c.abs().max(f.abs())
}

fn derived_columns(ctx: &Ctx, pool: Option<&rayon::ThreadPool>) -> Vec<Dependency> {
    let o = &ctx.s.options;
    let cols: Vec<usize> =
        (0..ctx.p()).filter(|&c| ctx.numeric(c) && ctx.skip[c].is_none()).take(o.derived_max_columns).collect();
    if cols.len() < 3 {
        return Vec::new();
    }
    let vals: Vec<Vec<Option<f64>>> =
        cols.iter().map(|&c| (0..ctx.rows).map(|r| ctx.word(r, c).map(f64::from_bits)).collect()).collect();
    let m = ctx.rows;
    let tol = o.derived_tolerance;
    let rate_min = o.derived_min_rate;
    // copies: C ≈ A at the match rate
    let copy = |x: usize, y: usize| -> bool {
        let (mut n, mut k) = (0u64, 0u64);
        for r in 0..m {
            if let (Some(a), Some(b)) = (vals[x][r], vals[y][r]) {
                n += 1;
                k += matches(a, b, tol) as u64;
            }
        }
        n > 0 && k as f64 >= rate_min * n as f64
    };
    let q = cols.len();
    let is_copy: Vec<Vec<bool>> = (0..q).map(|x| (0..q).map(|y| x != y && copy(x, y)).collect()).collect();
    let targets: Vec<usize> = (0..q).collect();
    let found: Vec<Vec<Dependency>> = par_map(pool, &targets, |&t| {
        let mut res = Vec::new();
        for a in 0..q {
            for b in 0..q {
                if a == t || b == t || a == b || is_copy[t][a] || is_copy[t][b] {
                    continue;
                }
                let ops: &[Op] = if a < b { &[Op::Add, Op::Mul, Op::Sub, Op::Div] } else { &[Op::Sub, Op::Div] };
                for &op in ops {
                    let check = |limit: usize| -> (u64, u64) {
                        let (mut n, mut k) = (0u64, 0u64);
                        for r in 0..m {
                            if let (Some(c), Some(x), Some(y)) = (vals[t][r], vals[a][r], vals[b][r]) {
                                n += 1;
                                k += matches(c, op.apply(x, y), tol) as u64;
                                if n as usize >= limit {
                                    break;
                                }
                            }
                        }
                        (n, k)
                    };
                    let (n0, k0) = check(64);
                    if n0 == 0 || (k0 as f64) < 0.8 * n0 as f64 {
                        continue;
                    }
                    let (n, k) = check(usize::MAX);
                    if n < 3 || (k as f64) < rate_min * n as f64 {
                        continue;
                    }
                    let rate = k as f64 / n as f64;
                    let (na, nb, nt) = (ctx.name(cols[a]), ctx.name(cols[b]), ctx.name(cols[t]));
                    res.push(Dependency {
                        kind: "derived_column".into(),
                        determinant: vec![na.to_string(), nb.to_string()],
                        dependent: Some(nt.to_string()),
                        confidence: rate,
                        violations: n - k,
                        mu_plus: None,
                        rows: Some(n),
                        determinant_values: None,
                        expression: Some(format!("{nt} = {na} {} {nb}", op.symbol())),
                        details: format!(
                            "match rate {:.4} over {} rows within relative tolerance {:e}; {}",
                            rate,
                            n,
                            tol,
                            if ctx.sample_exact { "all rows" } else { "sampled" }
                        ),
                    });
                }
            }
        }
        res
    });
    found.into_iter().flatten().collect()
}

/// Eigenvalues and eigenvectors (columns of `v`, row-major n×n) of a symmetric matrix by
/// cyclic Jacobi rotations (Golub & Van Loan §8.5.3).
pub(crate) fn jacobi_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let norm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * norm.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

fn multicollinearity(ctx: &Ctx) -> Vec<Dependency> {
    // Usable numeric columns whose correlations with all others already chosen are defined.
    let mut cols: Vec<usize> = Vec::new();
    for c in (0..ctx.p()).filter(|&c| ctx.numeric(c) && ctx.skip[c].is_none()) {
        if cols.iter().all(|&d| ctx.pearson_r(c, d).is_some()) {
            cols.push(c);
        }
    }
    let n = cols.len();
    if n < 2 {
        return Vec::new();
    }
    let mut r = vec![0.0; n * n];
    for a in 0..n {
        r[a * n + a] = 1.0;
        for b in a + 1..n {
            let v = ctx.pearson_r(cols[a], cols[b]).unwrap_or(0.0);
            r[a * n + b] = v;
            r[b * n + a] = v;
        }
    }
    let (lam, v) = jacobi_eigen(&r, n);
    let lmax = lam.iter().cloned().fold(0.0f64, f64::max);
    if !(lmax > 0.0) {
        return Vec::new();
    }
    let floor = lmax * 1e-13;
    let lam_c: Vec<f64> = lam.iter().map(|&l| l.max(floor)).collect();
    // φ_kj = v_jk² / λ_k ; VIF_j = Σ_k φ_kj
    let phi = |j: usize, k: usize| v[j * n + k].powi(2) / lam_c[k];
    let vif: Vec<f64> = (0..n).map(|j| (0..n).map(|k| phi(j, k)).sum()).collect();
    let cond_number = (lmax / lam_c.iter().cloned().fold(f64::INFINITY, f64::min)).sqrt();
    let mut out = Vec::new();
    let exact_note = "exact Pearson matrix over pairwise-complete rows";
    for j in 0..n {
        if vif[j] > VIF_REPORT {
            // Regression of column j on the others: β_i = −(R⁻¹)_ji / (R⁻¹)_jj.
            let mut betas: Vec<(f64, usize)> = (0..n)
                .filter(|&i| i != j)
                .map(|i| {
                    let rinv: f64 = (0..n).map(|k| v[j * n + k] * v[i * n + k] / lam_c[k]).sum();
                    ((-rinv / vif[j]).abs(), i)
                })
                .filter(|(b, _)| *b >= 0.1)
                .collect();
            betas.sort_by(|x, y| y.0.total_cmp(&x.0));
            betas.truncate(10);
            let singular = vif[j] > 1e10;
            out.push(Dependency {
                kind: "multicollinearity".into(),
                determinant: betas.iter().map(|&(_, i)| ctx.name(cols[i]).to_string()).collect(),
                dependent: Some(ctx.name(cols[j]).to_string()),
                confidence: (1.0 - 1.0 / vif[j]).clamp(0.0, 1.0),
                violations: 0,
                mu_plus: None,
                rows: None,
                determinant_values: None,
                expression: None,
                details: format!(
                    "VIF {}{:.4}; condition number {:.4}; {}",
                    if singular { "(singular) " } else { "" },
                    vif[j],
                    cond_number,
                    exact_note
                ),
            });
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| lam_c[a].total_cmp(&lam_c[b]));
    for &k in &order {
        let eta = (lmax / lam_c[k]).sqrt();
        if eta < CONDITION_REPORT {
            break;
        }
        let mut inv: Vec<(f64, usize)> = (0..n).map(|j| (phi(j, k) / vif[j], j)).filter(|(p, _)| *p >= 0.5).collect();
        if inv.len() < 2 {
            continue;
        }
        inv.sort_by(|x, y| y.0.total_cmp(&x.0));
        out.push(Dependency {
            kind: "multicollinearity".into(),
            determinant: inv.iter().map(|&(_, j)| ctx.name(cols[j]).to_string()).collect(),
            dependent: None,
            confidence: inv[0].0,
            violations: 0,
            mu_plus: None,
            rows: None,
            determinant_values: None,
            expression: None,
            details: format!(
                "condition index {:.4} (condition number {:.4}); variance proportions {}; {}",
                eta,
                cond_number,
                inv.iter().map(|(p, j)| format!("{}={:.3}", ctx.name(cols[*j]), p)).collect::<Vec<_>>().join(", "),
                exact_note
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{mix, ColumnData, ColumnMeta, ColumnRole, CorrOptions, CorrState};
    use super::*;

    /// A state over 3 000 rows whose pair tables overflow where a column has more than 256
    /// values (so those pairs go through the sample): a determinant with 400 values, exact and near dependents at several noise
    /// levels, NULLs, a key and unrelated columns.
    fn sampled_state() -> CorrState {
        let n = 3000usize;
        let mut g = 7u64;
        let mut next = move |k: u64| {
            g = g.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix(g) % k
        };
        let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::new(); 9];
        for i in 0..n {
            let a = next(400);
            let noisy = |pct: u64, r: u64, x: u64| if r % 100 < pct { x } else { a / 3 };
            let (r1, r2, r3, x) = (next(100), next(100), next(100), next(1000));
            let row = [
                Some(a),
                // NULL where a % 11 == 0: still determined by a (NULL is a value of the dependent).
                if a % 11 == 0 { None } else { Some(a / 3) },
                Some(noisy(3, r1, x)),
                Some(noisy(5, r2, x)),
                if i % 13 == 0 { None } else { Some(noisy(8, r3, x)) },
                Some(next(2000)),
                Some(next(5)),
                Some(i as u64),
                Some(a % 7 + 10 * (i as u64 % 2)),
            ];
            for (c, v) in cols.iter_mut().zip(row) {
                c.push(v.map(|v| v as f64));
            }
        }
        let meta: Vec<ColumnMeta> = (0..cols.len())
            .map(|c| ColumnMeta {
                name: format!("c{c}"),
                role: if c % 2 == 0 { ColumnRole::Numeric } else { ColumnRole::Categorical },
            })
            .collect();
        let mut o = CorrOptions::default();
        o.pair_budget_entries = 1;
        o.methods = vec!["none".into()];
        let mut s = CorrState::new(meta.clone(), o);
        let vals: Vec<Vec<f64>> = cols.iter().map(|c| c.iter().map(|v| v.unwrap_or(0.0)).collect()).collect();
        let hashes: Vec<Vec<u64>> = vals.iter().map(|c| c.iter().map(|&v| mix(v as u64 ^ 0x5a5a)).collect()).collect();
        let masks: Vec<Vec<u64>> = cols
            .iter()
            .map(|c| {
                let mut m = vec![0u64; n.div_ceil(64)];
                for (r, v) in c.iter().enumerate() {
                    m[r / 64] |= u64::from(v.is_some()) << (r % 64);
                }
                m
            })
            .collect();
        let data: Vec<ColumnData> = (0..cols.len())
            .map(|c| match meta[c].role {
                ColumnRole::Categorical => ColumnData::Categorical(&hashes[c], Some(&masks[c])),
                _ => ColumnData::Numeric(&vals[c], Some(&masks[c])),
            })
            .collect();
        s.update_rows(&meta, &data, n).unwrap();
        s
    }

    #[test]
    fn group_scan_agrees_with_the_sample_pair_table() {
        let s = sampled_state();
        let ctx = super::super::finalize_ctx(&s, None);
        let grouped = Grouped::all(&ctx, None).unwrap();
        let p = ctx.p();
        let mut scratch = Scratch::default();
        let (mut kept, mut stopped) = (0, 0);
        for min in [0.5, 0.9, 0.95, 0.97, 0.99, 1.0] {
            for a in 0..p {
                for b in 0..p {
                    if a == b {
                        continue;
                    }
                    // Oracle: hash-map counts over the sample rows with a non-NULL a, NULL in b
                    // as a value.
                    let mut m: HashMap<(u64, u64), u64> = HashMap::default();
                    for r in 0..ctx.rows {
                        if let Some(x) = ctx.word(r, a) {
                            *m.entry((x, ctx.word(r, b).unwrap_or(NULL_WORD))).or_insert(0) += 1;
                        }
                    }
                    let want = fd_from_counts(m.into_iter());
                    match fd_from_groups(&grouped[a], &grouped[b], min, &mut scratch) {
                        Some(got) => {
                            kept += 1;
                            assert_eq!(
                                (got.conf, got.violations, got.n, got.determinants, got.evidence, got.evidence_conf),
                                (
                                    want.conf,
                                    want.violations,
                                    want.n,
                                    want.determinants,
                                    want.evidence,
                                    want.evidence_conf
                                ),
                                "{a} -> {b} at {min}"
                            );
                        }
                        None => {
                            stopped += 1;
                            assert!(want.conf < min, "{a} -> {b} stopped at {min} with confidence {}", want.conf);
                        }
                    }
                    assert!(scratch.counts.iter().all(|&c| c == 0));
                }
            }
        }
        assert!(kept > 50 && stopped > 50, "{kept} {stopped}");
        // Pair uniqueness against a hash set of value pairs.
        for a in 0..p {
            for b in 0..p {
                if a == b || grouped[a].valid() != ctx.rows || grouped[b].valid() != ctx.rows {
                    continue;
                }
                let mut seen = HashSet::default();
                let want = (0..ctx.rows).all(|r| seen.insert((ctx.word(r, a), ctx.word(r, b))));
                assert_eq!(pair_unique_in_sample(&grouped[a], &grouped[b], &mut scratch), want, "{a} {b}");
                assert!(scratch.counts.iter().all(|&c| c == 0));
            }
        }
    }

    #[test]
    fn sampled_dependencies_are_found() {
        let r = sampled_state().finalize(None).unwrap();
        let fd = |a: &str, b: &str| {
            r.dependencies
                .iter()
                .find(|d| d.kind == "fd_candidate" && d.determinant == [a] && d.dependent.as_deref() == Some(b))
        };
        // c0 -> c1 exact with the NULLs of c1 as a value; c0 -> c2 (3% noise) approximate;
        // c0 -> c3 (5% noise) and c0 -> c4 (8%) below 0.95.
        let exact = fd("c0", "c1").expect("c0 -> c1");
        assert_eq!(exact.violations, 0);
        assert!(exact.details.contains("of all rows"), "{}", exact.details);
        assert!(fd("c0", "c2").is_some_and(|d| d.violations > 0 && d.confidence >= 0.95));
        assert!(fd("c0", "c4").is_none());
        assert!(fd("c5", "c0").is_none());
        assert!(r.dependencies.iter().any(|d| d.kind == "candidate_key" && d.determinant == ["c7"]));
    }

    #[test]
    fn jacobi_matches_known_eigenvalues() {
        // [[2,1],[1,2]] has eigenvalues 1 and 3.
        let (mut l, _) = jacobi_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        l.sort_by(f64::total_cmp);
        assert!((l[0] - 1.0).abs() < 1e-14 && (l[1] - 3.0).abs() < 1e-14);
        // 3x3 [[4,1,2],[1,3,0],[2,0,5]]: numpy.linalg.eigvalsh = 1.8549..., 3.3644..., 6.7806...
        let (mut l, v) = jacobi_eigen(&[4.0, 1.0, 2.0, 1.0, 3.0, 0.0, 2.0, 0.0, 5.0], 3);
        let sum: f64 = l.iter().sum();
        assert!((sum - 12.0).abs() < 1e-12);
        // A v = λ v for the first eigenpair
        let a = [4.0, 1.0, 2.0, 1.0, 3.0, 0.0, 2.0, 0.0, 5.0];
        for k in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i * 3 + j] * v[j * 3 + k]).sum();
                assert!((av - l[k] * v[i * 3 + k]).abs() < 1e-12);
            }
        }
        l.sort_by(f64::total_cmp);
        let det: f64 = l.iter().product();
        assert!((det - 43.0).abs() < 1e-10, "{det}");
    }
}

//! The bottom-k row sample of `dr_correlations`, stored column-major.
//!
//! Each row gets the priority `hash(seed, row content)` and the sample keeps the k rows with the
//! smallest (priority, content) (Cohen & Kaplan, "Summarizing data using bottom-k sketches",
//! PODC 2007). The k smallest of a union are the k smallest of the union of each part's k
//! smallest, so merging samples and pruning gives the single-pass sample whatever the split.
//!
//! Storage is one word column and one validity column per input column (a NULL is word 0, not
//! valid), so a batch is appended with one copy per column and no allocation per row. The rows
//! are pruned back to k by a selection when they reach 2k. After a prune the largest kept
//! priority is a limit: the sample already holds k rows at or below it, so a later row above it
//! can never be among the k smallest and is rejected before it is copied.

use crate::kernels::infer::codec::{Put, Reader};
use std::cmp::Ordering;

/// One step of a row's sampling priority: mixes column `c`'s word `w` and validity `v` into
/// `h`. A row's priority is this folded over its columns from `mix(seed ^ GOLDEN)`.
#[inline]
pub(crate) fn priority_step(h: u64, c: usize, w: u64, v: bool) -> u64 {
    super::mix(h ^ w.wrapping_add(c as u64).wrapping_mul(GOLDEN) ^ (v as u64))
}

/// [`priority_step`] of column `c` over a batch: `h[r]` takes `words[r]` and `valid[r]`. The
/// 64-bit multiplies run 8 to an instruction where the CPU has AVX-512DQ (`vpmullq`); the same
/// integer operations, so the same priorities.
pub(crate) fn priority_steps(h: &mut [u64], c: usize, words: &[u64], valid: &[bool]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
    {
        // Safety: the CPU has AVX-512F, DQ and VL (checked just above), the only requirement of
        // `priority_steps_avx512`.
        return unsafe { priority_steps_avx512(h, c, words, valid) };
    }
    priority_steps_of(h, c, words, valid);
}

#[inline(always)]
fn priority_steps_of(h: &mut [u64], c: usize, words: &[u64], valid: &[bool]) {
    for (h, (&w, &v)) in h.iter_mut().zip(words.iter().zip(valid)) {
        *h = priority_step(*h, c, w, v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn priority_steps_avx512(h: &mut [u64], c: usize, words: &[u64], valid: &[bool]) {
    priority_steps_of(h, c, words, valid);
}

/// The priority every row starts from.
pub(crate) fn priority_seed(seed: u64) -> u64 {
    super::mix(seed ^ GOLDEN)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Rows kept by the bottom-k sample, column-major, in no particular order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    prio: Vec<u64>,
    words: Vec<Vec<u64>>,
    valid: Vec<Vec<bool>>,
    /// Largest kept priority after the last prune (u64::MAX before any prune).
    limit: u64,
}

impl Default for Sample {
    fn default() -> Self {
        Sample::new(0)
    }
}

impl Sample {
    /// An empty sample of rows with `columns` columns.
    pub(crate) fn new(columns: usize) -> Self {
        Sample { prio: Vec::new(), words: vec![Vec::new(); columns], valid: vec![Vec::new(); columns], limit: u64::MAX }
    }

    /// Rows held (at most 2k − 1 plus one batch between prunes).
    pub(crate) fn len(&self) -> usize {
        self.prio.len()
    }

    /// Approximate heap bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.len() * (8 + 9 * self.words.len())
    }

    /// Appends the rows of one batch whose priority can still make the sample: `words[c][r]`
    /// and `valid[c][r]` are column c of row r, `prio[r]` its priority. Prunes to `cap` rows
    /// when the sample reaches `2 · cap`.
    pub(crate) fn push_batch(&mut self, prio: &[u64], words: &[Vec<u64>], valid: &[Vec<bool>], cap: usize) {
        let mut incoming = prio.iter().filter(|&&h| h <= self.limit).count();
        if self.len() + incoming > self.prio.capacity() && self.len() > 0 {
            // Make room without growing the columns (a copy of all of them) where rows can go:
            // those above the limit (a merge may have lowered it), then, still short, all but
            // the `cap` smallest. Either way every row of the final sample stays.
            self.drop_above_limit();
            if self.len() + incoming > self.prio.capacity() && self.len() > cap {
                self.prune(cap);
                incoming = prio.iter().filter(|&&h| h <= self.limit).count();
            }
        }
        let limit = self.limit;
        self.make_room(incoming, cap);
        if incoming == prio.len() {
            self.prio.extend_from_slice(prio);
            for (c, (w, v)) in words.iter().zip(valid).enumerate() {
                self.words[c].extend_from_slice(&w[..prio.len()]);
                self.valid[c].extend_from_slice(&v[..prio.len()]);
            }
        } else {
            let rows: Vec<usize> = (0..prio.len()).filter(|&r| prio[r] <= limit).collect();
            self.prio.extend(rows.iter().map(|&r| prio[r]));
            for (c, (w, v)) in words.iter().zip(valid).enumerate() {
                self.words[c].extend(rows.iter().map(|&r| w[r]));
                self.valid[c].extend(rows.iter().map(|&r| v[r]));
            }
        }
        if self.len() >= 2 * cap {
            self.prune(cap);
        }
    }

    /// Room for `incoming` more rows. Small samples double as usual; once one holds a quarter
    /// of `cap` (a large input), it grows straight to 2·`cap` rows, which a prune keeps, so the
    /// columns are not copied again at every doubling. The cap is bounded by the sample budget.
    fn make_room(&mut self, incoming: usize, cap: usize) {
        let need = self.len() + incoming;
        if self.prio.capacity() >= need {
            return;
        }
        let target = if need >= cap / 4 { need.max(2 * cap.max(1)) } else { need.max(2 * self.len()) };
        let grow = |len: usize| target - len;
        let ok = self.prio.try_reserve_exact(grow(self.prio.len())).is_ok()
            && self.words.iter_mut().all(|w| w.try_reserve_exact(grow(w.len())).is_ok())
            && self.valid.iter_mut().all(|v| v.try_reserve_exact(grow(v.len())).is_ok());
        if !ok {
            // Not that much at once: grow as needed (as before).
            self.prio.shrink_to(need);
            self.words.iter_mut().for_each(|w| w.shrink_to(need));
            self.valid.iter_mut().for_each(|v| v.shrink_to(need));
        }
    }

    /// Drops the rows above the limit, in place.
    fn drop_above_limit(&mut self) {
        let limit = self.limit;
        if self.prio.iter().all(|&h| h <= limit) {
            return;
        }
        let keep: Vec<u32> = (0..self.prio.len()).filter(|&r| self.prio[r] <= limit).map(|r| r as u32).collect();
        self.keep_rows(&keep);
    }

    /// Keeps the rows `keep` (ascending) and no others, in place: row i comes from row
    /// keep[i] ≥ i, and the columns keep their capacity for the next batches.
    fn keep_rows(&mut self, keep: &[u32]) {
        fn compact<T: Copy>(col: &mut Vec<T>, keep: &[u32]) {
            for (i, &r) in keep.iter().enumerate() {
                col[i] = col[r as usize];
            }
            col.truncate(keep.len());
        }
        compact(&mut self.prio, keep);
        for w in &mut self.words {
            compact(w, keep);
        }
        for v in &mut self.valid {
            compact(v, keep);
        }
    }

    /// Adds the rows of `other` (same columns); `other` is not modified.
    pub(crate) fn merge(&mut self, other: &Sample, cap: usize) {
        // Whichever side pruned to the smaller limit holds k rows at or below it.
        self.limit = self.limit.min(other.limit);
        self.push_batch(&other.prio, &other.words, &other.valid, cap);
    }

    /// Order of rows a and b by content: words in column order, then the validity bits as
    /// 64-column words (the order of the former row-wise sample, so ties break the same way).
    fn cmp_content(&self, a: usize, b: usize) -> Ordering {
        for w in &self.words {
            match w[a].cmp(&w[b]) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        for chunk in self.valid.chunks(64) {
            let word = |r: usize| chunk.iter().enumerate().fold(0u64, |m, (k, v)| m | (u64::from(v[r]) << k));
            match word(a).cmp(&word(b)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }

    /// Order of two (priority, row) pairs by (priority, content).
    fn cmp_keys(&self, a: &(u64, u32), b: &(u64, u32)) -> Ordering {
        a.0.cmp(&b.0).then_with(|| self.cmp_content(a.1 as usize, b.1 as usize))
    }

    /// (priority, row) pairs of the `take` smallest rows by (priority, content), in no order.
    fn smallest_keys(&self, take: usize) -> Vec<(u64, u32)> {
        let mut keys: Vec<(u64, u32)> = self.prio.iter().enumerate().map(|(r, &h)| (h, r as u32)).collect();
        if keys.len() > take {
            keys.select_nth_unstable_by(take, |a, b| self.cmp_keys(a, b));
            keys.truncate(take);
        }
        keys
    }

    /// (priority, row) pairs of the `take` smallest rows, sorted by (priority, content): on
    /// `pool` when given (the same order either way).
    fn sorted_keys(&self, take: usize, pool: Option<&rayon::ThreadPool>) -> Vec<(u64, u32)> {
        let mut keys = self.smallest_keys(take);
        match pool {
            Some(pool) => {
                use rayon::slice::ParallelSliceMut;
                pool.install(|| keys.par_sort_unstable_by(|a, b| self.cmp_keys(a, b)));
            }
            None => keys.sort_unstable_by(|a, b| self.cmp_keys(a, b)),
        }
        keys
    }

    /// Keeps the `cap` smallest rows by (priority, content).
    fn prune(&mut self, cap: usize) {
        let cap = cap.max(1);
        if self.len() <= cap {
            return;
        }
        let mut keys = self.smallest_keys(cap);
        // Row order, for a sequential gather.
        keys.sort_unstable_by_key(|k| k.1);
        self.limit = keys.iter().map(|k| k.0).max().unwrap_or(u64::MAX);
        let rows: Vec<u32> = keys.iter().map(|k| k.1).collect();
        self.keep_rows(&rows);
    }

    /// The first `take` rows in (priority, content) order, as word and validity columns;
    /// sorted and gathered on `pool` when given (the same columns either way).
    pub(crate) fn ordered(&self, take: usize, pool: Option<&rayon::ThreadPool>) -> (Vec<Vec<u64>>, Vec<Vec<bool>>) {
        let keys = self.sorted_keys(take, pool);
        let words = super::par_map(pool, &self.words, |w| keys.iter().map(|k| w[k.1 as usize]).collect());
        let valid = super::par_map(pool, &self.valid, |v| keys.iter().map(|k| v[k.1 as usize]).collect());
        (words, valid)
    }
}

impl Sample {
    /// Appends the canonical form: the `min(len, cap)` smallest rows in (priority, content)
    /// order, as a row count, the word columns and the validity columns packed 64 rows to a
    /// word. Priorities are not written: they are a function of the row (see [`Sample::read`]).
    pub(crate) fn write(&self, cap: usize, out: &mut Vec<u8>) {
        let keys = self.sorted_keys(cap.max(1), None);
        out.put_u64(keys.len() as u64);
        for w in &self.words {
            for k in &keys {
                out.put_u64(w[k.1 as usize]);
            }
        }
        for v in &self.valid {
            for chunk in keys.chunks(64) {
                out.put_u64(chunk.iter().enumerate().fold(0u64, |m, (b, k)| m | (u64::from(v[k.1 as usize]) << b)));
            }
        }
    }

    /// Reads what [`Sample::write`] wrote for `columns` columns, expecting `rows` rows (the
    /// sample of a state holds `min(rows seen, cap)`); recomputes each row's priority from
    /// `seed` and checks the canonical order. `word_ok(c, w)` tells a valid word of column c.
    pub(crate) fn read(
        r: &mut Reader,
        columns: usize,
        rows: usize,
        seed: u64,
        word_ok: impl Fn(usize, u64) -> bool,
    ) -> Result<Sample, String> {
        let m = r.usize_in(rows, rows, "sample rows")?;
        let words_per_col = m.div_ceil(64) + m;
        if columns.saturating_mul(words_per_col).saturating_mul(8) > r.remaining() {
            return Err(r.err("truncated"));
        }
        let mut s = Sample::new(columns);
        for w in s.words.iter_mut() {
            *w = r.u64s(m)?;
        }
        for v in s.valid.iter_mut() {
            let bits = r.u64s(m.div_ceil(64))?;
            *v = (0..m).map(|i| (bits[i / 64] >> (i % 64)) & 1 == 1).collect();
            if m % 64 != 0 && bits.last().is_some_and(|b| b >> (m % 64) != 0) {
                return Err(r.err("sample validity padding"));
            }
        }
        for c in 0..columns {
            for i in 0..m {
                let (w, v) = (s.words[c][i], s.valid[c][i]);
                if (!v && w != 0) || (v && !word_ok(c, w)) {
                    return Err(r.err("sample value"));
                }
            }
        }
        let start = priority_seed(seed);
        s.prio = (0..m)
            .map(|i| (0..columns).fold(start, |h, c| priority_step(h, c, s.words[c][i], s.valid[c][i])))
            .collect();
        let sorted =
            (1..m).all(|i| s.prio[i - 1].cmp(&s.prio[i]).then_with(|| s.cmp_content(i - 1, i)) != Ordering::Greater);
        if !sorted {
            return Err(r.err("sample rows out of order"));
        }
        Ok(s)
    }

    /// Marks the sample as holding `cap` rows at or below its largest priority (true after a
    /// read of a full sample), so later rows above it are rejected early.
    pub(crate) fn set_full(&mut self, cap: usize) {
        if self.len() >= cap {
            self.limit = self.prio.iter().copied().max().unwrap_or(u64::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(rows: &[(u64, u64, bool)]) -> (Vec<u64>, Vec<Vec<u64>>, Vec<Vec<bool>>) {
        let prio = rows.iter().map(|r| r.0).collect();
        let words = vec![rows.iter().map(|r| r.1).collect()];
        let valid = vec![rows.iter().map(|r| r.2).collect()];
        (prio, words, valid)
    }

    #[test]
    fn keeps_the_smallest_whatever_the_split() {
        let rows: Vec<(u64, u64, bool)> = (0..100u64).map(|i| ((i * 37) % 101, i, i % 3 != 0)).collect();
        let mut one = Sample::new(1);
        let (p, w, v) = batch(&rows);
        one.push_batch(&p, &w, &v, 10);
        let mut parts = Sample::new(1);
        for chunk in rows.chunks(7) {
            let mut s = Sample::new(1);
            let (p, w, v) = batch(chunk);
            s.push_batch(&p, &w, &v, 10);
            parts.merge(&s, 10);
        }
        let (a, b) = (one.ordered(10, None), parts.ordered(10, None));
        assert_eq!(a, b);
        let mut want: Vec<u64> = rows.iter().map(|r| r.0).collect();
        want.sort_unstable();
        let got: Vec<u64> = a.0[0].iter().map(|&i| (i * 37) % 101).collect();
        assert_eq!(got, want[..10]);
    }

    /// Merge trees of pre-filled states (the combine path: a merge lowers the limit, rows above
    /// it are dropped and full samples pruned before any column grows) keep exactly the `cap`
    /// smallest rows by (priority, content), with many equal priorities, and the pool's ordering
    /// equals the serial one.
    #[test]
    fn merges_that_drop_and_prune_first_keep_the_smallest() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut z = 11u64;
        let mut next = move || {
            z = z.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            z >> 33
        };
        for (n, cap, prios) in
            [(5000usize, 100usize, 1u64 << 31), (3000, 700, 500), (4000, 1, 1 << 20), (2500, 2000, 3000)]
        {
            let rows: Vec<(u64, u64, bool)> = (0..n).map(|_| (next() % prios, next() % 50, next() % 5 != 0)).collect();
            let mut want = rows.clone();
            want.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            want.truncate(cap);
            let want_cols = (
                vec![want.iter().map(|r| r.1).collect::<Vec<u64>>()],
                vec![want.iter().map(|r| r.2).collect::<Vec<bool>>()],
            );
            for parts in [1usize, 2, 3, 7] {
                // Thread-local states fed batch by batch, then merged in a row, the first into an
                // empty sample (as `CorrState::combine` does), then pairwise.
                let states: Vec<Sample> = rows
                    .chunks(n.div_ceil(parts))
                    .map(|chunk| {
                        let mut s = Sample::new(1);
                        for b in chunk.chunks(97) {
                            let (p, w, v) = batch(b);
                            s.push_batch(&p, &w, &v, cap);
                        }
                        s
                    })
                    .collect();
                let mut acc = Sample::new(1);
                for s in &states {
                    acc.merge(s, cap);
                }
                assert_eq!(acc.ordered(cap, None), want_cols, "n {n} cap {cap} parts {parts}");
                assert_eq!(acc.ordered(cap, Some(&pool)), want_cols, "pool: n {n} cap {cap} parts {parts}");
                let mut rev = Sample::new(1);
                for s in states.iter().rev() {
                    rev.merge(s, cap);
                }
                assert_eq!(rev.ordered(cap, None), want_cols, "reversed: n {n} cap {cap} parts {parts}");
            }
        }
    }

    /// The batch priorities (AVX-512 where the CPU has it) equal the row-by-row steps.
    #[test]
    fn batch_priorities_match_the_row_steps() {
        let mut z = 3u64;
        let mut next = || {
            z = z.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            z
        };
        for rows in [0usize, 1, 7, 8, 9, 2048] {
            let words: Vec<Vec<u64>> = (0..3).map(|_| (0..rows).map(|_| next()).collect()).collect();
            let valid: Vec<Vec<bool>> = (0..3).map(|_| (0..rows).map(|_| next() % 3 != 0).collect()).collect();
            let mut h = vec![priority_seed(42); rows];
            for c in 0..3 {
                priority_steps(&mut h, c, &words[c], &valid[c]);
            }
            let want: Vec<u64> = (0..rows)
                .map(|r| (0..3).fold(priority_seed(42), |h, c| priority_step(h, c, words[c][r], valid[c][r])))
                .collect();
            assert_eq!(h, want);
        }
    }

    #[test]
    fn equal_priorities_break_ties_by_content() {
        let mut s = Sample::new(1);
        let (p, w, v) = batch(&[(5, 9, true), (5, 3, true), (5, 3, false), (7, 1, true)]);
        s.push_batch(&p, &w, &v, 1);
        assert_eq!(s.ordered(1, None), (vec![vec![3]], vec![vec![false]]));
    }
}

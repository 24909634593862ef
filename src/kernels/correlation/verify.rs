//! Verification of functional-dependency candidates over all rows: the second scan of
//! `column_dependencies` and `table_context` (SQL: `dr_verify_dependencies`).
//!
//! The dependency search of [`super::CorrState`] finds candidates from exact count tables or
//! from the row sample; this state counts every candidate again over every row, so each
//! reported dependency carries the confidence, violations and μ⁺ of the whole table.
//!
//! **Reading of NULLs**: the rows judged are those whose determinant columns are all
//! non-NULL; in the dependent NULL counts as a value (equal to itself, different from every
//! value), as in SQL's `GROUP BY`. NaN is a value too.
//!
//! **Counts**: determinants sharing columns share one grouping. Per determinant, a hash map
//! gives each distinct value (the 64-bit word of a one-column determinant, a 64-bit hash of
//! the pair of words for two columns) a dense group id; per candidate, each group keeps its
//! first dependent value and that value's row count, and only the (group, value) pairs that
//! differ go to a side map. A dependency at confidence c has at most (1 − c)·n such pairs (a
//! group's distinct dependent values beyond its first are at most its rows off the majority),
//! so the side maps stay small exactly where the answer matters.
//!
//! That is the streaming path, for states whose rows outgrow the buffer. A state that kept
//! every row (the usual case) counts at finalize without maps: each column becomes dense codes
//! once; a one-column determinant's groups are its column's rows sorted by code (a counting
//! sort), a two-column one's are numbered within each value of its column with more values;
//! and each candidate's counts are read group by group. The outcome (caps, floors, measures)
//! is the streaming path's, checked by the tests; pairs of values are compared exactly there
//! rather than through a 64-bit hash.
//!
//! **Measures** per candidate X → Y over the n judged rows, with d distinct X values:
//! - confidence g₃ = Σ_x max_y c(x, y) / n and violations n − Σ_x max_y c(x, y) (Kivinen &
//!   Mannila 1995);
//! - μ⁺ = max(0, μ′), μ′ = 1 − (1 − pdep(X, Y)) / (1 − pdep(Y)) · (n − 1) / (n − d), with
//!   pdep(Y) = Σ_y (c(y)/n)² and pdep(X, Y) = (1/n) Σ_{x,y} c(x, y)² / c(x) (Piatetsky-Shapiro &
//!   Matheus 1993; the baselined μ⁺ of Parciak et al., "Measuring approximate functional
//!   dependencies: a comparative study", ICDE 2024, which found it among the best at telling
//!   real dependencies from chance ones; their PyPI package `afd-measures` is the test oracle).
//!
//! **Reported** when confidence ≥ the threshold (0.95), the determinant's groups average at
//! least two rows (n ≥ 2d: below that most groups hold one row and agree trivially), and the
//! dependent takes more than one value over the judged rows; a two-column determinant only when
//! neither of its columns alone is reported for the same dependent. Ordered by μ⁺.
//!
//! **Memory** is bounded by a byte budget turned into a cap on the groups of each determinant
//! and on the side pairs of each candidate. Going over a cap can only happen when the whole
//! table is over it (groups and side pairs of a union are at least those of any part), and the
//! result is decided from the totals, so it does not depend on how rows were split: a candidate
//! over a cap is dropped when the totals already rule it out (more than n/2 groups, or more
//! violations than the threshold allows), and otherwise returned unchanged as an
//! `fd_candidate` whose details say it was not verified.

#![allow(clippy::needless_range_loop)]

use super::{mix, Dependency, HashMap};
use crate::kernels::{Error, Result};

/// Word of a NULL dependent.
const NULL_WORD: u64 = 0x6e75_6c6c_6e75_6c6c;

/// At most this many candidates are verified; the rest are returned unverified.
pub const MAX_CANDIDATES: usize = 4096;

/// Options of the verification.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyOptions {
    /// Minimum confidence of a reported dependency (0.95, as the candidate search).
    pub min_confidence: f64,
    /// Bytes one state's group maps may hold (default 1 GiB).
    pub budget_bytes: usize,
    /// Bytes of rows a state keeps ungrouped until finalize (default 512 MiB).
    pub buffer_bytes: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { min_confidence: 0.95, budget_bytes: 1 << 30, buffer_bytes: 1 << 29 }
    }
}

/// One column of a batch: a 64-bit word per row (equal values, equal words) and validity.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    /// Word of each row (unspecified where not valid).
    pub words: &'a [u64],
    /// Whether each row is non-NULL.
    pub valid: &'a [bool],
}

/// Value key → dense group id: open addressing with linear probing over (key, id) slots, so a
/// lookup touches one cache line (keys are 64-bit mixes, so their low bits spread evenly).
#[derive(Debug, Clone, Default)]
struct GroupIds {
    /// (key, id + 1); id + 1 = 0 marks an empty slot.
    slots: Vec<(u64, u32)>,
    len: usize,
}

impl GroupIds {
    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The id of `key`, inserting `next` when absent (then the caller records the key).
    #[inline]
    fn get_or_insert(&mut self, key: u64, next: u32) -> u32 {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let (k, id) = self.slots[i];
            if id == 0 {
                self.slots[i] = (key, next + 1);
                self.len += 1;
                return next;
            }
            if k == key {
                return id - 1;
            }
            i = (i + 1) & mask;
        }
    }

    /// Loads the slot each key would probe first, without branching on what it finds.
    fn touch(&self, keys: impl Iterator<Item = u64>) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut sink = 0u64;
        for key in keys {
            sink ^= self.slots[(key as usize) & mask].0;
        }
        std::hint::black_box(sink);
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); cap]);
        let mask = cap - 1;
        for (k, id) in old.into_iter().filter(|s| s.1 != 0) {
            let mut i = (k as usize) & mask;
            while self.slots[i].1 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (k, id);
        }
    }
}

/// Rows of one determinant, grouped by value, with the first-value records of every
/// candidate sharing it.
#[derive(Debug, Clone, Default)]
struct Det {
    cols: Vec<usize>,
    /// Value key → dense group id.
    ids: GroupIds,
    /// Group id → value key.
    keys: Vec<u64>,
    /// Dependent column of each member (the candidates on this determinant).
    deps: Vec<usize>,
    /// Per group, per member j: (first dependent word, its rows) at `g * deps.len() + j`, so
    /// one row's records for every member share a cache line or two.
    first: Vec<(u64, u64)>,
    /// Per member: (group, word) → rows, for words other than the group's first.
    sides: Vec<HashMap<(u32, u64), u64>>,
    /// Per member: more side pairs than the cap (its side map is dropped).
    overs: Vec<bool>,
    /// Rows with every determinant column non-NULL.
    rows: u64,
    /// More groups than the cap (the maps are dropped).
    over: bool,
    /// More than half as many groups as the state has rows, found while grouping at finalize:
    /// every member fails the floor n ≥ 2·groups whatever the remaining rows, so the grouping
    /// stopped there (the maps are dropped).
    hopeless: bool,
}

impl Det {
    fn drop_maps(&mut self) {
        self.ids = GroupIds::default();
        self.keys = Vec::new();
        self.first = Vec::new();
        for j in 0..self.deps.len() {
            self.sides[j] = HashMap::default();
            self.overs[j] = true;
        }
    }

    /// The group id of value key `key`, a new one when first seen.
    #[inline]
    fn group_of(&mut self, key: u64) -> u32 {
        let next = self.keys.len() as u32;
        let g = self.ids.get_or_insert(key, next);
        if g == next {
            self.keys.push(key);
        }
        g
    }

    /// More than n/2 groups (counted, under the cap): no member can pass the floor n ≥ 2·groups.
    fn hopeless(&self, group_cap: usize) -> bool {
        self.hopeless || (!self.over && self.keys.len() <= group_cap && self.keys.len() as u64 * 2 > self.rows)
    }

    /// Whether the groups outgrew `group_cap` (then the maps are dropped).
    fn outgrew(&mut self, group_cap: usize) -> bool {
        if self.keys.len() > group_cap {
            self.over = true;
            self.drop_maps();
        }
        self.over
    }

    /// Marks members whose side map outgrew `side_cap`.
    fn check_sides(&mut self, side_cap: usize) {
        for j in 0..self.deps.len() {
            if !self.overs[j] && self.sides[j].len() > side_cap {
                self.overs[j] = true;
                self.sides[j] = HashMap::default();
            }
        }
    }

    /// Adds a batch: `keys` are (row, value key) of the judged rows (already counted in
    /// `rows`), `deps[j]` the dependent column of member j.
    fn add_batch(&mut self, keys: &[(u32, u64)], deps: &[Words], gids: &mut [u32], group_cap: usize, side_cap: usize) {
        if self.over {
            return;
        }
        // A branch-free pass of independent loads first brings the probed slots into cache
        // many at a time; the probing pass below then mostly hits.
        self.ids.touch(keys.iter().map(|k| k.1));
        for &(r, key) in keys {
            gids[r as usize] = self.group_of(key);
        }
        if self.outgrew(group_cap) {
            return;
        }
        let k = self.deps.len();
        self.first.resize(self.keys.len() * k, (0, 0));
        // The same for the records of the groups the batch touches.
        let mut sink = 0u64;
        for &(r, _) in keys {
            sink ^= self.first[gids[r as usize] as usize * k].1;
        }
        std::hint::black_box(sink);
        for &(r, _) in keys {
            let r = r as usize;
            let g = gids[r];
            let base = g as usize * k;
            for j in 0..k {
                if self.overs[j] {
                    continue;
                }
                let d = &deps[j];
                let w = if d.valid[r] { d.words[r] } else { NULL_WORD };
                add(&mut self.first[base + j], &mut self.sides[j], g, w, 1);
            }
        }
        self.check_sides(side_cap);
    }

    /// Merges the same determinant's counts over other rows.
    fn merge(&mut self, od: &Det, group_cap: usize, side_cap: usize) {
        self.rows += od.rows;
        if self.over || od.over {
            self.over = true;
            self.drop_maps();
            return;
        }
        let mut remap: Vec<u32> = Vec::with_capacity(od.keys.len());
        self.ids.touch(od.keys.iter().copied());
        for &key in &od.keys {
            remap.push(self.group_of(key));
        }
        if self.outgrew(group_cap) {
            return;
        }
        let k = self.deps.len();
        self.first.resize(self.keys.len() * k, (0, 0));
        for (g, &to) in remap.iter().enumerate() {
            for j in 0..k {
                let (w, c) = od.first[g * k + j];
                if c > 0 && !self.overs[j] && !od.overs[j] {
                    add(&mut self.first[to as usize * k + j], &mut self.sides[j], to, w, c);
                }
            }
        }
        for j in 0..k {
            if self.overs[j] || od.overs[j] {
                self.overs[j] = true;
                self.sides[j] = HashMap::default();
                continue;
            }
            for (&(g, w), &c) in &od.sides[j] {
                let to = remap[g as usize];
                add(&mut self.first[to as usize * k + j], &mut self.sides[j], to, w, c);
            }
        }
        self.check_sides(side_cap);
    }
}

/// Rows kept as they came (the words and validity of the needed columns) until finalize,
/// while they fit half the budget: then finalize groups every determinant in parallel and no
/// merge of group maps is needed. Past that the state streams (see [`VerifyState::update`]);
/// the counts are the same either way.
#[derive(Debug, Clone, Default)]
struct Buffer {
    /// Per column: words and validity (empty for columns no candidate reads).
    words: Vec<Vec<u64>>,
    valid: Vec<Vec<bool>>,
    rows: usize,
}

/// Rows per batch when buffered rows are grouped.
const BATCH: usize = 2048;

/// Groups `rows` rows of `cols` into `det` (the determinant's own loop of `update`).
fn det_batch(
    det: &mut Det,
    cols: &[Option<Words>],
    rows: usize,
    keys: &mut Vec<(u32, u64)>,
    gids: &mut Vec<u32>,
    caps: (usize, usize),
) -> Result<()> {
    let col = |c: usize| -> Result<Words> {
        match cols.get(c) {
            Some(Some(w)) if w.words.len() >= rows && w.valid.len() >= rows => Ok(*w),
            _ => Err(Error::invalid("dr_verify_dependencies: a needed column is missing from the batch")),
        }
    };
    let det_cols: Vec<Words> = det.cols.iter().map(|&c| col(c)).collect::<Result<_>>()?;
    let deps: Vec<Words> = det.deps.iter().map(|&c| col(c)).collect::<Result<_>>()?;
    // Keys of the judged rows (rows with a NULL determinant column are left out).
    keys.clear();
    for r in 0..rows {
        if det_cols.iter().all(|w| w.valid[r]) {
            let key = match det_cols.as_slice() {
                [a] => a.words[r],
                many => many.iter().fold(0u64, |k, w| mix(k.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ w.words[r])),
            };
            keys.push((r as u32, key));
        }
    }
    det.rows += keys.len() as u64;
    if gids.len() < rows {
        gids.resize(rows, u32::MAX);
    }
    det.add_batch(keys, &deps, gids, caps.0, caps.1);
    Ok(())
}

/// Groups every buffered row into `det`, batch by batch. `total`: every row the state will
/// ever judge (at finalize), to stop a determinant that can no longer pass the floor.
fn det_from_buffer(det: &mut Det, buf: &Buffer, caps: (usize, usize), total: Option<u64>) -> Result<()> {
    let (mut keys, mut gids) = (Vec::with_capacity(BATCH), vec![u32::MAX; BATCH]);
    let mut lo = 0;
    while lo < buf.rows {
        let hi = (lo + BATCH).min(buf.rows);
        let cols: Vec<Option<Words>> = buf
            .words
            .iter()
            .zip(&buf.valid)
            .map(|(w, v)| (!w.is_empty()).then(|| Words { words: &w[lo..hi], valid: &v[lo..hi] }))
            .collect();
        det_batch(det, &cols, hi - lo, &mut keys, &mut gids, caps)?;
        if total.is_some_and(|t| !det.over && det.keys.len() as u64 * 2 > t) {
            det.hopeless = true;
            det.drop_maps();
            return Ok(());
        }
        lo = hi;
    }
    Ok(())
}

/// A vector of `len` copies of `x`; a clear error instead of an aborting allocation (the
/// lengths come from the data: rows and distinct values).
fn filled<T: Clone>(len: usize, x: T) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::budget(format!(
            "cannot allocate {len} entries to group rows by value; lower memory_limit (fewer rows kept per \
             state) or sample_size"
        ))
    })?;
    v.resize(len, x);
    Ok(v)
}

/// One buffered column as dense codes: per row the number of its value in order of first
/// appearance, `u32::MAX` where NULL.
struct Codes {
    code: Vec<u32>,
    /// Distinct non-NULL values (codes are below it).
    values: u32,
}

fn dense_codes(words: &[u64], valid: &[bool]) -> Result<Codes> {
    let mut code = filled(words.len(), u32::MAX)?;
    let mut ids = GroupIds::default();
    let mut values = 0u32;
    for (lo, chunk) in words.chunks(BATCH).enumerate() {
        let lo = lo * BATCH;
        ids.touch(chunk.iter().copied());
        for (k, &w) in chunk.iter().enumerate() {
            if valid[lo + k] {
                let c = ids.get_or_insert(w, values);
                values += (c == values) as u32;
                code[lo + k] = c;
            }
        }
    }
    Ok(Codes { code, values })
}

/// What finalize needs of a determinant.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// Judged rows (every determinant column non-NULL).
    rows: u64,
    /// Distinct determinant values.
    groups: u64,
    /// More than half as many groups as rows: no member passes the floor n ≥ 2·groups.
    hopeless: bool,
    /// More groups than the cap.
    over: bool,
}

impl Summary {
    /// The summary of `rows` judged rows in `groups` groups (the streaming path's rules: over
    /// the cap first, then hopeless).
    fn of(rows: u64, groups: u32, group_cap: usize) -> Summary {
        let over = groups as usize > group_cap;
        Summary { rows, groups: u64::from(groups), over, hopeless: !over && 2 * u64::from(groups) > rows }
    }
}

/// Rows by group: group g's rows are `rows[start[g]..start[g + 1]]`, ascending.
#[derive(Clone)]
pub(super) struct Grouped {
    pub(super) start: Vec<u32>,
    pub(super) rows: Vec<u32>,
}

/// Group ids of the judged rows of a two-column determinant (u32::MAX where not judged), and
/// how many groups. `outer` is one column's rows by value; within each of its values the other
/// column's codes are numbered through a scratch table the size of that column's values (reset
/// through the list of codes touched), so no pair is hashed.
fn pair_groups(outer: &Grouped, inner: &Codes) -> Result<(Vec<u32>, u32)> {
    let mut gid = filled(inner.code.len(), u32::MAX)?;
    let mut scratch = filled(inner.values as usize, u32::MAX)?;
    let mut touched: Vec<u32> = Vec::new();
    let mut next = 0u32;
    for w in outer.start.windows(2) {
        for &r in &outer.rows[w[0] as usize..w[1] as usize] {
            let y = inner.code[r as usize];
            if y == u32::MAX {
                continue;
            }
            let t = &mut scratch[y as usize];
            if *t == u32::MAX {
                *t = next;
                next += 1;
                touched.push(y);
            }
            gid[r as usize] = *t;
        }
        for &y in &touched {
            scratch[y as usize] = u32::MAX;
        }
        touched.clear();
    }
    Ok((gid, next))
}

/// The rows of each group (a stable counting sort of the rows by group id; rows whose id is
/// u32::MAX are left out). Also the sample's rows by value in [`super::deps`].
pub(super) fn rows_by_group(gid: &[u32], groups: u32) -> Result<Grouped> {
    let mut start = filled(groups as usize + 1, 0u32)?;
    let mut judged = 0usize;
    for &g in gid {
        if g != u32::MAX {
            start[g as usize + 1] += 1;
            judged += 1;
        }
    }
    for g in 0..groups as usize {
        start[g + 1] += start[g];
    }
    let mut at = start.clone();
    let mut rows = filled(judged, 0u32)?;
    for (r, &g) in gid.iter().enumerate() {
        if g != u32::MAX {
            rows[at[g as usize] as usize] = r as u32;
            at[g as usize] += 1;
        }
    }
    Ok(Grouped { start, rows })
}

/// Measures of X → `dep` from the rows of X's groups, with whether the side pairs (distinct
/// (group, value) pairs beyond one per group: what the streaming path keeps in a side map)
/// exceed `side_cap` — then None, as there.
fn measure_grouped(g: &Grouped, dep: &Codes, side_cap: usize) -> Result<Option<Measures>> {
    let n = g.rows.len() as u64;
    if n == 0 {
        return Ok(None);
    }
    // NULL dependents are one more value.
    let null = dep.values;
    let mut cnt = filled(null as usize + 1, 0u32)?;
    let mut by_value = filled(null as usize + 1, 0u64)?;
    let mut touched: Vec<u32> = Vec::new();
    let (mut agree, mut pairs, mut singles) = (0u64, 0u64, 0u64);
    let mut xy = crate::kernels::exact::ExactSum::<1>::new();
    for w in g.start.windows(2) {
        let rows = &g.rows[w[0] as usize..w[1] as usize];
        if let [r] = rows {
            // One row: its value agrees, and its term c²/size is 1 (added below, all at once).
            by_value[dep.code[*r as usize].min(null) as usize] += 1;
            singles += 1;
            continue;
        }
        touched.clear();
        for &r in rows {
            let v = dep.code[r as usize].min(null);
            if cnt[v as usize] == 0 {
                touched.push(v);
            }
            cnt[v as usize] += 1;
        }
        // Σ c² ≤ size² < 2⁶⁴ (fewer than 2³² rows): u64 is exact, and converts as u128 would.
        let (mut best, mut sq) = (0u64, 0u64);
        for &v in &touched {
            let c = u64::from(std::mem::take(&mut cnt[v as usize]));
            best = best.max(c);
            sq += c * c;
            by_value[v as usize] += c;
        }
        agree += best;
        pairs += touched.len() as u64;
        xy.add_f64(sq as f64 / rows.len() as f64);
    }
    // The exact sum does not depend on the order of its terms.
    xy.add_f64(singles as f64);
    agree += singles;
    pairs += singles;
    let groups = g.start.len() as u64 - 1;
    if pairs - groups > side_cap as u64 {
        return Ok(None);
    }
    let sq_y: u128 = by_value.iter().map(|&c| u128::from(c) * u128::from(c)).sum();
    let dependent_values = by_value.iter().filter(|&&c| c > 0).count();
    Ok(Some(mu_plus(n, groups, agree, xy.to_f64(), sq_y, dependent_values)))
}

/// Where a candidate's counts live: its determinant and its position among that
/// determinant's members.
#[derive(Debug, Clone, Default)]
struct Cand {
    det: usize,
    slot: usize,
}

/// Adds `c` rows of dependent word `w` to the record `f` of group `g`, or to `side`.
#[inline]
fn add(f: &mut (u64, u64), side: &mut HashMap<(u32, u64), u64>, g: u32, w: u64, c: u64) {
    if f.1 == 0 {
        *f = (w, c);
    } else if f.0 == w {
        f.1 += c;
    } else {
        *side.entry((g, w)).or_insert(0) += c;
    }
}

/// The mergeable state of `dr_verify_dependencies`. `Default` (unbound) is the identity of
/// `combine`.
#[derive(Debug, Clone, Default)]
pub struct VerifyState {
    options: VerifyOptions,
    /// The candidates as given (kind `fd_candidate`).
    candidates: Vec<Dependency>,
    /// Column names of the rows, once bound.
    columns: Vec<String>,
    bound: bool,
    dets: Vec<Det>,
    cands: Vec<Cand>,
    /// Candidate index → index into `cands` (None: not verified, beyond [`MAX_CANDIDATES`]).
    slot: Vec<Option<usize>>,
    rows: u64,
    group_cap: usize,
    side_cap: usize,
    /// Rows not grouped yet (None once the state streams).
    buffer: Option<Buffer>,
    /// Bytes the buffer may hold.
    buffer_cap: usize,
    /// Columns some candidate reads (set by `bind`).
    need: Vec<bool>,
    /// Buffer bytes per row: a word and a validity byte per needed column.
    row_bytes: usize,
}

impl VerifyState {
    /// A state verifying `candidates` (entries of another kind are ignored).
    pub fn new(candidates: Vec<Dependency>, options: VerifyOptions) -> Self {
        let candidates = candidates.into_iter().filter(|d| d.kind == "fd_candidate").collect();
        VerifyState { options, candidates, ..Default::default() }
    }

    /// Whether `bind` ran.
    pub fn is_bound(&self) -> bool {
        self.bound
    }

    /// Resolves candidate column names against the row's columns. A candidate naming a
    /// column the row does not have is an error (the candidates came from another table).
    pub fn bind(&mut self, columns: &[String]) -> Result<()> {
        if self.bound {
            if columns != self.columns.as_slice() {
                return Err(Error::invalid("dr_verify_dependencies: the row's columns changed between batches"));
            }
            return Ok(());
        }
        let index: HashMap<&str, usize> = columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
        let find = |name: &str| -> Result<usize> {
            index.get(name).copied().ok_or_else(|| {
                Error::invalid(format!(
                    "dr_verify_dependencies: candidate column '{name}' is not a column of the rows; pass the \
                     dependencies dr_correlations found on the same table"
                ))
            })
        };
        let mut det_of: HashMap<Vec<usize>, usize> = HashMap::default();
        for d in &self.candidates {
            if d.determinant.is_empty() || d.determinant.len() > 2 {
                return Err(Error::invalid(format!(
                    "dr_verify_dependencies: a candidate needs a determinant of one or two columns, got {}",
                    d.determinant.len()
                )));
            }
            let dep_name = d
                .dependent
                .as_deref()
                .ok_or_else(|| Error::invalid("dr_verify_dependencies: a candidate has no dependent column"))?;
            let cols = d.determinant.iter().map(|c| find(c)).collect::<Result<Vec<usize>>>()?;
            let dep = find(dep_name)?;
            if cols.contains(&dep) || (cols.len() == 2 && cols[0] == cols[1]) {
                return Err(Error::invalid(format!(
                    "dr_verify_dependencies: candidate {:?} -> '{dep_name}' repeats a column",
                    d.determinant
                )));
            }
            if self.cands.len() >= MAX_CANDIDATES {
                self.slot.push(None);
                continue;
            }
            let next = self.dets.len();
            let det = *det_of.entry(cols.clone()).or_insert(next);
            if det == next {
                self.dets.push(Det { cols, ..Default::default() });
            }
            let d = &mut self.dets[det];
            let slot = d.deps.len();
            d.deps.push(dep);
            d.sides.push(HashMap::default());
            d.overs.push(false);
            self.slot.push(Some(self.cands.len()));
            self.cands.push(Cand { det, slot });
        }
        // Bytes per group of a determinant: its map entry and key (~40), per candidate the
        // first-value record (~24); per side pair ~40. Side caps are a quarter of the group cap.
        let per_group = 40 * self.dets.len() + 24 * self.cands.len() + 10 * self.cands.len();
        self.group_cap = (self.options.budget_bytes / per_group.max(1)).max(16);
        self.side_cap = (self.group_cap / 4).max(16);
        self.columns = columns.to_vec();
        self.bound = true;
        self.buffer_cap = self.options.buffer_bytes;
        self.need = vec![false; columns.len()];
        for d in &self.dets {
            for &c in d.cols.iter().chain(&d.deps) {
                self.need[c] = true;
            }
        }
        self.row_bytes = 9 * self.need.iter().filter(|&&x| x).count().max(1);
        self.buffer =
            Some(Buffer { words: vec![Vec::new(); columns.len()], valid: vec![Vec::new(); columns.len()], rows: 0 });
        Ok(())
    }

    /// Columns whose words `update` reads (the others may be passed as None).
    pub fn needed(&self) -> &[bool] {
        &self.need
    }

    /// Adds `rows` rows; `cols[c]` holds the words of column c (required where `needed`).
    pub fn update(&mut self, cols: &[Option<Words>], rows: usize) -> Result<()> {
        if !self.bound {
            return Err(Error::invalid("dr_verify_dependencies: update before bind"));
        }
        for (c, &needed) in self.need.iter().enumerate() {
            if needed && !matches!(cols.get(c), Some(Some(w)) if w.words.len() >= rows && w.valid.len() >= rows) {
                return Err(Error::invalid("dr_verify_dependencies: a needed column is missing from the batch"));
            }
        }
        self.rows += rows as u64;
        if let Some(buf) = &mut self.buffer {
            for (c, &needed) in self.need.iter().enumerate() {
                if let (true, Some(Some(w))) = (needed, cols.get(c)) {
                    buf.words[c].extend_from_slice(&w.words[..rows]);
                    buf.valid[c].extend_from_slice(&w.valid[..rows]);
                }
            }
            buf.rows += rows;
            if buf.rows * self.row_bytes > self.buffer_cap {
                self.stream(None, None)?;
            }
            return Ok(());
        }
        let (mut keys, mut gids) = (Vec::with_capacity(rows), vec![u32::MAX; rows]);
        let caps = (self.group_cap, self.side_cap);
        for det in &mut self.dets {
            det_batch(det, cols, rows, &mut keys, &mut gids, caps)?;
        }
        Ok(())
    }

    /// Groups the buffered rows (determinants in parallel on `pool`) and streams from then on.
    /// `total`: the state's final row count (at finalize).
    fn stream(&mut self, pool: Option<&rayon::ThreadPool>, total: Option<u64>) -> Result<()> {
        let Some(buf) = self.buffer.take() else {
            return Ok(());
        };
        let caps = (self.group_cap, self.side_cap);
        let done: Vec<Result<()>> = match pool {
            Some(pool) => {
                use rayon::prelude::*;
                pool.install(|| self.dets.par_iter_mut().map(|det| det_from_buffer(det, &buf, caps, total)).collect())
            }
            None => self.dets.iter_mut().map(|det| det_from_buffer(det, &buf, caps, total)).collect(),
        };
        done.into_iter().collect()
    }

    /// Merges `other` (built from the same candidates over other rows) into `self`,
    /// determinants in parallel on `pool` when given.
    pub fn combine(&mut self, other: &VerifyState, pool: Option<&rayon::ThreadPool>) -> Result<()> {
        if !other.bound {
            self.rows += other.rows;
            return Ok(());
        }
        if !self.bound {
            *self = other.clone();
            return Ok(());
        }
        if self.candidates != other.candidates || self.columns != other.columns || self.options != other.options {
            return Err(Error::invalid(
                "dr_verify_dependencies: states built from different candidates, columns or options cannot be merged",
            ));
        }
        // Buffers append while the union fits; otherwise both sides stream.
        if let (Some(mine), Some(theirs)) = (&mut self.buffer, &other.buffer) {
            if (mine.rows + theirs.rows) * self.row_bytes <= self.buffer_cap {
                for c in 0..mine.words.len() {
                    mine.words[c].extend_from_slice(&theirs.words[c]);
                    mine.valid[c].extend_from_slice(&theirs.valid[c]);
                }
                mine.rows += theirs.rows;
                self.rows += other.rows;
                return Ok(());
            }
        }
        self.stream(pool, None)?;
        let streamed;
        let other = match &other.buffer {
            Some(_) => {
                let mut o = other.clone();
                o.stream(pool, None)?;
                streamed = o;
                &streamed
            }
            None => other,
        };
        self.rows += other.rows;
        let (group_cap, side_cap) = (self.group_cap, self.side_cap);
        let work = |(det, od): (&mut Det, &Det)| det.merge(od, group_cap, side_cap);
        match pool {
            Some(pool) => {
                use rayon::prelude::*;
                pool.install(|| self.dets.par_iter_mut().zip(other.dets.par_iter()).for_each(work))
            }
            None => self.dets.iter_mut().zip(other.dets.iter()).for_each(work),
        }
        Ok(())
    }

    /// Approximate heap bytes.
    pub fn state_bytes(&self) -> usize {
        self.dets
            .iter()
            .map(|d| {
                d.keys.capacity() * 8
                    + d.ids.capacity() * 16
                    + d.first.capacity() * 16
                    + d.sides.iter().map(|m| m.capacity() * 25).sum::<usize>()
            })
            .sum::<usize>()
            + self.buffer.as_ref().map_or(0, |b| b.words.iter().map(|w| w.capacity() * 9).sum())
    }

    /// Counts every candidate from the buffered rows (all the state's rows): each needed column
    /// becomes dense codes once, a determinant's rows are sorted by group with a counting sort,
    /// and each member's counts are read group by group — no hash map per determinant and no
    /// side maps. The outcome is the streaming path's: the same caps, floors and measures.
    fn count_buffered(
        &self,
        buf: &Buffer,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(Vec<Summary>, Vec<Option<Measures>>)> {
        let need: Vec<usize> = (0..self.need.len()).filter(|&c| self.need[c]).collect();
        let coded: Vec<Result<Codes>> =
            super::par_map(pool, &need, |&c| dense_codes(&buf.words[c][..buf.rows], &buf.valid[c][..buf.rows]));
        let mut codes: Vec<Option<Codes>> = (0..self.need.len()).map(|_| None).collect();
        for (c, r) in need.into_iter().zip(coded) {
            codes[c] = Some(r?);
        }
        let code =
            |c: usize| codes[c].as_ref().ok_or_else(|| Error::invalid("dr_verify_dependencies: column not coded"));
        // The rows of every determinant column by value: a one-column determinant's groups,
        // and the outer loop of a two-column one's.
        let mut det_col = vec![false; self.need.len()];
        for det in &self.dets {
            for &c in &det.cols {
                det_col[c] = true;
            }
        }
        let det_cols: Vec<usize> = (0..det_col.len()).filter(|&c| det_col[c]).collect();
        let sorted: Vec<Result<Grouped>> = super::par_map(pool, &det_cols, |&c| {
            let c = code(c)?;
            rows_by_group(&c.code, c.values)
        });
        let mut by_value: Vec<Option<Grouped>> = (0..self.need.len()).map(|_| None).collect();
        for (c, g) in det_cols.into_iter().zip(sorted) {
            by_value[c] = Some(g?);
        }
        let by_value =
            |c: usize| by_value[c].as_ref().ok_or_else(|| Error::invalid("dr_verify_dependencies: column not grouped"));
        let (group_cap, side_cap) = (self.group_cap, self.side_cap);
        let det_ids: Vec<usize> = (0..self.dets.len()).collect();
        let per_det: Vec<Result<(Summary, Vec<Option<Measures>>)>> = super::par_map(pool, &det_ids, |&i| {
            let det = &self.dets[i];
            let (grouped, groups) = match det.cols.as_slice() {
                [a] => (std::borrow::Cow::Borrowed(by_value(*a)?), code(*a)?.values),
                [a, b] => {
                    // The column with more values outside: the scratch table is the smaller.
                    let (a, b) = if code(*a)?.values >= code(*b)?.values { (*a, *b) } else { (*b, *a) };
                    let (gid, groups) = pair_groups(by_value(a)?, code(b)?)?;
                    // Over the cap or hopeless: no need to sort the rows by group.
                    let s = Summary::of(gid.iter().filter(|&&g| g != u32::MAX).count() as u64, groups, group_cap);
                    if s.over || s.hopeless {
                        return Ok((s, Vec::new()));
                    }
                    (std::borrow::Cow::Owned(rows_by_group(&gid, groups)?), groups)
                }
                _ => return Err(Error::invalid("dr_verify_dependencies: a determinant of one or two columns")),
            };
            let s = Summary::of(grouped.rows.len() as u64, groups, group_cap);
            if s.over || s.hopeless {
                return Ok((s, Vec::new()));
            }
            let m: Vec<Result<Option<Measures>>> =
                super::par_map(pool, &det.deps, |&dep| measure_grouped(&grouped, code(dep)?, side_cap));
            Ok((s, m.into_iter().collect::<Result<_>>()?))
        });
        let mut summaries = Vec::with_capacity(per_det.len());
        let mut by_det = Vec::with_capacity(per_det.len());
        for r in per_det {
            let (s, m) = r?;
            summaries.push(s);
            by_det.push(m);
        }
        let measures = (0..self.candidates.len())
            .map(|k| {
                let cand = &self.cands[self.slot.get(k).copied().flatten()?];
                by_det[cand.det].get_mut(cand.slot)?.take()
            })
            .collect();
        Ok((summaries, measures))
    }

    /// Counts every candidate from the group maps of a state that streamed.
    fn count_streamed(&self, pool: Option<&rayon::ThreadPool>) -> (Vec<Summary>, Vec<Option<Measures>>) {
        let summaries: Vec<Summary> = self
            .dets
            .iter()
            .map(|det| Summary {
                rows: det.rows,
                groups: det.keys.len() as u64,
                hopeless: det.hopeless(self.group_cap),
                over: det.over || det.keys.len() > self.group_cap,
            })
            .collect();
        // The measures of every candidate whose counts are complete, in parallel on `pool` (each
        // walks its determinant's groups; the determinants with ~10⁵ groups dominate).
        let wanted: Vec<usize> = (0..self.candidates.len())
            .filter(|&k| {
                self.slot.get(k).copied().flatten().is_some_and(|ci| {
                    let (cand, s) = (&self.cands[ci], &summaries[self.cands[ci].det]);
                    !(s.hopeless || s.over || self.dets[cand.det].overs[cand.slot])
                })
            })
            .collect();
        let measured: Vec<Option<Measures>> = super::par_map(pool, &wanted, |&k| {
            let cand = &self.cands[self.slot[k].unwrap_or_default()];
            let det = &self.dets[cand.det];
            measure(det, cand.slot, det.rows)
        });
        let mut measures: Vec<Option<Measures>> = (0..self.candidates.len()).map(|_| None).collect();
        for (k, m) in wanted.into_iter().zip(measured) {
            measures[k] = m;
        }
        (summaries, measures)
    }

    /// The verified dependencies (kind `functional_dependency`, ordered by μ⁺), then the
    /// candidates that could not be verified (kind `fd_candidate`, details say why).
    pub fn finalize(&mut self, pool: Option<&rayon::ThreadPool>) -> Result<Vec<Dependency>> {
        let (summaries, mut measures) = match self.buffer.take() {
            Some(buf) if buf.rows < u32::MAX as usize => self.count_buffered(&buf, pool)?,
            buf => {
                self.buffer = buf;
                self.stream(pool, Some(self.rows))?;
                self.count_streamed(pool)
            }
        };
        let min = self.options.min_confidence;
        let mut verified: Vec<(usize, Dependency)> = Vec::new();
        let mut unverified: Vec<Dependency> = Vec::new();
        for (k, cand0) in self.candidates.iter().enumerate() {
            let Some(ci) = self.slot.get(k).copied().flatten() else {
                if self.bound {
                    unverified.push(not_verified(cand0, format!("more than {MAX_CANDIDATES} candidates")));
                }
                continue;
            };
            let cand = &self.cands[ci];
            let det = &summaries[cand.det];
            let n = det.rows;
            if det.hopeless {
                // fails the floor n ≥ 2·groups below, whatever its counts
                continue;
            }
            if det.over {
                // More than group_cap groups: the floor (n ≥ 2 groups) rules it out unless
                // n > 2 · group_cap.
                if n > 2 * self.group_cap as u64 {
                    unverified.push(not_verified(
                        cand0,
                        format!("the determinant has more than {} values (memory budget)", self.group_cap),
                    ));
                }
                continue;
            }
            let threshold_violations = ((1.0 - min) * n as f64).floor() as u64;
            let m = match measures[k].take() {
                Some(m) if m.violations <= self.side_cap as u64 => m,
                _ => {
                    // More violations than side_cap: ruled out when that exceeds what the
                    // threshold allows.
                    if (self.side_cap as u64) < threshold_violations {
                        unverified.push(not_verified(
                            cand0,
                            format!(
                                "more than {} dependent values off their group's first (memory budget)",
                                self.side_cap
                            ),
                        ));
                    }
                    continue;
                }
            };
            let d = det.groups;
            if n == 0 || n < 2 * d || m.conf < min || m.dependent_values < 2 {
                continue;
            }
            let left_out = self.rows - n;
            verified.push((
                self.dets[cand.det].cols.len(),
                Dependency {
                    kind: "functional_dependency".into(),
                    determinant: cand0.determinant.clone(),
                    dependent: cand0.dependent.clone(),
                    confidence: m.conf,
                    violations: m.violations,
                    mu_plus: Some(m.mu_plus),
                    rows: Some(n),
                    determinant_values: Some(d),
                    expression: None,
                    details: format!(
                        "{} over all {} rows with a non-NULL determinant ({} with a NULL determinant left out; NULL in \
                         the dependent counted as a value); {} determinant values, {:.2} rows each on average; mu_plus {:.4}",
                        if m.violations == 0 { "exact" } else { "approximate" },
                        n,
                        left_out,
                        d,
                        n as f64 / d as f64,
                        m.mu_plus
                    ),
                },
            ));
        }
        // Minimality: (A, B) → C only when neither A → C nor B → C is reported.
        let singles: std::collections::HashSet<(String, String)> = verified
            .iter()
            .filter(|(k, _)| *k == 1)
            .map(|(_, d)| (d.determinant[0].clone(), d.dependent.clone().unwrap_or_default()))
            .collect();
        let mut out: Vec<Dependency> = verified
            .into_iter()
            .filter(|(k, d)| {
                *k == 1 || {
                    let y = d.dependent.clone().unwrap_or_default();
                    !d.determinant.iter().any(|x| singles.contains(&(x.clone(), y.clone())))
                }
            })
            .map(|(_, d)| d)
            .collect();
        out.sort_by(|a, b| {
            b.mu_plus
                .unwrap_or(0.0)
                .total_cmp(&a.mu_plus.unwrap_or(0.0))
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.determinant.len().cmp(&b.determinant.len()))
                .then_with(|| a.determinant.cmp(&b.determinant))
                .then_with(|| a.dependent.cmp(&b.dependent))
        });
        out.extend(unverified);
        Ok(out)
    }
}

/// A candidate returned as it came, with why it was not verified.
fn not_verified(cand: &Dependency, why: String) -> Dependency {
    let mut d = cand.clone();
    d.details = format!("{}; not verified: {why}", d.details);
    d
}

/// Measures of one candidate.
struct Measures {
    conf: f64,
    violations: u64,
    mu_plus: f64,
    dependent_values: usize,
}

fn measure(det: &Det, slot: usize, n: u64) -> Option<Measures> {
    if n == 0 {
        return None;
    }
    let (groups, k) = (det.keys.len(), det.deps.len());
    let first = |g: usize| det.first.get(g * k + slot).copied().unwrap_or((0, 0));
    // Per group: rows, largest count and Σ c² over its dependent values (integers: the same
    // whatever order the side counts come in).
    let mut size: Vec<u64> = (0..groups).map(|g| first(g).1).collect();
    let mut best = size.clone();
    let mut sq: Vec<u128> = size.iter().map(|&c| u128::from(c) * u128::from(c)).collect();
    let mut by_value: HashMap<u64, u64> = HashMap::default();
    for g in 0..groups {
        let (w, c) = first(g);
        if c > 0 {
            *by_value.entry(w).or_insert(0) += c;
        }
    }
    for (&(g, w), &c) in &det.sides[slot] {
        let g = g as usize;
        size[g] += c;
        best[g] = best[g].max(c);
        sq[g] += u128::from(c) * u128::from(c);
        *by_value.entry(w).or_insert(0) += c;
    }
    let agree: u64 = best.iter().sum();
    n.checked_sub(agree)?;
    // Sums in no particular order (groups are numbered as rows arrive, values hash), so exactly:
    // Σ_g (Σ c²)/size summed without rounding, Σ_v c² as an integer; μ⁺ is then the same for
    // any split, thread count or arrival order.
    let mut xy = crate::kernels::exact::ExactSum::<1>::new();
    for (&q, &s) in sq.iter().zip(&size) {
        if s > 0 {
            xy.add_f64(q as f64 / s as f64);
        }
    }
    let sq_y: u128 = by_value.values().map(|&c| u128::from(c) * u128::from(c)).sum();
    Some(mu_plus(n, groups as u64, agree, xy.to_f64(), sq_y, by_value.len()))
}

/// The measures from the counts: `n` judged rows in `groups` groups, `agree` = Σ_x max_y c(x, y),
/// `sum_xy` = Σ_{x,y} c(x, y)² / c(x) (summed exactly), `sq_y` = Σ_y c(y)².
fn mu_plus(n: u64, groups: u64, agree: u64, sum_xy: f64, sq_y: u128, dependent_values: usize) -> Measures {
    let nf = n as f64;
    let pdep_xy = sum_xy / nf;
    let pdep_y = sq_y as f64 / (nf * nf);
    let d = groups as f64;
    let mu =
        if pdep_y < 1.0 && nf > d { 1.0 - (1.0 - pdep_xy) / (1.0 - pdep_y) * ((nf - 1.0) / (nf - d)) } else { 0.0 };
    Measures { conf: agree as f64 / nf, violations: n - agree, mu_plus: mu.max(0.0), dependent_values }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(det: &[&str], dep: &str) -> Dependency {
        Dependency {
            kind: "fd_candidate".into(),
            determinant: det.iter().map(|s| s.to_string()).collect(),
            dependent: Some(dep.to_string()),
            confidence: 0.0,
            violations: 0,
            mu_plus: None,
            rows: None,
            determinant_values: None,
            expression: None,
            details: "candidate".into(),
        }
    }

    /// Rows of (a, b, c) with None = NULL.
    type Row = [Option<u64>; 3];

    fn run(rows: &[Row], cands: Vec<Dependency>, split: usize, budget: usize) -> Vec<Dependency> {
        run_buffered(rows, cands, split, budget, budget / 2)
    }

    fn run_buffered(
        rows: &[Row],
        cands: Vec<Dependency>,
        split: usize,
        budget: usize,
        buffer: usize,
    ) -> Vec<Dependency> {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let opts = VerifyOptions { budget_bytes: budget, buffer_bytes: buffer, ..Default::default() };
        let state_of = |part: &[Row]| {
            let mut s = VerifyState::new(cands.clone(), opts.clone());
            s.bind(&names).unwrap();
            for chunk in part.chunks(7) {
                let words: Vec<Vec<u64>> =
                    (0..3).map(|c| chunk.iter().map(|r| mix(r[c].unwrap_or(0))).collect()).collect();
                let valid: Vec<Vec<bool>> = (0..3).map(|c| chunk.iter().map(|r| r[c].is_some()).collect()).collect();
                let cols: Vec<Option<Words>> =
                    (0..3).map(|c| Some(Words { words: &words[c], valid: &valid[c] })).collect();
                s.update(&cols, chunk.len()).unwrap();
            }
            s
        };
        let (x, y) = rows.split_at(split.min(rows.len()));
        let mut s = state_of(x);
        s.combine(&state_of(y), None).unwrap();
        s.finalize(None).unwrap()
    }

    /// Brute-force g3, violations, μ⁺ of det → dep with this module's NULL reading.
    fn oracle(rows: &[Row], det: &[usize], dep: usize) -> (f64, u64, f64, u64, u64) {
        let judged: Vec<&Row> = rows.iter().filter(|r| det.iter().all(|&c| r[c].is_some())).collect();
        let n = judged.len() as u64;
        let mut xy: std::collections::BTreeMap<(Vec<u64>, Option<u64>), u64> = Default::default();
        let mut x: std::collections::BTreeMap<Vec<u64>, u64> = Default::default();
        let mut y: std::collections::BTreeMap<Option<u64>, u64> = Default::default();
        for r in &judged {
            let k: Vec<u64> = det.iter().map(|&c| r[c].unwrap()).collect();
            *xy.entry((k.clone(), r[dep])).or_insert(0) += 1;
            *x.entry(k).or_insert(0) += 1;
            *y.entry(r[dep]).or_insert(0) += 1;
        }
        let mut best: std::collections::BTreeMap<Vec<u64>, u64> = Default::default();
        for ((k, _), &c) in &xy {
            let e = best.entry(k.clone()).or_insert(0);
            *e = (*e).max(c);
        }
        let agree: u64 = best.values().sum();
        let nf = n as f64;
        let pxy: f64 = xy.iter().map(|((k, _), &c)| (c * c) as f64 / x[k] as f64).sum::<f64>() / nf;
        let py: f64 = y.values().map(|&c| (c as f64 / nf).powi(2)).sum();
        let d = x.len() as f64;
        let mu = 1.0 - (1.0 - pxy) / (1.0 - py) * ((nf - 1.0) / (nf - d));
        (agree as f64 / nf, n - agree, mu.max(0.0), n, x.len() as u64)
    }

    fn table() -> Vec<Row> {
        let mut rows = Vec::new();
        let mut g = 11u64;
        for i in 0..3000u64 {
            g = mix(g.wrapping_add(i));
            let a = g % 60;
            // c = f(a) with 3 % noise and some NULLs; b mostly unique
            let noise = (g >> 20) % 100 < 3;
            let c = if (g >> 30) % 50 == 0 { None } else { Some(if noise { (g >> 8) % 7 } else { a % 9 }) };
            let a = if (g >> 40) % 40 == 0 { None } else { Some(a) };
            rows.push([a, Some(i / 2 + (g >> 50) % 2), c]);
        }
        rows
    }

    #[test]
    fn counts_match_brute_force_whatever_the_split() {
        let rows = table();
        let cands = vec![cand(&["a"], "c"), cand(&["a", "b"], "c"), cand(&["b"], "a"), cand(&["b", "c"], "a")];
        let want_ac = oracle(&rows, &[0], 2);
        assert!(want_ac.0 > 0.95 && want_ac.0 < 1.0, "{want_ac:?}");
        let mut first: Option<Vec<Dependency>> = None;
        // Every row buffered until finalize; and a 30 kB buffer (the rows take 81 kB), so states
        // stream part of the way and merge group maps: the same counts.
        for (split, buffer) in [0, 1, 7, 1000, 2999, 3000].into_iter().flat_map(|s| [(s, 1 << 29), (s, 30_000)]) {
            let got = run_buffered(&rows, cands.clone(), split, 1 << 30, buffer);
            let ac = got.iter().find(|d| d.determinant == ["a"] && d.dependent.as_deref() == Some("c")).unwrap();
            assert_eq!(ac.kind, "functional_dependency");
            assert_eq!(ac.confidence, want_ac.0);
            assert_eq!(ac.violations, want_ac.1);
            assert!((ac.mu_plus.unwrap() - want_ac.2).abs() < 1e-12, "{:?} {:?}", ac.mu_plus, want_ac);
            assert_eq!((ac.rows, ac.determinant_values), (Some(want_ac.3), Some(want_ac.4)));
            // (a, b) → c is not minimal; b → a rests on groups of ~1.5 rows but is checked
            // against the brute force whether reported or not.
            assert!(!got.iter().any(|d| d.determinant == ["a", "b"]));
            let ba = oracle(&rows, &[1], 0);
            let reported = got.iter().any(|d| d.determinant == ["b"]);
            assert_eq!(reported, ba.0 >= 0.95 && ba.3 >= 2 * ba.4, "{ba:?}");
            match &first {
                None => first = Some(got),
                Some(f) => assert_eq!(f, &got, "split {split}"),
            }
        }
    }

    #[test]
    fn vacuous_and_constant_dependencies_are_not_reported() {
        // b has ~1.5 rows per value; a constant dependent is no information.
        let rows: Vec<Row> = (0..400u64).map(|i| [Some(i % 10), Some(i * 2 / 3), Some(5)]).collect();
        let got = run(&rows, vec![cand(&["b"], "a"), cand(&["a"], "c")], 100, 1 << 30);
        assert!(got.is_empty(), "{got:?}");
        // Exactly two rows per value: reported, exact.
        let rows: Vec<Row> = (0..8u64).map(|i| [Some(i / 2), Some(i / 2 % 2), Some(i % 3)]).collect();
        let got = run(&rows, vec![cand(&["a"], "b")], 3, 1 << 30);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].confidence, got[0].violations, got[0].rows), (1.0, 0, Some(8)));
    }

    #[test]
    fn null_reading() {
        // NULL determinant rows are left out; NULL dependents are one value.
        let rows: Vec<Row> =
            vec![[None, Some(1), Some(1)], [None, Some(1), Some(2)], [Some(1), None, None], [Some(1), None, None]];
        let got = run(&rows, vec![cand(&["a"], "b"), cand(&["b"], "c")], 1, 1 << 30);
        // a → b: judged on the two rows with a = 1, b NULL in both: dependent constant → not reported.
        assert!(!got.iter().any(|d| d.determinant == ["a"]));
        // b → c: judged on rows with b = 1: c = 1 and 2 → violations 1, confidence 0.5.
        assert!(!got.iter().any(|d| d.determinant == ["b"]));
        let rows: Vec<Row> =
            (0..20u64).map(|i| [Some(i % 4), Some(i % 2), if i % 4 == 0 { None } else { Some(i % 4 * 10) }]).collect();
        let got = run(&rows, vec![cand(&["a"], "c")], 9, 1 << 30);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].violations, got[0].rows), (0, Some(20)));
    }

    #[test]
    fn budget_overflow_is_split_independent_and_honest() {
        let rows = table();
        let cands = vec![cand(&["a"], "c"), cand(&["b"], "a")];
        // A budget so small that the caps are at their floor of 16 groups.
        let mut first: Option<Vec<Dependency>> = None;
        for split in [0, 5, 1500, 3000] {
            let got = run(&rows, cands.clone(), split, 1);
            // a has 60 values > 16 groups; 2 · 16 < n so not ruled out: unverified.
            let ac = got.iter().find(|d| d.determinant == ["a"]).unwrap();
            assert_eq!(ac.kind, "fd_candidate");
            assert!(ac.details.contains("not verified"), "{}", ac.details);
            match &first {
                None => first = Some(got),
                Some(f) => assert_eq!(f, &got, "split {split}"),
            }
        }
    }

    #[test]
    fn buffered_counts_equal_streamed_counts() {
        // The finalize of a state holding every row (dense codes, rows sorted by group) against
        // states that streamed into group maps from the first batch: the same output, whatever
        // the caps (budgets down to the floor of 16 groups and side pairs), with pairs made
        // dense both through the table (few values) and the hash (many).
        let all = [["a"].as_slice(), &["b"], &["c"], &["a", "b"], &["a", "c"], &["b", "c"]];
        let (mut reported, mut unverified) = (0, 0);
        for (seed, (va, vb)) in [(1u64, (7u64, 30u64)), (2, (60, 9)), (3, (900, 700)), (4, (3, 2))] {
            let mut g = seed;
            let rows: Vec<Row> = (0..2500u64)
                .map(|i| {
                    g = mix(g.wrapping_add(i));
                    let a = g % va;
                    let b = (g >> 16) % vb;
                    let c = if (g >> 32) % 100 < 2 { (g >> 40) % 5 } else { (a * 3 + b) % 11 };
                    let null = |k: u32, p: u64| ((g >> k) % 100 >= p).then_some(());
                    [null(48, 3).map(|_| a), null(52, 6).map(|_| b), null(56, 1).map(|_| c)]
                })
                .collect();
            let mut cands = Vec::new();
            for det in all {
                for dep in ["a", "b", "c"] {
                    if !det.contains(&dep) {
                        cands.push(cand(det, dep));
                    }
                }
            }
            for budget in [1 << 30, 20_000, 1] {
                let buffered = run_buffered(&rows, cands.clone(), 1000, budget, 1 << 29);
                for split in [0, 1000, 2500] {
                    let streamed = run_buffered(&rows, cands.clone(), split, budget, 1);
                    assert_eq!(buffered, streamed, "seed {seed}, budget {budget}, split {split}");
                }
                reported += buffered.iter().filter(|d| d.kind == "functional_dependency").count();
                unverified += buffered.iter().filter(|d| d.details.contains("not verified")).count();
                if budget == 1 << 30 {
                    // Each reported dependency against the brute force.
                    let col = |n: &str| ["a", "b", "c"].iter().position(|c| *c == n).unwrap();
                    for d in buffered.iter().filter(|d| d.kind == "functional_dependency") {
                        let det: Vec<usize> = d.determinant.iter().map(|c| col(c)).collect();
                        let want = oracle(&rows, &det, col(d.dependent.as_deref().unwrap()));
                        assert_eq!((d.confidence, d.violations), (want.0, want.1), "{d:?}");
                        assert!((d.mu_plus.unwrap() - want.2).abs() < 1e-12);
                        assert_eq!((d.rows, d.determinant_values), (Some(want.3), Some(want.4)));
                    }
                }
            }
        }
        assert!(reported >= 4 && unverified >= 4, "{reported} reported, {unverified} unverified");
    }

    #[test]
    fn unknown_columns_and_bad_candidates_are_errors() {
        let mut s = VerifyState::new(vec![cand(&["zz"], "a")], VerifyOptions::default());
        let e = s.bind(&["a".to_string()]).unwrap_err();
        assert!(e.message.contains("'zz'"), "{}", e.message);
        let mut s = VerifyState::new(vec![cand(&["a"], "a")], VerifyOptions::default());
        assert!(s.bind(&["a".to_string()]).is_err());
        let mut s = VerifyState::new(vec![cand(&["a", "b", "c"], "d")], VerifyOptions::default());
        assert!(s.bind(&["a", "b", "c", "d"].map(String::from)).is_err());
    }
}

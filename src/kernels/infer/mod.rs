//! Mergeable type inference for text columns: the state behind `dr_infer_type`.
//!
//! Method: every value is trimmed, checked against the null tokens, and classified
//! by the hand-written recognisers in `parse` (numbers under both decimal
//! conventions, 25 date formats × 37 time variants, TIME, INTERVAL, UUID, JSON,
//! boolean words, semantic patterns). The state only keeps counters that add
//! (so `combine` is exact and independent of how rows were split), a bottom-k
//! sketch of value hashes for the distinct count (Bar-Yossef et al., "Counting
//! distinct elements in a data stream", RANDOM 2002: the k-th smallest hash
//! estimates (k-1)/h_k) and the five smallest distinct failing values per set of
//! families a value parsed in (so failed examples are deterministic and mergeable).
//!
//! `finalize` turns counters into candidates with a parse rate each; the chosen
//! type is the candidate with the highest parse rate among those at or above
//! [`InferOptions::min_parse_rate`], ties going to the narrower, safer type
//! (BOOLEAN < integers < DECIMAL < DOUBLE < DATE < TIMESTAMP < ... < JSON). Rules
//! applied after that: leading zeros keep digit strings as VARCHAR identifiers,
//! Luhn-valid card numbers stay VARCHAR, 4-digit years and epoch ranges only set
//! the semantic type (epoch columns are widened to BIGINT). Day-first and
//! month-first readings are separate candidates; when the two tie (no value has a
//! day above 12) the result is flagged ambiguous and month-first is taken for `/`,
//! day-first for `-` and `.`. A column mixing date formats gets the union of
//! compatible formats (one day/month order) as a `try_strptime` format list.
//! Confidence = parse rate × pattern agreement (share of the dominant format) ×
//! n/(n+10) × (1 − share of binary values), × 0.6 when ambiguous.
//!
//! Counted as NULL, not as values: SQL NULLs and the null tokens (`null_count`).
//! Numbers keep the value as written: `12.5%` → 12.5 with unit `%`, `$5` → 5 with
//! unit `$`, `(5)` → -5. DECIMAL precision is rounded up to DuckDB's storage widths
//! (4, 9, 18, 38) so it costs nothing and leaves headroom.
//!
//! [`cast_expression`] renders the SQL that applies the inference in DuckDB.
//!
//! States serialise with [`InferState::write_body`] and [`InferState::read_body`] (see
//! `body.rs`); the body carries the options, and [`InferState::try_combine`] refuses to
//! merge states built with different ones. Because every part of the state is a sum, a
//! maximum, a bottom-k set or a smallest-k list, a state read back and merged in any order
//! finalizes to the same result as one pass over all rows.

mod body;
pub(crate) mod codec;
mod memo;
mod parse;

use std::sync::{Arc, OnceLock};

use memo::{Memo, Outcome};
use parse::{sem, Num, Temporal, CURRENCIES, DATE_FORMATS, FMT_Q, N_TIME_VARIANTS, UNITS};

/// Default null tokens (matched case-insensitively after trimming).
pub const DEFAULT_NULL_TOKENS: [&str; 13] =
    ["", "NA", "N/A", "NULL", "None", "-", "--", "#N/A", "NaN", "?", "nil", "#NULL!", "(null)"];

/// Longest prefix of a value kept as a failed example.
const EXAMPLE_BYTES: usize = 64;
/// Number of failed examples kept per family.
const MAX_EXAMPLES: usize = 5;
/// Rows per block of [`InferState::add_batch`] (at most `u16::MAX`).
const BATCH_BLOCK: usize = 2048;

/// Settings of the inference.
#[derive(Clone, Debug, PartialEq)]
pub struct InferOptions {
    /// Values read as NULL, matched case-insensitively after trimming.
    pub null_tokens: Vec<String>,
    /// A candidate type is chosen only if at least this share of non-null values converts.
    pub min_parse_rate: f64,
    /// Size of the distinct-value sketch (k of the bottom-k sketch).
    pub sample_limit: usize,
    /// The decimal separator the column is declared to use (`.` or `,`); `None` reads
    /// `.` as DuckDB does unless a value proves `,` (see [`InferState::finalize`]).
    pub decimal: Option<char>,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            null_tokens: DEFAULT_NULL_TOKENS.iter().map(|s| s.to_string()).collect(),
            min_parse_rate: 0.9,
            sample_limit: 256,
            decimal: None,
        }
    }
}

/// Counters for numbers read under one decimal convention.
#[derive(Clone, Copy, Debug, PartialEq)]
struct NumStats {
    count: u64,
    int_count: u64,
    frac_count: u64,
    exp_count: u64,
    int_overflow: u64,
    max_int_digits: u32,
    max_frac_digits: u32,
    min: i128,
    max: i128,
    leading_zero: u64,
    decorated: u64,
    separator_use: u64,
    paren: u64,
    zero_one: u64,
    year_like: u64,
    epoch_s: u64,
    epoch_ms: u64,
    /// values that read under this convention only (`1,5` or `1.234.567` for `,`)
    only: u64,
}

impl Default for NumStats {
    fn default() -> Self {
        NumStats {
            count: 0,
            int_count: 0,
            frac_count: 0,
            exp_count: 0,
            int_overflow: 0,
            max_int_digits: 0,
            max_frac_digits: 0,
            min: i128::MAX,
            max: i128::MIN,
            leading_zero: 0,
            decorated: 0,
            separator_use: 0,
            paren: 0,
            zero_one: 0,
            year_like: 0,
            epoch_s: 0,
            epoch_ms: 0,
            only: 0,
        }
    }
}

impl NumStats {
    fn add(&mut self, n: &Num, k: u64) {
        self.count += k;
        if n.exp {
            self.exp_count += k;
        } else if n.has_dec {
            self.frac_count += k;
        } else {
            match n.int_value {
                Some(v) => {
                    self.int_count += k;
                    self.min = self.min.min(v);
                    self.max = self.max.max(v);
                    if !n.decorated() {
                        if v == 0 || v == 1 {
                            self.zero_one += k;
                        }
                        if n.int_digits == 4 && (1800..=2100).contains(&v) {
                            self.year_like += k;
                        }
                        if (946_684_800..=4_102_444_800).contains(&v) {
                            self.epoch_s += k;
                        }
                        if (946_684_800_000..=4_102_444_800_000).contains(&v) {
                            self.epoch_ms += k;
                        }
                    }
                }
                None => self.int_overflow += k,
            }
        }
        self.max_int_digits = self.max_int_digits.max(n.int_digits);
        self.max_frac_digits = self.max_frac_digits.max(n.frac_digits);
        self.leading_zero += k * u64::from(n.leading_zero);
        self.decorated += k * u64::from(n.decorated());
        self.separator_use += k * u64::from(n.has_dec || n.thousands);
        self.paren += k * u64::from(n.paren);
    }

    fn combine(&mut self, o: &NumStats) {
        self.count += o.count;
        self.int_count += o.int_count;
        self.frac_count += o.frac_count;
        self.exp_count += o.exp_count;
        self.int_overflow += o.int_overflow;
        self.max_int_digits = self.max_int_digits.max(o.max_int_digits);
        self.max_frac_digits = self.max_frac_digits.max(o.max_frac_digits);
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.leading_zero += o.leading_zero;
        self.decorated += o.decorated;
        self.separator_use += o.separator_use;
        self.paren += o.paren;
        self.zero_one += o.zero_one;
        self.year_like += o.year_like;
        self.epoch_s += o.epoch_s;
        self.epoch_ms += o.epoch_ms;
        self.only += o.only;
    }
}

/// Families whose failing values are kept as examples.
const FAM_NUM_DOT: usize = 0;
const FAM_NUM_COMMA: usize = 1;
const FAM_DATE: usize = 2;
const FAM_TIME: usize = 3;
const FAM_BOOL: usize = 4;
const FAM_UUID: usize = 5;
const FAM_JSON: usize = 6;
const FAM_INTERVAL: usize = 7;

/// Aggregate state of `dr_infer_type`. `Default` is the identity of [`InferState::combine`].
#[derive(Clone, Debug)]
pub struct InferState {
    /// Options and the null-token matcher, shared by every state of one query.
    shared: Arc<Shared>,
    /// Per null token, allocated on the first token seen.
    token_counts: Vec<u64>,
    sql_nulls: u64,
    non_null: u64,
    bool_words: u64,
    num: [NumStats; 2],
    currency: [u64; CURRENCIES.len()],
    units: [u64; UNITS.len()],
    percent: u64,
    /// `DATE_FORMATS.len() * N_TIME_VARIANTS` counters, allocated on the first date.
    temporal: Vec<u64>,
    time: u64,
    interval: u64,
    uuid: u64,
    json: u64,
    sem: [u64; sem::N],
    multiword: u64,
    /// Values with invalid UTF-8 or control characters.
    binary: u64,
    total_len: u64,
    /// Bottom-k sketch: the smallest distinct value hashes, ascending.
    hashes: Vec<u64>,
    /// Failing-value examples keyed by the set of families a value parsed in: a value
    /// fails family f iff f is not in its key, so the five smallest failures of f are
    /// among the lists whose key lacks f. One list update per value, not one per family.
    failed: Vec<(u32, Vec<Box<[u8]>>)>,
    /// Classifications of values seen before (saves work only; empty in a clone).
    memo: Memo,
}

/// Read-only part of a state: options and the compiled null-token matcher.
#[derive(Debug)]
struct Shared {
    opts: InferOptions,
    /// Lower-cased trimmed null tokens.
    tokens: Vec<Vec<u8>>,
    /// Bit per token length (< 64), for a quick reject.
    token_len_mask: u64,
    /// First bytes (both cases) of the null tokens, for a quick reject.
    token_first: [bool; 256],
}

impl Shared {
    fn new(opts: InferOptions) -> Self {
        let tokens: Vec<Vec<u8>> = opts.null_tokens.iter().map(|t| t.trim().as_bytes().to_ascii_lowercase()).collect();
        let mut token_len_mask = 0u64;
        let mut token_first = [false; 256];
        for t in &tokens {
            if t.len() < 64 {
                token_len_mask |= 1 << t.len();
            }
            if let Some(&b) = t.first() {
                token_first[usize::from(b.to_ascii_lowercase())] = true;
                token_first[usize::from(b.to_ascii_uppercase())] = true;
            }
        }
        Shared { opts, tokens, token_len_mask, token_first }
    }
}

static DEFAULT_SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

impl Default for InferState {
    /// The identity state with default options; cheap (no allocation after the first).
    fn default() -> Self {
        let shared = DEFAULT_SHARED.get_or_init(|| Arc::new(Shared::new(InferOptions::default())));
        Self::with_shared(Arc::clone(shared))
    }
}

/// One candidate type with its parse rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// DuckDB type name.
    pub type_name: String,
    /// strptime format or number convention.
    pub format: Option<String>,
    /// Share of non-null values that convert.
    pub parse_rate: f64,
}

/// How [`cast_expression`] converts the column.
#[derive(Clone, Debug, PartialEq)]
pub enum CastPlan {
    /// Keep the trimmed text.
    Varchar,
    /// Boolean words and 0/1.
    Boolean,
    /// A number; `decimal` is `.` or `,`; `decorated` strips symbols and separators.
    Number {
        /// Decimal separator.
        decimal: char,
        /// Values carry separators, currency, `%`, units or parentheses.
        decorated: bool,
        /// Keep `e`/`E` (scientific notation) when stripping.
        keep_exponent: bool,
        /// Some values are accounting negatives `(…)`.
        parentheses: bool,
    },
    /// `TRY_CAST` to the inferred type (ISO temporal, TIME, INTERVAL, UUID, JSON).
    TryCast,
    /// `try_strptime` with these formats, cast to the inferred type.
    Strptime(Vec<String>),
    /// `yyyy-Qn` to the first day of the quarter.
    Quarter,
}

/// Result of the inference for one column.
#[derive(Clone, Debug, PartialEq)]
pub struct Inference {
    /// DuckDB type name.
    pub inferred_type: String,
    /// strptime format for temporal types, `decimal=, thousands=.` style for numbers.
    pub format: Option<String>,
    /// Semantic type (email, year, identifier, ...).
    pub semantic_type: Option<String>,
    /// Currency symbol/code, `%`, or a physical unit seen in the values.
    pub unit: Option<String>,
    /// 0..1, see the module documentation.
    pub confidence: f64,
    /// Share of non-null values that convert to `inferred_type`.
    pub parse_rate: f64,
    /// Values that are neither SQL NULL nor a null token.
    pub non_null_count: u64,
    /// SQL NULLs plus null tokens.
    pub null_count: u64,
    /// Null tokens seen (as configured) and their counts.
    pub null_tokens: Vec<(String, u64)>,
    /// Typed candidates best first, VARCHAR last.
    pub candidates: Vec<Candidate>,
    /// Up to five smallest distinct values that do not convert.
    pub failed_examples: Vec<String>,
    /// Nothing decides between two readings (day-first vs month-first, `.` vs `,`).
    pub ambiguous: bool,
    /// Non-null values the chosen cast would lose.
    pub quarantine_count: u64,
    /// Estimated number of distinct non-null values (exact below the sketch size).
    pub distinct_count: u64,
    /// How to convert; used by [`cast_expression`].
    pub plan: CastPlan,
}

fn hash64(s: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = s.len() as u64;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // the tail as a zero-padded little-endian word, from two overlapping loads (a
        // memcpy into a buffer read back as a word stalls store forwarding)
        let n = rest.len();
        let w = if n >= 4 {
            let word = |c: &[u8]| <[u8; 4]>::try_from(c).map_or(0, u32::from_le_bytes);
            u64::from(word(&rest[..4])) | (u64::from(word(&rest[n - 4..])) << (8 * (n - 4)))
        } else {
            rest.iter().enumerate().fold(0u64, |w, (i, b)| w | (u64::from(*b) << (8 * i)))
        };
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    crate::kernels::profile::hash::fmix64(h)
}

/// `a >= b` bytewise, inlined: these are short strings and a libc `memcmp` call
/// per value and family dominated the profile.
#[inline]
fn ge_bytes(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x > y;
        }
    }
    a.len() >= b.len()
}

/// `a == b`, inlined for short strings (a libc `memcmp` call costs more than the compare).
#[inline]
fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let word = |c: &[u8]| <[u8; 8]>::try_from(c).map_or(0, u64::from_ne_bytes);
        if word(x) != word(y) {
            return false;
        }
    }
    ca.remainder().iter().zip(cb.remainder()).all(|(x, y)| x == y)
}

fn note_failure(list: &mut Vec<Box<[u8]>>, s: &[u8]) {
    let key = &s[..s.len().min(EXAMPLE_BYTES)];
    if list.len() == MAX_EXAMPLES {
        if let Some(last) = list.last() {
            if ge_bytes(key, last) {
                return;
            }
        }
    }
    match list.binary_search_by(|e| e[..].cmp(key)) {
        Ok(_) => {}
        Err(pos) => {
            list.insert(pos, key.into());
            list.truncate(MAX_EXAMPLES);
        }
    }
}

/// Runs the recognisers on one trimmed, non-null value (the counters it adds are applied
/// by `InferState::apply`).
fn classify(s: &[u8]) -> Outcome {
    let mut o = Outcome::default();
    let Some(&b0) = s.first() else {
        return o;
    };
    let mut sem_i = 0;
    let mut add_semantics = |o: &mut Outcome| {
        if let Some(slot) = o.sem.get_mut(sem_i) {
            *slot = parse::semantic_bits(s);
        }
        sem_i += 1;
    };

    // numbers
    let numeric_start = b0.is_ascii_digit()
        || matches!(b0, b'+' | b'-' | b'(' | b'.' | b'$' | b'i' | b'I' | 0xC2 | 0xE2)
        || (b0.is_ascii_uppercase() && s.len() >= 4);
    if numeric_start {
        let a = parse::parse_number(s, b'.');
        let has_sep = s.iter().any(|b| *b == b'.' || *b == b',');
        let b = if has_sep { parse::parse_number(s, b',') } else { a };
        if let Some(n) = a.or(b) {
            if !n.decorated() && !n.has_dec && (13..=19).contains(&n.int_digits) {
                add_semantics(&mut o);
            }
        }
        if a.is_none() && b.is_some() {
            // dotted quads and the like read as comma-decimal numbers
            add_semantics(&mut o);
        }
        o.a = a;
        o.b = b;
        if a.is_some() {
            o.ok |= 1 << FAM_NUM_DOT;
        } else if parse::is_infinity(s) {
            o.a_inf = true;
            o.ok |= 1 << FAM_NUM_DOT;
        }
        if b.is_some() {
            o.ok |= 1 << FAM_NUM_COMMA;
        }
    }
    if o.ok == 0 {
        if let Some(t) = parse::parse_temporal(s) {
            o.temporal = Some(t);
            o.ok |= 1 << FAM_DATE;
        } else if b0.is_ascii_digit() {
            if s.len() <= 18 && parse::is_time(s) {
                o.time = true;
                o.ok |= 1 << FAM_TIME;
            } else if parse::is_interval(s) {
                o.interval = true;
                o.ok |= 1 << FAM_INTERVAL;
            }
        }
        if o.ok == 0 {
            if b0.is_ascii_alphabetic() && parse::bool_word(s).is_some() {
                o.bool_word = true;
                o.ok |= 1 << FAM_BOOL;
            } else if (b0 == b'{' || b0 == b'[') && parse::is_json(s) {
                o.json = true;
                o.ok |= 1 << FAM_JSON;
            } else if s.len() == 36 && parse::is_uuid(s) {
                o.uuid = true;
                o.ok |= 1 << FAM_UUID;
            }
        }
        if o.ok == 0 {
            o.binary = s.iter().any(|b| *b < 0x20 && *b != b'\t') || std::str::from_utf8(s).is_err();
            add_semantics(&mut o);
            o.multiword = s.iter().filter(|b| **b == b' ').take(2).count() >= 2;
        }
    }
    o
}

fn int_type(min: i128, max: i128) -> &'static str {
    let fits = |lo: i128, hi: i128| min >= lo && max <= hi;
    if fits(i128::from(i8::MIN), i128::from(i8::MAX)) {
        "TINYINT"
    } else if fits(i128::from(i16::MIN), i128::from(i16::MAX)) {
        "SMALLINT"
    } else if fits(i128::from(i32::MIN), i128::from(i32::MAX)) {
        "INTEGER"
    } else if fits(i128::from(i64::MIN), i128::from(i64::MAX)) {
        "BIGINT"
    } else {
        "HUGEINT"
    }
}

fn priority(type_name: &str) -> u32 {
    match type_name {
        "BOOLEAN" => 0,
        "TINYINT" => 1,
        "SMALLINT" => 2,
        "INTEGER" => 3,
        "BIGINT" => 4,
        "HUGEINT" => 5,
        t if t.starts_with("DECIMAL") => 6,
        "DOUBLE" => 7,
        "DATE" => 8,
        "TIMESTAMP" => 9,
        "TIMESTAMP WITH TIME ZONE" => 10,
        "TIME" => 11,
        "INTERVAL" => 12,
        "UUID" => 13,
        "JSON" => 14,
        _ => 15,
    }
}

/// Internal candidate with what finalize needs to pick and explain it.
struct Cand {
    type_name: String,
    format: Option<String>,
    count: u64,
    order: u32,
    family: usize,
    plan: CastPlan,
    agreement: f64,
    ambiguous: bool,
    /// index into `num` for number candidates
    num: Option<usize>,
    /// may be chosen (a `,` decimal reading is only listed unless a value proves it)
    eligible: bool,
}

impl InferState {
    /// An empty state with these options.
    pub fn with_options(o: InferOptions) -> Self {
        Self::with_shared(Arc::new(Shared::new(o)))
    }

    fn with_shared(shared: Arc<Shared>) -> Self {
        InferState {
            shared,
            token_counts: Vec::new(),
            sql_nulls: 0,
            non_null: 0,
            bool_words: 0,
            num: [NumStats::default(); 2],
            currency: [0; CURRENCIES.len()],
            units: [0; UNITS.len()],
            percent: 0,
            temporal: Vec::new(),
            time: 0,
            interval: 0,
            uuid: 0,
            json: 0,
            sem: [0; sem::N],
            multiword: 0,
            binary: 0,
            total_len: 0,
            hashes: Vec::new(),
            failed: Vec::new(),
            memo: Memo::default(),
        }
    }

    /// Like [`InferState::with_options`], but rejects options that cannot work.
    pub fn try_with_options(o: InferOptions) -> crate::kernels::Result<Self> {
        if !(o.min_parse_rate > 0.0 && o.min_parse_rate <= 1.0) {
            return Err(crate::kernels::Error::invalid(format!(
                "dr_infer_type: min_parse_rate must be in (0, 1], got {}; pass e.g. 0.9",
                o.min_parse_rate
            )));
        }
        if o.sample_limit < 2 || o.sample_limit > 1 << 20 {
            return Err(crate::kernels::Error::invalid(format!(
                "dr_infer_type: sample_limit must be between 2 and 1048576, got {}",
                o.sample_limit
            )));
        }
        Ok(Self::with_options(o))
    }

    /// The options this state was built with.
    pub fn options(&self) -> &InferOptions {
        &self.shared.opts
    }

    /// Counts `n` SQL NULLs.
    pub fn add_null(&mut self, n: u64) {
        self.sql_nulls += n;
    }

    fn null_token(&self, s: &[u8]) -> Option<usize> {
        if s.len() >= 64 || self.shared.token_len_mask & (1 << s.len()) == 0 {
            return None;
        }
        if let Some(&b) = s.first() {
            if !self.shared.token_first[usize::from(b)] {
                return None;
            }
        }
        self.shared.tokens.iter().position(|t| t.len() == s.len() && t.eq_ignore_ascii_case(s))
    }

    fn note_hash(&mut self, h: u64) {
        let k = self.shared.opts.sample_limit.max(2);
        if self.hashes.len() >= k {
            if let Some(&last) = self.hashes.last() {
                if h >= last {
                    return;
                }
            }
        }
        if let Err(pos) = self.hashes.binary_search(&h) {
            self.hashes.insert(pos, h);
            self.hashes.truncate(k);
        }
    }

    /// Adds `rows` values, `value(i)` for `i` in `0..rows` (`None` is a SQL NULL); the same
    /// result as [`InferState::add`] and [`InferState::add_null`] row by row. Equal values
    /// within a block of [`BATCH_BLOCK`] rows are classified once, with their multiplicity:
    /// text columns repeat (codes, flags, dates, small numbers), and classification costs
    /// ten times a hash-table probe.
    pub fn add_batch<'a>(&mut self, rows: usize, value: impl Fn(usize) -> Option<&'a [u8]>) {
        // open addressing over entry indices; the table has twice the block's slots
        const SLOTS: usize = 2 * BATCH_BLOCK;
        const EMPTY: u16 = u16::MAX;
        let mut slots = [EMPTY; SLOTS];
        // (first value, its raw hash, count) per distinct value of the block
        let mut distinct: Vec<(&'a [u8], u64, u64)> = Vec::with_capacity(BATCH_BLOCK);
        let mut start = 0;
        while start < rows {
            let end = rows.min(start + BATCH_BLOCK);
            let mut nulls = 0u64;
            for i in start..end {
                let Some(v) = value(i) else {
                    nulls += 1;
                    continue;
                };
                let h = hash64(v);
                let mut slot = (h as usize) & (SLOTS - 1);
                loop {
                    let e = slots[slot];
                    if e == EMPTY {
                        slots[slot] = distinct.len() as u16;
                        distinct.push((v, h, 1));
                        break;
                    }
                    let d = &mut distinct[usize::from(e)];
                    if d.1 == h && eq_bytes(d.0, v) {
                        d.2 += 1;
                        break;
                    }
                    slot = (slot + 1) & (SLOTS - 1);
                }
            }
            self.add_null(nulls);
            for (v, h, k) in distinct.drain(..) {
                self.add_n(v, k, h);
            }
            slots.fill(EMPTY);
            start = end;
        }
    }

    /// Adds one VARCHAR value (any bytes; invalid UTF-8 is simply text).
    pub fn add(&mut self, value: &[u8]) {
        self.add_n(value, 1, hash64(value));
    }

    /// Adds `k` copies of one value whose untrimmed bytes hash to `raw_hash` ([`hash64`]).
    /// Equal to `k` calls of [`InferState::add`]: every counter grows by `k`, and the
    /// distinct sketch and the failed examples are sets, unchanged by a repeat.
    fn add_n(&mut self, value: &[u8], k: u64, raw_hash: u64) {
        let s = parse::trim(value);
        if let Some(i) = self.null_token(s) {
            if self.token_counts.is_empty() {
                self.token_counts = vec![0; self.shared.tokens.len()];
            }
            if let Some(c) = self.token_counts.get_mut(i) {
                *c += k;
            }
            return;
        }
        let h = if s.len() == value.len() { raw_hash } else { hash64(s) };
        if let Some(o) = self.memo.get(h, s) {
            self.apply(&o, k, s.len());
            return;
        }
        let o = classify(s);
        self.apply(&o, k, s.len());
        self.note_hash(h);
        self.note_failed_mask(o.ok, s);
        self.memo.insert(h, s, o, self.non_null);
    }

    /// [`InferState::add`] without the memo (the reference the memo is tested against).
    #[cfg(test)]
    fn add_uncached(&mut self, value: &[u8]) {
        let s = parse::trim(value);
        if self.null_token(s).is_some() {
            return self.add_n(value, 1, hash64(value));
        }
        let o = classify(s);
        self.apply(&o, 1, s.len());
        self.note_hash(hash64(s));
        self.note_failed_mask(o.ok, s);
    }

    /// Adds the counters of `k` values classified as `o`, each `len` bytes long.
    fn apply(&mut self, o: &Outcome, k: u64, len: usize) {
        self.non_null += k;
        self.total_len += k * len as u64;
        if let Some(n) = o.a.or(o.b) {
            if n.percent {
                self.percent += k;
            }
            if n.currency != 0 {
                self.currency[usize::from(n.currency - 1)] += k;
            }
            if n.unit != 0 {
                self.units[usize::from(n.unit - 1)] += k;
            }
        }
        for bits in o.sem {
            self.add_sem_bits(bits, k);
        }
        if let Some(n) = o.a {
            self.num[0].add(&n, k);
        } else if o.a_inf {
            self.num[0].count += k;
            self.num[0].exp_count += k;
        }
        if let Some(n) = o.b {
            self.num[1].add(&n, k);
            if o.a.is_none() && !o.a_inf {
                self.num[1].only += k;
            }
        } else if o.a.is_some() {
            self.num[0].only += k;
        }
        if let Some(t) = o.temporal {
            self.add_temporal(t, k);
        }
        let count = |c: &mut u64, hit: bool| *c += if hit { k } else { 0 };
        count(&mut self.time, o.time);
        count(&mut self.interval, o.interval);
        count(&mut self.bool_words, o.bool_word);
        count(&mut self.json, o.json);
        count(&mut self.uuid, o.uuid);
        count(&mut self.binary, o.binary);
        count(&mut self.multiword, o.multiword);
    }

    fn note_failed_mask(&mut self, mask: u32, s: &[u8]) {
        match self.failed.iter_mut().find(|(m, _)| *m == mask) {
            Some((_, list)) => note_failure(list, s),
            None => {
                let mut list = Vec::new();
                note_failure(&mut list, s);
                self.failed.push((mask, list));
            }
        }
    }

    /// The five smallest distinct values that did not parse in `family`.
    fn failures_of(&self, family: usize) -> Vec<String> {
        let mut all: Vec<Box<[u8]>> = Vec::new();
        for (m, list) in &self.failed {
            if m & (1 << family) == 0 {
                for e in list {
                    note_failure(&mut all, e);
                }
            }
        }
        all.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect()
    }

    fn add_sem_bits(&mut self, bits: u32, k: u64) {
        if bits != 0 {
            for (i, c) in self.sem.iter_mut().enumerate() {
                *c += k * u64::from((bits >> i) & 1);
            }
        }
    }

    fn add_temporal(&mut self, t: Temporal, k: u64) {
        if self.temporal.is_empty() {
            self.temporal = vec![0; DATE_FORMATS.len() * N_TIME_VARIANTS];
        }
        let mut m = t.date_mask;
        while m != 0 {
            let f = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(c) = self.temporal.get_mut(f * N_TIME_VARIANTS + t.tv) {
                *c += k;
            }
        }
    }

    /// Merges `other` into `self`; `other` is not modified. Counts add, so the result
    /// does not depend on how the rows were split or in which order states merge. Both
    /// states must have the same options ([`InferState::try_combine`] checks).
    pub fn combine(&mut self, other: &InferState) {
        debug_assert!(other.is_empty() || self.same_options(other), "combine across options");
        if self.token_counts.is_empty() && !other.token_counts.is_empty() {
            self.token_counts = vec![0; self.shared.tokens.len()];
        }
        for (a, b) in self.token_counts.iter_mut().zip(&other.token_counts) {
            *a += b;
        }
        self.sql_nulls += other.sql_nulls;
        self.non_null += other.non_null;
        self.bool_words += other.bool_words;
        for (a, b) in self.num.iter_mut().zip(&other.num) {
            a.combine(b);
        }
        for (a, b) in self.currency.iter_mut().zip(&other.currency) {
            *a += b;
        }
        for (a, b) in self.units.iter_mut().zip(&other.units) {
            *a += b;
        }
        self.percent += other.percent;
        if !other.temporal.is_empty() {
            if self.temporal.is_empty() {
                self.temporal = other.temporal.clone();
            } else {
                for (a, b) in self.temporal.iter_mut().zip(&other.temporal) {
                    *a += b;
                }
            }
        }
        self.time += other.time;
        self.interval += other.interval;
        self.uuid += other.uuid;
        self.json += other.json;
        for (a, b) in self.sem.iter_mut().zip(&other.sem) {
            *a += b;
        }
        self.multiword += other.multiword;
        self.binary += other.binary;
        self.total_len += other.total_len;
        for &h in &other.hashes {
            self.note_hash(h);
        }
        for (m, list) in &other.failed {
            for e in list {
                self.note_failed_mask(*m, e);
            }
        }
    }

    /// Approximate heap plus inline size of the state in bytes.
    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.token_counts.capacity() * 8
            + self.temporal.capacity() * 8
            + self.hashes.capacity() * 8
            + self.failed.iter().flat_map(|(_, l)| l).map(|e| e.len() + 16).sum::<usize>()
            + self.memo.bytes()
    }

    fn distinct(&self) -> u64 {
        let k = self.shared.opts.sample_limit.max(2);
        if self.hashes.len() < k {
            return self.hashes.len() as u64;
        }
        match self.hashes.last() {
            Some(&hk) if hk > 0 => {
                let est = (k as f64 - 1.0) * (u64::MAX as f64) / hk as f64;
                (est.round() as u64).min(self.non_null)
            }
            _ => self.non_null,
        }
    }

    fn number_candidates(&self, out: &mut Vec<Cand>) {
        for (idx, st) in self.num.iter().enumerate() {
            if st.count == 0 || (idx == 1 && st.separator_use == 0) {
                continue;
            }
            let (dec, thou) = if idx == 0 { ('.', ',') } else { (',', '.') };
            // DuckDB reads `.` as the decimal point: `5.123` stays 5.123 unless the column is
            // declared `,` or a value reads only with a `,` decimal (`1,5`, `1.234,5`, `1.234.567`).
            let eligible = match self.shared.opts.decimal {
                Some(d) => d == dec,
                None => idx == 0 || st.only > 0,
            };
            let format =
                if idx == 1 || st.decorated > 0 { Some(format!("decimal={dec} thousands={thou}")) } else { None };
            let fam = if idx == 0 { FAM_NUM_DOT } else { FAM_NUM_COMMA };
            let plan = |keep_exponent: bool| CastPlan::Number {
                decimal: dec,
                decorated: st.decorated > 0 || idx == 1,
                keep_exponent,
                parentheses: st.paren > 0,
            };
            let order = idx as u32;
            let mut p = st.max_int_digits + st.max_frac_digits;
            if st.int_count > 0 && st.min <= st.max {
                out.push(Cand {
                    type_name: int_type(st.min, st.max).to_string(),
                    format: format.clone(),
                    count: st.int_count,
                    order,
                    family: fam,
                    plan: plan(false),
                    agreement: 1.0,
                    ambiguous: false,
                    num: Some(idx),
                    eligible,
                });
            }
            if st.frac_count > 0 && p <= 38 && st.int_overflow == 0 {
                p = [4, 9, 18, 38].into_iter().find(|w| *w >= p.max(1)).unwrap_or(38);
                out.push(Cand {
                    type_name: format!("DECIMAL({p},{})", st.max_frac_digits),
                    format: format.clone(),
                    count: st.int_count + st.frac_count,
                    order,
                    family: fam,
                    plan: plan(false),
                    agreement: 1.0,
                    ambiguous: false,
                    num: Some(idx),
                    eligible,
                });
            }
            if st.exp_count > 0 || st.int_overflow > 0 || (st.frac_count > 0 && p > 38) {
                out.push(Cand {
                    type_name: "DOUBLE".into(),
                    format,
                    count: st.count,
                    order,
                    family: fam,
                    plan: plan(st.exp_count > 0),
                    agreement: 1.0,
                    ambiguous: false,
                    num: Some(idx),
                    eligible,
                });
            }
        }
    }

    fn temporal_candidates(&self, out: &mut Vec<Cand>) {
        if self.temporal.is_empty() {
            return;
        }
        let row = |f: usize| &self.temporal[f * N_TIME_VARIANTS..(f + 1) * N_TIME_VARIANTS];
        let total = |f: usize| row(f).iter().sum::<u64>();
        for (f, date_format) in DATE_FORMATS.iter().enumerate() {
            let r = row(f);
            let count: u64 = r.iter().sum();
            if count == 0 {
                continue;
            }
            let mut tvs: Vec<usize> = (0..N_TIME_VARIANTS).filter(|&t| r[t] > 0).collect();
            tvs.sort_by(|a, b| r[*b].cmp(&r[*a]).then(a.cmp(b)));
            let dominant = tvs.first().copied().unwrap_or(0);
            let has_time = tvs.iter().any(|&t| t != 0);
            let has_tz = tvs.iter().any(|&t| parse::time_variant_tz(t));
            let type_name = if has_tz {
                "TIMESTAMP WITH TIME ZONE"
            } else if has_time {
                "TIMESTAMP"
            } else {
                "DATE"
            };
            let fmt_of = |t: usize| format!("{date_format}{}", parse::time_variant_format(t));
            let plan = if f == 0 {
                CastPlan::TryCast
            } else if f == FMT_Q {
                CastPlan::Quarter
            } else {
                CastPlan::Strptime(tvs.iter().map(|&t| fmt_of(t)).collect())
            };
            let ambiguous = parse::mirror(f).is_some_and(|m| total(m) == count);
            out.push(Cand {
                type_name: type_name.into(),
                format: Some(fmt_of(dominant)),
                count,
                order: f as u32,
                family: FAM_DATE,
                plan,
                agreement: r[dominant] as f64 / count as f64,
                ambiguous,
                num: None,
                eligible: true,
            });
        }
        self.mixed_date_candidate(out);
    }

    /// Several date formats in one column: the union of formats that never read the
    /// same value (no day-first/month-first mirrors, not both `%b` and `%B`), cast with
    /// a `try_strptime` format list. Offered only when it covers more than any one format.
    fn mixed_date_candidate(&self, out: &mut Vec<Cand>) {
        let row = |f: usize| &self.temporal[f * N_TIME_VARIANTS..(f + 1) * N_TIME_VARIANTS];
        let total = |f: usize| row(f).iter().sum::<u64>();
        let mut fs: Vec<usize> = (0..DATE_FORMATS.len())
            .filter(|&f| f != FMT_Q && total(f) > 0)
            .filter(|&f| !(f == 0 && row(0).iter().enumerate().any(|(t, c)| *c > 0 && parse::time_variant_tz(t))))
            .collect();
        if fs.len() < 2 {
            return;
        }
        fs.sort_by(|a, b| total(*b).cmp(&total(*a)).then(a.cmp(b)));
        let best_single = total(fs[0]);
        let twin = |f: usize| match f {
            17 => Some(18),
            18 => Some(17),
            19 => Some(20),
            20 => Some(19),
            21 => Some(22),
            22 => Some(21),
            _ => parse::mirror(f),
        };
        // one day/month order for the whole column
        const DAY_FIRST: u32 = 1 << 4 | 1 << 5 | 1 << 7 | 1 << 10 | 1 << 11 | 1 << 13;
        const MONTH_FIRST: u32 = 1 << 3 | 1 << 6 | 1 << 8 | 1 << 9 | 1 << 12 | 1 << 14;
        let mut blocked = 0u32;
        let mut formats: Vec<(String, u64)> = Vec::new();
        let mut count = 0;
        let mut has_time = false;
        for f in fs {
            if blocked & (1 << f) != 0 {
                continue;
            }
            blocked |= 1 << f;
            if let Some(m) = twin(f) {
                blocked |= 1 << m;
            }
            if DAY_FIRST & (1 << f) != 0 {
                blocked |= MONTH_FIRST;
            } else if MONTH_FIRST & (1 << f) != 0 {
                blocked |= DAY_FIRST;
            }
            count += total(f);
            for (t, c) in row(f).iter().enumerate() {
                if *c > 0 {
                    has_time |= t != 0;
                    formats.push((format!("{}{}", DATE_FORMATS[f], parse::time_variant_format(t)), *c));
                }
            }
        }
        if formats.len() < 2 || count <= best_single {
            return;
        }
        // strptime's %Y also reads two digits: two-digit-year formats must be tried first
        formats.sort_by(|a, b| b.0.contains("%y").cmp(&a.0.contains("%y")).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
        let dominant = formats.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|f| f.0.clone());
        out.push(Cand {
            type_name: if has_time { "TIMESTAMP" } else { "DATE" }.into(),
            format: dominant,
            count,
            order: 100,
            family: FAM_DATE,
            plan: CastPlan::Strptime(formats.into_iter().map(|f| f.0).collect()),
            agreement: best_single as f64 / count as f64,
            ambiguous: false,
            num: None,
            eligible: true,
        });
    }

    /// Rows added so far: values, SQL NULLs and null tokens.
    pub fn row_count(&self) -> u64 {
        self.non_null + self.sql_nulls + self.token_counts.iter().sum::<u64>()
    }

    /// The inference from everything added so far; the state is not consumed.
    pub fn finalize(&self) -> Inference {
        let n = self.non_null;
        let token_total: u64 = self.token_counts.iter().sum();
        let null_tokens: Vec<(String, u64)> = self
            .shared
            .opts
            .null_tokens
            .iter()
            .zip(&self.token_counts)
            .filter(|(_, c)| **c > 0)
            .map(|(t, c)| (t.clone(), *c))
            .collect();
        let mut inf = Inference {
            inferred_type: "VARCHAR".into(),
            format: None,
            semantic_type: None,
            unit: None,
            confidence: 0.0,
            parse_rate: 0.0,
            non_null_count: n,
            null_count: self.sql_nulls + token_total,
            null_tokens,
            candidates: Vec::new(),
            failed_examples: Vec::new(),
            ambiguous: false,
            quarantine_count: 0,
            distinct_count: self.distinct(),
            plan: CastPlan::Varchar,
        };
        if n == 0 {
            return inf;
        }
        let nf = n as f64;
        // binary garbage lowers every confidence
        let size = nf / (nf + 10.0) * (1.0 - self.binary as f64 / nf);
        let mut cands: Vec<Cand> = Vec::new();
        if self.bool_words > 0 {
            cands.push(Cand {
                type_name: "BOOLEAN".into(),
                format: None,
                // 0/1 join the words only when words dominate: 0/1 alone is an integer
                count: if self.bool_words >= self.num[0].zero_one {
                    self.bool_words + self.num[0].zero_one
                } else {
                    self.bool_words
                },
                order: 0,
                family: FAM_BOOL,
                plan: CastPlan::Boolean,
                agreement: 1.0,
                ambiguous: false,
                num: None,
                eligible: true,
            });
        }
        self.number_candidates(&mut cands);
        self.temporal_candidates(&mut cands);
        for (count, ty, fam) in [
            (self.time, "TIME", FAM_TIME),
            (self.interval, "INTERVAL", FAM_INTERVAL),
            (self.uuid, "UUID", FAM_UUID),
            (self.json, "JSON", FAM_JSON),
        ] {
            if count > 0 {
                cands.push(Cand {
                    type_name: ty.into(),
                    format: None,
                    count,
                    order: 0,
                    family: fam,
                    plan: CastPlan::TryCast,
                    agreement: 1.0,
                    ambiguous: false,
                    num: None,
                    eligible: true,
                });
            }
        }
        // Within equal counts, the narrower type first, then the preferred format.
        cands.sort_by(|a, b| {
            b.count.cmp(&a.count).then(priority(&a.type_name).cmp(&priority(&b.type_name)).then(a.order.cmp(&b.order)))
        });
        inf.candidates = cands
            .iter()
            .map(|c| Candidate {
                type_name: c.type_name.clone(),
                format: c.format.clone(),
                parse_rate: c.count as f64 / nf,
            })
            .chain(std::iter::once(Candidate { type_name: "VARCHAR".into(), format: None, parse_rate: 1.0 }))
            .collect();
        let best_rate = cands.first().map_or(0.0, |c| c.count as f64 / nf);
        let chosen = cands.iter().find(|c| c.eligible && c.count as f64 / nf >= self.shared.opts.min_parse_rate);
        let threshold = self.shared.opts.min_parse_rate;
        let share = |c: u64| c as f64 / nf;

        // Override: card numbers and digit strings with leading zeros stay text.
        let card = share(self.sem[8]) >= threshold;
        let leading_zero_ids = chosen.is_some_and(|c| {
            c.num.is_some_and(|i| {
                let st = &self.num[i];
                st.leading_zero > 0 && st.decorated == 0 && st.frac_count == 0 && st.exp_count == 0
            })
        });
        match chosen {
            Some(c) if !card && !leading_zero_ids => {
                let rate = c.count as f64 / nf;
                inf.inferred_type = c.type_name.clone();
                inf.format = c.format.clone();
                inf.parse_rate = rate;
                inf.ambiguous = c.ambiguous;
                // two decimal conventions equally good and both using separators
                if let Some(i) = c.num {
                    let other = &self.num[1 - i];
                    if self.shared.opts.decimal.is_none()
                        && self.num[i].separator_use > 0
                        && other.separator_use > 0
                        && other.count == self.num[i].count
                    {
                        inf.ambiguous = true;
                    }
                }
                inf.confidence = rate * c.agreement * size * if inf.ambiguous { 0.6 } else { 1.0 };
                inf.quarantine_count = n - c.count.min(n);
                inf.failed_examples = self.failures_of(c.family);
                inf.plan = c.plan.clone();
                self.semantics_of_typed(c, &mut inf);
            }
            _ => {
                inf.parse_rate = 1.0;
                if card {
                    inf.semantic_type = Some("credit_card".into());
                    inf.confidence = share(self.sem[8]) * size;
                } else if leading_zero_ids {
                    inf.semantic_type = Some("identifier".into());
                    inf.confidence = chosen.map_or(0.0, |c| share(c.count)) * size;
                } else {
                    self.semantics_of_text(&mut inf, best_rate, size);
                }
            }
        }
        inf
    }

    fn semantics_of_typed(&self, c: &Cand, inf: &mut Inference) {
        let nf = self.non_null as f64;
        let t = self.shared.opts.min_parse_rate;
        match c.type_name.as_str() {
            "BOOLEAN" => inf.semantic_type = Some("boolean_word".into()),
            "UUID" => inf.semantic_type = Some("uuid".into()),
            "JSON" => inf.semantic_type = Some("json".into()),
            _ => {}
        }
        let Some(i) = c.num else { return };
        let st = &self.num[i];
        let is_int = priority(&c.type_name) <= 5;
        if is_int && st.year_like as f64 / nf >= t {
            inf.semantic_type = Some("year".into());
        } else if is_int && (st.epoch_ms as f64 / nf >= t || st.epoch_s as f64 / nf >= t) {
            let ms = st.epoch_ms as f64 / nf >= t;
            inf.semantic_type = Some(if ms { "epoch_millis" } else { "epoch_seconds" }.into());
            // epoch seconds outgrow INTEGER in 2038: keep them 64-bit
            if priority(&inf.inferred_type) < priority("BIGINT") {
                inf.inferred_type = "BIGINT".into();
            }
        }
        let argmax = |a: &[u64]| {
            a.iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(&x.0)))
                .map(|(i, c)| (i, *c))
        };
        if let Some((ci, cc)) = argmax(&self.currency) {
            if cc * 2 >= st.count {
                inf.semantic_type = Some("currency_amount".into());
                inf.unit = Some(CURRENCIES[ci].to_string());
                return;
            }
        }
        if self.percent * 2 >= st.count && self.percent > 0 {
            inf.semantic_type = Some("percentage".into());
            inf.unit = Some("%".into());
            return;
        }
        if let Some((ui, uc)) = argmax(&self.units) {
            if uc * 2 >= st.count {
                inf.unit = Some(UNITS[ui].to_string());
            }
        }
    }

    fn semantics_of_text(&self, inf: &mut Inference, best_rate: f64, size: f64) {
        let n = self.non_null;
        let nf = n as f64;
        // ties go to the more specific pattern (check digits first, phone last)
        const SPECIFICITY: [usize; sem::N] = [8, 9, 0, 1, 2, 3, 5, 6, 7, 10, 4];
        let mut best_sem: Option<(usize, u64)> = None;
        for &i in &SPECIFICITY {
            if best_sem.is_none_or(|(_, c)| self.sem[i] > c) {
                best_sem = Some((i, self.sem[i]));
            }
        }
        if let Some((i, c)) = best_sem {
            if c > 0 && c as f64 / nf >= self.shared.opts.min_parse_rate {
                inf.semantic_type = Some(sem::NAMES[i].to_string());
                inf.confidence = c as f64 / nf * size;
                if i == 7 {
                    inf.unit = None;
                }
                return;
            }
        }
        let d = inf.distinct_count;
        if self.multiword * 2 >= n && d * 2 > n {
            inf.semantic_type = Some("free_text".into());
        } else if d <= 100 && d * 2 <= n {
            inf.semantic_type = Some("categorical".into());
        }
        inf.confidence = (1.0 - best_rate) * size;
    }
}

/// A regular expression accepting what the recognisers accept for a strptime format.
fn strptime_regex(fmt: &str) -> String {
    let mut re = String::new();
    let mut it = fmt.chars();
    while let Some(c) = it.next() {
        if c == '%' {
            re.push_str(match it.next() {
                Some('Y') => "[0-9]{4}",
                Some('y') => "[0-9]{2}",
                Some('m') | Some('d') | Some('H') | Some('I') => "[0-9]{1,2}",
                Some('M') | Some('S') => "[0-9]{2}",
                Some('f') => "[0-9]{1,6}",
                Some('b') => "[A-Za-z]{3}",
                Some('B') => "[A-Za-z]+",
                Some('p') => "[AaPp][Mm]",
                Some('z') => "[+-][0-9]{2}(?::?[0-9]{2})?",
                _ => ".*",
            });
        } else if c.is_ascii_alphanumeric() || c == ' ' || c == '/' || c == '-' || c == ',' || c == ':' {
            re.push(c);
        } else {
            re.push('\\');
            re.push(c);
        }
    }
    re
}

/// Escapes a SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A DuckDB SQL expression that converts the VARCHAR column `column_sql_ident`
/// (already quoted as needed) to `inf.inferred_type`; values that do not convert and
/// null tokens become NULL, whitespace is trimmed first.
pub fn cast_expression(column_sql_ident: &str, inf: &Inference) -> String {
    let t =
        format!("trim(CAST({column_sql_ident} AS VARCHAR), ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))");
    let ty = &inf.inferred_type;
    let body = match &inf.plan {
        CastPlan::Varchar => t.clone(),
        CastPlan::Boolean => {
            let list = |w: &[&str]| w.iter().map(|x| lit(x)).collect::<Vec<_>>();
            let tw = list(&parse::TRUE_WORDS);
            let fw = list(&parse::FALSE_WORDS);
            format!(
                "CASE WHEN lower({t}) IN ({}, '1') THEN TRUE WHEN lower({t}) IN ({}, '0') THEN FALSE END",
                tw.join(", "),
                fw.join(", ")
            )
        }
        CastPlan::Number { decimal, decorated, keep_exponent, parentheses } => {
            if !decorated && *decimal == '.' {
                format!("TRY_CAST({t} AS {ty})")
            } else {
                let exp = if *keep_exponent { "eE" } else { "" };
                let (keep, thou) = if *decimal == '.' { (".", ",") } else { (",", "\\.") };
                let mut stripped = format!("regexp_replace({t}, '[^0-9{keep}{exp}+\\-]', '', 'g')");
                if *decimal == ',' {
                    stripped = format!("replace({stripped}, ',', '.')");
                }
                if *parentheses {
                    stripped = format!("CASE WHEN starts_with({t}, '(') THEN '-' ELSE '' END || {stripped}");
                }
                let dec_re = if *decimal == '.' { "\\." } else { "," };
                let cur = CURRENCIES.iter().map(|c| c.replace('$', "\\$")).collect::<Vec<_>>().join("|");
                let units = UNITS.join("|");
                let guard = format!(
                    "\\(?[+-]?(?:(?:{cur}) *)?[+-]?(?:[0-9]{{1,3}}(?:{thou}[0-9]{{3}})+|[0-9]*)(?:{dec_re}[0-9]+)?(?:[eE][+-]?[0-9]+)?(?: *(?:%|{cur}|(?i:{units})))?\\)?"
                );
                format!(
                    "TRY_CAST(CASE WHEN regexp_full_match({t}, {}) THEN {stripped} END AS {ty})",
                    lit(&guard)
                )
            }
        }
        CastPlan::TryCast => format!("TRY_CAST({t} AS {ty})"),
        CastPlan::Strptime(fmts) => {
            let f = if fmts.len() == 1 {
                lit(&fmts[0])
            } else {
                format!("[{}]", fmts.iter().map(|f| lit(f)).collect::<Vec<_>>().join(", "))
            };
            // guard: strptime is laxer than the recognisers (%Y reads "12" as year 12)
            let re: Vec<String> = fmts.iter().map(|f| format!("(?:{})", strptime_regex(f))).collect();
            format!(
                "CASE WHEN regexp_full_match({t}, {}) THEN CAST(try_strptime({t}, {f}) AS {ty}) END",
                lit(&re.join("|"))
            )
        }
        CastPlan::Quarter => format!(
            "CASE WHEN regexp_full_match({t}, '[0-9]{{4}}-[Qq][1-4]') THEN make_date(CAST(substr({t}, 1, 4) AS INTEGER), CAST(substr({t}, 7, 1) AS INTEGER) * 3 - 2, 1) END"
        ),
    };
    if inf.null_tokens.is_empty() {
        body
    } else {
        let toks: Vec<String> = inf.null_tokens.iter().map(|(s, _)| lit(&s.trim().to_lowercase())).collect();
        format!("CASE WHEN lower({t}) IN ({}) THEN NULL ELSE {body} END", toks.join(", "))
    }
}

#[cfg(test)]
mod tests;

//! The serialised body of an [`InferState`]: its options and every counter, so a state read
//! back finalizes and merges exactly like the one written.
//!
//! Layout (little-endian, fixed width): options (null tokens, min_parse_rate, sample_limit,
//! decimal), the table sizes this build uses (a body from a build with other recogniser
//! tables is refused), the counters in declaration order, the bottom-k hashes ascending and
//! the failed-example lists ordered by family mask. Equal states give equal bytes. A versioned
//! envelope (magic, version, checksum) is the caller's.
//!
//! [`InferState::read_body`] checks every length against a hard cap and the input left, and
//! every invariant the state relies on (hashes strictly ascending and at most `sample_limit`,
//! counters at most the non-null count, example lists sorted, short and distinct), so a
//! corrupt body is `Err`, never a panic or an inconsistent state.

use super::codec::{Put, Reader};
use super::parse::{sem, CURRENCIES, DATE_FORMATS, N_TIME_VARIANTS, UNITS};
use super::{InferOptions, InferState, NumStats, EXAMPLE_BYTES, MAX_EXAMPLES};

const WHAT: &str = "dr_infer_type";
/// Hard caps on sizes read from a body.
const MAX_TOKENS: usize = 1 << 16;
const MAX_TOKEN_BYTES: usize = 1 << 16;
/// Masks are sets of the eight example families.
const MAX_MASKS: usize = 1 << 8;
/// Digit counts beyond this cannot come from a value DuckDB can hold.
const MAX_DIGITS: u32 = 1 << 30;
/// Rows of one state: far beyond any table, and small enough that the sums finalize forms
/// (a few dozen counters) cannot overflow.
const MAX_ROWS: u64 = 1 << 56;

fn write_num(out: &mut Vec<u8>, s: &NumStats) {
    for x in [s.count, s.int_count, s.frac_count, s.exp_count, s.int_overflow] {
        out.put_u64(x);
    }
    out.put_u32(s.max_int_digits);
    out.put_u32(s.max_frac_digits);
    out.put_i128(s.min);
    out.put_i128(s.max);
    for x in
        [s.leading_zero, s.decorated, s.separator_use, s.paren, s.zero_one, s.year_like, s.epoch_s, s.epoch_ms, s.only]
    {
        out.put_u64(x);
    }
}

fn read_num(r: &mut Reader, non_null: u64) -> Result<NumStats, String> {
    let mut s = NumStats {
        count: r.u64()?,
        int_count: r.u64()?,
        frac_count: r.u64()?,
        exp_count: r.u64()?,
        int_overflow: r.u64()?,
        max_int_digits: r.u32()?,
        max_frac_digits: r.u32()?,
        min: r.i128()?,
        max: r.i128()?,
        ..NumStats::default()
    };
    for f in [
        &mut s.leading_zero,
        &mut s.decorated,
        &mut s.separator_use,
        &mut s.paren,
        &mut s.zero_one,
        &mut s.year_like,
        &mut s.epoch_s,
        &mut s.epoch_ms,
        &mut s.only,
    ] {
        *f = r.u64()?;
    }
    let parts =
        [s.int_count, s.frac_count, s.exp_count, s.int_overflow].iter().try_fold(0u64, |a, b| a.checked_add(*b));
    if parts != Some(s.count) || s.count > non_null {
        return Err(r.err("number counts do not add up"));
    }
    let counters =
        [s.leading_zero, s.decorated, s.separator_use, s.paren, s.zero_one, s.year_like, s.epoch_s, s.epoch_ms, s.only];
    if counters.iter().any(|&c| c > s.count) {
        return Err(r.err("a number counter exceeds the number count"));
    }
    if s.max_int_digits > MAX_DIGITS || s.max_frac_digits > MAX_DIGITS {
        return Err(r.err("digit count out of range"));
    }
    let empty = NumStats::default();
    if (s.int_count > 0 && s.min > s.max) || (s.int_count == 0 && (s.min, s.max) != (empty.min, empty.max)) {
        return Err(r.err("integer range does not match the integer count"));
    }
    Ok(s)
}

impl InferState {
    /// Appends the serialised state (options and every counter) to `out`; see the module
    /// documentation of the layout. Equal states give equal bytes.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        let o = &self.shared.opts;
        out.put_u64(o.null_tokens.len() as u64);
        for t in &o.null_tokens {
            out.put_bytes(t.as_bytes());
        }
        out.put_f64(o.min_parse_rate);
        out.put_u64(o.sample_limit as u64);
        match o.decimal {
            None => out.put_u8(0),
            Some(c) => {
                out.put_u8(1);
                out.put_u32(u32::from(c));
            }
        }
        for n in [CURRENCIES.len(), UNITS.len(), sem::N, DATE_FORMATS.len() * N_TIME_VARIANTS] {
            out.put_u32(n as u32);
        }
        out.put_u64(self.token_counts.len() as u64);
        for &c in &self.token_counts {
            out.put_u64(c);
        }
        for x in [self.sql_nulls, self.non_null, self.bool_words] {
            out.put_u64(x);
        }
        for n in &self.num {
            write_num(out, n);
        }
        for &c in self.currency.iter().chain(&self.units) {
            out.put_u64(c);
        }
        out.put_u64(self.percent);
        out.put_u64(self.temporal.len() as u64);
        for &c in &self.temporal {
            out.put_u64(c);
        }
        for x in [self.time, self.interval, self.uuid, self.json] {
            out.put_u64(x);
        }
        for &c in &self.sem {
            out.put_u64(c);
        }
        for x in [self.multiword, self.binary, self.total_len] {
            out.put_u64(x);
        }
        out.put_u64(self.hashes.len() as u64);
        for &h in &self.hashes {
            out.put_u64(h);
        }
        // The lists' order depends on which mask came first; the bytes must not.
        let mut failed: Vec<&(u32, Vec<Box<[u8]>>)> = self.failed.iter().collect();
        failed.sort_unstable_by_key(|(m, _)| *m);
        out.put_u64(failed.len() as u64);
        for (m, list) in failed {
            out.put_u32(*m);
            out.put_u64(list.len() as u64);
            for e in list {
                out.put_bytes(e);
            }
        }
    }

    /// Reads a body written by [`InferState::write_body`]. Corrupt or truncated input is
    /// `Err` with a short message, never a panic.
    pub fn read_body(bytes: &[u8]) -> Result<InferState, String> {
        let r = &mut Reader::new(bytes, WHAT);
        let ntok = r.len(MAX_TOKENS, 8, "null token count")?;
        let mut null_tokens = Vec::with_capacity(ntok);
        for _ in 0..ntok {
            null_tokens.push(r.string(MAX_TOKEN_BYTES, "null token")?);
        }
        let min_parse_rate = r.f64()?;
        let sample_limit = r.usize_in(2, 1 << 20, "sample_limit")?;
        let decimal = match r.u8()? {
            0 => None,
            1 => Some(char::from_u32(r.u32()?).ok_or_else(|| r.err("decimal is not a character"))?),
            _ => return Err(r.err("decimal tag")),
        };
        let opts = InferOptions { null_tokens, min_parse_rate, sample_limit, decimal };
        let mut s = InferState::try_with_options(opts).map_err(|e| r.err(e.message))?;
        for n in [CURRENCIES.len(), UNITS.len(), sem::N, DATE_FORMATS.len() * N_TIME_VARIANTS] {
            if r.u32()? as usize != n {
                return Err(r.err("written by a build with other recogniser tables"));
            }
        }
        let ntc = r.len(MAX_TOKENS, 8, "token count length")?;
        if ntc != 0 && ntc != s.shared.tokens.len() {
            return Err(r.err("token counts do not match the null tokens"));
        }
        s.token_counts = r.u64s(ntc)?;
        s.sql_nulls = r.u64()?;
        s.non_null = r.u64()?;
        s.bool_words = r.u64()?;
        let nn = s.non_null;
        let tokens = s.token_counts.iter().try_fold(s.sql_nulls, |a, b| a.checked_add(*b));
        if tokens.and_then(|t| t.checked_add(nn)).is_none_or(|t| t > MAX_ROWS) {
            return Err(r.err("row count out of range"));
        }
        for k in 0..2 {
            s.num[k] = read_num(r, nn)?;
        }
        for c in s.currency.iter_mut().chain(s.units.iter_mut()) {
            *c = r.u64()?;
        }
        s.percent = r.u64()?;
        let nt = r.u64()?;
        let full = (DATE_FORMATS.len() * N_TIME_VARIANTS) as u64;
        if nt != 0 && nt != full {
            return Err(r.err("temporal table size"));
        }
        s.temporal = r.u64s(nt as usize)?;
        s.time = r.u64()?;
        s.interval = r.u64()?;
        s.uuid = r.u64()?;
        s.json = r.u64()?;
        for c in s.sem.iter_mut() {
            *c = r.u64()?;
        }
        s.multiword = r.u64()?;
        s.binary = r.u64()?;
        s.total_len = r.u64()?;
        let singles = [s.bool_words, s.percent, s.time, s.interval, s.uuid, s.json, s.multiword, s.binary];
        let sum = |a: &[u64]| a.iter().try_fold(0u64, |t, c| t.checked_add(*c)).unwrap_or(u64::MAX);
        // a value may count in two semantic passes (as a number and as a pattern)
        if singles.iter().any(|&c| c > nn)
            || s.sem.iter().any(|&c| c > 2 * nn)
            || sum(&s.currency) > nn
            || sum(&s.units) > nn
        {
            return Err(r.err("a counter exceeds the non-null count"));
        }
        for row in s.temporal.chunks(N_TIME_VARIANTS) {
            if sum(row) > nn {
                return Err(r.err("a date format count exceeds the non-null count"));
            }
        }
        let nh = r.len(sample_limit, 8, "hash count")?;
        s.hashes = r.u64s(nh)?;
        if s.hashes.windows(2).any(|w| w[0] >= w[1]) || nh as u64 > nn {
            return Err(r.err("distinct-value sketch is not strictly ascending or too long"));
        }
        let nm = r.len(MAX_MASKS, 12, "failed list count")?;
        let mut failed: Vec<(u32, Vec<Box<[u8]>>)> = Vec::with_capacity(nm);
        for _ in 0..nm {
            let m = r.u32()?;
            if m as usize >= MAX_MASKS || failed.last().is_some_and(|(p, _)| *p >= m) {
                return Err(r.err("failed-example masks are not strictly ascending"));
            }
            let ne = r.len(MAX_EXAMPLES, 8, "failed example count")?;
            let mut list: Vec<Box<[u8]>> = Vec::with_capacity(ne);
            for _ in 0..ne {
                let e = r.bytes(EXAMPLE_BYTES, "failed example")?;
                if list.last().is_some_and(|p| p[..] >= *e) {
                    return Err(r.err("failed examples are not strictly ascending"));
                }
                list.push(e.into());
            }
            if list.is_empty() {
                return Err(r.err("empty failed-example list"));
            }
            failed.push((m, list));
        }
        s.failed = failed;
        r.finish()?;
        Ok(s)
    }

    /// The options as one canonical line, for error messages:
    /// `min_parse_rate=0.9, sample_limit=256, null_tokens=["", "NA"], decimal=auto`.
    pub fn options_text(&self) -> String {
        let o = &self.shared.opts;
        let decimal = match o.decimal {
            None => "auto".to_string(),
            Some(c) => format!("{c:?}"),
        };
        format!(
            "min_parse_rate={}, sample_limit={}, null_tokens={:?}, decimal={decimal}",
            o.min_parse_rate, o.sample_limit, o.null_tokens
        )
    }

    /// Whether `other` was built with the same options (only then may the two combine).
    pub fn same_options(&self, other: &InferState) -> bool {
        std::sync::Arc::ptr_eq(&self.shared, &other.shared) || self.shared.opts == other.shared.opts
    }

    /// Whether nothing was added (every counter zero): the identity whatever its options.
    pub fn is_empty(&self) -> bool {
        self.non_null == 0 && self.sql_nulls == 0 && self.token_counts.iter().all(|&c| c == 0)
    }

    /// [`InferState::combine`] for states that may come from elsewhere (read from bytes):
    /// an empty side is the identity whatever its options; otherwise the options must be
    /// equal. `other` is not modified.
    pub fn try_combine(&mut self, other: &InferState) -> Result<(), String> {
        if other.is_empty() {
            return Ok(());
        }
        if self.is_empty() && !self.same_options(other) {
            *self = other.clone();
            return Ok(());
        }
        if !self.same_options(other) {
            return Err(format!(
                "{WHAT}: cannot merge states built with different options: {} vs {}",
                self.options_text(),
                other.options_text()
            ));
        }
        self.combine(other);
        Ok(())
    }
}

//! Little-endian writer and bounds-checked reader for the serialised state bodies of
//! `dr_infer_type` and `dr_correlations`.
//!
//! The reader never panics and never allocates a size read from the input before checking it
//! against a hard cap and against what the remaining input can hold (every element of a
//! sequence takes at least one byte), so a corrupt or truncated body costs at most its own
//! length in memory and ends in `Err`.

/// Appends fixed-width little-endian fields to a body.
pub(crate) trait Put {
    fn put_u8(&mut self, x: u8);
    fn put_u32(&mut self, x: u32);
    fn put_u64(&mut self, x: u64);
    fn put_i128(&mut self, x: i128);
    fn put_f64(&mut self, x: f64);
    /// A length prefix (u64) then the bytes.
    fn put_bytes(&mut self, b: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, x: u8) {
        self.push(x);
    }
    fn put_u32(&mut self, x: u32) {
        self.extend_from_slice(&x.to_le_bytes());
    }
    fn put_u64(&mut self, x: u64) {
        self.extend_from_slice(&x.to_le_bytes());
    }
    fn put_i128(&mut self, x: i128) {
        self.extend_from_slice(&x.to_le_bytes());
    }
    fn put_f64(&mut self, x: f64) {
        self.put_u64(x.to_bits());
    }
    fn put_bytes(&mut self, b: &[u8]) {
        self.put_u64(b.len() as u64);
        self.extend_from_slice(b);
    }
}

/// Reads a body front to back; every error names `what` (the SQL function).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }

    /// An error message for this body.
    pub(crate) fn err(&self, msg: impl std::fmt::Display) -> String {
        format!("{}: corrupt state: {msg}", self.what)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        match self.buf.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.buf = rest;
                Ok(*head)
            }
            None => Err(self.err("truncated")),
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    pub(crate) fn i128(&mut self) -> Result<i128, String> {
        Ok(i128::from_le_bytes(self.take()?))
    }
    pub(crate) fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub(crate) fn bool(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.err(format_args!("flag byte {b}"))),
        }
    }

    /// Runs a reader of `&mut &[u8]` on the rest of the input and advances past what it read.
    pub(crate) fn with_slice<T>(&mut self, f: impl FnOnce(&mut &'a [u8]) -> Result<T, String>) -> Result<T, String> {
        let mut b = self.buf;
        let v = f(&mut b).map_err(|e| self.err(e))?;
        self.buf = b;
        Ok(v)
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// A u64 that must lie in `lo..=hi`, as usize.
    pub(crate) fn usize_in(&mut self, lo: usize, hi: usize, field: &str) -> Result<usize, String> {
        let x = self.u64()?;
        match usize::try_from(x) {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => Err(self.err(format_args!("{field} = {x} outside [{lo}, {hi}]"))),
        }
    }

    /// A sequence length: at most `cap`, and at most what the rest of the input can hold
    /// when each element takes at least `min_elem_bytes` bytes.
    pub(crate) fn len(&mut self, cap: usize, min_elem_bytes: usize, field: &str) -> Result<usize, String> {
        let n = self.usize_in(0, cap, field)?;
        if n.saturating_mul(min_elem_bytes.max(1)) > self.buf.len() {
            return Err(self.err("truncated"));
        }
        Ok(n)
    }

    /// Length-prefixed bytes of at most `cap` bytes.
    pub(crate) fn bytes(&mut self, cap: usize, field: &str) -> Result<&'a [u8], String> {
        let n = self.len(cap, 1, field)?;
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// Length-prefixed UTF-8 of at most `cap` bytes.
    pub(crate) fn string(&mut self, cap: usize, field: &str) -> Result<String, String> {
        let b = self.bytes(cap, field)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(self.err(format_args!("{field} is not UTF-8"))),
        }
    }

    /// `n` u64 words (n already checked by [`Reader::len`] or a constant).
    pub(crate) fn u64s(&mut self, n: usize) -> Result<Vec<u64>, String> {
        if n.saturating_mul(8) > self.buf.len() {
            return Err(self.err("truncated"));
        }
        (0..n).map(|_| self.u64()).collect()
    }

    /// Fails unless the whole body was read.
    pub(crate) fn finish(&self) -> Result<(), String> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.err(format_args!("{} trailing bytes", self.buf.len())))
        }
    }
}

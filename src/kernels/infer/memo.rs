//! A bounded per-state memo from a trimmed value to its classification ([`Outcome`]): a
//! value seen before in this state is counted without running the recognisers again.
//! Text columns repeat across blocks (codes, identifiers, times of day), and classifying a
//! value costs ten times a hash-table probe. The memo only saves work: the counters an
//! outcome adds are the same whether it was computed or recalled, and the distinct sketch
//! and failed examples, sets that a repeat leaves unchanged, were updated when the value was
//! first classified in this state.

use super::parse::{Num, Temporal};

/// Most values kept per state (bounds the memo to ~0.5 MB).
const MAX_ENTRIES: usize = 2048;
/// Longer values are not kept.
const MAX_LEN: usize = 40;

/// What the recognisers found in one trimmed, non-null value.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Outcome {
    /// The number under the `.` decimal convention.
    pub a: Option<Num>,
    /// The number under the `,` decimal convention.
    pub b: Option<Num>,
    /// Not a `.` number but `inf`/`infinity`.
    pub a_inf: bool,
    /// Semantic bits added (each non-zero entry once).
    pub sem: [u32; 2],
    /// A date/timestamp reading.
    pub temporal: Option<Temporal>,
    /// TIME, INTERVAL, boolean word, JSON, UUID.
    pub time: bool,
    pub interval: bool,
    pub bool_word: bool,
    pub json: bool,
    pub uuid: bool,
    /// Invalid UTF-8 or control characters.
    pub binary: bool,
    /// Two or more spaces (free text).
    pub multiword: bool,
    /// Bit per family that parsed.
    pub ok: u32,
}

struct Entry {
    hash: u64,
    off: u32,
    len: u32,
    out: Outcome,
}

/// Open addressing over entry indices (+1; 0 is empty), value bytes in one arena.
#[derive(Default)]
pub(super) struct Memo {
    /// Tests time the kernel with and without the memo.
    #[cfg(test)]
    pub disabled: bool,
    /// (upper 32 hash bits, entry index + 1): a miss reads no entry
    slots: Vec<(u32, u32)>,
    entries: Vec<Entry>,
    arena: Vec<u8>,
    /// Lookups that missed while the memo was full, and hits; a full memo that mostly
    /// misses (a column of distinct values) stops looking.
    misses: u64,
    hits: u64,
    full: bool,
}

impl Clone for Memo {
    /// A clone starts with an empty memo: it only saves work.
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memo({} values)", self.entries.len())
    }
}

impl Memo {
    /// The outcome of `s` (whose hash is `hash`) if it is kept.
    #[inline]
    pub fn get(&mut self, hash: u64, s: &[u8]) -> Option<Outcome> {
        if self.slots.is_empty() || (self.misses > 4096 && self.misses > 4 * self.hits) {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        let tag = (hash >> 32) as u32;
        loop {
            let (t, e) = self.slots[slot];
            if e == 0 {
                self.misses += u64::from(self.full);
                return None;
            }
            if t == tag {
                let en = &self.entries[e as usize - 1];
                if en.hash == hash && en.len as usize == s.len() {
                    let off = en.off as usize;
                    if super::eq_bytes(&self.arena[off..off + s.len()], s) {
                        self.hits += 1;
                        return Some(en.out);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Keeps `s` → `out` unless the memo holds `values / 64` entries (so a state's memo
    /// grows with the values it has seen: small groups keep small states) or
    /// [`MAX_ENTRIES`], `s` is long or memory is short.
    pub fn insert(&mut self, hash: u64, s: &[u8], out: Outcome, values: u64) {
        #[cfg(test)]
        if self.disabled {
            return;
        }
        let budget = usize::try_from(values / 64).unwrap_or(usize::MAX).min(MAX_ENTRIES);
        if self.entries.len() >= budget {
            self.full = true;
            return;
        }
        if s.len() > MAX_LEN {
            return;
        }
        if (self.entries.len() + 1) * 2 > self.slots.len() && !self.grow() {
            return;
        }
        if self.entries.len() == self.entries.capacity() {
            // grow by doubling, but not past the budget
            let more = self.entries.len().max(8).min(budget - self.entries.len());
            if self.entries.try_reserve_exact(more).is_err() {
                return;
            }
        }
        if self.arena.try_reserve(s.len()).is_err() {
            return;
        }
        let off = self.arena.len() as u32;
        self.arena.extend_from_slice(s);
        self.entries.push(Entry { hash, off, len: s.len() as u32, out });
        let idx = self.entries.len() as u32;
        self.place(hash, idx);
    }

    fn place(&mut self, hash: u64, idx: u32) {
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        while self.slots[slot].1 != 0 {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = ((hash >> 32) as u32, idx);
    }

    fn grow(&mut self) -> bool {
        let n = (self.slots.len() * 2).max(64);
        let mut slots = Vec::new();
        if slots.try_reserve_exact(n).is_err() {
            return false;
        }
        slots.resize(n, (0, 0));
        self.slots = slots;
        for i in 0..self.entries.len() {
            let h = self.entries[i].hash;
            self.place(h, i as u32 + 1);
        }
        true
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.entries.capacity() * std::mem::size_of::<Entry>() + self.arena.capacity()
    }
}

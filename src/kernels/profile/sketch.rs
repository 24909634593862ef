//! The mergeable sketches a column state switches to once its exact value map outgrows
//! the budget: HyperLogLog for distinct counts, Misra–Gries candidates checked by a
//! Count-Min sketch for top values (and text patterns), and an adaptive log-linear bucket
//! histogram for quantiles.
//!
//! Every sketch here except the Misra–Gries candidate set is a deterministic function of
//! the multiset of values fed to it, whatever the split and merge order; what is
//! reported from the candidates is invariant too (see [`HeavyHitters`]). So a column
//! profile in sketch mode depends only on the multiset of its values.
//!
//! - HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007) with p = 14 (16 384 one-byte
//!   registers, 16 KiB, standard error 1.04/√m ≈ 0.81 %), estimated with Ertl's improved
//!   raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
//!   2017, Algorithm 6), which needs neither bias tables nor a linear-counting switch.
//!   Merge = register-wise max.
//! - [`MisraGries`] with the purge of Agarwal et al. ("Mergeable summaries", PODS 2012,
//!   §3): counters are lower bounds; whenever more than 3·cap/2 are held, the
//!   (cap+1)-th largest counter is subtracted from all and the non-positive ones are
//!   dropped. Each purge removes at least (cap+1)·v of mass for the v it subtracts, so
//!   after any sequence of inserts and merges a count is under-estimated by at most
//!   n/(cap+1): every value with a true count above n/(cap+1) is a candidate, in every
//!   split.
//! - [`CountMin`] (Cormode & Muthukrishnan, "An improved data stream summary: the
//!   count-min sketch and its applications", 2005): D rows of W counters, merge = add,
//!   so it is linear and split-invariant. An estimate never under-counts; a row
//!   over-counts x by at most ε·n with probability ≥ 1 − 1/(εW) (Markov), rows are
//!   independent.
//! - [`HeavyHitters`]: reports the candidates whose Count-Min estimate reaches
//!   τ = 2n/(cap+1). With cap = 1024 and an 8 × 4096 sketch, a value whose true count is
//!   ≤ n/(cap+1) passes only if every row over-counts it by ≥ n/(cap+1):
//!   probability ≤ ((cap+1)/W)^D = (1025/4096)^8 ≈ 1.5·10⁻⁵ per candidate (Markov; far
//!   smaller unless a few heavy values take most of the mass). Every other reported
//!   value is a candidate in every split, so the report is split-invariant. Values with
//!   a share below 2/(cap+1) ≈ 0.2 % of the non-NULL values are never reported.
//! - [`LogHist`]: each non-NaN double x maps to its order-preserving 64-bit key (sign
//!   flip of the bits, −0 → +0); a bucket is `key >> shift` and keeps (count, min, max).
//!   The state keeps the smallest shift with at most [`HIST_BUCKETS`] non-empty buckets.
//!   That count is monotone in the multiset and nested in the shift
//!   ((k >> a) >> (b − a) = k >> b), so a part never needs a larger shift than the union:
//!   merging = re-bucket both at the larger shift, add, coarsen while over the limit — a
//!   function of the union. For shift ≤ 52 a bucket spans at most 2^(shift−52)·|x|
//!   (log-linear, like HDR histograms); [`LogHist::resolution`] reports it.
//!
//! Memory (constant): HLL 16 KiB; Count-Min 8 × 4096 × 8 B = 256 KiB for values and
//! 8 × 512 × 8 B = 32 KiB for patterns; Misra–Gries ≤ 1536 keys; the histogram ≤ 3584
//! buckets of 32 B in a sorted vector (≈ 112 KiB).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::Hash;

use super::codec::{corrupt, count, get_f64, get_u64, get_u8, put_u64, take};
use hashbrown::HashTable;

use super::hash::fmix64;

/// HyperLogLog precision: 2^P registers.
const P: u32 = 14;
const M: usize = 1 << P;
/// Register values range 0..=Q+1.
const Q: u32 = 64 - P;

/// HyperLogLog distinct counter (p = 14).
#[derive(Clone)]
pub struct Hll {
    regs: Vec<u8>,
}

impl Default for Hll {
    fn default() -> Self {
        Hll { regs: vec![0; M] }
    }
}

impl Hll {
    /// Adds one well-mixed 64-bit hash.
    #[inline]
    pub fn insert(&mut self, h: u64) {
        let idx = (h >> Q) as usize;
        let w = h << P;
        let rank = (w.leading_zeros().min(Q) + 1) as u8;
        let r = &mut self.regs[idx];
        if rank > *r {
            *r = rank;
        }
    }

    /// Register-wise max; never changes `other`.
    pub fn merge(&mut self, other: &Hll) {
        for (a, b) in self.regs.iter_mut().zip(&other.regs) {
            if *b > *a {
                *a = *b;
            }
        }
    }

    /// Ertl's improved raw estimate.
    pub fn estimate(&self) -> f64 {
        let mut c = [0u32; (Q + 2) as usize];
        for &r in &self.regs {
            c[r as usize] += 1;
        }
        let m = M as f64;
        let mut z = m * tau(1.0 - f64::from(c[(Q + 1) as usize]) / m);
        for k in (1..=Q as usize).rev() {
            z = 0.5 * (z + f64::from(c[k]));
        }
        z += m * sigma(f64::from(c[0]) / m);
        let alpha = 1.0 / (2.0 * std::f64::consts::LN_2);
        if z <= 0.0 {
            return 0.0;
        }
        alpha * m * m / z
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        self.regs.len()
    }

    /// Appends the registers.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.regs);
    }

    /// Reads registers written by [`Hll::write`].
    pub fn read(r: &mut &[u8]) -> Result<Hll, String> {
        let regs = take(r, M)?;
        if regs.iter().any(|&x| u32::from(x) > Q + 1) {
            return Err(corrupt("HyperLogLog register out of range"));
        }
        Ok(Hll { regs: regs.to_vec() })
    }
}

fn sigma(mut x: f64) -> f64 {
    if x >= 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let old = z;
        z += x * y;
        y += y;
        if z == old {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let old = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == old {
            return z / 3.0;
        }
    }
}

/// One Misra–Gries counter: the key, its 64-bit hash (the caller's, so that the table never
/// hashes a key itself: the caller has hashed it for Count-Min already) and its count.
#[derive(Clone)]
struct Counter<K> {
    hash: u64,
    key: K,
    count: u64,
}

/// Misra–Gries candidates with the Agarwal et al. purge (see the module comment), in a
/// hash table keyed by the caller's hash of each key (every key of one summary must be
/// hashed by the same function).
#[derive(Clone)]
pub struct MisraGries<K: Eq + Hash> {
    cap: usize,
    table: HashTable<Counter<K>>,
    scratch: Vec<u64>,
}

impl<K: Eq + Hash + Clone> MisraGries<K> {
    /// A summary guaranteeing every value above n/(cap+1) is kept; holds ≤ 3·cap/2 keys.
    pub fn new(cap: usize) -> Self {
        MisraGries { cap: cap.max(4), table: HashTable::new(), scratch: Vec::new() }
    }

    fn limit(&self) -> usize {
        self.cap + self.cap / 2
    }

    /// Adds weight `w` to the item borrowed as `q` whose hash is `h`, creating it with
    /// `make` when absent.
    #[inline]
    pub fn add_with<Q: ?Sized + Eq>(&mut self, q: &Q, h: u64, w: u64, make: impl FnOnce() -> K)
    where
        K: Borrow<Q>,
    {
        if let Some(c) = self.table.find_mut(h, |c| c.key.borrow() == q) {
            c.count += w;
            return;
        }
        self.table.insert_unique(h, Counter { hash: h, key: make(), count: w }, |c| c.hash);
        if self.table.len() > self.limit() {
            self.purge();
        }
    }

    /// Adds `weights[j]` to `keys[j]` (hash `hashes[j]`) for every j as one step: held
    /// counters grow, and the new keys join unless that would exceed the limit, in which
    /// case one purge runs over the counters and the new keys together — subtracting their
    /// (cap+1)-th largest count from all — and only new keys above it are inserted. That is
    /// the purge [`MisraGries::add_with`] runs, over more counters at once: the cap+1
    /// largest each lose v, so the total subtracted stays ≤ n/(cap+1) and every value
    /// above n/(cap+1) is kept. A batch of mostly new, light keys (a high-cardinality
    /// column) so costs one probe per key instead of an insert and a share of a purge.
    /// The keys of one batch must be distinct (the callers pass sorted, deduplicated keys).
    pub fn add_batch(&mut self, keys: &[K], hashes: &[u64], weights: &[u64]) {
        let mut fresh: Vec<usize> = Vec::new();
        for (j, (k, (&h, &w))) in keys.iter().zip(hashes.iter().zip(weights)).enumerate() {
            match self.table.find_mut(h, |c| c.key == *k) {
                Some(c) => c.count += w,
                None => fresh.push(j),
            }
        }
        let insert = |table: &mut HashTable<Counter<K>>, j: usize, count: u64| {
            table.insert_unique(hashes[j], Counter { hash: hashes[j], key: keys[j].clone(), count }, |c| c.hash);
        };
        if self.table.len() + fresh.len() <= self.limit() {
            for j in fresh {
                insert(&mut self.table, j, weights[j]);
            }
            return;
        }
        let v = self.cut(fresh.iter().map(|&j| weights[j]));
        for j in fresh {
            if weights[j] > v {
                insert(&mut self.table, j, weights[j] - v);
            }
        }
    }

    /// Subtracts the (cap+1)-th largest counter from all; drops the non-positive ones.
    fn purge(&mut self) {
        self.cut(std::iter::empty());
    }

    /// The purge over the held counters and `extra` counts together (keys not inserted):
    /// v = the (cap+1)-th largest of them all (0 when there are at most cap) is subtracted
    /// from the held counters, the non-positive ones dropped; returns v.
    fn cut(&mut self, extra: impl Iterator<Item = u64>) -> u64 {
        let mut counts = std::mem::take(&mut self.scratch);
        counts.clear();
        counts.extend(self.table.iter().map(|c| c.count));
        counts.extend(extra);
        let mut v = 0;
        if counts.len() > self.cap {
            // (cap+1)-th largest = index len − cap − 1 in ascending order
            let idx = counts.len() - self.cap - 1;
            v = *counts.select_nth_unstable(idx).1;
            self.table.retain(|c| {
                c.count = c.count.saturating_sub(v);
                c.count > 0
            });
        }
        self.scratch = counts;
        v
    }

    /// Adds every counter of `other` (whose keys were hashed by the same function), then
    /// purges; never changes `other`.
    pub fn merge(&mut self, other: &MisraGries<K>) {
        for o in &other.table {
            match self.table.find_mut(o.hash, |c| c.key == o.key) {
                Some(c) => c.count += o.count,
                None => {
                    self.table.insert_unique(o.hash, o.clone(), |c| c.hash);
                }
            }
        }
        if self.table.len() > self.limit() {
            self.purge();
        }
        self.table.shrink_to(self.limit() + 1, |c| c.hash);
    }

    /// The candidates with their lower-bound counts.
    pub fn items(&self) -> impl Iterator<Item = (&K, u64)> {
        self.table.iter().map(|c| (&c.key, c.count))
    }

    /// Number of candidates held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when no candidate is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Heap bytes of the table (keys' own heap not included).
    pub fn bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<Counter<K>>() + 1)
    }

    /// Appends the candidates in `cmp` order (canonical bytes for one state).
    pub fn write(&self, out: &mut Vec<u8>, cmp: impl Fn(&K, &K) -> Ordering, put: impl Fn(&K, &mut Vec<u8>)) {
        let mut v: Vec<(&K, u64)> = self.items().collect();
        v.sort_unstable_by(|a, b| cmp(a.0, b.0));
        put_u64(out, v.len() as u64);
        for (k, c) in v {
            put(k, out);
            put_u64(out, c);
        }
    }

    /// Reads what [`MisraGries::write`] wrote: strictly increasing keys, positive counts
    /// summing to at most `n`; `hash` is the function the summary's keys are hashed with.
    pub fn read(
        r: &mut &[u8],
        cap: usize,
        n: u64,
        cmp: impl Fn(&K, &K) -> Ordering,
        get: impl Fn(&mut &[u8]) -> Result<K, String>,
        hash: impl Fn(&K) -> u64,
    ) -> Result<Self, String> {
        let mut mg = MisraGries::new(cap);
        let len = count(r, mg.limit(), 9, "top-value candidates")?;
        let mut prev: Option<K> = None;
        let mut total = 0u64;
        for _ in 0..len {
            let k = get(r)?;
            let c = get_u64(r)?;
            if c == 0 || prev.as_ref().is_some_and(|p| cmp(p, &k) != Ordering::Less) {
                return Err(corrupt("candidate keys unsorted or zero count"));
            }
            total = total.checked_add(c).filter(|&t| t <= n).ok_or_else(|| corrupt("candidate counts exceed n"))?;
            prev = Some(k.clone());
            let h = hash(&k);
            mg.table.insert_unique(h, Counter { hash: h, key: k, count: c }, |c| c.hash);
        }
        Ok(mg)
    }
}

/// Count-Min sketch: `rows` × 2^`bits` counters; row i indexes with bits
/// `[i·bits, (i+1)·bits)` of a 128-bit hash (the value's 64-bit hash and its remix).
#[derive(Clone)]
pub struct CountMin {
    rows: usize,
    bits: u32,
    n: u64,
    cells: Vec<u64>,
}

impl CountMin {
    /// An empty sketch; `rows · bits` ≤ 128.
    pub fn new(rows: usize, bits: u32) -> Self {
        debug_assert!(rows as u32 * bits <= 128 && bits < 32);
        CountMin { rows, bits, n: 0, cells: vec![0; rows << bits] }
    }

    #[inline(always)]
    fn wide(h: u64) -> u128 {
        (u128::from(Self::high_word(h)) << 64) | u128::from(h)
    }

    /// The upper 64 bits of [`CountMin::wide`] (the lower ones are `h`).
    #[inline(always)]
    fn high_word(h: u64) -> u64 {
        fmix64(h ^ 0x6a09_e667_f3bc_c908)
    }

    #[inline(always)]
    fn cell(&self, wide: u128, i: usize) -> usize {
        let mask = (1u128 << self.bits) - 1;
        (i << self.bits) | ((wide >> (i as u32 * self.bits)) & mask) as usize
    }

    /// Adds `w` to the value with 64-bit hash `h`.
    #[inline]
    pub fn add(&mut self, h: u64, w: u64) {
        let wide = Self::wide(h);
        for i in 0..self.rows {
            let c = self.cell(wide, i);
            self.cells[c] += w;
        }
        self.n += w;
    }

    /// Adds `weights[j]` to the value with hash `hashes[j]`, for every j: the same cells as
    /// calling [`CountMin::add`] on each, but row by row, so one row (32 KiB for values) is
    /// touched at a time instead of every row per value.
    pub fn add_batch(&mut self, hashes: &[u64], weights: &[u64]) {
        debug_assert_eq!(hashes.len(), weights.len());
        let lo = hashes;
        let hi: Vec<u64> = hashes.iter().map(|&h| Self::high_word(h)).collect();
        let bits = self.bits;
        let mask = (1u64 << bits) - 1;
        for (i, row) in self.cells.chunks_exact_mut(1 << bits).take(self.rows).enumerate() {
            // row i reads bits [i·bits, (i+1)·bits) of hi·2^64 + lo (as `cell`), from one
            // 64-bit word when they lie in one
            let shift = i as u32 * bits;
            let mut bump = |c: u64, w: u64| {
                if let Some(x) = row.get_mut(c as usize) {
                    *x += w;
                }
            };
            if shift + bits <= 64 {
                for (&l, &w) in lo.iter().zip(weights) {
                    bump((l >> shift) & mask, w);
                }
            } else if shift >= 64 {
                for (&h, &w) in hi.iter().zip(weights) {
                    bump((h >> (shift - 64)) & mask, w);
                }
            } else {
                for ((&l, &h), &w) in lo.iter().zip(&hi).zip(weights) {
                    bump(((l >> shift) | (h << (64 - shift))) & mask, w);
                }
            }
        }
        self.n += weights.iter().sum::<u64>();
    }

    /// Upper bound of the count of the value with hash `h`.
    pub fn estimate(&self, h: u64) -> u64 {
        let wide = Self::wide(h);
        (0..self.rows).map(|i| self.cells[self.cell(wide, i)]).min().unwrap_or(0)
    }

    /// Total weight added.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Cell-wise sum; never changes `other` (same shape required).
    pub fn merge(&mut self, other: &CountMin) {
        debug_assert_eq!(self.cells.len(), other.cells.len());
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            *a += b;
        }
        self.n += other.n;
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        self.cells.len() * 8
    }

    /// Appends n and the cells.
    pub fn write(&self, out: &mut Vec<u8>) {
        put_u64(out, self.n);
        out.reserve(self.cells.len() * 8);
        for &c in &self.cells {
            put_u64(out, c);
        }
    }

    /// Reads a sketch of this shape; every row must sum to n.
    pub fn read(r: &mut &[u8], rows: usize, bits: u32) -> Result<CountMin, String> {
        let n = get_u64(r)?;
        let bytes = take(r, (rows << bits) * 8)?;
        let cells: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        for row in cells.chunks_exact(1 << bits) {
            if row.iter().map(|&c| u128::from(c)).sum::<u128>() != u128::from(n) {
                return Err(corrupt("Count-Min row does not sum to n"));
            }
        }
        Ok(CountMin { rows, bits, n, cells })
    }
}

/// Misra–Gries candidates filtered by a Count-Min sketch (see the module comment): the
/// reported set depends only on the multiset of values, with the stated probability.
#[derive(Clone)]
pub struct HeavyHitters<K: Eq + Hash> {
    mg: MisraGries<K>,
    cm: CountMin,
}

impl<K: Eq + Hash + Clone> HeavyHitters<K> {
    /// `cap` Misra–Gries counters, a `rows` × 2^`bits` Count-Min sketch.
    pub fn new(cap: usize, rows: usize, bits: u32) -> Self {
        HeavyHitters { mg: MisraGries::new(cap), cm: CountMin::new(rows, bits) }
    }

    /// Adds `w` copies of the item borrowed as `q` whose 64-bit hash is `h`.
    #[inline]
    pub fn add_with<Q: ?Sized + Eq>(&mut self, q: &Q, h: u64, w: u64, make: impl FnOnce() -> K)
    where
        K: Borrow<Q>,
    {
        self.cm.add(h, w);
        self.mg.add_with(q, h, w, make);
    }

    /// Adds `weights[j]` copies of `keys[j]` (64-bit hash `hashes[j]`) for every j: the
    /// same Count-Min cells as [`HeavyHitters::add_with`] on each, and the candidates of one
    /// batch step ([`MisraGries::add_batch`]), with the same guarantee.
    pub fn add_batch(&mut self, keys: &[K], hashes: &[u64], weights: &[u64]) {
        self.cm.add_batch(hashes, weights);
        self.mg.add_batch(keys, hashes, weights);
    }

    /// Merges `other`; never changes it.
    pub fn merge(&mut self, other: &HeavyHitters<K>) {
        self.cm.merge(&other.cm);
        self.mg.merge(&other.mg);
    }

    /// Total weight added.
    pub fn n(&self) -> u64 {
        self.cm.n()
    }

    /// The reported values: candidates whose Count-Min estimate reaches 2n/(cap+1), with
    /// that estimate (an upper bound of the true count), in no particular order.
    pub fn heavy(&self, hash: impl Fn(&K) -> u64) -> Vec<(&K, u64)> {
        let n = u128::from(self.cm.n());
        let cap1 = self.mg.cap as u128 + 1;
        self.mg
            .items()
            .map(|(k, _)| (k, self.cm.estimate(hash(k))))
            .filter(|&(_, e)| u128::from(e) * cap1 >= 2 * n && e > 0)
            .collect()
    }

    /// The Misra–Gries candidates (for tests and diagnostics).
    pub fn candidates(&self) -> &MisraGries<K> {
        &self.mg
    }

    /// Heap bytes (keys' own heap not included).
    pub fn bytes(&self) -> usize {
        self.mg.bytes() + self.cm.bytes()
    }

    /// Appends the candidates and the Count-Min sketch.
    pub fn write(&self, out: &mut Vec<u8>, cmp: impl Fn(&K, &K) -> Ordering, put: impl Fn(&K, &mut Vec<u8>)) {
        self.cm.write(out);
        self.mg.write(out, cmp, put);
    }

    /// Reads what [`HeavyHitters::write`] wrote for this shape; `hash` is the 64-bit hash
    /// the keys are added with.
    pub fn read(
        r: &mut &[u8],
        (cap, rows, bits): (usize, usize, u32),
        cmp: impl Fn(&K, &K) -> Ordering,
        get: impl Fn(&mut &[u8]) -> Result<K, String>,
        hash: impl Fn(&K) -> u64,
    ) -> Result<Self, String> {
        let cm = CountMin::read(r, rows, bits)?;
        let mg = MisraGries::read(r, cap, cm.n(), cmp, get, hash)?;
        Ok(HeavyHitters { mg, cm })
    }
}

/// Most non-empty buckets a [`LogHist`] keeps.
pub const HIST_BUCKETS: usize = 3584;

/// One histogram bucket: how many values, and the smallest and largest of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// Values in the bucket.
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// The order-preserving 64-bit key of a non-NaN double (−0 and +0 share one key).
#[inline(always)]
pub fn order_key(x: f64) -> u64 {
    let b = if x == 0.0 { 0 } else { x.to_bits() };
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[inline(always)]
fn shr(k: u64, s: u32) -> u64 {
    k.checked_shr(s).unwrap_or(0)
}

/// Adaptive log-linear bucket histogram of doubles (see the module comment): the non-empty
/// buckets as `(id, bucket)` sorted by id, so that a sorted batch merges in one sequential
/// pass instead of one hash-table probe per bucket (a state's buckets are cold in cache
/// whenever a wide table's other columns ran in between).
#[derive(Clone, Default)]
pub struct LogHist {
    shift: u32,
    buckets: Vec<(u64, Bucket)>,
}

#[inline(always)]
fn absorb(a: &mut Bucket, b: &Bucket) {
    a.count += b.count;
    a.min = a.min.min(b.min);
    a.max = a.max.max(b.max);
}

/// Buckets sorted by id (distinct ids) re-bucketed `d` bits coarser: ids shifted, equal
/// neighbours summed, in place.
fn coarsen(v: &mut Vec<(u64, Bucket)>, d: u32) {
    if d == 0 {
        return;
    }
    let mut out = 0usize;
    for i in 0..v.len() {
        let (id, b) = v[i];
        let id = shr(id, d);
        if out > 0 && v[out - 1].0 == id {
            absorb(&mut v[out - 1].1, &b);
        } else {
            v[out] = (id, b);
            out += 1;
        }
    }
    v.truncate(out);
}

/// The smallest `d` at which the id-sorted distinct `ids` fall into at most
/// [`HIST_BUCKETS`] buckets of `id >> d`. Two ids a < b share a bucket at `d` exactly
/// when d ≥ the bit length of a ^ b, so over sorted ids the count at `d` is 1 + the
/// adjacent pairs whose a ^ b is longer than d bits.
fn extra_shift(ids: impl Iterator<Item = u64>) -> u32 {
    let mut longer = [0usize; 65];
    let mut prev: Option<u64> = None;
    for id in ids {
        if let Some(p) = prev {
            longer[(64 - (p ^ id).leading_zeros()) as usize] += 1;
        }
        prev = Some(id);
    }
    // count(d) = 1 + Σ_{l > d} longer[l]
    let mut count = 1 + longer.iter().sum::<usize>();
    let mut d = 0u32;
    while count > HIST_BUCKETS && d < 64 {
        d += 1;
        count -= longer[d as usize];
    }
    d
}

impl LogHist {
    /// Adds `w` copies of the non-NaN `x`.
    pub fn insert(&mut self, x: f64, w: u64) {
        self.insert_many(&[(x, w)]);
    }

    /// Adds weighted non-NaN values sorted ascending: the same state as [`LogHist::insert`]
    /// on each (the state is a function of the multiset). Consecutive values that share a
    /// bucket are summed first; the runs then meet the sorted buckets in one forward walk.
    pub fn insert_many(&mut self, xs: &[(f64, u64)]) {
        let norm = |x: f64| if x == 0.0 { 0.0 } else { x };
        let shift = self.shift;
        let mut k = 0usize;
        let runs = std::iter::from_fn(|| {
            let &(x0, w0) = xs.get(k)?;
            let x0 = norm(x0);
            let id = shr(order_key(x0), shift);
            let mut b = Bucket { count: w0, min: x0, max: x0 };
            k += 1;
            while let Some(&(x, w)) = xs.get(k) {
                let x = norm(x);
                if shr(order_key(x), shift) != id {
                    break;
                }
                b.count += w;
                b.min = b.min.min(x);
                b.max = b.max.max(x);
                k += 1;
            }
            Some((id, b))
        });
        self.absorb_runs(runs);
    }

    /// Adds `runs` (buckets at the current shift, ascending distinct ids) in one forward walk
    /// over the held buckets, then coarsens to the smallest shift at which the union has at
    /// most [`HIST_BUCKETS`] buckets.
    fn absorb_runs(&mut self, runs: impl Iterator<Item = (u64, Bucket)>) {
        let mut fresh: Vec<(u64, Bucket)> = Vec::new();
        let mut i = 0usize;
        for (id, b) in runs {
            while self.buckets.get(i).is_some_and(|e| e.0 < id) {
                i += 1;
            }
            match self.buckets.get_mut(i) {
                Some(e) if e.0 == id => absorb(&mut e.1, &b),
                _ => fresh.push((id, b)),
            }
        }
        debug_assert!(fresh.windows(2).all(|p| p[0].0 < p[1].0), "runs must ascend");
        self.add_fresh(fresh);
    }

    /// Adds buckets whose ids are not held (sorted, distinct) by a backward in-place merge,
    /// then coarsens while over [`HIST_BUCKETS`].
    fn add_fresh(&mut self, fresh: Vec<(u64, Bucket)>) {
        if fresh.is_empty() {
            return;
        }
        let old = self.buckets.len();
        self.buckets.extend_from_slice(&fresh);
        let (mut a, mut b, mut w) = (old, fresh.len(), self.buckets.len());
        while b > 0 {
            w -= 1;
            if a > 0 && self.buckets[a - 1].0 > fresh[b - 1].0 {
                self.buckets[w] = self.buckets[a - 1];
                a -= 1;
            } else {
                self.buckets[w] = fresh[b - 1];
                b -= 1;
            }
        }
        if self.buckets.len() > HIST_BUCKETS {
            let d = extra_shift(self.buckets.iter().map(|e| e.0));
            coarsen(&mut self.buckets, d);
            self.shift = (self.shift + d).min(64);
        }
    }

    /// Merges `other`; never changes it. The result is the histogram of the union.
    pub fn merge(&mut self, other: &LogHist) {
        let s = self.shift.max(other.shift);
        coarsen(&mut self.buckets, s - self.shift);
        self.shift = s;
        let mut o = other.buckets.clone();
        coarsen(&mut o, s - other.shift);
        self.absorb_runs(o.into_iter());
        self.buckets.shrink_to(HIST_BUCKETS);
    }

    /// The current shift (0 = every value in its own bucket).
    pub fn shift(&self) -> u32 {
        self.shift
    }

    /// Largest relative bucket width 2^(shift − 52) (`None` above shift 52, where a
    /// bucket spans several binades).
    pub fn resolution(&self) -> Option<f64> {
        (self.shift <= 52).then(|| (f64::from(self.shift) - 52.0).exp2())
    }

    /// The non-empty buckets in value order.
    pub fn buckets(&self) -> Vec<Bucket> {
        self.buckets.iter().map(|x| x.1).collect()
    }

    /// Heap bytes.
    pub fn bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u64, Bucket)>()
    }

    /// Appends the shift and the buckets in key order.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.shift as u8);
        put_u64(out, self.buckets.len() as u64);
        for (id, b) in &self.buckets {
            put_u64(out, *id);
            put_u64(out, b.count);
            put_u64(out, b.min.to_bits());
            put_u64(out, b.max.to_bits());
        }
    }

    /// Reads what [`LogHist::write`] wrote; returns it with its total count.
    pub fn read(r: &mut &[u8]) -> Result<(LogHist, u64), String> {
        let shift = u32::from(get_u8(r)?);
        if shift > 64 {
            return Err(corrupt(format_args!("histogram shift {shift}")));
        }
        let len = count(r, HIST_BUCKETS, 32, "histogram buckets")?;
        let mut buckets = Vec::with_capacity(len);
        let mut prev: Option<u64> = None;
        let mut total = 0u64;
        for _ in 0..len {
            let id = get_u64(r)?;
            let b = Bucket { count: get_u64(r)?, min: get_f64(r)?, max: get_f64(r)? };
            let ok = prev.is_none_or(|p| p < id)
                && b.count > 0
                && b.min <= b.max
                && b.min.to_bits() != (-0.0f64).to_bits()
                && b.max.to_bits() != (-0.0f64).to_bits()
                && shr(order_key(b.min), shift) == id
                && shr(order_key(b.max), shift) == id
                && (b.count > 1 || b.min == b.max);
            if !ok {
                return Err(corrupt("histogram bucket out of order or inconsistent"));
            }
            total = total.checked_add(b.count).ok_or_else(|| corrupt("histogram count overflow"))?;
            prev = Some(id);
            buckets.push((id, b));
        }
        Ok((LogHist { shift, buckets }, total))
    }
}

/// The value at position `j` (0-based) among the `count` values of a bucket: its min and
/// max at the ends, linear in between (exact when count ≤ 2 or min = max).
pub fn bucket_value(b: &Bucket, j: u64) -> f64 {
    if j == 0 || b.min == b.max {
        return b.min;
    }
    if j + 1 >= b.count {
        return b.max;
    }
    between(b.min, b.max, j as f64 / (b.count - 1) as f64)
}

/// `lo + (hi − lo)·t` clamped to `[lo, hi]`; an infinite end gives the finite one.
pub fn between(lo: f64, hi: f64, t: f64) -> f64 {
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (lo * (1.0 - t) + hi * t).clamp(lo, hi),
        (false, true) => hi,
        (true, false) => lo,
        (false, false) => {
            if t <= 0.5 {
                lo
            } else {
                hi
            }
        }
    }
}

/// Quantiles of a bucket list (value order) with DuckDB's `quantile_cont` ranks.
pub struct BucketQuantiles {
    buckets: Vec<Bucket>,
    cum: Vec<u64>,
    n: u64,
}

impl BucketQuantiles {
    /// Over `buckets` in value order.
    pub fn new(buckets: Vec<Bucket>) -> Self {
        let mut acc = 0u64;
        let cum = buckets
            .iter()
            .map(|b| {
                acc += b.count;
                acc
            })
            .collect();
        BucketQuantiles { buckets, cum, n: acc }
    }

    /// The buckets.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Estimated value at 0-based rank `r`: within the bucket holding that rank.
    fn at(&self, r: u64) -> f64 {
        let i = self.cum.partition_point(|&c| c <= r).min(self.buckets.len() - 1);
        let before = if i == 0 { 0 } else { self.cum[i - 1] };
        bucket_value(&self.buckets[i], r.saturating_sub(before))
    }

    /// `quantile_cont(q)` as [`super::stats::Dist::quantile`], ranks located by bucket.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        super::stats::quantile_cont(self.n, q, |r| self.at(r))
    }

    /// A sorted weighted list standing for the values (for MAD, outlier counts and the
    /// histogram): per bucket its min and max with weight 1 and the other count − 2
    /// values at its midpoint. Every item lies inside its bucket.
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut v = Vec::with_capacity(self.buckets.len() * 3);
        for b in &self.buckets {
            if b.count == 1 || b.min == b.max {
                v.push((b.min, b.count));
                continue;
            }
            v.push((b.min, 1));
            if b.count > 2 {
                v.push((between(b.min, b.max, 0.5), b.count - 2));
            }
            v.push((b.max, 1));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::profile::hash::hash_i128;

    #[test]
    fn hll_estimates_within_three_percent() {
        for &n in &[0u64, 1, 100, 10_000, 1_000_000] {
            let mut h = Hll::default();
            for i in 0..n {
                h.insert(hash_i128(i as i128));
            }
            let e = h.estimate();
            let tol = (n as f64 * 0.03).max(1.0);
            assert!((e - n as f64).abs() <= tol, "n={n} estimate={e}");
        }
    }

    #[test]
    fn hll_merge_equals_union() {
        let (mut a, mut b, mut u) = (Hll::default(), Hll::default(), Hll::default());
        for i in 0..50_000i128 {
            a.insert(hash_i128(i));
            u.insert(hash_i128(i));
        }
        for i in 25_000..90_000i128 {
            b.insert(hash_i128(i));
            u.insert(hash_i128(i));
        }
        a.merge(&b);
        assert_eq!(a.regs, u.regs);
    }

    #[test]
    fn misra_gries_keeps_every_value_above_n_over_cap_plus_one() {
        // 4 heavy values just above n/65 and 60 000 singletons, in 3 parts merged.
        let cap = 64;
        let mut parts: Vec<MisraGries<u64>> = (0..3).map(|_| MisraGries::new(cap)).collect();
        let n = 100_000u64;
        let heavy_each = n / 65 + 30;
        let mut i = 0u64;
        let mut stream = Vec::new();
        for h in 0..4 {
            stream.extend(std::iter::repeat_n(h, heavy_each as usize));
        }
        while (stream.len() as u64) < n {
            stream.push(1000 + i);
            i += 1;
        }
        // interleave deterministically
        let mut rng = 0x1234_5678u64;
        for k in (1..stream.len()).rev() {
            rng = fmix64(rng + 1);
            stream.swap(k, (rng % (k as u64 + 1)) as usize);
        }
        for (j, &x) in stream.iter().enumerate() {
            parts[j % 3].add_with(&x, fmix64(x), 1, || x);
        }
        let mut all = parts[2].clone();
        all.merge(&parts[0]);
        all.merge(&parts[1]);
        for h in 0..4u64 {
            let c = all.items().find(|(k, _)| **k == h).map_or(0, |x| x.1);
            assert!(c > 0 && c <= heavy_each && c + n / (cap as u64 + 1) >= heavy_each, "{h}: {c}");
        }
        assert!(all.len() <= cap + cap / 2);
    }

    /// The textbook summary (Agarwal et al. purge) over a BTreeMap: the oracle.
    struct OracleMg {
        cap: usize,
        map: std::collections::BTreeMap<Vec<u8>, u64>,
    }

    impl OracleMg {
        fn purge(&mut self) {
            if self.map.len() > self.cap + self.cap / 2 {
                let mut c: Vec<u64> = self.map.values().copied().collect();
                c.sort_unstable();
                let v = c[c.len() - self.cap - 1];
                self.map.retain(|_, x| {
                    *x = x.saturating_sub(v);
                    *x > 0
                });
            }
        }
        fn add(&mut self, k: &[u8], w: u64) {
            *self.map.entry(k.to_vec()).or_insert(0) += w;
            self.purge();
        }
        fn merge(&mut self, o: &OracleMg) {
            for (k, &c) in &o.map {
                *self.map.entry(k.clone()).or_insert(0) += c;
            }
            self.purge();
        }
    }

    fn sorted(mg: &MisraGries<Vec<u8>>) -> Vec<(Vec<u8>, u64)> {
        let mut v: Vec<(Vec<u8>, u64)> = mg.items().map(|(k, c)| (k.clone(), c)).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn misra_gries_matches_a_btreemap_oracle_even_when_hashes_collide() {
        // keys: empty, non-UTF-8, lengths around the 22-byte inline boundary of ByteKey,
        // a few heavy ones; hashes: good, few distinct values, all equal
        let hashes: [fn(&[u8]) -> u64; 3] = [|k| super::super::hash::hash_bytes(k, 9), |k| k.len() as u64 % 3, |_| 0];
        for hash in hashes {
            let cap = 16;
            let (mut a, mut b) = (MisraGries::<Vec<u8>>::new(cap), MisraGries::<Vec<u8>>::new(cap));
            let (mut oa, mut ob) =
                (OracleMg { cap, map: Default::default() }, OracleMg { cap, map: Default::default() });
            let mut rng = 0x2545_f491_4f6c_dd1du64;
            for i in 0..20_000u64 {
                rng = fmix64(rng.wrapping_add(i));
                let k: Vec<u8> = match rng % 5 {
                    0 => vec![],
                    1 => vec![0xff, 0xfe, (rng >> 8) as u8 & 3],
                    2 => vec![b'h'; 21 + (rng >> 16) as usize % 3],
                    _ => (0..(rng >> 20) as usize % 40).map(|j| (rng >> (j % 50)) as u8).collect(),
                };
                let w = 1 + (rng >> 40) % 3;
                if i % 2 == 0 {
                    a.add_with(&k[..], hash(&k), w, || k.clone());
                    oa.add(&k, w);
                } else {
                    b.add_with(&k[..], hash(&k), w, || k.clone());
                    ob.add(&k, w);
                }
                if i % 997 == 0 {
                    assert_eq!(sorted(&a), oa.map.clone().into_iter().collect::<Vec<_>>());
                }
            }
            a.merge(&b);
            oa.merge(&ob);
            let want: Vec<(Vec<u8>, u64)> = oa.map.into_iter().collect();
            assert_eq!(sorted(&a), want);
            assert!(a.len() <= cap + cap / 2 && !want.is_empty());
            // the written bytes read back into the same summary
            let mut out = Vec::new();
            a.write(
                &mut out,
                |x, y| x.cmp(y),
                |k, o| {
                    o.extend_from_slice(&(k.len() as u64).to_le_bytes());
                    o.extend_from_slice(k);
                },
            );
            let get = |r: &mut &[u8]| {
                let n = get_u64(r)? as usize;
                let k = take(r, n)?.to_vec();
                Ok(k)
            };
            let back =
                MisraGries::read(&mut &out[..], cap, u64::MAX, |x: &Vec<u8>, y| x.cmp(y), get, |k| hash(k)).unwrap();
            assert_eq!(sorted(&back), want);
            // lookups after reading use the same hash
            let mut back2 = back.clone();
            if let Some((k, c)) = want.first() {
                back2.add_with(&k[..], hash(k), 1, || k.clone());
                assert_eq!(sorted(&back2).iter().find(|x| &x.0 == k).map(|x| x.1), Some(c + 1));
                assert_eq!(back2.len(), back.len());
            }
        }
    }

    #[test]
    fn misra_gries_batches_match_a_btreemap_oracle_and_keep_the_heavy_values() {
        // the oracle adds a whole batch, then purges once if over the limit; batches of
        // distinct keys with a few heavy ones, light singletons and colliding hashes
        let hashes: [fn(&[u8]) -> u64; 3] = [|k| super::super::hash::hash_bytes(k, 9), |k| k.len() as u64 % 3, |_| 0];
        for hash in hashes {
            for (cap, batch) in [(16usize, 1usize), (16, 40), (64, 500), (64, 5000)] {
                let mut mg = MisraGries::<Vec<u8>>::new(cap);
                let mut oracle = OracleMg { cap, map: Default::default() };
                let mut truth: std::collections::BTreeMap<Vec<u8>, u64> = Default::default();
                let mut rng = 0x9e37_79b9_7f4a_7c15u64;
                let mut n = 0u64;
                for round in 0..40u64 {
                    let mut b: std::collections::BTreeMap<Vec<u8>, u64> = Default::default();
                    for i in 0..batch as u64 {
                        rng = fmix64(rng.wrapping_add(i + round));
                        let k: Vec<u8> = if rng % 4 == 0 {
                            vec![b'h', (rng >> 8) as u8 % 3]
                        } else {
                            (rng >> 12).to_le_bytes()[..1 + (rng >> 4) as usize % 8].to_vec()
                        };
                        *b.entry(k).or_insert(0) += 1 + (rng >> 50) % 2;
                    }
                    let keys: Vec<Vec<u8>> = b.keys().cloned().collect();
                    let ws: Vec<u64> = b.values().copied().collect();
                    let hs: Vec<u64> = keys.iter().map(|k| hash(k)).collect();
                    mg.add_batch(&keys, &hs, &ws);
                    for (k, &w) in keys.iter().zip(&ws) {
                        *oracle.map.entry(k.clone()).or_insert(0) += w;
                        *truth.entry(k.clone()).or_insert(0) += w;
                        n += w;
                    }
                    oracle.purge();
                    assert_eq!(
                        sorted(&mg),
                        oracle.map.clone().into_iter().collect::<Vec<_>>(),
                        "cap {cap} batch {batch}"
                    );
                    assert!(mg.len() <= cap + cap / 2);
                }
                for (k, &f) in &truth {
                    let c = mg.items().find(|(x, _)| *x == k).map_or(0, |x| x.1);
                    assert!(c <= f && c + n / (cap as u64 + 1) >= f, "{k:?}: {c} of {f}, n {n}");
                }
            }
        }
    }

    #[test]
    fn count_min_never_undercounts_and_merges_linearly() {
        let (mut a, mut b, mut u) = (CountMin::new(8, 12), CountMin::new(8, 12), CountMin::new(8, 12));
        for i in 0..50_000u64 {
            let h = hash_i128(i128::from(i % 5000));
            if i % 3 == 0 { &mut a } else { &mut b }.add(h, 1);
            u.add(h, 1);
        }
        a.merge(&b);
        assert_eq!(a.cells, u.cells);
        for v in 0..5000 {
            let e = u.estimate(hash_i128(v));
            assert!((10..=10 + 2 * 50_000 / 4096).contains(&e), "{v}: {e}");
        }
    }

    #[test]
    fn count_min_batches_fill_the_cells_of_single_adds() {
        // every shape in use (values 8 × 2^12, patterns 8 × 2^9: row 5 of the first and
        // row 7 of the second straddle the two 64-bit words) and one wider than 64 bits
        for (rows, bits) in [(8, 12), (8, 9), (4, 20), (1, 3)] {
            let (mut one, mut batch) = (CountMin::new(rows, bits), CountMin::new(rows, bits));
            let hashes: Vec<u64> = (0..3000u64).map(|i| fmix64(i * 7 + u64::from(bits))).collect();
            let weights: Vec<u64> = (0..3000u64).map(|i| 1 + i % 5).collect();
            for (&h, &w) in hashes.iter().zip(&weights) {
                one.add(h, w);
            }
            batch.add_batch(&hashes, &weights);
            assert_eq!(one.cells, batch.cells, "{rows} x 2^{bits}");
            assert_eq!(one.n, batch.n);
        }
    }

    #[test]
    fn log_hist_is_a_function_of_the_multiset() {
        let xs: Vec<f64> = (0..100_000u64).map(|i| (fmix64(i) >> 11) as f64 * 1e-9 - 2e6).collect();
        let mut whole = LogHist::default();
        xs.iter().for_each(|&x| whole.insert(x, 1));
        let mut parts: Vec<LogHist> = (0..5).map(|_| LogHist::default()).collect();
        for (i, &x) in xs.iter().enumerate().rev() {
            parts[(i * 7) % 5].insert(x, 1);
        }
        let mut m = LogHist::default();
        m.merge(&parts[3]);
        for p in [&parts[1], &parts[4], &parts[0], &parts[2]] {
            m.merge(p);
        }
        assert_eq!(m.shift(), whole.shift());
        assert_eq!(m.buckets(), whole.buckets());
        assert!(whole.buckets().len() <= HIST_BUCKETS && whole.shift() > 0);
        assert_eq!(whole.buckets().iter().map(|b| b.count).sum::<u64>(), 100_000);
    }

    #[test]
    fn log_hist_insert_many_equals_one_by_one() {
        // random doubles over many binades, a narrow cluster, integers, ±∞ and zeros
        let mut xs: Vec<f64> =
            (0..60_000u64).map(|i| f64::from_bits(fmix64(i) >> 2) * (if i % 3 == 0 { -1.0 } else { 1.0 })).collect();
        xs.extend((0..30_000u64).map(|i| 1.0 + (fmix64(i + 7) >> 40) as f64 * 1e-12));
        xs.extend((0..20_000i64).map(|i| (i * 37 % 5000) as f64));
        xs.extend([f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, f64::MAX, f64::MIN_POSITIVE]);
        let mut one = LogHist::default();
        xs.iter().for_each(|&x| one.insert(x, 1));
        for chunk in [1usize, 7, 300, 2048, 16_384, xs.len()] {
            let mut many = LogHist::default();
            for part in xs.chunks(chunk) {
                let mut v: Vec<(f64, u64)> = part.iter().map(|&x| (x, 1)).collect();
                v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                many.insert_many(&v);
            }
            assert_eq!((many.shift(), many.buckets()), (one.shift(), one.buckets()), "chunk {chunk}");
        }
        assert!(one.shift() > 0);
    }

    /// The histogram of a multiset computed directly: the smallest shift at which its
    /// distinct `order_key >> shift` number at most HIST_BUCKETS, each bucket's count,
    /// min and max (a BTreeMap, no sorted-vector code shared with LogHist).
    fn oracle_hist(xs: &[(f64, u64)]) -> (u32, Vec<Bucket>) {
        let norm = |x: f64| if x == 0.0 { 0.0 } else { x };
        let mut shift = 0u32;
        loop {
            let ids: std::collections::BTreeSet<u64> =
                xs.iter().map(|&(x, _)| shr(order_key(norm(x)), shift)).collect();
            if ids.len() <= HIST_BUCKETS || shift == 64 {
                break;
            }
            shift += 1;
        }
        let mut m: std::collections::BTreeMap<u64, Bucket> = std::collections::BTreeMap::new();
        for &(x, w) in xs {
            let x = norm(x);
            let b = m.entry(shr(order_key(x), shift)).or_insert(Bucket { count: 0, min: x, max: x });
            b.count += w;
            if x < b.min {
                b.min = x;
            }
            if x > b.max {
                b.max = x;
            }
        }
        (shift, m.into_values().collect())
    }

    #[test]
    fn log_hist_equals_the_direct_histogram_of_the_multiset() {
        // clustered, spread over many binades, weighted, with zeros of both signs and ±∞;
        // fed in sorted batches of several sizes into 1–4 states merged in two orders
        for case in 0..4u64 {
            let xs: Vec<(f64, u64)> = (0..40_000u64)
                .map(|i| {
                    let r = fmix64(i ^ (case << 40));
                    let x = match case {
                        0 => (r >> 11) as f64 * 1e-12,
                        1 => f64::from_bits(r >> 2) * if r & 1 == 0 { -1.0 } else { 1.0 },
                        2 => ((r % 3000) as f64) - 1500.0,
                        _ => {
                            [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, 1.5][(r % 5) as usize]
                                + (i % 50) as f64 * 1e-3
                        }
                    };
                    (x, 1 + r % 4)
                })
                .collect();
            let want = oracle_hist(&xs);
            for (batch, parts) in [(1usize, 1usize), (97, 3), (4096, 2), (40_000, 4)] {
                let mut states: Vec<LogHist> = (0..parts).map(|_| LogHist::default()).collect();
                for (k, chunk) in xs.chunks(batch).enumerate() {
                    let mut v = chunk.to_vec();
                    v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                    states[k % parts].insert_many(&v);
                }
                for order in [false, true] {
                    let mut m = LogHist::default();
                    let it: Vec<&LogHist> = if order { states.iter().rev().collect() } else { states.iter().collect() };
                    for s in it {
                        m.merge(s);
                    }
                    assert_eq!((m.shift(), m.buckets()), want, "case {case} batch {batch} parts {parts}");
                    let mut out = Vec::new();
                    m.write(&mut out);
                    let (back, total) = LogHist::read(&mut &out[..]).expect("reads back");
                    assert_eq!((back.shift(), back.buckets()), want);
                    assert_eq!(total, xs.iter().map(|x| x.1).sum::<u64>());
                }
            }
        }
    }

    #[test]
    fn bucket_quantiles_stay_inside_the_exact_bucket() {
        let mut h = LogHist::default();
        let mut xs: Vec<f64> = (1..=200_000u64).map(|i| (i as f64).powf(1.7)).collect();
        xs.iter().for_each(|&x| h.insert(x, 1));
        xs.sort_unstable_by(f64::total_cmp);
        let res = h.resolution().expect("shift ≤ 52");
        let q = BucketQuantiles::new(h.buckets());
        for pct in 1..100 {
            let p = f64::from(pct) / 100.0;
            let rn = p * (xs.len() - 1) as f64;
            let (lo, hi) = (xs[rn.floor() as usize], xs[rn.ceil() as usize]);
            let exact = lo + (hi - lo) * (rn - rn.floor());
            let got = q.quantile(p).expect("quantile");
            assert!((got - exact).abs() <= res * hi.abs(), "p{pct}: {got} vs {exact} (res {res})");
        }
    }
}

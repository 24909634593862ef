//! A small, fast, non-cryptographic hasher for the exact value→count maps and the
//! HyperLogLog sketch.
//!
//! Method: the "folded multiply" mix used by foldhash/ahash (multiply two 64-bit words
//! into 128 bits and xor the halves), which spreads low-entropy keys (timestamps that are
//! multiples of 10^6, small integers) over all 64 output bits, unlike plain FxHash whose
//! low bits stay zero for such keys. No `unsafe`, no dependency.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const K1: u64 = 0x243f_6a88_85a3_08d3;
const K2: u64 = 0x1319_8a2e_0370_7344;
const K3: u64 = 0xa409_3822_299f_31d0;

/// Multiplies two words into 128 bits and folds the halves together.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Streaming hasher state (see the module comment).
#[derive(Clone, Copy, Default)]
pub struct FoldHasher {
    acc: u64,
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.acc = fold_mul(self.acc ^ i ^ K1, K2);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.acc = fold_mul(self.acc ^ (i as u64) ^ K1, ((i >> 64) as u64) ^ K2);
    }
    #[inline]
    fn write_i128(&mut self, i: i128) {
        self.write_u128(i as u128);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        fold_mul(self.acc, K3)
    }
}

/// `BuildHasher` for [`FoldHasher`].
pub type FoldBuild = BuildHasherDefault<FoldHasher>;
/// A `HashMap` keyed with [`FoldHasher`].
pub type FastMap<K, V> = HashMap<K, V, FoldBuild>;

/// murmur3's 64-bit finaliser: full avalanche, used before HyperLogLog bucketing.
#[inline(always)]
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// 64-bit hash of an integer key, well mixed in every bit.
#[inline(always)]
pub fn hash_i128(v: i128) -> u64 {
    let u = v as u128;
    fmix64(fold_mul((u as u64) ^ K1, ((u >> 64) as u64) ^ K2))
}

/// 64-bit hash of a byte string, well mixed in every bit; `seed` selects an
/// independent function (used to build a 128-bit identity for long strings).
pub fn hash_bytes(b: &[u8], seed: u64) -> u64 {
    let mut h = FoldHasher { acc: seed };
    h.write(b);
    h.write_u64(b.len() as u64);
    fmix64(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiples_of_a_million_spread_over_low_bits() {
        // FxHash would put all of these in bucket 0 of a 64-bucket table.
        let mut seen = [0u32; 64];
        for i in 0..6400i128 {
            let mut h = FoldHasher::default();
            h.write_i128(i * 1_000_000);
            seen[(h.finish() & 63) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 50 && c < 160), "{seen:?}");
    }

    #[test]
    fn byte_hash_depends_on_seed_and_content() {
        assert_ne!(hash_bytes(b"abc", 1), hash_bytes(b"abc", 2));
        assert_ne!(hash_bytes(b"abc", 1), hash_bytes(b"abd", 1));
        assert_ne!(hash_bytes(b"", 1), hash_bytes(b"\0", 1));
    }
}

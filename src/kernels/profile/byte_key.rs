//! [`ByteKey`]: the owned byte string that keys text, blob and pattern counts.
//!
//! Keys up to [`INLINE`] bytes (every colour, city, code and hex hash of a typical table)
//! live inside the key itself, so a hash-map bucket holds them without a pointer to
//! follow and a new key (a new Misra–Gries candidate in sketch mode, one per row on a
//! high-cardinality column) costs no heap allocation. Longer keys are boxed. The key
//! behaves exactly as the byte slice it holds: equality, order and `Hash` are the
//! slice's, so maps keyed by it are looked up with a `&[u8]` and iterate in the same order
//! as maps keyed by `Box<[u8]>`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest key kept inline (the enum is then 24 bytes, as large as a boxed slice plus
/// its tag).
pub const INLINE: usize = 22;

/// An owned byte string, inline up to [`INLINE`] bytes (see the module comment).
#[derive(Clone)]
pub enum ByteKey {
    /// `bytes[..len]`; the rest is zero.
    Inline {
        /// Number of bytes used (≤ [`INLINE`]).
        len: u8,
        /// The bytes, zero-padded.
        bytes: [u8; INLINE],
    },
    /// A key longer than [`INLINE`] bytes.
    Heap(Box<[u8]>),
}

impl ByteKey {
    /// A key holding a copy of `s`.
    #[inline]
    pub fn new(s: &[u8]) -> Self {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s);
            ByteKey::Inline { len: s.len() as u8, bytes }
        } else {
            ByteKey::Heap(Box::from(s))
        }
    }

    /// The bytes held.
    #[inline(always)]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            // `len` ≤ INLINE by construction; `get` keeps this panic-free regardless
            ByteKey::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(bytes),
            ByteKey::Heap(b) => b,
        }
    }
}

impl From<&[u8]> for ByteKey {
    fn from(s: &[u8]) -> Self {
        ByteKey::new(s)
    }
}

impl Deref for ByteKey {
    type Target = [u8];
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for ByteKey {
    #[inline(always)]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for ByteKey {
    #[inline]
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            // zero padding makes whole-array equality the same as slice equality
            (ByteKey::Inline { len: a, bytes: x }, ByteKey::Inline { len: b, bytes: y }) => a == b && x == y,
            _ => self.as_slice() == o.as_slice(),
        }
    }
}

impl Eq for ByteKey {}

impl PartialOrd for ByteKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for ByteKey {
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        self.as_slice().cmp(o.as_slice())
    }
}

impl Hash for ByteKey {
    /// The slice's hash, so that `&[u8]` lookups find the key (`Borrow` contract).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl std::fmt::Debug for ByteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::profile::hash::FastMap;
    use std::collections::{BTreeMap, HashMap};
    use std::hash::BuildHasherDefault;

    /// Every key hashes alike: lookups must then be decided by equality alone.
    #[derive(Default)]
    struct Collide;
    impl Hasher for Collide {
        fn write(&mut self, _: &[u8]) {}
        fn finish(&self) -> u64 {
            7
        }
    }

    /// Keys of every length around the inline boundary, empty, non-UTF-8, and keys that
    /// differ only in their last byte or in a trailing zero (which the padding must not hide).
    fn keys() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 0], vec![0xff], vec![0xc3, 0x28], b"\xe2\x82".to_vec()];
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..=3 * INLINE {
            for _ in 0..6 {
                let k: Vec<u8> = (0..len)
                    .map(|_| {
                        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        // a small alphabet, so that prefixes repeat, plus bytes ≥ 0x80 and 0
                        b"ab\0\x80\xff"[(rng >> 60) as usize % 5]
                    })
                    .collect();
                let mut z = k.clone();
                z.push(0);
                v.push(k);
                v.push(z);
            }
        }
        v
    }

    fn check<S: std::hash::BuildHasher + Default>() {
        let ks = keys();
        let mut map: HashMap<ByteKey, u64, S> = HashMap::default();
        let mut oracle: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for (i, k) in ks.iter().enumerate() {
            let w = 1 + i as u64 % 3;
            match map.get_mut(&k[..]) {
                Some(c) => *c += w,
                None => {
                    map.insert(ByteKey::new(k), w);
                }
            }
            *oracle.entry(k.clone()).or_insert(0) += w;
        }
        assert_eq!(map.len(), oracle.len());
        for (k, c) in &oracle {
            assert_eq!(map.get(&k[..]), Some(c), "{k:?}");
        }
        let mut got: Vec<(ByteKey, u64)> = map.into_iter().collect();
        got.sort_unstable();
        let want: Vec<(Vec<u8>, u64)> = oracle.into_iter().collect();
        assert_eq!(got.len(), want.len());
        for ((gk, gc), (wk, wc)) in got.iter().zip(&want) {
            assert_eq!((&gk[..], gc), (&wk[..], wc));
        }
    }

    #[test]
    fn map_of_byte_keys_matches_btreemap() {
        check::<crate::kernels::profile::hash::FoldBuild>();
        check::<BuildHasherDefault<Collide>>();
    }

    #[test]
    fn behaves_as_its_slice() {
        let ks = keys();
        let fh = |b: &dyn Fn(&mut crate::kernels::profile::hash::FoldHasher)| {
            let mut h = crate::kernels::profile::hash::FoldHasher::default();
            b(&mut h);
            h.finish()
        };
        for a in &ks {
            let ka = ByteKey::new(a);
            assert_eq!(&ka[..], &a[..]);
            assert_eq!(matches!(ka, ByteKey::Inline { .. }), a.len() <= INLINE);
            assert_eq!(fh(&|h| ka.hash(h)), fh(&|h| a[..].hash(h)));
            for b in ks.iter().step_by(7) {
                let kb = ByteKey::new(b);
                assert_eq!(ka == kb, a == b);
                assert_eq!(ka.cmp(&kb), a.cmp(b));
            }
        }
        // a FastMap finds keys by slice
        let mut m: FastMap<ByteKey, u64> = FastMap::default();
        m.insert(ByteKey::new(b"abc"), 1);
        assert_eq!(m.get(&b"abc"[..]), Some(&1));
        assert_eq!(m.get(&b"abc\0"[..]), None);
    }
}

//! Filtered edge collapse: shrink a flag (Vietoris–Rips) filtration to far fewer edges
//! with exactly the same persistence diagram, before the reduction runs.
//!
//! Method (written here from the papers, no code taken from any implementation):
//! - J.-D. Boissonnat, S. Pritam, "Edge collapse and persistence of flag complexes",
//!   SoCG 2020: an edge `uv` of a flag complex is *dominated* by a vertex `w` when every
//!   common neighbour of `u` and `v` is `w` or a neighbour of `w` (`N[u] ∩ N[v] ⊆ N[w]`,
//!   closed neighbourhoods); removing a dominated edge is a sequence of elementary
//!   collapses, so the inclusion `K \ uv → K` is a homotopy equivalence.
//! - M. Glisse, S. Pritam, "Swap, shift and trim to edge collapse a filtration",
//!   SoCG 2022: process the edges from the last to the first; an edge dominated at its
//!   own value may be *shifted* to the next value at which it stops being dominated, or
//!   *trimmed* when that never happens. Each move leaves the persistence module
//!   isomorphic, because for every value `s` in the span the edge was moved across, the
//!   complex with the edge and the complex without it are joined by an inclusion that is
//!   a homotopy equivalence, and these inclusions commute with the filtration maps.
//!
//! Engineering: the graph at the current sweep value is kept as one adjacency bitset per
//! vertex, so the common neighbourhood and the domination test are word operations
//! (`n / 64` words per row). Shifting needs the graph at later values, which the sweep
//! does not hold; only the vertices that can still become common neighbours (a second
//! bitset of every edge still in the filtration) are read from the matrix. Candidate
//! dominators are the common neighbours that joined earliest (the vertices nearest to
//! the middle of the edge in a metric space): all of a small common neighbourhood, the
//! earliest of a sample of a large one. A test that finds no dominator keeps the edge where it is, which is always correct: the
//! heuristics decide how much is collapsed, never what the diagram is.

use super::distance::DistanceMatrix;
use super::Monitor;
use crate::kernels::{Error, ErrorKind, Result};

/// What the collapse did, for tests and progress.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CollapseStats {
    /// Edges within the threshold before.
    pub edges: usize,
    /// Edges left at their own value.
    pub kept: usize,
    /// Edges moved to a later value.
    pub shifted: usize,
    /// Edges removed from the filtration.
    pub trimmed: usize,
    /// True when fewer than the asked share of edges could be removed and the
    /// filtration was restored as it came.
    pub undone: bool,
}

/// Dominator candidates tried per test in a large common neighbourhood; a small one
/// (at most [`ALL_BELOW`] vertices) is tried whole, earliest arrivals first.
const CANDIDATES: usize = 16;
const ALL_BELOW: usize = 64;
/// Later values at which a shifted edge is tested again before it is placed (more
/// trims little more and costs a full row pass each on the clouds measured).
const MAX_RETESTS: usize = 2;
/// Members of a common neighbourhood read to pick the candidates.
const SCANNED: usize = 256;

/// Buffers reused for every edge.
struct Scratch {
    /// Common neighbourhood of the edge at the value tested.
    common: Vec<u64>,
    /// Dominator candidates, earliest arrival first.
    cands: Vec<(f64, usize)>,
}

struct Bits {
    words: usize,
    b: Vec<u64>,
}

impl Bits {
    fn new(n: usize) -> Self {
        let words = n.div_ceil(64);
        Bits { words, b: vec![0; words * n] }
    }
    #[inline]
    fn row(&self, u: usize) -> &[u64] {
        &self.b[u * self.words..(u + 1) * self.words]
    }
    #[inline]
    fn set(&mut self, u: usize, pos: usize) {
        self.b[u * self.words + pos / 64] |= 1 << (pos % 64);
    }
    #[inline]
    fn clear(&mut self, u: usize, pos: usize) {
        self.b[u * self.words + pos / 64] &= !(1 << (pos % 64));
    }
}

/// Collapses the filtration held in `dm` in place: edges within `threshold` keep their
/// value, get a larger one (at most `threshold`), or become `+inf` (removed). The
/// persistence diagram of the result equals that of the input in every dimension.
///
/// When fewer than `min_trimmed` (a share of the edges) are removed, the input is
/// restored: shifting edges without removing many rarely pays and sometimes makes the
/// reduction slower (ties at the shifted values).
pub(crate) fn collapse(
    dm: &mut DistanceMatrix,
    threshold: f64,
    min_trimmed: f64,
    monitor: Monitor<'_>,
) -> Result<CollapseStats> {
    let n = dm.n;
    let mut stats = CollapseStats::default();
    if n < 3 {
        return Ok(stats);
    }
    let mut now = Bits::new(n); // edges with value <= the sweep value
    let mut live = Bits::new(n); // edges still in the filtration (within the threshold)
    let mut edges: Vec<(f64, u32, u32)> = Vec::new();
    for u in 0..n {
        for (v, &x) in dm.row(u).iter().enumerate() {
            if u != v && x <= threshold {
                now.set(u, v);
                live.set(u, v);
                if u < v {
                    edges.push((x, u as u32, v as u32));
                }
            }
        }
    }
    stats.edges = edges.len();
    // Last edge first; ties in a fixed order.
    edges.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then((b.1, b.2).cmp(&(a.1, a.2))));

    let words = now.words;
    let mut sc = Scratch { common: vec![0u64; words], cands: Vec::with_capacity(ALL_BELOW + 1) };
    // Kept edges stay in `now` until the sweep passes below their value.
    let mut pending: Vec<(usize, usize)> = Vec::new();
    let mut pending_value = f64::INFINITY;

    for (k, &(t0, u, v)) in edges.iter().enumerate() {
        if k % 65536 == 0 && monitor("edge collapse", k, edges.len()) {
            return Err(Error::new(ErrorKind::Interrupted, "interrupted"));
        }
        let (u, v) = (u as usize, v as usize);
        if t0 < pending_value {
            for (a, b) in pending.drain(..) {
                now.clear(a, b);
                now.clear(b, a);
            }
            pending_value = t0;
        }
        let Some(w) = dominator_now(&now, dm, u, v, &mut sc) else {
            stats.kept += 1;
            pending.push((u, v));
            continue;
        };
        // Dominated at t0 by w; find where that stops and test again there.
        let mut t = t0;
        let mut w = w;
        let mut placed = None;
        for retest in 0..=MAX_RETESTS {
            match next_break(&now, &live, dm, u, v, w, t, &sc.common) {
                None => break,
                Some(s) => {
                    if retest == MAX_RETESTS {
                        placed = Some(s);
                        break;
                    }
                    match dominator_at(&live, dm, u, v, s, &mut sc) {
                        Some(w2) => {
                            t = s;
                            w = w2;
                        }
                        None => {
                            placed = Some(s);
                            break;
                        }
                    }
                }
            }
        }
        now.clear(u, v);
        now.clear(v, u);
        match placed {
            Some(s) => {
                stats.shifted += 1;
                dm.d[u * n + v] = s;
                dm.d[v * n + u] = s;
            }
            None => {
                stats.trimmed += 1;
                live.clear(u, v);
                live.clear(v, u);
                dm.d[u * n + v] = f64::INFINITY;
                dm.d[v * n + u] = f64::INFINITY;
            }
        }
    }
    if (stats.trimmed as f64) < min_trimmed * stats.edges as f64 {
        for &(t0, u, v) in &edges {
            dm.d[u as usize * n + v as usize] = t0;
            dm.d[v as usize * n + u as usize] = t0;
        }
        stats.undone = true;
    }
    Ok(stats)
}

/// A vertex dominating `uv` in the graph held by `now`, if one of the candidates tried
/// is one. Leaves the common neighbourhood in `sc.common`.
fn dominator_now(now: &Bits, dm: &DistanceMatrix, u: usize, v: usize, sc: &mut Scratch) -> Option<usize> {
    let Scratch { common, cands } = sc;
    let (bu, bv) = (now.row(u), now.row(v));
    let mut any = 0u64;
    for ((c, a), b) in common.iter_mut().zip(bu).zip(bv) {
        *c = a & b;
        any |= *c;
    }
    if any == 0 {
        return None;
    }
    best_by_arrival(common, dm.row(u), dm.row(v), u ^ v, cands);
    try_by_arrival(cands, |p| dominates(common, now.row(p), p))
}

/// True when every vertex of `common` other than `w` is in `nbrs`.
#[inline]
fn dominates(common: &[u64], nbrs: &[u64], w: usize) -> bool {
    common.iter().zip(nbrs).enumerate().all(|(i, (c, a))| {
        let own = if w / 64 == i { 1u64 << (w % 64) } else { 0 };
        c & !a & !own == 0
    })
}

/// The first candidate, by arrival, that passes `ok`. The earliest arrival usually does
/// (most edges of a dense cloud are dominated by it), so the others are sorted only when
/// it fails.
fn try_by_arrival(cands: &mut [(f64, usize)], mut ok: impl FnMut(usize) -> bool) -> Option<usize> {
    let first = cands.iter().enumerate().min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))?.0;
    cands.swap(0, first);
    if ok(cands[0].1) {
        return Some(cands[0].1);
    }
    let rest = &mut cands[1..];
    rest.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    rest.iter().map(|c| c.1).find(|&p| ok(p))
}

/// The members of `set` whose edges to both `u` and `v` came first: all of them when
/// there are at most [`ALL_BELOW`] (in no order; see [`try_by_arrival`]), else the first
/// [`CANDIDATES`] among at most [`SCANNED`] members read from a word chosen by `start` on
/// (a large common neighbourhood has many dominators, a sample finds one).
fn best_by_arrival(set: &[u64], ru: &[f64], rv: &[f64], start: usize, cands: &mut Vec<(f64, usize)>) {
    cands.clear();
    let size: u32 = set.iter().map(|w| w.count_ones()).sum();
    if size as usize <= ALL_BELOW {
        for_each_bit(set, |z| cands.push((ru[z].max(rv[z]), z)));
        return;
    }
    let words = set.len();
    let mut worst = f64::INFINITY;
    let mut seen = 0;
    for k in 0..words {
        let i = (start + k) % words;
        let mut x = set[i];
        while x != 0 {
            let z = i * 64 + x.trailing_zeros() as usize;
            x &= x - 1;
            let a = ru[z].max(rv[z]);
            if cands.len() < CANDIDATES || a < worst {
                if cands.len() == CANDIDATES {
                    cands.pop();
                }
                let at = cands.partition_point(|c| c.0 <= a);
                cands.insert(at, (a, z));
                worst = cands.last().map_or(f64::INFINITY, |c| c.0);
            }
            seen += 1;
        }
        if seen >= SCANNED {
            break;
        }
    }
}

/// The first value after `t` at which a new common neighbour of `u` and `v` arrives
/// that `w` is not adjacent to by then, or `None` when domination by `w` lasts to the
/// end of the filtration. `common` holds the common neighbourhood at `t`; the vertices
/// read are the common neighbours at the end (`live`) that are neither common
/// neighbours at `t` nor neighbours of `w` at the sweep value (those cannot break it).
#[allow(clippy::too_many_arguments)]
fn next_break(
    now: &Bits,
    live: &Bits,
    dm: &DistanceMatrix,
    u: usize,
    v: usize,
    w: usize,
    t: f64,
    common: &[u64],
) -> Option<f64> {
    let (lu, lv, nw) = (live.row(u), live.row(v), now.row(w));
    let (ru, rv, rw) = (dm.row(u), dm.row(v), dm.row(w));
    let mut best = f64::INFINITY;
    for i in 0..common.len() {
        let mut x = lu[i] & lv[i] & !common[i] & !nw[i];
        while x != 0 {
            let z = i * 64 + x.trailing_zeros() as usize;
            x &= x - 1;
            let arrives = ru[z].max(rv[z]);
            if arrives > t && rw[z] > arrives && arrives < best {
                best = arrives;
            }
        }
    }
    best.is_finite().then_some(best)
}

/// A vertex dominating `uv` in the graph of the edges with value `<= t`, read from the
/// matrix (used after a shift, when the sweep's bitsets no longer describe the graph).
/// Leaves the common neighbourhood at `t` in `common`.
fn dominator_at(live: &Bits, dm: &DistanceMatrix, u: usize, v: usize, t: f64, sc: &mut Scratch) -> Option<usize> {
    let Scratch { common, cands } = sc;
    let (ru, rv) = (dm.row(u), dm.row(v));
    // The common neighbours at t are among the common neighbours at the end: read
    // those when they are few, else make one branch-free pass over both rows.
    let (lu, lv) = (live.row(u), live.row(v));
    let ends: u32 = lu.iter().zip(lv).map(|(a, b)| (a & b).count_ones()).sum();
    if (ends as usize) < ru.len() / 8 {
        for (i, (c, (a, b))) in common.iter_mut().zip(lu.iter().zip(lv)).enumerate() {
            let mut x = a & b;
            *c = 0;
            while x != 0 {
                let bit = x.trailing_zeros();
                x &= x - 1;
                let z = i * 64 + bit as usize;
                if ru[z].max(rv[z]) <= t {
                    *c |= 1 << bit;
                }
            }
        }
    } else {
        mask_le2(ru, rv, t, common);
        common[u / 64] &= !(1u64 << (u % 64));
        common[v / 64] &= !(1u64 << (v % 64));
    }
    best_by_arrival(common, ru, rv, u ^ v, cands);
    try_by_arrival(cands, |w| reaches_all(dm.row(w), t, common, w))
}

/// True when `w` reaches every vertex of `common` but itself by `t`; compares 64 entries
/// of `w`'s row at a time, skipping empty words and stopping at the first miss.
fn reaches_all(rw: &[f64], t: f64, common: &[u64], w: usize) -> bool {
    for (i, (&c, chunk)) in common.iter().zip(rw.chunks(64)).enumerate() {
        if c == 0 {
            continue;
        }
        let mut m = 0u64;
        for (j, x) in chunk.iter().enumerate() {
            m |= u64::from(*x <= t) << j;
        }
        let own = if w / 64 == i { 1u64 << (w % 64) } else { 0 };
        if c & !m & !own != 0 {
            return false;
        }
    }
    true
}

/// `out` bit z = `max(a[z], b[z]) <= t`, built 64 entries at a time (vectorises).
fn mask_le2(a: &[f64], b: &[f64], t: f64, out: &mut [u64]) {
    for (k, word) in out.iter_mut().enumerate() {
        let lo = k * 64;
        let hi = (lo + 64).min(a.len());
        let mut m = 0u64;
        for (j, (&x, &y)) in a[lo..hi].iter().zip(&b[lo..hi]).enumerate() {
            m |= u64::from((x <= t) & (y <= t)) << j;
        }
        *word = m;
    }
}

fn for_each_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (i, &word) in words.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            f(i * 64 + x.trailing_zeros() as usize);
            x &= x - 1;
        }
    }
}

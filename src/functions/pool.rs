//! The rayon pools heavy finalizes run on, one per thread count (DuckDB's `threads`
//! setting, passed in by the macros), created once and shared: a GROUP BY with many
//! groups finalizes each group on the same pool instead of spawning threads per group.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The shared pool of `threads` workers (1..=64), or `None` if the OS refuses threads
/// (callers then run serially).
pub fn shared(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Option<HashMap<usize, Arc<rayon::ThreadPool>>>> = Mutex::new(None);
    let n = threads.clamp(1, 64);
    let mut guard = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    let pools = guard.get_or_insert_with(HashMap::new);
    if let Some(p) = pools.get(&n) {
        return Some(Arc::clone(p));
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("dataraum-{i}"))
            .start_handler(|_| crate::ffi::cpu::register_pool_thread())
            .build()
            .ok()?,
    );
    pools.insert(n, Arc::clone(&pool));
    Some(pool)
}

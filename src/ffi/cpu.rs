//! CPU time for `dr_metrics()`: the calling thread's CPU clock, and the summed clocks of the
//! worker threads of the shared rayon pools (each registers itself when it starts).
//!
//! Pool CPU cannot be charged per task without instrumenting every parallel loop, so it is
//! *claimed*: whoever ends a measured interval takes the pool CPU used since the last
//! claim. Pools only ever run dataraum work, so every pool nanosecond is charged exactly
//! once, to a function that was running when it was spent (when two different functions
//! finalize at the same moment, the split between them is approximate; the total is not).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

fn clock_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // Safety: `ts` is a valid out-pointer; an invalid clock id makes the call fail, not UB.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// CPU time consumed by the calling thread so far, in nanoseconds (0 if the OS cannot say).
pub fn thread_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0)
}

static POOL_CLOCKS: Mutex<Vec<libc::clockid_t>> = Mutex::new(Vec::new());
static POOL_CLAIMED: AtomicU64 = AtomicU64::new(0);

/// Registers the calling thread as a pool worker (its `start_handler`). Pool threads live as
/// long as the process, so their clock ids stay valid.
pub fn register_pool_thread() {
    let mut clock: libc::clockid_t = 0;
    // Safety: `pthread_self()` is the live calling thread; `clock` is a valid out-pointer.
    if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) } == 0 {
        let mut v = POOL_CLOCKS.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() < 4096 {
            v.push(clock);
        }
    }
}

/// CPU consumed by every pool worker so far, in nanoseconds.
fn pool_total_ns() -> u64 {
    let v = POOL_CLOCKS.lock().unwrap_or_else(|e| e.into_inner());
    v.iter().filter_map(|&c| clock_ns(c)).sum()
}

/// The pool CPU used since the last claim (0 when no pool has run since).
pub fn claim_pool_ns() -> u64 {
    let total = pool_total_ns();
    let before = POOL_CLAIMED.fetch_max(total, Relaxed);
    total.saturating_sub(before)
}

/// Forgets the pool CPU used so far (`dr_metrics_reset()`).
pub fn reset_pool_claims() {
    POOL_CLAIMED.fetch_max(pool_total_ns(), Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_clock_advances_with_work() {
        let t0 = thread_ns();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_ns() > t0, "the thread CPU clock did not move");
    }

    #[test]
    fn pool_cpu_is_claimed_once() {
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(2).start_handler(|_| register_pool_thread()).build().unwrap();
        reset_pool_claims();
        pool.broadcast(|_| {
            let mut x = 0u64;
            for i in 0..20_000_000u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
            std::hint::black_box(x);
        });
        let first = claim_pool_ns();
        assert!(first > 1_000_000, "two busy workers used only {first} ns");
        assert!(claim_pool_ns() < first / 10, "pool CPU was claimed twice");
    }
}

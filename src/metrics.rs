//! Lock-free per-function metrics since `LOAD`, read by `dr_metrics()`.
//!
//! Every SQL function owns one [`FunctionMetrics`] (a leaked, 'static block of atomic
//! counters); callbacks add to it with relaxed atomics, so recording costs a few
//! nanoseconds per chunk and never blocks a DuckDB thread. Threads are counted by
//! giving each OS thread a small id on first use and setting bit `id % 64` of a mask.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::ffi::cpu;

/// Counters of one SQL function.
#[derive(Default)]
pub struct FunctionMetrics {
    /// SQL name.
    pub name: &'static str,
    /// update / scalar / table-exec invocations (one per chunk).
    pub calls: AtomicU64,
    /// rows consumed by update / scalar calls.
    pub rows: AtomicU64,
    /// nanoseconds in update (or scalar / table exec) callbacks.
    pub update_ns: AtomicU64,
    /// combine callbacks and nanoseconds spent in them.
    pub combines: AtomicU64,
    /// nanoseconds in combine.
    pub combine_ns: AtomicU64,
    /// finalized states and nanoseconds spent finalizing.
    pub finalizes: AtomicU64,
    /// nanoseconds in finalize.
    pub finalize_ns: AtomicU64,
    /// CPU nanoseconds: the callbacks' own threads, the background job threads and the
    /// shared worker pools (see [`crate::ffi::cpu`]).
    pub cpu_ns: AtomicU64,
    /// start of the first callback since reset, nanoseconds after the process epoch + 1
    /// (0: none yet).
    pub first_start_ns: AtomicU64,
    /// end of the last callback (or job) since reset, nanoseconds after the process epoch.
    pub last_end_ns: AtomicU64,
    /// bit mask of the threads that ran a callback.
    pub threads: AtomicU64,
    /// largest state seen at finalize, in bytes.
    pub peak_state_bytes: AtomicU64,
    /// errors returned to DuckDB.
    pub errors: AtomicU64,
    /// panics caught by the guard.
    pub panics: AtomicU64,
    /// LLM requests sent.
    pub llm_requests: AtomicU64,
    /// LLM retries.
    pub llm_retries: AtomicU64,
    /// LLM tokens (prompt + completion).
    pub llm_tokens: AtomicU64,
    /// LLM cache hits.
    pub llm_cache_hits: AtomicU64,
    /// summed LLM latency, milliseconds.
    pub llm_latency_ms: AtomicU64,
    /// What a long finalize is doing now (e.g. `H1 reduction 40960/125000`); empty when idle.
    pub progress: Mutex<String>,
    /// The stages the last (or running) long computation went through, in order, each with
    /// the seconds since its start when it was first reported (`edge collapse 0.0 s > H1 ...`).
    pub stages: Mutex<Vec<String>>,
}

static THREAD_SEQ: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static THREAD_BIT: u64 = 1u64 << (THREAD_SEQ.fetch_add(1, Relaxed) % 64);
}

fn epoch() -> Instant {
    static E: OnceLock<Instant> = OnceLock::new();
    *E.get_or_init(Instant::now)
}

/// The start of one measured callback: wall clock and the thread's CPU clock (two clock
/// reads, a fraction of a microsecond, once per chunk).
#[derive(Clone, Copy)]
pub struct Span {
    wall: Instant,
    cpu: u64,
}

impl Span {
    /// Starts measuring on the calling thread.
    pub fn start() -> Span {
        Span { wall: Instant::now(), cpu: cpu::thread_ns() }
    }
}

impl FunctionMetrics {
    /// Records one update-like call over `rows` rows measured by `span`.
    pub fn record_update(&self, rows: u64, span: Span) {
        self.calls.fetch_add(1, Relaxed);
        self.rows.fetch_add(rows, Relaxed);
        self.update_ns.fetch_add(self.close(span, false), Relaxed);
        self.mark_thread();
    }
    /// Records `n` combines measured by `span`.
    pub fn record_combine(&self, n: u64, span: Span) {
        self.combines.fetch_add(n, Relaxed);
        self.combine_ns.fetch_add(self.close(span, false), Relaxed);
        self.mark_thread();
    }
    /// Records `n` finalized states measured by `span` (with the worker pools' CPU since the
    /// last claim: heavy finalizes run there).
    pub fn record_finalize(&self, n: u64, span: Span) {
        self.finalizes.fetch_add(n, Relaxed);
        self.finalize_ns.fetch_add(self.close(span, true), Relaxed);
        self.mark_thread();
    }
    /// Records a background job (its own thread, measured by `span` taken on that thread)
    /// that ran for this function, with the pools' CPU it used.
    pub fn record_job(&self, span: Span) {
        self.close(span, true);
    }
    /// Adds the CPU and the wall interval of `span`, ending now; returns its wall nanoseconds.
    fn close(&self, span: Span, with_pool: bool) -> u64 {
        let wall = span.wall.elapsed().as_nanos() as u64;
        let mut used = cpu::thread_ns().saturating_sub(span.cpu);
        if with_pool {
            used += cpu::claim_pool_ns();
        }
        self.cpu_ns.fetch_add(used, Relaxed);
        let start = span.wall.saturating_duration_since(epoch()).as_nanos() as u64 + 1;
        if self.first_start_ns.load(Relaxed) == 0 {
            let _ = self.first_start_ns.compare_exchange(0, start, Relaxed, Relaxed);
        }
        self.first_start_ns.fetch_min(start, Relaxed);
        self.last_end_ns.fetch_max(start + wall, Relaxed);
        wall
    }
    /// Wall nanoseconds from the first callback's start to the last one's end (0: none).
    pub fn span_ns(&self) -> u64 {
        let first = self.first_start_ns.load(Relaxed);
        if first == 0 {
            return 0;
        }
        self.last_end_ns.load(Relaxed).saturating_sub(first)
    }
    /// Records a state size.
    pub fn record_state_bytes(&self, bytes: usize) {
        self.peak_state_bytes.fetch_max(bytes as u64, Relaxed);
    }
    /// Records an error returned to DuckDB.
    pub fn record_error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
    /// Records a caught panic.
    pub fn record_panic(&self) {
        self.panics.fetch_add(1, Relaxed);
    }
    /// Reports the stage of a running computation (shown by `dr_metrics().progress`).
    pub fn set_progress(&self, text: String) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = text;
    }
    /// Starts a new stage history (a long computation begins).
    pub fn start_stages(&self) {
        self.stages.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    /// Notes that `stage` was reached `secs` after the start, unless it is the current one.
    pub fn note_stage(&self, stage: &str, secs: f64) {
        let mut st = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        let same = st.last().is_some_and(|last| last.rsplit_once(" (").is_some_and(|(name, _)| name == stage));
        if !same && st.len() < 64 {
            st.push(format!("{stage} ({secs:.2} s)"));
        }
    }
    /// The stage history, `None` when there is none.
    pub fn stages(&self) -> Option<String> {
        let st = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        (!st.is_empty()).then(|| st.join(" > "))
    }
    /// The last reported stage, `None` when idle.
    pub fn progress(&self) -> Option<String> {
        let p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        (!p.is_empty()).then(|| p.clone())
    }
    fn mark_thread(&self) {
        let bit = THREAD_BIT.try_with(|b| *b).unwrap_or(1);
        self.threads.fetch_or(bit, Relaxed);
    }
    fn reset(&self) {
        for c in [
            &self.calls,
            &self.rows,
            &self.update_ns,
            &self.combines,
            &self.combine_ns,
            &self.finalizes,
            &self.finalize_ns,
            &self.cpu_ns,
            &self.first_start_ns,
            &self.last_end_ns,
            &self.threads,
            &self.peak_state_bytes,
            &self.errors,
            &self.panics,
            &self.llm_requests,
            &self.llm_retries,
            &self.llm_tokens,
            &self.llm_cache_hits,
            &self.llm_latency_ms,
        ] {
            c.store(0, Relaxed);
        }
        self.set_progress(String::new());
        self.start_stages();
    }
}

static ALL: Mutex<Vec<&'static FunctionMetrics>> = Mutex::new(Vec::new());

/// The metrics block of `name`, created on first use (registration time) and kept
/// for the life of the process (a handful of small blocks).
pub fn for_function(name: &'static str) -> &'static FunctionMetrics {
    epoch();
    let mut all = ALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = all.iter().find(|m| m.name == name) {
        return m;
    }
    let m: &'static FunctionMetrics = Box::leak(Box::new(FunctionMetrics { name, ..Default::default() }));
    all.push(m);
    m
}

/// Every metrics block, in registration order.
pub fn all() -> Vec<&'static FunctionMetrics> {
    ALL.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Zeroes every counter.
pub fn reset_all() {
    cpu::reset_pool_claims();
    for m in all() {
        m.reset();
    }
}

//! Long computations that a query can interrupt.
//!
//! DuckDB gives an aggregate's finalize no interrupt signal, no C API call lets an extension
//! ask whether its query was interrupted, and a table function cannot take a subquery as
//! an argument (its parameters are constants, bound before the query runs). What DuckDB does
//! do is check its interrupt flag between the chunks of a pipeline, and destroy a scan's
//! global state when the query ends (finished, failed or interrupted). So a long computation
//! runs in three steps, all in one query (the macros `persistence_diagram` and
//! `annotate_columns` write them):
//!
//! 1. a `dr_*_job` aggregate collects its input as usual (update and combine are chunked and
//!    interruptible); its finalize deposits a [`Job`] here instead of computing, and returns
//!    a ticket (BIGINT);
//! 2. the table function `dr_ticks()` is the probe side of a cross join with that one-row
//!    result: it returns one row per exec call, each carrying its scan's id;
//! 3. a `dr_*_await(ticket, scan)` scalar runs on every tick: the first starts the job on a
//!    thread of its own and links it to the scan; each waits at most [`SLICE`] and returns
//!    NULL while the job runs, so DuckDB gets control back between ticks and can act on an
//!    interrupt; the one that sees the job finished returns its result, after which the
//!    ticks end.
//!
//! When the scan's state is destroyed before the result was handed out (interrupt, error,
//! LIMIT), the job is cancelled: its kernels poll [`Control::cancelled`] through their
//! monitor. As a second line, a job that nobody polled for [`STALE`] cancels itself. The
//! scan reports [`Control::progress`] as the query's progress (DuckDB 2.0.x, C API v2
//! progress callback; `enable_progress_bar`, `query_progress()`).
//!
//! Nothing here is `unsafe`; the scan's callbacks are in `table.rs` (v1) and
//! `v2_functions.rs` (v2).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::guard::FnResult;
use super::value::Value;

/// The longest one `dr_*_await` call waits for a running job before it returns NULL.
pub const SLICE: Duration = Duration::from_millis(40);
/// A running job that no `dr_*_await` call polled for this long cancels itself.
pub const STALE: Duration = Duration::from_secs(10);
/// A deposited job nobody awaited is dropped after this long.
const UNCLAIMED_TTL: Duration = Duration::from_secs(600);
/// At most this many deposited jobs wait for their first `dr_*_await` at once.
const MAX_PENDING: usize = 256;
/// The column `dr_ticks()` returns: its scan's id.
pub const TICK_COLUMN: &str = "scan";
/// The row count `dr_ticks()` declares as its estimate (many, so that a join puts the
/// one-row job on its build side).
pub const TICKS_ESTIMATE: u64 = 1 << 48;
/// Scan tasks of one `dr_ticks()` (v2): more than one, so that the client's own thread runs one.
pub const TICK_THREADS: u64 = 2;
/// A `dr_ticks()` scan that no `dr_*_await` call linked to a job ends after this many rows.
pub const UNLINKED_TICKS: u64 = 1000;

fn epoch() -> Instant {
    static E: OnceLock<Instant> = OnceLock::new();
    *E.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

/// What a running job and the query that awaits it share.
pub struct Control {
    cancelled: AtomicBool,
    /// The fraction done in [0, 1] as f64 bits; only ever increases.
    progress: AtomicU64,
    /// When a `dr_*_await` call last polled, in ms since [`epoch`].
    last_poll: AtomicU64,
    /// The current stage's name and its number (for a progress that moves through stages).
    stage: Mutex<(String, u32)>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            cancelled: AtomicBool::new(false),
            progress: AtomicU64::new(0f64.to_bits()),
            last_poll: AtomicU64::new(now_ms()),
            stage: Mutex::new((String::new(), 0)),
        }
    }
}

impl Control {
    /// Whether the query stopped waiting (interrupt, error, LIMIT) or nobody polled for
    /// [`STALE`]: the job should stop.
    pub fn cancelled(&self) -> bool {
        if self.cancelled.load(Ordering::Relaxed) {
            return true;
        }
        if now_ms().saturating_sub(self.last_poll.load(Ordering::Relaxed)) > STALE.as_millis() as u64 {
            self.cancel();
            return true;
        }
        false
    }
    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
    fn polled(&self) {
        self.last_poll.store(now_ms(), Ordering::Relaxed);
    }
    /// The fraction done, in [0, 1].
    pub fn progress(&self) -> f64 {
        f64::from_bits(self.progress.load(Ordering::Relaxed))
    }
    /// Raises the fraction done to `p` (never lowers it).
    pub fn set_progress(&self, p: f64) {
        let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 };
        let mut cur = self.progress.load(Ordering::Relaxed);
        while f64::from_bits(cur) < p {
            match self.progress.compare_exchange_weak(cur, p.to_bits(), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(c) => cur = c,
            }
        }
    }
    /// Progress of a computation that goes through stages whose number is not known up front:
    /// stage k (counted from 0 as new names arrive) covers [1 - 2^-k, 1 - 2^-(k+1)) of 0.95,
    /// and `done / total` places the report inside it. Returns whether to stop.
    pub fn stage(&self, name: &str, done: usize, total: usize) -> bool {
        let k = {
            let mut st = self.stage.lock().unwrap_or_else(|e| e.into_inner());
            if st.0 != name {
                if !st.0.is_empty() {
                    st.1 = st.1.saturating_add(1);
                }
                st.0 = name.to_string();
            }
            st.1.min(30)
        };
        let lo = 1.0 - 0.5f64.powi(k as i32);
        let hi = 1.0 - 0.5f64.powi(k as i32 + 1);
        let frac = if total == 0 { 0.0 } else { (done as f64 / total as f64).clamp(0.0, 1.0) };
        self.set_progress(0.95 * (lo + (hi - lo) * frac));
        self.cancelled()
    }
}

/// A computation a `dr_*_await` call runs in the background.
pub trait Job: Send + Sync + 'static {
    /// The SQL function that prepared it (names it in errors).
    fn function(&self) -> &'static str;
    /// Computes the result; polls `ctl.cancelled()` often (a cancelled job's result is never
    /// read, so it may return anything once cancelled).
    fn run(&self, ctl: &Control) -> FnResult<Value>;
}

type Outcome = Option<FnResult<Value>>;

/// A job running on its own thread.
pub struct Running {
    /// Shared with the job.
    pub ctl: Arc<Control>,
    done: Arc<(Mutex<Outcome>, Condvar)>,
}

impl Running {
    /// Starts `job` on a new thread.
    pub fn start(job: Arc<dyn Job>) -> FnResult<Running> {
        let ctl = Arc::new(Control::default());
        let done: Arc<(Mutex<Outcome>, Condvar)> = Arc::new((Mutex::new(None), Condvar::new()));
        let (c, d) = (ctl.clone(), done.clone());
        let function = job.function();
        let spawned = std::thread::Builder::new().name("dataraum job".into()).spawn(move || {
            let span = crate::metrics::Span::start();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(&c)))
                .unwrap_or_else(|_| Err(format!("{function}: internal error (Rust panic) in the background job")));
            drop(job);
            crate::metrics::for_function(function).record_job(span);
            let (m, cv) = &*d;
            *m.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            cv.notify_all();
        });
        if let Err(e) = spawned {
            return Err(format!("{function}: cannot start a thread for the computation: {e}"));
        }
        Ok(Running { ctl, done })
    }

    /// Waits up to `limit` for the job; `Some` once it finished (the outcome is moved out:
    /// a later call waits again and sees nothing).
    pub fn wait(&self, limit: Duration) -> Option<FnResult<Value>> {
        self.ctl.polled();
        let (m, cv) = &*self.done;
        let g = m.lock().unwrap_or_else(|e| e.into_inner());
        let (mut g, _) = cv.wait_timeout_while(g, limit, |o| o.is_none()).unwrap_or_else(|e| e.into_inner());
        g.take()
    }
}

impl Drop for Running {
    /// A job nobody awaits any more stops at its next poll of `cancelled` (not waited for:
    /// this runs in DuckDB's cleanup of an interrupted query, which must not block).
    fn drop(&mut self) {
        self.ctl.cancel();
    }
}

/// The shared table of jobs: deposited (waiting for their first await), running, and the
/// tickets already delivered (a late await of one gets NULL, not an error).
#[derive(Default)]
struct Table {
    pending: HashMap<i64, (Instant, Arc<dyn Job>)>,
    running: HashMap<i64, Arc<Running>>,
    delivered: VecDeque<i64>,
    /// Each live `dr_ticks()` scan: the job an await linked to it.
    scans: HashMap<i64, Arc<Scan>>,
}

fn table() -> std::sync::MutexGuard<'static, Table> {
    static T: OnceLock<Mutex<Table>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(Table::default())).lock().unwrap_or_else(|e| e.into_inner())
}

/// A ticket no other live job holds: splitmix64 of a counter and the process start, so that
/// a ticket from another process or run does not name a job by chance.
fn next_ticket() -> i64 {
    static SEQ: AtomicU64 = AtomicU64::new(1);
    static SEED: OnceLock<u64> = OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        t ^ (std::process::id() as u64).rotate_left(32)
    });
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 1) as i64
}

/// Deposits `job`, prepared by the aggregate `function`, for a later `dr_*_await`; returns
/// its ticket.
pub fn deposit(function: &str, job: Arc<dyn Job>) -> FnResult<i64> {
    let mut t = table();
    t.pending.retain(|_, (at, _)| at.elapsed() < UNCLAIMED_TTL);
    if t.pending.len() >= MAX_PENDING {
        return Err(format!(
            "{function}: {MAX_PENDING} prepared jobs wait for their dr_*_await call; pass each ticket on (the \
             macros persistence_diagram and annotate_columns do) instead of keeping tickets"
        ));
    }
    let mut ticket = next_ticket();
    while t.pending.contains_key(&ticket) || t.running.contains_key(&ticket) {
        ticket = next_ticket();
    }
    t.pending.insert(ticket, (Instant::now(), job));
    Ok(ticket)
}

/// One poll of the job of `ticket` by a `dr_*_await` call (`scan`: the `dr_ticks()` scan it
/// runs in, if any): starts it on the first call, waits up to [`SLICE`], and returns its
/// result once (`None` while it runs, and for a ticket already delivered).
pub fn poll(function: &str, ticket: i64, scan: Option<i64>) -> FnResult<Option<Value>> {
    let running = {
        let mut t = table();
        let running = match t.running.get(&ticket) {
            Some(r) => r.clone(),
            None => {
                if t.delivered.contains(&ticket) {
                    return Ok(None);
                }
                let Some((_, job)) = t.pending.remove(&ticket) else {
                    return Err(format!(
                        "{function}: no prepared job has ticket {ticket}; pass the ticket the matching dr_*_job \
                         aggregate returned, in the same process (a ticket is awaited once)"
                    ));
                };
                let r = Arc::new(Running::start(job)?);
                t.running.insert(ticket, r.clone());
                r
            }
        };
        if let Some(slot) = scan.and_then(|s| t.scans.get(&s).cloned()) {
            let mut linked = slot.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if !linked.iter().any(|l| l.ticket == ticket) {
                linked.push(Linked { ticket, running: running.clone(), delivered: false });
            }
        }
        running
    };
    let outcome = running.wait(SLICE);
    let Some(outcome) = outcome else { return Ok(None) };
    let mut t = table();
    t.running.remove(&ticket);
    t.delivered.push_back(ticket);
    if t.delivered.len() > 1024 {
        t.delivered.pop_front();
    }
    if let Some(slot) = scan.and_then(|s| t.scans.get(&s).cloned()) {
        let mut linked = slot.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = linked.iter_mut().find(|l| l.ticket == ticket) {
            l.delivered = true;
        }
    }
    outcome.map(Some)
}

/// A job an await call linked to a `dr_ticks()` scan.
struct Linked {
    ticket: i64,
    running: Arc<Running>,
    delivered: bool,
}

/// The state of one `dr_ticks()` scan: the jobs it carries (several when a GROUP BY made one
/// ticket per group and every tick polls each of them).
#[derive(Default)]
pub struct Scan {
    id: i64,
    jobs: Mutex<Vec<Linked>>,
    ticks: AtomicU64,
}

/// Owned by a `dr_ticks()` scan's global state; dropping it cancels every undelivered job.
pub struct ScanHandle(Arc<Scan>);

impl ScanHandle {
    /// Registers a new scan.
    pub fn new() -> ScanHandle {
        let mut t = table();
        let mut id = next_ticket();
        while t.scans.contains_key(&id) {
            id = next_ticket();
        }
        let scan = Arc::new(Scan { id, ..Scan::default() });
        t.scans.insert(id, scan.clone());
        ScanHandle(scan)
    }
    /// The id each tick carries.
    pub fn id(&self) -> i64 {
        self.0.id
    }
    /// Whether the scan should produce another tick: not once every job linked to it was
    /// delivered, nor after [`UNLINKED_TICKS`] ticks that no await linked to a job.
    pub fn next_tick(&self) -> bool {
        let jobs = self.0.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if !jobs.is_empty() {
            return !jobs.iter().all(|l| l.delivered);
        }
        self.0.ticks.fetch_add(1, Ordering::Relaxed) < UNLINKED_TICKS
    }
    /// The linked jobs' mean fraction done (0 before one is linked, 1 once all are delivered).
    pub fn progress(&self) -> f64 {
        let jobs = self.0.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if jobs.is_empty() {
            return 0.0;
        }
        jobs.iter().map(|l| if l.delivered { 1.0 } else { l.running.ctl.progress() }).sum::<f64>() / jobs.len() as f64
    }
}

impl Default for ScanHandle {
    fn default() -> Self {
        ScanHandle::new()
    }
}

impl Drop for ScanHandle {
    fn drop(&mut self) {
        let linked = std::mem::take(&mut *self.0.jobs.lock().unwrap_or_else(|e| e.into_inner()));
        let mut t = table();
        t.scans.remove(&self.0.id);
        for l in linked.into_iter().filter(|l| !l.delivered) {
            l.running.ctl.cancel();
            t.running.remove(&l.ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sleepy(u64, Arc<AtomicBool>);
    impl Job for Sleepy {
        fn function(&self) -> &'static str {
            "sleepy"
        }
        fn run(&self, ctl: &Control) -> FnResult<Value> {
            let _exit = Exit(self.1.clone());
            for i in 0..self.0 {
                if ctl.stage("sleep", i as usize, self.0 as usize) {
                    return Err("interrupted".into());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(Value::Int(self.0 as i64))
        }
    }
    struct Exit(Arc<AtomicBool>);
    impl Drop for Exit {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    fn sleepy(n: u64) -> (Arc<Sleepy>, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(false));
        (Arc::new(Sleepy(n, flag.clone())), flag)
    }

    #[test]
    fn a_job_is_delivered_once_and_progress_only_rises() {
        let ticket = deposit("t", sleepy(30).0).unwrap();
        let scan = ScanHandle::new();
        let mut last = 0.0;
        let v = loop {
            assert!(scan.next_tick());
            if let Some(v) = poll("t", ticket, Some(scan.id())).unwrap() {
                break v;
            }
            let p = scan.progress();
            assert!(p >= last && p < 1.0, "{p} {last}");
            last = p;
        };
        assert!(matches!(v, Value::Int(30)));
        assert!(last > 0.0);
        assert!(!scan.next_tick(), "the ticks end once the job was delivered");
        assert!(poll("t", ticket, None).unwrap().is_none(), "a late poll gets NULL");
        assert!(poll("t", ticket ^ 1, None).unwrap_err().contains("no prepared job"));
    }

    #[test]
    fn dropping_the_scan_cancels_the_job() {
        let (job, exited) = sleepy(1_000_000);
        let ticket = deposit("t", job).unwrap();
        let scan = ScanHandle::new();
        assert!(poll("t", ticket, Some(scan.id())).unwrap().is_none());
        drop(scan);
        let t0 = Instant::now();
        while !exited.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    }

    #[test]
    fn a_scan_carries_every_job_linked_to_it() {
        let (a, b) = (deposit("t", sleepy(5).0).unwrap(), deposit("t", sleepy(60).0).unwrap());
        let scan = ScanHandle::new();
        let mut got = Vec::new();
        while scan.next_tick() {
            for t in [a, b] {
                if let Some(Value::Int(n)) = poll("t", t, Some(scan.id())).unwrap() {
                    got.push(n);
                }
            }
        }
        got.sort();
        assert_eq!(got, vec![5, 60], "both jobs delivered before the ticks end");
        assert_eq!(scan.progress(), 1.0);
    }

    #[test]
    fn unlinked_ticks_end() {
        let scan = ScanHandle::new();
        let n = (0..5000).take_while(|_| scan.next_tick()).count();
        assert_eq!(n as u64, UNLINKED_TICKS);
    }

    #[test]
    fn stages_advance_monotonically() {
        let c = Control::default();
        c.stage("a", 5, 10);
        let p1 = c.progress();
        c.stage("b", 0, 10);
        let p2 = c.progress();
        c.stage("b", 10, 10);
        let p3 = c.progress();
        assert!(p1 > 0.0 && p2 >= p1 && p3 > p2 && p3 < 1.0, "{p1} {p2} {p3}");
    }
}

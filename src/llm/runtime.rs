//! The extension's one tokio runtime: created on first use, never by `LOAD`, without
//! panicking (a failure is an error message for the query), with a capped worker pool
//! so it never competes with DuckDB's own threads for the cores.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// Worker threads of the runtime: the work is waiting on sockets, not computing.
pub const WORKERS: usize = 2;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, created on first call.
pub fn runtime() -> Result<&'static Runtime, String> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .max_blocking_threads(4)
                .thread_name("dataraum-llm")
                .enable_io()
                .enable_time()
                .build()
                .map_err(|e| format!("dr_annotate: could not start the background runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    #[test]
    fn runtime_starts_once_and_runs_tasks() {
        let rt = super::runtime().unwrap();
        let again = super::runtime().unwrap();
        assert!(std::ptr::eq(rt, again));
        assert_eq!(rt.block_on(async { 40 + 2 }), 42);
    }
}

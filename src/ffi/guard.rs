//! The panic guard: every callback body DuckDB calls runs inside [`guard`].
//!
//! Since Rust 1.81 a panic that reaches an `extern "C"` frame aborts the process, which
//! would kill the user's Python or CLI. [`guard`] catches the unwind and turns it, like
//! any `Err`, into a message that starts with the SQL function's name; the caller then
//! hands that message to the callback's own DuckDB error channel.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::metrics::FunctionMetrics;

/// An error raised by a function body; becomes a DuckDB error prefixed with the name.
pub type FnResult<T> = std::result::Result<T, String>;

/// Runs `body`, converting a panic or an `Err` into `"<name>: <message>"`.
pub fn guard<T>(name: &str, metrics: Option<&FunctionMetrics>, body: impl FnOnce() -> FnResult<T>) -> FnResult<T> {
    IN_GUARD.with(|d| d.set(d.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(body));
    IN_GUARD.with(|d| d.set(d.get().saturating_sub(1)));
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(message)) => {
            if let Some(m) = metrics {
                m.record_error();
            }
            Err(prefix(name, &message))
        }
        Err(payload) => {
            if let Some(m) = metrics {
                m.record_panic();
            }
            Err(format!(
                "{name}: internal error (Rust panic: {}); the query was stopped, the connection is fine — please report this",
                panic_message(&payload)
            ))
        }
    }
}

/// Prefixes `message` with `name:` unless it already starts with it.
pub fn prefix(name: &str, message: &str) -> String {
    if message.starts_with(name) && message[name.len()..].starts_with(':') {
        message.to_string()
    } else {
        format!("{name}: {message}")
    }
}

fn panic_message(payload: &Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

thread_local! {
    static IN_GUARD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Installs (once) a panic hook that stays silent for panics raised inside [`guard`]
/// (they become SQL errors) and defers to the previous hook for every other panic in
/// the process, so other Rust code loaded into the host keeps its behaviour.
/// `DATARAUM_PANIC_TRACE=1` prints ours too.
pub fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = IN_GUARD.try_with(|d| d.get() > 0).unwrap_or(false);
            if !ours || std::env::var_os("DATARAUM_PANIC_TRACE").is_some() {
                previous(info);
            }
        }));
    });
}

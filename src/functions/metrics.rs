//! `dr_metrics()` and `dr_metrics_reset()`: where the time went, per function, since LOAD.

use std::sync::atomic::Ordering::Relaxed;

use crate::ffi::entry::Registrar;
use crate::ffi::{Args, Context, FnResult, Scalar, ScalarSpec, TableRows, TableSpec, Ty, Value};
use crate::metrics;
use crate::registry::{FunctionDoc, Kind};

struct Metrics;

fn ms(ns: u64) -> Value {
    Value::Double(ns as f64 / 1e6)
}

impl TableRows for Metrics {
    fn columns() -> Vec<(&'static str, Ty)> {
        vec![
            ("function_name", Ty::Varchar),
            ("calls", Ty::UBigInt),
            ("rows", Ty::UBigInt),
            ("update_ms", Ty::Double),
            ("combines", Ty::UBigInt),
            ("combine_ms", Ty::Double),
            ("finalizes", Ty::UBigInt),
            ("finalize_ms", Ty::Double),
            ("threads", Ty::UBigInt),
            ("peak_state_bytes", Ty::UBigInt),
            ("errors", Ty::UBigInt),
            ("panics", Ty::UBigInt),
            ("llm_requests", Ty::UBigInt),
            ("llm_retries", Ty::UBigInt),
            ("llm_tokens", Ty::UBigInt),
            ("llm_cache_hits", Ty::UBigInt),
            ("llm_latency_ms", Ty::Double),
            ("progress", Ty::Varchar),
            ("stages", Ty::Varchar),
            ("cpu_ms", Ty::Double),
            ("wall_ms", Ty::Double),
            ("utilisation", Ty::Double),
        ]
    }
    fn rows(_params: &[Option<String>], ctx: &Context) -> FnResult<Vec<Vec<Value>>> {
        let threads = ctx.setting("threads").and_then(|t| t.trim().parse::<f64>().ok()).filter(|t| *t >= 1.0);
        Ok(metrics::all()
            .into_iter()
            .filter(|m| m.name != METRICS_DOC.name)
            .map(|m| {
                vec![
                    Value::from(m.name),
                    Value::UInt(m.calls.load(Relaxed)),
                    Value::UInt(m.rows.load(Relaxed)),
                    ms(m.update_ns.load(Relaxed)),
                    Value::UInt(m.combines.load(Relaxed)),
                    ms(m.combine_ns.load(Relaxed)),
                    Value::UInt(m.finalizes.load(Relaxed)),
                    ms(m.finalize_ns.load(Relaxed)),
                    Value::UInt(m.threads.load(Relaxed).count_ones() as u64),
                    Value::UInt(m.peak_state_bytes.load(Relaxed)),
                    Value::UInt(m.errors.load(Relaxed)),
                    Value::UInt(m.panics.load(Relaxed)),
                    Value::UInt(m.llm_requests.load(Relaxed)),
                    Value::UInt(m.llm_retries.load(Relaxed)),
                    Value::UInt(m.llm_tokens.load(Relaxed)),
                    Value::UInt(m.llm_cache_hits.load(Relaxed)),
                    Value::Double(m.llm_latency_ms.load(Relaxed) as f64),
                    Value::from(m.progress()),
                    Value::from(m.stages()),
                    ms(m.cpu_ns.load(Relaxed)),
                    ms(m.span_ns()),
                    match (threads, m.span_ns()) {
                        (Some(t), wall) if wall > 0 => Value::Double(m.cpu_ns.load(Relaxed) as f64 / (wall as f64 * t)),
                        _ => Value::Null,
                    },
                ]
            })
            .collect())
    }
}

struct Reset;

impl Scalar for Reset {
    fn invoke(_args: &Args, _row: usize) -> FnResult<Value> {
        metrics::reset_all();
        Ok(Value::Bool(true))
    }
}

/// Documentation of `dr_metrics`.
pub const METRICS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_metrics",
    kind: Kind::Table,
    parameters: "",
    returns: "TABLE(function_name, calls, rows, update_ms, combines, combine_ms, finalizes, finalize_ms, threads, peak_state_bytes, errors, panics, llm_requests, llm_retries, llm_tokens, llm_cache_hits, llm_latency_ms, progress, stages, cpu_ms, wall_ms, utilisation)",
    description: "Per-function counters since LOAD (or the last dr_metrics_reset()): calls, rows, wall time summed over update/combine/finalize callbacks, threads that took part, peak state bytes, errors, caught panics, LLM figures, the stage a long finalize is in now (progress) and the stages the last one went through with their start times (stages); cpu_ms is the CPU time of the callbacks' threads plus the background job and worker-pool threads, wall_ms the time from the first callback's start to the last one's end, and utilisation = cpu_ms / (wall_ms * the threads setting), NULL where the setting cannot be read (DuckDB before 1.5.2).",
    example: "SELECT function_name, rows, update_ms, threads FROM dr_metrics() WHERE calls > 0;",
};

/// Documentation of `dr_metrics_reset`.
pub const RESET_DOC: FunctionDoc = FunctionDoc {
    name: "dr_metrics_reset",
    kind: Kind::Scalar,
    parameters: "",
    returns: "BOOLEAN",
    description: "Zeroes every counter shown by dr_metrics(); returns true.",
    example: "SELECT dr_metrics_reset();",
};

/// Registers `dr_metrics` and `dr_metrics_reset`.
pub fn register(r: &mut Registrar) {
    r.table::<Metrics>(TableSpec { name: METRICS_DOC.name, params: vec![] });
    r.scalar::<Reset>(ScalarSpec {
        name: RESET_DOC.name,
        overloads: vec![vec![]],
        return_type: Ty::Boolean,
        special_nulls: false,
        volatile: true,
    });
}

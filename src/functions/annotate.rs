//! `dr_annotate(table_name, column_name, column_type, descriptor [, options])`: semantic
//! annotation of columns, one input row per column.
//!
//! The state collects column descriptors (the statistics the `annotate_columns` macro
//! gathers with `profile_columns` and `infer_types`, as JSON text); finalize hands them
//! all to [`crate::llm::annotate`], which resolves them offline or in batches of
//! `dataraum_llm_batch_columns` columns per request — never one request per row. The
//! settings arrive as `options`, a JSON object the macro builds with `current_setting`
//! (a C API v1 aggregate has no client context). Rows of several tables may share one
//! call; the result lists them in (table, ordinal) order.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::job::deposit;
use crate::ffi::{
    Aggregate, AggregateSpec, Args, Control, FnResult, Job, Scalar, ScalarSpec, Setting, SettingDefault, Ty, Value,
};
use crate::llm::{annotate, annotate_watched, ColumnDescriptor, LlmOptions};
use crate::registry::{FunctionDoc, Kind};

/// Aggregate state: the raw rows (parsed at finalize) and the options text.
#[derive(Default)]
pub struct AnnotateAgg {
    rows: Vec<(String, String, String, String)>,
    options: Option<String>,
}

struct DrAnnotate;

fn parse_descriptor(table: &str, column: &str, column_type: &str, text: &str) -> Result<ColumnDescriptor, String> {
    let stats = if text.trim().is_empty() {
        serde_json::Map::new()
    } else {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(serde_json::Value::Null) => serde_json::Map::new(),
            Ok(_) => return Err(format!("dr_annotate: the descriptor of column {column} must be a JSON object")),
            Err(e) => {
                return Err(format!(
                    "dr_annotate: the descriptor of column {column} is not JSON ({e}); pass to_json(...)"
                ))
            }
        }
    };
    let ordinal = stats.get("ordinal").and_then(|v| v.as_i64()).unwrap_or(i64::MAX);
    let mut stats = stats;
    stats.remove("ordinal");
    Ok(ColumnDescriptor { table: table.into(), column: column.into(), column_type: column_type.into(), ordinal, stats })
}

impl Aggregate for DrAnnotate {
    type State = AnnotateAgg;

    fn update(agg: &mut AnnotateAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        for i in rows {
            let (Some(table), Some(column)) = (args.str_at(0, i), args.str_at(1, i)) else {
                continue; // a NULL table or column name is no column
            };
            let ty = args.str_at(2, i).unwrap_or_default();
            let desc = args.str_at(3, i).unwrap_or_default();
            if agg.options.is_none() && args.len() > 4 {
                agg.options = args.str_at(4, i);
            }
            agg.rows.push((table, column, ty, desc));
        }
        Ok(())
    }

    fn combine(source: &AnnotateAgg, target: &mut AnnotateAgg) -> FnResult<()> {
        target.rows.extend(source.rows.iter().cloned());
        if target.options.is_none() {
            target.options = source.options.clone();
        }
        Ok(())
    }

    fn finalize(agg: &mut AnnotateAgg) -> FnResult<Value> {
        let (descs, opts) = prepare(agg)?;
        Ok(annotations_value(annotate(&descs, &opts)))
    }

    fn state_bytes(agg: &AnnotateAgg) -> usize {
        agg.rows.iter().map(|r| r.0.len() + r.1.len() + r.2.len() + r.3.len()).sum()
    }
}

/// The descriptors in an order that does not depend on the row split, and the options.
fn prepare(agg: &AnnotateAgg) -> FnResult<(Vec<ColumnDescriptor>, LlmOptions)> {
    let opts = match &agg.options {
        Some(text) => LlmOptions::from_json(text)?,
        None => LlmOptions::default(),
    };
    let mut descs = Vec::with_capacity(agg.rows.len());
    for (t, c, ty, d) in &agg.rows {
        descs.push(parse_descriptor(t, c, ty, d)?);
    }
    // Deterministic whatever the row split: table, position, name.
    descs.sort_by(|a, b| (&a.table, a.ordinal, &a.column).cmp(&(&b.table, b.ordinal, &b.column)));
    descs.dedup_by(|a, b| a.table == b.table && a.column == b.column);
    Ok((descs, opts))
}

fn annotations_value(out: Vec<crate::llm::Annotation>) -> Value {
    Value::List(
        out.into_iter()
            .map(|a| {
                Value::Struct(vec![
                    Value::from(a.table),
                    Value::from(a.column),
                    Value::from(a.semantic_role),
                    Value::from(a.entity_type),
                    Value::from(a.business_term),
                    Value::from(a.description),
                    Value::from(a.unit),
                    a.confidence.map_or(Value::Null, Value::Double),
                    Value::from(a.source),
                    Value::from(a.status),
                ])
            })
            .collect(),
    )
}

/// `dr_annotate_job`: collects like `dr_annotate` and returns a ticket for
/// `dr_annotate_await`, which waits for the LLM so that the query can be interrupted.
struct DrAnnotateJob;

struct AnnotateJob {
    descs: Vec<ColumnDescriptor>,
    opts: LlmOptions,
}

impl Job for AnnotateJob {
    fn function(&self) -> &'static str {
        "dr_annotate_await"
    }
    fn run(&self, ctl: &Control) -> FnResult<Value> {
        // Progress: the columns answered, or the share of dataraum_llm_timeout_ms used (the
        // wait never outlasts it), whichever is further.
        let started = std::time::Instant::now();
        let timeout = self.opts.timeout_ms.max(1) as f64 / 1000.0;
        let watch = |done: usize, total: usize| {
            let answered = if total == 0 { 0.0 } else { done as f64 / total as f64 };
            ctl.set_progress(0.95 * answered.max(started.elapsed().as_secs_f64() / timeout));
            ctl.cancelled()
        };
        Ok(annotations_value(annotate_watched(&self.descs, &self.opts, &watch)))
    }
}

impl Aggregate for DrAnnotateJob {
    type State = AnnotateAgg;

    fn update(agg: &mut AnnotateAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        DrAnnotate::update(agg, args, rows)
    }
    fn combine(source: &AnnotateAgg, target: &mut AnnotateAgg) -> FnResult<()> {
        DrAnnotate::combine(source, target)
    }
    fn finalize(agg: &mut AnnotateAgg) -> FnResult<Value> {
        let (descs, opts) = prepare(agg)?;
        Ok(Value::Int(deposit("dr_annotate_job", std::sync::Arc::new(AnnotateJob { descs, opts }))?))
    }
    fn state_bytes(agg: &AnnotateAgg) -> usize {
        DrAnnotate::state_bytes(agg)
    }
}

/// `dr_annotate_await(ticket, scan)`: one poll of a `dr_annotate_job`.
struct DrAnnotateAwait;

impl Scalar for DrAnnotateAwait {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        crate::functions::jobs::await_value("dr_annotate_await", args, row)
    }
}

fn return_type() -> Ty {
    use Ty::*;
    Ty::list(Ty::structure(&[
        ("table_name", Varchar),
        ("column_name", Varchar),
        ("semantic_role", Varchar),
        ("entity_type", Varchar),
        ("business_term", Varchar),
        ("description", Varchar),
        ("unit", Varchar),
        ("confidence", Double),
        ("source", Varchar),
        ("status", Varchar),
    ]))
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_annotate",
    kind: Kind::Aggregate,
    parameters: "table_name VARCHAR, column_name VARCHAR, column_type VARCHAR, descriptor VARCHAR (JSON) [, options VARCHAR (JSON)]",
    returns: "LIST(STRUCT(table_name, column_name, semantic_role, entity_type, business_term, description, unit, confidence, source, status))",
    description: "Annotates columns (one input row each, any number of tables) with semantic role, entity, business term, description and unit: offline by deterministic rules (source heuristic), or by an LLM in batches of dataraum_llm_batch_columns columns per request, with a SQLite cache, bounded concurrency and retries. options is a JSON object of the dataraum_llm_* settings without prefix; annotate_columns passes them all.",
    example: "SELECT dr_annotate('orders', c, t, '{}') FROM (VALUES ('order_id', 'BIGINT'), ('amount_usd', 'DOUBLE')) v(c, t);",
};

/// The `dataraum_llm_*` settings and `dataraum_cache_path`.
pub fn settings() -> Vec<Setting> {
    vec![
        Setting { name: "dataraum_llm_provider", default: SettingDefault::Text("none"), description: "LLM for annotate_columns: 'none' (offline heuristic annotator), 'openai' (any OpenAI-compatible chat-completions server: OpenAI, vLLM, Ollama, llama.cpp, LM Studio) or 'anthropic' (Messages API)" },
        Setting { name: "dataraum_llm_base_url", default: SettingDefault::Text(""), description: "Base URL of the LLM API up to the version, e.g. http://localhost:11434/v1; empty = the provider's public endpoint" },
        Setting { name: "dataraum_llm_model", default: SettingDefault::Text(""), description: "Model name sent to the LLM API; empty = gpt-4o-mini (openai) or claude-sonnet-4-5 (anthropic)" },
        Setting { name: "dataraum_llm_api_key_env", default: SettingDefault::Text(""), description: "NAME of the environment variable holding the API key, read at request time (empty = OPENAI_API_KEY or ANTHROPIC_API_KEY); the key itself is never stored" },
        Setting { name: "dataraum_llm_max_concurrency", default: SettingDefault::Int(8), description: "LLM requests in flight at once" },
        Setting { name: "dataraum_llm_timeout_ms", default: SettingDefault::Int(120_000), description: "Longest time one annotation query waits for the LLM (all requests and retries); then open requests are cancelled and their columns get status 'timed out'" },
        Setting { name: "dataraum_llm_max_retries", default: SettingDefault::Int(3), description: "Retries of one LLM request after a transport error, 5xx or 429 (exponential backoff with jitter, honouring Retry-After)" },
        Setting { name: "dataraum_llm_max_requests", default: SettingDefault::Int(100), description: "Cost cap: LLM requests (retries included) one query may send; columns beyond it get an error status" },
        Setting { name: "dataraum_llm_batch_columns", default: SettingDefault::Int(25), description: "Columns annotated by one LLM request" },
        Setting { name: "dataraum_llm_share_values", default: SettingDefault::Bool(true), description: "Whether sample values (top values, text min/max) are sent to the LLM; false sends statistics only" },
        Setting { name: "dataraum_cache_path", default: SettingDefault::Text("~/.cache/dataraum/llm_cache.sqlite"), description: "SQLite file caching LLM annotations (keyed by provider, model, prompt version and column descriptor); 'none' disables the cache" },
    ]
}

/// Documentation of `dr_annotate_job`.
pub const JOB_DOC: FunctionDoc = FunctionDoc {
    name: "dr_annotate_job",
    kind: Kind::Aggregate,
    parameters: "table_name VARCHAR, column_name VARCHAR, column_type VARCHAR, descriptor VARCHAR (JSON) [, options VARCHAR (JSON)]",
    returns: "BIGINT (a ticket for dr_annotate_await)",
    description: "Collects columns exactly like dr_annotate but sends nothing: it returns a ticket for dr_annotate_await, which waits for the LLM so that the query can be interrupted (annotate_columns does this). A ticket is awaited once, in the same process.",
    example: "SELECT dr_annotate_job('orders', c, t, '{}') > 0 FROM (VALUES ('order_id', 'BIGINT'), ('amount_usd', 'DOUBLE')) v(c, t);",
};

/// Documentation of `dr_annotate_await`.
pub const AWAIT_DOC: FunctionDoc = FunctionDoc {
    name: "dr_annotate_await",
    kind: Kind::Scalar,
    parameters: "ticket BIGINT, scan BIGINT",
    returns: "the LIST of dr_annotate, or NULL",
    description: "One poll of the annotation a dr_annotate_job ticket names, from a dr_ticks() scan: the first call starts it, each waits at most 40 ms and returns NULL while the LLM answers, one returns the annotations. An interrupt between polls cancels the open requests; the cache keeps what already arrived.",
    example: "SELECT len(a) FROM (SELECT dr_annotate_await(j.ticket, k.scan) AS a FROM (SELECT dr_annotate_job('orders', c, t, '{}') AS ticket FROM (VALUES ('order_id', 'BIGINT'), ('amount_usd', 'DOUBLE')) v(c, t)) j, dr_ticks() k) WHERE a IS NOT NULL LIMIT 1;",
};

/// Registers `dr_annotate`, `dr_annotate_job` and `dr_annotate_await`.
pub fn register(r: &mut Registrar) {
    use Ty::Varchar;
    let overloads = vec![vec![Varchar, Varchar, Varchar, Varchar], vec![Varchar, Varchar, Varchar, Varchar, Varchar]];
    r.aggregate::<DrAnnotate>(AggregateSpec {
        name: DOC.name,
        overloads: overloads.clone(),
        return_type: return_type(),
    });
    r.aggregate::<DrAnnotateJob>(AggregateSpec { name: JOB_DOC.name, overloads, return_type: Ty::BigInt });
    r.scalar::<DrAnnotateAwait>(ScalarSpec {
        name: AWAIT_DOC.name,
        overloads: vec![vec![Ty::BigInt, Ty::BigInt]],
        return_type: return_type(),
        special_nulls: true,
        volatile: true,
    });
}

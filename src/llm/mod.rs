//! Semantic column annotation: the only async code of the extension.
//!
//! A DuckDB thread (the finalize of `dr_annotate`) hands the column descriptors of one
//! or more tables to [`annotate`]. With `dataraum_llm_provider = 'none'` the pure
//! [`heuristic`] annotator answers at once. Otherwise one job is spawned on the shared
//! background runtime ([`runtime`]): cached answers are read from SQLite ([`cache`]),
//! identical descriptors are merged, the rest is split into batches of
//! `dataraum_llm_batch_columns` columns per table, and each batch becomes one request
//! ([`prompt`], [`client`]) under a semaphore of `dataraum_llm_max_concurrency`.
//! The DuckDB thread waits on a channel in 50 ms steps until the job finishes or the
//! total deadline `dataraum_llm_timeout_ms` passes; then the job is aborted (which
//! cancels every open request) and the columns still open get a `timed out` status.
//!
//! The API key is read from the environment variable *named* by
//! `dataraum_llm_api_key_env` when a request is built, and every status text is scrubbed
//! of it before it leaves this module.

pub mod cache;
pub mod client;
pub mod heuristic;
pub mod prompt;
pub mod runtime;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};

/// Bump when the prompt or the schema changes: it is part of every cache key.
pub const PROMPT_VERSION: &str = "dataraum-annotate-v1";

/// The semantic roles a column can have.
pub const ROLES: &[&str] =
    &["key", "foreign_key", "measure", "dimension", "timestamp", "attribute", "identifier", "free_text"];

/// One column of one table, with the statistics the macros collected.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDescriptor {
    /// Table (or view) name.
    pub table: String,
    /// Column name.
    pub column: String,
    /// Declared DuckDB type.
    pub column_type: String,
    /// Position in the table (for output order).
    pub ordinal: i64,
    /// Everything else: row_count, null_ratio, distinct_count, min/max/mean, inferred type, ...
    pub stats: Map<String, Json>,
}

impl ColumnDescriptor {
    /// A statistic as a number.
    pub fn num(&self, key: &str) -> Option<f64> {
        self.stats.get(key).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
    }
    /// A statistic as text.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.stats.get(key).and_then(|v| v.as_str())
    }
    /// A statistic as a boolean.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.stats.get(key).and_then(|v| v.as_bool())
    }
    /// The descriptor as sent to the model (and hashed for the cache): sample values are
    /// left out unless `share_values`.
    pub fn prompt_json(&self, share_values: bool) -> Json {
        let mut m = Map::new();
        m.insert("name".into(), Json::from(self.column.as_str()));
        m.insert("declared_type".into(), Json::from(self.column_type.as_str()));
        let value_like =
            !(heuristic::is_numeric_type(&self.column_type) || heuristic::is_temporal_type(&self.column_type));
        for (k, v) in &self.stats {
            if v.is_null() {
                continue;
            }
            let sample = matches!(k.as_str(), "top_values") || (value_like && matches!(k.as_str(), "min" | "max"));
            if sample && !share_values {
                continue;
            }
            m.insert(k.clone(), v.clone());
        }
        Json::Object(m)
    }
}

/// The annotation of one column (one element of `dr_annotate`'s result).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotation {
    /// Table name.
    pub table: String,
    /// Column name.
    pub column: String,
    /// One of [`ROLES`].
    pub semantic_role: Option<String>,
    /// The real-world entity the column describes or refers to.
    pub entity_type: Option<String>,
    /// A business-friendly name.
    pub business_term: Option<String>,
    /// One sentence.
    pub description: Option<String>,
    /// Unit of measure, if any.
    pub unit: Option<String>,
    /// 0..1.
    pub confidence: Option<f64>,
    /// `llm:<model>`, `cache` or `heuristic`.
    pub source: String,
    /// `ok` or the error for this column.
    pub status: String,
}

impl Annotation {
    /// An annotation that failed with `status` (all fields NULL).
    pub fn failed(d: &ColumnDescriptor, source: &str, status: String) -> Annotation {
        Annotation {
            table: d.table.clone(),
            column: d.column.clone(),
            source: source.to_string(),
            status,
            ..Default::default()
        }
    }
    /// The model/cache fields as JSON (what the cache stores: no key, no descriptor).
    pub fn fields_json(&self) -> Json {
        serde_json::json!({
            "semantic_role": self.semantic_role, "entity_type": self.entity_type,
            "business_term": self.business_term, "description": self.description,
            "unit": self.unit, "confidence": self.confidence,
        })
    }
    /// Fills the fields of `d`'s annotation from a model answer object; `Err` if it is
    /// not a valid annotation.
    pub fn from_answer(d: &ColumnDescriptor, v: &Json, source: &str) -> Result<Annotation, String> {
        let o = v.as_object().ok_or("column answer is not an object")?;
        let s = |k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_string).filter(|x| !x.is_empty());
        let role = s("semantic_role").ok_or_else(|| format!("column {}: semantic_role missing", d.column))?;
        if !ROLES.contains(&role.as_str()) {
            return Err(format!("column {}: semantic_role {role:?} is not one of {}", d.column, ROLES.join(", ")));
        }
        let confidence = match o.get("confidence") {
            Some(Json::Number(n)) => n.as_f64().map(|c| c.clamp(0.0, 1.0)),
            None | Some(Json::Null) => None,
            Some(_) => return Err(format!("column {}: confidence is not a number", d.column)),
        };
        Ok(Annotation {
            table: d.table.clone(),
            column: d.column.clone(),
            semantic_role: Some(role),
            entity_type: s("entity_type"),
            business_term: s("business_term"),
            description: s("description"),
            unit: s("unit"),
            confidence,
            source: source.to_string(),
            status: "ok".to_string(),
        })
    }
}

/// Which API to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Offline heuristic annotator.
    None,
    /// Any OpenAI-compatible chat-completions server.
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
}

/// The `dataraum_llm_*` settings, as passed by the macros.
#[derive(Debug, Clone)]
pub struct LlmOptions {
    /// Provider.
    pub provider: Provider,
    /// Base URL (ends before `/chat/completions` or `/messages`).
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Name of the environment variable that holds the key.
    pub api_key_env: String,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Total time one annotation query waits for the LLM, milliseconds.
    pub timeout_ms: u64,
    /// Retries per request.
    pub max_retries: u32,
    /// HTTP requests per query (retries and repairs included).
    pub max_requests: u64,
    /// Whether sample values (top values, text min/max) are sent.
    pub share_values: bool,
    /// SQLite cache file, or `none`.
    pub cache_path: String,
    /// Columns per request.
    pub batch_columns: usize,
}

impl Default for LlmOptions {
    fn default() -> Self {
        LlmOptions {
            provider: Provider::None,
            base_url: String::new(),
            model: String::new(),
            api_key_env: String::new(),
            max_concurrency: 8,
            timeout_ms: 120_000,
            max_retries: 3,
            max_requests: 100,
            share_values: true,
            cache_path: "none".into(),
            batch_columns: 25,
        }
    }
}

impl LlmOptions {
    /// Parses the options object the macros build from the settings
    /// (`{"provider": ..., "model": ..., ...}`; keys without the `dataraum_llm_` prefix).
    pub fn from_json(text: &str) -> Result<LlmOptions, String> {
        let v: Json =
            serde_json::from_str(text).map_err(|e| format!("dr_annotate: options are not a JSON object: {e}"))?;
        let o = v.as_object().ok_or("dr_annotate: options must be a JSON object")?;
        let mut opts = LlmOptions::default();
        let text_of = |k: &str| {
            o.get(k).and_then(|x| match x {
                Json::String(s) => Some(s.clone()),
                Json::Null => None,
                other => Some(other.to_string()),
            })
        };
        let int_of = |k: &str| -> Result<Option<i64>, String> {
            match o.get(k) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::Number(n)) => {
                    n.as_i64().map(Some).ok_or_else(|| format!("dr_annotate: {k} must be an integer"))
                }
                Some(Json::String(s)) => {
                    s.trim().parse().map(Some).map_err(|_| format!("dr_annotate: {k} must be an integer, got {s:?}"))
                }
                Some(_) => Err(format!("dr_annotate: {k} must be an integer")),
            }
        };
        if let Some(p) = text_of("provider") {
            opts.provider = match p.trim().to_ascii_lowercase().as_str() {
                "" | "none" | "offline" | "heuristic" => Provider::None,
                "openai" => Provider::OpenAi,
                "anthropic" => Provider::Anthropic,
                other => {
                    return Err(format!(
                        "dr_annotate: unknown dataraum_llm_provider {other:?}; use 'none', 'openai' (any OpenAI-compatible server) or 'anthropic'"
                    ))
                }
            };
        }
        opts.base_url = text_of("base_url").unwrap_or_default().trim().trim_end_matches('/').to_string();
        opts.model = text_of("model").unwrap_or_default().trim().to_string();
        opts.api_key_env = text_of("api_key_env").unwrap_or_default().trim().to_string();
        let positive = |k: &str, v: Option<i64>, lo: i64, hi: i64| -> Result<Option<i64>, String> {
            match v {
                Some(x) if !(lo..=hi).contains(&x) => {
                    Err(format!("dr_annotate: dataraum_llm_{k} must be between {lo} and {hi}, got {x}"))
                }
                other => Ok(other),
            }
        };
        if let Some(x) = positive("max_concurrency", int_of("max_concurrency")?, 1, 256)? {
            opts.max_concurrency = x as usize;
        }
        if let Some(x) = positive("timeout_ms", int_of("timeout_ms")?, 1, 86_400_000)? {
            opts.timeout_ms = x as u64;
        }
        if let Some(x) = positive("max_retries", int_of("max_retries")?, 0, 20)? {
            opts.max_retries = x as u32;
        }
        if let Some(x) = positive("max_requests", int_of("max_requests")?, 0, 1_000_000)? {
            opts.max_requests = x as u64;
        }
        if let Some(x) = positive("batch_columns", int_of("batch_columns")?, 1, 1000)? {
            opts.batch_columns = x as usize;
        }
        match o.get("share_values") {
            Some(Json::Bool(b)) => opts.share_values = *b,
            Some(Json::String(s)) => {
                opts.share_values = matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
            }
            _ => {}
        }
        if let Some(p) = text_of("cache_path") {
            opts.cache_path = p.trim().to_string();
        }
        if !opts.api_key_env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            // Never echo the value: a user may have pasted the key itself.
            return Err("dr_annotate: dataraum_llm_api_key_env must be the NAME of an environment variable (letters, digits, _), not the key itself".into());
        }
        if opts.provider != Provider::None {
            if opts.model.is_empty() {
                opts.model = match opts.provider {
                    Provider::Anthropic => "claude-sonnet-4-5".into(),
                    _ => "gpt-4o-mini".into(),
                };
            }
            if opts.base_url.is_empty() {
                opts.base_url = match opts.provider {
                    Provider::Anthropic => "https://api.anthropic.com/v1".into(),
                    _ => "https://api.openai.com/v1".into(),
                };
            }
            if opts.api_key_env.is_empty() {
                opts.api_key_env = match opts.provider {
                    Provider::Anthropic => "ANTHROPIC_API_KEY".into(),
                    _ => "OPENAI_API_KEY".into(),
                };
            }
        }
        Ok(opts)
    }

    /// Provider name as used in cache keys and sources.
    pub fn provider_name(&self) -> &'static str {
        match self.provider {
            Provider::None => "none",
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }

    /// The cache file, `~` expanded; `None` when caching is off.
    pub fn cache_file(&self) -> Option<std::path::PathBuf> {
        crate::sqlite::setting_path(&self.cache_path)
    }
}

/// Replaces every occurrence of the API key in `s` (a safety net for error texts that
/// quote a server's answer).
pub fn scrub(s: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if k.len() >= 4 && s.contains(k) => s.replace(k, "***"),
        _ => s.to_string(),
    }
}

/// A stable 128-bit FNV-1a hash, hex-encoded (cache keys must not change between builds).
pub fn stable_hash(parts: &[&str]) -> String {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for p in parts {
        for b in p.as_bytes().iter().chain(std::iter::once(&0xffu8)) {
            h ^= *b as u128;
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:032x}")
}

/// The cache key of one column: provider, model, prompt version and descriptor (the table
/// name is not part of it, so identical columns in two tables share an answer).
pub fn cache_key(opts: &LlmOptions, d: &ColumnDescriptor) -> String {
    let desc = d.prompt_json(opts.share_values).to_string();
    stable_hash(&[opts.provider_name(), &opts.model, PROMPT_VERSION, &desc])
}

/// Annotates every descriptor (any number of tables), in the order given.
/// Never panics, never fails as a whole: a column that could not be annotated carries
/// its error in `status`.
pub fn annotate(descs: &[ColumnDescriptor], opts: &LlmOptions) -> Vec<Annotation> {
    annotate_watched(descs, opts, &|_, _| false)
}

/// [`annotate`], calling `watch(done, total)` about every 50 ms while the LLM answers; when it
/// returns true the open requests are cancelled (the query that waits was interrupted) and the
/// columns without an answer get status 'cancelled'.
pub fn annotate_watched(
    descs: &[ColumnDescriptor],
    opts: &LlmOptions,
    watch: &dyn Fn(usize, usize) -> bool,
) -> Vec<Annotation> {
    if opts.provider == Provider::None || descs.is_empty() {
        return descs.iter().map(|d| heuristic::annotate(d, descs)).collect();
    }
    let source = format!("llm:{}", opts.model);
    let rt = match runtime::runtime() {
        Ok(rt) => rt,
        Err(e) => return descs.iter().map(|d| Annotation::failed(d, &source, e.clone())).collect(),
    };
    let shared: Arc<Mutex<Vec<Option<Annotation>>>> = Arc::new(Mutex::new(vec![None; descs.len()]));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let deadline = Instant::now() + Duration::from_millis(opts.timeout_ms);
    let job = client::Job::new(descs.to_vec(), opts.clone(), shared.clone(), deadline);
    let handle = rt.spawn(async move {
        job.run().await;
        let _ = tx.send(());
    });
    // Wait in short steps: the loop is bounded by the deadline whatever the job does.
    let mut timed_out = false;
    let mut cancelled = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(()) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if Instant::now() >= deadline {
                    handle.abort();
                    timed_out = true;
                    break;
                }
                let done = shared.lock().map_or(0, |g| g.iter().filter(|a| a.is_some()).count());
                if watch(done, descs.len()) {
                    handle.abort();
                    cancelled = true;
                    break;
                }
            }
        }
    }
    let done = shared.lock().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone());
    descs
        .iter()
        .zip(done)
        .map(|(d, a)| {
            a.unwrap_or_else(|| {
                let why = if cancelled {
                    "cancelled: the query was interrupted; open requests were cancelled".to_string()
                } else if timed_out {
                    format!(
                        "timed out after dataraum_llm_timeout_ms = {} ms; open requests were cancelled",
                        opts.timeout_ms
                    )
                } else {
                    "not annotated (internal: the job ended without an answer for this column)".to_string()
                };
                Annotation::failed(d, &source, why)
            })
        })
        .collect()
}

/// Groups descriptor indexes by identical cache key (dedup within one query).
pub fn dedup(keys: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut order: Vec<(String, Vec<usize>)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        match at.get(k.as_str()) {
            Some(&j) => order[j].1.push(i),
            None => {
                at.insert(k.as_str(), order.len());
                order.push((k.clone(), vec![i]));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(table: &str, col: &str, ty: &str) -> ColumnDescriptor {
        ColumnDescriptor {
            table: table.into(),
            column: col.into(),
            column_type: ty.into(),
            ordinal: 0,
            stats: Map::new(),
        }
    }

    #[test]
    fn options_parse_and_default_per_provider() {
        let o = LlmOptions::from_json(
            r#"{"provider":"anthropic","max_concurrency":3,"share_values":false,"timeout_ms":"500"}"#,
        )
        .unwrap();
        assert_eq!(o.provider, Provider::Anthropic);
        assert_eq!(o.api_key_env, "ANTHROPIC_API_KEY");
        assert_eq!(o.base_url, "https://api.anthropic.com/v1");
        assert_eq!((o.max_concurrency, o.timeout_ms, o.share_values), (3, 500, false));
        assert!(LlmOptions::from_json(r#"{"provider":"gpt"}"#).unwrap_err().contains("unknown dataraum_llm_provider"));
        assert!(LlmOptions::from_json(r#"{"max_concurrency":0}"#).is_err());
        let pasted = LlmOptions::from_json(r#"{"provider":"openai","api_key_env":"sk-abc-123"}"#).unwrap_err();
        assert!(pasted.contains("NAME") && !pasted.contains("sk-abc-123"), "{pasted}");
    }

    #[test]
    fn cache_key_ignores_table_but_not_model() {
        let o = LlmOptions::from_json(r#"{"provider":"openai","model":"m1"}"#).unwrap();
        let o2 = LlmOptions::from_json(r#"{"provider":"openai","model":"m2"}"#).unwrap();
        let a = desc("t1", "x", "BIGINT");
        let b = desc("t2", "x", "BIGINT");
        assert_eq!(cache_key(&o, &a), cache_key(&o, &b));
        assert_ne!(cache_key(&o, &a), cache_key(&o2, &a));
        assert_eq!(stable_hash(&["a", "b"]).len(), 32);
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }

    #[test]
    fn dedup_groups_identical_keys() {
        let keys: Vec<String> = ["a", "b", "a", "c", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(dedup(&keys), vec![("a".into(), vec![0, 2]), ("b".into(), vec![1, 4]), ("c".into(), vec![3])]);
    }

    #[test]
    fn answers_are_validated() {
        let d = desc("t", "x", "BIGINT");
        let ok = serde_json::json!({"column_name":"x","semantic_role":"measure","confidence":1.5,"unit":""});
        let a = Annotation::from_answer(&d, &ok, "llm:m").unwrap();
        assert_eq!((a.confidence, a.unit), (Some(1.0), None));
        let bad = serde_json::json!({"column_name":"x","semantic_role":"banana"});
        assert!(Annotation::from_answer(&d, &bad, "llm:m").is_err());
    }

    #[test]
    fn scrub_removes_the_key() {
        assert_eq!(scrub("bad key sk-12345 given", Some("sk-12345")), "bad key *** given");
        assert_eq!(scrub("nothing", None), "nothing");
    }

    #[test]
    fn sample_values_withheld_unless_shared() {
        let mut d = desc("t", "name", "VARCHAR");
        d.stats.insert("min".into(), Json::from("Alice"));
        d.stats.insert("top_values".into(), serde_json::json!([{"value":"Bob"}]));
        d.stats.insert("distinct_count".into(), Json::from(3));
        let hidden = d.prompt_json(false).to_string();
        assert!(!hidden.contains("Alice") && !hidden.contains("Bob") && hidden.contains("distinct_count"));
        assert!(d.prompt_json(true).to_string().contains("Alice"));
        let mut n = desc("t", "price", "DOUBLE");
        n.stats.insert("min".into(), Json::from("1.5"));
        assert!(n.prompt_json(false).to_string().contains("1.5"));
    }
}

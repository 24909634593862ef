//! One annotation job on the background runtime: cache lookup, dedup, batching, bounded
//! concurrent requests with retries, one repair attempt, cache write-back.
//!
//! Retries: transport errors, truncated bodies, HTTP 5xx and 429 are retried up to
//! `dataraum_llm_max_retries` times with exponential backoff (250 ms · 2^attempt, capped
//! at 10 s, full jitter in [½, 1]) or exactly the server's `Retry-After`, and never past
//! the job's deadline. Every request counts against `dataraum_llm_max_requests`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::prompt::{endpoint, extract_answer, parse_answer, request_body};
use super::{cache, cache_key, dedup, scrub, Annotation, ColumnDescriptor, LlmOptions, Provider};
use crate::metrics::{self, FunctionMetrics};

/// What every batch task shares.
struct Ctx {
    descs: Vec<ColumnDescriptor>,
    opts: LlmOptions,
    shared: Arc<Mutex<Vec<Option<Annotation>>>>,
    deadline: Instant,
    http: reqwest::Client,
    permits: Semaphore,
    sent: AtomicU64,
    pool: Option<sqlx::SqlitePool>,
    metrics: &'static FunctionMetrics,
    source: String,
}

/// One annotation job (see the module comment of [`super`]).
pub struct Job {
    descs: Vec<ColumnDescriptor>,
    opts: LlmOptions,
    shared: Arc<Mutex<Vec<Option<Annotation>>>>,
    deadline: Instant,
}

impl Job {
    /// A job over `descs` whose results go to `shared` (same order).
    pub fn new(
        descs: Vec<ColumnDescriptor>,
        opts: LlmOptions,
        shared: Arc<Mutex<Vec<Option<Annotation>>>>,
        deadline: Instant,
    ) -> Job {
        Job { descs, opts, shared, deadline }
    }

    /// Runs the job to the end; results are written to the shared vector as batches finish.
    pub async fn run(self) {
        let source = format!("llm:{}", self.opts.model);
        let keys: Vec<String> = self.descs.iter().map(|d| cache_key(&self.opts, d)).collect();
        let groups = dedup(&keys);
        let metrics = metrics::for_function("dr_annotate");
        let pool = match self.opts.cache_file() {
            Some(path) => cache::open(&path).await.ok(),
            None => None,
        };
        let mut pending = Vec::new();
        let cached = match &pool {
            Some(p) => {
                cache::get_many(p, &groups.iter().map(|g| g.0.clone()).collect::<Vec<_>>()).await.unwrap_or_default()
            }
            None => Default::default(),
        };
        for (key, idx) in groups {
            let hit = cached.get(&key).and_then(|v| serde_json::from_str::<Json>(v).ok()).and_then(|v| {
                let d = &self.descs[idx[0]];
                Annotation::from_answer(d, &v, "cache").ok()
            });
            match hit {
                Some(a) => {
                    metrics.llm_cache_hits.fetch_add(idx.len() as u64, Relaxed);
                    let mut out = self.shared.lock().unwrap_or_else(|e| e.into_inner());
                    for i in idx {
                        out[i] = Some(Annotation {
                            table: self.descs[i].table.clone(),
                            column: self.descs[i].column.clone(),
                            ..a.clone()
                        });
                    }
                }
                None => pending.push((key, idx)),
            }
        }
        if pending.is_empty() {
            return;
        }
        // Batches never mix tables: the prompt names one table.
        let mut batches: Vec<Vec<(String, Vec<usize>)>> = Vec::new();
        let mut tables: Vec<&str> = Vec::new();
        for g in &pending {
            let t = self.descs[g.1[0]].table.as_str();
            if !tables.contains(&t) {
                tables.push(t);
            }
        }
        for t in tables {
            let of_table: Vec<_> = pending.iter().filter(|g| self.descs[g.1[0]].table == t).cloned().collect();
            for chunk in of_table.chunks(self.opts.batch_columns) {
                batches.push(chunk.to_vec());
            }
        }
        let http = match reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(self.opts.timeout_ms.min(10_000)))
            .pool_max_idle_per_host(self.opts.max_concurrency)
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                let mut out = self.shared.lock().unwrap_or_else(|e| e.into_inner());
                for (_, idx) in &pending {
                    for &i in idx {
                        out[i] =
                            Some(Annotation::failed(&self.descs[i], &source, format!("dr_annotate: HTTP client: {e}")));
                    }
                }
                return;
            }
        };
        let ctx = Arc::new(Ctx {
            permits: Semaphore::new(self.opts.max_concurrency),
            descs: self.descs,
            opts: self.opts,
            shared: self.shared,
            deadline: self.deadline,
            http,
            sent: AtomicU64::new(0),
            pool,
            metrics,
            source,
        });
        // Dropping the set (when this job is aborted) aborts every batch task.
        let mut set = JoinSet::new();
        for b in batches {
            set.spawn(run_batch(ctx.clone(), b));
        }
        while set.join_next().await.is_some() {}
    }
}

async fn run_batch(ctx: Arc<Ctx>, batch: Vec<(String, Vec<usize>)>) {
    let reps: Vec<&ColumnDescriptor> = batch.iter().map(|(_, idx)| &ctx.descs[idx[0]]).collect();
    let key = std::env::var(&ctx.opts.api_key_env).ok().filter(|k| !k.is_empty());
    let outcome = request_with_repair(&ctx, &reps, key.as_deref()).await;
    let mut fresh = Vec::new();
    {
        let mut out = ctx.shared.lock().unwrap_or_else(|e| e.into_inner());
        for (k, idx) in &batch {
            let d = &ctx.descs[idx[0]];
            let a = match &outcome {
                Err(e) => Annotation::failed(d, &ctx.source, scrub(e, key.as_deref())),
                Ok(answers) => match answers
                    .iter()
                    .find(|v| v.get("column_name").and_then(Json::as_str) == Some(d.column.as_str()))
                {
                    None => Annotation::failed(
                        d,
                        &ctx.source,
                        format!("the model returned no annotation for column {}", d.column),
                    ),
                    Some(v) => Annotation::from_answer(d, v, &ctx.source)
                        .unwrap_or_else(|e| Annotation::failed(d, &ctx.source, scrub(&e, key.as_deref()))),
                },
            };
            if a.status == "ok" {
                fresh.push((k.clone(), a.fields_json().to_string()));
            }
            for &i in idx {
                out[i] = Some(Annotation {
                    table: ctx.descs[i].table.clone(),
                    column: ctx.descs[i].column.clone(),
                    ..a.clone()
                });
            }
        }
    }
    if let Some(pool) = &ctx.pool {
        let _ = cache::put_many(pool, &ctx.opts.model, &fresh).await;
    }
}

/// Checks that every column of the batch has a valid answer.
fn validate(reps: &[&ColumnDescriptor], answers: &[Json]) -> Result<(), String> {
    for d in reps {
        match answers.iter().find(|v| v.get("column_name").and_then(Json::as_str) == Some(d.column.as_str())) {
            None => return Err(format!("column {} is missing", d.column)),
            Some(v) => {
                Annotation::from_answer(d, v, "")?;
            }
        }
    }
    Ok(())
}

async fn request_with_repair(ctx: &Ctx, reps: &[&ColumnDescriptor], key: Option<&str>) -> Result<Vec<Json>, String> {
    let text = send(ctx, &request_body(reps, &ctx.opts, None), key).await?;
    let why = match parse_answer(&text) {
        Ok(answers) => match validate(reps, &answers) {
            Ok(()) => return Ok(answers),
            Err(why) => why,
        },
        Err(why) => why,
    };
    let text2 = send(ctx, &request_body(reps, &ctx.opts, Some((&text, &why))), key).await?;
    // After the one repair, keep whatever columns are valid (partial success).
    parse_answer(&text2).map_err(|w| format!("invalid answer after one repair attempt: {w}"))
}

enum Attempt {
    Done(String),
    Retry(String, Option<Duration>),
    Fail(String),
}

fn jitter() -> f64 {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let mut x = n as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    0.5 + (x % 1000) as f64 / 2000.0
}

/// Sends one request body with retries; returns the model's answer text.
async fn send(ctx: &Ctx, body: &Json, key: Option<&str>) -> Result<String, String> {
    let url = endpoint(&ctx.opts);
    let mut last = String::new();
    for attempt in 0..=ctx.opts.max_retries {
        let remaining = ctx.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!(
                "timed out after dataraum_llm_timeout_ms = {} ms{}",
                ctx.opts.timeout_ms,
                suffix(&last)
            ));
        }
        let outcome = {
            let _permit = ctx.permits.acquire().await.map_err(|e| e.to_string())?;
            if ctx.sent.fetch_add(1, Relaxed) >= ctx.opts.max_requests {
                return Err(format!(
                    "dataraum_llm_max_requests = {} reached in this query; raise it to annotate more columns{}",
                    ctx.opts.max_requests,
                    suffix(&last)
                ));
            }
            let remaining = ctx.deadline.saturating_duration_since(Instant::now());
            ctx.metrics.llm_requests.fetch_add(1, Relaxed);
            if attempt > 0 {
                ctx.metrics.llm_retries.fetch_add(1, Relaxed);
            }
            let mut req = ctx.http.post(&url).timeout(remaining.max(Duration::from_millis(1))).json(body);
            match (ctx.opts.provider, key) {
                (Provider::Anthropic, k) => {
                    req = req.header("anthropic-version", "2023-06-01");
                    if let Some(k) = k {
                        req = req.header("x-api-key", k);
                    }
                }
                (_, Some(k)) => req = req.bearer_auth(k),
                _ => {}
            }
            let start = Instant::now();
            let a = one_attempt(ctx, req).await;
            ctx.metrics.llm_latency_ms.fetch_add(start.elapsed().as_millis() as u64, Relaxed);
            a
        };
        match outcome {
            Attempt::Done(text) => return Ok(text),
            Attempt::Fail(e) => return Err(e),
            Attempt::Retry(e, retry_after) => {
                last = e;
                if attempt == ctx.opts.max_retries {
                    break;
                }
                let backoff = retry_after.unwrap_or_else(|| {
                    let base =
                        Duration::from_millis(250).saturating_mul(1u32 << attempt.min(6)).min(Duration::from_secs(10));
                    base.mul_f64(jitter())
                });
                let remaining = ctx.deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(backoff.min(remaining)).await;
            }
        }
    }
    Err(format!("{last} (gave up after {} retries)", ctx.opts.max_retries))
}

fn suffix(last: &str) -> String {
    if last.is_empty() {
        String::new()
    } else {
        format!(" (last error: {last})")
    }
}

async fn one_attempt(ctx: &Ctx, req: reqwest::RequestBuilder) -> Attempt {
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_timeout() {
                "request timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "request failed"
            };
            return Attempt::Retry(format!("{what}: {}", e.without_url()), None);
        }
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(60.0)));
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => {
            return Attempt::Retry(
                format!("HTTP {}: reading the response failed: {}", status.as_u16(), e.without_url()),
                None,
            )
        }
    };
    if status.is_success() {
        let envelope: Json = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return Attempt::Retry(format!("the response is not JSON ({e})"), None),
        };
        return match extract_answer(ctx.opts.provider, &envelope) {
            Ok((answer, tokens)) => {
                ctx.metrics.llm_tokens.fetch_add(tokens, Relaxed);
                Attempt::Done(answer)
            }
            Err(e) => Attempt::Retry(e, None),
        };
    }
    let snippet: String = text.chars().take(200).collect();
    let code = status.as_u16();
    if code == 429 || code == 503 {
        return Attempt::Retry(format!("HTTP {code} (rate limited): {snippet}"), retry_after);
    }
    if status.is_server_error() {
        return Attempt::Retry(format!("HTTP {code}: {snippet}"), None);
    }
    let hint = if code == 401 || code == 403 {
        format!(" (is the environment variable {} set to a valid key?)", ctx.opts.api_key_env)
    } else {
        String::new()
    };
    Attempt::Fail(format!("HTTP {code} from {}: {snippet}{hint}", endpoint(&ctx.opts)))
}

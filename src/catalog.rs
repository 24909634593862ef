//! The context catalog: `table_context` documents stored with their timestamps in one
//! SQLite file (setting `dataraum_catalog`), listed by `context_history` and compared by
//! `context_diff`.
//!
//! **Drift, and the tests behind it** (between the last two documents of a table):
//! - schema: columns added or removed, declared or inferred type changed;
//! - `row_count`: drift at a relative change of 10 % or more;
//! - `null_ratio`: two-proportion z-test on NULL counts; drift when p < 0.001 and the
//!   ratio moved by at least 0.01;
//! - `distinct_count`: drift at a relative change of 20 % or more;
//! - `mean` (numeric columns): Welch's two-sample test on mean, standard deviation and
//!   non-NULL count (normal approximation of t); drift when p < 0.001 and the mean moved
//!   by at least 0.1 pooled standard deviations (a large table makes every shift
//!   "significant"; the effect size keeps the flag meaningful);
//! - `top_values` (columns without a mean): total variation distance between the shares
//!   of the top values (values missing from one side count as share 0 — a lower bound of
//!   the full distance); drift at 0.1 or more.

use serde_json::Value as Json;

use crate::kernels::correlation::special::normal_two_sided;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS context_documents (id INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, \
     generated_at TEXT NOT NULL, context_version INTEGER, extension_version TEXT, document TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS context_documents_table ON context_documents (table_name, id)",
];

/// One stored document.
#[derive(Debug, Clone)]
pub struct Entry {
    /// 1, 2, ... per table, in storage order
    pub version: i64,
    /// table name as given to `table_context`
    pub table_name: String,
    /// the document's `generated.timestamp`
    pub generated_at: String,
    /// `context_version`
    pub context_version: Option<i64>,
    /// row count in the document
    pub row_count: Option<i64>,
    /// column count in the document
    pub column_count: Option<i64>,
    /// the document
    pub document: String,
}

fn block_on<F: std::future::Future<Output = Result<T, String>>, T>(f: F) -> Result<T, String> {
    crate::llm::runtime::runtime()?.block_on(f)
}

/// Stores `document` for `table` in the catalog file `path`.
pub fn store(path: &std::path::Path, table: &str, document: &str) -> Result<(), String> {
    let doc: Json = serde_json::from_str(document).map_err(|e| format!("not a JSON document: {e}"))?;
    let generated = doc.pointer("/generated/timestamp").and_then(Json::as_str).unwrap_or("").to_string();
    let version = doc.get("context_version").and_then(Json::as_i64);
    let ext = doc.pointer("/generated/extension_version").and_then(Json::as_str).map(str::to_string);
    block_on(async {
        let pool = crate::sqlite::open(path, "catalog", SCHEMA).await?;
        sqlx::query(
            "INSERT INTO context_documents (table_name, generated_at, context_version, extension_version, document) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(table)
        .bind(&generated)
        .bind(version)
        .bind(ext)
        .bind(document)
        .execute(&pool)
        .await
        .map_err(|e| format!("catalog {}: {e}", path.display()))?;
        Ok(())
    })
}

/// Every stored document of `table`, oldest first.
pub fn history(path: &std::path::Path, table: &str) -> Result<Vec<Entry>, String> {
    use sqlx::Row;
    if !path.exists() {
        return Ok(Vec::new());
    }
    let rows = block_on(async {
        let pool = crate::sqlite::open(path, "catalog", SCHEMA).await?;
        sqlx::query("SELECT table_name, generated_at, context_version, document FROM context_documents WHERE table_name = ? ORDER BY id")
            .bind(table)
            .fetch_all(&pool)
            .await
            .map_err(|e| format!("catalog {}: {e}", path.display()))
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let document: String = r.try_get(3).map_err(|e| e.to_string())?;
        let doc: Json = serde_json::from_str(&document).unwrap_or(Json::Null);
        out.push(Entry {
            version: i as i64 + 1,
            table_name: r.try_get(0).map_err(|e| e.to_string())?,
            generated_at: r.try_get(1).map_err(|e| e.to_string())?,
            context_version: r.try_get(2).ok(),
            row_count: doc.pointer("/table/row_count").and_then(Json::as_i64),
            column_count: doc.pointer("/table/column_count").and_then(Json::as_i64),
            document,
        });
    }
    Ok(out)
}

/// One difference between two documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `schema`, `volume`, `nulls`, `cardinality`, `distribution`
    pub kind: &'static str,
    /// column, or `None` for the table
    pub column: Option<String>,
    /// what was compared
    pub metric: String,
    /// earlier value (rendered)
    pub before: Option<String>,
    /// later value (rendered)
    pub after: Option<String>,
    /// test statistic, when there is a test
    pub statistic: Option<f64>,
    /// its p-value
    pub p_value: Option<f64>,
    /// whether the change counts as drift under the stated rule
    pub drift: bool,
    /// the rule or test, in words
    pub detail: String,
}

fn render(v: Option<&Json>) -> Option<String> {
    match v {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(x) => Some(x.to_string()),
    }
}

fn f(v: &Json, p: &str) -> Option<f64> {
    v.pointer(p).and_then(Json::as_f64)
}

/// Compares `before` with `after` (two `table_context` documents of one table).
pub fn diff(before: &Json, after: &Json) -> Vec<Change> {
    let mut out = Vec::new();
    let rows = |d: &Json| f(d, "/table/row_count");
    let (n_before, n_after) = (rows(before), rows(after));
    if let (Some(a), Some(b)) = (n_before, n_after) {
        let rel = (b - a).abs() / a.max(b).max(1.0);
        out.push(Change {
            kind: "volume",
            column: None,
            metric: "row_count".into(),
            before: Some(format!("{a}")),
            after: Some(format!("{b}")),
            statistic: Some(rel),
            p_value: None,
            drift: rel >= 0.1,
            detail: format!("relative change {:.1}% (drift at 10%)", 100.0 * rel),
        });
    }
    let cols = |d: &Json| -> Vec<(String, Json)> {
        d.get("columns")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter().filter_map(|c| Some((c.get("name")?.as_str()?.to_string(), c.clone()))).collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let (cb, ca) = (cols(before), cols(after));
    for (name, _) in &cb {
        if !ca.iter().any(|(n, _)| n == name) {
            out.push(schema_change(name, "column_removed", Some(name.clone()), None));
        }
    }
    for (name, c) in &ca {
        let Some((_, p)) = cb.iter().find(|(n, _)| n == name) else {
            out.push(schema_change(name, "column_added", None, render(c.get("declared_type"))));
            continue;
        };
        for (metric, ptr) in [("declared_type", "/declared_type"), ("inferred_type", "/inferred/type")] {
            let (x, y) = (render(p.pointer(ptr)), render(c.pointer(ptr)));
            if x != y {
                out.push(schema_change(name, metric, x, y));
            }
        }
        out.extend(column_drift(name, (p, n_before), (c, n_after)));
    }
    out
}

fn schema_change(column: &str, metric: &str, before: Option<String>, after: Option<String>) -> Change {
    Change {
        kind: "schema",
        column: Some(column.to_string()),
        metric: metric.into(),
        before,
        after,
        statistic: None,
        p_value: None,
        drift: true,
        detail: match metric {
            "column_added" => "a column was added".to_string(),
            "column_removed" => "a column was removed".to_string(),
            m => format!("{} changed", m.replace('_', " ")),
        },
    }
}

/// Drift of one column between two documents, each given with its table's row count.
fn column_drift(name: &str, (p, n1): (&Json, Option<f64>), (c, n2): (&Json, Option<f64>)) -> Vec<Change> {
    let mut out = Vec::new();
    let col = Some(name.to_string());
    // NULL ratio: two-proportion z-test.
    if let (Some(r1), Some(r2)) = (f(p, "/stats/null_ratio"), f(c, "/stats/null_ratio")) {
        let (z, pv) = match (n1, n2) {
            (Some(n1), Some(n2)) if n1 > 0.0 && n2 > 0.0 => {
                let pooled = (r1 * n1 + r2 * n2) / (n1 + n2);
                let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
                if se > 0.0 {
                    let z = (r2 - r1) / se;
                    (Some(z), Some(normal_two_sided(z)))
                } else {
                    (Some(0.0), Some(if r1 == r2 { 1.0 } else { 0.0 }))
                }
            }
            _ => (None, None),
        };
        out.push(Change {
            kind: "nulls",
            column: col.clone(),
            metric: "null_ratio".into(),
            before: Some(format!("{r1}")),
            after: Some(format!("{r2}")),
            statistic: z,
            p_value: pv,
            drift: pv.is_some_and(|p| p < 0.001) && (r2 - r1).abs() >= 0.01,
            detail: "two-proportion z-test; drift when p < 0.001 and the ratio moved by >= 0.01".into(),
        });
    }
    if let (Some(d1), Some(d2)) = (f(p, "/stats/distinct_count"), f(c, "/stats/distinct_count")) {
        let rel = (d2 - d1).abs() / d1.max(d2).max(1.0);
        out.push(Change {
            kind: "cardinality",
            column: col.clone(),
            metric: "distinct_count".into(),
            before: Some(format!("{d1}")),
            after: Some(format!("{d2}")),
            statistic: Some(rel),
            p_value: None,
            drift: rel >= 0.2,
            detail: format!("relative change {:.1}% (drift at 20%)", 100.0 * rel),
        });
    }
    let moments = |d: &Json, n: Option<f64>| {
        Some((f(d, "/stats/mean")?, f(d, "/stats/stddev")?, n? - f(d, "/stats/null_count")?))
    };
    if let (Some((m1, s1, n1)), Some((m2, s2, n2))) = (moments(p, n1), moments(c, n2)) {
        let se = (s1 * s1 / n1.max(1.0) + s2 * s2 / n2.max(1.0)).sqrt();
        let pooled = ((s1 * s1 + s2 * s2) / 2.0).sqrt();
        let (t, pv) = if se > 0.0 {
            let t = (m2 - m1) / se;
            (t, normal_two_sided(t))
        } else {
            (0.0, if m1 == m2 { 1.0 } else { 0.0 })
        };
        let effect = if pooled > 0.0 { (m2 - m1).abs() / pooled } else { f64::from(m1 != m2) };
        out.push(Change {
            kind: "distribution",
            column: col.clone(),
            metric: "mean".into(),
            before: Some(format!("{m1}")),
            after: Some(format!("{m2}")),
            statistic: Some(t),
            p_value: Some(pv),
            drift: pv < 0.001 && effect >= 0.1,
            detail: format!(
                "Welch two-sample test (normal approximation); effect {effect:.3} pooled SD; drift when p < 0.001 and effect >= 0.1"
            ),
        });
    } else if let (Some(t1), Some(t2)) = (
        p.pointer("/stats/top_values").and_then(Json::as_array),
        c.pointer("/stats/top_values").and_then(Json::as_array),
    ) {
        let shares = |a: &Vec<Json>| -> Vec<(String, f64)> {
            a.iter().filter_map(|t| Some((render(t.get("value"))?, t.get("share")?.as_f64()?))).collect()
        };
        let (s1, s2) = (shares(t1), shares(t2));
        let mut keys: Vec<&String> = s1.iter().chain(&s2).map(|x| &x.0).collect();
        keys.sort();
        keys.dedup();
        let get = |s: &[(String, f64)], k: &String| s.iter().find(|x| &x.0 == k).map_or(0.0, |x| x.1);
        let tvd = 0.5 * keys.iter().map(|k| (get(&s1, k) - get(&s2, k)).abs()).sum::<f64>();
        out.push(Change {
            kind: "distribution",
            column: col,
            metric: "top_values".into(),
            before: Some(s1.iter().map(|x| format!("{} {:.3}", x.0, x.1)).collect::<Vec<_>>().join(", ")),
            after: Some(s2.iter().map(|x| format!("{} {:.3}", x.0, x.1)).collect::<Vec<_>>().join(", ")),
            statistic: Some(tvd),
            p_value: None,
            drift: tvd >= 0.1,
            detail: "total variation distance of the top-value shares (lower bound); drift at 0.1".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(rows: i64, cols: Json) -> Json {
        json!({"context_version": 1, "table": {"row_count": rows}, "columns": cols})
    }

    #[test]
    fn schema_changes_and_drift() {
        let a = doc(
            10_000,
            json!([
                {"name": "id", "declared_type": "BIGINT", "inferred": {"type": "BIGINT"},
                 "stats": {"null_count": 0, "null_ratio": 0.0, "distinct_count": 10000, "mean": 5000.0, "stddev": 2887.0}},
                {"name": "amount", "declared_type": "DOUBLE", "inferred": {"type": "DOUBLE"},
                 "stats": {"null_count": 100, "null_ratio": 0.01, "distinct_count": 900, "mean": 10.0, "stddev": 2.0}},
                {"name": "city", "declared_type": "VARCHAR", "inferred": {"type": "VARCHAR"},
                 "stats": {"null_count": 0, "null_ratio": 0.0, "distinct_count": 3,
                           "top_values": [{"value": "a", "share": 0.5}, {"value": "b", "share": 0.3}, {"value": "c", "share": 0.2}]}},
                {"name": "gone", "declared_type": "INTEGER", "inferred": {"type": "INTEGER"}, "stats": {}}
            ]),
        );
        let b = doc(
            10_500,
            json!([
                {"name": "id", "declared_type": "BIGINT", "inferred": {"type": "BIGINT"},
                 "stats": {"null_count": 0, "null_ratio": 0.0, "distinct_count": 10500, "mean": 5250.0, "stddev": 3031.0}},
                {"name": "amount", "declared_type": "DOUBLE", "inferred": {"type": "DOUBLE"},
                 "stats": {"null_count": 1050, "null_ratio": 0.1, "distinct_count": 950, "mean": 12.0, "stddev": 2.0}},
                {"name": "city", "declared_type": "VARCHAR", "inferred": {"type": "VARCHAR"},
                 "stats": {"null_count": 0, "null_ratio": 0.0, "distinct_count": 3,
                           "top_values": [{"value": "a", "share": 0.2}, {"value": "b", "share": 0.3}, {"value": "c", "share": 0.5}]}},
                {"name": "new", "declared_type": "DATE", "inferred": {"type": "DATE"}, "stats": {}}
            ]),
        );
        let d = diff(&a, &b);
        let find = |c: Option<&str>, m: &str| d.iter().find(|x| x.column.as_deref() == c && x.metric == m).cloned();
        assert!(find(Some("gone"), "column_removed").is_some());
        assert_eq!(find(Some("new"), "column_added").unwrap().after.as_deref(), Some("DATE"));
        let rows = find(None, "row_count").unwrap();
        assert!(!rows.drift, "5% growth is not drift");
        let nulls = find(Some("amount"), "null_ratio").unwrap();
        assert!(nulls.drift && nulls.p_value.unwrap() < 1e-10);
        // z from the two-proportion formula by hand
        let pooled: f64 = (0.01 * 10000.0 + 0.1 * 10500.0) / 20500.0;
        let z = 0.09 / (pooled * (1.0 - pooled) * (1.0 / 10000.0 + 1.0 / 10500.0)).sqrt();
        assert!((nulls.statistic.unwrap() - z).abs() < 1e-9);
        let mean = find(Some("amount"), "mean").unwrap();
        assert!(mean.drift, "{mean:?}");
        let t = 2.0 / (4.0 / 9900.0 + 4.0 / 9450.0f64).sqrt();
        assert!((mean.statistic.unwrap() - t).abs() < 1e-9);
        let id_mean = find(Some("id"), "mean").unwrap();
        assert!(!id_mean.drift, "a growing id shifts by < 0.1 SD: {id_mean:?}");
        let city = find(Some("city"), "top_values").unwrap();
        assert!((city.statistic.unwrap() - 0.3).abs() < 1e-12 && city.drift);
        assert!(!find(Some("id"), "null_ratio").unwrap().drift);
    }

    #[test]
    fn identical_documents_have_no_drift() {
        let a = doc(
            100,
            json!([{"name": "x", "declared_type": "DOUBLE", "inferred": {"type": "DOUBLE"},
                    "stats": {"null_count": 5, "null_ratio": 0.05, "distinct_count": 90, "mean": 1.0, "stddev": 0.5}}]),
        );
        assert!(diff(&a, &a).iter().all(|c| !c.drift));
    }

    #[test]
    fn store_and_history_in_a_fresh_file() {
        let dir = std::env::temp_dir().join(format!("dataraum-catalog-test-{}", std::process::id()));
        let path = dir.join("catalog.sqlite");
        let _ = std::fs::remove_file(&path);
        assert!(history(&path, "t").unwrap().is_empty());
        store(&path, "t", r#"{"context_version": 1, "table": {"row_count": 3, "column_count": 1}, "generated": {"timestamp": "2026-01-01T00:00:00"}}"#).unwrap();
        store(&path, "t", r#"{"context_version": 1, "table": {"row_count": 4, "column_count": 1}, "generated": {"timestamp": "2026-01-02T00:00:00"}}"#).unwrap();
        store(&path, "u", r#"{"context_version": 1}"#).unwrap();
        let h = history(&path, "t").unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].version, h[1].row_count), (1, Some(4)));
        assert_eq!(h[1].generated_at, "2026-01-02T00:00:00");
        assert!(store(&path, "t", "not json").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! `dr_context_markdown(doc, max_tokens)`: renders a `table_context` JSON document as
//! compact Markdown for an LLM prompt, within a token budget (4 characters ≈ 1 token).
//!
//! Detail is dropped in a fixed, documented order until the text fits: 1. topology,
//! 2. dependencies other than keys, 3. correlations, 4. top values, 5. quantiles,
//! 6. per-column descriptions; if the bare column list still does not fit, trailing
//! columns are omitted and the text says how many.

use serde_json::Value as Json;

use crate::ffi::entry::Registrar;
use crate::ffi::{Args, FnResult, Scalar, ScalarSpec, Setting, SettingDefault, Ty, Value};
use crate::registry::{FunctionDoc, Kind};

fn s(v: &Json) -> String {
    match v {
        Json::Null => "NULL".into(),
        Json::String(x) => x.clone(),
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 && f.abs() < 1e15 => format!("{}", (f * 1e4).round() / 1e4),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Renders the document at a detail level (0 = everything, 6 = bare columns), listing
/// at most `max_columns` columns.
fn render(doc: &Json, level: u8, max_columns: usize) -> String {
    let mut out = String::new();
    let t = &doc["table"];
    out.push_str(&format!(
        "# Table `{}`: {} rows x {} columns ({}",
        s(&t["name"]),
        s(&t["row_count"]),
        s(&t["column_count"]),
        s(&t["kind"])
    ));
    if let Some(g) = t["grain"].as_array().filter(|g| !g.is_empty()) {
        out.push_str(&format!("; grain: {}", g.iter().map(s).collect::<Vec<_>>().join(", ")));
    }
    if !t["time_column"].is_null() {
        out.push_str(&format!("; time column: {}", s(&t["time_column"])));
    }
    out.push_str(")\n");
    if !t["description"].is_null() {
        out.push_str(&format!("{}\n", s(&t["description"])));
    }
    out.push_str("\n## Columns\n");
    let cols = doc["columns"].as_array().cloned().unwrap_or_default();
    for c in cols.iter().take(max_columns) {
        let inf = &c["inferred"];
        let sem = &c["semantics"];
        let st = &c["stats"];
        let mut line = format!("- **{}** {}", s(&c["name"]), s(&c["declared_type"]));
        if !inf["type"].is_null() && inf["type"] != c["declared_type"] {
            line.push_str(&format!(" -> {}", s(&inf["type"])));
            if !inf["format"].is_null() {
                line.push_str(&format!(" `{}`", s(&inf["format"])));
            }
        }
        line.push_str(&format!(" ({}", s(&sem["role"])));
        if !inf["semantic_type"].is_null() {
            line.push_str(&format!(", {}", s(&inf["semantic_type"])));
        }
        line.push(')');
        if level < 6 && !sem["description"].is_null() {
            line.push_str(&format!(": {}", s(&sem["description"])));
        }
        let nr = st["null_ratio"].as_f64().unwrap_or(0.0);
        line.push_str(&format!(
            " nulls {:.1}%, {}{} distinct",
            nr * 100.0,
            if st["distinct_is_exact"] == Json::Bool(false) { "~" } else { "" },
            s(&st["distinct_count"])
        ));
        if !st["min"].is_null() {
            line.push_str(&format!(", range {} .. {}", s(&st["min"]), s(&st["max"])));
        }
        if level < 5 {
            if let Some(q) = st["quantiles"].as_object() {
                line.push_str(&format!(", p25/p50/p75 {}/{}/{}", s(&q["p25"]), s(&q["p50"]), s(&q["p75"])));
            }
        }
        if level < 4 {
            if let Some(top) = st["top_values"].as_array().filter(|t| !t.is_empty()) {
                let shown: Vec<String> = top
                    .iter()
                    .take(3)
                    .map(|v| format!("{} ({:.0}%)", s(&v["value"]), v["share"].as_f64().unwrap_or(0.0) * 100.0))
                    .collect();
                line.push_str(&format!(", top: {}", shown.join(", ")));
            }
        }
        if let Some(flags) = c["quality_flags"].as_array().filter(|f| !f.is_empty()) {
            let f: Vec<String> = flags.iter().map(|f| format!("{} ({})", s(&f["flag"]), s(&f["detail"]))).collect();
            line.push_str(&format!(". FLAGS: {}", f.join("; ")));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if cols.len() > max_columns {
        out.push_str(&format!("- ... {} more columns omitted to fit the token budget\n", cols.len() - max_columns));
    }
    let deps = doc["dependencies"].as_array().cloned().unwrap_or_default();
    let keys: Vec<&Json> = deps.iter().filter(|d| d["kind"] == "candidate_key").collect();
    let others: Vec<&Json> = deps.iter().filter(|d| d["kind"] != "candidate_key").collect();
    let shown: Vec<&Json> = if level < 2 { keys.iter().chain(others.iter()).copied().collect() } else { keys };
    if !shown.is_empty() {
        out.push_str("\n## Keys and dependencies\n");
        for d in shown {
            let det: Vec<String> = d["determinant"].as_array().map(|a| a.iter().map(s).collect()).unwrap_or_default();
            let mut line = format!("- {}: ({})", s(&d["kind"]), det.join(", "));
            if !d["dependent"].is_null() {
                line.push_str(&format!(" -> {}", s(&d["dependent"])));
            }
            if !d["expression"].is_null() {
                line.push_str(&format!(" `{}`", s(&d["expression"])));
            }
            line.push_str(&format!(", confidence {}", s(&d["confidence"])));
            out.push_str(&line);
            out.push('\n');
        }
    }
    if let Some(rs) = doc["relationships"].as_array().filter(|r| !r.is_empty()) {
        out.push_str("\n## Relationships\n");
        for r in rs {
            out.push_str(&format!(
                "- {}.{} -> {}.{} ({}, {:.1}% orphan rows)\n",
                s(&r["from_table"]),
                s(&r["from_column"]),
                s(&r["to_table"]),
                s(&r["to_column"]),
                s(&r["cardinality"]),
                100.0 * r["orphan_rate"].as_f64().unwrap_or(0.0)
            ));
        }
    }
    if level < 3 {
        if let Some(cs) = doc["correlations"].as_array().filter(|c| !c.is_empty()) {
            out.push_str("\n## Strongest correlations\n");
            for c in cs {
                out.push_str(&format!(
                    "- {} ~ {}: {} {} ({}{})\n",
                    s(&c["column_a"]),
                    s(&c["column_b"]),
                    s(&c["method"]),
                    s(&c["value"]),
                    s(&c["strength"]),
                    if c["sampled"] == Json::Bool(true) { ", sampled" } else { "" }
                ));
            }
        }
    }
    if level < 1 && !doc["topology"].is_null() {
        let t = &doc["topology"];
        out.push_str(&format!(
            "\n## Topology (standardized numeric rows, sampled)\nBetti numbers {} above persistence {}, persistent entropy {}\n",
            s(&t["betti_numbers"]),
            s(&t["min_persistence"]),
            s(&t["persistent_entropy"])
        ));
    }
    out
}

/// The most detailed rendering that fits `max_chars`.
pub fn markdown(doc: &Json, max_chars: usize) -> String {
    let n = doc["columns"].as_array().map_or(0, Vec::len);
    for level in 0..=6 {
        let text = render(doc, level, n);
        if text.len() <= max_chars {
            return text;
        }
    }
    let mut k = n;
    while k > 0 {
        k /= 2;
        let text = render(doc, 6, k);
        if text.len() <= max_chars || k == 0 {
            return text;
        }
    }
    render(doc, 6, 0)
}

struct ContextMarkdown;

impl Scalar for ContextMarkdown {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let text = args.str_at(0, row).unwrap_or_default();
        let tokens = if args.len() > 1 { args.column(1).f64_at(row).unwrap_or(2000.0) } else { 2000.0 };
        render_markdown(&text, tokens).map(Value::Text)
    }
}

fn render_markdown(text: &str, tokens: f64) -> FnResult<String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("not a table_context document: {e}"))?;
    if doc.get("context_version").is_none() {
        return Err("not a table_context document (no context_version); pass table_context(tbl)".into());
    }
    if tokens < 50.0 {
        return Err(format!("max_tokens must be at least 50, got {tokens}"));
    }
    Ok(markdown(&doc, tokens as usize * 4))
}

/// `dr_context_format(doc, format, max_tokens)`: what `table_context(tbl, format := ...)`
/// returns. The result is typed JSON either way (a macro has one result type); with
/// `markdown` its text is the Markdown rendering.
struct ContextFormat;

impl Scalar for ContextFormat {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let text = args.str_at(0, row).unwrap_or_default();
        match args.str_at(1, row).unwrap_or_else(|| "json".into()).to_ascii_lowercase().as_str() {
            "json" => Ok(Value::Text(text)),
            "markdown" | "md" => render_markdown(&text, args.column(2).f64_at(row).unwrap_or(2000.0)).map(Value::Text),
            "dbt" => {
                let at = |i: usize| if args.len() > i { args.str_at(i, row) } else { None };
                let o = crate::functions::dbt::DbtOptions {
                    source_name: None,
                    schema: at(3).unwrap_or_else(|| "main".into()),
                    database: None,
                    keywords: crate::functions::dbt::keywords(&at(4).unwrap_or_default()),
                };
                crate::functions::dbt::render_one(&text, &o).map(Value::Text)
            }
            other => Err(format!("format must be 'json', 'markdown' or 'dbt', got '{other}'")),
        }
    }
}

/// Documentation of `dr_context_format`.
pub const FORMAT_DOC: FunctionDoc = FunctionDoc {
    name: "dr_context_format",
    kind: Kind::Scalar,
    parameters: "doc JSON, format VARCHAR, max_tokens BIGINT [, schema VARCHAR, keywords VARCHAR]",
    returns: "JSON",
    description: "table_context's output step: the document itself for format 'json', its Markdown rendering (as dr_context_markdown, within max_tokens) for 'markdown', its dbt sources YAML (as dr_context_dbt, source and schema = schema, keywords quoted as names) for 'dbt'; the result stays typed JSON (a macro has one result type), use table_context_markdown or dbt_sources for VARCHAR.",
    example: "SELECT dr_context_format('{\"context_version\": 1, \"table\": {\"name\": \"t\", \"row_count\": 3, \"column_count\": 0, \"kind\": \"dimension\"}, \"columns\": []}', 'markdown', 200);",
};

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_context_markdown",
    kind: Kind::Scalar,
    parameters: "doc JSON [, max_tokens BIGINT]",
    returns: "VARCHAR",
    description: "Renders a table_context document as compact Markdown within max_tokens (about 4 characters per token, default 2000), dropping topology, non-key dependencies, correlations, top values, quantiles and descriptions, in that order, until it fits.",
    example: "SELECT dr_context_markdown('{\"context_version\": 1, \"table\": {\"name\": \"t\", \"row_count\": 3, \"column_count\": 0, \"kind\": \"dimension\"}, \"columns\": []}', 200);",
};

/// Thresholds of the quality flags in `table_context`.
pub fn settings() -> Vec<Setting> {
    vec![
        Setting {
            name: "dataraum_quality_null_ratio",
            default: SettingDefault::Double(0.5),
            description: "table_context flags a column high_null_ratio at this NULL share or above",
        },
        Setting {
            name: "dataraum_quality_near_unique",
            default: SettingDefault::Double(0.95),
            description: "table_context flags a text column near_unique_text at this distinct/non-null ratio or above",
        },
        Setting {
            name: "dataraum_quality_outlier_share",
            default: SettingDefault::Double(0.05),
            description: "table_context flags outliers when the IQR or modified-z outlier share exceeds this",
        },
        Setting {
            name: "dataraum_quality_parse_rate",
            default: SettingDefault::Double(0.95),
            description: "table_context flags low_parse_rate when a text column converts below this share",
        },
    ]
}

/// Registers `dr_context_markdown`.
pub fn register(r: &mut Registrar) {
    r.scalar::<ContextMarkdown>(ScalarSpec {
        name: DOC.name,
        overloads: vec![vec![Ty::Varchar], vec![Ty::Varchar, Ty::BigInt]],
        return_type: Ty::Varchar,
        special_nulls: false,
        volatile: false,
    });
    r.scalar::<ContextFormat>(ScalarSpec {
        name: FORMAT_DOC.name,
        overloads: vec![
            vec![Ty::Varchar, Ty::Varchar, Ty::BigInt],
            vec![Ty::Varchar, Ty::Varchar, Ty::BigInt, Ty::Varchar, Ty::Varchar],
        ],
        return_type: Ty::Json,
        special_nulls: false,
        volatile: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Json {
        serde_json::json!({
            "context_version": 1,
            "table": {"name": "t", "row_count": 10, "column_count": 2, "kind": "fact", "grain": ["id"], "time_column": null, "description": "A table."},
            "columns": [
                {"name": "id", "declared_type": "BIGINT", "inferred": {"type": "BIGINT"}, "semantics": {"role": "key", "description": "Row id."},
                 "stats": {"null_ratio": 0.0, "distinct_count": 10, "distinct_is_exact": true, "min": "1", "max": "10",
                           "quantiles": {"p25": 3.25, "p50": 5.5, "p75": 7.75}, "top_values": [{"value": "1", "share": 0.1}]}, "quality_flags": []},
                {"name": "amount", "declared_type": "DOUBLE", "inferred": {"type": "DOUBLE"}, "semantics": {"role": "measure", "description": "Money."},
                 "stats": {"null_ratio": 0.5, "distinct_count": 5, "distinct_is_exact": true, "min": "1.0", "max": "9.0"},
                 "quality_flags": [{"flag": "high_null_ratio", "detail": "5 of 10 values are NULL"}]}
            ],
            "correlations": [{"column_a": "id", "column_b": "amount", "method": "pearson", "value": 0.9, "strength": "very_strong", "sampled": false}],
            "dependencies": [{"kind": "candidate_key", "determinant": ["id"], "dependent": null, "confidence": 1.0}],
            "topology": {"betti_numbers": [1, 0], "min_persistence": 0.5, "persistent_entropy": 1.2}
        })
    }

    #[test]
    fn full_detail_when_it_fits() {
        let m = markdown(&doc(), 100_000);
        assert!(m.contains("# Table `t`: 10 rows x 2 columns (fact; grain: id)"));
        assert!(m.contains("FLAGS: high_null_ratio (5 of 10 values are NULL)"));
        assert!(m.contains("## Strongest correlations") && m.contains("## Topology"));
        assert!(m.contains("p25/p50/p75 3.25/5.5/7.75"));
    }

    #[test]
    fn detail_is_dropped_in_order_to_fit() {
        let full = markdown(&doc(), 100_000);
        let no_topo = render(&doc(), 1, 2);
        let m = markdown(&doc(), no_topo.len());
        assert!(!m.contains("## Topology") && m.contains("## Strongest correlations"));
        assert!(m.len() < full.len());
        let bare = markdown(&doc(), render(&doc(), 6, 2).len());
        assert!(!bare.contains("Row id.") && bare.contains("**amount**") && bare.contains("FLAGS"));
        let tiny = markdown(&doc(), 120);
        assert!(tiny.contains("more columns omitted"));
    }
}

//! `dr_context_dbt(docs, relationships, source_name, schema, database, keywords)`: renders
//! `table_context` documents as a dbt sources property file (dbt-core 1.10, `version: 2`),
//! the form `dbt_sources(tables)` and `table_context(tbl, format := 'dbt')` return.
//!
//! Per table and column it writes the description, the declared type (`data_type`), the
//! numbers in `meta.dataraum`, and only the data tests the statistics prove on the data
//! they came from (dbt-core's four generic tests; range checks need packages, so `min` and
//! `max` stay in `meta`):
//! - `not_null`: the column has rows and no NULL (NULL counts are always exact);
//! - `unique`: not a FLOAT, DOUBLE or DECIMAL with a scale, at least 2 non-NULL rows, and either the
//!   profile's exact distinct count equals the non-NULL rows or `dr_correlations` found the
//!   column a candidate key over all rows (dbt's test ignores NULLs, so does the rule);
//! - `accepted_values`: a text column whose document lists every distinct value
//!   (`stats.values`: at most 20, counted exactly), with at least 2 non-NULL rows per value
//!   and no value holding a single quote (dbt pastes values into SQL unescaped) or a carriage
//!   return (Jinja turns it into a newline);
//! - `relationships`: a foreign key of `table_relationships` over exact value sets with no
//!   orphan row; other references are listed in `meta` with their orphan counts.
//!
//! Text dbt would read as Jinja (descriptions and `meta`) is wrapped in `{% raw %}`; a
//! column whose values hold Jinja delimiters gets no `accepted_values`.
//!
//! The YAML is written by hand: block style, a scalar plain only when it is an identifier
//! that YAML 1.1 (PyYAML) cannot read as anything else, every other scalar double-quoted
//! with the characters YAML does not allow raw escaped.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use crate::ffi::entry::Registrar;
use crate::ffi::{Args, FnResult, Scalar, ScalarSpec, Ty, Value};
use crate::registry::{FunctionDoc, Kind};

/// Text columns list their values for `accepted_values` up to this many distinct values
/// (`table_context`'s `stats.values`).
pub const MAX_ACCEPTED_VALUES: usize = 20;

/// A YAML node.
#[derive(Debug, Clone)]
enum Y {
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
    Str(String),
    /// A number or boolean, written as is.
    Raw(String),
    Null,
}

fn map(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn text(s: &str) -> Y {
    Y::Str(s.to_string())
}

/// A JSON value as a YAML node (objects keep their key order).
fn from_json(v: &Json) -> Y {
    match v {
        Json::Null => Y::Null,
        Json::Bool(b) => Y::Raw(b.to_string()),
        Json::Number(n) => Y::Raw(n.to_string()),
        Json::String(s) => Y::Str(s.clone()),
        Json::Array(a) => Y::Seq(a.iter().map(from_json).collect()),
        Json::Object(o) => {
            Y::Map(o.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// Letters, digits and `_`, not starting with a digit.
fn is_identifier(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A scalar as YAML: plain when it is an identifier no YAML 1.1 reader takes for a
/// boolean or null, double-quoted otherwise.
fn scalar(s: &str) -> String {
    let identifier = is_identifier(s);
    let reserved =
        matches!(s.to_ascii_lowercase().as_str(), "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null");
    if identifier && !reserved {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A double-quoted YAML scalar: `"` and `\` escaped, and every character outside YAML's
/// printable set (C0 and C1 controls, DEL, the line and paragraph separators, U+FFFE/F) as
/// a `\u` escape, so PyYAML and dbt read back the exact string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || c == '\u{2028}'
                || c == '\u{2029}'
                || c == '\u{fffe}'
                || c == '\u{ffff}' =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether dbt would read text as Jinja.
fn has_jinja(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// dbt renders descriptions, `meta` and test arguments as Jinja: text holding a Jinja
/// delimiter is wrapped in a raw block, which renders to the text itself; text that
/// could end the raw block early is left out, saying so.
fn protect(y: Y) -> Y {
    match y {
        Y::Str(s) if has_jinja(&s) => {
            if s.contains("endraw") {
                Y::Str("(left out: the text holds Jinja delimiters and endraw)".into())
            } else {
                Y::Str(format!("{{% raw %}}{s}{{% endraw %}}"))
            }
        }
        Y::Map(m) => Y::Map(m.into_iter().map(|(k, v)| (k, protect(v))).collect()),
        Y::Seq(v) => Y::Seq(v.into_iter().map(protect).collect()),
        other => other,
    }
}

fn is_scalar(y: &Y) -> bool {
    matches!(y, Y::Str(_) | Y::Raw(_) | Y::Null)
}

fn scalar_text(y: &Y) -> String {
    match y {
        Y::Str(s) => scalar(s),
        Y::Raw(r) => r.clone(),
        _ => "null".into(),
    }
}

/// The rest of a line after `key:` or `- ` for a node: a scalar, or an empty or short flow
/// collection; `None` when the node needs lines of its own.
fn inline(y: &Y) -> Option<String> {
    match y {
        Y::Map(m) if m.is_empty() => Some("{}".into()),
        Y::Seq(s) if s.is_empty() => Some("[]".into()),
        Y::Seq(s) if s.iter().all(is_scalar) => {
            let flow = format!("[{}]", s.iter().map(scalar_text).collect::<Vec<_>>().join(", "));
            (flow.len() <= 100).then_some(flow)
        }
        Y::Map(_) | Y::Seq(_) => None,
        other => Some(scalar_text(other)),
    }
}

fn write_map(out: &mut String, entries: &[(String, Y)], indent: usize, first_inline: bool) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 || !first_inline {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar(k));
        out.push(':');
        match (inline(v), v) {
            (Some(t), _) => {
                out.push(' ');
                out.push_str(&t);
                out.push('\n');
            }
            (None, Y::Map(m)) => {
                out.push('\n');
                write_map(out, m, indent + 2, false);
            }
            (None, Y::Seq(s)) => {
                out.push('\n');
                write_seq(out, s, indent + 2);
            }
            (None, _) => out.push('\n'),
        }
    }
}

fn write_seq(out: &mut String, items: &[Y], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match (inline(item), item) {
            (Some(t), _) => {
                out.push_str(&t);
                out.push('\n');
            }
            (None, Y::Map(m)) => write_map(out, m, indent + 2, true),
            (None, Y::Seq(s)) => {
                out.push('\n');
                write_seq(out, s, indent + 2);
            }
            (None, _) => out.push('\n'),
        }
    }
}

fn to_yaml(root: &Y) -> String {
    let mut out = String::new();
    match root {
        Y::Map(m) => write_map(&mut out, m, 0, false),
        Y::Seq(s) => write_seq(&mut out, s, 0),
        other => {
            out.push_str(&scalar_text(other));
            out.push('\n');
        }
    }
    out
}

/// What the renderer is told besides the documents.
#[derive(Debug, Clone, Default)]
pub struct DbtOptions {
    /// The source's name for the tables of the default schema (default: that schema).
    pub source_name: Option<String>,
    /// The schema of unqualified table names.
    pub schema: String,
    /// The database (catalog) of unqualified names, written only when given.
    pub database: Option<String>,
    /// Words that must be quoted as identifiers (DuckDB's reserved keywords), lower case.
    pub keywords: HashSet<String>,
}

/// A table name as DuckDB's `query_table` reads it: `[database.][schema.]table`, each part
/// optionally double-quoted (`""` inside quotes is one `"`).
fn name_parts(name: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut part = String::new();
    let mut in_quotes = false;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                part.push('"');
            }
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => parts.push(std::mem::take(&mut part)),
            c => part.push(c),
        }
    }
    parts.push(part);
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        // Not a qualified name after all: the whole text names the table.
        return vec![name.to_string()];
    }
    parts
}

/// A dbt resource name for an identifier: letters, digits and `_` (dbt refuses spaces in
/// the names of the tests it derives from it).
fn safe_name(ident: &str) -> String {
    let mut s: String = ident.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "t_");
    }
    s
}

/// Where a table goes in the YAML.
#[derive(Debug, Clone)]
struct Placed {
    source: String,
    name: String,
    identifier: String,
}

/// Whether dbt must quote an identifier for DuckDB to read it as written.
fn needs_quotes(ident: &str, keywords: &HashSet<String>) -> bool {
    let plain = ident.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && ident.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    !plain || keywords.contains(ident)
}

/// The dbt tests one column earns, and the reasons for the ones it does not.
struct ColumnTests {
    tests: Vec<Y>,
    not_emitted: Vec<Y>,
}

/// Floating-point and DECIMAL types with digits after the point: their unique values are
/// measurements, not keys.
fn is_fractional_type(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    if matches!(t.as_str(), "FLOAT" | "DOUBLE" | "REAL" | "FLOAT4" | "FLOAT8") {
        return true;
    }
    // DECIMAL(width,scale)
    t.strip_prefix("DECIMAL(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split(',').nth(1))
        .is_some_and(|scale| scale.trim() != "0")
}

fn is_text_type(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    t == "VARCHAR" || t.starts_with("ENUM")
}

fn single_key_over_all_rows(doc: &Json, column: &str) -> bool {
    doc["dependencies"].as_array().is_some_and(|deps| {
        deps.iter().any(|d| {
            d["kind"] == "candidate_key"
                && d["determinant"].as_array().is_some_and(|a| a.len() == 1 && a[0] == column)
                && d["details"].as_str().is_some_and(|s| s.ends_with("all rows"))
        })
    })
}

fn column_tests(doc: &Json, col: &Json, row_count: f64) -> ColumnTests {
    let mut tests = Vec::new();
    let mut not_emitted = Vec::new();
    let name = col["name"].as_str().unwrap_or_default();
    let declared = col["declared_type"].as_str().unwrap_or_default();
    let stats = &col["stats"];
    let nulls = stats["null_count"].as_f64().unwrap_or(f64::NAN);
    let nonnull = row_count - nulls;
    let why = |test: &str, reason: String| map(vec![("test", text(test)), ("why", Y::Str(reason))]);
    if row_count >= 1.0 && nulls == 0.0 {
        tests.push(text("not_null"));
    }
    let distinct = stats["distinct_count"].as_f64().unwrap_or(f64::NAN);
    let exact = stats["distinct_is_exact"] == Json::Bool(true);
    let proven_unique = (exact && distinct == nonnull) || single_key_over_all_rows(doc, name);
    if nonnull >= 2.0 && !is_fractional_type(declared) && proven_unique {
        tests.push(text("unique"));
    } else if nonnull >= 2.0 && !exact && distinct >= 0.99 * nonnull && !is_fractional_type(declared) {
        not_emitted.push(why(
            "unique",
            format!(
                "about {distinct} distinct values in {nonnull} rows, estimated (HyperLogLog), and not a candidate key \
                 counted over every row (dr_correlations counts exactly up to its budget, else on a sample)"
            ),
        ));
    }
    if is_text_type(declared) {
        if let Some(values) = stats["values"].as_array() {
            let mut vs: Vec<&str> = values.iter().filter_map(|v| v.as_str()).collect();
            vs.sort_unstable();
            let d = vs.len();
            if d == 0 || d > MAX_ACCEPTED_VALUES || nonnull < 2.0 * d as f64 {
                // not low-cardinality for its row count
            } else if vs.iter().any(|v| has_jinja(v)) {
                not_emitted.push(why(
                    "accepted_values",
                    "a value holds a Jinja delimiter ({{, {% or {#), which dbt would render in the test's arguments"
                        .into(),
                ));
            } else if vs.iter().any(|v| v.contains('\r')) {
                not_emitted.push(why(
                    "accepted_values",
                    "a value holds a carriage return, which dbt's Jinja rendering turns into a newline".into(),
                ));
            } else if vs.iter().any(|v| v.contains('\'')) {
                not_emitted.push(why(
                    "accepted_values",
                    "a value holds a single quote, which dbt's accepted_values pastes into SQL unescaped".into(),
                ));
            } else {
                tests.push(map(vec![(
                    "accepted_values",
                    map(vec![("arguments", map(vec![("values", Y::Seq(vs.iter().map(|v| text(v)).collect()))]))]),
                )]));
            }
        }
    }
    ColumnTests { tests, not_emitted }
}

/// The `meta.dataraum` numbers of a column.
fn column_meta(col: &Json) -> Vec<(String, Y)> {
    let mut m: Vec<(String, Y)> = Vec::new();
    let inferred = &col["inferred"];
    let sem = &col["semantics"];
    let stats = &col["stats"];
    for (k, v) in [
        ("inferred_type", &inferred["type"]),
        ("format", &inferred["format"]),
        ("semantic_type", &inferred["semantic_type"]),
        ("unit", &inferred["unit"]),
        ("role", &sem["role"]),
        ("business_term", &sem["business_term"]),
        ("null_count", &stats["null_count"]),
        ("distinct_count", &stats["distinct_count"]),
        ("distinct_is_exact", &stats["distinct_is_exact"]),
        ("min", &stats["min"]),
        ("max", &stats["max"]),
        ("mean", &stats["mean"]),
    ] {
        if !v.is_null() {
            m.push((k.to_string(), from_json(v)));
        }
    }
    if let Some(flags) = col["quality_flags"].as_array().filter(|f| !f.is_empty()) {
        m.push(("quality_flags".into(), Y::Seq(flags.iter().filter_map(|f| f["flag"].as_str()).map(text).collect())));
    }
    m
}

/// Renders the documents (and the foreign keys between their tables) as a dbt sources
/// property file.
pub fn render(docs: &[Json], rels: &[Json], o: &DbtOptions) -> Result<String, String> {
    if let Some(s) = &o.source_name {
        if !is_identifier(s) {
            return Err(format!(
                "source_name must be a dbt name (letters, digits and _, not starting with a digit), got '{s}'"
            ));
        }
    }
    for d in docs {
        if d.get("context_version").is_none() || d["table"]["name"].as_str().is_none() {
            return Err(
                "not a table_context document (no context_version or table.name); pass table_context(tbl)".into()
            );
        }
    }
    // Place every table: documented ones, then those their tested foreign keys reference.
    let mut order: Vec<String> = docs.iter().filter_map(|d| d["table"]["name"].as_str().map(String::from)).collect();
    let fks: Vec<&Json> = rels.iter().filter(|r| r["kind"] == "foreign_key").collect();
    let documented: HashSet<String> = order.iter().cloned().collect();
    for r in &fks {
        if let (Some(from), Some(to)) = (r["from_table"].as_str(), r["to_table"].as_str()) {
            if documented.contains(from) && !order.iter().any(|t| t == to) && testable_fk(r) {
                order.push(to.to_string());
            }
        }
    }
    let mut placed: HashMap<String, Placed> = HashMap::new();
    let mut sources: Vec<(String, Option<String>, String)> = Vec::new(); // (source, database, schema)
    let mut used: HashSet<(String, String)> = HashSet::new();
    for t in &order {
        if placed.contains_key(t) {
            continue;
        }
        let parts = name_parts(t);
        let (database, schema, ident) = match parts.as_slice() {
            [d, s, i] => (Some(d.clone()), s.clone(), i.clone()),
            [s, i] => (o.database.clone(), s.clone(), i.clone()),
            _ => (o.database.clone(), o.schema.clone(), parts[0].clone()),
        };
        let source = match sources.iter().find(|(_, d, s)| *d == database && *s == schema) {
            Some((name, _, _)) => name.clone(),
            None => {
                let default = database == o.database && schema == o.schema;
                let mut name = match (&o.source_name, default) {
                    (Some(n), true) => n.clone(),
                    _ => safe_name(&schema),
                };
                while sources.iter().any(|(n, _, _)| *n == name) {
                    name.push('_');
                }
                sources.push((name.clone(), database.clone(), schema.clone()));
                name
            }
        };
        let base = safe_name(&ident);
        let mut name = base.clone();
        let mut k = 2;
        while !used.insert((source.clone(), name.to_ascii_lowercase())) {
            name = format!("{base}_{k}");
            k += 1;
        }
        placed.insert(t.clone(), Placed { source, name, identifier: ident });
    }
    let docs_by_name: HashMap<&str, &Json> =
        docs.iter().filter_map(|d| d["table"]["name"].as_str().map(|n| (n, d))).collect();
    let mut source_nodes = Vec::new();
    for (source, database, schema) in &sources {
        let mut tables = Vec::new();
        for t in &order {
            let Some(p) = placed.get(t) else { continue };
            if p.source != *source || tables.iter().any(|(n, _)| n == &p.name) {
                continue;
            }
            let node = match docs_by_name.get(t.as_str()) {
                Some(doc) => table_node(doc, t, p, &fks, &placed, o),
                None => bare_table_node(t, p, &fks, o),
            };
            tables.push((p.name.clone(), node));
        }
        let mut entries = vec![("name", text(source)), ("schema", text(schema))];
        if let Some(d) = database {
            entries.push(("database", text(d)));
        }
        entries.push(("tables", Y::Seq(tables.into_iter().map(|(_, n)| n).collect())));
        source_nodes.push(map(entries));
    }
    let root = map(vec![("version", Y::Raw("2".into())), ("sources", Y::Seq(source_nodes))]);
    let mut out =
        String::from("# dbt sources generated by dataraum from table_context: descriptions, types, and the\n");
    out.push_str("# data tests the statistics prove on the data they came from (numbers in meta.dataraum).\n");
    out.push_str(&to_yaml(&root));
    Ok(out)
}

/// A foreign key dbt's `relationships` test will pass: exact value sets, no orphan row.
fn testable_fk(r: &Json) -> bool {
    r["exact"] == Json::Bool(true) && r["orphan_rows"].as_f64() == Some(0.0)
}

fn identity_entries(p: &Placed, o: &DbtOptions) -> Vec<(&'static str, Y)> {
    let mut e = vec![("name", text(&p.name))];
    if p.identifier != p.name {
        e.push(("identifier", text(&p.identifier)));
    }
    if needs_quotes(&p.identifier, &o.keywords) {
        e.push(("quoting", map(vec![("identifier", Y::Raw("true".into()))])));
    }
    e
}

fn bare_table_node(t: &str, p: &Placed, fks: &[&Json], o: &DbtOptions) -> Y {
    let mut e = identity_entries(p, o);
    let refs: Vec<String> = fks
        .iter()
        .filter(|r| r["to_table"] == t)
        .filter_map(|r| Some(format!("{}.{}", r["from_table"].as_str()?, r["from_column"].as_str()?)))
        .collect();
    e.push((
        "description",
        Y::Str(format!(
            "Referenced by {}; listed so the relationships tests resolve (its own table_context describes it).",
            refs.join(", ")
        )),
    ));
    map(e)
}

fn table_node(doc: &Json, t: &str, p: &Placed, fks: &[&Json], placed: &HashMap<String, Placed>, o: &DbtOptions) -> Y {
    let table = &doc["table"];
    let row_count = table["row_count"].as_f64().unwrap_or(0.0);
    let mut e = identity_entries(p, o);
    if let Some(d) = table["description"].as_str() {
        e.push(("description", protect(text(d))));
    }
    let mut meta: Vec<(String, Y)> = Vec::new();
    for k in ["row_count", "column_count", "kind", "entity_type", "grain", "time_column"] {
        if !table[k].is_null() {
            meta.push((k.into(), from_json(&table[k])));
        }
    }
    let deps = doc["dependencies"].as_array().cloned().unwrap_or_default();
    let keys: Vec<Y> =
        deps.iter().filter(|d| d["kind"] == "candidate_key").map(|d| from_json(&d["determinant"])).collect();
    if !keys.is_empty() {
        meta.push(("candidate_keys".into(), Y::Seq(keys)));
    }
    let fds: Vec<Y> = deps
        .iter()
        .filter(|d| d["kind"] == "functional_dependency")
        .take(10)
        .map(|d| {
            let det: Vec<&str> =
                d["determinant"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default();
            Y::Str(format!(
                "{} -> {} (confidence {}, violations {})",
                det.join(", "),
                d["dependent"].as_str().unwrap_or("?"),
                d["confidence"].as_f64().map_or("?".into(), |c| format!("{:.4}", c)),
                d["violations"]
            ))
        })
        .collect();
    if !fds.is_empty() {
        meta.push(("functional_dependencies".into(), Y::Seq(fds)));
    }
    meta.push(("context_version".into(), from_json(&doc["context_version"])));
    e.push(("meta", protect(Y::Map(vec![("dataraum".into(), Y::Map(meta))]))));
    let mut columns = Vec::new();
    for col in doc["columns"].as_array().map(|c| c.as_slice()).unwrap_or_default() {
        let Some(name) = col["name"].as_str() else { continue };
        let mut c = vec![("name", text(name))];
        let quote = needs_quotes(name, &o.keywords);
        if quote {
            c.push(("quote", Y::Raw("true".into())));
        }
        if let Some(d) = col["semantics"]["description"].as_str() {
            c.push(("description", protect(text(d))));
        }
        if let Some(d) = col["declared_type"].as_str() {
            c.push(("data_type", text(d)));
        }
        let ColumnTests { mut tests, mut not_emitted } = column_tests(doc, col, row_count);
        let mut meta = column_meta(col);
        let mut references = Vec::new();
        for r in fks.iter().filter(|r| r["from_table"] == t && r["from_column"] == name) {
            let (Some(to), Some(to_col)) = (r["to_table"].as_str(), r["to_column"].as_str()) else { continue };
            let target = placed.get(to);
            let tested = testable_fk(r) && target.is_some() && !to_col.contains('"') && !has_jinja(to_col);
            if tested {
                if let Some(tp) = target {
                    let field =
                        if needs_quotes(to_col, &o.keywords) { format!("\"{to_col}\"") } else { to_col.to_string() };
                    tests.push(map(vec![(
                        "relationships",
                        map(vec![(
                            "arguments",
                            map(vec![
                                ("to", Y::Str(format!("source('{}', '{}')", tp.source, tp.name))),
                                ("field", Y::Str(field)),
                            ]),
                        )]),
                    )]));
                }
            }
            let mut rm = vec![("to", Y::Str(format!("{to}.{to_col}")))];
            for k in ["cardinality", "containment", "orphan_rows", "orphan_rate", "exact", "confidence"] {
                if !r[k].is_null() {
                    rm.push((k, from_json(&r[k])));
                }
            }
            rm.push(("tested", Y::Raw(tested.to_string())));
            references.push(map(rm));
        }
        if !references.is_empty() {
            meta.push(("references".into(), Y::Seq(references)));
        }
        let referenced_by: Vec<Y> = fks
            .iter()
            .filter(|r| r["to_table"] == t && r["to_column"] == name)
            .filter_map(|r| Some(Y::Str(format!("{}.{}", r["from_table"].as_str()?, r["from_column"].as_str()?))))
            .collect();
        if !referenced_by.is_empty() {
            meta.push(("referenced_by".into(), Y::Seq(referenced_by)));
        }
        if name.contains('"') && !tests.is_empty() {
            // dbt wraps a quoted name in double quotes without doubling the ones inside.
            for test in tests.drain(..) {
                let label = match &test {
                    Y::Str(s) => s.clone(),
                    Y::Map(m) => m.first().map(|(k, _)| k.clone()).unwrap_or_default(),
                    _ => String::new(),
                };
                not_emitted.push(map(vec![
                    ("test", Y::Str(label)),
                    (
                        "why",
                        text("the column name holds a double quote, which dbt does not escape when it quotes a name"),
                    ),
                ]));
            }
        }
        if !not_emitted.is_empty() {
            meta.push(("not_tested".into(), Y::Seq(not_emitted)));
        }
        if !tests.is_empty() {
            c.push(("data_tests", Y::Seq(tests)));
        }
        c.push(("meta", protect(Y::Map(vec![("dataraum".into(), Y::Map(meta))]))));
        columns.push(map(c));
    }
    e.push(("columns", Y::Seq(columns)));
    map(e)
}

fn json_list(text: &str, what: &str) -> Result<Vec<Json>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str::<Json>(text).map_err(|e| format!("{what} is not JSON: {e}"))? {
        Json::Array(a) => Ok(a.into_iter().filter(|v| !v.is_null()).collect()),
        Json::Null => Ok(Vec::new()),
        one => Ok(vec![one]),
    }
}

/// The options of `dr_context_dbt`: arguments 2.. (source_name, schema, database, keywords).
fn options_from(args: &Args, row: usize) -> DbtOptions {
    DbtOptions {
        source_name: args.str_at(2, row),
        schema: args.str_at(3, row).unwrap_or_else(|| "main".into()),
        database: args.str_at(4, row),
        keywords: keywords(&args.str_at(5, row).unwrap_or_default()),
    }
}

/// The keywords of a comma-separated list, lower case.
pub fn keywords(list: &str) -> HashSet<String> {
    list.split(',').map(|k| k.trim().to_ascii_lowercase()).filter(|k| !k.is_empty()).collect()
}

/// The dbt YAML of one `table_context` document, with the foreign keys it holds.
pub fn render_one(doc_text: &str, o: &DbtOptions) -> Result<String, String> {
    let doc: Json = serde_json::from_str(doc_text).map_err(|e| format!("not a table_context document: {e}"))?;
    let rels = doc["relationships"].as_array().cloned().unwrap_or_default();
    render(&[doc], &rels, o)
}

/// A table's kind from its role in the join graph of all the tables (as `table_context`
/// does with `related :=`): fact tables reference others, dimensions and bridges are
/// referenced; an isolated table keeps the document's own guess.
fn apply_roles(docs: &mut [Json], tables: &[Json]) {
    for doc in docs.iter_mut() {
        let Some(name) = doc["table"]["name"].as_str().map(String::from) else { continue };
        let role = tables.iter().find(|t| t["table_name"] == name.as_str()).and_then(|t| t["role"].as_str());
        let kind = match role {
            Some("fact") => "fact",
            Some("dimension") | Some("bridge") => "dimension",
            _ => continue,
        };
        let table = &mut doc["table"];
        table["kind"] = Json::from(kind);
        if let Some(d) = table["description"].as_str() {
            let rest = d.strip_prefix("Fact table").or_else(|| d.strip_prefix("Dimension table"));
            if let Some(rest) = rest {
                let head = if kind == "fact" { "Fact table" } else { "Dimension table" };
                table["description"] = Json::from(format!("{head}{rest}"));
            }
        }
    }
}

struct ContextDbt;

impl Scalar for ContextDbt {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let docs = json_list(&args.str_at(0, row).unwrap_or_default(), "docs")?;
        if docs.is_empty() {
            return Err("no table_context documents: give at least one table".into());
        }
        let mut docs = docs;
        let rels = match json_list(&args.str_at(1, row).unwrap_or_default(), "relationships")?.as_slice() {
            // dr_relationships' whole result: its foreign keys, and the tables' roles in the join graph
            [one] if one.get("relationships").is_some() => {
                apply_roles(&mut docs, one["tables"].as_array().map(|t| t.as_slice()).unwrap_or_default());
                one["relationships"].as_array().cloned().unwrap_or_default()
            }
            list => list.to_vec(),
        };
        render(&docs, &rels, &options_from(args, row)).map(Value::Text)
    }
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_context_dbt",
    kind: Kind::Scalar,
    parameters: "docs JSON, relationships JSON, source_name VARCHAR, schema VARCHAR, database VARCHAR, keywords VARCHAR",
    returns: "VARCHAR",
    description: "Renders table_context documents (a JSON array, or one document) and the foreign keys of dr_relationships between their tables as a dbt sources property file (version 2, dbt-core 1.10): per table and column the description, data_type and meta.dataraum numbers, and the data tests the statistics prove: not_null (no NULL), unique (exact distinct count = non-NULL rows, or a candidate key over all rows; not for FLOAT, DOUBLE or DECIMAL with digits after the point), accepted_values (text with at most 20 distinct values listed in stats.values, 2+ rows each, none with a single quote), relationships (exact containment, no orphan). keywords (comma-separated) are quoted as names. Used by dbt_sources and table_context(format := 'dbt').",
    example: "SELECT dr_context_dbt('{\"context_version\": 1, \"table\": {\"name\": \"t\", \"row_count\": 3}, \"columns\": [{\"name\": \"id\", \"declared_type\": \"INTEGER\", \"stats\": {\"null_count\": 0, \"distinct_count\": 3, \"distinct_is_exact\": true}}]}', NULL, 'raw', 'main', NULL, 'select,from');",
};

/// Registers `dr_context_dbt`.
pub fn register(r: &mut Registrar) {
    r.scalar::<ContextDbt>(ScalarSpec {
        name: DOC.name,
        overloads: vec![vec![Ty::Varchar, Ty::Varchar, Ty::Varchar, Ty::Varchar, Ty::Varchar, Ty::Varchar]],
        return_type: Ty::Varchar,
        special_nulls: true,
        volatile: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> DbtOptions {
        DbtOptions {
            source_name: Some("raw".into()),
            schema: "main".into(),
            database: None,
            keywords: ["select", "from", "order"].iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn scalars_are_plain_only_when_unambiguous() {
        assert_eq!(scalar("flights"), "flights");
        for s in ["yes", "No", "null", "on", "007", "1e3", "a b", "a: b", "-x", "#c", "", "12:30", "~", "x\ny", "é"] {
            assert!(scalar(s).starts_with('"'), "{s} must be quoted, got {}", scalar(s));
        }
        assert_eq!(quoted("a\"b\\c\u{85}\u{2028}\u{1}"), "\"a\\\"b\\\\c\\u0085\\u2028\\u0001\"");
    }

    #[test]
    fn qualified_names_split_outside_quotes() {
        assert_eq!(name_parts("flights"), vec!["flights"]);
        assert_eq!(name_parts("s.t"), vec!["s", "t"]);
        assert_eq!(name_parts("db.s.t"), vec!["db", "s", "t"]);
        assert_eq!(name_parts("\"a.b\".\"c\"\"d\""), vec!["a.b", "c\"d"]);
        assert_eq!(name_parts("odd name"), vec!["odd name"]);
        assert_eq!(safe_name("odd name"), "odd_name");
        assert_eq!(safe_name("2024 sales"), "t_2024_sales");
    }

    fn doc() -> Json {
        serde_json::json!({
            "context_version": 1,
            "table": {"name": "orders", "row_count": 10, "column_count": 4, "kind": "fact", "description": "Orders: one row per order."},
            "columns": [
                {"name": "id", "declared_type": "BIGINT", "semantics": {"description": "Order id"},
                 "stats": {"null_count": 0, "distinct_count": 10, "distinct_is_exact": true}},
                {"name": "status", "declared_type": "VARCHAR",
                 "stats": {"null_count": 1, "distinct_count": 2, "distinct_is_exact": true, "values": ["open", "closed"]}},
                {"name": "amount", "declared_type": "DOUBLE",
                 "stats": {"null_count": 0, "distinct_count": 10, "distinct_is_exact": true, "min": "1.0", "max": "9.5"}},
                {"name": "Customer Id", "declared_type": "BIGINT",
                 "stats": {"null_count": 0, "distinct_count": 4, "distinct_is_exact": true}}
            ],
            "dependencies": [],
            "relationships": []
        })
    }

    #[test]
    fn tests_follow_the_statistics() {
        let rels = vec![
            serde_json::json!({"kind": "foreign_key", "from_table": "orders", "from_column": "Customer Id",
                                            "to_table": "customers", "to_column": "id", "exact": true, "orphan_rows": 0}),
        ];
        let y = render(&[doc()], &rels, &opts()).unwrap();
        // id: not_null and unique; amount: a DOUBLE is never declared unique; status: accepted values, sorted.
        assert!(y.contains("- name: id\n"), "{y}");
        assert!(y.contains("data_tests: [not_null, unique]\n"), "{y}");
        assert!(y.contains("values: [closed, open]"), "{y}");
        let amount = &y[y.find("name: amount").unwrap()..];
        assert!(!amount[..amount.find("- name:").unwrap_or(amount.len())].contains("unique"), "{y}");
        // the referenced table is listed bare so source('raw', 'customers') resolves
        assert!(y.contains("to: \"source('raw', 'customers')\""), "{y}");
        assert!(y.contains("- name: customers\n"), "{y}");
        assert!(y.contains("- name: \"Customer Id\"\n            quote: true\n"), "{y}");
    }

    #[test]
    fn orphans_keep_the_relationship_out_of_the_tests() {
        let rels = vec![serde_json::json!({"kind": "foreign_key", "from_table": "orders", "from_column": "id",
                                            "to_table": "other", "to_column": "id", "exact": true, "orphan_rows": 3})];
        let y = render(&[doc()], &rels, &opts()).unwrap();
        assert!(!y.contains("relationships:"), "{y}");
        assert!(y.contains("orphan_rows: 3"), "{y}");
        assert!(y.contains("tested: false"), "{y}");
        assert!(!y.contains("- name: other"), "{y}");
    }

    #[test]
    fn bad_input_is_refused_with_what_to_pass() {
        assert!(render(&[serde_json::json!({"x": 1})], &[], &opts()).unwrap_err().contains("table_context"));
        let o = DbtOptions { source_name: Some("my source".into()), ..opts() };
        assert!(render(&[doc()], &[], &o).unwrap_err().contains("source_name"));
    }
}

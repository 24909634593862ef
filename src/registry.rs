//! Every SQL function and setting of the extension, declared once.
//!
//! `dr_functions()`, the README's function table, `docs/function_descriptions.csv` and
//! (on DuckDB 2.0.x) the catalog's function docs are all generated from [`functions`].
//! [`register_all`] is the flat list of registrations the entry point runs.

use crate::ffi::entry::Registrar;
use crate::ffi::{Setting, SettingDefault};
use crate::functions;

/// What kind of SQL object a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// scalar function
    Scalar,
    /// aggregate function
    Aggregate,
    /// table function
    Table,
    /// table macro (from `sql/`)
    TableMacro,
    /// scalar macro (from `sql/`)
    ScalarMacro,
}

impl Kind {
    /// The name used in listings and in the community-extensions CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Aggregate => "aggregate",
            Kind::Table => "table",
            Kind::TableMacro => "table_macro",
            Kind::ScalarMacro => "macro",
        }
    }
}

/// Documentation of one SQL function.
#[derive(Debug, Clone)]
pub struct FunctionDoc {
    /// SQL name.
    pub name: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Parameters as written in SQL, e.g. `x ANY`.
    pub parameters: &'static str,
    /// Result type.
    pub returns: &'static str,
    /// One or two sentences.
    pub description: &'static str,
    /// A runnable example.
    pub example: &'static str,
}

/// Every native function's documentation, in registration order.
pub fn functions() -> Vec<FunctionDoc> {
    let mut docs = vec![
        functions::version::DOC,
        functions::macros_sql::DOC,
        functions::listing::FUNCTIONS_DOC,
        functions::listing::SETTINGS_DOC,
        functions::metrics::METRICS_DOC,
        functions::metrics::RESET_DOC,
        functions::basic_stats::DOC,
        functions::profile::DOC,
        functions::infer_type::DOC,
        functions::annotate::DOC,
        functions::annotate::JOB_DOC,
        functions::annotate::AWAIT_DOC,
        functions::correlations::DOC,
        functions::dependencies::DOC,
        functions::context::DOC,
        functions::context::FORMAT_DOC,
        functions::dbt::DOC,
        functions::relationships::SKETCH_DOC,
        functions::relationships::PAIR_CANDIDATES_DOC,
        functions::relationships::RELATIONSHIPS_DOC,
        functions::catalog::STORE_DOC,
        functions::catalog::HISTORY_DOC,
        functions::catalog::DIFF_DOC,
    ];
    docs.extend(functions::states::DOCS);
    docs.extend(functions::persistence::DOCS);
    docs.push(functions::jobs::TICKS_DOC);
    docs.extend([functions::selftest::SCALAR_DOC, functions::selftest::AGGREGATE_DOC, functions::selftest::TABLE_DOC]);
    docs
}

/// Every `dataraum_*` setting.
pub fn settings() -> Vec<Setting> {
    let mut s = vec![Setting {
        name: "dataraum_exact_limit",
        default: SettingDefault::Int(10_000),
        description: "Distinct values per column kept exactly before statistics switch to mergeable sketches",
    }];
    s.extend(functions::infer_type::settings());
    s.extend(functions::context::settings());
    s.extend(functions::annotate::settings());
    s.extend(functions::catalog::settings());
    s
}

/// Registers every function and setting (the entry point's whole job).
pub fn register_all(r: &mut Registrar) {
    for s in settings() {
        r.setting(&s);
    }
    functions::version::register(r);
    functions::macros_sql::register(r);
    functions::listing::register(r);
    functions::metrics::register(r);
    functions::basic_stats::register(r);
    functions::profile::register(r);
    functions::infer_type::register(r);
    functions::annotate::register(r);
    functions::correlations::register(r);
    functions::dependencies::register(r);
    functions::context::register(r);
    functions::dbt::register(r);
    functions::relationships::register(r);
    functions::catalog::register(r);
    functions::states::register(r);
    functions::persistence::register(r);
    functions::jobs::register(r);
    functions::selftest::register(r);
}

#[cfg(test)]
mod tests {
    use crate::functions::listing::{descriptions_csv, markdown_table};

    const BEGIN: &str = "<!-- functions:begin (generated from src/registry.rs by `make docs`) -->\n";
    const END: &str = "<!-- functions:end -->";

    fn root(file: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
    }

    /// The README's function table and docs/function_descriptions.csv match the registry
    /// (`make docs` rewrites both).
    #[test]
    fn generated_docs_are_current() {
        let docs = crate::all_function_docs();
        let table = markdown_table(&docs);
        let csv = descriptions_csv(&docs);
        let readme = std::fs::read_to_string(root("README.md")).unwrap_or_default();
        let (Some(b), Some(e)) = (readme.find(BEGIN), readme.find(END)) else {
            panic!("README.md lacks the function table markers");
        };
        let current = &readme[b + BEGIN.len()..e];
        let csv_now = std::fs::read_to_string(root("docs/function_descriptions.csv")).unwrap_or_default();
        if std::env::var_os("DATARAUM_UPDATE_DOCS").is_some() {
            let updated = format!("{}{BEGIN}{table}{}", &readme[..b], &readme[e..]);
            std::fs::write(root("README.md"), updated).expect("write README.md");
            std::fs::create_dir_all(root("docs")).expect("docs dir");
            std::fs::write(root("docs/function_descriptions.csv"), &csv).expect("write csv");
            return;
        }
        assert_eq!(current, table, "README function table is stale: run `make docs`");
        assert_eq!(csv_now, csv, "docs/function_descriptions.csv is stale: run `make docs`");
    }

    /// Every registered name is unique, prefixed and documented.
    #[test]
    fn registry_entries_are_well_formed() {
        let docs = crate::all_function_docs();
        let mut names: Vec<_> = docs.iter().map(|d| d.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), docs.len(), "duplicate function names");
        for d in &docs {
            assert!(d.description.len() >= 20 && d.example.len() >= 8, "{} lacks docs", d.name);
            let native = matches!(d.kind, super::Kind::Scalar | super::Kind::Aggregate | super::Kind::Table);
            assert!(!native || d.name.starts_with("dr_"), "{} must carry the dr_ prefix", d.name);
        }
        for s in super::settings() {
            assert!(s.name.starts_with("dataraum_"), "{}", s.name);
        }
    }
}

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
    vec![
        functions::version::DOC,
        functions::listing::FUNCTIONS_DOC,
        functions::listing::SETTINGS_DOC,
        functions::metrics::METRICS_DOC,
        functions::metrics::RESET_DOC,
        functions::basic_stats::DOC,
        functions::selftest::SCALAR_DOC,
        functions::selftest::AGGREGATE_DOC,
        functions::selftest::TABLE_DOC,
    ]
}

/// Every `dataraum_*` setting.
pub fn settings() -> Vec<Setting> {
    vec![Setting {
        name: "dataraum_exact_limit",
        default: SettingDefault::Int(100_000),
        description: "Distinct values per column kept exactly before statistics switch to mergeable sketches",
    }]
}

/// Registers every function and setting (the entry point's whole job).
pub fn register_all(r: &mut Registrar) {
    for s in settings() {
        r.setting(&s);
    }
    functions::version::register(r);
    functions::listing::register(r);
    functions::metrics::register(r);
    functions::basic_stats::register(r);
    functions::selftest::register(r);
}

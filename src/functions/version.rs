//! `dr_version()`: the extension's version and the DuckDB it runs in.

use crate::ffi::entry::{duckdb_version, Registrar, MIN_CAPI_VERSION};
use crate::ffi::{Args, FnResult, Scalar, ScalarSpec, Ty, Value};
use crate::registry::{FunctionDoc, Kind};

/// Extension version from Cargo.toml.
pub const EXTENSION_VERSION: &str = env!("CARGO_PKG_VERSION");

struct Version;

impl Scalar for Version {
    fn invoke(_args: &Args, _row: usize) -> FnResult<Value> {
        Ok(Value::Struct(vec![
            Value::from(EXTENSION_VERSION),
            Value::from(duckdb_version()),
            Value::from(MIN_CAPI_VERSION),
            Value::from(crate::macros_status()),
            Value::from(if crate::ffi::capi::has_config_options() {
                "registered"
            } else {
                "not available: DuckDB before 1.5 has no C API for settings; the macros of dr_macros_sql() read SET VARIABLE dataraum_x = ... instead"
            }),
        ]))
    }
}

fn return_type() -> Ty {
    Ty::structure(&[
        ("extension_version", Ty::Varchar),
        ("duckdb_version", Ty::Varchar),
        ("c_api_version", Ty::Varchar),
        ("macros", Ty::Varchar),
        ("settings", Ty::Varchar),
    ])
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_version",
    kind: Kind::Scalar,
    parameters: "",
    returns: "STRUCT(extension_version VARCHAR, duckdb_version VARCHAR, c_api_version VARCHAR, macros VARCHAR, settings VARCHAR)",
    description: "Version of the dataraum extension, the DuckDB it runs in, the C API it uses, whether the table macros were registered at LOAD (else why, and how to create them) and whether the dataraum_* settings were.",
    example: "SELECT dr_version().extension_version;",
};

/// Registers `dr_version`.
pub fn register(r: &mut Registrar) {
    r.scalar::<Version>(ScalarSpec {
        name: DOC.name,
        overloads: vec![vec![]],
        return_type: return_type(),
        special_nulls: false,
        volatile: false,
    });
}

//! `dr_functions()` and `dr_settings()`: the registry as tables.

use crate::ffi::entry::Registrar;
use crate::ffi::{Context, FnResult, TableRows, TableSpec, Ty, Value};
use crate::registry::{self, FunctionDoc, Kind};

struct Functions;

impl TableRows for Functions {
    fn columns() -> Vec<(&'static str, Ty)> {
        vec![
            ("function_name", Ty::Varchar),
            ("function_type", Ty::Varchar),
            ("parameters", Ty::Varchar),
            ("return_type", Ty::Varchar),
            ("description", Ty::Varchar),
            ("example", Ty::Varchar),
        ]
    }
    fn rows(_params: &[Option<String>], _ctx: &Context) -> FnResult<Vec<Vec<Value>>> {
        Ok(crate::all_function_docs()
            .into_iter()
            .map(|d| {
                vec![
                    Value::from(d.name),
                    Value::from(d.kind.as_str()),
                    Value::from(d.parameters),
                    Value::from(d.returns),
                    Value::from(d.description),
                    Value::from(d.example),
                ]
            })
            .collect())
    }
}

struct Settings;

impl TableRows for Settings {
    fn columns() -> Vec<(&'static str, Ty)> {
        vec![
            ("name", Ty::Varchar),
            ("value", Ty::Varchar),
            ("default_value", Ty::Varchar),
            ("type", Ty::Varchar),
            ("description", Ty::Varchar),
        ]
    }
    fn rows(_params: &[Option<String>], ctx: &Context) -> FnResult<Vec<Vec<Value>>> {
        Ok(registry::settings()
            .into_iter()
            .map(|s| {
                vec![
                    Value::from(s.name),
                    Value::from(ctx.setting(s.name)),
                    Value::from(s.default.render()),
                    Value::from(s.default.ty().sql()),
                    Value::from(s.description),
                ]
            })
            .collect())
    }
}

/// Documentation of `dr_functions`.
pub const FUNCTIONS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_functions",
    kind: Kind::Table,
    parameters: "",
    returns: "TABLE(function_name, function_type, parameters, return_type, description, example)",
    description: "Lists every function and macro of the dataraum extension with its parameters, description and a runnable example.",
    example: "SELECT function_name, description FROM dr_functions();",
};

/// Documentation of `dr_settings`.
pub const SETTINGS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_settings",
    kind: Kind::Table,
    parameters: "",
    returns: "TABLE(name, value, default_value, type, description)",
    description:
        "Lists every dataraum_* setting with its current value in this session, its default and what it controls.",
    example: "SELECT name, value FROM dr_settings();",
};

/// Registers `dr_functions` and `dr_settings`.
pub fn register(r: &mut Registrar) {
    r.table::<Functions>(TableSpec { name: FUNCTIONS_DOC.name, params: vec![] });
    r.table::<Settings>(TableSpec { name: SETTINGS_DOC.name, params: vec![] });
}

/// Renders the README's function table from the registry (Markdown).
pub fn markdown_table(docs: &[FunctionDoc]) -> String {
    let mut out = String::from("| function | kind | description | example |\n|---|---|---|---|\n");
    for d in docs {
        let sig = format!("{}({})", d.name, d.parameters);
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` |\n",
            sig.replace('|', "\\|"),
            d.kind.as_str(),
            d.description.replace('|', "\\|"),
            d.example.replace('|', "\\|")
        ));
    }
    out
}

/// Renders `docs/function_descriptions.csv` (community-extensions format).
pub fn descriptions_csv(docs: &[FunctionDoc]) -> String {
    fn q(s: &str) -> String {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
    let mut out = String::from("function,function_type,description,comment,example\n");
    for d in docs {
        let kind = match d.kind {
            Kind::Scalar | Kind::ScalarMacro => "scalar",
            Kind::Aggregate => "aggregate",
            Kind::Table | Kind::TableMacro => "table",
        };
        out.push_str(&format!("{},{},{},{},{}\n", q(d.name), q(kind), q(d.description), q(""), q(d.example)));
    }
    out
}

//! `dr_infer_type(x ANY [, null_tokens VARCHAR, min_parse_rate DOUBLE [, decimal_separator VARCHAR]])`: what type a
//! text column really holds, with evidence and the SQL to convert it.
//!
//! Adapts [`crate::kernels::infer::InferState`]. VARCHAR input is inferred; any other
//! input is reported as already typed (its declared type, confidence 1). The cast is
//! returned as `cast_template`, an expression over the placeholder [`COLUMN_PLACEHOLDER`]
//! that the macros replace with the quoted column name (an aggregate does not know
//! its column's name).

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Data, FnResult, Setting, SettingDefault, Ty, Value};
use crate::kernels::infer::{cast_expression, InferOptions, InferState, DEFAULT_NULL_TOKENS};
use crate::registry::{FunctionDoc, Kind};

/// Placeholder for the column in `cast_template`.
pub const COLUMN_PLACEHOLDER: &str = "__DR_COLUMN__";

/// How the empty string is written in the `dataraum_null_tokens` list.
const EMPTY_TOKEN: &str = "<empty>";

/// Aggregate state.
#[derive(Default)]
pub struct InferAgg {
    pub(crate) state: InferState,
    pub(crate) configured: bool,
    /// Declared type of a non-VARCHAR input, with its NULL and non-NULL counts.
    pub(crate) typed: Option<(String, u64, u64)>,
    /// The input's SQL type (for state BLOBs), from the first update.
    pub(crate) input_type: Option<String>,
}

/// Parses the comma-separated null-token list of the setting / argument.
pub fn parse_null_tokens(list: &str) -> Vec<String> {
    list.split(',').map(|t| if t.trim() == EMPTY_TOKEN { String::new() } else { t.trim().to_string() }).collect()
}

/// The default of `dataraum_null_tokens`.
pub fn default_null_tokens() -> String {
    DEFAULT_NULL_TOKENS.iter().map(|t| if t.is_empty() { EMPTY_TOKEN } else { t }).collect::<Vec<_>>().join(",")
}

/// Reads the `decimal_separator` argument: `.`, `,`, or NULL / `auto` (`.` unless a value proves `,`).
pub fn parse_decimal_separator(s: Option<&str>) -> Result<Option<char>, String> {
    match s.map(str::trim) {
        None | Some("auto") | Some("AUTO") | Some("") => Ok(None),
        Some(".") => Ok(Some('.')),
        Some(",") => Ok(Some(',')),
        Some(other) => Err(format!(
            "decimal_separator must be '.', ',' or 'auto' (a '.' unless a value proves ','), got '{other}'"
        )),
    }
}

pub(crate) struct DrInferType;

impl Aggregate for DrInferType {
    type State = InferAgg;

    fn update(agg: &mut InferAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        if !agg.configured {
            let mut o = InferOptions::default();
            if args.len() >= 3 {
                if let Some(tokens) = args.str_at(1, rows.start) {
                    o.null_tokens = parse_null_tokens(&tokens);
                }
                if let Some(rate) = args.column(2).f64_at(rows.start) {
                    o.min_parse_rate = rate;
                }
            }
            if args.len() >= 4 {
                o.decimal = parse_decimal_separator(args.str_at(3, rows.start).as_deref())?;
            }
            agg.state = InferState::try_with_options(o).map_err(|e| e.message)?;
            agg.configured = true;
            agg.input_type = Some(args.column(0).ty.sql());
        }
        let col = args.column(0);
        match &col.data {
            Data::Varchar(strings) => {
                let first = rows.start;
                agg.state.add_batch(rows.len(), |i| col.is_valid(first + i).then(|| strings.get(first + i)));
            }
            _ => {
                let t = agg.typed.get_or_insert_with(|| (col.ty.sql(), 0, 0));
                for i in rows {
                    if col.is_valid(i) {
                        t.2 += 1;
                    } else {
                        t.1 += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn combine(source: &InferAgg, target: &mut InferAgg) -> FnResult<()> {
        if source.configured && !target.configured {
            target.state = InferState::with_options(source.state.options().clone());
            target.configured = true;
        }
        if target.input_type.is_none() {
            target.input_type.clone_from(&source.input_type);
        }
        target.state.combine(&source.state);
        match (&mut target.typed, &source.typed) {
            (Some(t), Some(s)) => {
                t.1 += s.1;
                t.2 += s.2;
            }
            (t @ None, Some(s)) => *t = Some(s.clone()),
            _ => {}
        }
        Ok(())
    }

    fn finalize(agg: &mut InferAgg) -> FnResult<Value> {
        if let Some((ty, nulls, non_null)) = &agg.typed {
            return Ok(Value::Struct(vec![
                Value::from(ty.as_str()),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Double(1.0),
                Value::Double(1.0),
                Value::UInt(*non_null),
                Value::UInt(*nulls),
                Value::List(vec![]),
                Value::List(vec![Value::Struct(vec![Value::from(ty.as_str()), Value::Null, Value::Double(1.0)])]),
                Value::List(vec![]),
                Value::Bool(false),
                Value::UInt(0),
                Value::Null,
                Value::from(COLUMN_PLACEHOLDER),
                Value::Bool(true),
            ]));
        }
        let inf = agg.state.finalize();
        Ok(Value::Struct(vec![
            Value::from(inf.inferred_type.as_str()),
            Value::from(inf.format.clone()),
            Value::from(inf.semantic_type.clone()),
            Value::from(inf.unit.clone()),
            Value::Double(inf.confidence),
            Value::Double(inf.parse_rate),
            Value::UInt(inf.non_null_count),
            Value::UInt(inf.null_count),
            Value::List(
                inf.null_tokens
                    .iter()
                    .map(|(t, c)| Value::Struct(vec![Value::from(t.as_str()), Value::UInt(*c)]))
                    .collect(),
            ),
            Value::List(
                inf.candidates
                    .iter()
                    .map(|c| {
                        Value::Struct(vec![
                            Value::from(c.type_name.as_str()),
                            Value::from(c.format.clone()),
                            Value::Double(c.parse_rate),
                        ])
                    })
                    .collect(),
            ),
            Value::List(inf.failed_examples.iter().map(|e| Value::from(e.as_str())).collect()),
            Value::Bool(inf.ambiguous),
            Value::UInt(inf.quarantine_count),
            Value::UInt(inf.distinct_count),
            Value::from(cast_expression(COLUMN_PLACEHOLDER, &inf)),
            Value::Bool(false),
        ]))
    }

    fn state_bytes(agg: &InferAgg) -> usize {
        agg.state.state_bytes()
    }
}

pub(crate) fn return_type() -> Ty {
    use Ty::*;
    Ty::structure(&[
        ("inferred_type", Varchar),
        ("format", Varchar),
        ("semantic_type", Varchar),
        ("unit", Varchar),
        ("confidence", Double),
        ("parse_rate", Double),
        ("non_null_count", UBigInt),
        ("null_count", UBigInt),
        ("null_tokens", Ty::list(Ty::structure(&[("token", Varchar), ("count", UBigInt)]))),
        ("candidates", Ty::list(Ty::structure(&[("type", Varchar), ("format", Varchar), ("parse_rate", Double)]))),
        ("failed_examples", Ty::list(Varchar)),
        ("ambiguous", Boolean),
        ("quarantine_count", UBigInt),
        ("distinct_count", UBigInt),
        ("cast_template", Varchar),
        ("already_typed", Boolean),
    ])
}

/// Documentation.
pub const DOC: FunctionDoc = FunctionDoc {
    name: "dr_infer_type",
    kind: Kind::Aggregate,
    parameters: "x ANY [, null_tokens VARCHAR, min_parse_rate DOUBLE [, decimal_separator VARCHAR]]",
    returns: "STRUCT(inferred_type, format, semantic_type, unit, confidence, parse_rate, non_null_count, null_count, null_tokens, candidates, failed_examples, ambiguous, quarantine_count, distinct_count, cast_template, already_typed)",
    description: "Infers the real type of a text column in one parallel pass: DuckDB type, strptime or number format, semantic type (email, url, iban, year, identifier, ...), unit, confidence, parse rate, null tokens, ranked candidates, failing examples and a TRY_CAST template (placeholder __DR_COLUMN__). Numbers are read with DuckDB's '.' decimal point unless a value proves a ',' decimal (1,5 / 1.234,5 / 1.234.567) or decimal_separator says ','. Non-text columns are reported as already typed.",
    example: "SELECT dr_infer_type(x) FROM (VALUES ('2024-01-31'), ('2024-02-29'), ('n/a')) t(x);",
};

fn default_tokens_static() -> &'static str {
    static TOKENS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKENS.get_or_init(default_null_tokens)
}

/// Settings read by the infer_types macros.
pub fn settings() -> Vec<Setting> {
    vec![
        Setting {
            name: "dataraum_null_tokens",
            default: SettingDefault::Text(default_tokens_static()),
            description: "Comma-separated text values treated as NULL by type inference (case-insensitive, after trimming); <empty> stands for the empty string",
        },
        Setting {
            name: "dataraum_min_parse_rate",
            default: SettingDefault::Double(0.9),
            description: "Share of non-null values that must convert for a type to be chosen by infer_types",
        },
    ]
}

/// Registers `dr_infer_type`.
pub fn register(r: &mut Registrar) {
    r.aggregate::<DrInferType>(AggregateSpec {
        name: DOC.name,
        overloads: vec![
            vec![Ty::Any],
            vec![Ty::Any, Ty::Varchar, Ty::Double],
            vec![Ty::Any, Ty::Varchar, Ty::Double, Ty::Varchar],
        ],
        return_type: return_type(),
    });
}

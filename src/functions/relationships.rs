//! `dr_table_sketch(row [, exact_limit])` and `dr_relationships(table_name, sketch [,
//! min_containment])`: the two aggregates under `table_relationships` and `join_paths`.
//!
//! `dr_table_sketch` reduces a whole table (its row as a STRUCT: `SELECT dr_table_sketch(t)
//! FROM tbl t`) to one BLOB holding a mergeable value sketch of every key-like column
//! (integers, DECIMAL with scale 0, text, ENUM labels, UUIDs; see
//! [`crate::kernels::relationships`]). `dr_relationships` takes one (table name, sketch)
//! row per table and returns the candidate foreign keys with containment, Jaccard,
//! cardinality and orphans, plus each table's role in the join graph.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Data, FnResult, Ty, Value};
use crate::kernels::relationships::{find, hash_text, hash_uuid, ColumnSketch, Family, RelOptions, TableSketch};
use crate::registry::{FunctionDoc, Kind};

/// `dr_table_sketch` state.
#[derive(Default)]
pub struct SketchAgg {
    sketch: Option<TableSketch>,
    /// field index -> index in `sketch.columns` (None: not key-like)
    slots: Vec<Option<usize>>,
    limit: usize,
}

fn family_of(c: &Column) -> Option<Family> {
    match &c.data {
        Data::I8(_)
        | Data::I16(_)
        | Data::I32(_)
        | Data::I64(_)
        | Data::U8(_)
        | Data::U16(_)
        | Data::U32(_)
        | Data::U64(_)
        | Data::I128(_)
        | Data::U128(_) => Some(Family::Integer),
        Data::Decimal { scale: 0, .. } => Some(Family::Integer),
        Data::Varchar(_) | Data::Enum(_) => Some(Family::Text),
        Data::Uuid(_) => Some(Family::Uuid),
        _ => None,
    }
}

fn add_value(s: &mut ColumnSketch, c: &Column, i: usize) {
    match &c.data {
        Data::I8(v) => s.add_int(v[i] as i128),
        Data::I16(v) => s.add_int(v[i] as i128),
        Data::I32(v) => s.add_int(v[i] as i128),
        Data::I64(v) => s.add_int(v[i] as i128),
        Data::U8(v) => s.add_int(v[i] as i128),
        Data::U16(v) => s.add_int(v[i] as i128),
        Data::U32(v) => s.add_int(v[i] as i128),
        Data::U64(v) => s.add_int(v[i] as i128),
        Data::I128(v) => s.add_int(v.get(i)),
        // UHUGEINT above i128::MAX wraps; such keys do not occur in practice.
        Data::U128(v) => s.add_int(v.get_unsigned(i) as i128),
        Data::Decimal { data, .. } => s.add_int(data.get(i)),
        Data::Varchar(v) => s.add_hash(hash_text(v.get(i)), 1),
        Data::Enum(codes) => {
            let label = c.enum_dictionary().get(codes.get(i)).map_or("", String::as_str);
            s.add_hash(hash_text(label.as_bytes()), 1)
        }
        Data::Uuid(v) => s.add_hash(hash_uuid(v.get_unsigned(i)), 1),
        _ => s.add_null(),
    }
}

struct DrTableSketch;

impl Aggregate for DrTableSketch {
    type State = SketchAgg;

    fn update(agg: &mut SketchAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        let row = args.column(0);
        let Data::Struct(fields) = &row.data else {
            return Err(format!(
                "expects a whole row, e.g. SELECT dr_table_sketch(t) FROM tbl t; got a {} value",
                row.ty.sql()
            ));
        };
        if agg.sketch.is_none() {
            let mut limit = 10_000usize;
            if args.len() >= 2 {
                if let Some(l) = args.column(1).f64_at(rows.start) {
                    if !(16.0..=100_000_000.0).contains(&l) {
                        return Err(format!("exact_limit must be between 16 and 100000000, got {l}"));
                    }
                    limit = l as usize;
                }
            }
            let mut t = TableSketch { all_columns: fields.iter().map(|f| f.0.clone()).collect(), ..Default::default() };
            let mut slots = Vec::with_capacity(fields.len());
            for (name, c) in fields {
                match family_of(c) {
                    Some(f) => {
                        slots.push(Some(t.columns.len()));
                        t.columns.push(ColumnSketch::new(name, &c.ty.sql(), f, limit));
                    }
                    None => slots.push(None),
                }
            }
            agg.sketch = Some(t);
            agg.slots = slots;
            agg.limit = limit;
        }
        let Some(t) = agg.sketch.as_mut() else { return Ok(()) };
        t.rows += rows.len() as u64;
        for (k, (_, c)) in fields.iter().enumerate() {
            let Some(Some(slot)) = agg.slots.get(k) else { continue };
            let s = &mut t.columns[*slot];
            for i in rows.clone() {
                if row.is_valid(i) && c.is_valid(i) {
                    add_value(s, c, i);
                } else {
                    s.add_null();
                }
            }
        }
        Ok(())
    }

    fn combine(source: &SketchAgg, target: &mut SketchAgg) -> FnResult<()> {
        let Some(src) = &source.sketch else { return Ok(()) };
        match &mut target.sketch {
            None => {
                target.sketch = Some(src.clone());
                target.slots = source.slots.clone();
                target.limit = source.limit;
            }
            Some(t) => {
                t.rows += src.rows;
                for (a, b) in t.columns.iter_mut().zip(&src.columns) {
                    a.merge(b);
                }
            }
        }
        Ok(())
    }

    fn finalize(agg: &mut SketchAgg) -> FnResult<Value> {
        // An empty table still has a (columnless) sketch: its relationships are none.
        let t = agg.sketch.take().unwrap_or_default();
        Ok(Value::Blob(t.to_bytes()))
    }

    fn state_bytes(agg: &SketchAgg) -> usize {
        agg.sketch.as_ref().map_or(0, |t| t.columns.iter().map(|c| c.entries_len() * 24 + 64).sum())
    }
}

/// `dr_relationships` state: the (table, sketch) rows.
#[derive(Default)]
pub struct RelAgg {
    tables: Vec<(String, Vec<u8>)>,
    min_containment: Option<f64>,
}

struct DrRelationships;

impl Aggregate for DrRelationships {
    type State = RelAgg;

    fn update(agg: &mut RelAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        for i in rows {
            let Some(name) = args.str_at(0, i) else {
                return Err("table_name must not be NULL".into());
            };
            let Some(blob) = args.column(1).bytes_at(i) else {
                return Err(format!("the sketch of '{name}' is NULL; pass dr_table_sketch(t) of that table"));
            };
            agg.tables.push((name, blob.to_vec()));
            if args.len() >= 3 && agg.min_containment.is_none() {
                agg.min_containment = args.column(2).f64_at(i);
            }
        }
        Ok(())
    }

    fn combine(source: &RelAgg, target: &mut RelAgg) -> FnResult<()> {
        target.tables.extend(source.tables.iter().cloned());
        if target.min_containment.is_none() {
            target.min_containment = source.min_containment;
        }
        Ok(())
    }

    fn finalize(agg: &mut RelAgg) -> FnResult<Value> {
        let mut tables = Vec::with_capacity(agg.tables.len());
        // Deterministic order whatever the thread interleaving was.
        agg.tables.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, blob) in &agg.tables {
            let t = TableSketch::from_bytes(blob).map_err(|e| format!("sketch of '{name}': {e}"))?;
            tables.push((name.clone(), t));
        }
        let mut o = RelOptions::default();
        if let Some(m) = agg.min_containment {
            o.min_containment = m;
        }
        let (rels, roles) = find(&tables, &o).map_err(|e| e.to_string())?;
        let rels = rels
            .into_iter()
            .map(|r| {
                Value::Struct(vec![
                    Value::Text(r.kind.into()),
                    Value::Text(r.from_table),
                    Value::Text(r.from_column),
                    Value::Text(r.to_table),
                    Value::Text(r.to_column),
                    Value::Text(r.cardinality.into()),
                    Value::Double(r.containment),
                    Value::Double(r.jaccard),
                    Value::Int(r.from_distinct.round() as i64),
                    Value::Int(r.to_distinct.round() as i64),
                    Value::Int(r.orphan_rows.round() as i64),
                    Value::Double(r.orphan_rate),
                    Value::Int(r.orphan_values.round() as i64),
                    Value::Int(r.null_rows as i64),
                    Value::Bool(r.exact),
                    Value::Bool(r.name_match),
                    Value::Double(r.confidence),
                    Value::Text(r.evidence),
                ])
            })
            .collect();
        let roles = roles
            .into_iter()
            .map(|t| {
                Value::Struct(vec![
                    Value::Text(t.table),
                    Value::Text(t.role.into()),
                    Value::Int(t.rows as i64),
                    Value::List(t.references.into_iter().map(Value::Text).collect()),
                    Value::List(t.referenced_by.into_iter().map(Value::Text).collect()),
                    Value::from(t.join_sql),
                ])
            })
            .collect();
        Ok(Value::Struct(vec![Value::List(rels), Value::List(roles)]))
    }

    fn state_bytes(agg: &RelAgg) -> usize {
        agg.tables.iter().map(|t| t.1.len() + t.0.len()).sum()
    }
}

fn relationships_type() -> Ty {
    Ty::structure(&[
        (
            "relationships",
            Ty::list(Ty::structure(&[
                ("kind", Ty::Varchar),
                ("from_table", Ty::Varchar),
                ("from_column", Ty::Varchar),
                ("to_table", Ty::Varchar),
                ("to_column", Ty::Varchar),
                ("cardinality", Ty::Varchar),
                ("containment", Ty::Double),
                ("jaccard", Ty::Double),
                ("from_distinct", Ty::BigInt),
                ("to_distinct", Ty::BigInt),
                ("orphan_rows", Ty::BigInt),
                ("orphan_rate", Ty::Double),
                ("orphan_values", Ty::BigInt),
                ("null_rows", Ty::BigInt),
                ("exact", Ty::Boolean),
                ("name_match", Ty::Boolean),
                ("confidence", Ty::Double),
                ("evidence", Ty::Varchar),
            ])),
        ),
        (
            "tables",
            Ty::list(Ty::structure(&[
                ("table_name", Ty::Varchar),
                ("role", Ty::Varchar),
                ("row_count", Ty::BigInt),
                ("references", Ty::list(Ty::Varchar)),
                ("referenced_by", Ty::list(Ty::Varchar)),
                ("join_sql", Ty::Varchar),
            ])),
        ),
    ])
}

/// Documentation of `dr_table_sketch`.
pub const SKETCH_DOC: FunctionDoc = FunctionDoc {
    name: "dr_table_sketch",
    kind: Kind::Aggregate,
    parameters: "row STRUCT [, exact_limit BIGINT]",
    returns: "BLOB",
    description: "A mergeable value sketch of every key-like column (integers, text, ENUM, UUID) of a table, from its rows: exact value counts up to exact_limit distinct values per column, then a KMV bottom-k sketch. Input for dr_relationships.",
    example: "SELECT octet_length(dr_table_sketch(t)) > 0 FROM (SELECT range AS id, 'k' || range AS code FROM range(100)) t;",
};

/// Documentation of `dr_relationships`.
pub const RELATIONSHIPS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_relationships",
    kind: Kind::Aggregate,
    parameters: "table_name VARCHAR, sketch BLOB [, min_containment DOUBLE]",
    returns: "STRUCT(relationships LIST(STRUCT(kind, from_table, from_column, to_table, to_column, cardinality, containment, jaccard, from_distinct, to_distinct, orphan_rows, orphan_rate, orphan_values, null_rows, exact, name_match, confidence, evidence)), tables LIST(STRUCT(table_name, role, row_count, references, referenced_by, join_sql)))",
    description: "Candidate foreign keys between tables from their dr_table_sketch values (one row per table): containment and Jaccard of distinct values, cardinality, orphan rows and rate, name affinity and confidence, with the traps (small integer ids, tiny value sets) filtered; plus each table's role (fact, dimension, bridge, isolated) and a join SELECT for fact tables.",
    example: "WITH a AS (SELECT range AS customer_id FROM range(1, 51)), b AS (SELECT range % 50 + 1 AS customer_id, range AS sale_id FROM range(500)), s AS (SELECT 'customers' AS n, dr_table_sketch(a) AS k FROM a UNION ALL SELECT 'sales', dr_table_sketch(b) FROM b) SELECT dr_relationships(n, k).relationships[1].to_table FROM s;",
};

/// Registers both aggregates.
pub fn register(r: &mut Registrar) {
    r.aggregate::<DrTableSketch>(AggregateSpec {
        name: SKETCH_DOC.name,
        overloads: vec![vec![Ty::Any], vec![Ty::Any, Ty::BigInt]],
        return_type: Ty::Blob,
    });
    r.aggregate::<DrRelationships>(AggregateSpec {
        name: RELATIONSHIPS_DOC.name,
        overloads: vec![vec![Ty::Varchar, Ty::Blob], vec![Ty::Varchar, Ty::Blob, Ty::Double]],
        return_type: relationships_type(),
    });
}

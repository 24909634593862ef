//! `dr_table_sketch(row [, exact_limit [, pairs]])`, `dr_pair_candidates(table_name, sketch)`
//! and `dr_relationships(table_name, sketch [, min_containment [, pairs]])`: the aggregates
//! under `table_relationships` and `join_paths`. Composite keys take a second scan: the
//! single-column sketches name the candidate column pairs, `dr_table_sketch` sketches those
//! pairs, and `dr_relationships` verifies them.
//!
//! `dr_table_sketch` reduces a whole table (its row as a STRUCT: `SELECT dr_table_sketch(t)
//! FROM tbl t`) to one BLOB holding a mergeable value sketch of every key-like column
//! (integers, DECIMAL with scale 0, text, ENUM labels, UUIDs; see
//! [`crate::kernels::relationships`]). `dr_relationships` takes one (table name, sketch)
//! row per table and returns the candidate foreign keys with containment, Jaccard,
//! cardinality and orphans, plus each table's role in the join graph.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Data, FnResult, TimeUnit, Ty, Value};
use crate::kernels::relationships::{
    composite_candidates, find, hash_int, hash_pair, hash_temporal, hash_text, hash_uuid, pairs_per_table,
    ColumnSketch, Family, PairSketch, RelOptions, TableSketch, MAX_PAIRS_PER_TABLE,
};
use crate::registry::{FunctionDoc, Kind};

/// `dr_table_sketch` state.
#[derive(Default)]
pub struct SketchAgg {
    sketch: Option<TableSketch>,
    /// field index -> index in `sketch.columns` (None: not key-like)
    slots: Vec<Option<usize>>,
    /// pair mode: per pair in `sketch.pairs`, the two field indexes
    pair_fields: Vec<[usize; 2]>,
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
        Data::Date(_) | Data::Timestamp(..) | Data::TimestampTz(_) | Data::TimestampTzNs(_) => Some(Family::Temporal),
        _ => None,
    }
}

/// A key-like value: an integer (kept for its range) or the hash of any other value.
enum Key {
    Int(i128),
    Hash(u64),
    Null,
}

fn key_at(c: &Column, i: usize) -> Key {
    let micros =
        |v: i64, per_micro: i64, micros_per: i64| Key::Hash(hash_temporal(v.saturating_mul(micros_per) / per_micro));
    match &c.data {
        Data::I8(v) => Key::Int(v[i] as i128),
        Data::I16(v) => Key::Int(v[i] as i128),
        Data::I32(v) => Key::Int(v[i] as i128),
        Data::I64(v) => Key::Int(v[i] as i128),
        Data::U8(v) => Key::Int(v[i] as i128),
        Data::U16(v) => Key::Int(v[i] as i128),
        Data::U32(v) => Key::Int(v[i] as i128),
        Data::U64(v) => Key::Int(v[i] as i128),
        Data::I128(v) => Key::Int(v.get(i)),
        // UHUGEINT above i128::MAX wraps; such keys do not occur in practice.
        Data::U128(v) => Key::Int(v.get_unsigned(i) as i128),
        Data::Decimal { data, .. } => Key::Int(data.get(i)),
        Data::Varchar(v) => Key::Hash(hash_text(v.get(i))),
        Data::Enum(codes) => {
            let label = c.enum_dictionary().get(codes.get(i)).map_or("", String::as_str);
            Key::Hash(hash_text(label.as_bytes()))
        }
        Data::Uuid(v) => Key::Hash(hash_uuid(v.get_unsigned(i))),
        // every instant as microseconds since the epoch, so DATE 2024-01-01 = TIMESTAMP 2024-01-01 00:00
        Data::Date(v) => micros(v[i] as i64, 1, 86_400_000_000),
        Data::Timestamp(TimeUnit::Seconds, v) => micros(v[i], 1, 1_000_000),
        Data::Timestamp(TimeUnit::Millis, v) => micros(v[i], 1, 1_000),
        Data::Timestamp(TimeUnit::Micros, v) | Data::TimestampTz(v) => micros(v[i], 1, 1),
        Data::Timestamp(TimeUnit::Nanos, v) | Data::TimestampTzNs(v) => micros(v[i], 1_000, 1),
        _ => Key::Null,
    }
}

fn add_value(s: &mut ColumnSketch, c: &Column, i: usize) {
    match key_at(c, i) {
        Key::Int(v) => s.add_int(v),
        Key::Hash(h) => s.add_hash(h, 1),
        Key::Null => s.add_null(),
    }
}

fn key_hash(c: &Column, i: usize) -> Option<u64> {
    match key_at(c, i) {
        Key::Int(v) => Some(hash_int(v)),
        Key::Hash(h) => Some(h),
        Key::Null => None,
    }
}

/// Entries kept exactly over all the column pairs of one table.
const PAIR_ENTRIES_BUDGET: usize = 1 << 22;

/// Reads the `pairs` argument: a JSON list of column-name pairs, `[["a", "b"], ...]`.
fn parse_pairs(json: &str) -> Result<Vec<[String; 2]>, String> {
    let v: Vec<Vec<String>> = serde_json::from_str(json).map_err(|e| {
        format!("pairs must be a JSON list of column-name pairs such as [[\"origin\", \"time_hour\"]]: {e}")
    })?;
    if v.len() > MAX_PAIRS_PER_TABLE {
        return Err(format!(
            "pairs lists {} column pairs; at most {MAX_PAIRS_PER_TABLE} are sketched in one pass",
            v.len()
        ));
    }
    v.into_iter()
        .map(|p| match <[String; 2]>::try_from(p) {
            Ok(p) => Ok(p),
            Err(p) => Err(format!("each entry of pairs must name two columns, got {}", p.len())),
        })
        .collect()
}

struct DrTableSketch;

impl DrTableSketch {
    /// Sets the state up from the first chunk: the columns (or, with `pairs`, the column pairs) to sketch.
    fn init(agg: &mut SketchAgg, fields: &[(String, Column)], args: &Args, row: usize) -> FnResult<()> {
        let mut limit = 10_000usize;
        if args.len() >= 2 {
            if let Some(l) = args.column(1).f64_at(row) {
                if !(16.0..=100_000_000.0).contains(&l) {
                    return Err(format!("exact_limit must be between 16 and 100000000, got {l}"));
                }
                limit = l as usize;
            }
        }
        let mut t = TableSketch { all_columns: fields.iter().map(|f| f.0.clone()).collect(), ..Default::default() };
        let mut slots = vec![None; fields.len()];
        let pairs = if args.len() >= 3 { args.str_at(2, row) } else { None };
        match pairs {
            Some(json) => {
                let pairs = parse_pairs(&json)?;
                // pairs have many more distinct values than their columns: up to 16 × exact_limit
                // each kept exactly, within 4 Mi entries (about 128 MB) over all pairs of the table
                let limit = (PAIR_ENTRIES_BUDGET / pairs.len().max(1)).clamp(limit, limit.saturating_mul(16));
                for [a, b] in pairs {
                    let find = |n: &str| fields.iter().position(|f| f.0 == n);
                    let (Some(ia), Some(ib)) = (find(&a), find(&b)) else {
                        return Err(format!("pairs names a column that the table does not have: [{a:?}, {b:?}]"));
                    };
                    let (Some(fa), Some(fb)) = (family_of(&fields[ia].1), family_of(&fields[ib].1)) else {
                        return Err(format!(
                            "pairs: [{a:?}, {b:?}] is not a pair of key-like columns (integers, text, UUID, DATE, TIMESTAMP)"
                        ));
                    };
                    t.pairs.push(PairSketch {
                        columns: [a.clone(), b.clone()],
                        families: [fa, fb],
                        sketch: ColumnSketch::new(&format!("{a}, {b}"), "PAIR", fa, limit),
                    });
                    agg.pair_fields.push([ia, ib]);
                }
            }
            // no pairs (absent or NULL: optional arguments arrive as NULL): every key-like column
            None => {
                for (k, (name, c)) in fields.iter().enumerate() {
                    if let Some(f) = family_of(c) {
                        slots[k] = Some(t.columns.len());
                        t.columns.push(ColumnSketch::new(name, &c.ty.sql(), f, limit));
                    }
                }
            }
        }
        agg.sketch = Some(t);
        agg.slots = slots;
        agg.limit = limit;
        Ok(())
    }
}

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
            Self::init(agg, fields, args, rows.start)?;
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
        for (p, [ia, ib]) in t.pairs.iter_mut().zip(&agg.pair_fields) {
            let (ca, cb) = (&fields[*ia].1, &fields[*ib].1);
            for i in rows.clone() {
                let h = if row.is_valid(i) && ca.is_valid(i) && cb.is_valid(i) {
                    key_hash(ca, i).zip(key_hash(cb, i)).map(|(x, y)| hash_pair(x, y))
                } else {
                    None
                };
                match h {
                    Some(h) => p.sketch.add_hash(h, 1),
                    None => p.sketch.add_null(),
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
                target.pair_fields = source.pair_fields.clone();
                target.limit = source.limit;
            }
            Some(t) => {
                t.rows += src.rows;
                for (a, b) in t.columns.iter_mut().zip(&src.columns) {
                    a.merge(b);
                }
                for (a, b) in t.pairs.iter_mut().zip(&src.pairs) {
                    a.sketch.merge(&b.sketch);
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
        agg.sketch.as_ref().map_or(0, |t| {
            t.columns.iter().chain(t.pairs.iter().map(|p| &p.sketch)).map(|c| c.entries_len() * 24 + 64).sum()
        })
    }
}

/// One (table name, sketch) argument row of `dr_pair_candidates` / `dr_relationships`.
fn table_row(args: &Args, i: usize) -> FnResult<(String, Vec<u8>)> {
    let Some(name) = args.str_at(0, i) else {
        return Err("table_name must not be NULL".into());
    };
    let Some(blob) = args.column(1).bytes_at(i) else {
        return Err(format!("the sketch of '{name}' is NULL; pass dr_table_sketch(t) of that table"));
    };
    Ok((name, blob.to_vec()))
}

/// `dr_pair_candidates` state: the (table, sketch) rows.
#[derive(Default)]
pub struct CandAgg {
    tables: Vec<(String, Vec<u8>)>,
}

struct DrPairCandidates;

impl Aggregate for DrPairCandidates {
    type State = CandAgg;

    fn update(agg: &mut CandAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        for i in rows {
            agg.tables.push(table_row(args, i)?);
        }
        Ok(())
    }

    fn combine(source: &CandAgg, target: &mut CandAgg) -> FnResult<()> {
        target.tables.extend(source.tables.iter().cloned());
        Ok(())
    }

    fn finalize(agg: &mut CandAgg) -> FnResult<Value> {
        let tables = read_sketches(&mut agg.tables, &mut [])?;
        let per_table = pairs_per_table(&composite_candidates(&tables));
        Ok(Value::List(
            per_table
                .into_iter()
                .map(|(t, pairs)| {
                    let json = serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into());
                    Value::Struct(vec![Value::Text(t), Value::Text(json)])
                })
                .collect(),
        ))
    }

    fn state_bytes(agg: &CandAgg) -> usize {
        agg.tables.iter().map(|t| t.1.len() + t.0.len()).sum()
    }
}

/// Reads the (table, sketch) rows in table-name order (deterministic whatever the thread
/// interleaving was), with each table's pair sketch (`pairs`: table, BLOB) merged in.
fn read_sketches(
    rows: &mut [(String, Vec<u8>)],
    pairs: &mut [(String, Vec<u8>)],
) -> FnResult<Vec<(String, TableSketch)>> {
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tables = Vec::with_capacity(rows.len());
    for (name, blob) in rows.iter() {
        let mut t = TableSketch::from_bytes(blob).map_err(|e| format!("sketch of '{name}': {e}"))?;
        for (pn, pb) in pairs.iter() {
            if pn == name {
                let p = TableSketch::from_bytes(pb).map_err(|e| format!("pair sketch of '{name}': {e}"))?;
                t.pairs.extend(p.pairs);
            }
        }
        tables.push((name.clone(), t));
    }
    Ok(tables)
}

/// `dr_relationships` state: the (table, sketch) rows.
#[derive(Default)]
pub struct RelAgg {
    tables: Vec<(String, Vec<u8>)>,
    /// pair sketches (4th argument), by table
    pairs: Vec<(String, Vec<u8>)>,
    min_containment: Option<f64>,
}

struct DrRelationships;

impl Aggregate for DrRelationships {
    type State = RelAgg;

    fn update(agg: &mut RelAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        for i in rows {
            let (name, blob) = table_row(args, i)?;
            if args.len() >= 4 {
                if let Some(p) = args.column(3).bytes_at(i) {
                    agg.pairs.push((name.clone(), p.to_vec()));
                }
            }
            agg.tables.push((name, blob));
            if args.len() >= 3 && agg.min_containment.is_none() {
                agg.min_containment = args.column(2).f64_at(i);
            }
        }
        Ok(())
    }

    fn combine(source: &RelAgg, target: &mut RelAgg) -> FnResult<()> {
        target.tables.extend(source.tables.iter().cloned());
        target.pairs.extend(source.pairs.iter().cloned());
        if target.min_containment.is_none() {
            target.min_containment = source.min_containment;
        }
        Ok(())
    }

    fn finalize(agg: &mut RelAgg) -> FnResult<Value> {
        let tables = read_sketches(&mut agg.tables, &mut agg.pairs)?;
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
        agg.tables.iter().chain(&agg.pairs).map(|t| t.1.len() + t.0.len()).sum()
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
    parameters: "row STRUCT [, exact_limit BIGINT [, pairs VARCHAR]]",
    returns: "BLOB",
    description: "A mergeable value sketch of every key-like column (integers, text, ENUM, UUID, DATE/TIMESTAMP) of a table, from its rows: exact value counts up to exact_limit distinct values per column, then a KMV bottom-k sketch. With pairs (JSON [[\"a\", \"b\"], ...], from dr_pair_candidates) it sketches those column pairs instead, for composite keys. Input for dr_relationships.",
    example: "SELECT octet_length(dr_table_sketch(t)) > 0 FROM (SELECT range AS id, 'k' || range AS code FROM range(100)) t;",
};

/// Documentation of `dr_pair_candidates`.
pub const PAIR_CANDIDATES_DOC: FunctionDoc = FunctionDoc {
    name: "dr_pair_candidates",
    kind: Kind::Aggregate,
    parameters: "table_name VARCHAR, sketch BLOB",
    returns: "LIST(STRUCT(table_name VARCHAR, pairs VARCHAR))",
    description: "The column pairs each table must sketch (dr_table_sketch(t, exact_limit, pairs)) to test composite foreign keys, from the single-column sketches of all tables: a referenced pair is two columns unique on neither alone that could be unique together, and each referencing column matches its half by name and has at least half of its values in it. At most 64 pairs per table.",
    example: "WITH w AS (SELECT o AS origin, h AS hour FROM range(3) a(o), range(24) b(h)), f AS (SELECT i % 3 AS origin, i % 24 AS hour FROM range(500) t(i)), s AS (SELECT 'weather' AS n, dr_table_sketch(w) AS k FROM w UNION ALL SELECT 'flights', dr_table_sketch(f) FROM f) SELECT dr_pair_candidates(n, k) FROM s;",
};

/// Documentation of `dr_relationships`.
pub const RELATIONSHIPS_DOC: FunctionDoc = FunctionDoc {
    name: "dr_relationships",
    kind: Kind::Aggregate,
    parameters: "table_name VARCHAR, sketch BLOB [, min_containment DOUBLE [, pairs BLOB]]",
    returns: "STRUCT(relationships LIST(STRUCT(kind, from_table, from_column, to_table, to_column, cardinality, containment, jaccard, from_distinct, to_distinct, orphan_rows, orphan_rate, orphan_values, null_rows, exact, name_match, confidence, evidence)), tables LIST(STRUCT(table_name, role, row_count, references, referenced_by, join_sql)))",
    description: "Candidate foreign keys between tables from their dr_table_sketch values (one row per table): containment and Jaccard of distinct values, cardinality, orphan rows and rate, name affinity (same name, <table>_id -> id, camelCase, plural, table-prefixed o_custkey -> c_custkey) and confidence, with the traps (small integer ids, tiny value sets) filtered; with each table's pair sketch (pairs) also composite keys, reported with both column names joined by ', '; plus each table's role (fact, dimension, bridge, isolated) and a join SELECT for fact tables.",
    example: "WITH a AS (SELECT range AS customer_id FROM range(1, 51)), b AS (SELECT range % 50 + 1 AS customer_id, range AS sale_id FROM range(500)), s AS (SELECT 'customers' AS n, dr_table_sketch(a) AS k FROM a UNION ALL SELECT 'sales', dr_table_sketch(b) FROM b) SELECT dr_relationships(n, k).relationships[1].to_table FROM s;",
};

/// Registers both aggregates.
pub fn register(r: &mut Registrar) {
    r.aggregate::<DrTableSketch>(AggregateSpec {
        name: SKETCH_DOC.name,
        overloads: vec![vec![Ty::Any], vec![Ty::Any, Ty::BigInt], vec![Ty::Any, Ty::BigInt, Ty::Varchar]],
        return_type: Ty::Blob,
    });
    r.aggregate::<DrPairCandidates>(AggregateSpec {
        name: PAIR_CANDIDATES_DOC.name,
        overloads: vec![vec![Ty::Varchar, Ty::Blob]],
        return_type: Ty::list(Ty::structure(&[("table_name", Ty::Varchar), ("pairs", Ty::Varchar)])),
    });
    r.aggregate::<DrRelationships>(AggregateSpec {
        name: RELATIONSHIPS_DOC.name,
        overloads: vec![
            vec![Ty::Varchar, Ty::Blob],
            vec![Ty::Varchar, Ty::Blob, Ty::Double],
            vec![Ty::Varchar, Ty::Blob, Ty::Double, Ty::Blob],
        ],
        return_type: relationships_type(),
    });
}

//! Persistent homology in SQL: the aggregates `dr_persistence` (points) and
//! `dr_persistence_distances` (an `(i, j, distance)` table), and scalar functions on
//! diagrams (`dr_betti_numbers`, `dr_persistent_entropy`, `dr_bottleneck_distance`,
//! `dr_wasserstein_distance`, `dr_diagram_summary`, `dr_diagram_svg`).
//!
//! Adapts [`crate::kernels::topology`]. States collect points (mergeable by
//! concatenation); finalize sorts them so the result does not depend on how rows were
//! split (Vietoris–Rips persistence is permutation-invariant; the furthest-point sample
//! starts from the first point, hence the sort), checks the memory estimate against the
//! budget, and runs the reduction on a rayon pool of DuckDB's `threads` size. A GROUP BY
//! gives one diagram per group; DuckDB finalizes groups on its own threads.

use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::job::deposit;
use crate::ffi::{Aggregate, AggregateSpec, Args, Column, Control, Data, FnResult, Job, Scalar, ScalarSpec, Ty, Value};
use crate::kernels::topology::{
    betti_numbers, bottleneck_distance, diagram_summary, diagram_svg, persistence_from_distances,
    persistence_from_points, persistent_entropy, wasserstein_distance, Metric, PersistencePair, RipsOptions,
};
use crate::registry::{FunctionDoc, Kind};

/// Parses DuckDB's `memory_limit` text (`'18.6 GiB'`, `'500MB'`) into bytes.
pub fn parse_memory(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.trim().parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        // DuckDB 1.3 shows an unlimited memory_limit as '1638.3 PiB'.
        "pb" => 1e15,
        "pib" => 1024f64.powi(5),
        "eb" => 1e18,
        "eib" => 1024f64.powi(6),
        _ => return None,
    };
    Some((v * mult) as usize)
}

/// Runs `f` with a monitor that reports its stage to `dr_metrics().progress` of `name`
/// (visible from another connection while the finalize runs), then clears it. With a job
/// control, the stage also drives the query's progress and a cancelled job stops.
fn with_progress<T>(
    name: &'static str,
    ctl: Option<&Control>,
    f: impl FnOnce(crate::kernels::topology::Monitor<'_>) -> crate::kernels::Result<T>,
) -> FnResult<T> {
    let m = crate::metrics::for_function(name);
    let started = std::time::Instant::now();
    m.start_stages();
    let monitor = |stage: &str, done: usize, total: usize| {
        let secs = started.elapsed().as_secs_f64();
        m.note_stage(stage, secs);
        m.set_progress(format!("{stage} {done}/{total} ({secs:.1} s)"));
        ctl.is_some_and(|c| c.stage(stage, done, total))
    };
    let r = f(&monitor);
    m.set_progress(String::new());
    r.map_err(|e| e.message)
}

/// Options shared by both aggregates, read once from the constant arguments.
#[derive(Clone, Default)]
struct Opts {
    rips: RipsOptions,
    threads: usize,
}

/// Reads the options that follow the data arguments (`first` = index of max_dim).
fn read_opts(args: &Args, row: usize, first: usize, table_input: bool) -> FnResult<Opts> {
    let mut o = RipsOptions { standardize: table_input, ..RipsOptions::default() };
    let mut threads = 1;
    let get = |k: usize| if args.len() > first + k { args.column(first + k).f64_at(row) } else { None };
    if let Some(d) = get(0) {
        if !(0.0..=8.0).contains(&d) {
            return Err(format!("max_dim must be between 0 and 8, got {d}; use 1 for loops, 2 for voids"));
        }
        o.max_dim = d as usize;
    }
    if let Some(t) = get(1) {
        if t.is_nan() || t <= 0.0 {
            return Err(format!("threshold must be positive, got {t}; omit it for the enclosing radius"));
        }
        o.threshold = Some(t);
    }
    if args.len() > first + 2 {
        if let Some(m) = args.str_at(first + 2, row) {
            o.metric = Metric::parse(&m).map_err(|e| e.message)?;
        }
    }
    if args.len() > first + 3 {
        let c = args.column(first + 3);
        if c.is_valid(row) {
            if let Data::Bool(b) = &c.data {
                o.standardize = b[row];
            }
        }
    }
    if let Some(s) = get(4) {
        if s < 2.0 {
            return Err(format!("sample must be at least 2 points, got {s}"));
        }
        o.sample = Some(s as usize);
    }
    if let Some(p) = get(5) {
        if !(2.0..=65521.0).contains(&p) {
            return Err(format!("modulus must be a prime between 2 and 65521, got {p}"));
        }
        o.modulus = p as u16;
    }
    if let Some(t) = get(6) {
        threads = t.max(1.0) as usize;
    }
    if args.len() > first + 7 {
        if let Some(m) = args.str_at(first + 7, row) {
            o.memory_budget = parse_memory(&m).ok_or_else(|| format!("cannot read memory budget '{m}'"))?;
        }
    }
    if args.len() > first + 8 {
        let c = args.column(first + 8);
        if c.is_valid(row) {
            if let Data::Bool(b) = &c.data {
                o.dedup = b[row];
            }
        }
    }
    if args.len() > first + 9 {
        let c = args.column(first + 9);
        if c.is_valid(row) {
            if let Data::Bool(b) = &c.data {
                o.collapse = Some(b[row]);
            }
        }
    }
    Ok(Opts { rips: o, threads })
}

/// State of `dr_persistence`: the points seen so far.
#[derive(Default)]
pub struct PointsAgg {
    opts: Option<Opts>,
    points: Vec<Vec<f64>>,
}

/// Coordinates of row `i` of a point column, `Ok(None)` for a NULL point or a row
/// with a NULL coordinate (skipped).
fn point_at(col: &Column, i: usize) -> FnResult<Option<Vec<f64>>> {
    if !col.is_valid(i) {
        return Ok(None);
    }
    let coords: Vec<Option<f64>> = match &col.data {
        Data::List(entries, child) => {
            let e = entries[i];
            (e.offset..e.offset + e.length).map(|k| child.f64_at(k as usize)).collect()
        }
        Data::Array(size, child) => (i * size..(i + 1) * size).map(|k| child.f64_at(k)).collect(),
        Data::Struct(fields) => {
            fields.iter().filter(|(_, c)| c.ty.is_numeric() || c.ty.is_temporal()).map(|(_, c)| c.f64_at(i)).collect()
        }
        _ => {
            return Err(format!(
                "a point is a LIST(DOUBLE), an ARRAY(DOUBLE, n) or a row of numeric columns; got {}",
                col.ty.sql()
            ))
        }
    };
    if coords.iter().any(Option::is_none) {
        return Ok(None);
    }
    let p: Vec<f64> = coords.into_iter().flatten().collect();
    if p.is_empty() {
        // A row without numeric coordinates is not a point.
        return Ok(None);
    }
    if let Some(bad) = p.iter().find(|x| !x.is_finite()) {
        return Err(format!("point {:?} has a non-finite coordinate ({bad}); filter NaN/Inf rows out first", p));
    }
    Ok(Some(p))
}

fn diagram_value(d: &[PersistencePair]) -> Value {
    Value::List(
        d.iter()
            .map(|p| Value::Struct(vec![Value::Int(p.dim as i64), Value::Double(p.birth), Value::Double(p.death)]))
            .collect(),
    )
}

struct DrPersistence;

impl Aggregate for DrPersistence {
    type State = PointsAgg;

    fn update(agg: &mut PointsAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        let col = args.column(0);
        if agg.opts.is_none() {
            let table_input = matches!(col.data, Data::Struct(_));
            agg.opts = Some(read_opts(args, rows.start, 1, table_input)?);
        }
        for i in rows {
            if let Some(p) = point_at(col, i)? {
                if let Some(first) = agg.points.first() {
                    if first.len() != p.len() {
                        return Err(format!("points of different dimensions ({} and {}); every point needs the same number of coordinates", first.len(), p.len()));
                    }
                }
                agg.points.push(p);
            }
        }
        Ok(())
    }

    fn combine(source: &PointsAgg, target: &mut PointsAgg) -> FnResult<()> {
        if target.opts.is_none() {
            target.opts = source.opts.clone();
        }
        if let (Some(a), Some(b)) = (target.points.first(), source.points.first()) {
            if a.len() != b.len() {
                return Err(format!("points of different dimensions ({} and {})", a.len(), b.len()));
            }
        }
        target.points.extend(source.points.iter().cloned());
        Ok(())
    }

    fn finalize(agg: &mut PointsAgg) -> FnResult<Value> {
        let Some(opts) = prepare(agg)? else { return Ok(Value::Null) };
        let pool = crate::functions::pool::shared(opts.threads);
        let d = with_progress("dr_persistence", None, |m| {
            persistence_from_points(&agg.points, &opts.rips, pool.as_deref(), m)
        })?;
        Ok(diagram_value(&d))
    }

    fn state_bytes(agg: &PointsAgg) -> usize {
        agg.points.len() * (24 + agg.points.first().map_or(0, |p| p.len() * 8))
    }
}

/// Checks the collected points and puts them in an order that does not depend on the row
/// split (the furthest-point sample starts at the first); `None` for no points (a NULL
/// result, as SQL aggregates give on empty input).
fn prepare(agg: &mut PointsAgg) -> FnResult<Option<Opts>> {
    let opts = agg.opts.clone().unwrap_or_default();
    if agg.points.is_empty() {
        return Ok(None);
    }
    if agg.points.len() < 2 {
        return Err(format!("needs at least 2 points without NULL coordinates, got {}", agg.points.len()));
    }
    agg.points.sort_by(|a, b| {
        a.iter().zip(b).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(Some(opts))
}

/// `dr_persistence_job`: collects like `dr_persistence`, and its finalize deposits the
/// computation for `dr_await` (which runs it interruptibly) instead of running it.
struct DrPersistenceJob;

/// The computation `dr_persistence_job` prepared: the sorted points and the options.
struct PersistenceJob {
    points: Vec<Vec<f64>>,
    opts: Option<Opts>,
}

impl Job for PersistenceJob {
    fn function(&self) -> &'static str {
        "dr_persistence_await"
    }
    fn run(&self, ctl: &Control) -> FnResult<Value> {
        let Some(opts) = &self.opts else { return Ok(Value::List(Vec::new())) };
        let pool = crate::functions::pool::shared(opts.threads);
        let d = with_progress("dr_persistence_await", Some(ctl), |m| {
            persistence_from_points(&self.points, &opts.rips, pool.as_deref(), m)
        })
        .map_err(|e| format!("dr_persistence_await: {e}"))?;
        Ok(diagram_value(&d))
    }
}

/// `dr_persistence_await(ticket, scan)`: one poll of a `dr_persistence_job` (see `ffi::job`).
struct DrPersistenceAwait;

impl Scalar for DrPersistenceAwait {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        crate::functions::jobs::await_value("dr_persistence_await", args, row)
    }
}

impl Aggregate for DrPersistenceJob {
    type State = PointsAgg;

    fn update(agg: &mut PointsAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        DrPersistence::update(agg, args, rows)
    }

    fn combine(source: &PointsAgg, target: &mut PointsAgg) -> FnResult<()> {
        DrPersistence::combine(source, target)
    }

    fn finalize(agg: &mut PointsAgg) -> FnResult<Value> {
        let opts = prepare(agg)?;
        let job = PersistenceJob { points: std::mem::take(&mut agg.points), opts };
        Ok(Value::Int(deposit("dr_persistence_job", std::sync::Arc::new(job))?))
    }

    fn state_bytes(agg: &PointsAgg) -> usize {
        DrPersistence::state_bytes(agg)
    }
}

/// State of `dr_persistence_distances`: the edges seen so far.
#[derive(Default)]
pub struct EdgesAgg {
    opts: Option<Opts>,
    edges: Vec<(usize, usize, f64)>,
}

struct DrPersistenceDistances;

impl Aggregate for DrPersistenceDistances {
    type State = EdgesAgg;

    fn update(agg: &mut EdgesAgg, args: &Args, rows: Range<usize>) -> FnResult<()> {
        if agg.opts.is_none() {
            agg.opts = Some(read_opts(args, rows.start, 3, false)?);
        }
        let (ci, cj, cd) = (args.column(0), args.column(1), args.column(2));
        for r in rows {
            let (Some(i), Some(j), Some(d)) = (ci.f64_at(r), cj.f64_at(r), cd.f64_at(r)) else { continue };
            if i < 0.0 || j < 0.0 || i.fract() != 0.0 || j.fract() != 0.0 {
                return Err(format!("point indices must be non-negative integers, got ({i}, {j})"));
            }
            if d.is_nan() || d < 0.0 {
                return Err(format!("distance between {i} and {j} is {d}; distances must be non-negative"));
            }
            agg.edges.push((i as usize, j as usize, d));
        }
        Ok(())
    }

    fn combine(source: &EdgesAgg, target: &mut EdgesAgg) -> FnResult<()> {
        if target.opts.is_none() {
            target.opts = source.opts.clone();
        }
        target.edges.extend_from_slice(&source.edges);
        Ok(())
    }

    fn finalize(agg: &mut EdgesAgg) -> FnResult<Value> {
        let opts = agg.opts.clone().unwrap_or_default();
        agg.edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        let n = agg.edges.iter().map(|e| e.0.max(e.1) + 1).max().unwrap_or(0);
        if n > 1_000_000 {
            return Err(format!("point index {} is too large; number points 0..n-1", n - 1));
        }
        let pool = crate::functions::pool::shared(opts.threads);
        let d = with_progress("dr_persistence_distances", None, |m| {
            persistence_from_distances(n, &agg.edges, &opts.rips, pool.as_deref(), m)
        })?;
        Ok(diagram_value(&d))
    }

    fn state_bytes(agg: &EdgesAgg) -> usize {
        agg.edges.len() * 24
    }
}

/// Reads the diagram in row `row` of argument `arg` (LIST(STRUCT(dim, birth, death))).
fn diagram_at(args: &Args, arg: usize, row: usize) -> FnResult<Vec<PersistencePair>> {
    let col = args.column(arg);
    let Data::List(entries, child) = &col.data else {
        return Err(format!("expects a diagram LIST(STRUCT(dim, birth, death)), got {}", col.ty.sql()));
    };
    let Data::Struct(fields) = &child.data else {
        return Err(format!("expects a diagram LIST(STRUCT(dim, birth, death)), got {}", col.ty.sql()));
    };
    let field = |name: &str| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, c)| c);
    let (Some(dim), Some(birth), Some(death)) = (field("dim"), field("birth"), field("death")) else {
        return Err("a diagram's structs need the fields dim, birth and death".into());
    };
    let e = entries[row];
    let mut out = Vec::new();
    out.try_reserve(e.length as usize).map_err(|_| format!("no memory for a diagram of {} bars", e.length))?;
    for k in e.offset as usize..(e.offset + e.length) as usize {
        if let (Some(d), Some(b), Some(x)) = (dim.f64_at(k), birth.f64_at(k), death.f64_at(k)) {
            // Per-dimension results are indexed by dim: a dim of 2^31 would allocate 16 GB.
            if !(0.0..=MAX_DIAGRAM_DIM as f64).contains(&d) {
                return Err(format!("a diagram bar has dim {d}; dims go from 0 to {MAX_DIAGRAM_DIM} (dr_persistence gives 0 to max_dim)"));
            }
            out.push(PersistencePair { dim: d as usize, birth: b, death: x });
        }
    }
    Ok(out)
}

struct Betti;
impl Scalar for Betti {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let d = diagram_at(args, 0, row)?;
        let min = if args.len() > 1 { args.column(1).f64_at(row).unwrap_or(0.0) } else { 0.0 };
        Ok(Value::List(betti_numbers(&d, min).into_iter().map(Value::UInt).collect()))
    }
}

struct Entropy;
impl Scalar for Entropy {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        Ok(Value::Double(persistent_entropy(&diagram_at(args, 0, row)?)))
    }
}

/// Highest homology dimension a diagram bar may have (dr_persistence's max_dim is at most 8).
const MAX_DIAGRAM_DIM: usize = 64;

fn dim_arg(args: &Args, idx: usize, row: usize) -> FnResult<Option<usize>> {
    if args.len() <= idx {
        return Ok(None);
    }
    match args.column(idx).f64_at(row) {
        Some(d) if !(0.0..=MAX_DIAGRAM_DIM as f64).contains(&d) => {
            Err(format!("dim must be between 0 and {MAX_DIAGRAM_DIM}, got {d}; omit it for all dimensions"))
        }
        d => Ok(d.map(|d| d as usize)),
    }
}

struct Bottleneck;
impl Scalar for Bottleneck {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let (a, b) = (diagram_at(args, 0, row)?, diagram_at(args, 1, row)?);
        Ok(Value::Double(bottleneck_distance(&a, &b, dim_arg(args, 2, row)?).map_err(|e| e.message)?))
    }
}

struct Wasserstein;
impl Scalar for Wasserstein {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let (a, b) = (diagram_at(args, 0, row)?, diagram_at(args, 1, row)?);
        let p = args.column(2).f64_at(row).unwrap_or(2.0);
        Ok(Value::Double(wasserstein_distance(&a, &b, p, dim_arg(args, 3, row)?).map_err(|e| e.message)?))
    }
}

struct Summary;
impl Scalar for Summary {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        Ok(Value::List(
            diagram_summary(&diagram_at(args, 0, row)?)
                .into_iter()
                .map(|s| {
                    Value::Struct(vec![
                        Value::Int(s.dim as i64),
                        Value::UInt(s.count),
                        Value::UInt(s.finite),
                        Value::Double(s.max_persistence),
                        Value::Double(s.mean_persistence),
                        Value::Double(s.total_persistence),
                    ])
                })
                .collect(),
        ))
    }
}

struct Svg;
impl Scalar for Svg {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let barcode =
            args.len() > 1 && matches!(&args.column(1).data, Data::Bool(b) if args.column(1).is_valid(row) && b[row]);
        Ok(Value::Text(diagram_svg(&diagram_at(args, 0, row)?, barcode)))
    }
}

fn diagram_type() -> Ty {
    Ty::list(Ty::structure(&[("dim", Ty::Integer), ("birth", Ty::Double), ("death", Ty::Double)]))
}

/// Documentation of every function in this file.
pub const DOCS: [FunctionDoc; 10] = [
    FunctionDoc {
        name: "dr_persistence",
        kind: Kind::Aggregate,
        parameters: "point ANY [, max_dim INTEGER, threshold DOUBLE, metric VARCHAR, standardize BOOLEAN, sample BIGINT, modulus INTEGER, threads BIGINT, memory_limit VARCHAR, dedup BOOLEAN, collapse BOOLEAN]",
        returns: "LIST(STRUCT(dim INTEGER, birth DOUBLE, death DOUBLE))",
        description: "Vietoris-Rips persistent homology of a point cloud (points as LIST(DOUBLE), ARRAY(DOUBLE, n) or a row of numeric columns): cohomology with clearing, implicit coboundaries, apparent pairs, Z/p coefficients. threshold defaults to the enclosing radius; the memory estimate is checked against memory_limit first; repeated points are refused unless dedup is true; edge collapse shrinks the filtration first (same diagram; by default only when max_dim >= 2, where it pays). death = inf for essential classes.",
        example: "SELECT dr_persistence([cos(2 * pi() * i / 24), sin(2 * pi() * i / 24)]) FROM range(24) t(i);",
    },
    FunctionDoc {
        name: "dr_persistence_distances",
        kind: Kind::Aggregate,
        parameters: "i BIGINT, j BIGINT, distance DOUBLE [, max_dim INTEGER, threshold DOUBLE, metric VARCHAR, standardize BOOLEAN, sample BIGINT, modulus INTEGER, threads BIGINT, memory_limit VARCHAR, dedup BOOLEAN, collapse BOOLEAN]",
        returns: "LIST(STRUCT(dim INTEGER, birth DOUBLE, death DOUBLE))",
        description: "Persistent homology of a precomputed metric or a weighted graph given as (i, j, distance) rows, sparse or full (missing pairs are not edges); distances must be non-negative and symmetric.",
        example: "SELECT dr_persistence_distances(i, j, d) FROM (VALUES (0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0), (0, 2, 1.5), (1, 3, 1.5)) t(i, j, d);",
    },
    FunctionDoc {
        name: "dr_betti_numbers",
        kind: Kind::Scalar,
        parameters: "diagram LIST(STRUCT(dim, birth, death)) [, min_persistence DOUBLE]",
        returns: "UBIGINT[]",
        description: "Betti numbers per dimension: bars with persistence at least min_persistence (essential bars always count), index 1 = H0.",
        example: "SELECT dr_betti_numbers([{'dim': 0, 'birth': 0.0, 'death': 'inf'::DOUBLE}, {'dim': 1, 'birth': 0.2, 'death': 1.0}], 0.5);",
    },
    FunctionDoc {
        name: "dr_persistent_entropy",
        kind: Kind::Scalar,
        parameters: "diagram LIST(STRUCT(dim, birth, death))",
        returns: "DOUBLE",
        description: "Persistent entropy (natural log) of the finite bars of a diagram: low when a few bars dominate.",
        example: "SELECT dr_persistent_entropy([{'dim': 0, 'birth': 0.0, 'death': 1.0}, {'dim': 0, 'birth': 0.0, 'death': 1.0}]);",
    },
    FunctionDoc {
        name: "dr_bottleneck_distance",
        kind: Kind::Scalar,
        parameters: "d1 LIST(STRUCT(dim, birth, death)), d2 LIST(STRUCT(dim, birth, death)) [, dim INTEGER]",
        returns: "DOUBLE",
        description: "Bottleneck distance between two persistence diagrams (all dimensions, or one).",
        example: "SELECT dr_bottleneck_distance([{'dim': 1, 'birth': 0.0, 'death': 2.0}], [{'dim': 1, 'birth': 0.0, 'death': 1.0}]);",
    },
    FunctionDoc {
        name: "dr_wasserstein_distance",
        kind: Kind::Scalar,
        parameters: "d1 LIST(STRUCT(dim, birth, death)), d2 LIST(STRUCT(dim, birth, death)), p DOUBLE [, dim INTEGER]",
        returns: "DOUBLE",
        description: "p-Wasserstein distance between two persistence diagrams (p >= 1; p = inf is the bottleneck distance).",
        example: "SELECT dr_wasserstein_distance([{'dim': 1, 'birth': 0.0, 'death': 2.0}], [{'dim': 1, 'birth': 0.0, 'death': 1.0}], 2);",
    },
    FunctionDoc {
        name: "dr_diagram_summary",
        kind: Kind::Scalar,
        parameters: "diagram LIST(STRUCT(dim, birth, death))",
        returns: "LIST(STRUCT(dim INTEGER, count UBIGINT, finite UBIGINT, max_persistence DOUBLE, mean_persistence DOUBLE, total_persistence DOUBLE))",
        description: "Per-dimension count of bars, finite bars, and max/mean/total persistence over the finite bars.",
        example: "SELECT dr_diagram_summary([{'dim': 0, 'birth': 0.0, 'death': 1.0}, {'dim': 1, 'birth': 0.5, 'death': 0.75}]);",
    },
    FunctionDoc {
        name: "dr_diagram_svg",
        kind: Kind::Scalar,
        parameters: "diagram LIST(STRUCT(dim, birth, death)) [, barcode BOOLEAN]",
        returns: "VARCHAR",
        description: "The diagram as an SVG image (a persistence diagram, or a barcode when barcode is true), for people who would rather look.",
        example: "SELECT dr_diagram_svg([{'dim': 0, 'birth': 0.0, 'death': 1.0}, {'dim': 1, 'birth': 0.5, 'death': 0.75}], true);",
    },
    FunctionDoc {
        name: "dr_persistence_job",
        kind: Kind::Aggregate,
        parameters: "point ANY [, the options of dr_persistence]",
        returns: "BIGINT (a ticket for dr_persistence_await)",
        description: "Collects a point cloud exactly like dr_persistence but computes nothing: it returns a ticket for dr_persistence_await, which runs the computation so that the query can be interrupted (persistence_diagram does this). A ticket is awaited once, in the same process; one not awaited within 10 minutes is dropped.",
        example: "SELECT dr_persistence_job([cos(2 * pi() * i / 24), sin(2 * pi() * i / 24)]) > 0 FROM range(24) t(i);",
    },
    FunctionDoc {
        name: "dr_persistence_await",
        kind: Kind::Scalar,
        parameters: "ticket BIGINT, scan BIGINT",
        returns: "LIST(STRUCT(dim INTEGER, birth DOUBLE, death DOUBLE)) or NULL",
        description: "One poll of the computation a dr_persistence_job ticket names, from a dr_ticks() scan: the first call starts it on a thread of its own, each waits at most 40 ms and returns NULL while it runs, one returns the diagram. Between polls DuckDB can act on an interrupt, which cancels the computation; persistence_diagram is built this way.",
        example: "SELECT len(d) FROM (SELECT dr_persistence_await(j.ticket, k.scan) AS d FROM (SELECT dr_persistence_job([cos(2 * pi() * i / 24), sin(2 * pi() * i / 24)]) AS ticket FROM range(24) t(i)) j, dr_ticks() k) WHERE d IS NOT NULL LIMIT 1;",
    },
];

/// Registers every function of this file.
pub fn register(r: &mut Registrar) {
    let opt_tail = [
        Ty::Integer,
        Ty::Double,
        Ty::Varchar,
        Ty::Boolean,
        Ty::BigInt,
        Ty::Integer,
        Ty::BigInt,
        Ty::Varchar,
        Ty::Boolean,
        Ty::Boolean,
    ];
    let mut point_overloads = vec![vec![Ty::Any]];
    let mut dist_overloads = vec![vec![Ty::BigInt, Ty::BigInt, Ty::Double]];
    for k in 1..=opt_tail.len() {
        let mut p = vec![Ty::Any];
        p.extend_from_slice(&opt_tail[..k]);
        point_overloads.push(p);
        let mut d = vec![Ty::BigInt, Ty::BigInt, Ty::Double];
        d.extend_from_slice(&opt_tail[..k]);
        dist_overloads.push(d);
    }
    r.aggregate::<DrPersistence>(AggregateSpec {
        name: DOCS[0].name,
        overloads: point_overloads.clone(),
        return_type: diagram_type(),
    });
    r.aggregate::<DrPersistenceJob>(AggregateSpec {
        name: DOCS[8].name,
        overloads: point_overloads.clone(),
        return_type: Ty::BigInt,
    });
    r.scalar::<DrPersistenceAwait>(ScalarSpec {
        name: DOCS[9].name,
        overloads: vec![vec![Ty::BigInt, Ty::BigInt]],
        return_type: diagram_type(),
        special_nulls: true,
        volatile: true,
    });
    r.aggregate::<DrPersistenceDistances>(AggregateSpec {
        name: DOCS[1].name,
        overloads: dist_overloads,
        return_type: diagram_type(),
    });
    let scalar =
        |name, overloads, ret| ScalarSpec { name, overloads, return_type: ret, special_nulls: false, volatile: false };
    r.scalar::<Betti>(scalar(DOCS[2].name, vec![vec![Ty::Any], vec![Ty::Any, Ty::Double]], Ty::list(Ty::UBigInt)));
    r.scalar::<Entropy>(scalar(DOCS[3].name, vec![vec![Ty::Any]], Ty::Double));
    r.scalar::<Bottleneck>(scalar(
        DOCS[4].name,
        vec![vec![Ty::Any, Ty::Any], vec![Ty::Any, Ty::Any, Ty::Integer]],
        Ty::Double,
    ));
    r.scalar::<Wasserstein>(scalar(
        DOCS[5].name,
        vec![vec![Ty::Any, Ty::Any, Ty::Double], vec![Ty::Any, Ty::Any, Ty::Double, Ty::Integer]],
        Ty::Double,
    ));
    let summary = Ty::list(Ty::structure(&[
        ("dim", Ty::Integer),
        ("count", Ty::UBigInt),
        ("finite", Ty::UBigInt),
        ("max_persistence", Ty::Double),
        ("mean_persistence", Ty::Double),
        ("total_persistence", Ty::Double),
    ]));
    r.scalar::<Summary>(scalar(DOCS[6].name, vec![vec![Ty::Any]], summary));
    r.scalar::<Svg>(scalar(DOCS[7].name, vec![vec![Ty::Any], vec![Ty::Any, Ty::Boolean]], Ty::Varchar));
}

#[cfg(test)]
mod tests {
    use super::parse_memory;

    #[test]
    fn memory_limits_parse_like_duckdb_prints_them() {
        assert_eq!(parse_memory("18.6 GiB"), Some((18.6 * 1024.0 * 1024.0 * 1024.0) as usize));
        assert_eq!(parse_memory("1638.3 PiB"), Some((1638.3 * 1024f64.powi(5)) as usize));
        assert_eq!(parse_memory("500MB"), Some(500_000_000));
        assert_eq!(parse_memory("lots"), None);
    }
}

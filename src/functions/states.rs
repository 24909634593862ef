//! Analysis states as BLOBs: computed anywhere, stored anywhere, merged later.
//!
//! - `dr_profile_state(x [, exact_limit, top_k, threads])`, `dr_infer_state(x [, null_tokens,
//!   min_parse_rate [, decimal_separator]])` and `dr_correlations_state(row [, methods,
//!   sample_size])` take the arguments of `dr_profile`, `dr_infer_type` and
//!   `dr_correlations` and return the aggregate's partial state instead of its result.
//! - `dr_profile_merge(state)`, `dr_infer_merge(state)` and `dr_correlations_merge(state
//!   [, threads])` merge any number of those states (NULLs skipped) into exactly the result
//!   the one-pass aggregate gives over all their rows.
//! - `dr_state_combine(state)` merges states of one kind into one state (store it, merge it
//!   again later: incremental profiling); `dr_state_info(state)` describes a state.
//!
//! # The format (version 1)
//!
//! | bytes | content |
//! |---|---|
//! | 4 | magic `DRST` |
//! | 2 | format version, u16 little-endian (1) |
//! | 1 | kind: 1 profile, 2 type inference, 3 correlations |
//! | 1 | flags: bit 0 = empty (no row was ever added: options and input type unknown) |
//! | 8 | rows the state has seen (NULLs included), u64 LE |
//! | 2 + n | input type as DuckDB writes it (`BIGINT`, `DECIMAL(18,3)`, `STRUCT(...)` for a row) |
//! | 2 + n | options, one canonical line (`exact_limit=10000, top_k=10, bins=20, ...`) |
//! | 4 + n | body: the kernel state (see `ProfileState::write_body` and its peers) |
//! | 8 | checksum of every byte before it (64-bit FNV-1a, finalised), u64 LE |
//!
//! A merge refuses, with the reason: a BLOB that is not a state (wrong magic), a newer format
//! version, a state of another kind, a checksum mismatch (truncated or damaged), and states
//! built from different input types or options. Empty states merge with anything.

use std::marker::PhantomData;
use std::ops::Range;

use crate::ffi::entry::Registrar;
use crate::ffi::{Aggregate, AggregateSpec, Args, Data, FnResult, Scalar, ScalarSpec, Ty, Value};
use crate::functions::correlations::{self, hash_bytes, CorrAgg, DrCorrelations};
use crate::functions::infer_type::{self, DrInferType, InferAgg};
use crate::functions::profile::{profile_type, DrProfile, ProfileAgg};
use crate::kernels::correlation::CorrState;
use crate::kernels::infer::InferState;
use crate::kernels::profile::{ProfileOptions, ProfileState};
use crate::registry::{FunctionDoc, Kind};

/// The first four bytes of every state.
pub const MAGIC: &[u8; 4] = b"DRST";
/// The format version this build writes (and the newest it reads).
pub const FORMAT_VERSION: u16 = 1;
const FLAG_EMPTY: u8 = 1;
/// Longest input type or options text a state may carry.
const MAX_TEXT: usize = u16::MAX as usize;

/// What a state holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    /// `dr_profile_state`
    Profile = 1,
    /// `dr_infer_state`
    Infer = 2,
    /// `dr_correlations_state`
    Correlations = 3,
}

impl StateKind {
    fn from_u8(b: u8) -> Option<StateKind> {
        match b {
            1 => Some(StateKind::Profile),
            2 => Some(StateKind::Infer),
            3 => Some(StateKind::Correlations),
            _ => None,
        }
    }
    /// The function that makes states of this kind.
    pub fn state_function(self) -> &'static str {
        match self {
            StateKind::Profile => "dr_profile_state",
            StateKind::Infer => "dr_infer_state",
            StateKind::Correlations => "dr_correlations_state",
        }
    }
    fn merge_function(self) -> &'static str {
        match self {
            StateKind::Profile => "dr_profile_merge",
            StateKind::Infer => "dr_infer_merge",
            StateKind::Correlations => "dr_correlations_merge",
        }
    }
    /// Short name (`profile`, `infer`, `correlations`).
    pub fn name(self) -> &'static str {
        match self {
            StateKind::Profile => "profile",
            StateKind::Infer => "infer",
            StateKind::Correlations => "correlations",
        }
    }
}

/// A decoded state BLOB.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// Format version read.
    pub version: u16,
    /// Kind.
    pub kind: StateKind,
    /// No row was ever added.
    pub empty: bool,
    /// Rows seen.
    pub rows: u64,
    /// The input's SQL type.
    pub input_type: String,
    /// The options, one line.
    pub options: String,
    /// The kernel state.
    pub body: &'a [u8],
}

/// What a state aggregate hands to [`encode`].
pub struct Saved {
    empty: bool,
    rows: u64,
    input_type: String,
    options: String,
    body: Vec<u8>,
}

impl Saved {
    /// The parts of a state that saw no input (merges with anything).
    fn empty() -> Saved {
        Saved { empty: true, rows: 0, input_type: String::new(), options: String::new(), body: vec![] }
    }
}

/// Writes a state BLOB.
pub fn encode(kind: StateKind, s: &Saved) -> FnResult<Vec<u8>> {
    let text = |t: &str, what: &str| -> FnResult<u16> {
        u16::try_from(t.len())
            .map_err(|_| format!("the {what} text is {} bytes, more than a state holds ({MAX_TEXT})", t.len()))
    };
    let (tl, ol) = (text(&s.input_type, "input type")?, text(&s.options, "options")?);
    let bl = u32::try_from(s.body.len())
        .map_err(|_| format!("the state is {} bytes, more than the 4 GiB a state holds", s.body.len()))?;
    let mut out = Vec::new();
    out.try_reserve(s.body.len() + s.input_type.len() + s.options.len() + 40)
        .map_err(|_| format!("cannot allocate {} bytes for the state", s.body.len()))?;
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(kind as u8);
    out.push(if s.empty { FLAG_EMPTY } else { 0 });
    out.extend_from_slice(&s.rows.to_le_bytes());
    out.extend_from_slice(&tl.to_le_bytes());
    out.extend_from_slice(s.input_type.as_bytes());
    out.extend_from_slice(&ol.to_le_bytes());
    out.extend_from_slice(s.options.as_bytes());
    out.extend_from_slice(&bl.to_le_bytes());
    out.extend_from_slice(&s.body);
    let sum = hash_bytes(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (h, t) = b.split_at(n);
    *b = t;
    Some(h)
}

/// Reads a state BLOB; every failure says what the BLOB is and what to do.
pub fn decode(blob: &[u8]) -> FnResult<Envelope<'_>> {
    if blob.len() < 4 || &blob[..4] != MAGIC {
        let head: String = blob.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(format!(
            "the BLOB is not a dataraum state (it starts with 0x{head}, a state starts with 'DRST'); pass the BLOBs that dr_profile_state, dr_infer_state or dr_correlations_state return"
        ));
    }
    let truncated = || {
        format!(
            "the state is truncated or damaged ({} bytes); recompute it with the _state function that made it",
            blob.len()
        )
    };
    if blob.len() < 6 {
        return Err(truncated());
    }
    let version = u16::from_le_bytes([blob[4], blob[5]]);
    if version > FORMAT_VERSION {
        return Err(format!(
            "the state has format version {version}, newer than this dataraum reads (1 to {FORMAT_VERSION}); load the dataraum release that wrote it, or a newer one"
        ));
    }
    if version == 0 {
        return Err("the state has format version 0, which no dataraum release writes; recompute it".into());
    }
    if blob.len() < 4 + 2 + 1 + 1 + 8 + 2 + 2 + 4 + 8 {
        return Err(truncated());
    }
    let (payload, sum) = blob.split_at(blob.len() - 8);
    let mut sum8 = [0u8; 8];
    sum8.copy_from_slice(sum);
    if hash_bytes(payload) != u64::from_le_bytes(sum8) {
        return Err(format!(
            "the state's checksum does not match: it is truncated or damaged ({} bytes); recompute it with the _state function that made it",
            blob.len()
        ));
    }
    let mut b = &payload[6..];
    let kind_byte = take(&mut b, 1).ok_or_else(truncated)?[0];
    let kind = StateKind::from_u8(kind_byte).ok_or_else(|| {
        format!(
            "the state has kind {kind_byte}, which this dataraum does not know (1 profile, 2 infer, 3 correlations)"
        )
    })?;
    let flags = take(&mut b, 1).ok_or_else(truncated)?[0];
    let mut rows8 = [0u8; 8];
    rows8.copy_from_slice(take(&mut b, 8).ok_or_else(truncated)?);
    let text = |b: &mut &[u8]| -> FnResult<String> {
        let l = take(b, 2).ok_or_else(truncated)?;
        let n = u16::from_le_bytes([l[0], l[1]]) as usize;
        let t = take(b, n).ok_or_else(truncated)?;
        String::from_utf8(t.to_vec()).map_err(|_| truncated())
    };
    let input_type = text(&mut b)?;
    let options = text(&mut b)?;
    let l = take(&mut b, 4).ok_or_else(truncated)?;
    let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
    let body = take(&mut b, n).ok_or_else(truncated)?;
    if !b.is_empty() {
        return Err(truncated());
    }
    Ok(Envelope {
        version,
        kind,
        empty: flags & FLAG_EMPTY != 0,
        rows: u64::from_le_bytes(rows8),
        input_type,
        options,
        body,
    })
}

/// An aggregate whose state can be written to and read from a state BLOB.
pub(crate) trait Stateful: Aggregate {
    const KIND: StateKind;
    /// The state as a BLOB's parts.
    fn save(state: &Self::State) -> FnResult<Saved>;
    /// A state from a decoded, non-empty BLOB.
    fn load(env: &Envelope) -> FnResult<Self::State>;
    /// Reads the merge function's extra arguments (after the state) at `row`.
    fn merge_args(_state: &mut Self::State, _args: &Args, _row: usize) {}
}

fn profile_options_text(o: &ProfileOptions) -> String {
    format!("exact_limit={}, top_k={}, bins={}, exact_bytes={}", o.exact_limit, o.top_k, o.bins, o.exact_bytes)
}

impl Stateful for DrProfile {
    const KIND: StateKind = StateKind::Profile;
    fn save(a: &ProfileAgg) -> FnResult<Saved> {
        let Some(o) = a.options else {
            return Ok(Saved::empty());
        };
        let mut body = Vec::new();
        a.state.write_body(&mut body);
        Ok(Saved {
            empty: false,
            rows: a.state.row_count(),
            input_type: a.input_type.clone().unwrap_or_default(),
            options: profile_options_text(&o),
            body,
        })
    }
    fn load(env: &Envelope) -> FnResult<ProfileAgg> {
        let state = ProfileState::read_body(env.body).map_err(|e| damaged(env, e))?;
        let o = state.options();
        if profile_options_text(&o) != env.options {
            return Err(damaged(env, "its options do not match its body"));
        }
        Ok(ProfileAgg { state, options: Some(o), input_type: Some(env.input_type.clone()) })
    }
}

/// Body tags of an inference state: a text column's inference, or an already typed column.
const INFER_TEXT: u8 = 0;
const INFER_TYPED: u8 = 1;

impl Stateful for DrInferType {
    const KIND: StateKind = StateKind::Infer;
    fn save(a: &InferAgg) -> FnResult<Saved> {
        if !a.configured && a.typed.is_none() {
            return Ok(Saved::empty());
        }
        let mut body = Vec::new();
        let rows = match &a.typed {
            Some((_, nulls, non_null)) => {
                body.push(INFER_TYPED);
                body.extend_from_slice(&nulls.to_le_bytes());
                body.extend_from_slice(&non_null.to_le_bytes());
                nulls + non_null
            }
            None => {
                body.push(INFER_TEXT);
                a.state.write_body(&mut body);
                a.state.row_count()
            }
        };
        let input_type = a.input_type.clone().or_else(|| a.typed.as_ref().map(|t| t.0.clone())).unwrap_or_default();
        Ok(Saved { empty: false, rows, input_type, options: a.state.options_text(), body })
    }
    fn load(env: &Envelope) -> FnResult<InferAgg> {
        let (&tag, rest) = env.body.split_first().ok_or_else(|| damaged(env, "its body is empty"))?;
        match tag {
            INFER_TYPED if rest.len() == 16 => {
                let mut w = [0u8; 8];
                w.copy_from_slice(&rest[..8]);
                let nulls = u64::from_le_bytes(w);
                w.copy_from_slice(&rest[8..]);
                let non_null = u64::from_le_bytes(w);
                Ok(InferAgg {
                    typed: Some((env.input_type.clone(), nulls, non_null)),
                    input_type: Some(env.input_type.clone()),
                    ..Default::default()
                })
            }
            INFER_TEXT => {
                let state = InferState::read_body(rest).map_err(|e| damaged(env, e))?;
                if state.options_text() != env.options {
                    return Err(damaged(env, "its options do not match its body"));
                }
                Ok(InferAgg { state, configured: true, typed: None, input_type: Some(env.input_type.clone()) })
            }
            _ => Err(damaged(env, "its body has an unknown tag")),
        }
    }
}

impl Stateful for DrCorrelations {
    const KIND: StateKind = StateKind::Correlations;
    fn save(a: &CorrAgg) -> FnResult<Saved> {
        if !a.configured {
            return Ok(Saved::empty());
        }
        let mut body = Vec::new();
        a.state.write_body(&mut body);
        Ok(Saved {
            empty: false,
            rows: a.state.row_count(),
            input_type: a.input_type.clone().unwrap_or_default(),
            options: a.state.options_text(),
            body,
        })
    }
    fn load(env: &Envelope) -> FnResult<CorrAgg> {
        let state = CorrState::read_body(env.body).map_err(|e| damaged(env, e))?;
        if state.options_text() != env.options {
            return Err(damaged(env, "its options do not match its body"));
        }
        Ok(CorrAgg { state, configured: true, threads: 1, input_type: Some(env.input_type.clone()) })
    }
    fn merge_args(a: &mut CorrAgg, args: &Args, row: usize) {
        if args.len() > 1 {
            if let Some(t) = args.column(1).f64_at(row) {
                a.threads = t.clamp(1.0, 1024.0) as usize;
            }
        }
    }
}

fn damaged(env: &Envelope, why: impl std::fmt::Display) -> String {
    format!("the {} state is damaged ({why}); recompute it with {}", env.kind.name(), env.kind.state_function())
}

/// `dr_*_state`: the aggregate `A` with its result replaced by its state.
pub(crate) struct StateAgg<A>(PhantomData<A>);

impl<A: Stateful> Aggregate for StateAgg<A> {
    type State = A::State;
    fn update(s: &mut A::State, args: &Args, rows: Range<usize>) -> FnResult<()> {
        A::update(s, args, rows)
    }
    fn combine(source: &A::State, target: &mut A::State) -> FnResult<()> {
        A::combine(source, target)
    }
    fn finalize(s: &mut A::State) -> FnResult<Value> {
        Ok(Value::Blob(encode(A::KIND, &A::save(s)?)?))
    }
    fn state_bytes(s: &A::State) -> usize {
        A::state_bytes(s)
    }
}

/// The identity of a state's inputs: merging needs equal input types and options.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Identity {
    input_type: String,
    options: String,
}

fn check_identity(kind: StateKind, have: &mut Option<Identity>, new: &Identity) -> FnResult<()> {
    // The two sides in sorted order: the message does not depend on which state came first.
    let pair = |a: &str, b: &str| if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) };
    match have {
        None => {
            *have = Some(new.clone());
            Ok(())
        }
        Some(h) if h.input_type != new.input_type => {
            let (a, b) = pair(&h.input_type, &new.input_type);
            Err(format!(
                "cannot merge states of different input types, {a} and {b}; build every {} state from the same column type (cast where the files differ)",
                kind.name()
            ))
        }
        Some(h) if h.options != new.options => {
            let (a, b) = pair(&h.options, &new.options);
            Err(format!(
                "cannot merge states built with different options: '{a}' and '{b}'; build every state with the same options"
            ))
        }
        Some(_) => Ok(()),
    }
}

/// Merge state: the aggregate's own state plus the identity of the states merged into it.
pub(crate) struct Merging<S> {
    inner: S,
    identity: Option<Identity>,
}

impl<S: Default> Default for Merging<S> {
    fn default() -> Self {
        Merging { inner: S::default(), identity: None }
    }
}

/// Decodes the valid BLOBs of `rows` and hands each non-empty one to `f`.
fn each_state(args: &Args, rows: Range<usize>, mut f: impl FnMut(&Envelope, usize) -> FnResult<()>) -> FnResult<()> {
    let col = args.column(0);
    let Data::Blob(blobs) = &col.data else {
        return Err(format!("expects state BLOBs, got a {} value", col.ty.sql()));
    };
    for i in rows {
        if !col.is_valid(i) {
            continue;
        }
        let env = decode(blobs.get(i))?;
        f(&env, i)?;
    }
    Ok(())
}

fn merge_one<A: Stateful>(m: &mut Merging<A::State>, env: &Envelope) -> FnResult<()> {
    if env.kind != A::KIND {
        return Err(format!(
            "this is a {} state (made by {}); {} merges {} states",
            env.kind.name(),
            env.kind.state_function(),
            A::KIND.merge_function(),
            A::KIND.state_function()
        ));
    }
    if env.empty {
        return Ok(());
    }
    check_identity(
        A::KIND,
        &mut m.identity,
        &Identity { input_type: env.input_type.clone(), options: env.options.clone() },
    )?;
    let loaded = A::load(env)?;
    A::combine(&loaded, &mut m.inner)
}

fn merge_states<A: Stateful>(source: &Merging<A::State>, target: &mut Merging<A::State>) -> FnResult<()> {
    if let Some(id) = &source.identity {
        check_identity(A::KIND, &mut target.identity, id)?;
    }
    A::combine(&source.inner, &mut target.inner)
}

/// `dr_*_merge`: merges states into the aggregate `A`'s result.
pub(crate) struct MergeAgg<A>(PhantomData<A>);

impl<A: Stateful> Aggregate for MergeAgg<A>
where
    A::State: Default + Send,
{
    type State = Merging<A::State>;
    fn update(m: &mut Self::State, args: &Args, rows: Range<usize>) -> FnResult<()> {
        each_state(args, rows, |env, i| {
            A::merge_args(&mut m.inner, args, i);
            merge_one::<A>(m, env)
        })
    }
    fn combine(source: &Self::State, target: &mut Self::State) -> FnResult<()> {
        merge_states::<A>(source, target)
    }
    fn finalize(m: &mut Self::State) -> FnResult<Value> {
        A::finalize(&mut m.inner)
    }
    fn state_bytes(m: &Self::State) -> usize {
        A::state_bytes(&m.inner)
    }
}

/// `dr_state_combine` state: the states merged so far, of whichever kind came first.
#[derive(Default)]
pub(crate) enum AnyMerging {
    #[default]
    None,
    Profile(Box<Merging<ProfileAgg>>),
    Infer(Box<Merging<InferAgg>>),
    Correlations(Box<Merging<CorrAgg>>),
}

impl AnyMerging {
    fn kind(&self) -> Option<StateKind> {
        match self {
            AnyMerging::None => None,
            AnyMerging::Profile(_) => Some(StateKind::Profile),
            AnyMerging::Infer(_) => Some(StateKind::Infer),
            AnyMerging::Correlations(_) => Some(StateKind::Correlations),
        }
    }
    fn start(kind: StateKind) -> AnyMerging {
        match kind {
            StateKind::Profile => AnyMerging::Profile(Box::default()),
            StateKind::Infer => AnyMerging::Infer(Box::default()),
            StateKind::Correlations => AnyMerging::Correlations(Box::default()),
        }
    }
    fn ensure(&mut self, kind: StateKind) -> FnResult<()> {
        match self.kind() {
            None => {
                *self = AnyMerging::start(kind);
                Ok(())
            }
            Some(k) if k == kind => Ok(()),
            Some(k) => Err(format!(
                "cannot combine {} states with {} states; combine states of one kind per call",
                k.name(),
                kind.name()
            )),
        }
    }
}

struct StateCombine;

impl Aggregate for StateCombine {
    type State = AnyMerging;
    fn update(m: &mut AnyMerging, args: &Args, rows: Range<usize>) -> FnResult<()> {
        each_state(args, rows, |env, _| {
            m.ensure(env.kind)?;
            match m {
                AnyMerging::Profile(p) => merge_one::<DrProfile>(p, env),
                AnyMerging::Infer(p) => merge_one::<DrInferType>(p, env),
                AnyMerging::Correlations(p) => merge_one::<DrCorrelations>(p, env),
                AnyMerging::None => Ok(()),
            }
        })
    }
    fn combine(source: &AnyMerging, target: &mut AnyMerging) -> FnResult<()> {
        let Some(kind) = source.kind() else { return Ok(()) };
        target.ensure(kind)?;
        match (source, target) {
            (AnyMerging::Profile(s), AnyMerging::Profile(t)) => merge_states::<DrProfile>(s, t),
            (AnyMerging::Infer(s), AnyMerging::Infer(t)) => merge_states::<DrInferType>(s, t),
            (AnyMerging::Correlations(s), AnyMerging::Correlations(t)) => merge_states::<DrCorrelations>(s, t),
            _ => Ok(()),
        }
    }
    fn finalize(m: &mut AnyMerging) -> FnResult<Value> {
        let blob = match m {
            AnyMerging::None => return Ok(Value::Null),
            AnyMerging::Profile(p) => encode(StateKind::Profile, &DrProfile::save(&p.inner)?)?,
            AnyMerging::Infer(p) => encode(StateKind::Infer, &DrInferType::save(&p.inner)?)?,
            AnyMerging::Correlations(p) => encode(StateKind::Correlations, &DrCorrelations::save(&p.inner)?)?,
        };
        Ok(Value::Blob(blob))
    }
}

struct StateInfo;

impl Scalar for StateInfo {
    fn invoke(args: &Args, row: usize) -> FnResult<Value> {
        let col = args.column(0);
        let Data::Blob(blobs) = &col.data else {
            return Err(format!("expects a state BLOB, got a {} value", col.ty.sql()));
        };
        if !col.is_valid(row) {
            return Ok(Value::Null);
        }
        let blob = blobs.get(row);
        let env = decode(blob)?;
        Ok(Value::Struct(vec![
            Value::from(env.kind.name()),
            Value::Int(i64::from(env.version)),
            Value::Bool(env.empty),
            Value::UInt(env.rows),
            Value::from((!env.empty).then_some(env.input_type.as_str())),
            Value::from((!env.empty).then_some(env.options.as_str())),
            Value::UInt(blob.len() as u64),
        ]))
    }
}

fn info_type() -> Ty {
    Ty::structure(&[
        ("kind", Ty::Varchar),
        ("format_version", Ty::BigInt),
        ("empty", Ty::Boolean),
        ("row_count", Ty::UBigInt),
        ("input_type", Ty::Varchar),
        ("options", Ty::Varchar),
        ("bytes", Ty::UBigInt),
    ])
}

/// Documentation of every function here.
pub const DOCS: [FunctionDoc; 8] = [
    FunctionDoc {
        name: "dr_profile_state",
        kind: Kind::Aggregate,
        parameters: "x ANY [, exact_limit BIGINT, top_k BIGINT, threads BIGINT]",
        returns: "BLOB",
        description: "The partial state of dr_profile as a versioned BLOB (format: README, 'State BLOBs'): store it, ship it, and merge any number of them with dr_profile_merge into exactly the profile of all their rows, whatever the split.",
        example: "SELECT octet_length(dr_profile_state(x)) > 0 FROM range(1000) t(x);",
    },
    FunctionDoc {
        name: "dr_profile_merge",
        kind: Kind::Aggregate,
        parameters: "state BLOB",
        returns: "the STRUCT dr_profile returns",
        description: "Merges dr_profile_state BLOBs (NULLs skipped) into the profile of all their rows: bit-identical to dr_profile over those rows in one pass, in exact and in sketch mode. States must come from the same input type and options.",
        example: "SELECT dr_profile_merge(s).row_count FROM (SELECT dr_profile_state(x) AS s FROM range(1000) t(x) GROUP BY x % 3);",
    },
    FunctionDoc {
        name: "dr_infer_state",
        kind: Kind::Aggregate,
        parameters: "x ANY [, null_tokens VARCHAR, min_parse_rate DOUBLE [, decimal_separator VARCHAR]]",
        returns: "BLOB",
        description: "The partial state of dr_infer_type as a versioned BLOB; dr_infer_merge merges any number of them into exactly the inference over all their rows.",
        example: "SELECT octet_length(dr_infer_state(x)) > 0 FROM (VALUES ('1'), ('2.5')) t(x);",
    },
    FunctionDoc {
        name: "dr_infer_merge",
        kind: Kind::Aggregate,
        parameters: "state BLOB",
        returns: "the STRUCT dr_infer_type returns",
        description: "Merges dr_infer_state BLOBs (NULLs skipped) into the type inference of all their rows, identical to dr_infer_type over those rows in one pass.",
        example: "SELECT dr_infer_merge(s).inferred_type FROM (SELECT dr_infer_state(x) AS s FROM (VALUES ('1', 1), ('2', 2)) t(x, g) GROUP BY g);",
    },
    FunctionDoc {
        name: "dr_correlations_state",
        kind: Kind::Aggregate,
        parameters: "row STRUCT [, methods VARCHAR, sample_size BIGINT]",
        returns: "BLOB",
        description: "The partial state of dr_correlations over whole rows as a versioned BLOB; dr_correlations_merge merges any number of them into exactly the correlations and dependencies of all their rows.",
        example: "SELECT octet_length(dr_correlations_state(t)) > 0 FROM (SELECT range AS x, range * 2 AS y FROM range(100)) t;",
    },
    FunctionDoc {
        name: "dr_correlations_merge",
        kind: Kind::Aggregate,
        parameters: "state BLOB [, threads BIGINT]",
        returns: "the STRUCT dr_correlations returns",
        description: "Merges dr_correlations_state BLOBs (NULLs skipped) into the result of dr_correlations over all their rows, identical whatever the split; threads sets the finalize workers (default 1).",
        example: "SELECT len(dr_correlations_merge(s).correlations) FROM (SELECT dr_correlations_state(t) AS s FROM (SELECT range AS x, range * 2 AS y FROM range(100)) t GROUP BY x % 2);",
    },
    FunctionDoc {
        name: "dr_state_combine",
        kind: Kind::Aggregate,
        parameters: "state BLOB",
        returns: "BLOB",
        description: "Merges state BLOBs of one kind (profile, infer or correlations) into one state BLOB, to store and merge again later: yesterday's state plus today's rows is the state of both.",
        example: "SELECT dr_state_info(dr_state_combine(s)).row_count FROM (SELECT dr_profile_state(x) AS s FROM range(100) t(x) GROUP BY x % 4);",
    },
    FunctionDoc {
        name: "dr_state_info",
        kind: Kind::Scalar,
        parameters: "state BLOB",
        returns: "STRUCT(kind VARCHAR, format_version BIGINT, empty BOOLEAN, row_count UBIGINT, input_type VARCHAR, options VARCHAR, bytes UBIGINT)",
        description: "What a state BLOB holds: its kind, format version, rows, input type, options and size; a BLOB that is not a valid state is an error saying why.",
        example: "SELECT dr_state_info(dr_profile_state(x)).kind FROM range(10) t(x);",
    },
];

/// Registers every function here.
pub fn register(r: &mut Registrar) {
    r.aggregate::<StateAgg<DrProfile>>(AggregateSpec {
        name: DOCS[0].name,
        overloads: vec![
            vec![Ty::Any],
            vec![Ty::Any, Ty::BigInt],
            vec![Ty::Any, Ty::BigInt, Ty::BigInt],
            vec![Ty::Any, Ty::BigInt, Ty::BigInt, Ty::BigInt],
        ],
        return_type: Ty::Blob,
    });
    r.aggregate::<MergeAgg<DrProfile>>(AggregateSpec {
        name: DOCS[1].name,
        overloads: vec![vec![Ty::Blob]],
        return_type: profile_type(),
    });
    r.aggregate::<StateAgg<DrInferType>>(AggregateSpec {
        name: DOCS[2].name,
        overloads: vec![
            vec![Ty::Any],
            vec![Ty::Any, Ty::Varchar, Ty::Double],
            vec![Ty::Any, Ty::Varchar, Ty::Double, Ty::Varchar],
        ],
        return_type: Ty::Blob,
    });
    r.aggregate::<MergeAgg<DrInferType>>(AggregateSpec {
        name: DOCS[3].name,
        overloads: vec![vec![Ty::Blob]],
        return_type: infer_type::return_type(),
    });
    r.aggregate::<StateAgg<DrCorrelations>>(AggregateSpec {
        name: DOCS[4].name,
        overloads: vec![vec![Ty::Any], vec![Ty::Any, Ty::Varchar, Ty::BigInt]],
        return_type: Ty::Blob,
    });
    r.aggregate::<MergeAgg<DrCorrelations>>(AggregateSpec {
        name: DOCS[5].name,
        overloads: vec![vec![Ty::Blob], vec![Ty::Blob, Ty::BigInt]],
        return_type: correlations::return_type(),
    });
    r.aggregate::<StateCombine>(AggregateSpec {
        name: DOCS[6].name,
        overloads: vec![vec![Ty::Blob]],
        return_type: Ty::Blob,
    });
    r.scalar::<StateInfo>(ScalarSpec {
        name: DOCS[7].name,
        overloads: vec![vec![Ty::Blob]],
        return_type: info_type(),
        special_nulls: false,
        volatile: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Saved {
        Saved {
            empty: false,
            rows: 42,
            input_type: "BIGINT".into(),
            options: "exact_limit=10, top_k=3".into(),
            body: vec![1, 2, 3, 4, 5],
        }
    }

    #[test]
    fn envelope_round_trips() {
        let b = encode(StateKind::Profile, &saved()).unwrap();
        let e = decode(&b).unwrap();
        assert_eq!((e.kind, e.version, e.empty, e.rows), (StateKind::Profile, 1, false, 42));
        assert_eq!(
            (e.input_type.as_str(), e.options.as_str(), e.body),
            ("BIGINT", "exact_limit=10, top_k=3", &[1u8, 2, 3, 4, 5][..])
        );
    }

    #[test]
    fn every_truncation_and_flip_is_refused() {
        let b = encode(StateKind::Infer, &saved()).unwrap();
        for n in 0..b.len() {
            assert!(decode(&b[..n]).is_err(), "truncated to {n}");
        }
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut c = b.clone();
                c[i] ^= 1 << bit;
                // A flip in the version may read as a newer version; every flip is refused.
                assert!(decode(&c).is_err(), "flip byte {i} bit {bit}");
            }
        }
    }

    /// Envelopes around real states whose body bytes are damaged but whose checksum is
    /// recomputed, so the kernel readers see every damage: an error or a usable state, never
    /// a panic, and a loaded state finalizes.
    #[test]
    fn damaged_bodies_behind_valid_checksums_never_panic() {
        let mut profile = ProfileAgg {
            state: ProfileState::with_options(ProfileOptions { exact_limit: 50, ..Default::default() }),
            options: Some(ProfileOptions { exact_limit: 50, ..Default::default() }),
            input_type: Some("DOUBLE".into()),
        };
        let xs: Vec<f64> = (0..3000).map(|i| ((i * 7919) % 1000) as f64 / 3.0 - 100.0).collect();
        profile.state.update_f64(&xs, None);
        let mut text = ProfileAgg {
            state: ProfileState::with_options(ProfileOptions::default()),
            options: Some(ProfileOptions::default()),
            input_type: Some("VARCHAR".into()),
        };
        for i in 0..500 {
            text.state.add_text(format!("k{}", i % 37).as_bytes());
        }
        let mut infer = InferAgg::default();
        infer.state = InferState::default();
        infer.configured = true;
        infer.input_type = Some("VARCHAR".into());
        for v in ["1", "2.5", "n/a", "2024-01-01", "x", "17%"] {
            infer.state.add(v.as_bytes());
        }
        let blobs = [
            (StateKind::Profile, encode(StateKind::Profile, &DrProfile::save(&profile).unwrap()).unwrap()),
            (StateKind::Profile, encode(StateKind::Profile, &DrProfile::save(&text).unwrap()).unwrap()),
            (StateKind::Infer, encode(StateKind::Infer, &DrInferType::save(&infer).unwrap()).unwrap()),
        ];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut loaded, mut refused) = (0, 0);
        for (kind, blob) in &blobs {
            let env = decode(blob).unwrap();
            let head = blob.len() - 8 - env.body.len() - 4;
            let body = env.body.to_vec();
            let mut variants: Vec<Vec<u8>> = (0..body.len().min(400)).map(|n| body[..n].to_vec()).collect();
            for _ in 0..600 {
                let mut b = body.clone();
                let at = (next() as usize) % b.len();
                b[at] ^= 1 << (next() % 8);
                variants.push(b);
            }
            for b in variants {
                let saved = Saved {
                    empty: false,
                    rows: env.rows,
                    input_type: env.input_type.clone(),
                    options: env.options.clone(),
                    body: b,
                };
                let again = encode(*kind, &saved).unwrap();
                assert_eq!(&again[..head], &blob[..head]);
                let e = decode(&again).unwrap();
                let ok = match kind {
                    StateKind::Profile => DrProfile::load(&e).map(|mut a| DrProfile::finalize(&mut a).is_ok()),
                    _ => DrInferType::load(&e).map(|mut a| DrInferType::finalize(&mut a).is_ok()),
                };
                match ok {
                    Ok(done) => {
                        assert!(done);
                        loaded += 1;
                    }
                    Err(msg) => {
                        assert!(msg.contains("damaged"), "{msg}");
                        refused += 1;
                    }
                }
            }
        }
        assert!(refused > 1000 && loaded > 0, "refused {refused}, loaded {loaded}");
    }

    #[test]
    fn errors_say_why() {
        let e = decode(b"PAR1xxxx").unwrap_err();
        assert!(e.contains("not a dataraum state"), "{e}");
        let mut b = encode(StateKind::Profile, &saved()).unwrap();
        b[4] = 9;
        let e = decode(&b).unwrap_err();
        assert!(e.contains("format version 9"), "{e}");
        let mut id = None;
        check_identity(StateKind::Profile, &mut id, &Identity { input_type: "BIGINT".into(), options: "a".into() })
            .unwrap();
        let e = check_identity(
            StateKind::Profile,
            &mut id,
            &Identity { input_type: "VARCHAR".into(), options: "a".into() },
        )
        .unwrap_err();
        assert!(e.contains("BIGINT") && e.contains("VARCHAR"), "{e}");
        let e =
            check_identity(StateKind::Profile, &mut id, &Identity { input_type: "BIGINT".into(), options: "b".into() })
                .unwrap_err();
        assert!(e.contains("different options"), "{e}");
    }
}

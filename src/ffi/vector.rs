//! Vector readers: safe, typed, zero-copy views of DuckDB input vectors.
//!
//! DuckDB flattens the inputs of C API aggregates and scalar functions before calling
//! us (`CAPIAggregateUpdate` calls `Flatten()`), so every vector here is a flat vector:
//! a data buffer, an optional validity bitmask, and for nested types child vectors.
//! [`Column::read`] inspects the runtime type once per chunk and returns a [`Column`]
//! whose [`Data`] variant matches it; unsupported types become [`Data::Unsupported`] so
//! the function can refuse them with a message that names the type.

use libduckdb_sys as sys;

use super::types::{InputType, TimeUnit};

/// Validity of the rows of a vector: `None` means every row is valid.
#[derive(Clone, Copy)]
pub struct Validity<'a> {
    mask: Option<&'a [u64]>,
}

impl<'a> Validity<'a> {
    /// All rows valid.
    pub fn all_valid() -> Self {
        Validity { mask: None }
    }
    /// Row `i` is not NULL.
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        match self.mask {
            None => true,
            Some(m) => (m[i >> 6] >> (i & 63)) & 1 == 1,
        }
    }
    /// The raw bitmask (bit `i` of word `i / 64` set = row `i` valid), if any row may be NULL.
    pub fn mask(&self) -> Option<&'a [u64]> {
        self.mask
    }
}

/// A DuckDB string (VARCHAR, BLOB, BIT, BIGNUM payloads): inlined up to 12 bytes,
/// otherwise a pointer into the vector's string heap.
#[derive(Clone, Copy)]
pub struct Strings<'a> {
    raw: &'a [sys::duckdb_string_t],
}

impl<'a> Strings<'a> {
    /// Bytes of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let s = &self.raw[i];
        // Safety: duckdb_string_t is a union whose first 4 bytes are the length in both
        // variants; strings of at most 12 bytes are inlined right after the length,
        // longer ones point to `length` bytes that live as long as the vector.
        unsafe {
            let len = s.value.inlined.length as usize;
            if len <= 12 {
                let p = s.value.inlined.inlined.as_ptr() as *const u8;
                std::slice::from_raw_parts(p, len)
            } else {
                std::slice::from_raw_parts(s.value.pointer.ptr as *const u8, len)
            }
        }
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    /// True if there are no rows.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// A 128-bit integer column stored as (lower u64, upper i64) pairs.
#[derive(Clone, Copy)]
pub struct Int128s<'a> {
    raw: &'a [sys::duckdb_hugeint],
}

impl<'a> Int128s<'a> {
    /// Signed value of row `i` (HUGEINT, DECIMAL(38)).
    #[inline]
    pub fn get(&self, i: usize) -> i128 {
        let h = self.raw[i];
        ((h.upper as i128) << 64) | h.lower as i128
    }
    /// Unsigned value of row `i` (UHUGEINT).
    #[inline]
    pub fn get_unsigned(&self, i: usize) -> u128 {
        let h = self.raw[i];
        ((h.upper as u64 as u128) << 64) | h.lower as u128
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    /// True if there are no rows.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// Physical storage of a DECIMAL, chosen by DuckDB from its width.
#[derive(Clone, Copy)]
pub enum DecimalData<'a> {
    /// width 1-4
    I16(&'a [i16]),
    /// width 5-9
    I32(&'a [i32]),
    /// width 10-18
    I64(&'a [i64]),
    /// width 19-38
    I128(Int128s<'a>),
}

impl<'a> DecimalData<'a> {
    /// Unscaled value of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> i128 {
        match self {
            DecimalData::I16(v) => v[i] as i128,
            DecimalData::I32(v) => v[i] as i128,
            DecimalData::I64(v) => v[i] as i128,
            DecimalData::I128(v) => v.get(i),
        }
    }
}

/// ENUM codes, whose width depends on the dictionary size.
#[derive(Clone, Copy)]
pub enum EnumCodes<'a> {
    /// up to 255 entries
    U8(&'a [u8]),
    /// up to 65535 entries
    U16(&'a [u16]),
    /// more
    U32(&'a [u32]),
}

impl<'a> EnumCodes<'a> {
    /// Dictionary index of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> usize {
        match self {
            EnumCodes::U8(v) => v[i] as usize,
            EnumCodes::U16(v) => v[i] as usize,
            EnumCodes::U32(v) => v[i] as usize,
        }
    }
}

/// Interval as DuckDB stores it.
pub type Interval = sys::duckdb_interval;

/// The typed data of a flat vector.
pub enum Data<'a> {
    /// BOOLEAN
    Bool(&'a [bool]),
    /// TINYINT
    I8(&'a [i8]),
    /// SMALLINT
    I16(&'a [i16]),
    /// INTEGER
    I32(&'a [i32]),
    /// BIGINT
    I64(&'a [i64]),
    /// UTINYINT
    U8(&'a [u8]),
    /// USMALLINT
    U16(&'a [u16]),
    /// UINTEGER
    U32(&'a [u32]),
    /// UBIGINT
    U64(&'a [u64]),
    /// HUGEINT
    I128(Int128s<'a>),
    /// UHUGEINT (read with [`Int128s::get_unsigned`])
    U128(Int128s<'a>),
    /// FLOAT
    F32(&'a [f32]),
    /// DOUBLE
    F64(&'a [f64]),
    /// DECIMAL(width, scale)
    Decimal {
        /// total digits
        width: u8,
        /// digits after the point
        scale: u8,
        /// unscaled values
        data: DecimalData<'a>,
    },
    /// VARCHAR (and aliases such as JSON)
    Varchar(Strings<'a>),
    /// BLOB
    Blob(Strings<'a>),
    /// DATE: days since 1970-01-01
    Date(&'a [i32]),
    /// TIME: microseconds since midnight
    Time(&'a [i64]),
    /// TIME_NS: nanoseconds since midnight
    TimeNs(&'a [i64]),
    /// TIME WITH TIME ZONE: packed micros (upper 40 bits) and offset (lower 24 bits)
    TimeTz(&'a [u64]),
    /// TIMESTAMP variants: ticks since the epoch in `unit`
    Timestamp(TimeUnit, &'a [i64]),
    /// TIMESTAMPTZ: microseconds since the epoch, UTC
    TimestampTz(&'a [i64]),
    /// TIMESTAMP_NS WITH TIME ZONE: nanoseconds since the epoch, UTC
    TimestampTzNs(&'a [i64]),
    /// INTERVAL
    Interval(&'a [Interval]),
    /// UUID: 128-bit with the top bit flipped (DuckDB's sortable encoding)
    Uuid(Int128s<'a>),
    /// ENUM codes; the dictionary is in the column's type ([`Column::enum_dictionary`])
    Enum(EnumCodes<'a>),
    /// LIST: (offset, length) per row into `child`
    List(&'a [sys::duckdb_list_entry], Box<Column<'a>>),
    /// ARRAY of fixed `size`: row `i` is child rows `i*size .. (i+1)*size`
    Array(usize, Box<Column<'a>>),
    /// STRUCT: one child column per field, same row count
    Struct(Vec<(String, Column<'a>)>),
    /// MAP: a list of STRUCT(key, value)
    Map(&'a [sys::duckdb_list_entry], Box<Column<'a>>, Box<Column<'a>>),
    /// BIT: DuckDB's bitstring payload (first byte = padding bits)
    Bit(Strings<'a>),
    /// BIGNUM: DuckDB's variable-length integer payload
    Bignum(Strings<'a>),
    /// A type no reader handles; the string is its SQL name.
    Unsupported(String),
}

/// A flat vector: its type, row count, validity and typed data.
pub struct Column<'a> {
    /// Resolved runtime type.
    pub ty: InputType,
    /// Number of rows.
    pub len: usize,
    /// Which rows are not NULL.
    pub validity: Validity<'a>,
    /// Typed values.
    pub data: Data<'a>,
}

impl<'a> Column<'a> {
    /// Reads a flat vector of `len` rows.
    ///
    /// # Safety
    /// `v` must be a valid, flat vector holding at least `len` rows that outlives `'a`.
    pub(crate) unsafe fn read(v: sys::duckdb_vector, len: usize) -> Column<'a> {
        let mut lt = sys::duckdb_vector_get_column_type(v);
        let ty = InputType::from_raw(lt);
        sys::duckdb_destroy_logical_type(&mut lt);
        Self::read_typed(v, len, ty)
    }

    unsafe fn read_typed(v: sys::duckdb_vector, len: usize, ty: InputType) -> Column<'a> {
        let validity_ptr = sys::duckdb_vector_get_validity(v);
        let validity = if validity_ptr.is_null() {
            Validity::all_valid()
        } else {
            Validity { mask: Some(std::slice::from_raw_parts(validity_ptr, len.div_ceil(64))) }
        };
        let data_ptr = sys::duckdb_vector_get_data(v);
        macro_rules! slice {
            ($t:ty) => {
                std::slice::from_raw_parts(data_ptr as *const $t, len)
            };
        }
        let data = match &ty {
            InputType::Boolean => Data::Bool(slice!(bool)),
            InputType::TinyInt => Data::I8(slice!(i8)),
            InputType::SmallInt => Data::I16(slice!(i16)),
            InputType::Integer => Data::I32(slice!(i32)),
            InputType::BigInt => Data::I64(slice!(i64)),
            InputType::UTinyInt => Data::U8(slice!(u8)),
            InputType::USmallInt => Data::U16(slice!(u16)),
            InputType::UInteger => Data::U32(slice!(u32)),
            InputType::UBigInt => Data::U64(slice!(u64)),
            InputType::HugeInt => Data::I128(Int128s { raw: slice!(sys::duckdb_hugeint) }),
            InputType::UHugeInt => Data::U128(Int128s { raw: slice!(sys::duckdb_hugeint) }),
            InputType::Float => Data::F32(slice!(f32)),
            InputType::Double => Data::F64(slice!(f64)),
            InputType::Decimal { width, scale } => {
                let data = match width {
                    0..=4 => DecimalData::I16(slice!(i16)),
                    5..=9 => DecimalData::I32(slice!(i32)),
                    10..=18 => DecimalData::I64(slice!(i64)),
                    _ => DecimalData::I128(Int128s { raw: slice!(sys::duckdb_hugeint) }),
                };
                Data::Decimal { width: *width, scale: *scale, data }
            }
            InputType::Varchar(_) => Data::Varchar(Strings { raw: slice!(sys::duckdb_string_t) }),
            InputType::Blob => Data::Blob(Strings { raw: slice!(sys::duckdb_string_t) }),
            InputType::Bit => Data::Bit(Strings { raw: slice!(sys::duckdb_string_t) }),
            InputType::Bignum => Data::Bignum(Strings { raw: slice!(sys::duckdb_string_t) }),
            InputType::Date => Data::Date(slice!(i32)),
            InputType::Time => Data::Time(slice!(i64)),
            InputType::TimeNs => Data::TimeNs(slice!(i64)),
            InputType::TimeTz => Data::TimeTz(slice!(u64)),
            InputType::Timestamp(u) => Data::Timestamp(*u, slice!(i64)),
            InputType::TimestampTz => Data::TimestampTz(slice!(i64)),
            InputType::TimestampTzNs => Data::TimestampTzNs(slice!(i64)),
            InputType::Interval => Data::Interval(slice!(Interval)),
            InputType::Uuid => Data::Uuid(Int128s { raw: slice!(sys::duckdb_hugeint) }),
            InputType::Enum(dict) => {
                let codes = if dict.len() <= u8::MAX as usize {
                    EnumCodes::U8(slice!(u8))
                } else if dict.len() <= u16::MAX as usize {
                    EnumCodes::U16(slice!(u16))
                } else {
                    EnumCodes::U32(slice!(u32))
                };
                Data::Enum(codes)
            }
            InputType::List(child_ty) => {
                let child = sys::duckdb_list_vector_get_child(v);
                let child_len = sys::duckdb_list_vector_get_size(v) as usize;
                let c = Column::read_typed(child, child_len, (**child_ty).clone());
                Data::List(slice!(sys::duckdb_list_entry), Box::new(c))
            }
            InputType::Array(child_ty, size) => {
                let child = sys::duckdb_array_vector_get_child(v);
                let c = Column::read_typed(child, len * size, (**child_ty).clone());
                Data::Array(*size, Box::new(c))
            }
            InputType::Struct(fields) => {
                let mut children = Vec::with_capacity(fields.len());
                for (i, (name, fty)) in fields.iter().enumerate() {
                    let child = sys::duckdb_struct_vector_get_child(v, i as u64);
                    children.push((name.clone(), Column::read_typed(child, len, fty.clone())));
                }
                Data::Struct(children)
            }
            InputType::Map(kt, vt) => {
                // A MAP is physically LIST(STRUCT(key, value)).
                let child = sys::duckdb_list_vector_get_child(v);
                let child_len = sys::duckdb_list_vector_get_size(v) as usize;
                let keys = Column::read_typed(sys::duckdb_struct_vector_get_child(child, 0), child_len, (**kt).clone());
                let vals = Column::read_typed(sys::duckdb_struct_vector_get_child(child, 1), child_len, (**vt).clone());
                Data::Map(slice!(sys::duckdb_list_entry), Box::new(keys), Box::new(vals))
            }
            InputType::Unsupported(name) => Data::Unsupported(name.clone()),
        };
        Column { ty, len, validity, data }
    }

    /// True if row `i` is not NULL.
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        self.validity.is_valid(i)
    }

    /// Row `i` as a number, for numeric, boolean and temporal columns (temporal as
    /// epoch seconds / seconds since midnight); `None` for NULL and other types.
    pub fn f64_at(&self, i: usize) -> Option<f64> {
        if !self.is_valid(i) {
            return None;
        }
        Some(match &self.data {
            Data::Bool(v) => v[i] as u8 as f64,
            Data::I8(v) => v[i] as f64,
            Data::I16(v) => v[i] as f64,
            Data::I32(v) => v[i] as f64,
            Data::I64(v) => v[i] as f64,
            Data::U8(v) => v[i] as f64,
            Data::U16(v) => v[i] as f64,
            Data::U32(v) => v[i] as f64,
            Data::U64(v) => v[i] as f64,
            Data::I128(v) => v.get(i) as f64,
            Data::U128(v) => v.get_unsigned(i) as f64,
            Data::F32(v) => v[i] as f64,
            Data::F64(v) => v[i],
            Data::Decimal { scale, data, .. } => data.get(i) as f64 / 10f64.powi(*scale as i32),
            Data::Date(v) => v[i] as f64 * 86_400.0,
            Data::Time(v) => v[i] as f64 / 1e6,
            Data::TimeNs(v) => v[i] as f64 / 1e9,
            Data::TimeTz(v) => (v[i] >> 24) as f64 / 1e6,
            Data::Timestamp(u, v) => v[i] as f64 / unit_per_second(*u),
            Data::TimestampTz(v) => v[i] as f64 / 1e6,
            Data::TimestampTzNs(v) => v[i] as f64 / 1e9,
            _ => return None,
        })
    }

    /// Row `i` as text for VARCHAR/BLOB-like columns (lossy UTF-8); `None` otherwise.
    pub fn bytes_at(&self, i: usize) -> Option<&'a [u8]> {
        if !self.is_valid(i) {
            return None;
        }
        match &self.data {
            Data::Varchar(s) | Data::Blob(s) | Data::Bit(s) | Data::Bignum(s) => Some(s.get(i)),
            _ => None,
        }
    }

    /// The dictionary of an ENUM column (empty for other types).
    pub fn enum_dictionary(&self) -> &[String] {
        match &self.ty {
            InputType::Enum(d) => d,
            _ => &[],
        }
    }
}

/// Ticks per second for a timestamp unit.
pub fn unit_per_second(u: TimeUnit) -> f64 {
    match u {
        TimeUnit::Seconds => 1.0,
        TimeUnit::Millis => 1e3,
        TimeUnit::Micros => 1e6,
        TimeUnit::Nanos => 1e9,
    }
}

/// The input of one callback invocation: every argument column of the chunk.
pub struct Args<'a> {
    columns: Vec<Column<'a>>,
    rows: usize,
}

/// Whether a STRUCT or MAP occurs anywhere in `ty`.
fn has_struct(ty: &InputType) -> bool {
    match ty {
        InputType::Struct(_) | InputType::Map(..) => true,
        InputType::List(c) | InputType::Array(c, _) => has_struct(c),
        _ => false,
    }
}

impl<'a> Args<'a> {
    /// Reads every column of a data chunk; refuses (before reading any) a STRUCT or MAP on
    /// a DuckDB release whose aggregates and scalars may get them with non-flat fields.
    ///
    /// # Safety
    /// `chunk` must be a valid data chunk of flat vectors that outlives `'a`.
    pub(crate) unsafe fn read(chunk: sys::duckdb_data_chunk) -> Result<Args<'a>, String> {
        let rows = sys::duckdb_data_chunk_get_size(chunk) as usize;
        let n = sys::duckdb_data_chunk_get_column_count(chunk) as usize;
        let mut columns = Vec::with_capacity(n);
        for c in 0..n {
            let v = sys::duckdb_data_chunk_get_vector(chunk, c as u64);
            let mut lt = sys::duckdb_vector_get_column_type(v);
            let ty = InputType::from_raw(lt);
            sys::duckdb_destroy_logical_type(&mut lt);
            if !super::capi::nested_children_are_flat() && has_struct(&ty) {
                return Err(format!(
                    "argument {} holds a STRUCT or MAP (a whole row counts): DuckDB before 1.3 hands an extension \
                     their fields without flattening them, and reading them would throw inside DuckDB; use DuckDB \
                     1.3 or later for this function",
                    c + 1
                ));
            }
            columns.push(Column::read_typed(v, rows, ty));
        }
        Ok(Args { columns, rows })
    }

    /// Reads argument vectors that are not in a data chunk (C API v2 callbacks hand them
    /// out one by one; on the DuckDB release the companion is built for, a v2 vector handle
    /// is the same `duckdb::Vector*` as a v1 `duckdb_vector`).
    ///
    /// # Safety
    /// Every vector must be a valid flat vector of at least `rows` rows that outlives `'a`.
    #[cfg_attr(not(feature = "v2"), allow(dead_code))]
    pub(crate) unsafe fn from_vectors(vectors: &[sys::duckdb_vector], rows: usize) -> Args<'a> {
        Args { columns: vectors.iter().map(|&v| Column::read(v, rows)).collect(), rows }
    }

    /// Number of rows in the chunk.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of argument columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }
    /// True when the function has no arguments.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
    /// Argument `i`.
    pub fn column(&self, i: usize) -> &Column<'a> {
        &self.columns[i]
    }
    /// Argument `i` as a non-NULL string at `row`, or `None`.
    pub fn str_at(&self, i: usize, row: usize) -> Option<String> {
        self.columns.get(i)?.bytes_at(row).map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

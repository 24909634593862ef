//! Logical types: a plain Rust description ([`Ty`]) for signatures and results, its
//! conversion to an owned DuckDB `duckdb_logical_type`, and the inspection of the
//! runtime type of an input vector ([`InputType`]) that the readers dispatch on.

use std::ffi::{CStr, CString};

use libduckdb_sys as sys;

/// A DuckDB type as function signatures and result writers describe it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `ANY`: accepted input of every type (dispatch happens at run time).
    Any,
    /// `BOOLEAN`
    Boolean,
    /// `TINYINT`
    TinyInt,
    /// `SMALLINT`
    SmallInt,
    /// `INTEGER`
    Integer,
    /// `BIGINT`
    BigInt,
    /// `UBIGINT`
    UBigInt,
    /// `HUGEINT`
    HugeInt,
    /// `DOUBLE`
    Double,
    /// `VARCHAR`
    Varchar,
    /// `JSON` (a VARCHAR with the JSON alias)
    Json,
    /// `BLOB`
    Blob,
    /// `DATE`
    Date,
    /// `TIMESTAMP`
    Timestamp,
    /// `LIST(child)`
    List(Box<Ty>),
    /// `STRUCT(name type, ...)`
    Struct(Vec<(String, Ty)>),
}

impl Ty {
    /// `LIST(child)` shorthand.
    pub fn list(child: Ty) -> Ty {
        Ty::List(Box::new(child))
    }

    /// `STRUCT(...)` from `(name, type)` pairs.
    pub fn structure(fields: &[(&str, Ty)]) -> Ty {
        Ty::Struct(fields.iter().map(|(n, t)| (n.to_string(), t.clone())).collect())
    }

    /// The SQL spelling, e.g. `STRUCT("count" BIGINT, "values" VARCHAR[])`.
    pub fn sql(&self) -> String {
        match self {
            Ty::Any => "ANY".into(),
            Ty::Boolean => "BOOLEAN".into(),
            Ty::TinyInt => "TINYINT".into(),
            Ty::SmallInt => "SMALLINT".into(),
            Ty::Integer => "INTEGER".into(),
            Ty::BigInt => "BIGINT".into(),
            Ty::UBigInt => "UBIGINT".into(),
            Ty::HugeInt => "HUGEINT".into(),
            Ty::Double => "DOUBLE".into(),
            Ty::Varchar => "VARCHAR".into(),
            Ty::Json => "JSON".into(),
            Ty::Blob => "BLOB".into(),
            Ty::Date => "DATE".into(),
            Ty::Timestamp => "TIMESTAMP".into(),
            Ty::List(c) => format!("{}[]", c.sql()),
            Ty::Struct(fields) => {
                let inner: Vec<String> = fields.iter().map(|(n, t)| format!("{n} {}", t.sql())).collect();
                format!("STRUCT({})", inner.join(", "))
            }
        }
    }

    /// Creates the owned DuckDB logical type.
    pub fn logical(&self) -> Result<LogicalType, String> {
        // Safety: every call creates a fresh type object that LogicalType owns and
        // destroys; child types are copied by DuckDB when composed.
        unsafe {
            let raw = match self {
                Ty::Any => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_ANY),
                Ty::Boolean => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN),
                Ty::TinyInt => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_TINYINT),
                Ty::SmallInt => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT),
                Ty::Integer => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER),
                Ty::BigInt => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT),
                Ty::UBigInt => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT),
                Ty::HugeInt => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT),
                Ty::Double => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE),
                Ty::Varchar => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR),
                Ty::Json => {
                    let t = sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR);
                    sys::duckdb_logical_type_set_alias(t, c"JSON".as_ptr());
                    t
                }
                Ty::Blob => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_BLOB),
                Ty::Date => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_DATE),
                Ty::Timestamp => sys::duckdb_create_logical_type(sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP),
                Ty::List(child) => {
                    let c = child.logical()?;
                    sys::duckdb_create_list_type(c.raw)
                }
                Ty::Struct(fields) => {
                    let children: Vec<LogicalType> =
                        fields.iter().map(|(_, t)| t.logical()).collect::<Result<_, _>>()?;
                    let names: Vec<CString> = fields
                        .iter()
                        .map(|(n, _)| CString::new(n.as_str()).map_err(|_| format!("field name {n:?} contains NUL")))
                        .collect::<Result<_, _>>()?;
                    let mut raw_children: Vec<sys::duckdb_logical_type> = children.iter().map(|c| c.raw).collect();
                    let mut raw_names: Vec<*const std::os::raw::c_char> = names.iter().map(|n| n.as_ptr()).collect();
                    sys::duckdb_create_struct_type(
                        raw_children.as_mut_ptr(),
                        raw_names.as_mut_ptr(),
                        fields.len() as u64,
                    )
                }
            };
            if raw.is_null() {
                return Err(format!("could not create logical type {}", self.sql()));
            }
            Ok(LogicalType { raw })
        }
    }
}

/// An owned `duckdb_logical_type`, destroyed on drop.
pub struct LogicalType {
    pub(crate) raw: sys::duckdb_logical_type,
}

impl Drop for LogicalType {
    fn drop(&mut self) {
        // Safety: `raw` was created by DuckDB for us and is destroyed exactly once.
        unsafe { sys::duckdb_destroy_logical_type(&mut self.raw) }
    }
}

/// Timestamp storage unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// seconds
    Seconds,
    /// milliseconds
    Millis,
    /// microseconds
    Micros,
    /// nanoseconds
    Nanos,
}

/// The runtime type of an input vector, fully resolved (children included).
#[derive(Debug, Clone, PartialEq)]
pub enum InputType {
    /// BOOLEAN
    Boolean,
    /// TINYINT
    TinyInt,
    /// SMALLINT
    SmallInt,
    /// INTEGER
    Integer,
    /// BIGINT
    BigInt,
    /// UTINYINT
    UTinyInt,
    /// USMALLINT
    USmallInt,
    /// UINTEGER
    UInteger,
    /// UBIGINT
    UBigInt,
    /// HUGEINT
    HugeInt,
    /// UHUGEINT
    UHugeInt,
    /// FLOAT
    Float,
    /// DOUBLE
    Double,
    /// DECIMAL(width, scale)
    Decimal {
        /// total digits
        width: u8,
        /// digits after the point
        scale: u8,
    },
    /// VARCHAR (alias kept, e.g. JSON)
    Varchar(Option<String>),
    /// BLOB
    Blob,
    /// DATE
    Date,
    /// TIME (microseconds)
    Time,
    /// TIME_NS
    TimeNs,
    /// TIME WITH TIME ZONE
    TimeTz,
    /// TIMESTAMP in a unit
    Timestamp(TimeUnit),
    /// TIMESTAMP WITH TIME ZONE (microseconds)
    TimestampTz,
    /// TIMESTAMP WITH TIME ZONE in nanoseconds
    TimestampTzNs,
    /// INTERVAL
    Interval,
    /// UUID
    Uuid,
    /// ENUM with its dictionary
    Enum(Vec<String>),
    /// LIST(child)
    List(Box<InputType>),
    /// ARRAY(child, size)
    Array(Box<InputType>, usize),
    /// STRUCT(fields)
    Struct(Vec<(String, InputType)>),
    /// MAP(key, value)
    Map(Box<InputType>, Box<InputType>),
    /// BIT
    Bit,
    /// BIGNUM / VARINT
    Bignum,
    /// A type the readers do not understand (UNION, GEOMETRY, VARIANT, ...).
    Unsupported(String),
}

impl InputType {
    /// Reads a DuckDB logical type (borrowed; not destroyed here).
    ///
    /// # Safety
    /// `t` must be a valid logical type handle.
    pub(crate) unsafe fn from_raw(t: sys::duckdb_logical_type) -> InputType {
        let id = sys::duckdb_get_type_id(t);
        match id {
            sys::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN => InputType::Boolean,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TINYINT => InputType::TinyInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => InputType::SmallInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => InputType::Integer,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => InputType::BigInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_UTINYINT => InputType::UTinyInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_USMALLINT => InputType::USmallInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER => InputType::UInteger,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT => InputType::UBigInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT => InputType::HugeInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_UHUGEINT => InputType::UHugeInt,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_FLOAT => InputType::Float,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE => InputType::Double,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL => {
                InputType::Decimal { width: sys::duckdb_decimal_width(t), scale: sys::duckdb_decimal_scale(t) }
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR => InputType::Varchar(alias(t)),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_BLOB => InputType::Blob,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_DATE => InputType::Date,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIME => InputType::Time,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIME_NS => InputType::TimeNs,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIME_TZ => InputType::TimeTz,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP => InputType::Timestamp(TimeUnit::Micros),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_S => InputType::Timestamp(TimeUnit::Seconds),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_MS => InputType::Timestamp(TimeUnit::Millis),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_NS => InputType::Timestamp(TimeUnit::Nanos),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ => InputType::TimestampTz,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ_NS => InputType::TimestampTzNs,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_INTERVAL => InputType::Interval,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_UUID => InputType::Uuid,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_ENUM => {
                let n = sys::duckdb_enum_dictionary_size(t);
                let mut dict = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let p = sys::duckdb_enum_dictionary_value(t, i as u64);
                    dict.push(take_c_string(p));
                }
                InputType::Enum(dict)
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_LIST => {
                let mut c = sys::duckdb_list_type_child_type(t);
                let child = InputType::from_raw(c);
                sys::duckdb_destroy_logical_type(&mut c);
                InputType::List(Box::new(child))
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_ARRAY => {
                let mut c = sys::duckdb_array_type_child_type(t);
                let child = InputType::from_raw(c);
                sys::duckdb_destroy_logical_type(&mut c);
                InputType::Array(Box::new(child), sys::duckdb_array_type_array_size(t) as usize)
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_STRUCT => {
                let n = sys::duckdb_struct_type_child_count(t);
                let mut fields = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let name = take_c_string(sys::duckdb_struct_type_child_name(t, i));
                    let mut c = sys::duckdb_struct_type_child_type(t, i);
                    fields.push((name, InputType::from_raw(c)));
                    sys::duckdb_destroy_logical_type(&mut c);
                }
                InputType::Struct(fields)
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_MAP => {
                let mut k = sys::duckdb_map_type_key_type(t);
                let mut v = sys::duckdb_map_type_value_type(t);
                let r = InputType::Map(Box::new(InputType::from_raw(k)), Box::new(InputType::from_raw(v)));
                sys::duckdb_destroy_logical_type(&mut k);
                sys::duckdb_destroy_logical_type(&mut v);
                r
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_BIT => InputType::Bit,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_BIGNUM => InputType::Bignum,
            sys::DUCKDB_TYPE_DUCKDB_TYPE_UNION => {
                let n = sys::duckdb_union_type_member_count(t);
                let mut members = Vec::new();
                for i in 0..n {
                    let name = take_c_string(sys::duckdb_union_type_member_name(t, i));
                    let mut c = sys::duckdb_union_type_member_type(t, i);
                    members.push(format!("{name} {}", InputType::from_raw(c).sql()));
                    sys::duckdb_destroy_logical_type(&mut c);
                }
                InputType::Unsupported(format!("UNION({})", members.join(", ")))
            }
            sys::DUCKDB_TYPE_DUCKDB_TYPE_GEOMETRY => InputType::Unsupported("GEOMETRY".into()),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_VARIANT => InputType::Unsupported("VARIANT".into()),
            sys::DUCKDB_TYPE_DUCKDB_TYPE_SQLNULL => InputType::Unsupported("NULL".into()),
            other => InputType::Unsupported(format!("type id {other}")),
        }
    }

    /// The SQL spelling DuckDB uses, e.g. `MAP(VARCHAR, INTEGER)`.
    pub fn sql(&self) -> String {
        match self {
            InputType::Boolean => "BOOLEAN".into(),
            InputType::TinyInt => "TINYINT".into(),
            InputType::SmallInt => "SMALLINT".into(),
            InputType::Integer => "INTEGER".into(),
            InputType::BigInt => "BIGINT".into(),
            InputType::UTinyInt => "UTINYINT".into(),
            InputType::USmallInt => "USMALLINT".into(),
            InputType::UInteger => "UINTEGER".into(),
            InputType::UBigInt => "UBIGINT".into(),
            InputType::HugeInt => "HUGEINT".into(),
            InputType::UHugeInt => "UHUGEINT".into(),
            InputType::Float => "FLOAT".into(),
            InputType::Double => "DOUBLE".into(),
            InputType::Decimal { width, scale } => format!("DECIMAL({width},{scale})"),
            InputType::Varchar(Some(a)) => a.clone(),
            InputType::Varchar(None) => "VARCHAR".into(),
            InputType::Blob => "BLOB".into(),
            InputType::Date => "DATE".into(),
            InputType::Time => "TIME".into(),
            InputType::TimeNs => "TIME_NS".into(),
            InputType::TimeTz => "TIME WITH TIME ZONE".into(),
            InputType::Timestamp(TimeUnit::Micros) => "TIMESTAMP".into(),
            InputType::Timestamp(TimeUnit::Seconds) => "TIMESTAMP_S".into(),
            InputType::Timestamp(TimeUnit::Millis) => "TIMESTAMP_MS".into(),
            InputType::Timestamp(TimeUnit::Nanos) => "TIMESTAMP_NS".into(),
            InputType::TimestampTz => "TIMESTAMP WITH TIME ZONE".into(),
            InputType::TimestampTzNs => "TIMESTAMP_NS WITH TIME ZONE".into(),
            InputType::Interval => "INTERVAL".into(),
            InputType::Uuid => "UUID".into(),
            InputType::Enum(d) => {
                let shown: Vec<String> = d.iter().take(4).map(|v| format!("'{v}'")).collect();
                format!("ENUM({}{})", shown.join(", "), if d.len() > 4 { ", ..." } else { "" })
            }
            InputType::List(c) => format!("{}[]", c.sql()),
            InputType::Array(c, n) => format!("{}[{n}]", c.sql()),
            InputType::Struct(f) => {
                let inner: Vec<String> = f.iter().map(|(n, t)| format!("{n} {}", t.sql())).collect();
                format!("STRUCT({})", inner.join(", "))
            }
            InputType::Map(k, v) => format!("MAP({}, {})", k.sql(), v.sql()),
            InputType::Bit => "BIT".into(),
            InputType::Bignum => "BIGNUM".into(),
            InputType::Unsupported(s) => s.clone(),
        }
    }

    /// True for types whose values are numbers (integers, floats, decimals).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            InputType::TinyInt
                | InputType::SmallInt
                | InputType::Integer
                | InputType::BigInt
                | InputType::UTinyInt
                | InputType::USmallInt
                | InputType::UInteger
                | InputType::UBigInt
                | InputType::HugeInt
                | InputType::UHugeInt
                | InputType::Float
                | InputType::Double
                | InputType::Decimal { .. }
        )
    }

    /// True for DATE, TIME and TIMESTAMP variants.
    pub fn is_temporal(&self) -> bool {
        matches!(
            self,
            InputType::Date
                | InputType::Time
                | InputType::TimeNs
                | InputType::TimeTz
                | InputType::Timestamp(_)
                | InputType::TimestampTz
                | InputType::TimestampTzNs
        )
    }
}

/// Copies a DuckDB-allocated C string and frees it with `duckdb_free`.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string allocated by DuckDB.
pub(crate) unsafe fn take_c_string(p: *mut std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    let s = CStr::from_ptr(p).to_string_lossy().into_owned();
    sys::duckdb_free(p as *mut std::ffi::c_void);
    s
}

/// The alias of a type (e.g. `JSON`), if it has one.
///
/// # Safety
/// `t` must be a valid logical type handle.
unsafe fn alias(t: sys::duckdb_logical_type) -> Option<String> {
    let p = sys::duckdb_logical_type_get_alias(t);
    if p.is_null() {
        None
    } else {
        let s = take_c_string(p);
        if s.is_empty() {
            None
        } else {
            Some(s)
        }
    }
}

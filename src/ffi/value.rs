//! Result values and the vector writer.
//!
//! Functions return a [`Value`] tree per result row; [`write_value`] stores it into a
//! DuckDB result vector of the declared [`Ty`]: scalars in place, VARCHAR/BLOB through
//! DuckDB's string assignment, LIST by growing the child vector, STRUCT field by field,
//! NULL in the validity mask (of the row and, for STRUCT, of every field).

use libduckdb_sys as sys;

use super::types::Ty;

/// One result value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL
    Null,
    /// BOOLEAN
    Bool(bool),
    /// any signed integer type (range-checked on write)
    Int(i64),
    /// HUGEINT
    Huge(i128),
    /// UBIGINT
    UInt(u64),
    /// DOUBLE
    Double(f64),
    /// VARCHAR / JSON
    Text(String),
    /// BLOB
    Blob(Vec<u8>),
    /// DATE as days since 1970-01-01
    Date(i32),
    /// TIMESTAMP as microseconds since the epoch
    Timestamp(i64),
    /// LIST
    List(Vec<Value>),
    /// STRUCT, fields in declaration order
    Struct(Vec<Value>),
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::UInt(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Writes `value` at `row` of `vector`, whose type is `ty`.
///
/// # Safety
/// `vector` must be a writable vector of type `ty` with room for `row`
/// (result vectors of DuckDB callbacks are).
pub(crate) unsafe fn write_value(vector: sys::duckdb_vector, ty: &Ty, row: usize, value: &Value) -> Result<(), String> {
    if let Value::Null = value {
        set_null(vector, ty, row);
        return Ok(());
    }
    let data = sys::duckdb_vector_get_data(vector);
    macro_rules! put {
        ($t:ty, $v:expr) => {
            *(data as *mut $t).add(row) = $v
        };
    }
    match (ty, value) {
        (Ty::Boolean, Value::Bool(b)) => put!(bool, *b),
        (Ty::TinyInt, Value::Int(v)) => put!(i8, i8::try_from(*v).map_err(|_| overflow(*v, ty))?),
        (Ty::SmallInt, Value::Int(v)) => put!(i16, i16::try_from(*v).map_err(|_| overflow(*v, ty))?),
        (Ty::Integer, Value::Int(v)) => put!(i32, i32::try_from(*v).map_err(|_| overflow(*v, ty))?),
        (Ty::BigInt, Value::Int(v)) => put!(i64, *v),
        (Ty::BigInt, Value::UInt(v)) => put!(i64, i64::try_from(*v).map_err(|_| overflow(*v, ty))?),
        (Ty::UBigInt, Value::UInt(v)) => put!(u64, *v),
        (Ty::UBigInt, Value::Int(v)) => put!(u64, u64::try_from(*v).map_err(|_| overflow(*v, ty))?),
        (Ty::HugeInt, Value::Huge(v)) => {
            put!(sys::duckdb_hugeint, sys::duckdb_hugeint { lower: *v as u64, upper: (*v >> 64) as i64 })
        }
        (Ty::HugeInt, Value::Int(v)) => {
            let v = *v as i128;
            put!(sys::duckdb_hugeint, sys::duckdb_hugeint { lower: v as u64, upper: (v >> 64) as i64 })
        }
        (Ty::Double, Value::Double(v)) => put!(f64, *v),
        (Ty::Double, Value::Int(v)) => put!(f64, *v as f64),
        (Ty::Double, Value::UInt(v)) => put!(f64, *v as f64),
        (Ty::Date, Value::Date(d)) => put!(i32, *d),
        (Ty::Timestamp, Value::Timestamp(t)) => put!(i64, *t),
        (Ty::Varchar | Ty::Json, Value::Text(s)) => {
            sys::duckdb_vector_assign_string_element_len(vector, row as u64, s.as_ptr() as *const _, s.len() as u64)
        }
        (Ty::Blob, Value::Blob(b)) => {
            sys::duckdb_vector_assign_string_element_len(vector, row as u64, b.as_ptr() as *const _, b.len() as u64)
        }
        (Ty::List(child_ty), Value::List(items)) => {
            let child = sys::duckdb_list_vector_get_child(vector);
            let offset = sys::duckdb_list_vector_get_size(vector) as usize;
            let new_size = offset + items.len();
            if sys::duckdb_list_vector_reserve(vector, new_size as u64) != sys::DuckDBSuccess {
                return Err(format!("could not reserve {new_size} list entries"));
            }
            // The child's data pointer may move on reserve: fetch it per item in write_value.
            for (k, item) in items.iter().enumerate() {
                write_value(child, child_ty, offset + k, item)?;
            }
            if sys::duckdb_list_vector_set_size(vector, new_size as u64) != sys::DuckDBSuccess {
                return Err(format!("could not set list size {new_size}"));
            }
            let entries = sys::duckdb_vector_get_data(vector) as *mut sys::duckdb_list_entry;
            *entries.add(row) = sys::duckdb_list_entry { offset: offset as u64, length: items.len() as u64 };
        }
        (Ty::Struct(fields), Value::Struct(values)) => {
            if fields.len() != values.len() {
                return Err(format!(
                    "struct value has {} fields, type {} has {}",
                    values.len(),
                    ty.sql(),
                    fields.len()
                ));
            }
            for (i, ((_, fty), v)) in fields.iter().zip(values).enumerate() {
                let child = sys::duckdb_struct_vector_get_child(vector, i as u64);
                write_value(child, fty, row, v)?;
            }
        }
        (t, v) => return Err(format!("internal: cannot write {v:?} into a {} result", t.sql())),
    }
    Ok(())
}

fn overflow(v: impl std::fmt::Display, ty: &Ty) -> String {
    format!("value {v} does not fit the result type {}", ty.sql())
}

/// Marks `row` NULL (for STRUCT also every field, so readers of a child see NULL too).
///
/// # Safety
/// As for [`write_value`].
pub(crate) unsafe fn set_null(vector: sys::duckdb_vector, ty: &Ty, row: usize) {
    sys::duckdb_vector_ensure_validity_writable(vector);
    let validity = sys::duckdb_vector_get_validity(vector);
    sys::duckdb_validity_set_row_invalid(validity, row as u64);
    match ty {
        Ty::Struct(fields) => {
            for (i, (_, fty)) in fields.iter().enumerate() {
                set_null(sys::duckdb_struct_vector_get_child(vector, i as u64), fty, row);
            }
        }
        Ty::List(_) => {
            let entries = sys::duckdb_vector_get_data(vector) as *mut sys::duckdb_list_entry;
            *entries.add(row) = sys::duckdb_list_entry { offset: 0, length: 0 };
        }
        _ => {}
    }
}

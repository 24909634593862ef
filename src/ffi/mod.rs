//! The one layer that talks to DuckDB: every `unsafe` block and every use of
//! `libduckdb-sys` lives here. Functions elsewhere implement the safe traits
//! ([`Aggregate`], [`Scalar`], [`TableRows`]) and never write `extern "C"`.

pub mod aggregate;
pub mod capi;
pub mod config;
pub mod cpu;
pub mod entry;
pub mod guard;
pub mod job;
pub mod scalar;
pub mod signature;
pub mod table;
pub mod types;
#[cfg(feature = "v2")]
pub mod v2;
#[cfg(feature = "v2")]
pub mod v2_functions;
pub mod value;
pub mod vector;

pub use aggregate::{Aggregate, AggregateSpec};
pub use config::{Context, Setting, SettingDefault};
pub use guard::FnResult;
pub use job::{Control, Job};
pub use scalar::{Scalar, ScalarSpec};
pub use table::{TableRows, TableSpec};
pub use types::{InputType, TimeUnit, Ty};
pub use value::Value;
pub use vector::{Args, Column, Data, Validity};

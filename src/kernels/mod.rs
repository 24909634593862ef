//! Pure-Rust kernels: the math behind every SQL function.
//!
//! Nothing in here touches DuckDB, tokio or `unsafe`; every kernel is unit-tested
//! with `cargo test`. Kernels never panic on data: bad input returns [`Error`].

pub mod correlation;
pub mod error;
pub mod exact;
pub mod infer;
pub mod profile;
pub mod relationships;
pub mod topology;
pub use error::{Error, ErrorKind, Result};

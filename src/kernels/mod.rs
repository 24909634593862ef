//! Pure-Rust kernels: the math behind every SQL function.
//!
//! Nothing in here touches DuckDB or tokio; every kernel is unit-tested with `cargo test`.
//! The only `unsafe` is the call of a SIMD loop compiled for a CPU feature (AVX2, AVX-512DQ)
//! after run-time detection of that feature, each with its `// Safety:` line and a test that
//! it gives the portable loop's exact result. Kernels never panic on data: bad input returns
//! [`Error`].

pub mod correlation;
pub mod error;
pub mod exact;
pub mod infer;
pub mod profile;
pub mod relationships;
pub mod topology;
pub use error::{Error, ErrorKind, Result};

//! One file per SQL function: each adapts a kernel to an FFI trait, documents itself
//! (description + runnable example) and registers itself at the bottom.

pub mod annotate;
pub mod basic_stats;
pub mod catalog;
pub mod context;
pub mod correlations;
pub mod dbt;
pub mod dependencies;
pub mod infer_type;
pub mod jobs;
pub mod listing;
pub mod macros_sql;
pub mod metrics;
pub mod persistence;
pub mod pool;
pub mod profile;
pub mod relationships;
pub mod render;
pub mod selftest;
pub mod states;
pub mod version;

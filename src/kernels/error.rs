//! The one error type shared by every kernel.

use std::fmt;

/// What kind of failure a kernel reports; the SQL layer prefixes the function name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input data or an option is not acceptable (user must change the call).
    InvalidInput,
    /// The work would need more memory than the budget allows.
    OutOfBudget,
    /// A size or index would overflow its representation.
    Overflow,
    /// The query was interrupted while the kernel ran.
    Interrupted,
    /// A bug: an internal invariant did not hold.
    Internal,
}

/// A kernel error: a kind and a message that says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The failure class.
    pub kind: ErrorKind,
    /// Human-readable explanation, without the SQL function name.
    pub message: String,
}

impl Error {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    /// Shorthand for [`ErrorKind::OutOfBudget`].
    pub fn budget(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::OutOfBudget, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Result alias used by every kernel.
pub type Result<T> = std::result::Result<T, Error>;

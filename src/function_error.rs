//! How a function's error reaches Lambda and the command line: its `errorType`, and whether the same
//! input can succeed later. Each function's error implements [`FunctionError`] and converts into
//! Lambda's `Diagnostic` through [`diagnostic`]; the command line maps [`Retry`] to its exit status.

use lambda_runtime::Diagnostic;

/// Whether running the same input again can succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The event, request or rules are wrong: the same input fails the same way.
    Never,
    /// AWS, the ledger or the topic failed: the same input may succeed later.
    Later,
}

pub trait FunctionError: std::error::Error {
    /// The `errorType` Lambda reports.
    fn error_type(&self) -> &'static str;
    fn retry(&self) -> Retry;
}

/// The error as Lambda reports it.
pub fn diagnostic(error: &impl FunctionError) -> Diagnostic {
    Diagnostic {
        error_type: error.error_type().to_owned(),
        error_message: error.to_string(),
    }
}

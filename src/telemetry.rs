//! Logs for the command line. The Lambda handlers use the runtime's own subscriber, which honours
//! the function's log format (JSON when deployed by our template).

use tracing_subscriber::EnvFilter;

/// JSON logs on standard error, errors only unless `RUST_LOG` says otherwise: the command line
/// reports its outcome on standard output and its failure in one line.
pub fn init_cli_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

//! `selfheal`: the functions' code, run locally against the SDK's standard environment
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, the usual credentials).

mod audit;
mod text;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use selfheal::prewarm::PingRequest;
use selfheal::prewarm::PrewarmFunction;
use selfheal::quota::QuotaFunction;
use selfheal::replay::ReplayFunction;
use selfheal::rules::RuleSet;
use selfheal::settings::{
    prewarm_environment, quota_environment, replay_environment, SettingsError, DRY_RUN,
    PREWARM_FAILURE_QUEUE_ARN, PREWARM_FUNCTION_ARN, TABLE_NAME, TOPIC_ARN,
};
use selfheal::{FunctionError, Retry};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_STATUS: &str = "\
Exit status:
  0  done
  1  done with failures: an AWS call failed, a ping failed, a message was not delivered, a rule
     did not sync, or `rules check` found errors
  2  usage or input error: a bad option, an unreadable event or request, invalid rules, a missing
     environment variable; the same input fails the same way again";

#[derive(Parser)]
#[command(
    name = "selfheal",
    version,
    about = "Runs selfheal's Lambda functions locally against AWS (or the sandbox)",
    after_help = EXIT_STATUS,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the quota function on an alarm event and print the outcome.
    ///
    /// The event is a CloudWatch alarm action, an SNS notification or an EventBridge alarm event. A real
    /// run needs SELFHEAL_TOPIC_ARN and SELFHEAL_TABLE. Acts only on alarms of its own account
    /// (SELFHEAL_ACCOUNT_ID, else the credentials' own, from STS GetCallerIdentity) in AWS_REGION; any
    /// other account's or Region's alarm is escalated.
    #[command(after_help = EXIT_STATUS)]
    Alarm {
        /// The event, as a JSON file.
        event_file: PathBuf,
        #[command(flatten)]
        run: RunOptions,
    },
    /// Quotas: the sweep for quotas nobody alarmed, the follow-up of filed requests.
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// Run the DLQ replay function with the console's request and print its summary.
    ///
    /// A real run needs SELFHEAL_TOPIC_ARN and SELFHEAL_TABLE (the audit record and the failure page).
    #[command(after_help = EXIT_STATUS)]
    Replay(Box<ReplayOptions>),
    /// Pre-warming: sync the schedules, or ping a function once.
    #[command(subcommand)]
    Prewarm(PrewarmCommand),
    /// Rules: check a folder.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print what selfheal decided, planned, synced and replayed, newest first.
    ///
    /// Reads the audit trail of SELFHEAL_TABLE (the stack's ledger) by time, kind and account: one
    /// query per kind and day, never a scan of the table.
    #[command(after_help = EXIT_STATUS)]
    Audit(audit::AuditOptions),
    /// Print a completion script for a shell (e.g. `selfheal completions bash > /etc/bash_completion.d/selfheal`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum QuotaCommand {
    /// Read Service Quotas' utilization report and plan every quota at or above its threshold as an
    /// alarm of it would be; print the report.
    ///
    /// A quota's rule may set its own `threshold`; the others use --threshold. Acts in its own account
    /// (SELFHEAL_ACCOUNT_ID, else the credentials') in AWS_REGION. A real run needs
    /// SELFHEAL_TOPIC_ARN and SELFHEAL_TABLE.
    #[command(after_help = EXIT_STATUS)]
    Sweep {
        #[command(flatten)]
        run: RunOptions,
        /// Utilization (percent) at which a quota without a rule threshold is planned.
        #[arg(long, value_name = "PCT", default_value_t = selfheal::quota::sweep::DEFAULT_THRESHOLD,
              value_parser = parse_threshold)]
        threshold: f64,
    },
    /// Tell what became of every increase request selfheal filed and has not closed: raised, refused,
    /// a support case opened, or still pending; each once. Prints the plan.
    ///
    /// A real run needs SELFHEAL_TOPIC_ARN and SELFHEAL_TABLE (the requests are kept in the table);
    /// --dry-run reads the requests but sends and remembers nothing.
    #[command(after_help = EXIT_STATUS)]
    FollowUp {
        #[command(flatten)]
        run: RunOptions,
    },
}

fn parse_threshold(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(pct) if pct > 0.0 && pct <= 100.0 => Ok(pct),
        _ => Err(format!(
            "{text:?} is not a percentage above 0 and at most 100"
        )),
    }
}

#[derive(Subcommand)]
enum PrewarmCommand {
    /// Make EventBridge hold exactly the [[prewarm]] rules and print the plan.
    ///
    /// Rules are named SELFHEAL_PREWARM_PREFIX (default selfheal-prewarm-) and tagged
    /// selfheal:managed-by=prewarm; others are never touched.
    #[command(after_help = EXIT_STATUS)]
    Sync {
        #[command(flatten)]
        run: RunOptions,
        /// The pre-warm function, the target of rules above concurrency 1 (default:
        /// SELFHEAL_PREWARM_FUNCTION_ARN).
        #[arg(long, value_name = "ARN")]
        pinger_arn: Option<String>,
        /// The queue EventBridge keeps undeliverable pings in, each ping target's dead-letter queue
        /// (default: SELFHEAL_PREWARM_FAILURE_QUEUE_ARN; the stack's PrewarmFailures queue).
        #[arg(long, value_name = "ARN")]
        failure_queue_arn: Option<String>,
    },
    /// Send one round of pings as the pre-warm function does and print the report.
    ///
    /// N synchronous invocations at once with {"isPrewarm": true}, skipped when provisioned
    /// concurrency covers N.
    #[command(after_help = EXIT_STATUS)]
    Ping {
        /// The function's name or ARN.
        function: String,
        /// An alias or version.
        #[arg(long)]
        qualifier: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 1)]
        concurrency: u32,
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout_ms: u32,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        output: Format,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Validate a rules folder; every error names its file, rule and field.
    #[command(after_help = EXIT_STATUS)]
    Check {
        /// The folder (default: rules).
        #[arg(value_name = "DIR", conflicts_with = "rules")]
        dir: Option<PathBuf>,
        /// The folder, as the other commands take it.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}

/// What every command that runs a function takes.
#[derive(Args)]
struct RunOptions {
    /// Read the rules from this folder instead of those compiled in.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Decide and print, change nothing (no topic or table needed).
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    output: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For machines.
    Json,
    /// For a person at a terminal.
    Text,
}

/// The console request, as options.
#[derive(Args)]
struct ReplayOptions {
    /// The dead-letter queue: name, URL or ARN, as allowed by [[dlq]] rules.
    #[arg(long)]
    queue: String,
    #[command(flatten)]
    run: RunOptions,
    /// Replay at most N messages.
    #[arg(long, value_name = "N")]
    max: Option<u64>,
    /// Messages per second.
    #[arg(long, value_name = "R")]
    rate: Option<f64>,
    /// Leave each delivered message in the DLQ too.
    #[arg(long)]
    keep_copy: bool,
    /// Only messages with this error code (repeatable).
    #[arg(long = "error-code", value_name = "C")]
    error_codes: Vec<String>,
    /// Only messages at least this old.
    #[arg(long, value_name = "SECS")]
    min_age: Option<u64>,
    /// Only messages at most this old.
    #[arg(long, value_name = "SECS")]
    max_age: Option<u64>,
    /// Only messages whose body contains TEXT.
    #[arg(long, value_name = "TEXT")]
    body_contains: Option<String>,
    /// Only JSON bodies whose field PATH equals JSON (a string when not JSON).
    #[arg(long, value_name = "PATH=JSON", value_parser = parse_json_field)]
    json_field: Option<(String, Value)>,
}

fn parse_json_field(text: &str) -> Result<(String, Value), String> {
    let (path, raw) = text
        .split_once('=')
        .ok_or_else(|| format!("expected PATH=JSON, got {text:?}"))?;
    let equals = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    Ok((path.to_owned(), equals))
}

impl ReplayOptions {
    /// The request the console would send.
    fn request(&self) -> Value {
        let mut request = Map::new();
        request.insert("queue".into(), json!(self.queue));
        if self.run.dry_run {
            request.insert("dryRun".into(), json!(true));
        }
        if self.keep_copy {
            request.insert("keepCopy".into(), json!(true));
        }
        if let Some(max) = self.max {
            request.insert("max".into(), json!(max));
        }
        if let Some(rate) = self.rate {
            request.insert("rate".into(), json!(rate));
        }
        let mut filter = Map::new();
        if !self.error_codes.is_empty() {
            filter.insert("errorCode".into(), json!(self.error_codes));
        }
        if let Some(age) = self.min_age {
            filter.insert("minAgeSeconds".into(), json!(age));
        }
        if let Some(age) = self.max_age {
            filter.insert("maxAgeSeconds".into(), json!(age));
        }
        if let Some(text) = &self.body_contains {
            filter.insert("bodyContains".into(), json!(text));
        }
        if let Some((path, equals)) = &self.json_field {
            filter.insert("jsonField".into(), json!({"path": path, "equals": equals}));
        }
        if !filter.is_empty() {
            request.insert("filter".into(), Value::Object(filter));
        }
        Value::Object(request)
    }
}

/// Why a command did not end with status 0.
pub(crate) enum Failure {
    /// Status 1: the work ran and part of it failed.
    Failed(String),
    /// Status 2: the input is wrong.
    Input(String),
}

impl Failure {
    /// A function's error: its input (status 2) when retrying cannot help, else a failure.
    fn of<E: FunctionError>(error: E) -> Self {
        match error.retry() {
            Retry::Never => Failure::Input(format!("selfheal: {error}")),
            Retry::Later => Failure::Failed(format!("selfheal: {error}")),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    selfheal::telemetry::init_cli_logs();
    let result = match cli.command {
        Command::Alarm { event_file, run } => alarm(&event_file, &run).await,
        Command::Quota(QuotaCommand::Sweep { run, threshold }) => sweep(&run, threshold).await,
        Command::Quota(QuotaCommand::FollowUp { run }) => follow_up(&run).await,
        Command::Replay(options) => replay(&options).await,
        Command::Prewarm(PrewarmCommand::Sync {
            run,
            pinger_arn,
            failure_queue_arn,
        }) => prewarm_sync(&run, pinger_arn, failure_queue_arn).await,
        Command::Prewarm(PrewarmCommand::Ping {
            function,
            qualifier,
            concurrency,
            timeout_ms,
            output,
        }) => {
            let request = PingRequest {
                function,
                qualifier,
                concurrency,
                payload: json!({"isPrewarm": true}),
                timeout_ms,
            };
            prewarm_ping(request, output).await
        }
        Command::Rules(RulesCommand::Check { dir, rules, output }) => {
            rules_check(&dir.or(rules).unwrap_or_else(|| "rules".into()), output)
        }
        Command::Completions { shell } => completions(shell),
        Command::Audit(options) => audit::audit(&options).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed(message)) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
        Err(Failure::Input(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// Written through a buffer: clap_complete panics when it cannot write (a closed pipe).
fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "selfheal", &mut script);
    let mut out = std::io::stdout().lock();
    match out.write_all(&script).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Failed(format!(
            "selfheal: cannot write the script: {e}"
        ))),
    }
}

/// Prints a result as JSON or as text for a person. A closed pipe (`| head`) is not an error.
pub(crate) fn print<T: Serialize>(format: Format, value: &T, text: impl FnOnce(&T) -> String) {
    use std::io::Write as _;
    let shown = match format {
        Format::Json => match serde_json::to_string_pretty(value) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("selfheal: cannot print the result: {e}");
                return;
            }
        },
        Format::Text => text(value),
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(shown.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("selfheal: cannot print the result: {e}");
        }
    }
}

/// The quota function over the SDK's standard environment, with `--rules DIR` if given; `dry_run`: no
/// topic or table needed.
async fn quota_function(run: &RunOptions, dry_run: bool) -> Result<QuotaFunction, Failure> {
    let mut environment = environment(dry_run, |lookup| quota_environment(lookup))?;
    let sdk = selfheal::aws::load_config().await;
    // In Lambda the invoked function's ARN names the account; here the credentials do.
    if environment.settings.home_account_id.is_none() {
        let account = selfheal::aws::identity::caller_account(&sdk)
            .await
            .map_err(|e| {
                Failure::Failed(format!(
                    "selfheal: cannot learn the account of these credentials ({e}); set SELFHEAL_ACCOUNT_ID"
                ))
            })?;
        environment.settings.home_account_id = Some(account);
    }
    Ok(match &run.rules {
        Some(dir) => QuotaFunction::with_rules(sdk, environment, rules_in(dir)?),
        None => QuotaFunction::new(sdk, environment),
    })
}

async fn follow_up(run: &RunOptions) -> Result<(), Failure> {
    // Even a dry run reads the requests kept in the table.
    let function = quota_function(run, false).await?;
    let report = function
        .follow_up(run.dry_run, None)
        .await
        .map_err(Failure::of)?;
    print(run.output, &report, text::follow_up_report);
    Ok(())
}

async fn sweep(run: &RunOptions, threshold: f64) -> Result<(), Failure> {
    let function = quota_function(run, run.dry_run).await?;
    let report = function
        .sweep(threshold, run.dry_run, "local", None)
        .await
        .map_err(Failure::of)?;
    print(run.output, &report, text::sweep_report);
    Ok(())
}

async fn alarm(event_file: &Path, run: &RunOptions) -> Result<(), Failure> {
    let shown = event_file.display();
    let text = std::fs::read_to_string(event_file)
        .map_err(|e| Failure::Input(format!("selfheal: cannot read {shown}: {e}")))?;
    let event: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Input(format!("selfheal: {shown} is not JSON: {e}")))?;
    // An event that is no alarm is refused before anything is asked of AWS.
    selfheal::quota::event::classify(&event)
        .map_err(|e| Failure::Input(format!("selfheal: {e} ({shown})")))?;
    let function = quota_function(run, run.dry_run).await?;
    // Each run its own name on the claims it takes: two runs are two deliveries.
    let request_id = format!(
        "cli-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let outcomes =
        function
            .handle(&event, &request_id, None)
            .await
            .map_err(|e| match Failure::of(e) {
                Failure::Input(message) => Failure::Input(format!("{message} ({shown})")),
                failed => failed,
            })?;
    match outcomes.as_slice() {
        [only] => print(run.output, only, text::outcome),
        many => print(run.output, &json!({ "outcomes": many }), |_| {
            many.iter().map(text::outcome).collect()
        }),
    }
    Ok(())
}

async fn replay(options: &ReplayOptions) -> Result<(), Failure> {
    let environment = environment(options.run.dry_run, |lookup| replay_environment(lookup))?;
    let sdk = selfheal::aws::load_config().await;
    let function = match &options.run.rules {
        Some(dir) => ReplayFunction::with_rules(sdk, environment, rules_in(dir)?),
        None => ReplayFunction::new(sdk, environment),
    };
    let summary = function
        .handle(&options.request(), "local", None)
        .await
        .map_err(Failure::of)?;
    print(options.run.output, &summary, text::replay_summary);
    if summary.failed > 0 || summary.delivered_not_deleted > 0 {
        return Err(Failure::Failed(format!(
            "selfheal: {} messages not delivered, {} delivered but not deleted",
            summary.failed, summary.delivered_not_deleted
        )));
    }
    Ok(())
}

/// A function's environment, read by `read`; a dry run writes nothing, so it needs neither the topic
/// nor the table.
fn environment<E>(
    dry_run: bool,
    read: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> Result<E, SettingsError>,
) -> Result<E, Failure> {
    let lookup = |name: &str| match name {
        DRY_RUN if dry_run => Some("true".into()),
        TOPIC_ARN | TABLE_NAME if dry_run => {
            Some(std::env::var(name).unwrap_or_else(|_| "(dry run)".into()))
        }
        _ => std::env::var(name).ok(),
    };
    read(&lookup).map_err(|e| Failure::Input(format!("selfheal: {e}")))
}

/// The rules of `--rules DIR`, checked against the runbooks beside it.
fn rules_in(dir: &Path) -> Result<RuleSet, Failure> {
    read_rules(dir).map_err(Failure::Input)
}

fn read_rules(dir: &Path) -> Result<RuleSet, String> {
    let runbooks = runbooks_beside(dir);
    let names: Vec<&str> = runbooks.iter().map(String::as_str).collect();
    RuleSet::from_dir(dir, &names)
        .and_then(|rules| {
            selfheal::rules::check_zones(&rules)?;
            Ok(rules)
        })
        .map_err(|e| format!("selfheal: rules in {} are invalid:\n{e}", dir.display()))
}

/// Runbook names from `runbooks/` beside the rules folder, else those compiled in.
fn runbooks_beside(rules_dir: &Path) -> Vec<String> {
    let dir = rules_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("runbooks");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return RuleSet::embedded_runbooks()
            .iter()
            .map(|s| s.to_string())
            .collect();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("md"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect()
}

async fn prewarm_sync(
    run: &RunOptions,
    pinger_arn: Option<String>,
    failure_queue_arn: Option<String>,
) -> Result<(), Failure> {
    let environment = prewarm_environment(|name| match name {
        PREWARM_FUNCTION_ARN if pinger_arn.is_some() => pinger_arn.clone(),
        PREWARM_FAILURE_QUEUE_ARN if failure_queue_arn.is_some() => failure_queue_arn.clone(),
        _ => std::env::var(name).ok(),
    })
    .map_err(|e| Failure::Input(format!("selfheal: {e}")))?;
    let sdk = selfheal::aws::load_config().await;
    let function = match &run.rules {
        Some(dir) => PrewarmFunction::with_rules(sdk, environment, rules_in(dir)?),
        None => PrewarmFunction::new(sdk, environment),
    };
    let report = function
        .sync(run.dry_run, None)
        .await
        .map_err(Failure::of)?;
    print(run.output, &report, text::sync_report);
    if report.ok() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "selfheal: the pre-warm sync failed ({})",
            report.counts()
        )))
    }
}

async fn prewarm_ping(request: PingRequest, output: Format) -> Result<(), Failure> {
    request
        .validate()
        .map_err(|e| Failure::Input(format!("selfheal prewarm ping: {e}")))?;
    let environment = prewarm_environment(|name| std::env::var(name).ok())
        .map_err(|e| Failure::Input(format!("selfheal: {e}")))?;
    let function = PrewarmFunction::new(selfheal::aws::load_config().await, environment);
    let report = function.ping(&request).await;
    print(output, &report, text::ping_report);
    if report.ok() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "selfheal: {} of {} pings failed",
            report.failures.len(),
            report.sent
        )))
    }
}

/// What `rules check` found.
#[derive(Serialize)]
struct RulesCheck {
    dir: PathBuf,
    ok: bool,
    quota: usize,
    dlq: usize,
    prewarm: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<String>,
}

fn rules_check(dir: &Path, output: Format) -> Result<(), Failure> {
    let check = match read_rules(dir) {
        Ok(rules) => RulesCheck {
            dir: dir.to_owned(),
            ok: true,
            quota: rules.quotas.len(),
            dlq: rules.dlqs.len(),
            prewarm: rules.prewarm.len(),
            errors: None,
        },
        Err(errors) => RulesCheck {
            dir: dir.to_owned(),
            ok: false,
            quota: 0,
            dlq: 0,
            prewarm: 0,
            errors: Some(errors),
        },
    };
    match (&check.errors, output) {
        (Some(errors), Format::Text) => Err(Failure::Failed(errors.clone())),
        (Some(_), Format::Json) => {
            print(output, &check, |_| String::new());
            Err(Failure::Failed(format!(
                "selfheal: rules in {} are invalid",
                dir.display()
            )))
        }
        (None, _) => {
            print(output, &check, |c| {
                format!(
                    "{}: {} quota, {} dlq and {} prewarm rules OK\n",
                    c.dir.display(),
                    c.quota,
                    c.dlq,
                    c.prewarm
                )
            });
            Ok(())
        }
    }
}

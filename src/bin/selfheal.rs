//! `selfheal`: the functions' code, run locally against the SDK's standard environment.

use selfheal::quota_function::{QuotaFunction, QuotaFunctionError};
use selfheal::replay_function::ReplayFunction;
use selfheal::rules::RuleSet;
use selfheal::settings::{quota_environment, DRY_RUN, TABLE_NAME, TOPIC_ARN};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  selfheal alarm EVENT_FILE [--rules DIR] [--dry-run]
      run the quota function on an alarm event (alarm action, SNS or EventBridge) and print the outcome
      as JSON. Needs SELFHEAL_TOPIC_ARN and SELFHEAL_TABLE unless --dry-run; uses AWS_REGION,
      AWS_ENDPOINT_URL and the usual credentials. Acts only on alarms of SELFHEAL_ACCOUNT_ID in
      AWS_REGION; any other account's or Region's alarm (or any, without SELFHEAL_ACCOUNT_ID) is
      escalated.
  selfheal replay --queue Q [--dry-run] [--max N] [--rate R] [--keep-copy] [--rules DIR]
                 [--error-code C]... [--min-age SECS] [--max-age SECS] [--body-contains TEXT]
                 [--json-field PATH=JSON]
      run the DLQ replay function's code with the same request the console takes, and print its
      summary as JSON. Needs SELFHEAL_TOPIC_ARN and SELFHEAL_TABLE unless --dry-run.
  selfheal prewarm sync [--dry-run] [--rules DIR] [--pinger-arn ARN]
      make EventBridge hold exactly the [[prewarm]] rules (rules named SELFHEAL_PREWARM_PREFIX, default
      selfheal-prewarm-, and tagged selfheal:managed-by=prewarm) and print the plan as JSON: create,
      update, delete, unchanged. --pinger-arn (or SELFHEAL_PREWARM_FUNCTION_ARN) is the pre-warm
      function, needed for rules above concurrency 1. Exit 1 when any part failed.
  selfheal prewarm ping FUNCTION [--qualifier Q] [--concurrency N] [--timeout-ms MS]
      run one round of pings as the pre-warm function does (N synchronous invocations at once with
      {\"isPrewarm\": true}, skipped when provisioned concurrency covers N) and print the report as JSON.
      Exit 1 when any ping failed.
  selfheal rules check [DIR]
      validate a rules folder (default: rules); every error names its file, rule and field.";

/// A failure, with the exit code it deserves.
struct Failure(u8, String);

fn usage_error(message: impl Into<String>) -> Failure {
    Failure(2, format!("{}\n{USAGE}", message.into()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    selfheal::telemetry::init_cli_logs();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("alarm") => alarm(&args[1..]).await,
        Some("replay") => replay(&args[1..]).await,
        Some("prewarm") if args.get(1).map(String::as_str) == Some("sync") => {
            prewarm_sync(&args[2..]).await
        }
        Some("prewarm") if args.get(1).map(String::as_str) == Some("ping") => {
            prewarm_ping(&args[2..]).await
        }
        Some("rules") if args.get(1).map(String::as_str) == Some("check") => {
            rules_check(&args[2..])
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some("--version") => {
            println!("selfheal {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(other) => Err(usage_error(format!("selfheal: unknown command {other:?}"))),
        None => Err(usage_error("selfheal: a command is required")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

async fn alarm(args: &[String]) -> Result<(), Failure> {
    let mut event_file = None;
    let mut rules_dir = None;
    let mut dry_run = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--dry-run" => dry_run = true,
            "--rules" => {
                rules_dir =
                    Some(PathBuf::from(rest.next().ok_or_else(|| {
                        usage_error("selfheal alarm: --rules needs a folder")
                    })?))
            }
            flag if flag.starts_with("--") => {
                return Err(usage_error(format!(
                    "selfheal alarm: unknown option {flag}"
                )))
            }
            file if event_file.is_none() => event_file = Some(file.to_owned()),
            extra => {
                return Err(usage_error(format!(
                    "selfheal alarm: unexpected argument {extra:?}"
                )))
            }
        }
    }
    let event_file =
        event_file.ok_or_else(|| usage_error("selfheal alarm: EVENT_FILE is required"))?;
    let text = std::fs::read_to_string(&event_file)
        .map_err(|e| Failure(2, format!("selfheal: cannot read {event_file}: {e}")))?;
    let event: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure(2, format!("selfheal: {event_file} is not JSON: {e}")))?;

    let environment = environment(dry_run)?;
    let sdk = selfheal::aws::load_config().await;
    let function = match rules_dir {
        Some(dir) => QuotaFunction::with_rules(sdk, environment, rules_in(&dir)?),
        None => QuotaFunction::new(sdk, environment),
    };
    let outcomes = function
        .handle(&event, "local", None)
        .await
        .map_err(|e| match e {
            QuotaFunctionError::Event(_) => Failure(2, format!("selfheal: {event_file}: {e}")),
            other => Failure(1, format!("selfheal: {other}")),
        })?;
    let output = match outcomes.as_slice() {
        [only] => serde_json::to_string_pretty(only),
        many => serde_json::to_string_pretty(&serde_json::json!({ "outcomes": many })),
    }
    .map_err(|e| Failure(1, format!("selfheal: {e}")))?;
    println!("{output}");
    Ok(())
}

/// The console request, from command-line options.
fn replay_request(args: &[String]) -> Result<(serde_json::Value, Option<PathBuf>), Failure> {
    use serde_json::{json, Map, Value};
    let mut request = Map::new();
    let mut filter = Map::new();
    let mut codes = Vec::new();
    let mut rules_dir = None;
    let mut rest = args.iter();
    let usage = |m: String| usage_error(format!("selfheal replay: {m}"));
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        let number = |name: &str, text: String| {
            text.parse::<f64>()
                .map_err(|_| usage(format!("{name} needs a number, got {text:?}")))
                .map(|n| json!(n))
        };
        match arg.as_str() {
            "--queue" => drop(request.insert("queue".into(), json!(value("--queue")?))),
            "--dry-run" => drop(request.insert("dryRun".into(), json!(true))),
            "--keep-copy" => drop(request.insert("keepCopy".into(), json!(true))),
            "--max" => {
                let text = value("--max")?;
                let max: u64 = text
                    .parse()
                    .map_err(|_| usage(format!("--max needs a whole number, got {text:?}")))?;
                request.insert("max".into(), json!(max));
            }
            "--rate" => drop(request.insert("rate".into(), number("--rate", value("--rate")?)?)),
            "--rules" => rules_dir = Some(PathBuf::from(value("--rules")?)),
            "--error-code" => codes.push(json!(value("--error-code")?)),
            "--min-age" => drop(filter.insert(
                "minAgeSeconds".into(),
                number("--min-age", value("--min-age")?)?,
            )),
            "--max-age" => drop(filter.insert(
                "maxAgeSeconds".into(),
                number("--max-age", value("--max-age")?)?,
            )),
            "--body-contains" => {
                drop(filter.insert("bodyContains".into(), json!(value("--body-contains")?)))
            }
            "--json-field" => {
                let text = value("--json-field")?;
                let (path, raw) = text
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--json-field needs PATH=JSON, got {text:?}")))?;
                let equals =
                    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
                filter.insert("jsonField".into(), json!({"path": path, "equals": equals}));
            }
            other => return Err(usage(format!("unknown option {other:?}"))),
        }
    }
    // Integral numbers as integers, as the console would type them.
    for key in ["minAgeSeconds", "maxAgeSeconds"] {
        if let Some(n) = filter.get(key).and_then(Value::as_f64) {
            if n >= 0.0 && n.fract() == 0.0 {
                filter.insert(key.into(), json!(n as u64));
            }
        }
    }
    if !codes.is_empty() {
        filter.insert("errorCode".into(), Value::Array(codes));
    }
    if !filter.is_empty() {
        request.insert("filter".into(), Value::Object(filter));
    }
    if !request.contains_key("queue") {
        return Err(usage("--queue is required".into()));
    }
    Ok((Value::Object(request), rules_dir))
}

async fn replay(args: &[String]) -> Result<(), Failure> {
    let (request, rules_dir) = replay_request(args)?;
    let dry_run = request["dryRun"] == serde_json::json!(true);
    let environment = environment(dry_run)?;
    let sdk = selfheal::aws::load_config().await;
    let function = match rules_dir {
        Some(dir) => ReplayFunction::with_rules(sdk, environment, rules_in(&dir)?),
        None => ReplayFunction::new(sdk, environment),
    };
    let summary = function
        .handle(&request, "local", None)
        .await
        .map_err(|e| {
            let code = if matches!(e.kind(), "InvalidRequest" | "QueueNotAllowed") {
                2
            } else {
                1
            };
            Failure(code, format!("selfheal: {e}"))
        })?;
    let output =
        serde_json::to_string_pretty(&summary).map_err(|e| Failure(1, format!("selfheal: {e}")))?;
    println!("{output}");
    Ok(())
}

/// The function's environment; a dry run writes nothing, so it needs neither the topic nor the table.
fn environment(dry_run: bool) -> Result<selfheal::settings::QuotaEnvironment, Failure> {
    quota_environment(|name| match name {
        DRY_RUN if dry_run => Some("true".into()),
        TOPIC_ARN | TABLE_NAME if dry_run => {
            Some(std::env::var(name).unwrap_or_else(|_| "(dry run)".into()))
        }
        _ => std::env::var(name).ok(),
    })
    .map_err(|e| Failure(2, format!("selfheal: {e}")))
}

/// The rules of `--rules DIR`, checked against the runbooks beside it.
fn rules_in(dir: &Path) -> Result<RuleSet, Failure> {
    let runbooks = runbooks_beside(dir);
    let names: Vec<&str> = runbooks.iter().map(String::as_str).collect();
    RuleSet::from_dir(dir, &names).map_err(|e| {
        Failure(
            2,
            format!("selfheal: rules in {} are invalid:\n{e}", dir.display()),
        )
    })
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

async fn prewarm_sync(args: &[String]) -> Result<(), Failure> {
    use selfheal::prewarm_function::PrewarmFunction;
    use selfheal::settings::{prewarm_environment, PREWARM_FUNCTION_ARN};
    let mut rules_dir = None;
    let mut dry_run = false;
    let mut pinger_arn = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |what: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| usage_error(format!("selfheal prewarm sync: {arg} needs {what}")))
        };
        match arg.as_str() {
            "--dry-run" => dry_run = true,
            "--rules" => rules_dir = Some(PathBuf::from(value("a folder")?)),
            "--pinger-arn" => pinger_arn = Some(value("an ARN")?),
            other => {
                return Err(usage_error(format!(
                    "selfheal prewarm sync: unexpected argument {other:?}"
                )))
            }
        }
    }
    let environment = prewarm_environment(|name| match name {
        PREWARM_FUNCTION_ARN if pinger_arn.is_some() => pinger_arn.clone(),
        _ => std::env::var(name).ok(),
    })
    .map_err(|e| Failure(2, format!("selfheal: {e}")))?;
    let sdk = selfheal::aws::load_config().await;
    let function = match rules_dir {
        Some(dir) => PrewarmFunction::with_rules(sdk, environment, rules_in(&dir)?),
        None => PrewarmFunction::new(sdk, environment),
    };
    let report = function
        .sync(dry_run, None)
        .await
        .map_err(|e| Failure(2, format!("selfheal: {e}")))?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| Failure(1, e.to_string()))?;
    println!("{text}");
    if report.ok() {
        Ok(())
    } else {
        Err(Failure(
            1,
            format!("selfheal: the pre-warm sync failed ({})", report.counts()),
        ))
    }
}

async fn prewarm_ping(args: &[String]) -> Result<(), Failure> {
    use selfheal::prewarm::PingRequest;
    use selfheal::prewarm_function::PrewarmFunction;
    use selfheal::settings::prewarm_environment;
    let mut function = None;
    let mut qualifier = None;
    let mut concurrency = 1u32;
    let mut timeout_ms = 10_000u32;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |what: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| usage_error(format!("selfheal prewarm ping: {arg} needs {what}")))
        };
        let number = |text: String, flag: &str| {
            text.parse::<u32>().map_err(|_| {
                usage_error(format!(
                    "selfheal prewarm ping: {flag} needs a whole number"
                ))
            })
        };
        match arg.as_str() {
            "--qualifier" => qualifier = Some(value("an alias or version")?),
            "--concurrency" => concurrency = number(value("a number")?, "--concurrency")?,
            "--timeout-ms" => timeout_ms = number(value("a number")?, "--timeout-ms")?,
            flag if flag.starts_with("--") => {
                return Err(usage_error(format!(
                    "selfheal prewarm ping: unknown option {flag}"
                )))
            }
            name if function.is_none() => function = Some(name.to_owned()),
            extra => {
                return Err(usage_error(format!(
                    "selfheal prewarm ping: unexpected argument {extra:?}"
                )))
            }
        }
    }
    let request = PingRequest {
        function: function
            .ok_or_else(|| usage_error("selfheal prewarm ping: FUNCTION is required"))?,
        qualifier,
        concurrency,
        payload: serde_json::json!({"isPrewarm": true}),
        timeout_ms,
    };
    request
        .validate()
        .map_err(|e| usage_error(format!("selfheal prewarm ping: {e}")))?;
    let environment = prewarm_environment(|name| std::env::var(name).ok())
        .map_err(|e| Failure(2, format!("selfheal: {e}")))?;
    let function = PrewarmFunction::new(selfheal::aws::load_config().await, environment);
    let report = function.ping(&request).await;
    let text = serde_json::to_string_pretty(&report).map_err(|e| Failure(1, e.to_string()))?;
    println!("{text}");
    if report.ok() {
        Ok(())
    } else {
        Err(Failure(
            1,
            format!(
                "selfheal: {} of {} pings failed",
                report.failures.len(),
                report.sent
            ),
        ))
    }
}

fn rules_check(args: &[String]) -> Result<(), Failure> {
    let dir = match args {
        [] => PathBuf::from("rules"),
        [dir] => PathBuf::from(dir),
        _ => return Err(usage_error("selfheal rules check: at most one folder")),
    };
    let runbooks = runbooks_beside(&dir);
    let names: Vec<&str> = runbooks.iter().map(String::as_str).collect();
    let rules = RuleSet::from_dir(&dir, &names).map_err(|e| Failure(1, e.to_string()))?;
    println!(
        "{}: {} quota, {} dlq and {} prewarm rules OK",
        dir.display(),
        rules.quotas.len(),
        rules.dlqs.len(),
        rules.prewarm.len()
    );
    Ok(())
}

//! The `selfheal` command line, run as a user runs it.

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn selfheal(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_selfheal"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for var in [
        "AWS_PROFILE",
        "SELFHEAL_TOPIC_ARN",
        "SELFHEAL_TABLE",
        "SELFHEAL_DRY_RUN",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("selfheal-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_shipped_rules_pass_the_check() {
    let output = selfheal(&["rules", "check", "rules"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("prewarm rules OK"));
}

#[test]
fn a_broken_rule_is_named_by_file_rule_and_field() {
    let dir = temp_dir("broken");
    std::fs::write(
        dir.join("team.toml"),
        "[[quota]]\nname = \"sqs\"\nservice_code = \"sqs\"\nquota_code = \"L-1\"\nincrease = \"double\"\nceiling = 0\n",
    )
    .unwrap();
    let output = selfheal(&["rules", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("team.toml: rule \"sqs\": field `increase`"),
        "{text}"
    );
    assert!(
        text.contains("team.toml: rule \"sqs\": field `ceiling`"),
        "{text}"
    );
}

#[test]
fn unreadable_input_exits_non_zero_with_one_line() {
    for (file, expected) in [
        ("no/such/event.json", "cannot read"),
        ("Cargo.toml", "is not JSON"),
        (
            "tests/fixtures/eventbridge-ec2-state-change.json",
            "not a CloudWatch alarm event",
        ),
    ] {
        let output = selfheal(
            &["alarm", file, "--dry-run"],
            &[("AWS_REGION", "us-east-1")],
        );
        assert_eq!(output.status.code(), Some(2), "{file}");
        let text = stderr(&output);
        assert_eq!(text.trim_end().lines().count(), 1, "{file}: {text}");
        assert!(text.contains(expected), "{file}: {text}");
    }
    let output = selfheal(&["alarm"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let output = selfheal(
        &[
            "alarm",
            "tests/fixtures/alarm-action-lambda-concurrency.json",
        ],
        &[],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a real run needs the topic and table"
    );
    assert!(stderr(&output).contains("SELFHEAL_"));
}

/// The SDK's standard environment, pointed at a fresh account of the sandbox, which the command
/// line is told is its own.
fn sandbox_env(account_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", common::endpoint()),
        ("AWS_REGION", common::REGION.into()),
        ("AWS_ACCESS_KEY_ID", account_id.into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("SELFHEAL_ACCOUNT_ID", account_id.into()),
    ]
}

/// `sandbox_env` plus the quota function's topic and ledger table, created in the account.
async fn quota_env(account_id: &str) -> Vec<(&'static str, String)> {
    let mut env = sandbox_env(account_id);
    let sdk = common::sdk_config(account_id).await;
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name("cli-escalations")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    common::create_ledger_table(&aws_sdk_dynamodb::Client::new(&sdk), "cli-ledger").await;
    env.push(("SELFHEAL_TOPIC_ARN", topic));
    env.push(("SELFHEAL_TABLE", "cli-ledger".into()));
    env
}

/// A fixture event as raised in `account_id` (the fixtures name 123456789012), written to a file.
fn event_of(account_id: &str, fixture: &str) -> String {
    let text = std::fs::read_to_string(format!("tests/fixtures/{fixture}")).unwrap();
    let path = temp_dir(&format!("event-{account_id}")).join(fixture);
    std::fs::write(&path, text.replace("123456789012", account_id)).unwrap();
    path.to_str().unwrap().to_owned()
}

fn run_alarm(args: &[&str], env: &[(&'static str, String)]) -> serde_json::Value {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = selfheal(args, &env);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_dry_run_prints_the_plan_as_json() {
    let account_id = common::unique_account_id();
    let env = sandbox_env(&account_id);
    let event = event_of(&account_id, "sns-lambda-concurrency.json");
    let outcome = run_alarm(&["alarm", &event, "--dry-run"], &env);
    assert_eq!(outcome["decision"], "raise");
    assert_eq!(outcome["service_code"], "lambda");
    assert_eq!(outcome["quota_code"], "L-B99A9384");
    assert_eq!(outcome["current_value"], 1000.0);
    assert_eq!(outcome["desired_value"], 1500.0);
    assert_eq!(outcome["reason"], "raise");
    assert_eq!(outcome["dry_run"], true);
}

#[tokio::test]
async fn a_real_run_raises_then_waits_with_rules_from_a_folder() {
    let account_id = common::unique_account_id();
    let env = quota_env(&account_id).await;

    let dir = temp_dir("rules");
    std::fs::write(
        dir.join("quotas.toml"),
        "[[quota]]\nname = \"lambda\"\nalarm = \"prod-lambda-*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+250\"\nceiling = 2000\n",
    )
    .unwrap();
    let event = event_of(&account_id, "eventbridge-lambda-concurrency.json");
    let args = ["alarm", &event, "--rules", dir.to_str().unwrap()];
    let first = run_alarm(&args, &env);
    assert_eq!(
        (first["decision"].as_str(), first["desired_value"].as_f64()),
        (Some("raise"), Some(1250.0))
    );
    assert_eq!(first["rule"], "lambda");
    // The alarm entering ALARM again later: a new state change of it.
    let text = std::fs::read_to_string(&event).unwrap();
    std::fs::write(
        &event,
        text.replace(
            "2026-11-20T03:12:45.123+0000",
            "2026-11-20T04:12:45.123+0000",
        ),
    )
    .unwrap();
    let second = run_alarm(&args, &env);
    assert_eq!(
        (second["decision"].as_str(), second["reason"].as_str()),
        (Some("none"), Some("request-pending"))
    );
}

#[test]
fn an_alarm_of_an_account_it_was_not_given_is_escalated_not_acted_on() {
    let account_id = common::unique_account_id();
    let event = event_of(&account_id, "alarm-action-lambda-concurrency.json");
    let mut env = sandbox_env(&account_id);
    env.retain(|(name, _)| *name != "SELFHEAL_ACCOUNT_ID");
    env.push(("SELFHEAL_ACCOUNT_ID", "999988887777".into()));
    let outcome = run_alarm(&["alarm", &event, "--dry-run"], &env);
    assert_eq!(
        (outcome["decision"].as_str(), outcome["reason"].as_str()),
        (Some("escalate"), Some("other-account")),
        "{outcome:#}"
    );
}

#[test]
fn without_selfheal_account_id_the_credentials_name_the_account() {
    let account_id = common::unique_account_id();
    let event = event_of(&account_id, "alarm-action-lambda-concurrency.json");
    let mut env = sandbox_env(&account_id);
    env.retain(|(name, _)| *name != "SELFHEAL_ACCOUNT_ID");
    // As a new user runs it: their credentials, no variable only we know about. STS's
    // GetCallerIdentity names the account (the sandbox answers with the caller's).
    let outcome = run_alarm(&["alarm", &event, "--dry-run"], &env);
    assert_eq!(
        (
            outcome["decision"].as_str(),
            outcome["desired_value"].as_f64()
        ),
        (Some("raise"), Some(1500.0)),
        "{outcome:#}"
    );
    // STS out of reach: a clear error naming what to set, not an escalation of every alarm.
    env.push(("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let failed = selfheal(&["alarm", &event, "--dry-run"], &env);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("set SELFHEAL_ACCOUNT_ID"),
        "{}",
        stderr(&failed)
    );
    assert!(failed.stdout.is_empty(), "no outcome printed");
}

#[tokio::test]
async fn replay_runs_the_console_request_from_options() {
    let account_id = common::unique_account_id();
    let env = sandbox_env(&account_id);
    let sdk = common::sdk_config(&account_id).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let dlq = sqs
        .create_queue()
        .queue_name("cli-dlq")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = "arn:aws:sqs:us-east-1:".to_owned() + &account_id + ":cli-dlq";
    sqs.create_queue()
        .queue_name("cli-source")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}).to_string(),
        )
        .send()
        .await
        .unwrap();
    for i in 0..4 {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("{{\"n\": {i}}}"))
            .send()
            .await
            .unwrap();
    }
    let dir = temp_dir("replay-rules");
    std::fs::write(
        dir.join("replay.toml"),
        "[[dlq]]\nname = \"cli\"\nqueue = \"cli-dlq\"\n",
    )
    .unwrap();
    let summary = run_alarm(
        &[
            "replay",
            "--queue",
            &dlq,
            "--dry-run",
            "--rules",
            dir.to_str().unwrap(),
            "--json-field",
            "n=2",
        ],
        &env,
    );
    assert_eq!(summary["dryRun"], true);
    assert_eq!(summary["target"], "queue:cli-source");
    assert_eq!(
        (
            summary["replayed"].as_u64(),
            summary["skippedByFilter"].as_u64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(summary["remaining"], 4);

    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = selfheal(
        &[
            "replay",
            "--queue",
            "somebody-elses-dlq",
            "--dry-run",
            "--rules",
            dir.to_str().unwrap(),
        ],
        &env_refs,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("not a replayable DLQ"),
        "{}",
        stderr(&refused)
    );
    let unknown = selfheal(
        &["replay", "--queue", "cli-dlq", "--colour", "red"],
        &env_refs,
    );
    assert_eq!(unknown.status.code(), Some(2));

    // A message that cannot be delivered: exit status 1, the summary still printed.
    let record = serde_json::json!({
        "version": "1.0", "timestamp": "2026-11-30T00:00:00.000Z",
        "requestContext": {"requestId": "r-1", "condition": "RetriesExhausted", "approximateInvokeCount": 3,
            "functionArn": format!("arn:aws:lambda:us-east-1:{account_id}:function:not-in-the-rule")},
        "requestPayload": {"n": 9}
    });
    sqs.send_message()
        .queue_url(&dlq)
        .message_body(record.to_string())
        .send()
        .await
        .unwrap();
    let failed = selfheal(
        &[
            "replay",
            "--queue",
            "cli-dlq",
            "--dry-run",
            "--output",
            "text",
            "--rules",
            dir.to_str().unwrap(),
        ],
        &env_refs,
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let text = String::from_utf8_lossy(&failed.stdout);
    assert!(text.contains("TargetNotAllowed 1"), "{text}");
    assert!(text.contains("onFailureRecord 1"), "{text}");
    assert!(
        stderr(&failed).contains("1 messages not delivered"),
        "{}",
        stderr(&failed)
    );
}

#[test]
fn every_command_answers_help_with_usage_and_status_0() {
    for command in [
        &[][..],
        &["alarm"],
        &["quota"],
        &["quota", "sweep"],
        &["quota", "follow-up"],
        &["replay"],
        &["prewarm"],
        &["prewarm", "sync"],
        &["prewarm", "ping"],
        &["rules"],
        &["rules", "check"],
        &["completions"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let output = selfheal(&args, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("Usage: selfheal"), "{args:?}: {text}");
    }
    let output = selfheal(&["alarm", "--help"], &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Exit status:"), "{text}");
    let version = selfheal(&["--version"], &[]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("selfheal {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_usage_error_exits_2_naming_the_option_and_the_close_one() {
    let output = selfheal(&["replay", "--queue", "q", "--dry-rn"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("'--dry-rn'"), "{text}");
    assert!(text.contains("--dry-run"), "the suggestion: {text}");
    for args in [
        &["frobnicate"][..],
        &[],
        &["replay"],
        &["prewarm", "ping", "f", "--concurrency", "many"],
        &["alarm", "x.json", "--output", "yaml"],
    ] {
        let output = selfheal(args, &[]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = selfheal(&["completions", shell], &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            stderr(&output)
        );
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains("selfheal"), "{shell}");
        assert!(script.contains("dry-run"), "{shell}: options are completed");
    }
}

#[test]
fn text_output_is_for_a_person_and_json_for_machines() {
    let account_id = common::unique_account_id();
    let env = sandbox_env(&account_id);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let event = event_of(&account_id, "sns-lambda-concurrency.json");
    let output = selfheal(&["alarm", &event, "--dry-run", "--output", "text"], &env);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("raise (raise), dry run: would request lambda L-B99A9384"),
        "{text}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    let output = selfheal(
        &["rules", "check", "--rules", "rules", "--output", "json"],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let check: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(check["ok"], true);
    assert!(check["quota"].as_u64().unwrap() > 0, "{check}");
}

#[test]
fn a_ping_that_fails_exits_1_with_the_report() {
    let account_id = common::unique_account_id();
    let env = sandbox_env(&account_id);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = selfheal(
        &["prewarm", "ping", "no-such-function", "--concurrency", "2"],
        &env,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["failures"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    assert!(
        stderr(&output).contains("2 of 2 pings failed"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn quota_sweep_prints_the_plan_and_refuses_a_bad_threshold() {
    let account_id = common::unique_account_id();
    let env = sandbox_env(&account_id);
    let body = serde_json::json!({"AccountId": account_id, "Region": common::REGION,
        "ServiceCode": "lambda", "QuotaCode": "L-B99A9384", "Usage": 950});
    common::http(
        &format!(
            "{}/moto-api/selfheal/servicequotas/set-usage",
            common::endpoint()
        ),
        "POST",
        Some(body),
    )
    .await;
    let report = run_alarm(&["quota", "sweep", "--dry-run"], &env);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["over_threshold"][0]["quota_code"], "L-B99A9384");
    assert_eq!(report["outcomes"][0]["decision"], "raise");
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for bad in ["0", "101", "lots"] {
        let output = selfheal(
            &["quota", "sweep", "--dry-run", "--threshold", bad],
            &env_refs,
        );
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&output).contains("percentage"),
            "{}",
            stderr(&output)
        );
    }
}

/// The whole hub path on a workstation: `--rules DIR` with an `accounts.toml`, a spoke's EventBridge
/// alarm event of another Region, the request filed in the spoke's account and Region.
#[tokio::test]
async fn the_command_line_heals_a_spoke_with_the_rules_of_a_folder() {
    let hub = common::unique_account_id();
    let spoke = common::unique_account_id();
    crate::organization::create_spoke_role(&spoke, &hub).await;
    let env = quota_env(&hub).await;
    let dir = temp_dir("hub-rules");
    std::fs::write(
        dir.join("quotas.toml"),
        "[[quota]]\nname = \"lambda\"\nalarm = \"prod-lambda-*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+250\"\nceiling = 2000\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("accounts.toml"),
        format!("[hub]\nspoke_role = \"selfheal-spoke\"\nregions = [\"eu-west-1\"]\n[[account]]\nid = \"{spoke}\"\nowner = \"team-payments\"\n"),
    )
    .unwrap();
    let event = event_of(&spoke, "eventbridge-lambda-concurrency.json");
    let text = std::fs::read_to_string(&event).unwrap();
    std::fs::write(&event, text.replace("us-east-1", "eu-west-1")).unwrap();
    let check = selfheal(&["rules", "check", dir.to_str().unwrap()], &[]);
    assert!(check.status.success(), "{}", stderr(&check));
    let outcome = run_alarm(&["alarm", &event, "--rules", dir.to_str().unwrap()], &env);
    assert_eq!(
        (
            outcome["decision"].as_str(),
            outcome["desired_value"].as_f64()
        ),
        (Some("raise"), Some(1250.0)),
        "{outcome:#}"
    );
    assert_eq!(
        crate::organization::requests_in(&spoke, "eu-west-1")
            .await
            .len(),
        1
    );
    assert!(crate::organization::requests_in(&hub, "eu-west-1")
        .await
        .is_empty());
}

#[test]
fn rules_check_refuses_a_bad_accounts_file() {
    let dir = temp_dir("bad-accounts");
    std::fs::write(
        dir.join("accounts.toml"),
        "[hub]\nspoke_role = \"arn:aws:iam::1:role/x\"\nregions = [\"Europe\"]\n[[account]]\nid = 111122223333\n[[account]]\nid = \"12345\"\nowner = \"team payments\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("quotas.toml"),
        "[[quota]]\nname = \"q\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+1\"\nceiling = 9\nowners = [\"nobody\"]\n\
         [[quota]]\nname = \"r\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"+1\"\nceiling = 9\naccounts = [\"abc\"]\n",
    )
    .unwrap();
    let output = selfheal(&["rules", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = format!(
        "{}{}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    for expected in [
        "field `spoke_role`",
        "field `regions`",
        "as a number it loses its leading zeros",
        "\"12345\" is not a 12-digit account id",
        "field `owner`",
        "no [[account]] has owner \"nobody\"",
        "field `accounts`",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[test]
fn rules_check_looks_each_time_zone_up() {
    let dir = temp_dir("zones");
    std::fs::write(
        dir.join("prewarm.toml"),
        "[[prewarm]]\nfunction = \"a\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\ntimezone = \"Europe/Berlim\"\n\
         [[prewarm]]\nfunction = \"b\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"Pacific/Auckland\"\n\
         [[prewarm]]\nfunction = \"c\"\nschedule = \"rate(5 minutes)\"\nactive_hours = \"08-18\"\nactive_days = \"MON-FRI\"\ntimezone = \"America/New_York\"\n",
    )
    .unwrap();
    let output = selfheal(&["rules", "check", dir.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = format!(
        "{}{}",
        stderr(&output),
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        text.contains("prewarm.toml: rule \"a\": field `timezone`: \"Europe/Berlim\" is not an IANA time zone"),
        "{text}"
    );
    assert!(
        text.contains("rule \"b\": field `timezone`: on 15 January 2026"),
        "{text}"
    );
    assert!(!text.contains("rule \"c\""), "{text}");
}

/// `selfheal audit` lists a run's decisions newest first, dry runs marked, one account's only, and reads
/// them with queries (one per kind and day), never a scan: the proxy in front of the sandbox sees
/// every call it makes.
// Multi-threaded: the proxy serves while this thread waits on the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_lists_decisions_newest_first_without_a_scan() {
    let account_id = common::unique_account_id();
    let env = quota_env(&account_id).await;
    // Each event file is written just before its run (event_of empties the folder).
    let lambda = event_of(&account_id, "alarm-action-lambda-concurrency.json");
    run_alarm(&["alarm", &lambda], &env);
    let ec2 = event_of(&account_id, "alarm-action-ec2-vcpu-usage.json");
    run_alarm(&["alarm", &ec2, "--dry-run"], &env);

    let proxy = common::proxy::FaultProxy::start(&common::endpoint()).await;
    let mut through: Vec<(&'static str, String)> = env
        .iter()
        .filter(|(k, _)| *k != "AWS_ENDPOINT_URL")
        .cloned()
        .collect();
    through.push(("AWS_ENDPOINT_URL", proxy.url.clone()));
    let listed = run_alarm(
        &["audit", "--since", "1h", "--account", &account_id],
        &through,
    );
    let records = listed.as_array().unwrap();
    assert_eq!(records.len(), 2, "{listed:#}");
    assert!(records[0]["at"].as_u64() >= records[1]["at"].as_u64());
    let flags: Vec<(&str, bool)> = records
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["dry_run"].as_bool().unwrap()))
        .collect();
    assert!(
        flags.contains(&("quota", true)) && flags.contains(&("quota", false)),
        "{flags:?}"
    );
    assert_eq!(proxy.requests("DynamoDB_20120810.Scan"), 0);
    assert!(
        proxy.requests("DynamoDB_20120810.Query") >= 3,
        "one per kind and day"
    );

    // Another account's records are not listed; a kind narrows the queries.
    let other = run_alarm(
        &[
            "audit",
            "--since",
            "1h",
            "--account",
            "999988887777",
            "--kind",
            "replay",
        ],
        &through,
    );
    assert_eq!(other, serde_json::json!([]));
    let text = selfheal(
        &["audit", "--since", "1h", "--output", "text"],
        &env.iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("dry run") && text.contains(&account_id),
        "{text}"
    );
    assert_eq!(
        selfheal(&["audit", "--since", "2w"], &[]).status.code(),
        Some(2),
        "a usage error"
    );
}

//! The functions' real binaries as Lambda runtime clients: `cargo lambda watch` serves the runtime API
//! and the standard Invoke URL, `cargo lambda invoke` sends the events. Needs `cargo-lambda` on PATH
//! (`scripts/bootstrap` puts it in .venv/bin) and the sandbox.

use crate::common;

use common::Account;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Kills the process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cargo_lambda() -> Command {
    let mut command = Command::new("cargo");
    command.arg("lambda");
    command
}

/// The example rules (`rules/examples`), which replace the shipped files of the same name in a local
/// run (`SELFHEAL_RULES_DIR`).
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/examples");

/// `cargo lambda watch` listening on a port of its own. The port is chosen by binding port 0 and
/// letting go, so another process may take it first: then watch exits (address in use), or what
/// answers is not watch, and it is started again on another port.
fn start_watch(watch_args: &[&str]) -> (Running, u16) {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut watch = Running(
            cargo_lambda()
                .args([
                    "watch",
                    "--only-lambda-apis",
                    "--invoke-address",
                    "127.0.0.1",
                    "--invoke-port",
                ])
                .arg(port.to_string())
                .args(watch_args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if watch.0.try_wait().unwrap().is_some() {
                break;
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Still running once answered: the listener is watch's.
                std::thread::sleep(Duration::from_millis(100));
                if watch.0.try_wait().unwrap().is_none() {
                    return (watch, port);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("cargo lambda watch did not start on any of five ports");
}

/// `cargo lambda watch` serving one function, and that function's binary polling it.
struct Runtime {
    name: &'static str,
    port: u16,
    /// The function's stdout and stderr: its logs.
    log: PathBuf,
    _function: Running,
    _watch: Running,
}

impl Runtime {
    /// Starts `binary` as the function `name`, with the sandbox account's credentials and `env`.
    fn start(
        name: &'static str,
        binary: &Path,
        account_id: &str,
        env: &[(&str, &str)],
        watch_args: &[&str],
    ) -> Runtime {
        let available = cargo_lambda().arg("--version").output();
        assert!(
            available.is_ok_and(|o| o.status.success()),
            "cargo-lambda is not on PATH: run scripts/bootstrap and add .venv/bin to PATH (scripts/test does)"
        );
        let (watch, port) = start_watch(watch_args);
        let log = std::env::temp_dir().join(format!("selfheal-{name}-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(binary);
        command
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{name}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_ENDPOINT_URL", common::endpoint())
            .env("AWS_REGION", common::REGION)
            .env("AWS_ACCESS_KEY_ID", account_id)
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file));
        for (key, value) in env {
            command.env(key, value);
        }
        let function = Running(command.spawn().unwrap());
        Runtime {
            name,
            port,
            log,
            _function: function,
            _watch: watch,
        }
    }

    /// `cargo lambda invoke` with a payload file (a path from the project root).
    fn invoke_file(&self, payload_file: &str) -> Output {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(payload_file);
        self.invoke_with(&["--data-file".as_ref(), path.as_os_str()])
    }

    fn invoke_with(&self, data: &[&std::ffi::OsStr]) -> Output {
        cargo_lambda()
            .args([
                "invoke",
                self.name,
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(self.port.to_string())
            .args(data)
            // Outside the project: `cargo lambda invoke` checks the name against the project's binaries.
            .current_dir(std::env::temp_dir())
            .output()
            .expect("cargo lambda runs")
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The logs hold no phone number, email address or any of `secrets` (message bodies...).
    fn assert_private(&self, secrets: &[&str]) {
        let logs = self.logs();
        assert!(logs.lines().count() > 2, "the function logged: {logs}");
        for secret in secrets {
            assert!(!logs.contains(secret), "{secret:?} is in the logs:\n{logs}");
        }
        for line in logs.lines() {
            let bytes = line.as_bytes();
            let phone = bytes
                .windows(9)
                .any(|w| w[0] == b'+' && w[1..].iter().all(u8::is_ascii_digit));
            assert!(!phone, "a phone number is in the logs: {line}");
            let email = line
                .split(|c: char| c.is_whitespace() || "\"',<>()[]{}".contains(c))
                .any(|word| {
                    word.split_once('@').is_some_and(|(user, domain)| {
                        !user.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    })
                });
            assert!(!email, "an email address is in the logs: {line}");
        }
    }

    fn invoke(&self, payload: &serde_json::Value) -> Output {
        let data = payload.to_string();
        self.invoke_with(&["--data-ascii".as_ref(), data.as_ref()])
    }
}

fn answer(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn failure_text(output: &Output) -> String {
    assert!(!output.status.success(), "expected an error");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn the_quota_function_answers_alarm_events_through_the_runtime_api() {
    let account = Account::new().await;
    let runtime = Runtime::start(
        "quota-alarm",
        Path::new(env!("CARGO_BIN_EXE_quota-alarm")),
        &account.id,
        &[
            ("SELFHEAL_TOPIC_ARN", &account.topic_arn),
            ("SELFHEAL_TABLE", &account.table),
            ("SELFHEAL_ACCOUNT_ID", &account.id),
            // The template's default: the sweep reports, whatever its event says.
            ("SELFHEAL_SWEEP_MODE", "report"),
        ],
        &[],
    );

    // Targets per ALB already at the rule's ceiling: its alarm is escalated.
    account
        .set_quota_value("elasticloadbalancing", "L-7E6692B2", 2000.0)
        .await;
    let mut decisions = Vec::new();
    for fixture in [
        "alarm-action-lambda-concurrency.json",
        "sns-lambda-concurrency.json",
        "eventbridge-lambda-concurrency.json",
        "alarm-action-alb-targets.json",
    ] {
        let event = common::fixture(fixture)
            .to_string()
            .replace("123456789012", &account.id);
        let event: serde_json::Value = serde_json::from_str(&event).unwrap();
        let response = answer(&runtime.invoke(&event));
        let outcome = &response["outcomes"][0];
        decisions.push((
            outcome["decision"].as_str().unwrap().to_owned(),
            outcome["reason"].as_str().unwrap().to_owned(),
        ));
    }
    // The first three fixtures are one state change of one alarm (its ARN and `state.timestamp`),
    // delivered three ways: one decision, then two duplicate deliveries.
    let expected = [
        ("raise", "raise"),
        ("none", "duplicate-delivery"),
        ("none", "duplicate-delivery"),
        ("escalate", "ceiling-reached"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(d, r)| (d.to_string(), r.to_string()))
        .collect();
    assert_eq!(decisions, expected);
    assert_eq!(account.requests("lambda", "L-B99A9384").await.len(), 1);
    assert_eq!(
        account.deliveries().await.len(),
        2,
        "the escalation's SMS and email"
    );

    // An alarm whose description carries contact details: they must not reach the logs.
    let mut private = common::fixture("alarm-action-lambda-concurrency.json");
    private["alarmData"]["configuration"]["description"] =
        serde_json::json!("Page +15555550199 or oncall@corp.example before raising");
    answer(&runtime.invoke(&private));
    runtime.assert_private(&["+15555550199", "oncall@corp.example"]);
    let text =
        failure_text(&runtime.invoke_file("tests/fixtures/eventbridge-ec2-state-change.json"));
    assert!(text.contains("not a CloudWatch alarm event"), "{text}");

    // Service Quotas' own threshold notice: the Lambda quota's request is pending; the EC2 quota,
    // named by its name, is raised.
    let event = common::fixture("health-quota-threshold.json")
        .to_string()
        .replace("123456789012", &account.id);
    let response = answer(&runtime.invoke(&serde_json::from_str(&event).unwrap()));
    let reasons: Vec<(&str, &str)> = response["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["quota_code"].as_str().unwrap(),
                o["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [("L-B99A9384", "request-pending"), ("L-1216C47A", "raise")],
        "{response}"
    );
    // The daily sweep's scheduled event: a dry run over the utilization report.
    account.set_usage("vpc", "L-F678F1CE", 4.5).await;
    // An event asking the sweep to act (and to look lower) cannot: report mode keeps it a dry run at
    // the default threshold.
    let report = answer(
        &runtime.invoke(&serde_json::json!({"selfheal": "sweep", "dryRun": false, "threshold": 1})),
    );
    assert_eq!(report["dry_run"], true, "{report}");
    assert_eq!(report["default_threshold"], 80.0, "{report}");
    assert_eq!(report["over_threshold"][0]["quota_code"], "L-F678F1CE");
    // The Lambda and EC2 requests hold the Region's two active requests: the raise would wait.
    assert_eq!(
        report["outcomes"][0]["reason"], "too-many-open-requests",
        "{report}"
    );
    assert!(account.requests("vpc", "L-F678F1CE").await.is_empty());
    // Another Health event on the same subscription: no outcome, no error.
    let mut other: serde_json::Value = serde_json::from_str(&event).unwrap();
    other["detail"]["service"] = serde_json::json!("EC2");
    assert_eq!(
        answer(&runtime.invoke(&other))["outcomes"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn the_guard_answers_pings_itself_and_hands_real_events_to_the_handler() {
    let account = Account::new().await;
    let runtime = Runtime::start(
        "warmed-example",
        Path::new(env!("CARGO_BIN_EXE_warmed-example")),
        &account.id,
        &[("SELFHEAL_PREWARM_HOLD_MS", "1500")],
        &[],
    );
    // A hold long enough to tell apart from an invocation's own time: the ping takes at least the
    // hold (a sleep, so never less), a real event of the same function far less.
    let started = Instant::now();
    assert_eq!(
        answer(&runtime.invoke(&serde_json::json!({"isPrewarm": true}))),
        serde_json::json!({"prewarmed": true})
    );
    let ping = started.elapsed();
    assert!(
        ping >= Duration::from_millis(1500),
        "the guard holds the container: {ping:?}"
    );
    let started = Instant::now();
    assert_eq!(
        answer(&runtime.invoke(&serde_json::json!({"cart_id": "c-42"}))),
        serde_json::json!({"handled": true, "cart": "c-42"})
    );
    let real = started.elapsed();
    assert!(
        real < ping,
        "only a ping is held: real event {real:?}, ping {ping:?}"
    );
    let text = failure_text(&runtime.invoke(&serde_json::json!({"basket": 1})));
    assert!(text.contains("InvalidEvent"), "{text}");
    let handled = runtime.logs();
    let runs: Vec<&str> = handled
        .lines()
        .filter(|l| l.starts_with("checkout handled"))
        .collect();
    assert_eq!(
        runs,
        ["checkout handled cart c-42"],
        "only the real event reached the handler"
    );
}

#[tokio::test]
async fn the_prewarm_function_syncs_on_its_schedule_and_pings_through_the_runtime_api() {
    let account = Account::new().await;
    let lambda = aws_sdk_lambda::Client::new(&account.sdk);
    let pinger =
        common::lambda::create_function(&lambda, &account.id, "selfheal-prewarm", None).await;
    common::lambda::create_function(&lambda, &account.id, "checkout-api", Some("live")).await;
    common::lambda::create_function(&lambda, &account.id, "search-api", None).await;
    let runtime = Runtime::start(
        "prewarm",
        Path::new(env!("CARGO_BIN_EXE_prewarm")),
        &account.id,
        &[
            ("SELFHEAL_PREWARM_FUNCTION_ARN", &pinger),
            ("SELFHEAL_RULES_DIR", EXAMPLES),
        ],
        &[],
    );
    // The daily schedule's event: a sync with the example rules (rules/examples/prewarm.toml).
    let report = answer(&runtime.invoke_file("tests/fixtures/eventbridge-scheduled-event.json"));
    assert_eq!(report["create"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(
        answer(&runtime.invoke(&serde_json::json!({"action": "sync", "dryRun": true})))
            ["unchanged"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // What the rule above concurrency 1 sends: three pings at once.
    let events = aws_sdk_eventbridge::Client::new(&account.sdk);
    let targets = events
        .list_targets_by_rule()
        .rule("selfheal-prewarm-checkout-api.live")
        .send()
        .await
        .unwrap();
    let input: serde_json::Value =
        serde_json::from_str(targets.targets()[0].input().unwrap()).unwrap();
    let report = answer(&runtime.invoke(&input));
    assert_eq!(
        (report["sent"].as_u64(), report["warm"].as_u64()),
        (Some(3), Some(3)),
        "{report}"
    );
    assert_eq!(
        common::lambda::invocations(&account.id, "checkout-api")
            .await
            .len(),
        3
    );
    let text = failure_text(&runtime.invoke(&serde_json::json!({"hello": "world"})));
    assert!(text.contains("not a pre-warm event"), "{text}");
    runtime.assert_private(&[]);
}

#[tokio::test]
async fn the_replay_function_answers_a_console_request_through_the_runtime_api() {
    let account = Account::new().await;
    let sqs = aws_sdk_sqs::Client::new(&account.sdk);
    let (source, dlq_url) = common::sqs::source_with_dlq(&sqs, "orders", "orders-dlq", false).await;
    let dlq_url = dlq_url.as_str();
    for i in 0..3 {
        sqs.send_message()
            .queue_url(dlq_url)
            .message_body(format!(
                "{{\"order\": {i}, \"note\": \"secret-body-{i}\", \"buyer\": \"buyer{i}@shop.example\", \"phone\": \"+4915112345678\"}}"
            ))
            .send()
            .await
            .unwrap();
    }
    let runtime = Runtime::start(
        "dlq-replay",
        Path::new(env!("CARGO_BIN_EXE_dlq-replay")),
        &account.id,
        &[
            ("SELFHEAL_TOPIC_ARN", &account.topic_arn),
            ("SELFHEAL_TABLE", &account.table),
            ("SELFHEAL_RULES_DIR", EXAMPLES),
        ],
        &[],
    );
    let dry = answer(&runtime.invoke(&serde_json::json!({"queue": "orders-dlq", "dryRun": true})));
    assert_eq!(
        (dry["dryRun"].as_bool(), dry["received"].as_u64()),
        (Some(true), Some(3)),
        "{dry}"
    );
    assert_eq!(dry["remaining"], 3, "a dry run moves nothing: {dry}");
    let real = answer(&runtime.invoke(&serde_json::json!({"queue": "orders-dlq"})));
    assert_eq!(real["replayed"], 3, "{real}");
    let moved = sqs
        .receive_message()
        .queue_url(&source)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.messages().len(), 3);
    let text = failure_text(&runtime.invoke(&serde_json::json!({"queue": "not-in-the-rules"})));
    assert!(
        text.contains("orders-dlq"),
        "the error lists the allowed queues: {text}"
    );
    runtime.assert_private(&["secret-body", "shop.example", "+4915112345678"]);
}

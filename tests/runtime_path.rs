//! The quota function's real binary as a Lambda runtime client: `cargo lambda watch` serves the
//! runtime API and the standard Invoke URL, `cargo lambda invoke` sends the events. Needs
//! `cargo-lambda` on PATH (`scripts/bootstrap` puts it in .venv/bin) and the sandbox.

mod common;

use common::Account;
use std::net::TcpListener;
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cargo_lambda() -> Command {
    let mut command = Command::new("cargo");
    command.arg("lambda");
    command
}

fn invoke(port: u16, payload_file: &str) -> Output {
    cargo_lambda()
        .args([
            "invoke",
            "quota-alarm",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .args(["--data-file", payload_file])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo lambda runs")
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_function_answers_alarm_events_through_the_runtime_api() {
    let available = cargo_lambda().arg("--version").output();
    assert!(
        available.is_ok_and(|o| o.status.success()),
        "cargo-lambda is not on PATH: run scripts/bootstrap and add .venv/bin to PATH (scripts/test does)"
    );
    let account = Account::new().await;
    let port = free_port();
    let _watch = Running(
        cargo_lambda()
            .args([
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let _function = Running(
        Command::new(env!("CARGO_BIN_EXE_quota-alarm"))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/quota-alarm"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "quota-alarm")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_ENDPOINT_URL", common::endpoint())
            .env("AWS_REGION", common::REGION)
            .env("AWS_ACCESS_KEY_ID", &account.id)
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("SELFHEAL_TOPIC_ARN", &account.topic_arn)
            .env("SELFHEAL_TABLE", &account.table)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let mut decisions = Vec::new();
    for fixture in [
        "tests/fixtures/alarm-action-lambda-concurrency.json",
        "tests/fixtures/sns-lambda-concurrency.json",
        "tests/fixtures/eventbridge-lambda-concurrency.json",
        "tests/fixtures/alarm-action-alb-targets.json",
    ] {
        let output = invoke(port, fixture);
        assert!(
            output.status.success(),
            "{fixture}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let response: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let outcome = &response["outcomes"][0];
        decisions.push((
            outcome["decision"].as_str().unwrap().to_owned(),
            outcome["reason"].as_str().unwrap().to_owned(),
        ));
    }
    let expected = [
        ("raise", "raise"),
        ("none", "request-pending"),
        ("none", "request-pending"),
        ("escalate", "not-adjustable"),
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

    let refused = invoke(port, "tests/fixtures/eventbridge-ec2-state-change.json");
    assert!(
        !refused.status.success(),
        "an event of another kind is an error"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(text.contains("not a CloudWatch alarm event"), "{text}");
}

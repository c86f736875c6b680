//! The fuzzers' seeds (`fuzz/corpus/<target>/`), among them every input that once crashed a target (kept
//! there as `regression-*`), run through the same entry points as the fuzz targets on every `cargo test`:
//! none may panic, and the seeds that are valid inputs must still parse.

use selfheal::fuzz_entry;
use std::path::Path;

/// Runs one input through the entry point its fuzz target calls; whether it was accepted.
fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "alarm_event" => fuzz_entry::alarm_event(data),
        "replay_request" => fuzz_entry::replay_request(data),
        "prewarm_event" => fuzz_entry::prewarm_event(data),
        "rules" => fuzz_entry::rules(data),
        other => panic!("no entry point for fuzz target {other}"),
    }
}

fn corpus() -> Vec<(String, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus");
    let mut found = Vec::new();
    for target in std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        let name = target.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(target.path()).unwrap().flatten() {
            let file_name = file.file_name().to_string_lossy().into_owned();
            found.push((name.clone(), file_name, std::fs::read(file.path()).unwrap()));
        }
    }
    found
}

#[test]
fn every_seed_runs_and_the_valid_ones_parse() {
    let seeds = corpus();
    assert!(
        seeds.len() >= 20,
        "the seed corpus is there: {}",
        seeds.len()
    );
    let mut parsed = Vec::new();
    for (target, file, data) in &seeds {
        if run(target, data) {
            parsed.push(format!("{target}/{file}"));
        }
    }
    for valid in [
        "alarm_event/alarm-action-lambda-concurrency.json",
        "alarm_event/sns-lambda-concurrency.json",
        "alarm_event/eventbridge-lambda-concurrency.json",
        "alarm_event/health-quota-threshold.json",
        "replay_request/full.json",
        "replay_request/dry-run.json",
        "replay_request/on-failure-record.json",
        "replay_request/continued-request.json",
        "prewarm_event/ping.json",
        "prewarm_event/sync.json",
        "prewarm_event/eventbridge-scheduled-event.json",
        "rules/prewarm.toml",
        "rules/replay.toml",
        "rules/schedule-cron",
    ] {
        assert!(
            parsed.iter().any(|p| p == valid),
            "{valid} no longer parses"
        );
    }
    for invalid in [
        "alarm_event/malformed-alarm-action.json",
        "alarm_event/eventbridge-ec2-state-change.json",
    ] {
        assert!(!parsed.iter().any(|p| p == invalid), "{invalid} parses");
    }
}

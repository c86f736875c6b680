//! Every integration test in one binary: the SDK and the library are linked once, not once per file.
//! Each module is one area; `common` holds what they share (the sandbox account, fakes, the fault proxy).

mod common;

mod alarm_events;
mod cli;
mod duplicate_deliveries;
mod fault_injection;
mod fuzz_regressions;
mod organization;
mod permission_audit;
mod prewarm_sandbox;
mod quota_mocks;
mod quota_sandbox;
mod replay_follow_up;
mod replay_mocks;
mod replay_property;
mod replay_sandbox;
mod replay_shapes;
mod request_budget;
mod runtime_path;
mod template_alarms;
mod template_policy;

//! The quota function's input: any JSON, parsed as one of the three alarm event shapes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = selfheal::alarm::parse_alarm_event(&event);
    }
});

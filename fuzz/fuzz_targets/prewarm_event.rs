//! The pre-warm function's input (ping request, sync request, scheduled event, custom resource) and the
//! guard's ping check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = selfheal::prewarm_function::classify(&event);
        let _ = selfheal::prewarm::guard::is_ping(&event, "isPrewarm");
    }
});

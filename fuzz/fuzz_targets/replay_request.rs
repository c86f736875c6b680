//! The replay function's console request.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = selfheal::replay::ReplayRequest::parse(&request);
    }
});

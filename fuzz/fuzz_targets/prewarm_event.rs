//! The pre-warm function's input (ping request, sync request, scheduled event, custom resource) and the
//! guard's ping check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    selfheal::fuzz_entry::prewarm_event(data);
});

//! The replay function's console request.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    selfheal::fuzz_entry::replay_request(data);
});

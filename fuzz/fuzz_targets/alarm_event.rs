//! The quota function's input: any JSON, parsed as one of the three alarm event shapes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    selfheal::fuzz_entry::alarm_event(data);
});

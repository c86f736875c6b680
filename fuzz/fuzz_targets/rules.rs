//! A rules file (all sections, schedules and windows included).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    selfheal::fuzz_entry::rules(data);
});

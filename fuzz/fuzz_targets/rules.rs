//! A rules file (all sections, schedules and windows included).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = selfheal::rules::RuleSet::from_sources(&[("fuzz.toml", text)], &["not-adjustable"]);
        let _ = selfheal::prewarm::schedule::Schedule::parse(text);
    }
});

//! The time zones of the pre-warm rules, checked against the bundled IANA database: by `rules check`
//! and the pre-warm function only, so that the quota and replay functions do not link the database.

use super::error::{RuleError, RulesError};
use super::set::RuleSet;
use super::zone::{fold, zone, CHECKED_AT};

/// Every `[[prewarm]]` rule's zone looked up, and each pinged window folded at the zone's January and
/// July offsets: what `rules check` and the pre-warm function run on the rules (the quota and replay
/// functions parse the same rules without linking the zone database).
pub fn check_zones(rules: &RuleSet) -> Result<(), RulesError> {
    let mut errors = Vec::new();
    for rule in &rules.prewarm {
        let Some(name) = &rule.timezone else { continue };
        let error = |message: String| RuleError {
            file: rule.source.clone(),
            rule: Some(format!("{:?}", rule.name)),
            field: Some("timezone".into()),
            message,
        };
        let zone = match zone(name) {
            Ok(zone) => zone,
            Err(message) => {
                errors.push(error(message));
                continue;
            }
        };
        if let (Some(pings), Some(window)) = (rule.pings(), &rule.window) {
            let schedule = &pings.rate;
            for (day, at) in CHECKED_AT {
                if let Err(message) = fold(schedule, window, &zone, at) {
                    errors.push(error(format!("on {day}: {message}")));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RulesError(errors))
    }
}

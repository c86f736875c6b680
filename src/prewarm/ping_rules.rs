//! Which pings the rules allow. An EventBridge rule named `selfheal-prewarm-*` can be created by anyone
//! who may create rules, and its input is what the pinger receives: a ping is accepted only when it is
//! one a `[[prewarm]]` rule compiles to (function, qualifier, concurrency and payload). A function of
//! another account or Region is out of the pinger's reach anyway: its role may invoke only its own
//! account's functions in its Region, tagged `selfheal:prewarm` (template.yaml). Pure.

use super::ping::PingRequest;
use crate::rules::PrewarmRule;

/// The function name of a name or ARN (`arn:partition:lambda:region:account:function:name[:q]`).
fn name_of(function: &str) -> &str {
    let fields: Vec<&str> = function.split(':').collect();
    match fields.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        _ => function,
    }
}

/// `Ok` when a rule compiles to `request`; else why it is refused.
pub fn allowed(rules: &[PrewarmRule], request: &PingRequest) -> Result<(), String> {
    let name = name_of(&request.function);
    let matches = rules.iter().any(|rule| {
        rule.pings().is_some_and(|pings| {
            name_of(&rule.function) == name
                && rule.qualifier == request.qualifier
                && rule.concurrency == request.concurrency
                && pings.payload == request.payload
        })
    });
    if matches {
        Ok(())
    } else {
        Err(format!(
            "no [[prewarm]] rule pings {name}{} at concurrency {} with this payload",
            request
                .qualifier
                .as_deref()
                .map(|q| format!(":{q}"))
                .unwrap_or_default(),
            request.concurrency
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use serde_json::json;

    const RULES: &str = "[[prewarm]]\nfunction = \"checkout-api\"\nqualifier = \"live\"\nschedule = \"rate(5 minutes)\"\nconcurrency = 3\n";

    fn request(
        function: &str,
        qualifier: Option<&str>,
        concurrency: u32,
        payload: serde_json::Value,
    ) -> PingRequest {
        PingRequest {
            function: function.into(),
            qualifier: qualifier.map(str::to_owned),
            concurrency,
            payload,
            timeout_ms: 5000,
        }
    }

    #[test]
    fn only_what_a_rule_compiles_to_is_pinged() {
        let rules = RuleSet::from_sources(&[("prewarm.toml", RULES)], &[])
            .unwrap()
            .prewarm;
        let own = "arn:aws:lambda:us-east-1:123456789012:function:checkout-api";
        let ping = json!({"isPrewarm": true});
        assert_eq!(
            allowed(&rules, &request(own, Some("live"), 3, ping.clone())),
            Ok(())
        );
        assert_eq!(
            allowed(
                &rules,
                &request("checkout-api", Some("live"), 3, ping.clone())
            ),
            Ok(())
        );
        for refused in [
            request(
                "arn:aws:lambda:us-east-1:123456789012:function:payroll",
                Some("live"),
                3,
                ping.clone(),
            ),
            request(own, None, 3, ping.clone()),
            request(own, Some("live"), 50, ping.clone()),
            request(
                own,
                Some("live"),
                3,
                json!({"isPrewarm": true, "transfer": 1000}),
            ),
        ] {
            assert!(allowed(&rules, &refused).is_err(), "{refused:?}");
        }
    }
}

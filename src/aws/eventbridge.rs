//! `RuleApi` over the EventBridge SDK client.

use super::call_error;
use crate::prewarm::api::{
    AwsCallError, ListedRule, RuleApi, RuleDefinition, RuleTarget, TargetRetry,
};
use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, RuleState, Tag, Target};
use aws_sdk_eventbridge::Client;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct EventBridge {
    client: Client,
}

impl EventBridge {
    pub fn new(client: Client) -> Self {
        EventBridge { client }
    }
}

fn invalid(operation: &'static str, e: impl std::fmt::Display) -> AwsCallError {
    AwsCallError {
        operation,
        code: "InvalidRequest".into(),
        message: e.to_string(),
    }
}

impl RuleApi for EventBridge {
    async fn list_rules(&self, prefix: &str) -> Result<Vec<ListedRule>, AwsCallError> {
        let mut rules = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_rules()
                .name_prefix(prefix)
                .limit(100)
                .set_next_token(token)
                .send()
                .await
                .map_err(call_error("ListRules"))?;
            rules.extend(page.rules().iter().map(|r| ListedRule {
                name: r.name().unwrap_or_default().to_owned(),
                arn: r.arn().unwrap_or_default().to_owned(),
                schedule: r.schedule_expression().map(str::to_owned),
                state: r.state().map(|s| s.as_str().to_owned()),
                description: r.description().map(str::to_owned),
            }));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(rules);
            }
        }
    }

    async fn tags(&self, rule_arn: &str) -> Result<BTreeMap<String, String>, AwsCallError> {
        let output = self
            .client
            .list_tags_for_resource()
            .resource_arn(rule_arn)
            .send()
            .await
            .map_err(call_error("ListTagsForResource"))?;
        Ok(output
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect())
    }

    async fn targets(&self, rule: &str) -> Result<Vec<RuleTarget>, AwsCallError> {
        let mut targets = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_targets_by_rule()
                .rule(rule)
                .set_next_token(token)
                .send()
                .await
                .map_err(call_error("ListTargetsByRule"))?;
            targets.extend(page.targets().iter().map(|t| {
                RuleTarget {
                    id: t.id().to_owned(),
                    arn: t.arn().to_owned(),
                    input: t.input().map(str::to_owned),
                    retry: t.retry_policy().map(|r| TargetRetry {
                        attempts: r.maximum_retry_attempts().unwrap_or_default().max(0) as u32,
                        max_age_secs: r.maximum_event_age_in_seconds().unwrap_or_default().max(0)
                            as u32,
                    }),
                    dead_letter_arn: t
                        .dead_letter_config()
                        .and_then(|d| d.arn())
                        .map(str::to_owned),
                }
            }));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(targets);
            }
        }
    }

    async fn put_rule(&self, rule: &RuleDefinition) -> Result<String, AwsCallError> {
        let tags = rule
            .tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("PutRule", e))?;
        let output = self
            .client
            .put_rule()
            .name(&rule.name)
            .schedule_expression(&rule.schedule)
            .state(RuleState::Enabled)
            .description(&rule.description)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(call_error("PutRule"))?;
        Ok(output.rule_arn().unwrap_or_default().to_owned())
    }

    async fn put_target(&self, rule: &str, target: &RuleTarget) -> Result<(), AwsCallError> {
        let built = Target::builder()
            .id(&target.id)
            .arn(&target.arn)
            .set_input(target.input.clone())
            .set_retry_policy(target.retry.map(|r| {
                RetryPolicy::builder()
                    .maximum_retry_attempts(r.attempts as i32)
                    .maximum_event_age_in_seconds(r.max_age_secs as i32)
                    .build()
            }))
            .set_dead_letter_config(
                target
                    .dead_letter_arn
                    .as_ref()
                    .map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()
            .map_err(|e| invalid("PutTargets", e))?;
        let output = self
            .client
            .put_targets()
            .rule(rule)
            .targets(built)
            .send()
            .await
            .map_err(call_error("PutTargets"))?;
        match output.failed_entries().first() {
            Some(entry) if output.failed_entry_count() > 0 => Err(AwsCallError {
                operation: "PutTargets",
                code: entry.error_code().unwrap_or("FailedEntry").to_owned(),
                message: entry.error_message().unwrap_or_default().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    async fn remove_targets(&self, rule: &str, ids: &[String]) -> Result<(), AwsCallError> {
        let output = self
            .client
            .remove_targets()
            .rule(rule)
            .set_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(call_error("RemoveTargets"))?;
        match output.failed_entries().first() {
            Some(entry) if output.failed_entry_count() > 0 => Err(AwsCallError {
                operation: "RemoveTargets",
                code: entry.error_code().unwrap_or("FailedEntry").to_owned(),
                message: entry.error_message().unwrap_or_default().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    async fn delete_rule(&self, rule: &str) -> Result<(), AwsCallError> {
        self.client
            .delete_rule()
            .name(rule)
            .send()
            .await
            .map(drop)
            .map_err(call_error("DeleteRule"))
    }
}

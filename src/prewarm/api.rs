//! The EventBridge and Lambda operations pre-warming needs, as small traits over plain data.

use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// What every call of these traits fails with.
pub use crate::AwsCallError;

/// A rule as `ListRules` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedRule {
    pub name: String,
    pub arn: String,
    pub schedule: Option<String>,
    pub state: Option<String>,
    pub description: Option<String>,
}

/// A target as `ListTargetsByRule` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleTarget {
    pub id: String,
    pub arn: String,
    /// Constant JSON input, as text.
    pub input: Option<String>,
    /// How long and how often EventBridge retries delivery (`RetryPolicy`).
    pub retry: Option<TargetRetry>,
    /// Where an event goes after the retries (`DeadLetterConfig.Arn`): an SQS queue.
    pub dead_letter_arn: Option<String>,
}

/// A target's `RetryPolicy`: `MaximumRetryAttempts` 0 to 185, `MaximumEventAgeInSeconds` 60 to 86,400
/// (botocore `events` 2015-10-07 model, shapes MaximumRetryAttempts and MaximumEventAgeInSeconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TargetRetry {
    pub attempts: u32,
    pub max_age_secs: u32,
}

/// What `PutRule` is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDefinition {
    pub name: String,
    pub schedule: String,
    pub description: String,
    /// Applied when the rule is created; `PutRule` leaves an existing rule's tags alone.
    pub tags: BTreeMap<String, String>,
}

/// A provisioned concurrency configuration, as `GetProvisionedConcurrencyConfig` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provisioned {
    pub allocated: u32,
    pub ready: bool,
}

/// A function as `GetFunctionConfiguration` shows it: what a rule targets and what its warm capacity costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarmTarget {
    /// The unqualified ARN.
    pub arn: String,
    pub memory_mb: u32,
    /// `arm64` (else `x86_64`): provisioned concurrency is priced per architecture.
    pub arm64: bool,
}

/// An Application Auto Scaling scheduled action on a Lambda alias's provisioned concurrency, as
/// `DescribeScheduledActions` shows it and `PutScheduledAction` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScheduledAction {
    pub name: String,
    /// `function:NAME:QUALIFIER`.
    pub resource_id: String,
    /// `cron(minutes hours day-of-month month day-of-week year)`.
    pub schedule: String,
    /// IANA zone the cron is read in; `None`: UTC.
    pub timezone: Option<String>,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
}

/// How a synchronous invocation ended, when Lambda answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoked {
    pub status: i32,
    /// `X-Amz-Function-Error`: the function itself failed.
    pub function_error: Option<String>,
}

pub trait RuleApi: Send + Sync {
    /// `ListRules` with a name prefix, every page.
    fn list_rules(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ListedRule>, AwsCallError>> + Send;
    /// `ListTagsForResource`.
    fn tags(
        &self,
        rule_arn: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, AwsCallError>> + Send;
    /// `ListTargetsByRule`, every page.
    fn targets(
        &self,
        rule: &str,
    ) -> impl Future<Output = Result<Vec<RuleTarget>, AwsCallError>> + Send;
    /// `PutRule` (enabled, on the default bus): creates or updates; answers the rule's ARN.
    fn put_rule(
        &self,
        rule: &RuleDefinition,
    ) -> impl Future<Output = Result<String, AwsCallError>> + Send;
    /// `PutTargets` with one target; a failed entry is an error.
    fn put_target(
        &self,
        rule: &str,
        target: &RuleTarget,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `RemoveTargets`; a failed entry is an error.
    fn remove_targets(
        &self,
        rule: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `DeleteRule` (its targets must be gone).
    fn delete_rule(&self, rule: &str) -> impl Future<Output = Result<(), AwsCallError>> + Send;
}

pub trait WarmApi: Send + Sync {
    /// `GetFunctionConfiguration`: the function, `None` when it or the qualifier does not exist.
    fn function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> impl Future<Output = Result<Option<WarmTarget>, AwsCallError>> + Send;
    /// `GetProvisionedConcurrencyConfig`: `None` when there is none.
    fn provisioned(
        &self,
        function: &str,
        qualifier: &str,
    ) -> impl Future<Output = Result<Option<Provisioned>, AwsCallError>> + Send;
    /// `DeleteProvisionedConcurrencyConfig`; one already gone (or its function) is fine.
    fn release_provisioned(
        &self,
        function: &str,
        qualifier: &str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `AddPermission` for EventBridge's rule to invoke the function; one already there is fine.
    fn allow_rule(
        &self,
        function: &str,
        qualifier: Option<&str>,
        statement_id: &str,
        rule_arn: &str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `RemovePermission`; one already gone is fine.
    fn disallow_rule(
        &self,
        function: &str,
        qualifier: Option<&str>,
        statement_id: &str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `Invoke`, synchronous (`RequestResponse`).
    fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> impl Future<Output = Result<Invoked, AwsCallError>> + Send;
}

/// Application Auto Scaling on Lambda provisioned concurrency (namespace `lambda`, dimension
/// `lambda:function:ProvisionedConcurrency`: Application Auto Scaling user guide, "AWS Lambda and
/// Application Auto Scaling").
pub trait ScalingApi: Send + Sync {
    /// `DescribeScheduledActions` of the `lambda` namespace, every page.
    fn scheduled_actions(
        &self,
    ) -> impl Future<Output = Result<Vec<ScheduledAction>, AwsCallError>> + Send;
    /// `RegisterScalableTarget`: creates or updates the alias's target with these bounds.
    fn register_target(
        &self,
        resource_id: &str,
        min_capacity: u32,
        max_capacity: u32,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `DeregisterScalableTarget` (which deletes its scheduled actions); one already gone is fine.
    fn deregister_target(
        &self,
        resource_id: &str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `PutScheduledAction`: creates or updates.
    fn put_action(
        &self,
        action: &ScheduledAction,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
    /// `DeleteScheduledAction`.
    fn delete_action(
        &self,
        name: &str,
        resource_id: &str,
    ) -> impl Future<Output = Result<(), AwsCallError>> + Send;
}

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
    /// `GetFunction`: the function's unqualified ARN, `None` when it or the qualifier does not exist.
    fn function_arn(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> impl Future<Output = Result<Option<String>, AwsCallError>> + Send;
    /// `GetProvisionedConcurrencyConfig`: `None` when there is none.
    fn provisioned(
        &self,
        function: &str,
        qualifier: &str,
    ) -> impl Future<Output = Result<Option<Provisioned>, AwsCallError>> + Send;
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

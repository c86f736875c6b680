//! `rules/accounts.toml`: how far the hub reaches (the spoke role, the Regions, the accounts) and whose
//! pages are whose (each account's owner and, optionally, its own topic).

use super::error::RuleError;
use super::fields::{Fields, FileCheck};
use serde::Serialize;
use toml::Value;

/// The organization the quota function serves. The default is single-account mode: its own account
/// in its own Region.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Organization {
    /// The role the hub assumes in another account (`[hub] spoke_role`); `None`: single-account
    /// mode, and an alarm of any other account is escalated.
    pub spoke_role: Option<String>,
    /// Regions acted in besides the function's own (`[hub] regions`); empty: its own Region only.
    pub regions: Vec<String>,
    /// Any account whose spoke role can be assumed (`[hub] any_account = true`), not only those
    /// listed as `[[account]]`.
    pub any_account: bool,
    pub accounts: Vec<AccountEntry>,
}

/// One `[[account]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountEntry {
    pub id: String,
    /// The team the account's pages are routed to (the `owner` message attribute).
    pub owner: Option<String>,
    /// The account's pages go to this topic instead of the function's.
    pub topic_arn: Option<String>,
}

/// Why an account or Region is out of the hub's reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutOfReach {
    /// Single-account mode, and the alarm is of another account.
    OtherAccount,
    /// Hub mode, and the account is not listed (nor `any_account`).
    AccountNotListed,
    /// The Region is neither the function's own nor in `regions`.
    Region,
}

impl Organization {
    pub fn account(&self, id: &str) -> Option<&AccountEntry> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn owner_of(&self, account_id: &str) -> Option<&str> {
        self.account(account_id)?.owner.as_deref()
    }

    pub fn topic_of(&self, account_id: &str) -> Option<&str> {
        self.account(account_id)?.topic_arn.as_deref()
    }

    /// Whether the hub may act in `account_id` and `region`; `own_account` says whether the account is
    /// the function's own, `own_region` is the function's Region.
    pub fn reach(
        &self,
        account_id: &str,
        own_account: bool,
        region: &str,
        own_region: &str,
    ) -> Result<(), OutOfReach> {
        if !own_account {
            if self.spoke_role.is_none() {
                return Err(OutOfReach::OtherAccount);
            }
            if !self.any_account && self.account(account_id).is_none() {
                return Err(OutOfReach::AccountNotListed);
            }
        }
        if region != own_region && !self.regions.iter().any(|r| r == region) {
            return Err(OutOfReach::Region);
        }
        Ok(())
    }
}

const HUB_FIELDS: &[&str] = &["spoke_role", "regions", "any_account"];
const ACCOUNT_FIELDS: &[&str] = &["id", "owner", "topic_arn"];

/// `[hub]`: the spoke role, the Regions, `any_account`.
pub(super) fn parse_hub(check: &mut FileCheck<'_>, value: &Value, into: &mut Organization) {
    let Some(table) = value.as_table() else {
        check.error(None, Some("hub"), "must be a table ([hub])");
        return;
    };
    let mut fields = Fields {
        check,
        table,
        rule: Some("[hub]".into()),
    };
    into.spoke_role = fields.optional_str("spoke_role");
    if let Some(role) = &into.spoke_role {
        // IAM role names: 1-64 of letters, digits and `+=,.@_-` (IAM API reference, CreateRole,
        // RoleName pattern `[\w+=,.@-]+`).
        let valid = !role.is_empty()
            && role.len() <= 64
            && role
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !valid {
            fields.error(
                "spoke_role",
                format!("{role:?} is not an IAM role name (a name, not an ARN)"),
            );
        }
    }
    into.regions = fields.string_list("regions");
    for region in into.regions.clone() {
        if !looks_like_region(&region) {
            fields.error(
                "regions",
                format!("{region:?} is not a Region code such as \"eu-west-1\""),
            );
        }
    }
    into.any_account = fields.boolean("any_account").unwrap_or(false);
    if into.any_account && into.spoke_role.is_none() {
        fields.error(
            "any_account",
            "needs `spoke_role`: without it the hub acts in its own account only",
        );
    }
    fields.reject_unknown(HUB_FIELDS);
}

/// One `[[account]]`.
pub(super) fn parse_account(
    check: &mut FileCheck<'_>,
    index: usize,
    value: &Value,
) -> Option<AccountEntry> {
    let label = |table: &toml::Table| {
        let id = table.get("id").and_then(Value::as_str)?;
        Some(format!("account {id}"))
    };
    let mut fields = Fields::of_rule(check, "account", index, value, label)?;
    let before = fields.errors();
    let id = match fields.table.get("id") {
        Some(Value::Integer(_)) => {
            fields.error(
                "id",
                "must be a string (\"012345678901\"): as a number it loses its leading zeros",
            );
            None
        }
        _ => fields.required_str("id"),
    };
    if let Some(id) = &id {
        if !is_account_id(id) {
            fields.error("id", format!("{id:?} is not a 12-digit account id"));
        }
    }
    let owner = fields.optional_str("owner");
    if let Some(owner) = &owner {
        if !is_owner(owner) {
            fields.error(
                "owner",
                format!("{owner:?} must be 1-100 letters, digits, `.`, `_` or `-` (it is an SNS message attribute that filter policies match)"),
            );
        }
    }
    let topic_arn = fields.optional_str("topic_arn");
    if let Some(arn) = &topic_arn {
        if !looks_like_topic_arn(arn) {
            fields.error(
                "topic_arn",
                format!("{arn:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"),
            );
        }
    }
    fields.reject_unknown(ACCOUNT_FIELDS);
    if fields.errors() > before {
        return None;
    }
    Some(AccountEntry {
        id: id?,
        owner,
        topic_arn,
    })
}

/// Across files: one entry per account; a quota rule's `accounts` and `owners` name listed ones.
pub(super) fn check_organization(
    organization: &Organization,
    quotas: &[super::QuotaRule],
    files: &str,
    errors: &mut Vec<RuleError>,
) {
    let mut seen = std::collections::HashSet::new();
    for account in &organization.accounts {
        if !seen.insert(account.id.as_str()) {
            errors.push(RuleError {
                file: files.to_owned(),
                rule: Some(format!("account {}", account.id)),
                field: Some("id".into()),
                message: "listed twice".into(),
            });
        }
    }
    for rule in quotas {
        for owner in &rule.owners {
            if !organization
                .accounts
                .iter()
                .any(|a| a.owner.as_deref() == Some(owner))
            {
                errors.push(RuleError {
                    file: files.to_owned(),
                    rule: Some(format!("{:?}", rule.name)),
                    field: Some("owners".into()),
                    message: format!("no [[account]] has owner {owner:?}"),
                });
            }
        }
    }
}

pub(super) fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

fn is_owner(owner: &str) -> bool {
    !owner.is_empty()
        && owner.len() <= 100
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`: letters and dashes, then a number.
fn looks_like_region(region: &str) -> bool {
    let Some((name, number)) = region.rsplit_once('-') else {
        return false;
    };
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && name.contains('-')
        && name
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()))
}

fn looks_like_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "sns", region, account, name]
        if partition.starts_with("aws") && looks_like_region(region) && is_account_id(account) && !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organization(accounts: &[(&str, Option<&str>)]) -> Organization {
        Organization {
            spoke_role: Some("selfheal-spoke".into()),
            regions: vec!["eu-west-1".into()],
            any_account: false,
            accounts: accounts
                .iter()
                .map(|(id, owner)| AccountEntry {
                    id: (*id).into(),
                    owner: owner.map(str::to_owned),
                    topic_arn: None,
                })
                .collect(),
        }
    }

    #[test]
    fn reach_covers_each_account_and_region_case() {
        let org = organization(&[("111111111111", Some("payments"))]);
        let reach = |account, own, region| org.reach(account, own, region, "us-east-1");
        assert_eq!(reach("999999999999", true, "us-east-1"), Ok(()));
        assert_eq!(reach("999999999999", true, "eu-west-1"), Ok(()));
        assert_eq!(
            reach("999999999999", true, "ap-south-1"),
            Err(OutOfReach::Region)
        );
        assert_eq!(reach("111111111111", false, "eu-west-1"), Ok(()));
        assert_eq!(
            reach("222222222222", false, "us-east-1"),
            Err(OutOfReach::AccountNotListed)
        );
        let any = Organization {
            any_account: true,
            ..org.clone()
        };
        assert_eq!(
            any.reach("222222222222", false, "us-east-1", "us-east-1"),
            Ok(())
        );
        let single = Organization::default();
        assert_eq!(
            single.reach("111111111111", false, "us-east-1", "us-east-1"),
            Err(OutOfReach::OtherAccount)
        );
        assert_eq!(
            single.reach("111111111111", true, "eu-west-1", "us-east-1"),
            Err(OutOfReach::Region)
        );
        assert_eq!(org.owner_of("111111111111"), Some("payments"));
        assert_eq!(org.owner_of("222222222222"), None);
    }

    #[test]
    fn regions_and_topic_arns_are_recognised() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-5",
        ] {
            assert!(looks_like_region(good), "{good}");
        }
        for bad in ["", "us-east", "US-EAST-1", "useast1", "-1", "us--1"] {
            assert!(!looks_like_region(bad), "{bad}");
        }
        assert!(looks_like_topic_arn(
            "arn:aws:sns:eu-west-1:111122223333:payments-pages"
        ));
        assert!(!looks_like_topic_arn(
            "arn:aws:sqs:eu-west-1:111122223333:q"
        ));
        assert!(!looks_like_topic_arn("payments-pages"));
    }
}

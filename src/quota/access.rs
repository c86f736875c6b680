//! Where the quota function's Service Quotas calls act: its own account with its own credentials, or
//! another account of the organization through that account's spoke role.

use super::api::QuotaApi;
use std::future::Future;

/// The account and Region a Service Quotas client acts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach<'a> {
    /// The function's own account, with its own credentials.
    Own { region: &'a str },
    /// Another account, through its spoke role.
    Spoke {
        account_id: &'a str,
        region: &'a str,
    },
}

/// The spoke role could not be assumed: STS refused (`AccessDenied`: the role is missing, or its trust
/// policy does not name the hub) or failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("could not assume {role_arn}: {code}: {message}")]
pub struct AccessError {
    pub role_arn: String,
    pub code: String,
    pub message: String,
}

/// Service Quotas clients by account and Region.
pub trait QuotaAccess: Send + Sync {
    type Api: QuotaApi;

    /// The client acting where `reach` says; a spoke's credentials are assumed at the first call for
    /// its account and kept until shortly before they expire.
    fn api_in(
        &self,
        reach: Reach<'_>,
    ) -> impl Future<Output = Result<Self::Api, AccessError>> + Send;

    /// Forgets the credentials kept for `account_id` (they expired before their time).
    fn forget(&self, account_id: &str);
}

//! `QuotaAccess` over STS and the Service Quotas client: the function's own credentials in its own
//! account, the spoke role's (`sts:AssumeRole`) in every other, one client per account and Region.

use super::error_text;
use super::service_quotas::ServiceQuotas;
use crate::quota::access::{AccessError, QuotaAccess, Reach};
use aws_config::SdkConfig;
use aws_sdk_servicequotas::config::{Credentials, Region};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// The session name the spoke accounts' CloudTrail shows for the hub's calls.
const SESSION_NAME: &str = "selfheal-quota-hub";
/// Credentials this close to their expiry are renewed before use: a call must not outlive them.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);
/// One hour, AssumeRole's default session (STS API reference, AssumeRole, `DurationSeconds`).
const SESSION_SECS: i32 = 3600;

/// Service Quotas clients of the hub's own account and of its spokes.
pub struct SpokeAccess {
    sdk: SdkConfig,
    /// `[hub] spoke_role`; `None`: single-account mode (the core never asks for a spoke then).
    spoke_role: Option<String>,
    /// Built at the first spoke: a single-account function never pays for it.
    sts: OnceLock<aws_sdk_sts::Client>,
    /// The hub's partition, learned at the first spoke from its own identity (see `identity`).
    partition: OnceLock<String>,
    sessions: Mutex<HashMap<String, Session>>,
    own_clients: Mutex<HashMap<String, ServiceQuotas>>,
}

#[derive(Clone)]
struct Session {
    credentials: Credentials,
    expires: SystemTime,
    clients: HashMap<String, ServiceQuotas>,
}

impl SpokeAccess {
    pub fn new(sdk: SdkConfig, spoke_role: Option<String>) -> Self {
        SpokeAccess {
            sdk,
            spoke_role,
            sts: OnceLock::new(),
            partition: OnceLock::new(),
            sessions: Mutex::new(HashMap::new()),
            own_clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, region: &str, credentials: Option<Credentials>) -> ServiceQuotas {
        let mut config = aws_sdk_servicequotas::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_owned()));
        if let Some(credentials) = credentials {
            config = config.credentials_provider(credentials);
        }
        ServiceQuotas::new(aws_sdk_servicequotas::Client::from_conf(config.build()))
    }

    fn own(&self, region: &str) -> ServiceQuotas {
        let mut clients = self.own_clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| self.client(region, None))
            .clone()
    }

    /// The spoke's kept client for `region`, while its credentials have more than `RENEW_BEFORE` left.
    fn kept(&self, account_id: &str, region: &str) -> Option<ServiceQuotas> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let session = sessions.get_mut(account_id)?;
        if !still_fresh(session.expires, SystemTime::now()) {
            return None;
        }
        let credentials = session.credentials.clone();
        Some(
            session
                .clients
                .entry(region.to_owned())
                .or_insert_with(|| self.client(region, Some(credentials)))
                .clone(),
        )
    }

    /// The hub's partition: a spoke's role is in the same one (roles are assumed only within a
    /// partition), and the hub's own ARN states it (one `GetCallerIdentity`, no permission needed).
    async fn partition(&self) -> Result<String, String> {
        if let Some(known) = self.partition.get() {
            return Ok(known.clone());
        }
        let identity = super::identity::caller_identity(&self.sdk).await?;
        let partition = identity
            .partition()
            .ok_or_else(|| format!("no partition in {}", identity.arn))?
            .to_owned();
        Ok(self.partition.get_or_init(|| partition).clone())
    }

    async fn assume(&self, account_id: &str, region: &str) -> Result<ServiceQuotas, AccessError> {
        let role = self.spoke_role.as_deref().unwrap_or_default();
        if self.spoke_role.is_none() {
            return Err(AccessError {
                role_arn: format!("arn:aws:iam::{account_id}:role/"),
                code: "NoSpokeRole".into(),
                message: "rules/accounts.toml sets no [hub] spoke_role".into(),
            });
        }
        let partition = self.partition().await.map_err(|message| AccessError {
            role_arn: format!("role/{role} of {account_id}"),
            code: "UnknownPartition".into(),
            message,
        })?;
        let role_arn = format!("arn:{partition}:iam::{account_id}:role/{role}");
        let refused = |code: String, message: String| AccessError {
            role_arn: role_arn.clone(),
            code,
            message,
        };
        // The SDK's own Region, so STS answers from its regional endpoint (aws-sdk-sts 1.124's endpoint
        // rules: sts.<region>.amazonaws.com for every Region but aws-global).
        let client = self.sts.get_or_init(|| aws_sdk_sts::Client::new(&self.sdk));
        let answer = client
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(SESSION_NAME)
            .duration_seconds(SESSION_SECS)
            .send()
            .await
            .map_err(|e| {
                let (code, message) = error_text(&e);
                refused(code.unwrap_or_else(|| "Unknown".into()), message)
            })?;
        let Some(assumed) = answer.credentials else {
            return Err(refused(
                "NoCredentials".into(),
                "AssumeRole answered without credentials".into(),
            ));
        };
        let expires = SystemTime::try_from(assumed.expiration)
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(SESSION_SECS as u64));
        let credentials = Credentials::new(
            assumed.access_key_id,
            assumed.secret_access_key,
            Some(assumed.session_token),
            Some(expires),
            "selfheal-spoke",
        );
        let quotas = self.client(region, Some(credentials.clone()));
        let session = Session {
            credentials,
            expires,
            clients: HashMap::from([(region.to_owned(), quotas.clone())]),
        };
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account_id.to_owned(), session);
        Ok(quotas)
    }
}

impl QuotaAccess for SpokeAccess {
    type Api = ServiceQuotas;

    async fn api_in(&self, reach: Reach<'_>) -> Result<ServiceQuotas, AccessError> {
        match reach {
            Reach::Own { region } => Ok(self.own(region)),
            Reach::Spoke { account_id, region } => match self.kept(account_id, region) {
                Some(quotas) => Ok(quotas),
                None => self.assume(account_id, region).await,
            },
        }
    }

    fn forget(&self, account_id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account_id);
    }
}

/// Whether credentials that end at `expires` may still be handed out at `now`: not within
/// `RENEW_BEFORE` of their end, so that no call outlives them.
fn still_fresh(expires: SystemTime, now: SystemTime) -> bool {
    expires > now + RENEW_BEFORE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_renewed_five_minutes_before_they_end() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(still_fresh(now + Duration::from_secs(3600), now));
        assert!(still_fresh(now + Duration::from_secs(301), now));
        assert!(!still_fresh(now + Duration::from_secs(300), now));
        assert!(!still_fresh(now - Duration::from_secs(1), now));
    }
}

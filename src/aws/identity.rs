//! Who the caller is: the command line's own account, from `GetCallerIdentity`, as every AWS tool learns
//! it. "No permissions are required to perform this operation" (STS API reference, `GetCallerIdentity`):
//! no policy names it, and a deny does not stop it.

use super::error_text;
use aws_config::SdkConfig;

/// The account and ARN of the credentials `sdk` signs with (one call).
#[derive(Clone, Debug, PartialEq)]
pub struct CallerIdentity {
    pub account: String,
    /// `arn:<partition>:sts::<account>:assumed-role/...` or `arn:<partition>:iam::<account>:user/...`.
    pub arn: String,
}

impl CallerIdentity {
    /// The partition the caller lives in: the second field of its ARN.
    ///
    /// The SDK's partition table (`sdk-partitions.json`: aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc)
    /// is private to each service crate (`endpoint_lib::partition` is `pub(crate)` in aws-sdk-sts
    /// 1.124), so the partition is read where AWS itself states it: in the caller's own ARN. A role
    /// can be assumed only within its partition, so a spoke's role shares it.
    pub fn partition(&self) -> Option<&str> {
        arn_partition(&self.arn)
    }
}

/// The partition field of any ARN (`arn:<partition>:...`), when it is one.
pub fn arn_partition(arn: &str) -> Option<&str> {
    let mut fields = arn.split(':');
    match (fields.next(), fields.next()) {
        (Some("arn"), Some(partition)) if partition.starts_with("aws") => Some(partition),
        _ => None,
    }
}

/// The identity of the credentials `sdk` signs with (one `GetCallerIdentity`).
pub async fn caller_identity(sdk: &SdkConfig) -> Result<CallerIdentity, String> {
    let output = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            let (code, message) = error_text(&e);
            match code {
                Some(code) => format!("GetCallerIdentity: {code}: {message}"),
                None => format!("GetCallerIdentity: {message}"),
            }
        })?;
    let account = output
        .account
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| "GetCallerIdentity named no 12-digit account".to_owned())?;
    let arn = output
        .arn
        .filter(|arn| arn_partition(arn).is_some())
        .ok_or_else(|| "GetCallerIdentity named no ARN".to_owned())?;
    Ok(CallerIdentity { account, arn })
}

/// The account of the credentials `sdk` signs with (one call).
pub async fn caller_account(sdk: &SdkConfig) -> Result<String, String> {
    caller_identity(sdk).await.map(|identity| identity.account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_is_the_arns_second_field() {
        let identity = |arn: &str| CallerIdentity {
            account: "111122223333".into(),
            arn: arn.into(),
        };
        for (arn, partition) in [
            ("arn:aws:sts::111122223333:assumed-role/r/s", "aws"),
            ("arn:aws-cn:iam::111122223333:user/u", "aws-cn"),
            (
                "arn:aws-us-gov:sts::111122223333:assumed-role/r/s",
                "aws-us-gov",
            ),
            (
                "arn:aws-iso-b:sts::111122223333:assumed-role/r/s",
                "aws-iso-b",
            ),
            (
                "arn:aws-eusc:sts::111122223333:assumed-role/r/s",
                "aws-eusc",
            ),
        ] {
            assert_eq!(identity(arn).partition(), Some(partition), "{arn}");
        }
        assert_eq!(arn_partition("not-an-arn"), None);
        assert_eq!(arn_partition("arn::sts::1:x"), None);
    }
}

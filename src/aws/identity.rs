//! Who the caller is: the command line's own account, from `GetCallerIdentity`, as every AWS tool learns
//! it. "No permissions are required to perform this operation" (STS API reference, `GetCallerIdentity`):
//! no policy names it, and a deny does not stop it.

use super::error_text;
use aws_config::SdkConfig;

/// The account of the credentials `sdk` signs with (one call).
pub async fn caller_account(sdk: &SdkConfig) -> Result<String, String> {
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
    output
        .account
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| "GetCallerIdentity named no 12-digit account".to_owned())
}

//! `FunctionApi` over the Lambda SDK client (`WarmApi` is in `lambda_warm.rs`).

use super::error_text;
use crate::replay::api::{FunctionApi, ReplayApiError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::Client;

#[derive(Clone)]
pub struct Lambda {
    pub(super) client: Client,
}

impl Lambda {
    pub fn new(client: Client) -> Self {
        Lambda { client }
    }
}

impl FunctionApi for Lambda {
    async fn exists(&self, name: &str, qualifier: Option<&str>) -> Result<bool, ReplayApiError> {
        match self
            .client
            .get_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => {
                let (code, message) = error_text(&e);
                Err(ReplayApiError {
                    operation: "GetFunction",
                    code: code.unwrap_or_else(|| "Unknown".into()),
                    message,
                })
            }
        }
    }

    async fn invoke_async(
        &self,
        name: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> Result<(), ReplayApiError> {
        let output = self
            .client
            .invoke()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.as_bytes()))
            .send()
            .await
            .map_err(|e| {
                let (code, message) = error_text(&e);
                ReplayApiError {
                    operation: "Invoke",
                    code: code.unwrap_or_else(|| "Unknown".into()),
                    message,
                }
            })?;
        // An accepted asynchronous invocation answers 202.
        if output.status_code == 202 {
            Ok(())
        } else {
            Err(ReplayApiError {
                operation: "Invoke",
                code: format!("Status{}", output.status_code),
                message: "the invocation was not accepted".into(),
            })
        }
    }
}

//! `FunctionApi` over the Lambda SDK client (`WarmApi` is in `lambda_warm.rs`), and the
//! `GetFunctionConfiguration` both use.

use super::call_error;
use crate::replay::api::{AwsCallError, FunctionApi};
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

    /// `GetFunctionConfiguration`: the function's configuration, or `None` when it (or its
    /// qualifier) does not exist. Not `GetFunction`, which also hands out a download URL of the code
    /// and, for a tagged function, needs `lambda:ListTags` as well (Lambda developer guide, "Using tags
    /// on Lambda functions").
    pub(super) async fn configuration_of(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<aws_sdk_lambda::types::FunctionConfiguration>, AwsCallError> {
        match self
            .client
            .get_function_configuration()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
        {
            Ok(output) => Ok(Some(
                aws_sdk_lambda::types::FunctionConfiguration::builder()
                    .set_function_arn(output.function_arn)
                    .set_memory_size(output.memory_size)
                    .set_architectures(output.architectures)
                    .build(),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(call_error("GetFunctionConfiguration")(e)),
        }
    }
}

impl FunctionApi for Lambda {
    async fn exists(&self, name: &str, qualifier: Option<&str>) -> Result<bool, AwsCallError> {
        Ok(self.configuration_of(name, qualifier).await?.is_some())
    }

    async fn invoke_async(
        &self,
        name: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> Result<(), AwsCallError> {
        let output = self
            .client
            .invoke()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.as_bytes()))
            .send()
            .await
            .map_err(call_error("Invoke"))?;
        // An accepted asynchronous invocation answers 202.
        if output.status_code == 202 {
            Ok(())
        } else {
            Err(AwsCallError {
                operation: "Invoke",
                code: format!("Status{}", output.status_code),
                message: "the invocation was not accepted".into(),
            })
        }
    }
}

//! `WarmApi` over the Lambda SDK client.

use super::call_error;
use super::lambda::Lambda;
use crate::prewarm::api::{AwsCallError, Invoked, Provisioned, WarmApi, WarmTarget};
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, InvocationType, ProvisionedConcurrencyStatusEnum};

impl WarmApi for Lambda {
    async fn function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<WarmTarget>, AwsCallError> {
        let Some(configuration) = self.configuration_of(function, qualifier).await? else {
            return Ok(None);
        };
        Ok(Some(WarmTarget {
            arn: crate::prewarm::desired::unqualified(
                configuration.function_arn().unwrap_or_default(),
            )
            .to_owned(),
            // Lambda's default memory, 128 MB, when the answer leaves it out.
            memory_mb: configuration.memory_size().unwrap_or(128).max(0) as u32,
            arm64: configuration.architectures().contains(&Architecture::Arm64),
        }))
    }

    async fn provisioned(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<Provisioned>, AwsCallError> {
        match self
            .client
            .get_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(qualifier)
            .send()
            .await
        {
            Ok(output) => Ok(Some(Provisioned {
                allocated: output
                    .allocated_provisioned_concurrent_executions()
                    .unwrap_or(0)
                    .max(0) as u32,
                ready: output.status() == Some(&ProvisionedConcurrencyStatusEnum::Ready),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_provisioned_concurrency_config_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(call_error("GetProvisionedConcurrencyConfig")(e)),
        }
    }

    async fn release_provisioned(
        &self,
        function: &str,
        qualifier: &str,
    ) -> Result<(), AwsCallError> {
        match self
            .client
            .delete_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(qualifier)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // The function or alias is gone, and its configuration with it (botocore `lambda` model:
            // ResourceNotFoundException is the modelled "does not exist"). Lambda's answer for an alias
            // without a configuration is not documented for this operation; Get answers
            // ProvisionedConcurrencyConfigNotFoundException, so that code is taken as "gone" too.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception()
                        || s.code() == Some("ProvisionedConcurrencyConfigNotFoundException")
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(call_error("DeleteProvisionedConcurrencyConfig")(e)),
        }
    }

    async fn allow_rule(
        &self,
        function: &str,
        qualifier: Option<&str>,
        statement_id: &str,
        rule_arn: &str,
    ) -> Result<(), AwsCallError> {
        match self
            .client
            .add_permission()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .statement_id(statement_id)
            .action("lambda:InvokeFunction")
            .principal("events.amazonaws.com")
            .source_arn(rule_arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // The statement is there already (an earlier sync, or a repair).
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_conflict_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(call_error("AddPermission")(e)),
        }
    }

    async fn disallow_rule(
        &self,
        function: &str,
        qualifier: Option<&str>,
        statement_id: &str,
    ) -> Result<(), AwsCallError> {
        match self
            .client
            .remove_permission()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .statement_id(statement_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(call_error("RemovePermission")(e)),
        }
    }

    async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> Result<Invoked, AwsCallError> {
        let output = self
            .client
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(call_error("Invoke"))?;
        Ok(Invoked {
            status: output.status_code,
            function_error: output.function_error().map(str::to_owned),
        })
    }
}

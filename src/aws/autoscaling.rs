//! `ScalingApi` over the Application Auto Scaling SDK client, for Lambda provisioned concurrency.

use super::call_error;
use crate::prewarm::api::{AwsCallError, ScalingApi, ScheduledAction};
use aws_sdk_applicationautoscaling::types::{
    ScalableDimension, ScalableTargetAction, ServiceNamespace,
};
use aws_sdk_applicationautoscaling::Client;

#[derive(Clone)]
pub struct AutoScaling {
    client: Client,
}

impl AutoScaling {
    pub fn new(client: Client) -> Self {
        AutoScaling { client }
    }
}

const DIMENSION: ScalableDimension = ScalableDimension::LambdaFunctionProvisionedConcurrency;

fn capacity(value: Option<i32>) -> Option<u32> {
    value.map(|v| v.max(0) as u32)
}

impl ScalingApi for AutoScaling {
    async fn scheduled_actions(&self) -> Result<Vec<ScheduledAction>, AwsCallError> {
        let mut pages = self
            .client
            .describe_scheduled_actions()
            .service_namespace(ServiceNamespace::Lambda)
            .scalable_dimension(DIMENSION)
            .into_paginator()
            .send();
        let mut actions = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(call_error("DescribeScheduledActions"))?;
            actions.extend(page.scheduled_actions().iter().map(|a| ScheduledAction {
                name: a.scheduled_action_name().to_owned(),
                resource_id: a.resource_id().to_owned(),
                schedule: a.schedule().to_owned(),
                timezone: a.timezone().map(str::to_owned),
                min_capacity: capacity(a.scalable_target_action().and_then(|t| t.min_capacity())),
                max_capacity: capacity(a.scalable_target_action().and_then(|t| t.max_capacity())),
            }));
        }
        Ok(actions)
    }

    async fn register_target(
        &self,
        resource_id: &str,
        min_capacity: u32,
        max_capacity: u32,
    ) -> Result<(), AwsCallError> {
        self.client
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Lambda)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .min_capacity(min_capacity as i32)
            .max_capacity(max_capacity as i32)
            .send()
            .await
            .map(drop)
            .map_err(call_error("RegisterScalableTarget"))
    }

    async fn deregister_target(&self, resource_id: &str) -> Result<(), AwsCallError> {
        match self
            .client
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Lambda)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_object_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(call_error("DeregisterScalableTarget")(e)),
        }
    }

    async fn put_action(&self, action: &ScheduledAction) -> Result<(), AwsCallError> {
        let mut target = ScalableTargetAction::builder();
        if let Some(min) = action.min_capacity {
            target = target.min_capacity(min as i32);
        }
        if let Some(max) = action.max_capacity {
            target = target.max_capacity(max as i32);
        }
        self.client
            .put_scheduled_action()
            .service_namespace(ServiceNamespace::Lambda)
            .scalable_dimension(DIMENSION)
            .resource_id(&action.resource_id)
            .scheduled_action_name(&action.name)
            .schedule(&action.schedule)
            .set_timezone(action.timezone.clone())
            .scalable_target_action(target.build())
            .send()
            .await
            .map(drop)
            .map_err(call_error("PutScheduledAction"))
    }

    async fn delete_action(&self, name: &str, resource_id: &str) -> Result<(), AwsCallError> {
        self.client
            .delete_scheduled_action()
            .service_namespace(ServiceNamespace::Lambda)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .scheduled_action_name(name)
            .send()
            .await
            .map(drop)
            .map_err(call_error("DeleteScheduledAction"))
    }
}

//! `Notifier` over the SNS SDK client.

use super::error_text;
use crate::escalation::{Notification, Notifier, NotifyError, Route};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

#[derive(Clone)]
pub struct SnsTopic {
    client: Client,
    topic_arn: String,
}

impl SnsTopic {
    pub fn new(client: Client, topic_arn: String) -> Self {
        SnsTopic { client, topic_arn }
    }
}

impl Notifier for SnsTopic {
    async fn publish(
        &self,
        notification: &Notification,
        route: &Route,
    ) -> Result<String, NotifyError> {
        let mut publish = self
            .client
            .publish()
            .topic_arn(route.topic_arn.as_deref().unwrap_or(&self.topic_arn));
        for (name, value) in route.attributes() {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| NotifyError(format!("message attribute {name}: {e}")))?;
            publish = publish.message_attributes(name, value);
        }
        let output = publish
            .subject(&notification.subject)
            .message_structure("json")
            .message(notification.message_json())
            .send()
            .await
            .map_err(|e| {
                let (code, message) = error_text(&e);
                NotifyError(format!("{}: {message}", code.as_deref().unwrap_or("error")))
            })?;
        Ok(output.message_id.unwrap_or_default())
    }
}

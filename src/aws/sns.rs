//! `Notifier` over the SNS SDK client.

use super::error_text;
use crate::escalation::{Notification, Notifier, NotifyError};
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
    async fn publish(&self, notification: &Notification) -> Result<String, NotifyError> {
        let output = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
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

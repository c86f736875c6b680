//! `Notifier` over the SNS SDK client. SNS publishes only to topics in the caller's Region (SNS API
//! reference, `Publish`): a team topic of another Region is published to with a client of its own
//! Region (from its ARN). A page a team topic refuses (denied, not found, any error past the retries)
//! goes to the function's own topic instead, naming the team topic and the error, under the same
//! de-duplication key: never lost, never silent.

use super::error_text;
use crate::notify::{Notification, Notifier, NotifyError, Route};
use aws_sdk_sns::config::Region;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::warn;

#[derive(Clone)]
pub struct SnsTopic {
    /// The client of the function's own Region.
    home: Client,
    topic_arn: String,
    /// Clients of other Regions, made at the first page to a topic there.
    regional: Arc<Mutex<HashMap<String, Client>>>,
}

impl SnsTopic {
    pub fn new(client: Client, topic_arn: String) -> Self {
        SnsTopic {
            home: client,
            topic_arn,
            regional: Arc::default(),
        }
    }

    /// A client of the topic's Region (`arn:partition:sns:region:account:name`).
    fn client_for(&self, topic_arn: &str) -> Client {
        let Some(region) = topic_arn.split(':').nth(3).filter(|r| !r.is_empty()) else {
            return self.home.clone();
        };
        if self.home.config().region().map(Region::as_ref) == Some(region) {
            return self.home.clone();
        }
        let mut regional = self.regional.lock().unwrap_or_else(|p| p.into_inner());
        regional
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = self
                    .home
                    .config()
                    .to_builder()
                    .region(Region::new(region.to_owned()))
                    .build();
                Client::from_conf(config)
            })
            .clone()
    }

    async fn publish_to(
        &self,
        topic_arn: &str,
        notification: &Notification,
        route: &Route,
    ) -> Result<String, NotifyError> {
        let client = self.client_for(topic_arn);
        let mut publish = client.publish().topic_arn(topic_arn);
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

impl Notifier for SnsTopic {
    async fn publish(
        &self,
        notification: &Notification,
        route: &Route,
    ) -> Result<String, NotifyError> {
        let Some(team_topic) = route.topic_arn.as_deref().filter(|t| *t != self.topic_arn) else {
            return self.publish_to(&self.topic_arn, notification, route).await;
        };
        let refusal = match self.publish_to(team_topic, notification, route).await {
            Ok(message_id) => return Ok(message_id),
            Err(refusal) => refusal,
        };
        warn!(topic = %team_topic, error = %refusal, "a team topic refused a page; sent to the function's own topic");
        let mut fallback = notification.clone();
        fallback.email.push_str(&format!(
            "\nThis page was meant for the team topic {team_topic}, which refused it ({refusal}).\n"
        ));
        self.publish_to(&self.topic_arn, &fallback, route).await
    }
}

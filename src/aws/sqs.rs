//! `QueueApi` over the SQS SDK client.

use super::call_error;
use crate::replay::api::{
    Attribute, AwsCallError, BatchResult, DlqMessage, Outgoing, QueueApi, QueueInfo, Receipt,
};
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

#[derive(Clone)]
pub struct Sqs {
    client: Client,
}

impl Sqs {
    pub fn new(client: Client) -> Self {
        Sqs { client }
    }
}

fn entry_error(operation: &'static str) -> impl Fn(aws_sdk_sqs::error::BuildError) -> AwsCallError {
    move |e| AwsCallError {
        operation,
        code: "InvalidEntry".into(),
        message: e.to_string(),
    }
}

fn to_attribute(value: &MessageAttributeValue) -> Attribute {
    Attribute {
        data_type: value.data_type().to_owned(),
        string_value: value.string_value().map(str::to_owned),
        binary_value: value.binary_value().map(|b| b.as_ref().to_vec()),
    }
}

fn from_attribute(attribute: &Attribute) -> Result<MessageAttributeValue, AwsCallError> {
    MessageAttributeValue::builder()
        .data_type(&attribute.data_type)
        .set_string_value(attribute.string_value.clone())
        .set_binary_value(attribute.binary_value.clone().map(Blob::new))
        .build()
        .map_err(entry_error("SendMessageBatch"))
}

fn batch_result(ok: Vec<String>, failed: Vec<(String, String)>) -> BatchResult {
    BatchResult { ok, failed }
}

impl QueueApi for Sqs {
    async fn resolve(&self, name: &str) -> Result<QueueInfo, AwsCallError> {
        let url = self
            .client
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(call_error("GetQueueUrl"))?
            .queue_url
            .unwrap_or_default();
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::FifoQueue)
            .send()
            .await
            .map_err(call_error("GetQueueAttributes"))?
            .attributes
            .unwrap_or_default();
        Ok(QueueInfo {
            name: name.to_owned(),
            fifo: attributes
                .get(&QueueAttributeName::FifoQueue)
                .is_some_and(|v| v == "true"),
            url,
        })
    }

    async fn source_queues(&self, dlq_url: &str) -> Result<Vec<String>, AwsCallError> {
        let mut pages = self
            .client
            .list_dead_letter_source_queues()
            .queue_url(dlq_url)
            .into_paginator()
            .send();
        let mut urls = Vec::new();
        while let Some(page) = pages.next().await {
            urls.extend(
                page.map_err(call_error("ListDeadLetterSourceQueues"))?
                    .queue_urls,
            );
        }
        Ok(urls)
    }

    async fn receive(
        &self,
        url: &str,
        max: i32,
        visibility_secs: i32,
        wait_secs: i32,
    ) -> Result<Vec<DlqMessage>, AwsCallError> {
        let output = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10))
            .visibility_timeout(visibility_secs)
            .wait_time_seconds(wait_secs)
            // Only what the replay reads (a message's age, its FIFO group): every attribute asked for
            // is written into every message of the answer.
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(call_error("ReceiveMessage"))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| DlqMessage {
                id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
                attributes: m
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v))
                    .collect(),
                message_attributes: m
                    .message_attributes
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, v)| (k.clone(), to_attribute(v)))
                    .collect(),
            })
            .collect())
    }

    async fn send_batch(
        &self,
        url: &str,
        entries: &[Outgoing],
    ) -> Result<BatchResult, AwsCallError> {
        let mut request = self.client.send_message_batch().queue_url(url);
        for entry in entries {
            let mut builder = SendMessageBatchRequestEntry::builder()
                .id(&entry.id)
                .message_body(&entry.body)
                .set_message_group_id(entry.group_id.clone())
                .set_message_deduplication_id(entry.deduplication_id.clone());
            for (name, attribute) in &entry.message_attributes {
                builder = builder.message_attributes(name, from_attribute(attribute)?);
            }
            request = request.entries(builder.build().map_err(entry_error("SendMessageBatch"))?);
        }
        let output = request
            .send()
            .await
            .map_err(call_error("SendMessageBatch"))?;
        Ok(batch_result(
            output.successful.into_iter().map(|s| s.id).collect(),
            output.failed.into_iter().map(|f| (f.id, f.code)).collect(),
        ))
    }

    async fn delete_batch(
        &self,
        url: &str,
        receipts: &[Receipt],
    ) -> Result<BatchResult, AwsCallError> {
        let mut request = self.client.delete_message_batch().queue_url(url);
        for r in receipts {
            request = request.entries(
                DeleteMessageBatchRequestEntry::builder()
                    .id(&r.id)
                    .receipt_handle(&r.handle)
                    .build()
                    .map_err(entry_error("DeleteMessageBatch"))?,
            );
        }
        let output = request
            .send()
            .await
            .map_err(call_error("DeleteMessageBatch"))?;
        Ok(batch_result(
            output.successful.into_iter().map(|s| s.id).collect(),
            output.failed.into_iter().map(|f| (f.id, f.code)).collect(),
        ))
    }

    async fn release_batch(
        &self,
        url: &str,
        receipts: &[Receipt],
    ) -> Result<BatchResult, AwsCallError> {
        let mut request = self.client.change_message_visibility_batch().queue_url(url);
        for r in receipts {
            request = request.entries(
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(&r.id)
                    .receipt_handle(&r.handle)
                    .visibility_timeout(0)
                    .build()
                    .map_err(entry_error("ChangeMessageVisibilityBatch"))?,
            );
        }
        let output = request
            .send()
            .await
            .map_err(call_error("ChangeMessageVisibilityBatch"))?;
        Ok(batch_result(
            output.successful.into_iter().map(|s| s.id).collect(),
            output.failed.into_iter().map(|f| (f.id, f.code)).collect(),
        ))
    }

    async fn visible(&self, url: &str) -> Result<u64, AwsCallError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(call_error("GetQueueAttributes"))?
            .attributes
            .unwrap_or_default();
        Ok(attributes
            .get(&QueueAttributeName::ApproximateNumberOfMessages)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    async fn depth(&self, url: &str) -> Result<u64, AwsCallError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(call_error("GetQueueAttributes"))?
            .attributes
            .unwrap_or_default();
        let number = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(number(QueueAttributeName::ApproximateNumberOfMessages)
            + number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}

//! Queues in a sandbox account: plain ones, and a source with its dead-letter queue.

/// A queue with these attributes; its URL.
pub async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(aws_sdk_sqs::types::QueueAttributeName, String)],
) -> String {
    let mut request = sqs.create_queue().queue_name(name);
    for (k, v) in attributes {
        request = request.attributes(k.clone(), v);
    }
    request.send().await.unwrap().queue_url.unwrap()
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    use aws_sdk_sqs::types::QueueAttributeName;
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone()
}

/// A source queue whose redrive policy sends failures to `dlq`: (source URL, DLQ URL).
pub async fn source_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    source: &str,
    dlq: &str,
    fifo: bool,
) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let fifo_attrs = if fifo {
        vec![(QueueAttributeName::FifoQueue, "true".to_owned())]
    } else {
        vec![]
    };
    let dlq_url = create_queue(sqs, dlq, &fifo_attrs).await;
    let arn = queue_arn(sqs, &dlq_url).await;
    let mut attrs = fifo_attrs;
    attrs.push((
        QueueAttributeName::RedrivePolicy,
        serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": 3}).to_string(),
    ));
    (create_queue(sqs, source, &attrs).await, dlq_url)
}

//! A batch that partly fails while the call succeeds — something the sandbox never does — through the
//! SDK's own `aws-smithy-mocks` inside the real SQS client: only `Successful` entries count as
//! delivered, and a delivered message whose delete failed stays in the DLQ and is reported.

use crate::common;

use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchOutput;
use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchOutput;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_sdk_sqs::operation::list_dead_letter_source_queues::ListDeadLetterSourceQueuesOutput;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, DeleteMessageBatchResultEntry, Message, SendMessageBatchResultEntry,
};
use aws_sdk_sqs::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use common::fakes::MemoryLedger;
use selfheal::aws::lambda::Lambda;
use selfheal::aws::sqs::Sqs;
use selfheal::replay::{ReplayRequest, ReplaySettings, Replayer};
use selfheal::rules::RuleSet;

fn failed(id: &str, code: &str) -> BatchResultErrorEntry {
    BatchResultErrorEntry::builder()
        .id(id)
        .code(code)
        .sender_fault(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn only_acknowledged_entries_are_deleted() {
    let url = mock!(Client::get_queue_url).then_compute_output(|input| {
        GetQueueUrlOutput::builder()
            .queue_url(format!(
                "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
                input.queue_name().unwrap()
            ))
            .build()
    });
    let attributes = mock!(Client::get_queue_attributes)
        .then_output(|| GetQueueAttributesOutput::builder().build());
    let sources = mock!(Client::list_dead_letter_source_queues).then_output(|| {
        ListDeadLetterSourceQueuesOutput::builder()
            .queue_urls("https://sqs.us-east-1.amazonaws.com/123456789012/orders")
            .build()
            .unwrap()
    });
    let receive = mock!(Client::receive_message)
        .sequence()
        .output(|| {
            ReceiveMessageOutput::builder()
                .set_messages(Some(
                    (0..4)
                        .map(|i| {
                            Message::builder()
                                .message_id(format!("m{i}"))
                                .receipt_handle(format!("r{i}"))
                                .body(format!("body {i}"))
                                .build()
                        })
                        .collect(),
                ))
                .build()
        })
        .output(|| ReceiveMessageOutput::builder().build())
        .repeatedly()
        .build();
    // Entry 1 fails, entry 3 is missing from both lists: neither is delivered.
    let send = mock!(Client::send_message_batch).then_output(|| {
        SendMessageBatchOutput::builder()
            .successful(
                SendMessageBatchResultEntry::builder()
                    .id("0")
                    .message_id("n0")
                    .md5_of_message_body("x")
                    .build()
                    .unwrap(),
            )
            .successful(
                SendMessageBatchResultEntry::builder()
                    .id("2")
                    .message_id("n2")
                    .md5_of_message_body("x")
                    .build()
                    .unwrap(),
            )
            .failed(failed("1", "KMS.ThrottlingException"))
            .build()
            .unwrap()
    });
    // Of the two delivered, the delete of one fails.
    let delete = mock!(Client::delete_message_batch).then_compute_output(|input| {
        let entries = input.entries().to_vec();
        let mut output = DeleteMessageBatchOutput::builder();
        for (i, e) in entries.iter().enumerate() {
            output = if i == 0 {
                output.successful(
                    DeleteMessageBatchResultEntry::builder()
                        .id(e.id())
                        .build()
                        .unwrap(),
                )
            } else {
                output.failed(failed(e.id(), "InternalError"))
            };
        }
        output.build().unwrap()
    });
    let release = mock!(Client::change_message_visibility_batch).then_compute_output(|input| {
        assert!(input
            .entries()
            .iter()
            .all(|e| e.visibility_timeout() == Some(0)));
        let ids: Vec<String> = input.entries().iter().map(|e| e.id().to_owned()).collect();
        assert_eq!(ids, ["m1", "m3"], "the undelivered are made visible again");
        ChangeMessageVisibilityBatchOutput::builder()
            .set_successful(Some(vec![]))
            .set_failed(Some(vec![]))
            .build()
            .unwrap()
    });
    let client = mock_client!(
        aws_sdk_sqs,
        RuleMode::MatchAny,
        [
            &url,
            &attributes,
            &sources,
            &receive,
            &send,
            &delete,
            &release
        ]
    );
    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        Vec::<&aws_smithy_mocks::Rule>::new()
    );
    let rules = RuleSet::from_sources(
        &[("r.toml", "[[dlq]]\nname = \"o\"\nqueue = \"orders-dlq\"\n")],
        &[],
    )
    .unwrap();
    let replayer = Replayer::new(
        Sqs::new(client),
        Lambda::new(lambda),
        MemoryLedger::default(),
        rules,
        ReplaySettings::default(),
    );
    let request = ReplayRequest::parse(&serde_json::json!({"queue": "orders-dlq"})).unwrap();
    let summary = replayer.replay(&request, None, || 0).await.unwrap();
    assert_eq!(summary.replayed, 2, "{summary:#?}");
    assert_eq!(summary.failed, 2);
    assert_eq!(summary.failure_reasons["KMS.ThrottlingException"], 1);
    assert_eq!(summary.failure_reasons["NotAcknowledged"], 1);
    assert_eq!(summary.delivered_not_deleted, 1);
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(release.num_calls(), 1);
}

#[tokio::test]
async fn throttled_calls_are_retried_and_a_send_that_stays_throttled_deletes_nothing() {
    let throttled =
        || Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned());
    let url = mock!(Client::get_queue_url).then_compute_output(|input| {
        GetQueueUrlOutput::builder()
            .queue_url(format!("https://sqs/{}", input.queue_name().unwrap()))
            .build()
    });
    let attributes = mock!(Client::get_queue_attributes)
        .then_output(|| GetQueueAttributesOutput::builder().build());
    let sources = mock!(Client::list_dead_letter_source_queues).then_output(|| {
        ListDeadLetterSourceQueuesOutput::builder()
            .queue_urls("https://sqs/orders")
            .build()
            .unwrap()
    });
    let message = |i: usize| {
        Message::builder()
            .message_id(format!("m{i}"))
            .receipt_handle(format!("r{i}"))
            .body("b")
            .build()
    };
    let receive = mock!(Client::receive_message)
        .sequence()
        .http_status(400, throttled())
        .times(2)
        .output(move || {
            ReceiveMessageOutput::builder()
                .set_messages(Some((0..3).map(message).collect()))
                .build()
        })
        .output(|| ReceiveMessageOutput::builder().build())
        .repeatedly()
        .build();
    let send = mock!(Client::send_message_batch)
        .sequence()
        .http_status(400, throttled())
        .repeatedly()
        .build();
    let delete = mock!(Client::delete_message_batch)
        .then_output(|| DeleteMessageBatchOutput::builder().build().unwrap());
    let release = mock!(Client::change_message_visibility_batch).then_output(|| {
        ChangeMessageVisibilityBatchOutput::builder()
            .set_successful(Some(vec![]))
            .set_failed(Some(vec![]))
            .build()
            .unwrap()
    });
    let client = mock_client!(
        aws_sdk_sqs,
        RuleMode::MatchAny,
        [
            &url,
            &attributes,
            &sources,
            &receive,
            &send,
            &delete,
            &release
        ],
        |config| config.retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(selfheal::aws::MAX_ATTEMPTS)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        )
    );
    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        Vec::<&aws_smithy_mocks::Rule>::new()
    );
    let rules = RuleSet::from_sources(
        &[("r.toml", "[[dlq]]\nname = \"o\"\nqueue = \"orders-dlq\"\n")],
        &[],
    )
    .unwrap();
    let replayer = Replayer::new(
        Sqs::new(client),
        Lambda::new(lambda),
        MemoryLedger::default(),
        rules,
        // One pipeline: the mocks answer calls in the order this test counts them.
        ReplaySettings {
            pipelines: 1,
            ..ReplaySettings::default()
        },
    );
    let request = ReplayRequest::parse(&serde_json::json!({"queue": "orders-dlq"})).unwrap();
    let summary = replayer.replay(&request, None, || 0).await.unwrap();
    assert_eq!(
        summary.received, 3,
        "the receive got through after two throttles: {summary:#?}"
    );
    assert_eq!(
        receive.num_calls(),
        4,
        "two throttled attempts, the batch, the empty receive"
    );
    assert_eq!(send.num_calls() as u32, selfheal::aws::MAX_ATTEMPTS);
    assert_eq!((summary.replayed, summary.failed), (0, 3));
    assert_eq!(summary.failure_reasons["ThrottlingException"], 3);
    assert_eq!(delete.num_calls(), 0, "nothing undelivered is deleted");
    assert_eq!(release.num_calls(), 1, "the three are made visible again");
}

//! Sending dead letters to a queue or a function: one result per message, in order; nothing here
//! decides what is deleted.

use super::api::{
    Attribute, BatchResult, DlqMessage, FunctionApi, Outgoing, QueueApi, QueueInfo, REPLAY_COUNT,
};
use super::batches::{message_size, split_by_size};
use std::collections::{BTreeMap, HashMap, HashSet};

/// SQS takes at most 10 message attributes.
const MAX_ATTRIBUTES: usize = 10;

/// One message on its way back.
pub struct Delivery<'m> {
    pub message: &'m DlqMessage,
    /// What is sent: the body, or an on-failure record's `requestPayload`.
    pub payload: &'m str,
    /// Replays before this one.
    pub replays: u32,
    /// Whether the message's attributes go with it: not those EventBridge added to a dead letter
    /// (`RULE_ARN`, `TARGET_ARN`, `ERROR_CODE`, ...), which the original event never had.
    pub keep_attributes: bool,
}

pub use super::failure::Failure;

/// Sends to a queue in requests that fit (`batches.rs`). For a FIFO queue, each request holds at most
/// one message of a group and the requests go in order, so that a failed message stops its group
/// (`blocked`) before a later one of the group is sent: the entries of one request succeed or fail
/// one by one, and two of a group in one request could arrive out of order.
pub async fn to_queue<Q: QueueApi>(
    queues: &Q,
    queue: &QueueInfo,
    deliveries: &[Delivery<'_>],
    blocked: &mut HashSet<String>,
) -> Vec<Result<(), Failure>> {
    let entries: Vec<Outgoing> = deliveries
        .iter()
        .enumerate()
        .map(|(i, d)| outgoing(i, d, queue.fifo))
        .collect();
    let mut results: Vec<Result<(), Failure>> = vec![Ok(()); entries.len()];
    if !queue.fifo {
        let sizes: Vec<usize> = entries.iter().map(message_size).collect();
        let (requests, too_large) = split_by_size(&sizes);
        for i in too_large {
            results[i] = Err(Failure::MessageTooLarge);
        }
        let sent = crate::concurrent::join_all(
            requests
                .iter()
                .map(|request| send(queues, queue, &entries, request)),
        )
        .await;
        for (request, outcome) in requests.iter().zip(sent) {
            for (i, result) in request.iter().zip(outcome) {
                results[*i] = result;
            }
        }
        return results;
    }
    for round in fifo_rounds(deliveries) {
        let mut open = Vec::new();
        for i in round {
            let group = deliveries[i].message.group_id().unwrap_or_default();
            if blocked.contains(group) {
                results[i] = Err(Failure::EarlierMessageOfGroupFailed);
            } else {
                open.push(i);
            }
        }
        let sizes: Vec<usize> = open.iter().map(|i| message_size(&entries[*i])).collect();
        let (requests, too_large) = split_by_size(&sizes);
        let mut outcome: Vec<(usize, Result<(), Failure>)> = too_large
            .into_iter()
            .map(|k| (open[k], Err(Failure::MessageTooLarge)))
            .collect();
        for request in requests {
            let request: Vec<usize> = request.into_iter().map(|k| open[k]).collect();
            let sent = send(queues, queue, &entries, &request).await;
            outcome.extend(request.into_iter().zip(sent));
        }
        for (i, result) in outcome {
            if result.is_err() {
                blocked.insert(
                    deliveries[i]
                        .message
                        .group_id()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            results[i] = result;
        }
    }
    results
}

/// One `SendMessageBatch`; what is not in `Successful` is failed.
async fn send<Q: QueueApi>(
    queues: &Q,
    queue: &QueueInfo,
    entries: &[Outgoing],
    request: &[usize],
) -> Vec<Result<(), Failure>> {
    let batch: Vec<Outgoing> = request.iter().map(|i| entries[*i].clone()).collect();
    let result = match queues.send_batch(&queue.url, &batch).await {
        Ok(result) => result,
        Err(e) => BatchResult {
            ok: Vec::new(),
            failed: batch
                .iter()
                .map(|b| (b.id.clone(), e.code.clone()))
                .collect(),
        },
    };
    let failed: HashMap<&str, &str> = result
        .failed
        .iter()
        .map(|(id, code)| (id.as_str(), code.as_str()))
        .collect();
    let ok: HashSet<&str> = result.ok.iter().map(String::as_str).collect();
    batch
        .iter()
        .map(|entry| {
            if ok.contains(entry.id.as_str()) {
                Ok(())
            } else {
                // Not in `Successful`: not delivered, whatever the reason.
                Err(failed
                    .get(entry.id.as_str())
                    .map_or(Failure::NotAcknowledged, |code| {
                        Failure::Aws((*code).to_owned())
                    }))
            }
        })
        .collect()
}

/// Invokes the function asynchronously once per message, side by side.
pub async fn to_function<F: FunctionApi>(
    functions: &F,
    name: &str,
    qualifier: Option<&str>,
    deliveries: &[Delivery<'_>],
) -> Vec<Result<(), Failure>> {
    crate::concurrent::join_all(
        deliveries
            .iter()
            .map(|d| functions.invoke_async(name, qualifier, d.payload)),
    )
    .await
    .into_iter()
    .map(|r| r.map_err(|e| Failure::Aws(e.code)))
    .collect()
}

/// Indexes in rounds holding at most one message of each FIFO group, each group's in order.
fn fifo_rounds(deliveries: &[Delivery<'_>]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut next_round: HashMap<&str, usize> = HashMap::new();
    for (i, delivery) in deliveries.iter().enumerate() {
        let round = next_round
            .entry(delivery.message.group_id().unwrap_or_default())
            .or_default();
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(i);
        *round += 1;
    }
    rounds
}

/// The message as it goes back to a queue: payload and attributes kept, the replay counted, FIFO
/// group kept and a deduplication id that makes a duplicate delivery harmless.
fn outgoing(index: usize, delivery: &Delivery<'_>, fifo: bool) -> Outgoing {
    let message = delivery.message;
    let mut attributes: BTreeMap<String, Attribute> = if delivery.keep_attributes {
        message.message_attributes.clone()
    } else {
        BTreeMap::new()
    };
    if attributes.contains_key(REPLAY_COUNT) || attributes.len() < MAX_ATTRIBUTES {
        attributes.insert(
            REPLAY_COUNT.into(),
            Attribute::number(&(delivery.replays + 1).to_string()),
        );
    }
    Outgoing {
        id: index.to_string(),
        body: delivery.payload.to_owned(),
        message_attributes: attributes,
        group_id: fifo.then(|| message.group_id().unwrap_or("selfheal-replay").to_owned()),
        deduplication_id: fifo.then(|| {
            format!("replay-{}-{}", message.id, delivery.replays + 1)
                .chars()
                .take(128)
                .collect()
        }),
    }
}

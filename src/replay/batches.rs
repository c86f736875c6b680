//! `SendMessageBatch` requests that SQS accepts: at most 10 entries and 1 MiB in all.
//!
//! SQS: a message may be 1 MiB (1,048,576 bytes) and so may the sum of a batch's messages (aws-sdk-sqs
//! 1.119, `SendMessage` and `SendMessageBatch` documentation); every part of a message attribute (name,
//! type and value) counts toward the message's size (SQS API reference, `MessageAttributeValue`).
//! A binary value is counted in bytes, not in its base64 form: not verified against SQS.

use super::api::Outgoing;

pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const MAX_BATCH_ENTRIES: usize = 10;

/// The size SQS counts for a message: its body and every part of its attributes.
pub fn message_size(entry: &Outgoing) -> usize {
    entry.body.len()
        + entry
            .message_attributes
            .iter()
            .map(|(name, a)| {
                name.len()
                    + a.data_type.len()
                    + a.string_value.as_ref().map_or(0, String::len)
                    + a.binary_value.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>()
}

/// Splits entries, in order, into requests of at most 10 entries and 1 MiB; returns the requests (as
/// indexes into `sizes`) and the indexes of entries too large to send at all.
pub fn split_by_size(sizes: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut requests: Vec<Vec<usize>> = Vec::new();
    let mut too_large = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0;
    for (index, &size) in sizes.iter().enumerate() {
        if size > MAX_MESSAGE_BYTES {
            too_large.push(index);
            continue;
        }
        if current.len() == MAX_BATCH_ENTRIES || current_bytes + size > MAX_BATCH_BYTES {
            requests.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(index);
        current_bytes += size;
    }
    if !current.is_empty() {
        requests.push(current);
    }
    (requests, too_large)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::api::Attribute;

    #[test]
    fn ten_messages_of_200_kb_go_in_two_requests() {
        let (requests, too_large) = split_by_size(&[200 * 1024; 10]);
        assert_eq!(requests, vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]]);
        assert!(too_large.is_empty());
    }

    #[test]
    fn small_messages_go_ten_at_a_time_and_an_oversized_one_is_set_apart() {
        let mut sizes = vec![100; 12];
        sizes[3] = MAX_MESSAGE_BYTES + 1;
        let (requests, too_large) = split_by_size(&sizes);
        assert_eq!(too_large, vec![3]);
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].len(), 10);
        assert_eq!(requests.concat().len(), 11);
        let (exact, _) = split_by_size(&[MAX_BATCH_BYTES, 1]);
        assert_eq!(exact, vec![vec![0], vec![1]], "a full request is closed");
    }

    #[test]
    fn attributes_count_toward_the_size() {
        let mut entry = Outgoing {
            id: "0".into(),
            body: "abc".into(),
            message_attributes: Default::default(),
            group_id: None,
            deduplication_id: None,
        };
        assert_eq!(message_size(&entry), 3);
        entry
            .message_attributes
            .insert("tenant".into(), Attribute::string("acme"));
        assert_eq!(message_size(&entry), 3 + 6 + 6 + 4);
    }
}

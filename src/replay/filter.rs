//! Which messages a request's filter leaves in the DLQ, and why.

use super::api::DlqMessage;
use super::dead_letter::DeadLetter;
use super::request::Filter;
use serde_json::Value;

/// Why a message is left in the DLQ by the filter, or `None` when it is to be replayed. The body
/// filters look at what would be delivered (a record's `requestPayload`), the error filter at any of
/// the dead letter's codes.
pub fn filtered_out(
    filter: &Filter,
    message: &DlqMessage,
    letter: &DeadLetter,
    now_ms: u64,
) -> Option<&'static str> {
    if let Some(codes) = &filter.error_code {
        if !codes.codes().iter().any(|c| letter.error_codes.contains(c)) {
            return Some("errorCode");
        }
    }
    let body = letter.payload.as_deref().unwrap_or(&message.body);
    let age = message.age_seconds(now_ms);
    if filter
        .min_age_seconds
        .is_some_and(|min| age.is_none_or(|a| a < min))
    {
        return Some("minAgeSeconds");
    }
    if filter
        .max_age_seconds
        .is_some_and(|max| age.is_none_or(|a| a > max))
    {
        return Some("maxAgeSeconds");
    }
    if let Some(needle) = &filter.body_contains {
        if !body.contains(needle.as_str()) {
            return Some("bodyContains");
        }
    }
    if let Some(field) = &filter.json_field {
        let found = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|body| lookup(&body, &field.path).cloned());
        if found.as_ref() != Some(&field.equals) {
            return Some("jsonField");
        }
    }
    None
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |current, key| match current {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::dead_letter::read_dead_letter;
    use crate::replay::request::{JsonField, OneOrMany};

    fn filtered(filter: &Filter, message: &DlqMessage, now_ms: u64) -> Option<&'static str> {
        filtered_out(filter, message, &read_dead_letter(message), now_ms)
    }
    use serde_json::json;

    fn message(body: &str, error_code: Option<&str>, sent_ms: u64) -> DlqMessage {
        let mut m = DlqMessage {
            id: "m".into(),
            receipt_handle: "r".into(),
            body: body.into(),
            ..Default::default()
        };
        m.attributes
            .insert("SentTimestamp".into(), sent_ms.to_string());
        if let Some(code) = error_code {
            m.message_attributes.insert(
                "ErrorCode".into(),
                super::super::api::Attribute::number(code),
            );
        }
        m
    }

    #[test]
    fn each_filter_keeps_what_it_names() {
        let now = 1_000_000_000;
        let m = message(
            r#"{"detail": {"status": "failed", "items": [{"sku": "a"}]}}"#,
            Some("500"),
            now - 120_000,
        );
        let mut f = Filter::default();
        assert_eq!(filtered(&f, &m, now), None);
        f.error_code = Some(OneOrMany::One(json!(500)));
        assert_eq!(filtered(&f, &m, now), None);
        f.error_code = Some(OneOrMany::Many(vec![json!(502)]));
        assert_eq!(filtered(&f, &m, now), Some("errorCode"));
        f.error_code = None;
        f.min_age_seconds = Some(60);
        assert_eq!(filtered(&f, &m, now), None);
        f.max_age_seconds = Some(100);
        assert_eq!(filtered(&f, &m, now), Some("maxAgeSeconds"));
        f = Filter {
            body_contains: Some("failed".into()),
            json_field: Some(JsonField {
                path: "detail.items.0.sku".into(),
                equals: json!("a"),
            }),
            ..Filter::default()
        };
        assert_eq!(filtered(&f, &m, now), None);
        f.json_field = Some(JsonField {
            path: "detail.status".into(),
            equals: json!("ok"),
        });
        assert_eq!(filtered(&f, &m, now), Some("jsonField"));
        let not_json = message("plain text", None, now);
        f.body_contains = None;
        assert_eq!(filtered(&f, &not_json, now), Some("jsonField"));
    }
}

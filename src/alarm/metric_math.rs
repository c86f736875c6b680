//! Finding the usage metric in an alarm's metric queries.

use super::notice::{AlarmNotice, MetricId, MetricQuery};

impl AlarmNotice {
    /// The usage metric behind the alarm, if the alarm names one.
    pub fn usage_metric(&self) -> Option<&MetricId> {
        usage_metric_of(&self.queries)
    }
}

/// The metric a quota alarm measures.
///
/// Quota alarms are usually metric math, `m1` = usage and `e1 = m1 / SERVICE_QUOTA(m1) * 100`: the
/// metric passed to `SERVICE_QUOTA(...)` is the usage metric. Without such an expression, an alarm
/// on a single metric is taken to watch that metric.
pub fn usage_metric_of(queries: &[MetricQuery]) -> Option<&MetricId> {
    let by_id = |id: &str| {
        queries
            .iter()
            .find(|q| q.id == id)
            .and_then(|q| q.metric.as_ref())
    };
    let from_expression = queries
        .iter()
        .filter_map(|q| q.expression.as_deref())
        .flat_map(service_quota_arguments)
        .find_map(by_id);
    if from_expression.is_some() {
        return from_expression;
    }
    let mut metrics = queries.iter().filter_map(|q| q.metric.as_ref());
    match (metrics.next(), metrics.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// The identifiers inside every `SERVICE_QUOTA(id)` of an expression.
fn service_quota_arguments(expression: &str) -> impl Iterator<Item = &str> {
    const CALL: &str = "SERVICE_QUOTA(";
    let mut rest = expression;
    std::iter::from_fn(move || loop {
        let upper_start = find_case_insensitive(rest, CALL)?;
        let after = &rest[upper_start + CALL.len()..];
        let end = after.find(')')?;
        rest = &after[end..];
        let argument = after[..end].trim();
        if !argument.is_empty() {
            return Some(argument);
        }
    })
}

fn find_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(id: &str, name: &str) -> MetricQuery {
        MetricQuery {
            id: id.into(),
            metric: Some(MetricId {
                namespace: "AWS/Usage".into(),
                name: name.into(),
                ..Default::default()
            }),
            expression: None,
        }
    }

    fn expression(id: &str, text: &str) -> MetricQuery {
        MetricQuery {
            id: id.into(),
            metric: None,
            expression: Some(text.into()),
        }
    }

    #[test]
    fn the_service_quota_argument_is_the_usage_metric() {
        let queries = [
            metric("other", "CallCount"),
            metric("usage", "ResourceCount"),
            expression("pct", "(usage/SERVICE_QUOTA( usage ))*100"),
        ];
        assert_eq!(usage_metric_of(&queries).unwrap().name, "ResourceCount");
    }

    #[test]
    fn a_single_metric_alarm_watches_that_metric() {
        assert_eq!(
            usage_metric_of(&[metric("m1", "ConcurrentExecutions")])
                .unwrap()
                .name,
            "ConcurrentExecutions"
        );
    }

    #[test]
    fn two_metrics_without_service_quota_are_ambiguous() {
        let queries = [metric("a", "X"), metric("b", "Y"), expression("e", "a+b")];
        assert_eq!(usage_metric_of(&queries), None);
    }

    #[test]
    fn service_quota_of_an_unknown_id_falls_back_to_nothing() {
        let queries = [
            metric("a", "X"),
            metric("b", "Y"),
            expression("e", "a/SERVICE_QUOTA(zz)"),
        ];
        assert_eq!(usage_metric_of(&queries), None);
    }
}

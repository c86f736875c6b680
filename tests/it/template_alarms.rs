//! The usage alarms in `template.yaml` measure what their quota counts: the statistic Service Quotas
//! recommends for the quota's usage metric (`MetricStatisticRecommendation`, from the sandbox's
//! catalog, where each entry cites its source), and a `CallCount` (calls per period) turned into calls
//! per second with `/PERIOD(m1)` before it is compared with a per-second rate quota (CloudWatch user
//! guide, "CloudWatch usage metrics": `CallCount` is best read as `Sum` over the period).

use serde_json::Value;

const TEMPLATE: &str = include_str!("../../template.yaml");
const CATALOG: &str = include_str!("../../sandbox/selfheal_sandbox/quotas.json");

/// One usage alarm as the template writes it: `m1`'s metric and the expression around it.
#[derive(Debug, Default)]
struct UsageAlarm {
    resource: String,
    namespace: String,
    metric_name: String,
    dimensions: Vec<(String, String)>,
    stat: String,
    expression: String,
}

/// The template's alarms whose math calls `SERVICE_QUOTA(m1)`, read from its text.
fn usage_alarms(template: &str) -> Vec<UsageAlarm> {
    let mut alarms = Vec::new();
    let mut lines = template.lines().peekable();
    while let Some(line) = lines.next() {
        let is_resource = line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(':');
        if !is_resource || lines.peek().map(|l| l.trim()) != Some("Type: AWS::CloudWatch::Alarm") {
            continue;
        }
        let mut alarm = UsageAlarm {
            resource: line.trim().trim_end_matches(':').to_owned(),
            ..UsageAlarm::default()
        };
        let mut pending_dimension: Option<String> = None;
        while let Some(next) = lines.peek() {
            if next.starts_with("  ") && !next.starts_with("   ") {
                break;
            }
            let text = lines.next().unwrap_or_default().trim();
            let value = |key: &str| text.strip_prefix(key).map(|v| v.trim().to_owned());
            if let Some(v) = value("Namespace:") {
                alarm.namespace = v;
            } else if let Some(v) = value("MetricName:") {
                alarm.metric_name = v;
            } else if let Some(v) = value("- Name:") {
                pending_dimension = Some(v);
            } else if let (Some(v), Some(name)) = (value("Value:"), pending_dimension.take()) {
                alarm.dimensions.push((name, v));
            } else if let Some(v) = value("Stat:") {
                alarm.stat = v;
            } else if let Some(v) = value("Expression:") {
                alarm.expression = v;
            }
        }
        if alarm.expression.contains("SERVICE_QUOTA(m1)") {
            alarms.push(alarm);
        }
    }
    alarms
}

/// What is wrong with each alarm against the catalog's usage metrics.
fn problems(template: &str) -> Vec<String> {
    let catalog: Value = serde_json::from_str(CATALOG).unwrap();
    let quotas = catalog["quotas"].as_array().unwrap();
    let mut found = Vec::new();
    for alarm in usage_alarms(template) {
        let quota = quotas.iter().find(|q| {
            let metric = &q["UsageMetric"];
            let dimensions = metric["MetricDimensions"].as_object();
            metric["MetricNamespace"] == alarm.namespace.as_str()
                && metric["MetricName"] == alarm.metric_name.as_str()
                && dimensions.is_some_and(|d| {
                    d.len() == alarm.dimensions.len()
                        && alarm
                            .dimensions
                            .iter()
                            .all(|(k, v)| d.get(k).and_then(Value::as_str) == Some(v.as_str()))
                })
        });
        let Some(quota) = quota else {
            found.push(format!(
                "{}: no catalogued quota has the usage metric {}/{} {:?}",
                alarm.resource, alarm.namespace, alarm.metric_name, alarm.dimensions
            ));
            continue;
        };
        let recommended = quota["UsageMetric"]["MetricStatisticRecommendation"]
            .as_str()
            .unwrap_or_default();
        if alarm.stat != recommended {
            found.push(format!(
                "{}: Stat {} but {} recommends {recommended}",
                alarm.resource, alarm.stat, quota["QuotaCode"]
            ));
        }
        let per_second = quota["QuotaName"]
            .as_str()
            .is_some_and(|n| n.contains("per second"));
        if (alarm.metric_name == "CallCount" || per_second)
            && !alarm.expression.contains("/PERIOD(m1)")
        {
            found.push(format!(
                "{}: compares calls per period with a per-second quota; divide m1 by PERIOD(m1)",
                alarm.resource
            ));
        }
    }
    found
}

#[test]
fn every_usage_alarm_uses_its_quotas_statistic_and_rate() {
    let alarms = usage_alarms(TEMPLATE);
    assert!(
        alarms.len() >= 4,
        "the template's usage alarms were read: {alarms:#?}"
    );
    assert_eq!(problems(TEMPLATE), Vec::<String>::new());
}

#[test]
fn a_per_minute_count_against_a_per_second_quota_is_refused() {
    let fixed = "          MetricStat:\n            Metric:\n              Namespace: AWS/Usage\n              MetricName: CallCount\n              Dimensions:\n                - Name: Service\n                  Value: Logs\n                - Name: Type\n                  Value: API\n                - Name: Resource\n                  Value: PutLogEvents\n                - Name: Class\n                  Value: None\n            Period: 60\n            Stat: Sum\n        - Id: e1\n          Expression: ((m1/PERIOD(m1))/SERVICE_QUOTA(m1))*100\n";
    let template = format!("Resources:\n  LogsAlarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Metrics:\n        - Id: m1\n{fixed}  Next:\n    Type: AWS::SNS::Topic\n");
    assert_eq!(problems(&template), Vec::<String>::new());
    // The alarm as it shipped before: Maximum of a per-minute count against a per-second quota.
    let broken = template.replace("Stat: Sum", "Stat: Maximum").replace(
        "((m1/PERIOD(m1))/SERVICE_QUOTA(m1))*100",
        "(m1/SERVICE_QUOTA(m1))*100",
    );
    let found = problems(&broken);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("recommends Sum"), "{found:#?}");
    assert!(found[1].contains("PERIOD(m1)"), "{found:#?}");
}

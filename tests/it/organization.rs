//! The hub and its spokes, in the sandbox, as a new user would set them up: accounts that are not in the
//! repository, the spoke role (`selfheal-spoke`, trusting the hub's account) in one of them and not in
//! another, the rules' `accounts.toml`, and a team's SQS subscriber whose filter policy takes only its
//! account's pages. The hub reaches each spoke through STS `AssumeRole` (moto's credentials act in the
//! role's account; the sandbox refuses a missing or untrusting role as AWS does).

use crate::common::{self, raw_http, Account, REGION};
use aws_sdk_servicequotas::config::Region;
use selfheal::quota::Decision;
use serde_json::Value;

const LAMBDA: (&str, &str) = ("lambda", "L-B99A9384");

/// `application/x-www-form-urlencoded` for the IAM query API.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// IAM `CreateRole` in `account` (the sandbox takes the credential's 12-digit key as the account), as
/// spoke/template.yaml's `SpokeRole` would be: trusting a principal of `trusted_account`.
pub(crate) async fn create_spoke_role(account: &str, trusted_account: &str) {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{trusted_account}:role/selfheal-QuotaAlarmRole")},
            "Action": "sts:AssumeRole"
        }]
    });
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName=selfheal-spoke&AssumeRolePolicyDocument={}",
        form_encode(&trust.to_string())
    );
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={account}/20261130/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
    );
    let answer = raw_http(
        &format!("{}/", common::endpoint()),
        "POST",
        &body,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &authorization),
        ],
    )
    .await;
    assert!(answer.contains("CreateRoleResult"), "{answer}");
}

/// A hub, a spoke with the role, an account listed but without it, and the hub's topic for the
/// second team.
struct Organization {
    hub: Account,
    spoke: String,
    roleless: String,
    search_topic: String,
    accounts_toml: String,
}

async fn organization() -> Organization {
    let hub = Account::new().await;
    let spoke = common::unique_account_id();
    let roleless = common::unique_account_id();
    create_spoke_role(&spoke, &hub.id).await;
    let sns = aws_sdk_sns::Client::new(&hub.sdk);
    let search_topic = sns
        .create_topic()
        .name("team-search-pages")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    sns.subscribe()
        .topic_arn(&search_topic)
        .protocol("email")
        .endpoint("search-oncall@example.com")
        .send()
        .await
        .unwrap();
    let accounts_toml = format!(
        "[hub]\nspoke_role = \"selfheal-spoke\"\nregions = [\"eu-west-1\"]\n\
         [[account]]\nid = \"{spoke}\"\nowner = \"team-payments\"\n\
         [[account]]\nid = \"{roleless}\"\nowner = \"team-search\"\ntopic_arn = \"{search_topic}\"\n"
    );
    Organization {
        hub,
        spoke,
        roleless,
        search_topic,
        accounts_toml,
    }
}

impl Organization {
    fn healer(
        &self,
    ) -> selfheal::quota::QuotaHealer<
        selfheal::aws::spokes::SpokeAccess,
        selfheal::aws::sns::SnsTopic,
        selfheal::aws::dynamodb::DynamoLedger,
    > {
        self.hub.healer_with_rule_files(&[
            ("quotas.toml", include_str!("../../rules/quotas.toml")),
            ("accounts.toml", &self.accounts_toml),
        ])
    }

    /// The fixture's Lambda concurrency alarm, as raised in `account` and `region`.
    fn alarm(&self, account: &str, region: &str) -> selfheal::alarm::AlarmNotice {
        let mut notice = self.hub.notice("alarm-action-lambda-concurrency.json");
        notice.account_id = Some(account.to_owned());
        notice.region = Some(region.to_owned());
        notice
    }
}

/// The increase requests of a quota in `account` and `region`, read with that account's own
/// credentials.
pub(crate) async fn requests_in(account: &str, region: &str) -> Vec<String> {
    let sdk = common::sdk_config(account).await;
    let config = aws_sdk_servicequotas::config::Builder::from(&sdk)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_servicequotas::Client::from_conf(config)
        .list_requested_service_quota_change_history_by_quota()
        .service_code(LAMBDA.0)
        .quota_code(LAMBDA.1)
        .send()
        .await
        .unwrap()
        .requested_quotas
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.id)
        .collect()
}

/// What the sandbox recorded for a topic's SMS and email subscribers.
async fn deliveries_to(topic_arn: &str) -> Vec<Value> {
    let url = format!("{}/moto-api/selfheal/sns/deliveries", common::endpoint());
    let body: Value = serde_json::from_str(&common::http(&url, "GET", None).await).unwrap();
    body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["topic_arn"] == topic_arn && d["protocol"] == "email")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_spokes_alarm_raises_the_spokes_quota_in_its_region_and_none_of_the_hubs() {
    let org = organization().await;
    let healer = org.healer();
    let here = healer
        .handle(&org.alarm(&org.spoke, REGION), "r1", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(
        (here.decision, here.reason.as_str()),
        (Decision::Raise, "raise"),
        "{:#?}",
        here.steps
    );
    assert!(
        here.steps
            .iter()
            .any(|s| s.contains(&format!("acting in account {}", org.spoke))),
        "{:#?}",
        here.steps
    );
    let filed = here.request.as_ref().unwrap().id.clone();
    assert_eq!(requests_in(&org.spoke, REGION).await, vec![filed.clone()]);
    assert!(
        requests_in(&org.hub.id, REGION).await.is_empty(),
        "the hub's own quota is untouched"
    );
    assert!(requests_in(&org.spoke, "eu-west-1").await.is_empty());

    let there = healer
        .handle(&org.alarm(&org.spoke, "eu-west-1"), "r2", 1_800_000_060)
        .await
        .unwrap();
    assert_eq!(there.decision, Decision::Raise, "{:#?}", there.steps);
    let filed_there = there.request.as_ref().unwrap().id.clone();
    assert_eq!(requests_in(&org.spoke, "eu-west-1").await, [filed_there]);
    assert!(requests_in(&org.hub.id, "eu-west-1").await.is_empty());
    assert_eq!(requests_in(&org.spoke, REGION).await, vec![filed.clone()]);

    // The follow-up reads each request in its own account, through the same role.
    org.hub.decide_request(&filed, "APPROVED").await;
    let report = healer.follow_up(false, 1_800_000_120).await.unwrap();
    let item = report.items.iter().find(|i| i.request_id == filed).unwrap();
    assert_eq!((item.status.as_str(), item.sent), ("APPROVED", true));
    assert_eq!(item.account_id, org.spoke);

    // The spoke taken out of accounts.toml: its other request is not even read any more.
    let without_spoke = org.hub.healer_with_rule_files(&[
        ("quotas.toml", include_str!("../../rules/quotas.toml")),
        (
            "accounts.toml",
            "[hub]\nspoke_role = \"selfheal-spoke\"\nregions = [\"eu-west-1\"]\n",
        ),
    ]);
    let report = without_spoke.follow_up(false, 1_800_000_180).await.unwrap();
    let left = report
        .items
        .iter()
        .find(|i| i.region == "eu-west-1")
        .unwrap();
    assert!(!left.sent, "{left:?}");
    assert!(
        left.error
            .as_deref()
            .unwrap_or_default()
            .contains("out of the hub's reach"),
        "{left:?}"
    );
}

#[tokio::test]
async fn an_account_without_the_role_is_escalated_once_naming_it_and_nothing_is_filed() {
    let org = organization().await;
    let healer = org.healer();
    let first = healer
        .handle(&org.alarm(&org.roleless, REGION), "r1", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(
        (first.decision, first.reason.as_str()),
        (Decision::Escalate, "spoke-role-unavailable")
    );
    // Another alarm of the same account, in the other Region: the same cause, no second page.
    let mut other = org.alarm(&org.roleless, "eu-west-1");
    other.alarm_name = "prod-lambda-concurrent-executions-eu".into();
    let second = healer.handle(&other, "r2", 1_800_000_060).await.unwrap();
    assert_eq!(second.reason, "spoke-role-unavailable");
    assert!(second.notification.unwrap().suppressed_by_cooldown);
    assert!(requests_in(&org.roleless, REGION).await.is_empty());
    assert!(requests_in(&org.hub.id, REGION).await.is_empty());

    // Its page went to its team's own topic (topic_arn), naming the account and the role.
    let pages = deliveries_to(&org.search_topic).await;
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let email = pages[0]["message"].as_str().unwrap();
    assert!(email.contains(&org.roleless), "{email}");
    assert!(email.contains("selfheal-spoke"), "{email}");
    assert!(email.contains("AccessDenied"), "{email}");
    assert_eq!(pages[0]["message_attributes"]["owner"], "team-search");
    assert_eq!(
        pages[0]["message_attributes"]["reason"],
        "spoke-role-unavailable"
    );
    assert!(deliveries_to(&org.hub.topic_arn).await.is_empty());
}

#[tokio::test]
async fn an_unlisted_account_or_a_region_not_allowed_is_escalated_without_assuming_anything() {
    let org = organization().await;
    let healer = org.healer();
    // An account the rules do not list, even one whose role exists and trusts the hub.
    let stranger = common::unique_account_id();
    create_spoke_role(&stranger, &org.hub.id).await;
    let outcome = healer
        .handle(&org.alarm(&stranger, REGION), "r1", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "account-not-allowed")
    );
    assert!(outcome.steps.iter().all(|s| !s.contains("AssumeRole")));
    assert!(requests_in(&stranger, REGION).await.is_empty());

    let outcome = healer
        .handle(&org.alarm(&org.spoke, "ap-south-1"), "r2", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(
        (outcome.decision, outcome.reason.as_str()),
        (Decision::Escalate, "other-region")
    );
    assert!(requests_in(&org.spoke, "ap-south-1").await.is_empty());
}

#[tokio::test]
async fn a_subscription_filtered_on_its_account_receives_that_accounts_pages_only() {
    let org = organization().await;
    let sqs = aws_sdk_sqs::Client::new(&org.hub.sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("team-payments-pages")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{}:team-payments-pages", org.hub.id);
    let filter = serde_json::json!({ "account": [org.spoke] }).to_string();
    aws_sdk_sns::Client::new(&org.hub.sdk)
        .subscribe()
        .topic_arn(&org.hub.topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("FilterPolicy", filter)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    // A page for the spoke (its quota at a ceiling of 1000), one for an unlisted account, one for the
    // hub's own account: three pages on the hub's topic.
    let spoke_ceiling = format!(
        "[[quota]]\nname = \"lambda-at-ceiling\"\nalarm = \"*lambda-concurrent-executions*\"\nservice_code = \"lambda\"\nquota_code = \"L-B99A9384\"\nincrease = \"50%\"\nceiling = 1000\naccounts = [\"{}\"]\n",
        org.spoke
    );
    let healer = org.hub.healer_with_rule_files(&[
        ("quotas.toml", &spoke_ceiling),
        ("accounts.toml", &org.accounts_toml),
    ]);
    let spoke_page = healer
        .handle(&org.alarm(&org.spoke, REGION), "r1", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(
        spoke_page.reason, "ceiling-reached",
        "{:#?}",
        spoke_page.steps
    );
    let stranger = healer
        .handle(
            &org.alarm(&common::unique_account_id(), REGION),
            "r2",
            1_800_000_000,
        )
        .await
        .unwrap();
    assert_eq!(stranger.reason, "account-not-allowed");
    let mut hub_alarm = org.alarm(&org.hub.id, REGION);
    hub_alarm.alarm_name = "unknown-usage".into();
    hub_alarm.queries.clear();
    let own = healer
        .handle(&hub_alarm, "r3", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(own.decision, Decision::Escalate, "{:#?}", own.steps);
    assert_eq!(deliveries_to(&org.hub.topic_arn).await.len(), 3);

    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1, "{received:#?}");
    // SNS filters on the published attributes but delivers them only for a String-structured message;
    // selfheal's is JSON-structured (one text per protocol), so the subscriber reads the JSON page.
    assert!(
        received[0]
            .message_attributes
            .as_ref()
            .is_none_or(|a| a.is_empty()),
        "{received:#?}"
    );
    let body: Value = serde_json::from_str(received[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["account_id"], org.spoke.as_str(), "{body:#}");
    assert_eq!(body["reason"], "ceiling-reached", "{body:#}");
    assert!(body["dedup_key"].as_str().unwrap().contains(&org.spoke));
}

#[tokio::test]
async fn a_threshold_notice_of_the_organizational_view_acts_on_the_affected_account_and_region() {
    let org = organization().await;
    // Received by the hub (the management or delegated administrator account) in us-east-1, about
    // the spoke's quota in eu-west-1 (AWS Health user guide, "AWS Health event schema").
    let mut event = common::fixture("health-quota-threshold.json");
    event["account"] = serde_json::json!(org.hub.id);
    event["region"] = serde_json::json!(REGION);
    event["detail"]["affectedAccount"] = serde_json::json!(org.spoke);
    event["detail"]["eventRegion"] = serde_json::json!("eu-west-1");
    let notices = selfheal::alarm::parse_alarm_event(&event).unwrap();
    let lambda = notices
        .iter()
        .find(|n| n.alarm_name.contains("Concurrent executions"))
        .unwrap();
    let outcome = org
        .healer()
        .handle(lambda, "r-health", 1_800_000_000)
        .await
        .unwrap();
    assert_eq!(outcome.decision, Decision::Raise, "{:#?}", outcome.steps);
    let filed = outcome.request.unwrap().id;
    assert_eq!(requests_in(&org.spoke, "eu-west-1").await, [filed]);
    assert!(requests_in(&org.spoke, REGION).await.is_empty());
    assert!(requests_in(&org.hub.id, REGION).await.is_empty());
    assert!(requests_in(&org.hub.id, "eu-west-1").await.is_empty());
}

#[tokio::test]
async fn a_team_topic_of_another_region_receives_its_pages_and_one_that_refuses_leaves_them_with_the_hub(
) {
    let hub = Account::new().await;
    // The team's topic lives in eu-west-1; the hub runs in us-east-1.
    let eu = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&hub.sdk)
            .region(aws_sdk_sns::config::Region::new("eu-west-1"))
            .build(),
    );
    let team_topic = eu
        .create_topic()
        .name("team-pages")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    eu.subscribe()
        .topic_arn(&team_topic)
        .protocol("email")
        .endpoint("team-oncall@example.com")
        .send()
        .await
        .unwrap();
    let gone = team_topic.replace("team-pages", "team-pages-deleted");
    for (topic, delivered_to_team) in [(&team_topic, true), (&gone, false)] {
        // A team account of its own each time: its page is a cause of its own (no cooldown shared).
        let team = common::unique_account_id();
        let accounts = format!(
            "[hub]\nspoke_role = \"selfheal-spoke\"\n[[account]]\nid = \"{team}\"\nowner = \"team-a\"\ntopic_arn = \"{topic}\"\n"
        );
        let healer = hub.healer_with_rule_files(&[
            ("quotas.toml", include_str!("../../rules/quotas.toml")),
            ("accounts.toml", &accounts),
        ]);
        // The team's account has no spoke role: an escalation, routed to the team's topic.
        let mut alarm = hub.notice("alarm-action-lambda-concurrency.json");
        alarm.account_id = Some(team.clone());
        let outcome = healer.handle(&alarm, "r1", 1_800_000_000).await.unwrap();
        assert_eq!(outcome.reason, "spoke-role-unavailable");
        assert!(outcome.notification.unwrap().sent, "{:#?}", outcome.steps);
        let to_team = deliveries_to(&team_topic).await;
        let to_hub = deliveries_to(&hub.topic_arn).await;
        if delivered_to_team {
            assert_eq!((to_team.len(), to_hub.len()), (1, 0), "{to_team:#?}");
        } else {
            // The deleted topic refused it: the hub's topic has it, naming the topic and why.
            assert_eq!(to_hub.len(), 1, "{to_hub:#?}");
            let email = to_hub[0]["message"].as_str().unwrap();
            assert!(
                email.contains(&format!("meant for the team topic {gone}")),
                "{email}"
            );
            assert!(email.contains("NotFound"), "{email}");
        }
    }
}

//! The sandbox as the integration tests see it: one fresh AWS account per test, over real HTTP.
#![allow(dead_code)]

pub mod fakes;
pub mod proxy;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use selfheal::aws::dynamodb::DynamoLedger;
use selfheal::aws::service_quotas::ServiceQuotas;
use selfheal::aws::sns::SnsTopic;
use selfheal::quota::{QuotaHealer, Settings};
use selfheal::rules::RuleSet;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub const REGION: &str = "us-east-1";

/// The sandbox's address: `SELFHEAL_SANDBOX_URL`, else the port `scripts/sandbox` uses.
pub fn endpoint() -> String {
    std::env::var("SELFHEAL_SANDBOX_URL").unwrap_or_else(|_| {
        let port = std::env::var("SELFHEAL_SANDBOX_PORT").unwrap_or_else(|_| "5050".into());
        format!("http://127.0.0.1:{port}")
    })
}

/// A new account in the sandbox with its own topic (an SMS and an email subscriber) and ledger table.
pub struct Account {
    pub id: String,
    pub sdk: SdkConfig,
    pub topic_arn: String,
    pub table: String,
    pub quotas: aws_sdk_servicequotas::Client,
    pub sns: aws_sdk_sns::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

pub const PHONE: &str = "+15555550100";
pub const EMAIL: &str = "oncall@example.com";

/// 12 random digits (not starting with 0): a fresh account of the sandbox, which two tests, or two
/// runs against one sandbox, never share.
pub fn unique_account_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS's randomness per process; the counter and the clock make
    // each call within a process differ.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("{}", 100_000_000_000 + hasher.finish() % 900_000_000_000)
}

/// A 12-digit access key id: the sandbox serves it as an account of its own.
pub async fn sdk_config(account_id: &str) -> SdkConfig {
    sdk_config_at(&endpoint(), account_id).await
}

/// The functions' own SDK configuration (`selfheal::aws::load_config`: its HTTPS client, retries and
/// timeouts), pointed at `url` as `account_id`.
pub async fn sdk_config_at(url: &str, account_id: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(selfheal::aws::https_client())
        .retry_config(selfheal::aws::retry_config())
        .timeout_config(selfheal::aws::timeout_config())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            account_id, "test", None, None, "sandbox",
        ))
        .load()
        .await
}

impl Account {
    pub async fn new() -> Account {
        let id = unique_account_id();
        let sdk = sdk_config(&id).await;
        let quotas = aws_sdk_servicequotas::Client::new(&sdk);
        let sns = aws_sdk_sns::Client::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let topic_arn = sns
            .create_topic()
            .name("selfheal-escalations")
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the sandbox does not answer at {} ({}): start it with `scripts/sandbox start`",
                    endpoint(),
                    aws_smithy_types::error::display::DisplayErrorContext(e)
                )
            })
            .topic_arn
            .unwrap();
        for (protocol, endpoint) in [("sms", PHONE), ("email", EMAIL)] {
            sns.subscribe()
                .topic_arn(&topic_arn)
                .protocol(protocol)
                .endpoint(endpoint)
                .send()
                .await
                .unwrap();
        }
        let table = "selfheal-ledger".to_owned();
        create_ledger_table(&dynamodb, &table).await;
        Account {
            id,
            sdk,
            topic_arn,
            table,
            quotas,
            sns,
            dynamodb,
        }
    }

    /// A fixture's alarm, as raised in this account (the fixtures name 123456789012).
    pub fn notice(&self, name: &str) -> selfheal::alarm::AlarmNotice {
        let mut notice = notice(name);
        notice.account_id = Some(self.id.clone());
        notice
    }

    pub fn settings(&self, dry_run: bool) -> Settings {
        Settings {
            runbook_base_url: "https://runbooks.example.com/selfheal".into(),
            topic_display_name: String::new(),
            dry_run,
            home_account_id: Some(self.id.clone()),
            home_region: REGION.into(),
            escalation_memory_secs: 3600,
            audit_retention_secs: 3600,
        }
    }

    /// The quota function's core wired to this account, with the shipped rules.
    pub fn healer(&self, dry_run: bool) -> QuotaHealer<ServiceQuotas, SnsTopic, DynamoLedger> {
        self.healer_through(&self.sdk, dry_run)
    }

    /// The same, with clients built from `sdk` (a fault-injecting proxy, say).
    pub fn healer_through(
        &self,
        sdk: &SdkConfig,
        dry_run: bool,
    ) -> QuotaHealer<ServiceQuotas, SnsTopic, DynamoLedger> {
        QuotaHealer::new(
            ServiceQuotas::new(aws_sdk_servicequotas::Client::new(sdk)),
            SnsTopic::new(aws_sdk_sns::Client::new(sdk), self.topic_arn.clone()),
            DynamoLedger::new(aws_sdk_dynamodb::Client::new(sdk), self.table.clone()),
            RuleSet::embedded().expect("shipped rules are valid"),
            self.settings(dry_run),
        )
    }

    /// The quota function's core with the rules of `quotas_toml` (and the shipped defaults).
    pub fn healer_with_rules(
        &self,
        quotas_toml: &str,
    ) -> QuotaHealer<ServiceQuotas, SnsTopic, DynamoLedger> {
        let defaults = include_str!("../../../rules/defaults.toml");
        let rules = RuleSet::from_sources(
            &[("defaults.toml", defaults), ("quotas.toml", quotas_toml)],
            RuleSet::embedded_runbooks(),
        )
        .expect("the test's rules are valid");
        QuotaHealer::new(
            ServiceQuotas::new(aws_sdk_servicequotas::Client::new(&self.sdk)),
            SnsTopic::new(aws_sdk_sns::Client::new(&self.sdk), self.topic_arn.clone()),
            DynamoLedger::new(aws_sdk_dynamodb::Client::new(&self.sdk), self.table.clone()),
            rules,
            self.settings(false),
        )
    }

    /// How Service Quotas behaves for this account (the sandbox's `set-account`).
    pub async fn set_service_quotas(&self, behaviour: Value) {
        let mut body = behaviour;
        body["AccountId"] = Value::from(self.id.clone());
        body["Region"] = Value::from(REGION);
        let answer = http(
            &format!("{}/moto-api/selfheal/servicequotas/set-account", endpoint()),
            "POST",
            Some(body),
        )
        .await;
        assert!(answer.contains("\"Account\""), "set-account: {answer}");
    }

    /// Plays AWS's reviewer with a closed support case; `raised` applies the requested value.
    pub async fn close_case(&self, request_id: &str, raised: bool) {
        let body =
            serde_json::json!({"RequestId": request_id, "Status": "CASE_CLOSED", "Raised": raised});
        http(
            &format!("{}/moto-api/selfheal/servicequotas/decide", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }

    /// What the topic's subscribers received, from the sandbox's record.
    pub async fn deliveries(&self) -> Vec<Value> {
        let url = format!("{}/moto-api/selfheal/sns/deliveries", endpoint());
        let body: Value = serde_json::from_str(&http(&url, "GET", None).await).unwrap();
        body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["topic_arn"] == self.topic_arn.as_str())
            .cloned()
            .collect()
    }

    pub async fn requests(
        &self,
        service: &str,
        quota: &str,
    ) -> Vec<aws_sdk_servicequotas::types::RequestedServiceQuotaChange> {
        self.quotas
            .list_requested_service_quota_change_history_by_quota()
            .service_code(service)
            .quota_code(quota)
            .send()
            .await
            .unwrap()
            .requested_quotas
            .unwrap_or_default()
    }

    /// Sets a quota's applied value, as an earlier approved increase would have.
    pub async fn set_quota_value(&self, service: &str, quota: &str, value: f64) {
        let body = serde_json::json!({
            "AccountId": self.id, "Region": REGION, "ServiceCode": service, "QuotaCode": quota, "Value": value
        });
        http(
            &format!("{}/moto-api/selfheal/servicequotas/set-value", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }

    /// Plays AWS's reviewer: sets a request's status.
    pub async fn decide_request(&self, request_id: &str, status: &str) {
        let body = serde_json::json!({"RequestId": request_id, "Status": status});
        http(
            &format!("{}/moto-api/selfheal/servicequotas/decide", endpoint()),
            "POST",
            Some(body),
        )
        .await;
    }
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

pub fn notice(name: &str) -> selfheal::alarm::AlarmNotice {
    selfheal::alarm::parse_alarm_event(&fixture(name))
        .unwrap()
        .remove(0)
}

/// A plain HTTP/1.1 request to the sandbox's control routes (no client crate needed for these).
pub async fn http(url: &str, method: &str, body: Option<Value>) -> String {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    raw_http(url, method, &body, &[("Content-Type", "application/json")]).await
}

/// Creates an IAM role in `account_id` (moto's Lambda wants one) with a Query request; the sandbox
/// reads the service and the account from the credential scope and does not check signatures.
pub async fn create_role(account_id: &str, name: &str) -> String {
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument=%7B%7D"
    );
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={account_id}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
    );
    raw_http(
        &format!("{}/", endpoint()),
        "POST",
        &body,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &auth),
        ],
    )
    .await;
    format!("arn:aws:iam::{account_id}:role/{name}")
}

/// Creates a Lambda function (moto without Docker never runs its code); `alias` publishes version 1
/// and points the alias at it. Returns the function's ARN.
pub async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    account_id: &str,
    name: &str,
    alias: Option<&str>,
) -> String {
    let role = create_role(account_id, &format!("{name}-role")).await;
    let mut zip = Vec::new();
    // An empty zip archive.
    zip.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06]);
    zip.extend_from_slice(&[0; 18]);
    let created = lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python311)
        .role(role)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap();
    if let Some(alias) = alias {
        let version = lambda
            .publish_version()
            .function_name(name)
            .send()
            .await
            .unwrap();
        lambda
            .create_alias()
            .function_name(name)
            .name(alias)
            .function_version(version.version().unwrap())
            .send()
            .await
            .unwrap();
    }
    created.function_arn().unwrap().to_owned()
}

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

/// What the sandbox's Lambda received for `function` in `account_id`, oldest first.
pub async fn invocations(account_id: &str, function: &str) -> Vec<Value> {
    let url = format!("{}/moto-api/selfheal/lambda/invocations", endpoint());
    let body: Value = serde_json::from_str(&http(&url, "GET", None).await).unwrap();
    body["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["account_id"] == account_id && i["function_name"] == function)
        .cloned()
        .collect()
}

async fn raw_http(url: &str, method: &str, body: &str, headers: &[(&str, &str)]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .expect("sandbox reachable");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{method} {url}: {head}\n{body}"
    );
    body.to_owned()
}

/// The ledger table as `template.yaml` declares it: string `pk` and `sk`.
pub async fn create_ledger_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
}

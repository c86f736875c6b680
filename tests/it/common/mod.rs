//! The sandbox as the integration tests see it: one fresh AWS account per test, over real HTTP.

pub mod fakes;
pub mod lambda;
pub mod proxy;
pub mod quota;
pub mod sqs;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
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
            dynamodb,
        }
    }
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// A fixture's alarm as a new state change of it, at the time of the call: each call is the alarm firing
/// again, as in the tests that fire one alarm several times. A test of duplicate deliveries clones one
/// notice, or parses the event itself.
pub fn notice(name: &str) -> selfheal::alarm::AlarmNotice {
    static FIRINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut notice = selfheal::alarm::parse_alarm_event(&fixture(name))
        .unwrap()
        .remove(0);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let firing = FIRINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(transition) = &mut notice.transition {
        transition.id = format!("{}#firing-{firing}", transition.id);
        transition.at_ms = Some(now_ms);
    }
    notice
}

/// A plain HTTP/1.1 request to the sandbox's control routes (no client crate needed for these).
pub async fn http(url: &str, method: &str, body: Option<Value>) -> String {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    raw_http(url, method, &body, &[("Content-Type", "application/json")]).await
}

pub(super) async fn raw_http(
    url: &str,
    method: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> String {
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

//! A fault-injecting HTTP proxy between the SDK clients and the sandbox: throttling and 5xx answers in
//! each protocol's own shape, slow answers, connections dropped before the request reaches AWS, and
//! responses lost after AWS acted. No fault-injection proxy installs from the registries this machine
//! reaches as a library the tests can drive per request, so this one is small and lives here.

use aws_config::SdkConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error (`ThrottlingException`, `Throttling`, Lambda's 429).
    Throttle,
    /// 503 Service Unavailable.
    ServerError,
    /// The connection closes before the request is forwarded: AWS never sees it.
    Drop,
    /// The request is forwarded after this delay.
    Slow(Duration),
    /// The request is forwarded and AWS acts on it, but the response never comes back.
    LoseResponse,
}

/// Which requests a fault hits: those whose label (`METHOD path target action`) contains `matches`,
/// the first `times` of them.
#[derive(Clone, Debug)]
pub struct Rule {
    pub matches: &'static str,
    pub fault: Fault,
    pub times: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<(Rule, usize)>,
    injected: Vec<(String, Fault)>,
    requests: Vec<String>,
}

pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, &state).await;
                });
            }
        });
        FaultProxy { url, state, task }
    }

    pub fn inject(&self, matches: &'static str, fault: Fault, times: usize) {
        self.state.lock().unwrap().rules.push((
            Rule {
                matches,
                fault,
                times,
            },
            0,
        ));
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// The faults injected so far, with the label of the request each hit.
    pub fn injected(&self) -> Vec<(String, Fault)> {
        self.state.lock().unwrap().injected.clone()
    }

    /// Requests seen whose label contains `matches`.
    pub fn requests(&self, matches: &str) -> usize {
        let state = self.state.lock().unwrap();
        state
            .requests
            .iter()
            .filter(|r| r.contains(matches))
            .count()
    }

    /// The SDK configuration the functions use (`selfheal::aws` retries and timeouts), through the proxy.
    pub async fn sdk_config(&self, account_id: &str) -> SdkConfig {
        super::sdk_config_at(&self.url, account_id).await
    }
}

/// One request per connection: read it, maybe fault, forward, answer, close.
async fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let (head, body) = read_request(&mut client).await?;
    let label = label(&head, &body);
    let fault = {
        let mut state = state.lock().unwrap();
        state.requests.push(label.clone());
        let hit = state
            .rules
            .iter_mut()
            .find(|(rule, used)| label.contains(rule.matches) && *used < rule.times);
        let fault = hit.map(|(rule, used)| {
            *used += 1;
            rule.fault
        });
        if let Some(fault) = fault {
            state.injected.push((label.clone(), fault));
        }
        fault
    };
    let json_protocol = head.to_ascii_lowercase().contains("x-amz-target:");
    let rest = head.starts_with("GET /20") || head.contains(" /20");
    match fault {
        Some(Fault::Throttle) => {
            let answer = if json_protocol {
                error_response(
                    400,
                    "application/x-amz-json-1.1",
                    "ThrottlingException",
                    r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
                )
            } else if rest {
                error_response(
                    429,
                    "application/json",
                    "TooManyRequestsException",
                    r#"{"Type":"User","message":"Rate exceeded"}"#,
                )
            } else {
                error_response(400, "text/xml", "Throttling", "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
            };
            return client.write_all(answer.as_bytes()).await;
        }
        Some(Fault::ServerError) => {
            let answer = if json_protocol || rest {
                error_response(
                    503,
                    "application/json",
                    "ServiceUnavailableException",
                    r#"{"__type":"ServiceUnavailableException","message":"Service unavailable"}"#,
                )
            } else {
                error_response(503, "text/xml", "ServiceUnavailable", "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>Service unavailable</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
            };
            return client.write_all(answer.as_bytes()).await;
        }
        Some(Fault::Drop) => return client.shutdown().await,
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::LoseResponse) | None => {}
    }
    let response = forward(upstream, &head, &body).await?;
    if fault == Some(Fault::LoseResponse) {
        return client.shutdown().await;
    }
    client.write_all(&response).await?;
    client.shutdown().await
}

fn error_response(status: u16, content_type: &str, code: &str, body: &str) -> String {
    let reason = match status {
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: fault\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

async fn read_request(client: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let n = client.read(&mut buffer).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buffer[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let mut body = data[end + 4..].to_vec();
            while body.len() < length {
                let n = client.read(&mut buffer).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buffer[..n]);
            }
            return Ok((head, body));
        }
    }
}

/// `METHOD path target action`: what a rule matches.
fn label(head: &str, body: &[u8]) -> String {
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let target = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-amz-target")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let action = String::from_utf8_lossy(body)
        .split('&')
        .find_map(|p| p.strip_prefix("Action=").map(str::to_owned))
        .unwrap_or_default();
    format!("{method} {path} {target} {action}")
}

async fn forward(upstream: &str, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(closing(head).as_bytes()).await?;
    server.write_all(body).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    // One response per connection: say so, so that the client does not reuse it.
    if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&response[..end]).into_owned();
        let mut out = closing(&head).into_bytes();
        out.extend_from_slice(&response[end + 4..]);
        return Ok(out);
    }
    Ok(response)
}

/// `head` with its `Connection` header replaced by `Connection: close`, and the blank line after it.
fn closing(head: &str) -> String {
    let mut rewritten = String::new();
    for line in head.lines() {
        let connection = line
            .split_once(':')
            .is_some_and(|(name, _)| name.eq_ignore_ascii_case("connection"));
        if !connection {
            rewritten.push_str(line);
            rewritten.push_str("\r\n");
        }
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    rewritten
}

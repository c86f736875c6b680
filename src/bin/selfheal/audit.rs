//! `selfheal audit`: what selfheal decided, planned, synced and replayed, newest first, read from the
//! audit trail by time, kind and account (one DynamoDB `Query` per kind and day, never a scan).

use crate::{print, Failure, Format};
use clap::{Args, ValueEnum};
use selfheal::aws::dynamodb::DynamoLedger;
use selfheal::ledger::{AuditKind, AuditLog, AuditQuery, AuditRecord};
use std::fmt::Write as _;

#[derive(Args)]
pub struct AuditOptions {
    /// How far back: minutes, hours or days (`90m`, `24h`, `7d`).
    #[arg(long, value_name = "AGE", default_value = "24h", value_parser = parse_age)]
    since: u64,
    /// Only this account's records.
    #[arg(long, value_name = "ACCOUNT_ID", value_parser = parse_account)]
    account: Option<String>,
    /// Only records of this kind; repeat for several (default: every kind).
    #[arg(long, value_enum)]
    kind: Vec<Kind>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    output: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// Quota decisions (alarms, notices, the sweep), dry runs included.
    Quota,
    /// DLQ replays, dry runs included.
    Replay,
    /// Pre-warm syncs.
    Prewarm,
}

impl From<Kind> for AuditKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Quota => AuditKind::Quota,
            Kind::Replay => AuditKind::Replay,
            Kind::Prewarm => AuditKind::Prewarm,
        }
    }
}

fn parse_age(text: &str) -> Result<u64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let scale = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?}: give minutes, hours or days, such as 90m, 24h or 7d"
            ))
        }
    };
    match number.parse::<u64>() {
        // The audit records are kept 90 days at most (their TTL).
        Ok(n) if n > 0 && n * scale <= 90 * 86_400 => Ok(n * scale),
        _ => Err(format!("{text:?}: a whole number above 0, at most 90 days")),
    }
}

fn parse_account(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a 12-digit account id"))
    }
}

pub async fn audit(options: &AuditOptions) -> Result<(), Failure> {
    let table = std::env::var(selfheal::settings::TABLE_NAME)
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Failure::Input(format!(
                "selfheal: set {} to the stack's ledger table (output LedgerTableName)",
                selfheal::settings::TABLE_NAME
            ))
        })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let kinds: Vec<AuditKind> = if options.kind.is_empty() {
        AuditKind::ALL.to_vec()
    } else {
        options.kind.iter().map(|k| AuditKind::from(*k)).collect()
    };
    let query = AuditQuery {
        since: now.saturating_sub(options.since),
        until: now,
        kinds,
        account: options.account.clone(),
    };
    let sdk = selfheal::aws::load_config().await;
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let records = ledger
        .query(&query)
        .await
        .map_err(|e| Failure::Failed(format!("selfheal: cannot read the audit trail: {e}")))?;
    print(options.output, &records, |records| text(records));
    Ok(())
}

/// One line per record, newest first.
fn text(records: &[AuditRecord]) -> String {
    let mut text = format!("{} audit records, newest first\n", records.len());
    for r in records {
        let when = chrono::DateTime::from_timestamp(r.at as i64, 0).map_or_else(
            || r.at.to_string(),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        let _ = writeln!(
            text,
            "{when} {:<7} {} {} ({}){} {}",
            r.kind.name(),
            r.account,
            r.decision,
            r.reason,
            if r.dry_run { " dry run" } else { "" },
            r.subject
        );
    }
    text
}

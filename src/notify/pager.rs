//! The one way a page goes out: its cooldown claimed (one page per cause within it), then published
//! on its route; the cooldown released when publishing fails, so that Lambda's retry pages.

use super::notifier::{Notifier, NotifyError};
use super::page::Page;
use super::render::{render, Notification};
use super::rendering::Rendering;
use super::route::Route;
use crate::ledger::Cooldowns;
use tracing::{error, warn};

/// A cooldown to claim before paging: from `now` until `until` (seconds since the epoch).
#[derive(Clone, Copy, Debug)]
pub struct Cooldown {
    pub now: u64,
    pub until: u64,
}

/// What became of a page.
#[derive(Clone, Debug, PartialEq)]
pub enum Paged {
    /// Published: SNS's message id.
    Sent {
        message_id: String,
        notification: Notification,
    },
    /// The same cause was paged within its cooldown: nothing sent.
    Suppressed { notification: Notification },
}

/// Renders and publishes, without a cooldown (news, a resolution, a replay's failures: each is told
/// once by its own caller's bookkeeping). SNS's message id, and what was sent.
pub async fn send<N: Notifier>(
    notifier: &N,
    page: &Page,
    rendering: &Rendering<'_>,
    route: &Route,
) -> Result<(String, Notification), NotifyError> {
    let notification = render(page, rendering);
    let message_id = notifier.publish(&notification, route).await?;
    Ok((message_id, notification))
}

/// Renders, claims the cooldown, publishes. A cooldown ledger that cannot be reached does not stop
/// the page (a second page is better than none: said in `steps`).
pub async fn page<N: Notifier, C: Cooldowns>(
    notifier: &N,
    cooldowns: &C,
    page: &Page,
    rendering: &Rendering<'_>,
    route: &Route,
    cooldown: Cooldown,
    steps: &mut Vec<String>,
) -> Result<Paged, NotifyError> {
    let notification = render(page, rendering);
    let claimed = match cooldowns
        .claim_cooldown(&notification.dedup_key, cooldown.now, cooldown.until)
        .await
    {
        Ok(true) => true,
        Ok(false) => return Ok(Paged::Suppressed { notification }),
        Err(e) => {
            error!(error = %e, dedup_key = %notification.dedup_key, "cooldown ledger unavailable; paging anyway");
            steps.push(format!("cooldown ledger unavailable ({e}); paging anyway"));
            false
        }
    };
    match notifier.publish(&notification, route).await {
        Ok(message_id) => Ok(Paged::Sent {
            message_id,
            notification,
        }),
        Err(e) => {
            if claimed {
                if let Err(release) = cooldowns.release_cooldown(&notification.dedup_key).await {
                    warn!(error = %release, "could not release the cooldown of an unsent page");
                }
            }
            Err(e)
        }
    }
}

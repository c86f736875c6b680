//! The page's way out: one capability, implemented over SNS in `crate::aws::sns`.

use super::render::Notification;
use super::route::Route;
use std::future::Future;

/// The SNS `Publish` selfheal makes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SNS Publish failed: {0}")]
pub struct NotifyError(pub String);

pub trait Notifier: Send + Sync {
    /// Publishes with `MessageStructure=json` to the route's topic (else the notifier's own), with
    /// the route's message attributes; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
        route: &Route,
    ) -> impl Future<Output = Result<String, NotifyError>> + Send;
}

//! Running futures side by side on the current task, without spawning.

use std::future::Future;

/// Runs the futures concurrently on this task and returns their results in order.
pub(crate) async fn join_all<T, Fut: Future<Output = T>>(
    futures: impl IntoIterator<Item = Fut>,
) -> Vec<T> {
    let futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let mut pending: Vec<(usize, std::pin::Pin<Box<Fut>>)> =
        futures.into_iter().enumerate().collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(i, f)| match f.as_mut().poll(cx) {
            std::task::Poll::Ready(v) => {
                results[*i] = Some(v);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future finished"))
        .collect()
}

/// Runs `f` over `items`, at most `limit` at a time, and returns the results in order.
pub(crate) async fn map_limited<I, T, Fut>(
    items: impl IntoIterator<Item = I>,
    limit: usize,
    f: impl Fn(I) -> Fut,
) -> Vec<T>
where
    Fut: Future<Output = T>,
{
    let mut results = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<Fut> = items.by_ref().take(limit.max(1)).map(&f).collect();
        results.extend(join_all(batch).await);
    }
    results
}

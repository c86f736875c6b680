//! Service Quotas' request budget: "20 active quota increase requests per account, 2 per Region, 1 per
//! quota", none adjustable (Service Quotas user guide, "Service quotas for Service Quotas"). An
//! organization that files past it gets `QuotaExceededException`, so a raise the budget has no room
//! for waits in the ledger, most urgent first, until the follow-up finds a request closed. What counts
//! as *active* is not spelled out there; selfheal counts the statuses AWS is still working on,
//! `PENDING` and `CASE_OPENED` (`RequestStatus::is_open`). Pure: the reads are the callers'.

use super::api::ChangeRequest;
use crate::ledger::{FiledRequest, WaitingRaise};
use serde::Serialize;
use std::cmp::Ordering;

/// Active increase requests per account (Service Quotas user guide, "Service quotas for Service Quotas").
pub const ACCOUNT_LIMIT: usize = 20;
/// Active increase requests per Region of an account (same page).
pub const REGION_LIMIT: usize = 2;

/// Active increase requests of one account: in all its Regions, and in the Region a raise is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpenRequests {
    pub account: usize,
    pub region: usize,
}

impl OpenRequests {
    /// Counted from what Service Quotas reports as open in the Region (every requester's, when it
    /// could be read) and from what selfheal filed and keeps in its ledger for the account's other
    /// Regions (Service Quotas answers for one Region per call). Selfheal's own filings in the Region
    /// are counted when AWS's answer could not be read.
    pub fn count(
        filed: &[FiledRequest],
        account_id: &str,
        region: &str,
        reported_in_region: Option<&[ChangeRequest]>,
    ) -> OpenRequests {
        let ours = |in_region: bool| {
            filed
                .iter()
                .filter(|f| f.account_id == account_id && (f.region == region) == in_region)
                .count()
        };
        let region_open = match reported_in_region {
            Some(requests) => requests.iter().filter(|r| r.status.is_open()).count(),
            None => ours(true),
        };
        OpenRequests {
            account: ours(false) + region_open,
            region: region_open,
        }
    }

    /// One more request filed.
    pub fn with_one_more(self) -> OpenRequests {
        OpenRequests {
            account: self.account + 1,
            region: self.region + 1,
        }
    }
}

/// The budget has no room: which limit, and the counts that reached it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetFull {
    pub open: OpenRequests,
    /// `Region` or `account`.
    pub limit: &'static str,
}

impl BudgetFull {
    pub fn sentence(&self, region: &str) -> String {
        format!(
            "Service Quotas allows {REGION_LIMIT} active increase requests per Region and {ACCOUNT_LIMIT} per account; {region} has {} open and the account {}, so the {} limit is reached.",
            self.open.region, self.open.account, self.limit
        )
    }
}

/// Whether one more request fits.
pub fn room(open: OpenRequests) -> Result<(), BudgetFull> {
    if open.region >= REGION_LIMIT {
        return Err(BudgetFull {
            open,
            limit: "Region",
        });
    }
    if open.account >= ACCOUNT_LIMIT {
        return Err(BudgetFull {
            open,
            limit: "account",
        });
    }
    Ok(())
}

/// Most urgent first: the highest utilization, then the fewest days left where a forecast knows,
/// then the longest waiting; unknown values after known ones.
pub fn by_urgency(raises: &mut [WaitingRaise]) {
    fn known_first(a: Option<f64>, b: Option<f64>, higher_first: bool) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) if higher_first => b.total_cmp(&a),
            (Some(a), Some(b)) => a.total_cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    raises.sort_by(|a, b| {
        known_first(a.utilization, b.utilization, true)
            .then_with(|| known_first(a.days_left, b.days_left, false))
            .then_with(|| a.queued_at.cmp(&b.queued_at))
    });
}

/// One line per waiting raise, most urgent first, for the page.
pub fn waiting_lines(raises: &[WaitingRaise]) -> Vec<String> {
    raises
        .iter()
        .map(|r| {
            let utilization = r
                .utilization
                .map(|u| format!(", at {} %", crate::text::number(u)))
                .unwrap_or_default();
            format!(
                "{}/{} ({}) to {}{utilization}",
                r.service_code,
                r.quota_code,
                r.quota_name,
                crate::text::number(r.desired_value)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::api::RequestStatus;

    fn filed(account: &str, region: &str) -> FiledRequest {
        FiledRequest {
            request_id: format!("{account}-{region}"),
            account_id: account.into(),
            region: region.into(),
            alarm_name: "a".into(),
            service_code: "ec2".into(),
            quota_code: "L-1".into(),
            quota_name: "q".into(),
            from_value: 1.0,
            desired_value: 2.0,
            filed_at: 0,
            told: None,
        }
    }

    fn request(status: RequestStatus) -> ChangeRequest {
        ChangeRequest {
            id: "r".into(),
            status,
            desired_value: None,
            created: None,
            last_updated_ms: None,
            case_id: None,
        }
    }

    fn waiting(
        code: &str,
        utilization: Option<f64>,
        days_left: Option<f64>,
        at: u64,
    ) -> WaitingRaise {
        WaitingRaise {
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            alarm_name: "a".into(),
            service_code: "ec2".into(),
            quota_code: code.into(),
            quota_name: code.into(),
            from_value: 10.0,
            desired_value: 20.0,
            support_case_allowed: true,
            utilization,
            days_left,
            queued_at: at,
        }
    }

    #[test]
    fn the_region_counts_what_aws_reports_and_the_account_adds_its_other_regions() {
        let ledger = [
            filed("1", "eu-west-1"),
            filed("1", "us-east-1"),
            filed("1", "us-east-2"),
            filed("2", "eu-west-1"),
        ];
        // AWS reports one of ours and one a person filed, and one approved already.
        let reported = [
            request(RequestStatus::Pending),
            request(RequestStatus::CaseOpened),
            request(RequestStatus::Approved),
        ];
        let open = OpenRequests::count(&ledger, "1", "eu-west-1", Some(&reported));
        assert_eq!(
            open,
            OpenRequests {
                account: 4,
                region: 2
            }
        );
        assert_eq!(room(open).unwrap_err().limit, "Region");
        // AWS's answer unreadable: the ledger's own filings in the Region stand in.
        let open = OpenRequests::count(&ledger, "1", "eu-west-1", None);
        assert_eq!(
            open,
            OpenRequests {
                account: 3,
                region: 1
            }
        );
        assert_eq!(room(open), Ok(()));
    }

    #[test]
    fn the_account_limit_holds_across_regions() {
        let open = OpenRequests {
            account: ACCOUNT_LIMIT,
            region: 0,
        };
        assert_eq!(room(open).unwrap_err().limit, "account");
        assert_eq!(
            room(OpenRequests {
                account: 19,
                region: 1
            }),
            Ok(()),
            "one slot left in both"
        );
        assert!(room(
            OpenRequests {
                account: 19,
                region: 1
            }
            .with_one_more()
        )
        .is_err());
    }

    #[test]
    fn the_most_urgent_raise_comes_first() {
        let mut raises = vec![
            waiting("unknown-old", None, None, 1),
            waiting("eighty", Some(80.0), None, 2),
            waiting("ninety-five-slow", Some(95.0), Some(30.0), 3),
            waiting("ninety-five-soon", Some(95.0), Some(2.0), 4),
            waiting("unknown-new", None, None, 5),
        ];
        by_urgency(&mut raises);
        let order: Vec<&str> = raises.iter().map(|r| r.quota_code.as_str()).collect();
        assert_eq!(
            order,
            [
                "ninety-five-soon",
                "ninety-five-slow",
                "eighty",
                "unknown-old",
                "unknown-new"
            ]
        );
        assert_eq!(
            waiting_lines(&raises[..1]),
            ["ec2/ninety-five-soon (ninety-five-soon) to 20, at 95 %"]
        );
    }
}

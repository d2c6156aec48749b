//! How a subscriber has been delivering, read from the attempt history: counts per event and
//! outcome in a time window, and the latest attempt of each outcome (Bitbucket Data Center's
//! webhook statistics and "latest invocation").

use super::{on_pool, Store, StoreResult, SubscriberKind};

/// What became of one attempt, Data Center's way: a 2xx answer, another answer, or none at all
/// (connection refused, timeout, a payload too large to send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Success,
    Failure,
    Error,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 3] = [Self::Success, Self::Failure, Self::Error];

    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(s))
    }

    /// The same classification in SQL, over `webhook_attempts a`.
    fn condition(self) -> &'static str {
        match self {
            Self::Success => "a.response_status BETWEEN 200 AND 299",
            Self::Failure => {
                "(a.response_status IS NOT NULL AND a.response_status NOT BETWEEN 200 AND 299)"
            }
            Self::Error => "a.response_status IS NULL",
        }
    }
}

const OUTCOME_SQL: &str = "CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 'SUCCESS' \
     WHEN a.response_status IS NOT NULL THEN 'FAILURE' ELSE 'ERROR' END";

/// One attempt as the statistics show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invocation {
    pub id: i64,
    pub delivery_id: i64,
    pub event_key: String,
    pub repo_id: Option<i64>,
    pub project_id: Option<i64>,
    pub started_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub error: Option<String>,
    pub outcome: String,
}

/// Attempts per event key and outcome since a time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutcomeCount {
    pub event_key: String,
    pub outcome: String,
    pub count: i64,
}

impl Store {
    /// Attempts to the subscriber since `since`, counted per event key and outcome.
    pub async fn attempt_counts(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        since: i64,
    ) -> StoreResult<Vec<OutcomeCount>> {
        on_pool!(self, |p| {
            let rows: Vec<OutcomeCount> = sqlx::query_as(&format!(
                "SELECT e.event_key, {OUTCOME_SQL} AS outcome, COUNT(*) AS count
                 FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id
                 JOIN events e ON e.id = d.event_id
                 WHERE d.subscriber_kind = $1 AND d.subscriber_id = $2 AND a.started_at >= $3
                 GROUP BY e.event_key, {OUTCOME_SQL} ORDER BY e.event_key"
            ))
            .bind(kind.as_str())
            .bind(subscriber_id)
            .bind(since)
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }

    /// The subscriber's latest attempt, optionally of one event key and one outcome.
    pub async fn latest_attempt(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        event_key: Option<&str>,
        outcome: Option<AttemptOutcome>,
    ) -> StoreResult<Option<Invocation>> {
        let mut sql = format!(
            "SELECT a.id, d.id AS delivery_id, e.event_key, e.repo_id, e.project_id, a.started_at,
             a.duration_ms, a.response_status, a.error, {OUTCOME_SQL} AS outcome
             FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id
             JOIN events e ON e.id = d.event_id
             WHERE d.subscriber_kind = $1 AND d.subscriber_id = $2 AND ($3 IS NULL OR e.event_key = $3)"
        );
        if let Some(o) = outcome {
            sql.push_str(" AND ");
            sql.push_str(o.condition());
        }
        // Attempts are written as they finish: the highest id is the latest.
        sql.push_str(" ORDER BY a.id DESC LIMIT 1");
        on_pool!(self, |p| {
            let row: Option<Invocation> = sqlx::query_as(&sql)
                .bind(kind.as_str())
                .bind(subscriber_id)
                .bind(event_key)
                .fetch_optional(p)
                .await?;
            Ok(row)
        })
    }
}

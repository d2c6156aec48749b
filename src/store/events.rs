//! The transactional outbox. A change that causes an event writes it in its own transaction
//! (`write_event!`), so no event exists for a change that rolled back and no change commits
//! without its event. The payload is rendered inside that transaction from the rows as they
//! stand, by a renderer the caller passes in (`Emit`): the store does not know payload shapes.
//!
//! The dispatcher then fans each event out into one delivery per matching subscriber
//! (`fan_out_in_tx!`, run in the transaction that claims deliveries), marking the events
//! dispatched.

use super::StoreResult;
use super::{
    on_writer, Account, BeginWrite, Comment, Participant, PullRequest, Repository, Store,
    SubscriberKind,
};

/// What a change tells the renderer; read inside the change's transaction.
pub struct EventFacts<'a> {
    pub key: &'static str,
    pub actor: &'a Account,
    /// Milliseconds; the time of the change.
    pub at: i64,
    pub repo: &'a Repository,
    /// For `repo:updated`: the repository before the change.
    pub previous_repo: Option<&'a Repository>,
    pub pull_request: Option<&'a PullRequestFacts>,
    pub comment: Option<&'a Comment>,
    /// For approvals and change requests: whose review changed.
    pub participant: Option<&'a Participant>,
    /// For `repo:push`: the refs that moved, with their commits.
    pub push: Option<&'a [crate::domain::git::PushedRef]>,
    /// For `repo:commit_status_created` / `_updated`: the status as it is now.
    pub commit_status: Option<&'a super::commit_statuses::CommitStatus>,
}

impl<'a> EventFacts<'a> {
    /// Facts about a repository alone; other fields are filled with struct update syntax.
    pub fn repo(key: &'static str, emit: &Emit<'a>, at: i64, repo: &'a Repository) -> Self {
        Self {
            key,
            actor: emit.actor,
            at,
            repo,
            previous_repo: None,
            pull_request: None,
            comment: None,
            participant: None,
            push: None,
            commit_status: None,
        }
    }
}

pub struct PullRequestFacts {
    pub pr: PullRequest,
    pub participants: Vec<Participant>,
}

/// Turns facts into the JSON payload subscribers receive.
pub trait RenderEvent: Send + Sync {
    fn render(&self, facts: &EventFacts<'_>) -> String;
}

/// Who made a change and how its events are rendered; every write that causes events takes one.
pub struct Emit<'a> {
    pub actor: &'a Account,
    pub render: &'a dyn RenderEvent,
}

/// Writes one event inside the transaction `$tx` of the change that caused it.
macro_rules! write_event {
    ($tx:expr, $emit:expr, $facts:expr) => {{
        let facts: $crate::store::EventFacts<'_> = $facts;
        let payload = $emit.render.render(&facts);
        sqlx::query(
            "INSERT INTO events (uuid, at, event_key, project_id, repo_id, payload)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($crate::store::events::new_event_id())
        .bind(facts.at)
        .bind(facts.key)
        .bind(facts.repo.project_id)
        .bind(facts.repo.id)
        .bind(payload)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use write_event;

/// The Standard Webhooks message id of a new event: `msg_` and 128 random bits in hex.
pub fn new_event_id() -> String {
    format!("msg_{}", crate::secret::new_client_id())
}

/// Reads a repository inside a transaction.
macro_rules! repo_in_tx {
    ($tx:expr, $id:expr) => {{
        let r: $crate::store::Repository =
            sqlx::query_as(&format!("{} WHERE r.id = $1", $crate::store::REPO_SELECT))
                .bind($id)
                .fetch_one(&mut *$tx)
                .await?;
        r
    }};
}
pub(crate) use repo_in_tx;

/// One statement per kind of subscriber, as the text before the id list and the text after
/// its `)`: inserts a delivery for every subscriber of that kind each event matches, `pending`
/// (`waiting` for an ordered subscriber: see `ordered.rs`). The ids are of the events being
/// fanned out (already marked dispatched, at the time the deliveries take as theirs).
pub(crate) const FAN_OUT: &[(&str, &str)] = &[
    (
        "INSERT INTO webhook_deliveries (event_id, subscriber_kind, subscriber_id, state, attempts, next_attempt_at, created_at, ordered)
     SELECT e.id, 'webhook', w.id, CASE WHEN w.ordered THEN 'waiting' ELSE 'pending' END, 0,
            e.dispatched_at, e.dispatched_at, w.ordered
     FROM events e JOIN webhooks w
       ON (w.repo_id = e.repo_id OR (w.repo_id IS NULL AND w.project_id = e.project_id))
      AND (w.events = '*' OR w.events LIKE '%,' || e.event_key || ',%')
     WHERE w.active AND w.disabled_at IS NULL AND e.id IN (",
        "",
    ),
    // Apps: from each event to the accounts holding a grant on its repository (on it, its
    // project, or global admin; a team's grants reach its members), to their enabled
    // installations made before the event (`events_from`), to the modules that receive its
    // key (what their scopes cover). Every step is an index lookup, so the cost follows the
    // deliveries made, not events × modules. These are candidates: `authorize()` has the last
    // word at send time (`app_subscriber.rs`); public readability alone subscribes no app.
    (
        "WITH batch AS (SELECT id, event_key, project_id, repo_id, dispatched_at FROM events WHERE id IN (",
        "), reach AS (
         SELECT b.id AS event_id, g.account_id FROM batch b
           JOIN grants g ON g.scope = 'project' AND g.target_id = b.project_id
         UNION SELECT b.id, g.account_id FROM batch b
           JOIN grants g ON g.scope = 'repo' AND g.target_id = b.repo_id
         UNION SELECT b.id, g.account_id FROM batch b
           JOIN grants g ON g.scope = 'global' AND g.permission IN ('ADMIN', 'SYS_ADMIN')
     ), reached AS (
         SELECT event_id, account_id FROM reach
         UNION SELECT r.event_id, m.user_id FROM reach r
           JOIN team_members m ON m.team_id = r.account_id
           JOIN accounts t ON t.id = m.team_id AND t.active
     )
     INSERT INTO webhook_deliveries (event_id, subscriber_kind, subscriber_id, state, attempts, next_attempt_at, created_at, ordered)
     SELECT b.id, 'app', h.id, 'pending', 0, b.dispatched_at, b.dispatched_at, FALSE
     FROM reached r JOIN batch b ON b.id = r.event_id
     JOIN connect_installations i ON i.account_id = r.account_id AND i.state = 'enabled' AND b.id > i.events_from
     JOIN accounts a ON a.id = i.account_id AND a.active
     JOIN connect_webhooks h ON h.installation_id = i.id AND h.disabled_at IS NULL
      AND h.events LIKE '%,' || b.event_key || ',%'",
    ),
];

/// Inside the caller's transaction: fans out up to `$limit` undispatched events, oldest first,
/// in three statements whatever their number, marking them dispatched at `$now`. Evaluates to
/// how many events it took. Several nodes may run this at once: on PostgreSQL each takes
/// different events (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.
macro_rules! fan_out_in_tx {
    ($tx:expr, $store:expr, $now:expr, $limit:expr) => {{
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1{}",
            $store.skip_locked()
        ))
        .bind($limit)
        .fetch_all(&mut *$tx)
        .await?;
        if !ids.is_empty() {
            let in_list = |q: &mut sqlx::QueryBuilder<'_, _>| {
                let mut list = q.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                q.push(")");
            };
            let mut q = sqlx::QueryBuilder::new("UPDATE events SET dispatched_at = ");
            q.push_bind($now);
            q.push(" WHERE id IN (");
            in_list(&mut q);
            q.build().execute(&mut *$tx).await?;
            let mut ordered = std::collections::BTreeSet::new();
            for (before, after) in $crate::store::events::FAN_OUT {
                let mut q = sqlx::QueryBuilder::new(*before);
                in_list(&mut q);
                q.push(*after);
                q.push(" RETURNING subscriber_kind, subscriber_id, ordered");
                let rows: Vec<(String, i64, bool)> =
                    q.build_query_as().fetch_all(&mut *$tx).await?;
                ordered.extend(rows.into_iter().filter(|r| r.2).map(|(k, i, _)| (k, i)));
            }
            $crate::store::ordered::settle_ordered!($tx, $store, &ordered);
        }
        ids.len()
    }};
}
pub(crate) use fan_out_in_tx;

/// An event as the outbox holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub uuid: String,
    pub event_key: String,
    pub payload: String,
}

impl Store {
    /// A "send test event" delivery: an event no one else receives (written as already
    /// dispatched) and its one delivery, claimed by the caller until `lease_until`.
    pub async fn enqueue_test_delivery(
        &self,
        kind: SubscriberKind,
        subscriber_id: i64,
        key: &str,
        payload: &str,
        lease_until: i64,
    ) -> StoreResult<super::DueDelivery> {
        let now = self.now();
        let id = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let event: i64 = sqlx::query_scalar(
                "INSERT INTO events (uuid, at, event_key, payload, dispatched_at) VALUES ($1, $2, $3, $4, $2) RETURNING id")
                .bind(new_event_id()).bind(now).bind(key).bind(payload).fetch_one(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (event_id, subscriber_kind, subscriber_id, state, attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, 'sending', 0, $4, $5) RETURNING id")
                .bind(event).bind(kind.as_str()).bind(subscriber_id).bind(lease_until).bind(now).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            id
        });
        let (delivery, payload, _) = self
            .delivery_detail(kind, subscriber_id, id)
            .await?
            .ok_or(super::StoreError::NotFound)?;
        Ok(super::DueDelivery {
            delivery,
            payload: payload.into(),
        })
    }

    /// Writes `n` copies of an event straight into the outbox, in one transaction: the
    /// benchmark's backlog, to measure how fast the pipeline drains it. Not for the host.
    pub async fn insert_events_for_benchmark(
        &self,
        project_id: i64,
        repo_id: i64,
        key: &str,
        payload: &str,
        n: usize,
    ) -> StoreResult<()> {
        let now = self.now();
        on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO events (uuid, at, event_key, project_id, repo_id, payload) ",
                );
                q.push_values(chunk, |mut row, _| {
                    row.push_bind(new_event_id())
                        .push_bind(now)
                        .push_bind(key)
                        .push_bind(project_id)
                        .push_bind(repo_id)
                        .push_bind(payload);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.events_written().await;
        Ok(())
    }

    /// Events of one repository, oldest first (tests and diagnostics).
    pub async fn events_of_repository(&self, repo_id: i64) -> StoreResult<Vec<StoredEvent>> {
        super::on_pool!(self, |p| {
            let rows: Vec<StoredEvent> = sqlx::query_as(
                "SELECT uuid, event_key, payload FROM events WHERE repo_id = $1 ORDER BY id",
            )
            .bind(repo_id)
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }
}

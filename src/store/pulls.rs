//! Pull requests, their participants (reviewers and others who approved) and comments.
//! Changes are conditional on `version`, so two writers never both win.

use super::{on_pool, on_writer, BeginWrite, Emit, EventFacts, Store, StoreError, StoreResult};
use crate::domain::pull_request::PrState;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PullRequest {
    pub id: i64,
    pub repo_id: i64,
    pub number: i64,
    pub title: String,
    pub description: String,
    pub from_ref: String,
    pub to_ref: String,
    pub author_id: i64,
    pub author_slug: String,
    pub author_display_name: String,
    pub author_email: Option<String>,
    pub state: PrState,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Participant {
    pub pr_id: i64,
    pub user_id: i64,
    pub slug: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub pr_id: i64,
    pub author_id: i64,
    pub author_slug: String,
    pub author_display_name: String,
    pub author_email: Option<String>,
    pub text: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewPullRequest<'a> {
    pub repo_id: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub from_ref: &'a str,
    pub to_ref: &'a str,
    pub author_id: i64,
    pub reviewer_ids: &'a [i64],
}

/// An edit of an open pull request; `reviewers` replaces the list when given.
#[derive(Debug, Clone, Copy)]
pub struct PullRequestEdit<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub to_ref: &'a str,
    pub reviewers: Option<&'a [i64]>,
}

pub(crate) const PR_SELECT: &str = "SELECT pr.id, pr.repo_id, pr.number, pr.title, pr.description, pr.from_ref, pr.to_ref,
    pr.author_id, a.slug AS author_slug, a.display_name AS author_display_name, a.email AS author_email,
    pr.state, pr.version, pr.created_at, pr.updated_at, pr.closed_at
    FROM pull_requests pr JOIN accounts a ON a.id = pr.author_id";

pub(crate) const PARTICIPANT_SELECT: &str =
    "SELECT pp.pr_id, pp.user_id, a.slug, a.display_name, a.email, pp.role, pp.status
    FROM pr_participants pp JOIN accounts a ON a.id = pp.user_id";

/// Reads a pull request with its participants inside a transaction.
macro_rules! pr_in_tx {
    ($tx:expr, $id:expr) => {{
        let pr: $crate::store::PullRequest = sqlx::query_as(&format!(
            "{} WHERE pr.id = $1",
            $crate::store::pulls::PR_SELECT
        ))
        .bind($id)
        .fetch_one(&mut *$tx)
        .await?;
        let participants: Vec<$crate::store::Participant> = sqlx::query_as(&format!(
            "{} WHERE pp.pr_id = $1 ORDER BY a.slug",
            $crate::store::pulls::PARTICIPANT_SELECT
        ))
        .bind($id)
        .fetch_all(&mut *$tx)
        .await?;
        $crate::store::PullRequestFacts { pr, participants }
    }};
}
pub(crate) use pr_in_tx;

/// Writes a pull request event inside `$tx`: reads the pull request and its repository as they
/// now stand. `$extra` fills the remaining facts (comment, participant).
macro_rules! write_pr_event {
    ($tx:expr, $emit:expr, $key:expr, $now:expr, $pr_id:expr, |$facts:ident| $extra:expr) => {{
        let pr = $crate::store::pulls::pr_in_tx!($tx, $pr_id);
        let repo = $crate::store::events::repo_in_tx!($tx, pr.pr.repo_id);
        let $facts = $crate::store::EventFacts {
            pull_request: Some(&pr),
            ..$crate::store::EventFacts::repo($key, $emit, $now, &repo)
        };
        $crate::store::events::write_event!($tx, $emit, $extra);
        pr.pr
    }};
}
pub(crate) use write_pr_event;

impl Store {
    /// Creates a pull request with the next number in its repository. `Duplicate` if an open pull
    /// request between the same branches exists already.
    pub async fn create_pull_request(
        &self,
        new: &NewPullRequest<'_>,
        emit: &Emit<'_>,
    ) -> StoreResult<PullRequest> {
        let now = self.now();
        let pr = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let number: i64 = sqlx::query_scalar(
                "UPDATE repositories SET next_pr_number = next_pr_number + 1 WHERE id = $1 RETURNING next_pr_number")
                .bind(new.repo_id).fetch_one(&mut *tx).await?;
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pull_requests WHERE repo_id = $1 AND from_ref = $2 AND to_ref = $3 AND state = 'OPEN'")
                .bind(new.repo_id).bind(new.from_ref).bind(new.to_ref).fetch_one(&mut *tx).await?;
            if open > 0 {
                return Err(StoreError::Duplicate);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO pull_requests (repo_id, number, title, description, from_ref, to_ref, author_id, state, version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'OPEN', 0, $8, $8) RETURNING id")
                .bind(new.repo_id).bind(number).bind(new.title).bind(new.description).bind(new.from_ref)
                .bind(new.to_ref).bind(new.author_id).bind(now).fetch_one(&mut *tx).await?;
            for reviewer in new.reviewer_ids {
                sqlx::query("INSERT INTO pr_participants (pr_id, user_id, role, status) VALUES ($1, $2, 'REVIEWER', 'UNAPPROVED')")
                    .bind(id).bind(*reviewer).execute(&mut *tx).await?;
            }
            let pr = write_pr_event!(tx, emit, "pullrequest:created", now, id, |f| f);
            tx.commit().await?;
            pr
        });
        self.events_written().await;
        Ok(pr)
    }

    pub async fn pull_request_by_id(&self, id: i64) -> StoreResult<PullRequest> {
        on_pool!(self, |p| {
            let v: PullRequest = sqlx::query_as(&format!("{PR_SELECT} WHERE pr.id = $1"))
                .bind(id)
                .fetch_one(p)
                .await?;
            Ok(v)
        })
    }

    pub async fn find_pull_request(
        &self,
        repo_id: i64,
        number: i64,
    ) -> StoreResult<Option<PullRequest>> {
        on_pool!(self, |p| {
            let v: Option<PullRequest> = sqlx::query_as(&format!(
                "{PR_SELECT} WHERE pr.repo_id = $1 AND pr.number = $2"
            ))
            .bind(repo_id)
            .bind(number)
            .fetch_optional(p)
            .await?;
            Ok(v)
        })
    }

    /// Pull requests of a repository, newest first, optionally in one state.
    pub async fn list_pull_requests(
        &self,
        repo_id: i64,
        state: Option<&str>,
    ) -> StoreResult<Vec<PullRequest>> {
        on_pool!(self, |p| {
            let v: Vec<PullRequest> = sqlx::query_as(&format!(
                "{PR_SELECT} WHERE pr.repo_id = $1 AND ($2 IS NULL OR pr.state = $2) ORDER BY pr.number DESC"))
                .bind(repo_id).bind(state).fetch_all(p).await?;
            Ok(v)
        })
    }

    /// Participants of the given pull requests.
    pub async fn participants_of_repo(&self, repo_id: i64) -> StoreResult<Vec<Participant>> {
        on_pool!(self, |p| {
            let v: Vec<Participant> = sqlx::query_as(&format!(
                "{PARTICIPANT_SELECT} JOIN pull_requests pr ON pr.id = pp.pr_id WHERE pr.repo_id = $1 ORDER BY a.slug"))
                .bind(repo_id).fetch_all(p).await?;
            Ok(v)
        })
    }

    pub async fn participants(&self, pr_id: i64) -> StoreResult<Vec<Participant>> {
        on_pool!(self, |p| {
            let v: Vec<Participant> = sqlx::query_as(&format!(
                "{PARTICIPANT_SELECT} WHERE pp.pr_id = $1 ORDER BY a.slug"
            ))
            .bind(pr_id)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }

    /// Applies an edit if the pull request is still open at `version`. Returns false otherwise
    /// (the caller re-reads to say why). `reviewers` replaces the reviewer list when given;
    /// reviewers who are dropped keep their approval as participants.
    pub async fn update_pull_request(
        &self,
        id: i64,
        version: i64,
        edit: &PullRequestEdit<'_>,
        emit: &Emit<'_>,
    ) -> StoreResult<bool> {
        let PullRequestEdit {
            title,
            description,
            to_ref,
            reviewers,
        } = *edit;
        let now = self.now();
        let done = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let r = sqlx::query(
                "UPDATE pull_requests SET title = $1, description = $2, to_ref = $3, version = version + 1, updated_at = $4
                 WHERE id = $5 AND version = $6 AND state = 'OPEN'")
                .bind(title).bind(description).bind(to_ref).bind(now).bind(id).bind(version).execute(&mut *tx).await?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            if let Some(reviewers) = reviewers {
                sqlx::query("DELETE FROM pr_participants WHERE pr_id = $1 AND role = 'REVIEWER' AND status = 'UNAPPROVED'")
                    .bind(id).execute(&mut *tx).await?;
                sqlx::query("UPDATE pr_participants SET role = 'PARTICIPANT' WHERE pr_id = $1 AND role = 'REVIEWER'")
                    .bind(id).execute(&mut *tx).await?;
                for reviewer in reviewers {
                    sqlx::query(
                        "INSERT INTO pr_participants (pr_id, user_id, role, status) VALUES ($1, $2, 'REVIEWER', 'UNAPPROVED')
                         ON CONFLICT (pr_id, user_id) DO UPDATE SET role = 'REVIEWER'")
                        .bind(id).bind(*reviewer).execute(&mut *tx).await?;
                }
            }
            write_pr_event!(tx, emit, "pullrequest:updated", now, id, |f| f);
            tx.commit().await?;
            true
        });
        self.events_written().await;
        Ok(done)
    }

    /// Moves an open pull request at `version` to `state` (MERGED or DECLINED), writing
    /// `pullrequest:fulfilled` or `pullrequest:rejected`. False if it was not open at that version.
    pub async fn close_pull_request(
        &self,
        id: i64,
        version: i64,
        state: &str,
        emit: &Emit<'_>,
    ) -> StoreResult<bool> {
        let now = self.now();
        let key = if state == "MERGED" {
            "pullrequest:fulfilled"
        } else {
            "pullrequest:rejected"
        };
        let done = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let r = sqlx::query(
                "UPDATE pull_requests SET state = $1, version = version + 1, updated_at = $2, closed_at = $2
                 WHERE id = $3 AND version = $4 AND state = 'OPEN'")
                .bind(state).bind(now).bind(id).bind(version).execute(&mut *tx).await?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            write_pr_event!(tx, emit, key, now, id, |f| f);
            tx.commit().await?;
            true
        });
        self.events_written().await;
        Ok(done)
    }

    /// Sets a user's review status, adding them as a participant if they are not one yet, and
    /// writes the event the change means (approved, unapproved, change request made or removed;
    /// none when nothing changed).
    pub async fn set_review_status(
        &self,
        pr_id: i64,
        user_id: i64,
        status: &str,
        emit: &Emit<'_>,
    ) -> StoreResult<Participant> {
        let now = self.now();
        let participant = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let before: Option<String> = sqlx::query_scalar(
                "SELECT status FROM pr_participants WHERE pr_id = $1 AND user_id = $2",
            )
            .bind(pr_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO pr_participants (pr_id, user_id, role, status) VALUES ($1, $2, 'PARTICIPANT', $3)
                 ON CONFLICT (pr_id, user_id) DO UPDATE SET status = excluded.status")
                .bind(pr_id).bind(user_id).bind(status).execute(&mut *tx).await?;
            let v: Participant = sqlx::query_as(&format!(
                "{PARTICIPANT_SELECT} WHERE pp.pr_id = $1 AND pp.user_id = $2"
            ))
            .bind(pr_id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(key) = review_event(before.as_deref().unwrap_or("UNAPPROVED"), status) {
                write_pr_event!(tx, emit, key, now, pr_id, |f| EventFacts {
                    participant: Some(&v),
                    ..f
                });
            }
            tx.commit().await?;
            v
        });
        self.events_written().await;
        Ok(participant)
    }

    /// Adds a comment and writes `pullrequest:comment_created`.
    pub async fn add_comment(
        &self,
        pr_id: i64,
        author_id: i64,
        text: &str,
        emit: &Emit<'_>,
    ) -> StoreResult<Comment> {
        let now = self.now();
        let comment =
            on_writer!(self, |p| {
                let mut tx = p.begin_write().await?;
                let id: i64 = sqlx::query_scalar(
                "INSERT INTO pr_comments (pr_id, author_id, text, version, created_at, updated_at)
                 VALUES ($1, $2, $3, 0, $4, $4) RETURNING id")
                .bind(pr_id).bind(author_id).bind(text).bind(now).fetch_one(&mut *tx).await?;
                let c: Comment = sqlx::query_as(&format!("{COMMENT_SELECT} WHERE c.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                write_pr_event!(tx, emit, "pullrequest:comment_created", now, pr_id, |f| {
                    EventFacts {
                        comment: Some(&c),
                        ..f
                    }
                });
                tx.commit().await?;
                c
            });
        self.events_written().await;
        Ok(comment)
    }

    /// Deletes a comment at `version` and writes `pullrequest:comment_deleted`. `NotFound` when
    /// it does not exist on this pull request; false when its version is not `version`.
    pub async fn delete_comment(
        &self,
        pr_id: i64,
        comment_id: i64,
        version: i64,
        emit: &Emit<'_>,
    ) -> StoreResult<bool> {
        let now = self.now();
        let done = on_writer!(self, |p| {
            let mut tx = p.begin_write().await?;
            let c: Option<Comment> = sqlx::query_as(&format!(
                "{COMMENT_SELECT} WHERE c.id = $1 AND c.pr_id = $2"
            ))
            .bind(comment_id)
            .bind(pr_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(c) = c else {
                return Err(StoreError::NotFound);
            };
            if c.version != version {
                return Ok(false);
            }
            sqlx::query("DELETE FROM pr_comments WHERE id = $1")
                .bind(comment_id)
                .execute(&mut *tx)
                .await?;
            write_pr_event!(tx, emit, "pullrequest:comment_deleted", now, pr_id, |f| {
                EventFacts {
                    comment: Some(&c),
                    ..f
                }
            });
            tx.commit().await?;
            true
        });
        self.events_written().await;
        Ok(done)
    }

    pub async fn comment(&self, pr_id: i64, comment_id: i64) -> StoreResult<Option<Comment>> {
        on_pool!(self, |p| {
            let c: Option<Comment> = sqlx::query_as(&format!(
                "{COMMENT_SELECT} WHERE c.id = $1 AND c.pr_id = $2"
            ))
            .bind(comment_id)
            .bind(pr_id)
            .fetch_optional(p)
            .await?;
            Ok(c)
        })
    }

    pub async fn comments(&self, pr_id: i64) -> StoreResult<Vec<Comment>> {
        on_pool!(self, |p| {
            let v: Vec<Comment> = sqlx::query_as(&format!(
                "{COMMENT_SELECT} WHERE c.pr_id = $1 ORDER BY c.id"
            ))
            .bind(pr_id)
            .fetch_all(p)
            .await?;
            Ok(v)
        })
    }
}

const COMMENT_SELECT: &str = "SELECT c.id, c.pr_id, c.author_id, a.slug AS author_slug,
    a.display_name AS author_display_name, a.email AS author_email, c.text, c.version, c.created_at, c.updated_at
    FROM pr_comments c JOIN accounts a ON a.id = c.author_id";

/// The event a review status change means, Bitbucket Cloud's way.
fn review_event(before: &str, after: &str) -> Option<&'static str> {
    match (before, after) {
        (b, a) if b == a => None,
        (_, "APPROVED") => Some("pullrequest:approved"),
        (_, "NEEDS_WORK") => Some("pullrequest:changes_request_created"),
        ("APPROVED", _) => Some("pullrequest:unapproved"),
        ("NEEDS_WORK", _) => Some("pullrequest:changes_request_removed"),
        _ => None,
    }
}

/// A pull request's state is stored as its Data Center name (`OPEN`, `MERGED`, `DECLINED`) and
/// read back as the domain's `PrState`; the mapping lives here so the domain knows no SQL.
impl<DB: sqlx::Database> sqlx::Type<DB> for PrState
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for PrState
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(text.parse::<PrState>()?)
    }
}

//! Teams (Bitbucket's "groups"): created and (de)activated by system administrators; members
//! and the display name managed by system administrators and the team's own admins.

use super::users::{self, change_active};
use super::{Host, HostError, HostResult, Missing, Principal};
use crate::domain::{Action, DisplayName, Level, ResourceFacts, Slug};
use crate::store::{Account, AccountKind, StoreError, TeamMember};

/// A member's role in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamRole {
    Member,
    Admin,
}

impl TeamRole {
    pub fn parse(raw: &str) -> HostResult<Self> {
        match raw {
            "member" => Ok(Self::Member),
            "admin" => Ok(Self::Admin),
            other => Err(HostError::invalid(
                "role",
                format!("'{other}' is not a team role; use member or admin."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
        }
    }
}

/// The team `slug` (any case), active or not.
pub async fn find(host: &Host<'_>, slug: &str) -> HostResult<Account> {
    host.store
        .find_account(&slug.to_ascii_lowercase())
        .await?
        .filter(|a| a.kind == AccountKind::Team)
        .ok_or_else(|| HostError::NotFound(Missing::Team(slug.into())))
}

pub async fn list(
    host: &Host<'_>,
    who: &Principal<'_>,
    filter: Option<&str>,
) -> HostResult<Vec<Account>> {
    who.check(Action::AdminSystem)?;
    Ok(host.store.list_accounts(AccountKind::Team, filter).await?)
}

/// Creates a team with the acting person as its first admin.
pub async fn create(host: &Host<'_>, who: &Principal<'_>, name: &str) -> HostResult<Account> {
    who.check(Action::AdminSystem)?;
    let me = who.user()?;
    let slug = Slug::parse("name", name)?;
    let target = format!("team:{}", slug.as_str());
    let audit = who.audit("team.created", &target, "");
    let created = host
        .store
        .create_team(slug.as_str(), name.trim(), me.id, Some(&audit))
        .await;
    match created {
        Err(StoreError::Duplicate) => Err(users::name_taken(&slug, AccountKind::Team)),
        other => Ok(other?),
    }
}

/// A team and its members, for anyone who may see users.
pub async fn members(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
) -> HostResult<(Account, Vec<TeamMember>)> {
    who.check(Action::ViewUsers)?;
    let team = find(host, slug).await?;
    let members = host.store.team_members(team.id).await?;
    Ok((team, members))
}

/// Adds `user` to the team or changes their role (`member` or `admin`, judged after the right
/// to manage the team); returns the team and its members after.
pub async fn set_member(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    user: &str,
    role: &str,
) -> HostResult<(Account, Vec<TeamMember>)> {
    let team = administered(host, who, slug).await?;
    let user = users::find(host, user)
        .await
        .map_err(|e| e.named_by("user"))?;
    let role = TeamRole::parse(role)?;
    let target = format!("team:{}", team.slug);
    let details = format!("{}={}", user.slug, role.as_str());
    let audit = who.audit("team.member_set", &target, &details);
    host.store
        .set_team_member(team.id, user.id, role.as_str(), Some(&audit))
        .await?;
    let members = host.store.team_members(team.id).await?;
    Ok((team, members))
}

pub async fn remove_member(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    user: &str,
) -> HostResult<()> {
    let team = administered(host, who, slug).await?;
    let user = users::find(host, user).await?;
    let target = format!("team:{}", team.slug);
    let audit = who.audit("team.member_removed", &target, &user.slug);
    if !host
        .store
        .remove_team_member(team.id, user.id, Some(&audit))
        .await?
    {
        return Err(HostError::NotFound(Missing::TeamMember {
            user: user.slug,
            team: team.slug,
        }));
    }
    Ok(())
}

/// Changes the team's display name.
pub async fn rename(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    display_name: &str,
) -> HostResult<Account> {
    let team = administered(host, who, slug).await?;
    let name = DisplayName::parse("displayName", display_name)?;
    let target = format!("team:{}", team.slug);
    let audit = who.audit("team.updated", &target, name.as_str());
    Ok(host
        .store
        .update_account(team.id, name.as_str(), None, Some(&audit))
        .await?)
}

/// Activates or deactivates a team. A deactivated team's grants stop applying to its members.
pub async fn set_active(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
    active: bool,
) -> HostResult<Account> {
    who.check(Action::AdminSystem)?;
    let team = find(host, slug).await?;
    change_active(host, who, &team, active).await
}

/// The team, if the principal administers it (`AdminTeam`: system admins manage every team, a
/// team's own admins manage theirs).
pub(super) async fn administered(
    host: &Host<'_>,
    who: &Principal<'_>,
    slug: &str,
) -> HostResult<Account> {
    let team = find(host, slug).await?;
    let me = who.user()?;
    let is_team_admin = host
        .store
        .team_members(team.id)
        .await?
        .iter()
        .any(|m| m.user_id == me.id && m.role == TeamRole::Admin.as_str());
    let facts = ResourceFacts {
        level: if is_team_admin {
            Level::Admin
        } else {
            Level::None
        },
        ..Default::default()
    };
    crate::domain::authorize(who.subject, Action::AdminTeam, Some(&facts)).map_err(|denial| {
        HostError::Denied {
            denial,
            missing: Missing::Nothing,
        }
    })?;
    Ok(team)
}

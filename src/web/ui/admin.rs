//! Administration pages: users, teams, global permissions, the audit log, and the place where
//! application links will live.

use super::{render, require_user, see_other, CsrfForm, Nav, OrPage, UiError, UiResult};
use crate::clock::display;
use crate::domain::{Action, GlobalPermission};
use crate::services::host::audit_log::{self, AuditQuery};
use crate::services::host::permissions::{self as host_permissions, TargetRef};
use crate::services::host::teams as host_teams;
use crate::services::host::users::{self as host_users, Audience, NewUser};
use crate::store::{Account, AccountKind, AuditEntry, GrantHolder, TeamMember};
use crate::web::auth::Caller;
use crate::web::confirm::{ask_first, confirmed, Ask};
use crate::web::extract::{Path, Query};
use crate::web::flash::see_other_saying;
use crate::web::page::{form_again, FormError};
use crate::web::paging::PageParams;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// Every admin page starts here: signed in, and allowed to administer.
pub(super) fn admin_only(caller: &Caller, here: &str) -> Result<(), UiError> {
    require_user(caller, here)?;
    caller.check(Action::AdminSystem).or_page(caller)
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<Account>,
    /// The new-user form as typed (never the password) and its mistake, if any.
    form: NewUserForm,
    error: Option<FormError>,
}

pub async fn users(State(state): State<AppState>, caller: Caller) -> UiResult {
    admin_only(&caller, "/admin/users")?;
    users_page(&state, &caller, NewUserForm::default(), None).await
}

async fn users_page(
    state: &AppState,
    caller: &Caller,
    form: NewUserForm,
    error: Option<FormError>,
) -> UiResult {
    let who = caller.principal();
    let users = host_users::list(&state.host(), &who, None, Audience::Administrators)
        .await
        .or_page(caller)?;
    Ok(render(&UsersPage {
        nav: Nav::of(caller),
        users,
        form,
        error,
    }))
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<NewUserForm>,
) -> UiResult {
    admin_only(&caller, "/admin/users")?;
    let parsed = NewUser::parse(&f.name, Some(&f.display_name), Some(&f.email), &f.password);
    let created = match parsed {
        Ok(new) => host_users::create(&state.host(), &caller.principal(), new).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(see_other("/admin/users")),
        Err(e) => {
            // What was typed comes back, but not the password.
            let form = NewUserForm {
                password: String::new(),
                ..f
            };
            let again = |error| users_page(&state, &caller, form, Some(error));
            form_again(e, &caller, again).await
        }
    }
}

pub async fn user_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, action)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    admin_only(&caller, "/admin/users")?;
    let active = match action.as_str() {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(UiError::no_such_action(&caller)),
    };
    if !active && !confirmed(&fields) {
        let ask = Ask {
            question: format!("Deactivate {slug}?"),
            consequence: "They are signed out everywhere at once and their tokens stop working; their history stays. You can activate them again.",
            button: "Deactivate",
            action: &format!("/admin/users/{slug}/deactivate"),
            back: "/admin/users",
        };
        return Ok(ask_first(&caller, &ask, &fields));
    }
    let user = host_users::set_active(&state.host(), &caller.principal(), &slug, active)
        .await
        .or_page(&caller)?;
    let said = if active {
        format!("Activated {}.", user.slug)
    } else {
        format!(
            "Deactivated {}: their sessions and tokens stopped working.",
            user.slug
        )
    };
    Ok(see_other_saying("/admin/users", &said))
}

#[derive(Template)]
#[template(path = "admin_teams.html")]
struct TeamsPage {
    nav: Nav,
    teams: Vec<Account>,
    /// The new-team form as typed and its mistake, if any.
    form: NameForm,
    error: Option<FormError>,
}

pub async fn teams(State(state): State<AppState>, caller: Caller) -> UiResult {
    admin_only(&caller, "/admin/teams")?;
    teams_page(&state, &caller, NameForm::default(), None).await
}

async fn teams_page(
    state: &AppState,
    caller: &Caller,
    form: NameForm,
    error: Option<FormError>,
) -> UiResult {
    let teams = host_teams::list(&state.host(), &caller.principal(), None)
        .await
        .or_page(caller)?;
    Ok(render(&TeamsPage {
        nav: Nav::of(caller),
        teams,
        form,
        error,
    }))
}

#[derive(Deserialize, Default)]
pub struct NameForm {
    name: String,
}

pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<NameForm>,
) -> UiResult {
    admin_only(&caller, "/admin/teams")?;
    match host_teams::create(&state.host(), &caller.principal(), &f.name).await {
        Ok(team) => Ok(see_other(&format!("/admin/teams/{}", team.slug))),
        Err(e) => {
            let again = |error| teams_page(&state, &caller, f, Some(error));
            form_again(e, &caller, again).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_team.html")]
struct TeamPage {
    nav: Nav,
    team: Account,
    members: Vec<TeamMember>,
    /// The add-a-member form as typed and its mistake, if any.
    adding: AddMember,
    error: Option<FormError>,
}

/// What the add-a-member form had.
#[derive(Default)]
struct AddMember {
    user: String,
    admin: bool,
}

pub async fn team(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> UiResult {
    admin_only(&caller, "/admin/teams")?;
    team_page(&state, &caller, &slug, AddMember::default(), None).await
}

async fn team_page(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    adding: AddMember,
    error: Option<FormError>,
) -> UiResult {
    let (team, members) = host_teams::members(&state.host(), &caller.principal(), slug)
        .await
        .or_page(caller)?;
    Ok(render(&TeamPage {
        nav: Nav::of(caller),
        team,
        members,
        adding,
        error,
    }))
}

#[derive(Deserialize)]
pub struct MemberForm {
    op: String,
    /// `yes` once the person confirmed a deactivation.
    confirm: Option<String>,
    #[serde(default)]
    user: String,
    role: Option<String>,
}

pub async fn team_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> UiResult {
    admin_only(&caller, "/admin/teams")?;
    if f.op == "deactivate" && f.confirm.as_deref() != Some("yes") {
        let ask = Ask {
            question: format!("Deactivate the team {slug}?"),
            consequence:
                "Its permissions stop applying to its members at once. You can activate it again.",
            button: "Deactivate",
            action: &format!("/admin/teams/{slug}"),
            back: &format!("/admin/teams/{slug}"),
        };
        let fields = [("op".to_string(), f.op.clone())];
        return Ok(ask_first(&caller, &ask, &fields));
    }
    let (host, who) = (state.host(), caller.principal());
    let said = match f.op.as_str() {
        "activate" | "deactivate" => {
            let active = f.op == "activate";
            host_teams::set_active(&host, &who, &slug, active)
                .await
                .map(|t| {
                    format!(
                        "{} the team {}.",
                        if active { "Activated" } else { "Deactivated" },
                        t.slug
                    )
                })
        }
        "remove" => host_teams::remove_member(&host, &who, &slug, &f.user)
            .await
            .map(|()| format!("Removed {} from the team.", f.user)),
        _ => {
            let role = f.role.as_deref().unwrap_or("member");
            match host_teams::set_member(&host, &who, &slug, &f.user, role).await {
                Ok(_) => Ok(format!("{} is now a team {role}.", f.user)),
                Err(e) => {
                    let adding = AddMember {
                        user: f.user.clone(),
                        admin: role == "admin",
                    };
                    let again = |error| team_page(&state, &caller, &slug, adding, Some(error));
                    return form_again(e, &caller, again).await;
                }
            }
        }
    }
    .or_page(&caller)?;
    Ok(see_other_saying(&format!("/admin/teams/{slug}"), &said))
}

#[derive(Template)]
#[template(path = "admin_permissions.html")]
struct PermissionsPage {
    nav: Nav,
    user_grants: Vec<GrantHolder>,
    team_grants: Vec<GrantHolder>,
    permissions: Vec<&'static str>,
    /// The grant form as typed and its mistake, if any.
    form: PermissionForm,
    error: Option<FormError>,
}

impl PermissionsPage {
    /// Whether `permission` is the one the form had chosen.
    fn chosen(&self, permission: &str) -> bool {
        self.form.permission == permission
    }
}

pub async fn permissions(State(state): State<AppState>, caller: Caller) -> UiResult {
    admin_only(&caller, "/admin/permissions")?;
    permissions_page(&state, &caller, PermissionForm::default(), None).await
}

async fn permissions_page(
    state: &AppState,
    caller: &Caller,
    form: PermissionForm,
    error: Option<FormError>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    let global = TargetRef::Global;
    let user_grants = host_permissions::list(&host, &who, global, AccountKind::User, None)
        .await
        .or_page(caller)?;
    let team_grants = host_permissions::list(&host, &who, global, AccountKind::Team, None)
        .await
        .or_page(caller)?;
    let permissions = GlobalPermission::ALL.iter().map(|p| p.as_str()).collect();
    Ok(render(&PermissionsPage {
        nav: Nav::of(caller),
        user_grants,
        team_grants,
        permissions,
        form,
        error,
    }))
}

#[derive(Deserialize, Default)]
pub struct PermissionForm {
    kind: String,
    name: String,
    permission: String,
}

/// Grants a global permission, or revokes it when `permission` is `NONE`.
pub async fn set_permission(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<PermissionForm>,
) -> UiResult {
    admin_only(&caller, "/admin/permissions")?;
    let kind = match f.kind.as_str() {
        "users" => AccountKind::User,
        "groups" => AccountKind::Team,
        _ => return Err(UiError::no_such_action(&caller)),
    };
    let (host, who) = (state.host(), caller.principal());
    let (global, name) = (TargetRef::Global, Some(f.name.as_str()));
    let said = if f.permission == "NONE" {
        host_permissions::revoke(&host, &who, global, kind, name)
            .await
            .map(|()| format!("{} holds no global permission now.", f.name))
    } else {
        let permission = Some(f.permission.as_str());
        host_permissions::grant(&host, &who, global, kind, name, permission)
            .await
            .map(|()| format!("{} now holds {}.", f.name, f.permission))
    };
    match said {
        Ok(said) => Ok(see_other_saying("/admin/permissions", &said)),
        Err(e) => {
            let again = |error| permissions_page(&state, &caller, f, Some(error));
            form_again(e, &caller, again).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    nav: Nav,
    entries: Vec<(String, AuditEntry)>,
    /// Links (query strings) to the next and previous pages, filters kept.
    next: Option<String>,
    prev: Option<String>,
    filters: AuditQuery,
    /// Why the filters could not be used (a time that is none).
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    start: Option<i64>,
    action: Option<String>,
    actor: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

impl AuditParams {
    /// The query string of these filters at `start`, for the paging links.
    fn at(&self, start: i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                q.append_pair(k, v);
            }
        }
        q.append_pair("start", &start.to_string());
        format!("?{}", q.finish())
    }
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> UiResult {
    admin_only(&caller, "/admin/audit")?;
    let req = PageParams {
        start: q.start,
        limit: Some(50),
    }
    .request()
    .or_page(&caller)?;
    let query = AuditQuery {
        action: q.action.clone(),
        actor: q.actor.clone(),
        from: q.from.clone(),
        until: q.until.clone(),
    };
    let (rows, error) =
        match audit_log::search(&state.host(), &caller.principal(), &query, req).await {
            Ok(rows) => (rows, None),
            Err(e) => (
                Vec::new(),
                Some(crate::web::error::ApiError::from(e).message),
            ),
        };
    let page = crate::web::paging::paged(req, rows);
    Ok(render(&AuditPage {
        nav: Nav::of(&caller),
        next: page.next_start().map(|n| q.at(n)),
        prev: page.prev_start().map(|p| q.at(p)),
        entries: page.rows.into_iter().map(|e| (display(e.at), e)).collect(),
        filters: query,
        error,
    }))
}

pub struct CatalogRow {
    pub id: i64,
    pub app_key: String,
    pub name: String,
    pub descriptor_url: String,
    pub listed: String,
}

#[derive(Template)]
#[template(path = "admin_apps.html")]
struct AppsPage {
    nav: Nav,
    apps: Vec<CatalogRow>,
    url: String,
    error: Option<String>,
}

async fn apps_page(
    state: &AppState,
    caller: &Caller,
    url: String,
    error: Option<String>,
) -> UiResult {
    let apps = crate::services::host::app_catalog::list(&state.host(), &caller.principal())
        .await
        .or_page(caller)?
        .into_iter()
        .map(|a| CatalogRow {
            id: a.id,
            app_key: a.app_key,
            name: a.name,
            descriptor_url: a.descriptor_url,
            listed: display(a.added_at),
        })
        .collect();
    Ok(render(&AppsPage {
        nav: Nav::of(caller),
        apps,
        url,
        error,
    }))
}

pub async fn apps(State(state): State<AppState>, caller: Caller) -> UiResult {
    admin_only(&caller, "/admin/apps")?;
    apps_page(&state, &caller, String::new(), None).await
}

#[derive(Deserialize)]
pub struct CatalogForm {
    descriptor_url: String,
}

/// Lists an app; a descriptor that cannot be fetched or is invalid stays on the form, said.
pub async fn add_app(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<CatalogForm>,
) -> UiResult {
    admin_only(&caller, "/admin/apps")?;
    let added = crate::services::host::app_catalog::add(
        &state.host(),
        &caller.principal(),
        &f.descriptor_url,
    )
    .await;
    match added {
        Ok((key, name)) => Ok(see_other_saying(
            "/admin/apps",
            &format!("Listed {name} ({key})."),
        )),
        Err(crate::services::host::HostError::App(e)) => {
            let status = crate::web::error::app_status(&e);
            let mut page =
                apps_page(&state, &caller, f.descriptor_url, Some(e.to_string())).await?;
            *page.status_mut() = status;
            Ok(page)
        }
        Err(e) => Err(UiError::from_api(e.into(), &caller)),
    }
}

pub async fn remove_app(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    admin_only(&caller, "/admin/apps")?;
    if action != "remove" {
        return Err(UiError::no_such_action(&caller));
    }
    if !confirmed(&fields) {
        let ask = Ask {
            question: "Remove this app from the catalog?".into(),
            consequence: "People can no longer install it without development mode. Installations already made stay.",
            button: "Remove",
            action: &format!("/admin/apps/{id}/remove"),
            back: "/admin/apps",
        };
        return Ok(ask_first(&caller, &ask, &fields));
    }
    crate::services::host::app_catalog::remove(&state.host(), &caller.principal(), id)
        .await
        .or_page(&caller)?;
    Ok(see_other_saying(
        "/admin/apps",
        "The app was removed from the catalog.",
    ))
}

//! The signed-in user's settings: profile, password, personal access tokens, and the place for
//! authorized applications.

use super::{render, require_user, CsrfForm, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::domain::access_tokens::TokenPermissions;
use crate::domain::TokenPermission;
use crate::services::host::{access_tokens as host_tokens, accounts, HostError, HostResult};
use crate::store::Account;
use crate::web::auth::Caller;
use crate::web::extract::Path;
use crate::web::flash::see_other_saying;
use crate::web::page::{form_again, FormError};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account_profile.html")]
struct ProfilePage {
    nav: Nav,
    me: Account,
    /// The form's values: the stored ones, or what was typed when it came back.
    form: ProfileForm,
    error: Option<FormError>,
    /// Live data from each connected application (see `connections::panels`).
    panels: Vec<super::connections::Panel>,
}

pub async fn profile(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account")?;
    let me = caller.user().or_page(&caller)?;
    let form = ProfileForm {
        display_name: me.display_name.clone(),
        email: me.email.clone().unwrap_or_default(),
    };
    profile_page(&state, &caller, form, None).await
}

async fn profile_page(
    state: &AppState,
    caller: &Caller,
    form: ProfileForm,
    error: Option<FormError>,
) -> UiResult {
    let me = caller.user().or_page(caller)?.clone();
    let panels = super::connections::panels(state, me.id).await;
    Ok(render(&ProfilePage {
        nav: Nav::of(caller),
        me,
        form,
        error,
        panels,
    }))
}

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    display_name: String,
    #[serde(default)]
    email: String,
}

pub async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<ProfileForm>,
) -> UiResult {
    let change = accounts::ProfileChange {
        display_name: Some(f.display_name.clone()),
        email: Some(f.email.clone()),
    };
    match accounts::update_profile(&state.host(), &caller.principal(), change).await {
        Ok(_) => Ok(see_other_saying("/account", "Your profile was saved.")),
        Err(e) => {
            form_again(e, &caller, |error| {
                profile_page(&state, &caller, f, Some(error))
            })
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    nav: Nav,
    /// What was wrong the last time (no password is ever sent back).
    error: Option<FormError>,
}

pub async fn password(caller: Caller) -> UiResult {
    require_user(&caller, "/account/password")?;
    Ok(render(&PasswordPage {
        nav: Nav::of(&caller),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    old_password: String,
    password: String,
    password_confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> UiResult {
    let change = accounts::PasswordChange {
        old: f.old_password,
        new: f.password,
        confirm: f.password_confirm,
    };
    let changed = accounts::change_password(
        &state.host(),
        &caller.principal(),
        change,
        caller.session_id(),
    )
    .await;
    if let Err(e) = changed {
        let again = |error| async {
            Ok(render(&PasswordPage {
                nav: Nav::of(&caller),
                error: Some(error),
            }))
        };
        return form_again(e, &caller, again).await;
    }
    let mut nav = Nav::of(&caller);
    nav.flash = Some("Your password was changed. Your other sessions were signed out.".into());
    Ok(render(&PasswordPage { nav, error: None }))
}

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub permission: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    nav: Nav,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    /// The new-token form as typed and its mistake, if any.
    form: TokenForm,
    error: Option<FormError>,
}

async fn tokens_page(
    state: &AppState,
    caller: &Caller,
    new_secret: Option<String>,
    form: TokenForm,
    error: Option<FormError>,
) -> UiResult {
    let me = caller.user().or_page(caller)?;
    let list = host_tokens::list(&state.host(), me).await.or_page(caller)?;
    let tokens = list
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            permission: t.permission,
            created: display(t.created_at),
            expires: t.expires_at.map(display).unwrap_or_else(|| "never".into()),
            last_used: t
                .last_used_at
                .map(display)
                .unwrap_or_else(|| "never".into()),
        })
        .collect();
    Ok(render(&TokensPage {
        nav: Nav::of(caller),
        tokens,
        new_secret,
        form,
        error,
    }))
}

pub async fn tokens(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account/tokens")?;
    tokens_page(&state, &caller, None, TokenForm::default(), None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    permission: String,
    expiry_days: Option<String>,
}

impl Default for TokenForm {
    /// A new token: read, expiring after 90 days.
    fn default() -> Self {
        Self {
            name: String::new(),
            permission: "read".into(),
            expiry_days: Some("90".into()),
        }
    }
}

/// Creates a token and shows its secret on this one response only (no redirect, so a reload
/// does not show it again from a URL).
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> UiResult {
    let me = caller.user().or_page(&caller)?.clone();
    match new_token(&state, &caller, &me, &f).await {
        Ok(secret) => tokens_page(&state, &caller, Some(secret), TokenForm::default(), None).await,
        Err(e) => {
            let again = |error| tokens_page(&state, &caller, None, f, Some(error));
            form_again(e, &caller, again).await
        }
    }
}

/// Reads the form and creates the token; returns its secret.
async fn new_token(
    state: &AppState,
    caller: &Caller,
    me: &Account,
    f: &TokenForm,
) -> HostResult<String> {
    let permission = TokenPermission::parse(&f.permission)
        .ok_or_else(|| HostError::invalid("permission", "Choose read, write or admin."))?;
    let expiry =
        match f.expiry_days.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(d.parse::<i64>().map_err(|_| {
                HostError::invalid("expiryDays", "Expiry must be a number of days.")
            })?),
        };
    let new = host_tokens::NewAccessToken {
        name: f.name.clone(),
        permissions: TokenPermissions::both(permission),
        expiry_days: expiry,
    };
    let (_, secret) = host_tokens::create(&state.host(), &caller.principal(), me, new).await?;
    Ok(secret)
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    let me = caller.user().or_page(&caller)?.clone();
    if !crate::web::confirm::confirmed(&fields) {
        let ask = crate::web::confirm::Ask {
            question: "Revoke this access token?".into(),
            consequence: "Every script and tool using it is refused from now on. This cannot be undone; make a new token if you need one.",
            button: "Revoke",
            action: &format!("/account/tokens/{id}/revoke"),
            back: "/account/tokens",
        };
        return Ok(crate::web::confirm::ask_first(&caller, &ask, &fields));
    }
    caller
        .check(crate::domain::Action::EditOwnAccount)
        .or_page(&caller)?;
    host_tokens::revoke(&state.host(), &caller.principal(), &me, id)
        .await
        .or_page(&caller)?;
    let said = "Revoked the token: it no longer works anywhere.";
    Ok(crate::web::flash::see_other_saying("/account/tokens", said))
}

pub struct AppRow {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<&'static str>,
    pub granted: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "account_apps.html")]
struct AppsPage {
    nav: Nav,
    apps: Vec<AppRow>,
}

pub async fn authorized_applications(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account/authorized-applications")?;
    let apps = accounts::authorized_applications(&state.host(), &caller.principal())
        .await
        .or_page(&caller)?;
    let apps = apps
        .into_iter()
        .map(|a| AppRow {
            scopes: crate::domain::oauth2::ScopeSet::parse(&a.scope)
                .map(|s| s.expanded().into_iter().map(|x| x.describe()).collect())
                .unwrap_or_default(),
            client_id: a.client_id,
            name: a.name,
            granted: display(a.granted_at),
            last_used: a
                .last_used_at
                .map(display)
                .unwrap_or_else(|| "never".into()),
        })
        .collect();
    Ok(render(&AppsPage {
        nav: Nav::of(&caller),
        apps,
    }))
}

/// Revokes every token the user granted this application, and forgets the consent.
pub async fn revoke_application(
    State(state): State<AppState>,
    caller: Caller,
    Path(client_id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    if !crate::web::confirm::confirmed(&fields) {
        let ask = crate::web::confirm::Ask {
            question: "Revoke this application's access?".into(),
            consequence: "Its tokens stop working for you at once. It can act for you again only if you authorize it again.",
            button: "Revoke",
            action: &format!("/account/authorized-applications/{client_id}/revoke"),
            back: "/account/authorized-applications",
        };
        return Ok(crate::web::confirm::ask_first(&caller, &ask, &fields));
    }
    let revoked = accounts::revoke_application(&state.host(), &caller.principal(), &client_id)
        .await
        .or_page(&caller)?;
    let said = match revoked {
        Some(name) => format!("{name} can no longer act for you."),
        None => "That application holds no authorization from you.".into(),
    };
    Ok(crate::web::flash::see_other_saying(
        "/account/authorized-applications",
        &said,
    ))
}

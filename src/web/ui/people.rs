//! A person's profile page (`/users/{slug}`, where links to people in payloads and pages
//! lead): their name, and the profile tabs installed apps add about them.

use super::app_frames::{AppLink, AppUi};
use super::{render, require_user, Nav, OrPage, UiResult};
use crate::services::host::users;
use crate::store::Account;
use crate::web::auth::Caller;
use crate::web::extract::Path;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    nav: Nav,
    person: Account,
    tabs: Vec<AppLink>,
}

pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> UiResult {
    require_user(&caller, &format!("/users/{slug}"))?;
    let person = users::get(&state.host(), &caller.principal(), &slug)
        .await
        .or_page(&caller)?;
    let tabs = AppUi::profile_tabs(&state, &caller, &person).await;
    Ok(render(&ProfilePage {
        nav: Nav::of(&caller),
        person,
        tabs,
    }))
}

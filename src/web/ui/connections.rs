//! Account → Connected applications: the signed-in user's accounts at linked applications
//! (connect, status, disconnect), and a panel of what each connected remote shows them, fetched
//! live through the link (for a Junction remote: their projects there).

use super::{render, require_user, see_other, CsrfForm, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::services::links::call::RemoteRequest;
use crate::web::applinks::connect;
use crate::web::auth::Caller;
use crate::web::extract::Path;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

pub struct Row {
    pub id: String,
    pub name: String,
    pub url: String,
    pub status: &'static str,
    pub since: String,
}

/// What one connected remote showed, or why it could not.
pub struct Panel {
    pub name: String,
    pub items: Vec<(String, String)>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "account_connections.html")]
struct ConnectionsPage {
    nav: Nav,
    rows: Vec<Row>,
    panels: Vec<Panel>,
}

/// Fetches each connected Junction remote's projects as the user.
pub async fn panels(state: &AppState, user_id: i64) -> Vec<Panel> {
    let Ok(list) = connect::connections_of(state, user_id).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in list
        .into_iter()
        .filter(|c| c.status == "connected" && c.link.type_id == "junction")
    {
        let req = RemoteRequest {
            method: reqwest::Method::GET,
            path: "/rest/api/1.0/projects",
            query: Some("limit=25"),
            body: None,
        };
        let panel = match state.links.call_as_user(&c.link, user_id, req).await {
            Ok(r) if r.is_success() => Panel {
                name: c.link.name.clone(),
                items: r
                    .json()
                    .and_then(|j| j["values"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .map(|p| {
                        (
                            p["key"].as_str().unwrap_or_default().to_string(),
                            p["name"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                error: None,
            },
            Ok(r) => Panel {
                name: c.link.name.clone(),
                items: Vec::new(),
                error: Some(format!("{} answered HTTP {}.", c.link.name, r.status)),
            },
            Err(e) => Panel {
                name: c.link.name.clone(),
                items: Vec::new(),
                error: Some(e.to_string()),
            },
        };
        out.push(panel);
    }
    out
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account/connected-applications")?;
    let user = caller.user().or_page(&caller)?.id;
    let rows = connect::connections_of(&state, user)
        .await
        .or_page(&caller)?
        .into_iter()
        .map(|c| Row {
            id: c.link.link_id.clone(),
            name: c.link.name.clone(),
            url: c.link.url.clone(),
            status: match c.status.as_str() {
                "connected" => "Connected",
                "revoked" => "Revoked by the remote: connect again",
                _ => "Not connected",
            },
            since: c.connected_at.map(display).unwrap_or_default(),
        })
        .collect();
    let panels = panels(&state, user).await;
    Ok(render(&ConnectionsPage {
        nav: Nav::of(&caller),
        rows,
        panels,
    }))
}

/// `connect` (off to the remote to authorize) or `disconnect`.
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> UiResult {
    let (s, c, p) = (State(state), caller.clone(), Path(id));
    match action.as_str() {
        "connect" => {
            let axum::Json(v) = connect::connect(s, c, p).await.or_page(&caller)?;
            Ok(Redirect::to(v["authorizeUrl"].as_str().unwrap_or("/")).into_response())
        }
        "disconnect" => {
            connect::disconnect(s, c, p).await.or_page(&caller)?;
            Ok(see_other("/account/connected-applications"))
        }
        _ => Err(super::UiError::no_such_action(&caller)),
    }
}

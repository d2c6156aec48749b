//! Account → Connected applications: the signed-in user's accounts at linked applications
//! (connect, status, disconnect), and a panel of what each connected remote shows them, fetched
//! live through the link (for a Junction remote: their projects there).

use super::{render, require_user, CsrfForm, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::services::host::link_connections as host_conn;
use crate::services::links::call::RemoteRequest;
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

/// A panel waits at most this long for its remote, so one slow remote cannot hold the page.
const PANEL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Fetches each connected Junction remote's projects as the user, all at once.
pub async fn panels(state: &AppState, user_id: i64) -> Vec<Panel> {
    let Ok(list) = host_conn::connections_of(&state.host(), user_id).await else {
        return Vec::new();
    };
    let mut fetches = tokio::task::JoinSet::new();
    for (i, c) in list
        .into_iter()
        .filter(|c| c.status == "connected" && c.link.type_id == "junction")
        .enumerate()
    {
        let state = state.clone();
        fetches.spawn(async move {
            let fetch = projects_at(&state, &c.link, user_id);
            let panel = tokio::time::timeout(PANEL_TIMEOUT, fetch)
                .await
                .unwrap_or_else(|_| Err(format!("{} did not answer in time.", c.link.name)));
            let (items, error) = match panel {
                Ok(items) => (items, None),
                Err(e) => (Vec::new(), Some(e)),
            };
            (
                i,
                Panel {
                    name: c.link.name.clone(),
                    items,
                    error,
                },
            )
        });
    }
    let mut out: Vec<(usize, Panel)> = fetches.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, p)| p).collect()
}

/// The user's projects on a Junction remote, as (key, name).
async fn projects_at(
    state: &AppState,
    link: &crate::store::AppLink,
    user_id: i64,
) -> Result<Vec<(String, String)>, String> {
    let req = RemoteRequest {
        method: reqwest::Method::GET,
        path: "/rest/api/1.0/projects",
        query: Some("limit=25"),
        body: None,
    };
    let r = state
        .links
        .call_as_user(link, user_id, req)
        .await
        .map_err(|e| e.to_string())?;
    if !r.is_success() {
        return Err(format!("{} answered HTTP {}.", link.name, r.status));
    }
    Ok(r.json()
        .and_then(|j| j["values"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap_or_default().to_string(),
                p["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> UiResult {
    require_user(&caller, "/account/connected-applications")?;
    let user = caller.user().or_page(&caller)?.id;
    let rows = host_conn::connections_of(&state.host(), user)
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
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> UiResult {
    let (host, who) = (state.host(), caller.principal());
    match action.as_str() {
        "disconnect" if !crate::web::confirm::confirmed(&fields) => {
            let ask = crate::web::confirm::Ask {
                question: "Disconnect your account from this application?".into(),
                consequence: "Junction forgets your tokens for it; features that act for you there stop until you connect again.",
                button: "Disconnect",
                action: &format!("/account/connected-applications/{id}/disconnect"),
                back: "/account/connected-applications",
            };
            Ok(crate::web::confirm::ask_first(&caller, &ask, &fields))
        }
        "connect" => {
            let url = host_conn::connect(&host, &who, &id)
                .await
                .or_page(&caller)?;
            Ok(Redirect::to(&url).into_response())
        }
        "disconnect" => {
            host_conn::disconnect(&host, &who, &id)
                .await
                .or_page(&caller)?;
            let said = "Disconnected: Junction forgot your tokens for this application.";
            Ok(crate::web::flash::see_other_saying(
                "/account/connected-applications",
                said,
            ))
        }
        _ => Err(super::UiError::no_such_action(&caller)),
    }
}

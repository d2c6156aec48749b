//! Account → Apps → an app's webhooks: its `webhooks` modules (what each receives, its health)
//! and the latest deliveries, outcome first, so a developer sees why an event did not arrive.

use super::{render, require_user, Nav, OrPage, UiResult};
use crate::clock::display;
use crate::services::host::app_deliveries;
use crate::web::auth::Caller;
use crate::web::extract::Path;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;

pub struct Module {
    pub key: String,
    pub event: String,
    pub url: String,
    pub health: String,
}

pub struct Sent {
    pub module: String,
    pub event: String,
    pub state: &'static str,
    pub attempts: i64,
    pub outcome: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "app_webhooks.html")]
struct AppWebhooksPage {
    nav: Nav,
    name: String,
    account_note: String,
    modules: Vec<Module>,
    sent: Vec<Sent>,
}

pub async fn page(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> UiResult {
    require_user(&caller, &format!("/account/apps/{id}/webhooks"))?;
    let h = app_deliveries::history(&state.host(), &caller.principal(), id)
        .await
        .or_page(&caller)?;
    let modules = h
        .modules
        .into_iter()
        .map(|m| Module {
            health: match (&m.disabled_reason, m.paused_until, m.consecutive_failures) {
                (Some(reason), _, _) => format!("Disabled: {reason}"),
                (None, Some(until), _) => format!("Paused until {}", display(until)),
                (None, None, 0) => "Healthy".into(),
                (None, None, n) => format!("{n} failed in a row"),
            },
            key: m.module_key,
            event: m.event,
            url: m.url,
        })
        .collect();
    let sent = h
        .deliveries
        .into_iter()
        .map(|(module, d)| Sent {
            outcome: match (d.last_status, &d.last_error) {
                (_, Some(e)) => e.clone(),
                (Some(s), None) => format!("HTTP {s}"),
                (None, None) => "Not attempted yet".into(),
            },
            module,
            state: d.state.as_str(),
            attempts: d.attempts,
            at: display(d.created_at),
            event: d.event_key,
        })
        .collect();
    Ok(render(&AppWebhooksPage {
        nav: Nav::of(&caller),
        account_note: h.installation.client_key,
        name: h.installation.name,
        modules,
        sent,
    }))
}

//! Junction as an OAuth 2.0 authorization server (incoming application links), at the Data
//! Center paths under `/rest/oauth2/latest`.

pub mod authorize;
pub mod client_auth;
pub mod clients;
pub mod endpoints;
pub mod error;
pub mod service_accounts;
pub mod token;

use super::state::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Routes that need the authenticated caller (authorize, consent, userinfo, client admin).
pub fn router() -> Router<AppState> {
    let api = "/rest/oauth2/latest";
    Router::new()
        .route(
            "/rest/junction/1.0/service-accounts",
            get(service_accounts::list).post(service_accounts::create),
        )
        .route(
            "/rest/junction/1.0/service-accounts/{name}",
            axum::routing::delete(service_accounts::delete),
        )
        .route(&format!("{api}/authorize"), get(authorize::authorize))
        .route("/plugins/servlet/oauth2/consent", post(authorize::consent))
        .route(&format!("{api}/userinfo"), get(endpoints::userinfo))
        .route(
            &format!("{api}/client"),
            get(clients::list).post(clients::create),
        )
        .route(
            &format!("{api}/client/{{id}}"),
            get(clients::get)
                .put(clients::update)
                .delete(clients::delete),
        )
        .route(
            &format!("{api}/client/{{id}}/credentials"),
            get(clients::credentials),
        )
        .route(
            &format!("{api}/client/{{id}}/grants"),
            get(clients::grants).delete(clients::revoke_grants),
        )
        .route(
            &format!("{api}/client/reset/{{id}}"),
            post(clients::reset_secret),
        )
}

/// Routes where the client authenticates itself (no user session, no XSRF header): token,
/// revocation, introspection, metadata.
pub fn client_router() -> Router<AppState> {
    let api = "/rest/oauth2/latest";
    Router::new()
        .route(&format!("{api}/token"), post(token::token))
        .route(&format!("{api}/revoke"), post(endpoints::revoke))
        .route(&format!("{api}/introspect"), post(endpoints::introspect))
        .route(
            &format!("{api}/.well-known/oauth-authorization-server"),
            get(endpoints::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(endpoints::metadata),
        )
}

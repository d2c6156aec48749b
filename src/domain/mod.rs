//! The host domain: pure types and rules, no IO. Nothing here knows about HTTP or SQL.

pub mod access_tokens;
pub mod applinks;
pub mod authz;
pub mod build_status;
pub mod code_insights;
pub mod connect_descriptor;
pub mod connect_events;
pub mod connect_jwt;
pub mod connect_modules;
pub mod connect_qsh;
pub mod connect_scopes;
pub mod connect_ui;
pub mod diff;
pub mod git;
pub mod names;
pub mod oauth1;
pub mod oauth2;
pub mod permission;
pub mod pull_request;
pub mod redirect;
pub mod sign_in_throttle;
pub mod throttle;
pub mod visibility;
pub mod webhooks;

pub use authz::{
    authorize, Action, Capability, Ceiling, Denial, ResourceFacts, Subject, TokenPermission,
};
pub use names::{DisplayName, Email, ProjectKey, Slug, Username, ValidationError};
pub use permission::{
    facts_for, global_of, leaves_a_sys_admin, GlobalPermission, Grant, Level, ProjectPermission,
    RepoPermission, Restriction, ScopedGrant,
};

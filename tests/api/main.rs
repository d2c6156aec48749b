//! Integration tests: the real server, over HTTP, on SQLite and PostgreSQL.

mod harness;

mod applinks;
mod applinks_oidc;
mod applinks_pairing;
mod audit_atomic;
mod auth;
mod cli;
mod credentials;
mod hardening;
mod health;
mod interop;
mod last_admin;
mod oauth2;
mod oauth2_issuance;
mod pages;
mod permissions;
mod projects;
mod pulls;
mod receiver;
mod redirects;
mod remote;
mod sign_in;
mod storage;
mod tokens;
mod ui;
mod ui_forms;
mod users;
mod visibility;
mod webhooks;
mod webhooks_crash;
mod webhooks_interop;
mod webhooks_pacing;
mod webhooks_rules;
mod webhooks_stats;
mod webhooks_ui;

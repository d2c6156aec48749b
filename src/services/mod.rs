//! Services: operations that combine the store, the domain rules and side effects (hashing,
//! auditing). Handlers call these; these never see HTTP.

pub mod apps;
pub mod audit;
pub mod git;
pub mod host;
pub mod links;
pub mod oauth2;
pub mod outbound;
pub mod passwords;
pub mod sign_in;
pub mod webhooks;

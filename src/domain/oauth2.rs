//! OAuth 2.0 rules that need no IO: Bitbucket Data Center scopes and the capabilities they grant,
//! PKCE (RFC 7636), and redirect URI validation and matching (RFC 9700: exact match).

use super::authz::{Capability, Ceiling};
use sha2::{Digest, Sha256};
use std::fmt;

/// Bitbucket DC scopes, lowest first; each implies those before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    PublicRepos,
    AccountWrite,
    RepoRead,
    RepoWrite,
    RepoAdmin,
    ProjectAdmin,
    AdminWrite,
    SystemAdmin,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::PublicRepos,
        Scope::AccountWrite,
        Scope::RepoRead,
        Scope::RepoWrite,
        Scope::RepoAdmin,
        Scope::ProjectAdmin,
        Scope::AdminWrite,
        Scope::SystemAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PublicRepos => "PUBLIC_REPOS",
            Scope::AccountWrite => "ACCOUNT_WRITE",
            Scope::RepoRead => "REPO_READ",
            Scope::RepoWrite => "REPO_WRITE",
            Scope::RepoAdmin => "REPO_ADMIN",
            Scope::ProjectAdmin => "PROJECT_ADMIN",
            Scope::AdminWrite => "ADMIN_WRITE",
            Scope::SystemAdmin => "SYSTEM_ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// What a person sees on the consent page.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::PublicRepos => "View your account and public repositories",
            Scope::AccountWrite => "Change your account details",
            Scope::RepoRead => {
                "Read the repositories you can read, and create and comment on pull requests"
            }
            Scope::RepoWrite => "Write to repositories you can write to, and merge pull requests",
            Scope::RepoAdmin => "Administer repositories you administer (settings, permissions)",
            Scope::ProjectAdmin => {
                "Administer projects you administer, and delete their repositories"
            }
            Scope::AdminWrite => {
                "Perform most administrative functions, if you are an administrator"
            }
            Scope::SystemAdmin => {
                "Perform all administrative functions, if you are a system administrator"
            }
        }
    }

    /// The capabilities this scope alone adds to those of the scopes below it.
    fn adds(self) -> &'static [Capability] {
        use Capability::*;
        match self {
            Scope::PublicRepos => &[ReadPublicRepos, ReadAccount],
            Scope::AccountWrite => &[WriteAccount],
            Scope::RepoRead => &[ReadRepos, ParticipatePullRequests],
            Scope::RepoWrite => &[WriteRepos],
            Scope::RepoAdmin => &[AdminRepos],
            Scope::ProjectAdmin => &[DeleteRepos, AdminProjects],
            Scope::AdminWrite => &[AdminWrite],
            Scope::SystemAdmin => &[SystemAdmin],
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of granted scopes, kept as its highest member (the order is linear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScopeSet(pub Scope);

impl ScopeSet {
    /// Parses a space-separated list; empty means `PUBLIC_REPOS` (Bitbucket's "none selected").
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut top = Scope::PublicRepos;
        for word in raw.split([' ', '+', ',']).filter(|w| !w.is_empty()) {
            let s = Scope::parse(word).ok_or_else(|| {
                format!(
                    "'{word}' is not a scope; use {}",
                    Scope::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            top = top.max(s);
        }
        Ok(ScopeSet(top))
    }

    pub fn implies(self, other: ScopeSet) -> bool {
        self.0 >= other.0
    }

    /// Every scope granted, lowest first (as shown on the consent page).
    pub fn expanded(self) -> Vec<Scope> {
        Scope::ALL.into_iter().filter(|s| *s <= self.0).collect()
    }

    /// The canonical text stored and returned: the highest scope (it implies the rest).
    pub fn as_str(self) -> &'static str {
        self.0.as_str()
    }

    /// The ceiling a token with these scopes carries.
    pub fn ceiling(self) -> Ceiling {
        let caps: Vec<Capability> = self
            .expanded()
            .iter()
            .flat_map(|s| s.adds().iter().copied())
            .collect();
        Ceiling::of(&caps)
    }
}

/// The PKCE methods accepted: S256 only unless `plain` is allowed by configuration.
pub fn pkce_methods(allow_plain: bool) -> &'static [&'static str] {
    if allow_plain {
        &["S256", "plain"]
    } else {
        &["S256"]
    }
}

/// Verifies a PKCE `code_verifier` against the stored challenge (RFC 7636 §4.6).
pub fn pkce_matches(verifier: &str, challenge: &str, method: &str) -> bool {
    if !valid_pkce_value(verifier) {
        return false;
    }
    let computed = match method {
        "S256" => {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()))
        }
        "plain" => verifier.to_string(),
        _ => return false,
    };
    crate::secret::constant_time_eq(&computed, challenge)
}

/// `[A-Za-z0-9-._~]{43,128}`, for verifiers and challenges alike.
pub fn valid_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

pub const MAX_REDIRECT_LEN: usize = 450;

/// A redirect URI an admin may register: absolute, no fragment, at most 450 characters, https
/// or http on a loopback host.
pub fn check_redirect_uri(raw: &str) -> Result<(), String> {
    if raw.len() > MAX_REDIRECT_LEN {
        return Err(format!(
            "Redirect URLs must be at most {MAX_REDIRECT_LEN} characters."
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| format!("'{raw}' is not an absolute URL."))?;
    if url.fragment().is_some() {
        return Err(format!("'{raw}' must not contain a fragment (#...)."));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "'{raw}' must use https (http is allowed only for localhost)."
        )),
    }
}

/// The redirect URI a request may use: exactly one registered, compared as strings.
pub fn redirect_allowed(registered: &[String], requested: &str) -> bool {
    registered.iter().any(|r| r == requested)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_scope_creates_credentials() {
        use crate::domain::authz::{authorize, Action, Denial, Subject, CREDENTIAL_NEEDS_PERSON};
        use crate::domain::GlobalPermission;
        for scope in Scope::ALL {
            let sys_admin = Subject {
                user_id: Some(1),
                global: Some(GlobalPermission::SysAdmin),
                ceiling: ScopeSet(scope).ceiling(),
            };
            for action in [Action::CreateOwnCredential, Action::AdminCredentials] {
                assert_eq!(
                    authorize(&sys_admin, action, None),
                    Err(Denial::BeyondScope {
                        why: CREDENTIAL_NEEDS_PERSON,
                        needs: None,
                    }),
                    "{scope} must not {action:?}"
                );
            }
        }
    }

    #[test]
    fn rfc7636_appendix_b_vector() {
        // RFC 7636 Appendix B. (../shared/reference/oauth2.md quotes a different challenge,
        // "...URWKJWoPSMBv9gk", which is not SHA-256 of this verifier; the RFC's value is.)
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge, "S256"));
        assert!(!pkce_matches(verifier, challenge, "plain"));
        assert!(pkce_matches(verifier, verifier, "plain"));
        assert!(!pkce_matches("short", "short", "plain"));
        assert!(!pkce_matches(verifier, challenge, "S512"));
    }

    #[test]
    fn scopes_parse_and_imply() {
        assert_eq!(ScopeSet::parse("").unwrap(), ScopeSet(Scope::PublicRepos));
        assert_eq!(
            ScopeSet::parse("REPO_READ ACCOUNT_WRITE").unwrap(),
            ScopeSet(Scope::RepoRead)
        );
        assert!(ScopeSet::parse("REPO_READ nope")
            .unwrap_err()
            .contains("'nope'"));
        assert!(ScopeSet(Scope::RepoWrite).implies(ScopeSet(Scope::RepoRead)));
        assert!(!ScopeSet(Scope::RepoRead).implies(ScopeSet(Scope::RepoWrite)));
        assert_eq!(
            ScopeSet(Scope::RepoRead).expanded(),
            vec![Scope::PublicRepos, Scope::AccountWrite, Scope::RepoRead]
        );
    }

    #[test]
    fn scope_ceilings() {
        let public = ScopeSet(Scope::PublicRepos).ceiling();
        assert!(
            public.allows(Capability::ReadPublicRepos) && public.allows(Capability::ReadAccount)
        );
        assert!(!public.allows(Capability::ReadRepos));
        let read = ScopeSet(Scope::RepoRead).ceiling();
        assert!(read.allows(Capability::ReadRepos) && !read.allows(Capability::WriteRepos));
        assert!(ScopeSet(Scope::RepoWrite)
            .ceiling()
            .allows(Capability::WriteRepos));
        assert!(!ScopeSet(Scope::AdminWrite)
            .ceiling()
            .allows(Capability::SystemAdmin));
        assert!(ScopeSet(Scope::SystemAdmin)
            .ceiling()
            .allows(Capability::SystemAdmin));
    }

    #[test]
    fn redirect_rules() {
        assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://localhost:8080/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1/cb").is_ok());
        for bad in [
            "http://app.example.com/cb",
            "https://x/cb#frag",
            "/relative",
            "javascript:alert(1)",
            &format!("https://x/{}", "a".repeat(450)),
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        /// Scope implication is a total order consistent with the capability sets it grants.
        #[test]
        fn implication_matches_capabilities(a in 0usize..8, b in 0usize..8) {
            let (sa, sb) = (ScopeSet(Scope::ALL[a]), ScopeSet(Scope::ALL[b]));
            if sa.implies(sb) {
                for cap in [Capability::ReadPublicRepos, Capability::ReadAccount, Capability::WriteAccount, Capability::ReadRepos,
                            Capability::WriteRepos, Capability::AdminRepos, Capability::DeleteRepos, Capability::AdminProjects,
                            Capability::AdminWrite, Capability::SystemAdmin] {
                    prop_assert!(!sb.ceiling().allows(cap) || sa.ceiling().allows(cap));
                }
            }
            prop_assert!(sa.implies(sb) || sb.implies(sa));
        }

        /// Only an exactly registered URI matches: any change to it is refused.
        #[test]
        fn redirect_matching_is_exact(suffix in "[a-zA-Z0-9/?=&.%-]{1,12}") {
            let registered = vec!["https://app.example.com/callback".to_string()];
            prop_assert!(redirect_allowed(&registered, "https://app.example.com/callback"));
            let altered = format!("https://app.example.com/callback{suffix}");
            prop_assert!(!redirect_allowed(&registered, &altered));
            let prefix = format!("{suffix}https://app.example.com/callback");
            prop_assert!(!redirect_allowed(&registered, &prefix));
        }
    }
}

//! Connect scopes (Bitbucket Cloud's vocabulary): the strings a descriptor declares, what each
//! implies, the words a person reads on the consent page, and the capabilities they grant in the
//! one lattice `authorize()` decides on (the mapping in `../shared/design.md`).

use super::authz::{Capability, Ceiling};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectScope {
    Account,
    AccountWrite,
    Repository,
    RepositoryWrite,
    RepositoryAdmin,
    RepositoryDelete,
    PullRequest,
    PullRequestWrite,
    Webhook,
    Project,
    ProjectAdmin,
    Team,
    TeamWrite,
    Email,
    Issue,
    IssueWrite,
    Wiki,
    Snippet,
    SnippetWrite,
    Pipeline,
    PipelineWrite,
    PipelineVariable,
    Runner,
    RunnerWrite,
}

use ConnectScope::*;

impl ConnectScope {
    pub const ALL: [ConnectScope; 24] = [
        Account,
        AccountWrite,
        Repository,
        RepositoryWrite,
        RepositoryAdmin,
        RepositoryDelete,
        PullRequest,
        PullRequestWrite,
        Webhook,
        Project,
        ProjectAdmin,
        Team,
        TeamWrite,
        Email,
        Issue,
        IssueWrite,
        Wiki,
        Snippet,
        SnippetWrite,
        Pipeline,
        PipelineWrite,
        PipelineVariable,
        Runner,
        RunnerWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Account => "account",
            AccountWrite => "account:write",
            Repository => "repository",
            RepositoryWrite => "repository:write",
            RepositoryAdmin => "repository:admin",
            RepositoryDelete => "repository:delete",
            PullRequest => "pullrequest",
            PullRequestWrite => "pullrequest:write",
            Webhook => "webhook",
            Project => "project",
            ProjectAdmin => "project:admin",
            Team => "team",
            TeamWrite => "team:write",
            Email => "email",
            Issue => "issue",
            IssueWrite => "issue:write",
            Wiki => "wiki",
            Snippet => "snippet",
            SnippetWrite => "snippet:write",
            Pipeline => "pipeline",
            PipelineWrite => "pipeline:write",
            PipelineVariable => "pipeline:variable",
            Runner => "runner",
            RunnerWrite => "runner:write",
        }
    }

    /// Descriptors are written by people: any letter case is the same scope.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// What a person reads on the consent page.
    pub fn describe(self) -> &'static str {
        match self {
            Account => "Read your account information",
            AccountWrite => "Read and modify your account information",
            Repository => "Read your repositories",
            RepositoryWrite => "Read and modify your repositories",
            RepositoryAdmin => "Administer your repositories",
            RepositoryDelete => "Delete your repositories",
            PullRequest => "Read your repositories and their pull requests",
            PullRequestWrite => "Read and modify your repositories and their pull requests",
            Webhook => "Read and modify your repositories' webhooks",
            Project => "Read your workspace's project settings and read repositories contained within your workspace's projects",
            ProjectAdmin => "Read and modify settings for projects in your workspace",
            Team => "Read your team membership information",
            TeamWrite => "Read and modify your team membership information",
            Email => "Read your account's e-mail addresses",
            Issue => "Read your repositories' issues",
            IssueWrite => "Read and modify your repositories' issues",
            Wiki => "Read and modify your repositories' wikis",
            Snippet => "Read your snippets",
            SnippetWrite => "Read and modify your snippets",
            Pipeline => "Read your pipelines",
            PipelineWrite => "Read and modify your pipelines",
            PipelineVariable => "Read and modify your pipeline variables",
            Runner => "Read your runners",
            RunnerWrite => "Read and modify your runners",
        }
    }

    /// Scopes this one brings with it (Bitbucket's rules: `pullrequest` implies `repository`,
    /// `pullrequest:write` implies `pullrequest` and `repository:write`, a `:write` its read).
    fn implies(self) -> &'static [ConnectScope] {
        match self {
            AccountWrite => &[Account],
            RepositoryWrite => &[Repository],
            PullRequest => &[Repository],
            PullRequestWrite => &[PullRequest, Repository, RepositoryWrite],
            ProjectAdmin => &[Project],
            TeamWrite => &[Team],
            IssueWrite => &[Issue],
            SnippetWrite => &[Snippet],
            PipelineWrite => &[Pipeline],
            RunnerWrite => &[Runner],
            _ => &[],
        }
    }

    /// The capabilities this scope grants (design.md's table; scopes for features Junction
    /// does not have — issues, wikis, snippets, pipelines, runners — grant none).
    fn grants(self) -> &'static [Capability] {
        use Capability::*;
        match self {
            Account | Team | Email => &[ReadAccount],
            AccountWrite | TeamWrite => &[ReadAccount, WriteAccount],
            Repository | PullRequest | Project => &[ReadPublicRepos, ReadRepos],
            RepositoryWrite => &[WriteRepos],
            PullRequestWrite => &[WriteRepos, ParticipatePullRequests],
            RepositoryAdmin | Webhook => &[AdminRepos],
            RepositoryDelete => &[DeleteRepos],
            ProjectAdmin => &[AdminProjects],
            _ => &[],
        }
    }
}

/// A set of Connect scopes, as declared (not expanded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectScopes(u32);

impl ConnectScopes {
    /// Every scope: what a descriptor without `scopes` asks for.
    pub fn all() -> Self {
        ConnectScope::ALL.into_iter().collect()
    }

    pub fn contains(self, s: ConnectScope) -> bool {
        self.0 & (1 << s as u32) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = ConnectScope> {
        ConnectScope::ALL
            .into_iter()
            .filter(move |s| self.contains(*s))
    }

    /// These scopes with everything they imply.
    pub fn expanded(self) -> Self {
        let mut out = self;
        for s in self.iter() {
            for i in s.implies() {
                out.0 |= 1 << *i as u32;
            }
        }
        out
    }

    /// Whether every scope of `other` is among these (after implications).
    pub fn covers(self, other: ConnectScopes) -> bool {
        let mine = self.expanded().0;
        other.expanded().0 & !mine == 0
    }

    /// Space-separated, as stored.
    pub fn to_text(self) -> String {
        self.iter()
            .map(ConnectScope::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads what `to_text` wrote; unknown words are ignored (a scope retired later).
    pub fn from_text(text: &str) -> Self {
        text.split_whitespace()
            .filter_map(ConnectScope::parse)
            .collect()
    }

    /// The ceiling of a credential carrying these scopes.
    pub fn ceiling(self) -> Ceiling {
        let caps: Vec<Capability> = self
            .expanded()
            .iter()
            .flat_map(|s| s.grants().iter().copied())
            .collect();
        Ceiling::of(&caps)
    }

    /// The lowest scope that grants `cap`, to name in a refusal.
    pub fn granting(cap: Capability) -> Option<ConnectScope> {
        ConnectScope::ALL
            .into_iter()
            .find(|s| s.grants().contains(&cap))
    }
}

impl FromIterator<ConnectScope> for ConnectScopes {
    fn from_iter<I: IntoIterator<Item = ConnectScope>>(iter: I) -> Self {
        ConnectScopes(iter.into_iter().fold(0, |acc, s| acc | (1 << s as u32)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_reads_back_from_its_name() {
        for s in ConnectScope::ALL {
            assert_eq!(ConnectScope::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            ConnectScope::parse("PullRequest:Write"),
            Some(PullRequestWrite)
        );
        assert_eq!(ConnectScope::parse("project:write"), None);
    }

    #[test]
    fn pullrequest_write_implies_repository_write() {
        let s: ConnectScopes = [PullRequestWrite].into_iter().collect();
        let e = s.expanded();
        assert!(e.contains(PullRequest) && e.contains(Repository) && e.contains(RepositoryWrite));
        assert!(s.ceiling().allows(Capability::WriteRepos));
        assert!(!s.ceiling().allows(Capability::AdminRepos));
    }

    #[test]
    fn read_scopes_never_reach_admin_or_credentials() {
        let s: ConnectScopes = [Account, Repository, PullRequest].into_iter().collect();
        let c = s.ceiling();
        assert!(c.allows(Capability::ReadRepos) && c.allows(Capability::ReadAccount));
        assert!(!c.allows(Capability::WriteRepos));
        assert!(!c.allows(Capability::WriteAccount));
        assert!(!c.is_person());
        assert!(!ConnectScopes::all()
            .ceiling()
            .allows(Capability::AdminWrite));
        assert!(!ConnectScopes::all()
            .ceiling()
            .allows(Capability::SystemAdmin));
    }

    #[test]
    fn covers_judges_after_implications() {
        let wide: ConnectScopes = [PullRequestWrite].into_iter().collect();
        let narrow: ConnectScopes = [Repository, PullRequest].into_iter().collect();
        assert!(wide.covers(narrow));
        assert!(!narrow.covers(wide));
    }

    #[test]
    fn text_round_trips() {
        let s: ConnectScopes = [Webhook, Account].into_iter().collect();
        assert_eq!(s.to_text(), "account webhook");
        assert_eq!(ConnectScopes::from_text(&s.to_text()), s);
    }

    #[test]
    fn the_scope_named_for_a_missing_capability_is_the_lowest_granting_it() {
        assert_eq!(
            ConnectScopes::granting(Capability::WriteRepos),
            Some(RepositoryWrite)
        );
        assert_eq!(
            ConnectScopes::granting(Capability::ReadRepos),
            Some(Repository)
        );
        assert_eq!(ConnectScopes::granting(Capability::SystemAdmin), None);
    }
}

//! Lists are filtered by visibility in the database. These tests build a random world (projects
//! and repositories public or not, users, teams, memberships, grants at every level) and check
//! that every list answers exactly what `authorize()` says about each row, in order and across
//! pages, for people, their personal access tokens, public-only OAuth tokens and anonymous
//! callers. The seed is printed; `JUNCTION_TEST_SEED=<n>` replays one.

use crate::both_backends;
use crate::harness::*;
use junction::domain::access_tokens::TokenPermissions;
use junction::domain::oauth2::ScopeSet;
use junction::domain::{authorize, facts_for, global_of, Action, Ceiling, Subject};
use reqwest::StatusCode;
use serde_json::Value;

/// A small deterministic generator (xorshift), so a failing world can be replayed.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("JUNCTION_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| wall_clock_ms() as u64 | 1);
        println!("visibility world seed: {seed} (replay with JUNCTION_TEST_SEED={seed})");
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const PROJECT_PERMISSIONS: [&str; 3] = ["PROJECT_READ", "PROJECT_WRITE", "PROJECT_ADMIN"];
const REPO_PERMISSIONS: [&str; 3] = ["REPO_READ", "REPO_WRITE", "REPO_ADMIN"];

/// The random world: returns the users' names.
async fn build_world(app: &TestApp, rng: &mut Rng) -> Vec<String> {
    let mut repos = Vec::new();
    for p in 0..6 {
        let key = format!("V{p}");
        app.project(&key, rng.chance(25)).await;
        for r in 0..1 + rng.below(5) {
            app.repo(&key, &format!("r{r}"), rng.chance(25)).await;
            repos.push(format!("/rest/api/1.0/projects/{key}/repos/r{r}"));
        }
    }
    let users: Vec<String> = (0..8).map(|i| format!("vu{i}")).collect();
    for u in &users {
        app.user(u).await;
    }
    let teams: Vec<String> = (0..3).map(|i| format!("vt{i}")).collect();
    for t in &teams {
        let r = app
            .call(
                reqwest::Method::POST,
                &format!("/rest/api/1.0/admin/groups?name={t}"),
                &admin(),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        for u in &users {
            if rng.chance(30) {
                let body = serde_json::json!({"user": u, "role": "member"});
                let r = app
                    .put(
                        &format!("/rest/junction/1.0/teams/{t}/members"),
                        &admin(),
                        body,
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            }
        }
    }
    // Grants at every level, to users and to teams.
    let holders: Vec<(&str, &String)> = users
        .iter()
        .map(|u| ("users", u))
        .chain(teams.iter().map(|t| ("groups", t)))
        .collect();
    for _ in 0..18 {
        let (kind, name) = *rng.pick(&holders);
        let (target, permission) = if rng.chance(50) {
            let p = rng.below(6);
            (
                format!("/rest/api/1.0/projects/V{p}"),
                *rng.pick(&PROJECT_PERMISSIONS),
            )
        } else {
            (rng.pick(&repos).clone(), *rng.pick(&REPO_PERMISSIONS))
        };
        let path = format!("{target}/permissions/{kind}?name={name}&permission={permission}");
        let r = app.call(reqwest::Method::PUT, &path, &admin(), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let u = rng.pick(&users);
    let path = format!("/rest/api/1.0/admin/permissions/users?name={u}&permission=ADMIN");
    let r = app.call(reqwest::Method::PUT, &path, &admin(), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    users
}

/// Who calls, with the subject the server will build for them.
struct Viewer {
    label: String,
    auth: Auth,
    subject: Subject,
    grants: Vec<junction::domain::ScopedGrant>,
}

async fn viewers(app: &TestApp, users: &[String]) -> Vec<Viewer> {
    let mut out = vec![Viewer {
        label: "anonymous".into(),
        auth: Auth::None,
        subject: Subject::ANONYMOUS,
        grants: Vec::new(),
    }];
    for (i, name) in users.iter().enumerate() {
        let account = app.store.find_account(name).await.unwrap().unwrap();
        let grants = app.store.grants_of_user(account.id).await.unwrap();
        let person = |ceiling| Subject {
            user_id: Some(account.id),
            global: global_of(&grants),
            ceiling,
        };
        let password = basic(name, &format!("{name}-password"));
        let (pat, _) = app.token(&password, "read").await;
        let read = TokenPermissions::from_requested(&["read".to_string()]).unwrap();
        out.push(Viewer {
            label: format!("{name} (password)"),
            auth: password,
            subject: person(Ceiling::Full),
            grants: grants.clone(),
        });
        out.push(Viewer {
            label: format!("{name} (read token)"),
            auth: pat,
            subject: person(read.ceiling()),
            grants: grants.clone(),
        });
        if i < 3 {
            let oauth = app.oauth_token(name, "PUBLIC_REPOS").await;
            let ceiling = ScopeSet::parse("PUBLIC_REPOS").unwrap().ceiling();
            out.push(Viewer {
                label: format!("{name} (PUBLIC_REPOS)"),
                auth: oauth,
                subject: person(ceiling),
                grants,
            });
        }
    }
    out
}

/// Every value of a paged list, walking the pages `limit` at a time.
async fn all_pages(app: &TestApp, path: &str, auth: &Auth, limit: usize) -> Vec<Value> {
    let (mut out, mut start) = (Vec::new(), 0);
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let r = app
            .get(&format!("{path}{sep}start={start}&limit={limit}"), auth)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        out.extend(r.body["values"].as_array().unwrap().iter().cloned());
        if r.body["isLastPage"] == true {
            return out;
        }
        start = r.body["nextPageStart"].as_i64().unwrap() as usize;
    }
}

fn ids(values: &[Value]) -> Vec<i64> {
    values.iter().map(|v| v["id"].as_i64().unwrap()).collect()
}

async fn repository_lists_answer_what_authorize_says(app: TestApp) {
    let mut rng = Rng::new();
    let users = build_world(&app, &mut rng).await;
    let everything = app.store.list_repositories(None).await.unwrap();
    for v in viewers(&app, &users).await {
        for (permission, action) in [
            ("REPO_READ", Action::ViewRepo),
            ("REPO_WRITE", Action::WriteRepo),
            ("REPO_ADMIN", Action::AdminRepo),
        ] {
            let expected: Vec<i64> = everything
                .iter()
                .filter(|r| {
                    let facts = facts_for(
                        &v.grants,
                        None,
                        r.project_id,
                        Some(r.id),
                        r.readable_by_anyone(),
                        false,
                    );
                    authorize(&v.subject, action, Some(&facts)).is_ok()
                })
                .map(|r| r.id)
                .collect();
            let path = format!("/rest/api/1.0/repos?permission={permission}");
            let listed = ids(&all_pages(&app, &path, &v.auth, 1000).await);
            assert_eq!(listed, expected, "{} asking for {permission}", v.label);
            // Paging in small steps gives the same rows in the same order.
            let paged = ids(&all_pages(&app, &path, &v.auth, 1 + rng.below(4)).await);
            assert_eq!(
                paged, expected,
                "{} asking for {permission}, paged",
                v.label
            );
        }
    }
}

async fn project_lists_answer_what_authorize_says(app: TestApp) {
    let mut rng = Rng::new();
    let users = build_world(&app, &mut rng).await;
    let projects = app.store.list_projects().await.unwrap();
    let repos = app.store.list_repositories(None).await.unwrap();
    for v in viewers(&app, &users).await {
        let expected: Vec<i64> = projects
            .iter()
            .filter(|p| {
                let facts = facts_for(&v.grants, None, p.id, None, p.public, p.has_public_repo);
                authorize(&v.subject, Action::ViewProject, Some(&facts)).is_ok()
            })
            .map(|p| p.id)
            .collect();
        let listed = ids(&all_pages(&app, "/rest/api/1.0/projects", &v.auth, 1000).await);
        assert_eq!(listed, expected, "{}: projects", v.label);
        let paged = ids(&all_pages(&app, "/rest/api/1.0/projects", &v.auth, 2).await);
        assert_eq!(paged, expected, "{}: projects, paged", v.label);
        // Each visible project's own list holds its repositories the viewer may read.
        for p in projects.iter().filter(|p| expected.contains(&p.id)) {
            let want: Vec<i64> = repos
                .iter()
                .filter(|r| r.project_id == p.id)
                .filter(|r| {
                    let facts = facts_for(
                        &v.grants,
                        None,
                        r.project_id,
                        Some(r.id),
                        r.readable_by_anyone(),
                        false,
                    );
                    authorize(&v.subject, Action::ViewRepo, Some(&facts)).is_ok()
                })
                .map(|r| r.id)
                .collect();
            let path = format!("/rest/api/1.0/projects/{}/repos", p.key);
            let got = ids(&all_pages(&app, &path, &v.auth, 2).await);
            assert_eq!(got, want, "{}: repositories of {}", v.label, p.key);
        }
    }
}

async fn search_filters_combine_with_visibility(app: TestApp) {
    app.project("SA", false).await;
    app.project("SB", true).await;
    app.repo("SA", "Alpha_1", false).await;
    app.repo("SA", "alpha.2", true).await;
    app.repo("SB", "beta", false).await;
    let u = app.user("searcher").await;
    app.grant(
        "/rest/api/1.0/projects/SA/repos/alpha_1",
        "searcher",
        "REPO_READ",
    )
    .await;
    // Name contains, any case; `_` and `%` are literal characters, not wildcards.
    let r = app.get("/rest/api/1.0/repos?name=ALPHA", &u).await;
    assert_eq!(slugs(&r), ["alpha.2", "alpha_1"]);
    let r = app.get("/rest/api/1.0/repos?name=a_", &u).await;
    assert_eq!(slugs(&r), ["alpha_1"]);
    let r = app.get("/rest/api/1.0/repos?name=%25", &u).await;
    assert_eq!(slugs(&r), Vec::<String>::new());
    let r = app.get("/rest/api/1.0/repos?visibility=private", &u).await;
    assert_eq!(slugs(&r), ["alpha_1"]);
    let r = app
        .get(
            "/rest/api/1.0/repos?visibility=public&projectname=project%20sb",
            &u,
        )
        .await;
    assert_eq!(slugs(&r), ["beta"]);
    let r = app.get("/rest/api/1.0/projects?name=sb", &u).await;
    let keys: Vec<&str> = r.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["SB"]);
}

/// The slugs of a repository list answer.
fn slugs(r: &Response) -> Vec<String> {
    r.body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["slug"].as_str().unwrap().to_string())
        .collect()
}

/// The slugs of the first page of `GET /repos` as `auth` sees it.
async fn names(app: &TestApp, auth: Auth) -> Vec<String> {
    let r = app.get("/rest/api/1.0/repos?limit=25", &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    slugs(&r)
}

/// A list page asked twice in a row may be served from memory; every change that alters it
/// (a repository created, made public, deleted) shows on the very next request.
async fn lists_show_each_change_at_once(app: TestApp) {
    app.project("LIVE", false).await;
    app.repo("LIVE", "first", false).await;
    assert_eq!(names(&app, admin()).await, ["first"]);
    assert_eq!(names(&app, admin()).await, ["first"]);
    app.repo("LIVE", "second", false).await;
    assert_eq!(names(&app, admin()).await, ["first", "second"]);
    assert!(names(&app, Auth::None).await.is_empty());
    let r = app
        .put(
            "/rest/api/1.0/projects/LIVE/repos/second",
            &admin(),
            serde_json::json!({"public": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(names(&app, Auth::None).await, ["second"]);
    let r = app
        .delete("/rest/api/1.0/projects/LIVE/repos/second", &admin())
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert!(names(&app, Auth::None).await.is_empty());
    assert_eq!(names(&app, admin()).await, ["first"]);
}

both_backends!(
    repository_lists_answer_what_authorize_says,
    lists_show_each_change_at_once,
    project_lists_answer_what_authorize_says,
    search_filters_combine_with_visibility,
);

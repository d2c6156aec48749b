//! App UI modules: panels, pages and links of installed apps inside Junction's pages, each an
//! iframe of the app's own URL with its context parameters (only those its scopes allow), the
//! Bitbucket parameters and a JWT for exactly that GET; shown only where the installation
//! reaches and to whom its conditions allow; framed only by the apps on the page.

use crate::both_backends;
use crate::connect_app::{development_mode, install, install_from, page, FakeApp};
use crate::harness::TestApp;
use junction::domain::{connect_jwt, connect_qsh};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PANEL_URL: &str =
    "/panel?repo={repository.uuid}&name={repository.full_name}&pr={pullrequest.id}&me={user.uuid}";

/// uma may write PRJ/code; `fake` (with `modules` besides its webhook) is installed in her
/// account. Her browser.
async fn uma_with_app(app: &TestApp, fake: &FakeApp, modules: Value) -> reqwest::Client {
    app.user("uma").await;
    let b = crate::oauth2::browser(app, "uma", "uma-password").await;
    development_mode(app, &b).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uma", "REPO_WRITE")
        .await;
    fake.edit(|d| {
        for (k, v) in modules.as_object().unwrap() {
            d["modules"][k] = v.clone();
        }
    });
    let r = install(app, &b, fake, "uma").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    b
}

fn panel(url: &str, location: &str) -> Value {
    json!([{"key": "panel", "name": {"value": "Quality"}, "url": url, "location": location}])
}

/// The `src` of the iframe with this id on the page, unescaped.
fn frame_src(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let src = &html[at..];
    let start = src.find("src=\"")? + 5;
    let raw = &src[start..start + src[start..].find('"')?];
    Some(raw.replace("&amp;", "&").replace("&#x3D;", "="))
}

/// The first link inside the element with this id.
fn first_link_in(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page: {html}"));
    let after = html[at..].split("href=\"").nth(1).expect("a link");
    after.split('"').next().unwrap().to_string()
}

fn panel_id(html: &str) -> String {
    let at = html.find("id=\"app-panel-").expect("an app panel");
    html[at + 4..].split('"').next().unwrap().to_string()
}

/// The claims of the frame's token, verified with the app's secret against its own GET.
fn verified(fake: &FakeApp, app: &TestApp, src: &str) -> connect_jwt::Claims<'static> {
    let (url, token) = src.split_once("&jwt=").expect("a token");
    let u = url::Url::parse(url).unwrap();
    let canonical = connect_qsh::canonical_request("GET", u.path(), u.query().unwrap(), "");
    let secret = fake.installed()["sharedSecret"]
        .as_str()
        .unwrap()
        .to_string();
    let now = junction::clock::Clock::now_ms(&app.clock) / 1000;
    let expected = connect_jwt::Expected {
        canonical_request: &canonical,
        context_allowed: false,
    };
    connect_jwt::verify(token, secret.as_bytes(), now, &expected).expect("a token the app accepts")
}

async fn uuid_of(app: &TestApp, who: &str) -> String {
    let r = app
        .get(
            "/2.0/user",
            &crate::harness::basic(who, &format!("{who}-password")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["uuid"].as_str().unwrap().to_string()
}

async fn a_panel_is_a_signed_frame_with_the_context_its_scopes_allow(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    let modules = json!({"webPanels": panel(PANEL_URL, "org.bitbucket.repository.overview.informationPanel")});
    let b = uma_with_app(&app, &fake, modules).await;

    let r = b
        .get(format!("{}/projects/PRJ/repos/code", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.ends_with(&format!("; frame-src {}", fake.base)),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    let src = frame_src(&html, &panel_id(&html)).expect("the panel's frame");
    let repo_uuid = app
        .get("/2.0/repositories/prj/code", &crate::harness::admin())
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let expected_start = format!(
        "{}/panel?repo={}&name=PRJ%2Fcode&pr=&me=&xdm_e={}&xdm_c=com.example.reviewer__panel&cp=&lic=none&cv=1.1.0&jwt=",
        fake.base,
        connect_qsh::encode(&repo_uuid),
        connect_qsh::encode(&app.base),
    );
    assert!(src.starts_with(&expected_start), "{src}\n{expected_start}");
    let claims = verified(&fake, &app, &src);
    let client_key = fake.installed()["clientKey"].as_str().unwrap().to_string();
    assert_eq!(claims.iss, client_key);
    assert_eq!(
        claims.sub.as_deref(),
        Some(uuid_of(&app, "uma").await.as_str())
    );
    assert!(html.contains(r#"sandbox="allow-scripts allow-forms allow-same-origin allow-popups""#));
}

async fn a_page_without_apps_frames_nothing(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    let b = uma_with_app(&app, &fake, json!({})).await;
    let r = b
        .get(format!("{}/projects/PRJ/repos/code", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-security-policy"],
        "frame-ancestors 'none'; default-src 'self'; style-src 'self' 'unsafe-inline'"
    );
    assert!(!r.text().await.unwrap().contains("<iframe"));
}

async fn modules_show_only_where_the_installation_reaches_and_to_its_people(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    let modules =
        json!({"webPanels": panel("/panel", "org.bitbucket.repository.overview.informationPanel")});
    let b = uma_with_app(&app, &fake, modules).await;
    // A public repository uma reads but her account holds no grant on: the app does not reach it.
    app.project("PUB", true).await;
    app.repo("PUB", "open", true).await;
    let (status, html) = page(&app, &b, "/projects/PUB/repos/open").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("app-panel-"), "{html}");
    // ivy reads PRJ/code too, but the app is uma's own.
    app.user("ivy").await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "ivy", "REPO_READ")
        .await;
    let ivy = crate::oauth2::browser(&app, "ivy", "ivy-password").await;
    let (status, html) = page(&app, &ivy, "/projects/PRJ/repos/code").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("app-panel-"), "{html}");
    // uma, whose account it is installed in, sees it.
    let (_, html) = page(&app, &b, "/projects/PRJ/repos/code").await;
    assert!(html.contains("app-panel-"), "{html}");
}

async fn conditions_decide_who_sees_a_module(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    let modules = json!({"webPanels": [{
        "key": "admins", "name": {"value": "For admins"}, "url": "/admins",
        "location": "org.bitbucket.repository.overview.informationPanel",
        "conditions": [{"condition": "has_permission", "params": {"permission": "admin"}}]}]});
    let b = uma_with_app(&app, &fake, modules).await;
    let (_, html) = page(&app, &b, "/projects/PRJ/repos/code").await;
    assert!(!html.contains("For admins"), "uma only writes: {html}");
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uma", "REPO_ADMIN")
        .await;
    let (_, html) = page(&app, &b, "/projects/PRJ/repos/code").await;
    assert!(html.contains("For admins"), "{html}");
}

async fn a_repository_page_is_linked_and_framed_on_its_own_page(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    let modules = json!({"repoPages": [{"key": "report", "name": {"value": "Report"}, "url": "/report?r={repository.full_name}"}]});
    let b = uma_with_app(&app, &fake, modules).await;
    let (_, html) = page(&app, &b, "/projects/PRJ/repos/code").await;
    let href = first_link_in(&html, "app-links");
    assert!(
        href.starts_with("/projects/PRJ/repos/code/apps/") && href.ends_with("/report"),
        "{href}"
    );
    let (status, html) = page(&app, &b, &href).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let id = html
        .split("id=\"app-frame-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let src = frame_src(&html, &format!("app-frame-{id}")).unwrap();
    assert!(
        src.starts_with(&format!("{}/report?r=PRJ%2Fcode&xdm_e=", fake.base)),
        "{src}"
    );
    verified(&fake, &app, &src);
    // Anyone else: the page does not exist for them.
    app.user("ivy").await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "ivy", "REPO_READ")
        .await;
    let ivy = crate::oauth2::browser(&app, "ivy", "ivy-password").await;
    let (status, html) = page(&app, &ivy, &href).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("No installed app shows a page"), "{html}");
}

async fn the_pull_request_panel_gets_the_pull_request(app: TestApp) {
    let fake = FakeApp::start(json!(["pullrequest"])).await;
    let modules = json!({"webPanels": panel(PANEL_URL, "org.bitbucket.pullrequest.overview.informationPanel")});
    let b = uma_with_app(&app, &fake, modules).await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    let r = app
        .post(
            "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
            &crate::harness::admin(),
            json!({"title": "Add feature", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (_, html) = page(&app, &b, "/projects/PRJ/repos/code").await;
    assert!(
        !html.contains("app-panel-"),
        "a pull request panel is not a repository's"
    );
    let (status, html) = page(&app, &b, "/projects/PRJ/repos/code/pull-requests/1").await;
    assert_eq!(status, StatusCode::OK);
    let src = frame_src(&html, &panel_id(&html)).unwrap();
    assert!(src.contains("&name=PRJ%2Fcode&pr=1&me=&"), "{src}");
}

async fn after_installing_the_person_lands_on_the_apps_own_page(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    fake.edit(|d| {
        d["modules"]["postInstallRedirect"] =
            json!({"key": "welcome", "url": "/welcome?u={user.uuid}"});
        d["modules"]["configurePage"] = json!({"key": "configure", "url": "/configure"});
    });
    app.user("uma").await;
    let b = crate::oauth2::browser(&app, "uma", "uma-password").await;
    development_mode(&app, &b).await;
    let r = install_from(&app, &b, &fake.descriptor_url(), None, "uma").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/apps/") && to.ends_with("/welcome"), "{to}");
    let (status, html) = page(&app, &b, &to).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let uma = connect_qsh::encode(&uuid_of(&app, "uma").await);
    assert!(
        html.contains(&format!("{}/welcome?u={uma}&amp;xdm_e=", fake.base)),
        "{html}"
    );
    // The configure page is linked from the installed apps page.
    let (_, html) = page(&app, &b, "/account/apps").await;
    assert!(
        html.contains("class=\"app-page-link\" href=\"/apps/"),
        "{html}"
    );
}

async fn a_module_in_an_unknown_location_is_refused_at_install(app: TestApp) {
    let fake = FakeApp::start(json!(["repository"])).await;
    fake.edit(|d| {
        d["modules"]["webPanels"] = panel("/p", "org.bitbucket.nowhere");
        d["modules"]["repoPages"] = json!([{"key": "p2", "name": {"value": "P"}, "url": "/p2",
            "conditions": [{"condition": "has_file", "params": {"file": "x"}}]}]);
    });
    app.user("uma").await;
    let b = crate::oauth2::browser(&app, "uma", "uma-password").await;
    development_mode(&app, &b).await;
    let link = crate::connect_app::install_link(&fake, false);
    let (status, html) = page(&app, &b, &link).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(
        html.contains(
            "&#x27;org.bitbucket.nowhere&#x27; is not a location this module type can be placed in."
        ),
        "{html}"
    );
    assert!(
        html.contains("Junction does not evaluate the condition &#x27;has_file&#x27;."),
        "{html}"
    );
}

async fn a_profile_tab_shows_on_a_persons_profile_about_them(app: TestApp) {
    let fake = FakeApp::start(json!(["account"])).await;
    let modules = json!({"profileTabs": [{"key": "stats", "name": {"value": "Stats"},
                                          "url": "/stats?who={target_user.uuid}&me={user.uuid}"}]});
    let b = uma_with_app(&app, &fake, modules).await;
    app.user("ivy").await;
    let (status, html) = page(&app, &b, "/users/ivy").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let href = first_link_in(&html, "profile-tabs");
    assert!(
        href.starts_with("/users/ivy/apps/") && href.ends_with("/stats"),
        "{href}"
    );
    let (status, html) = page(&app, &b, &href).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (ivy, uma) = (uuid_of(&app, "ivy").await, uuid_of(&app, "uma").await);
    let expected = format!(
        "{}/stats?who={}&amp;me={}&amp;xdm_e=",
        fake.base,
        connect_qsh::encode(&ivy),
        connect_qsh::encode(&uma)
    );
    assert!(html.contains(&expected), "{html}");
    // Nobody's profile names someone who does not exist.
    assert_eq!(
        page(&app, &b, "/users/nobody").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn a_team_install_shows_to_its_members_on_the_teams_repositories(app: TestApp) {
    for (name, key) in [("lee", "TEAM"), ("max", "MINE")] {
        app.user(name).await;
        app.project(key, false).await;
    }
    app.repo("TEAM", "shared", false).await;
    app.repo("MINE", "own", false).await;
    let made = app
        .post(
            "/rest/api/1.0/admin/groups?name=devs",
            &crate::harness::admin(),
            json!({}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    for (who, role) in [("lee", "admin"), ("max", "member")] {
        let r = app
            .put(
                "/rest/junction/1.0/teams/devs/members",
                &crate::harness::admin(),
                json!({"user": who, "role": role}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let granted = app
        .call(
            reqwest::Method::PUT,
            "/rest/api/1.0/projects/TEAM/permissions/groups?name=devs&permission=PROJECT_READ",
            &crate::harness::admin(),
            None,
        )
        .await;
    assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text);
    app.grant("/rest/api/1.0/projects/MINE", "max", "PROJECT_WRITE")
        .await;
    let lee = crate::oauth2::browser(&app, "lee", "lee-password").await;
    development_mode(&app, &lee).await;
    let fake = FakeApp::start(json!(["repository"])).await;
    fake.edit(|d| {
        d["modules"]["webPanels"] = panel(
            "/panel",
            "org.bitbucket.repository.overview.informationPanel",
        );
        d["modules"]["generalPages"] =
            json!([{"key": "home", "name": {"value": "Team home"}, "url": "/home"}]);
    });
    let r = install(&app, &lee, &fake, "devs").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // max, a member, sees it on the team's repository, not on his own, and its general page.
    let max = crate::oauth2::browser(&app, "max", "max-password").await;
    let (_, html) = page(&app, &max, "/projects/TEAM/repos/shared").await;
    assert!(html.contains("app-panel-"), "{html}");
    let (_, html) = page(&app, &max, "/projects/MINE/repos/own").await;
    assert!(!html.contains("app-panel-"), "{html}");
    let (_, html) = page(&app, &max, "/").await;
    assert!(
        html.contains("id=\"app-pages\"") && html.contains(">Team home</a>"),
        "{html}"
    );
}

both_backends!(
    spawn_linkable;
    a_panel_is_a_signed_frame_with_the_context_its_scopes_allow,
    a_page_without_apps_frames_nothing,
    modules_show_only_where_the_installation_reaches_and_to_its_people,
    conditions_decide_who_sees_a_module,
    a_repository_page_is_linked_and_framed_on_its_own_page,
    the_pull_request_panel_gets_the_pull_request,
    after_installing_the_person_lands_on_the_apps_own_page,
    a_module_in_an_unknown_location_is_refused_at_install,
    a_profile_tab_shows_on_a_persons_profile_about_them,
    a_team_install_shows_to_its_members_on_the_teams_repositories,
);

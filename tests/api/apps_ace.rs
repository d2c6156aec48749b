//! An unmodified atlassian-connect-express app (tests/node/ace_app, ACE 11.5 from npm, its
//! tenants in PostgreSQL through ACE's Sequelize store) installed through the install link by a
//! person granting on the real consent page. ACE's own code stores the clientKey and secret,
//! verifies the re-install and the uninstall Junction signed, and signs the REST calls
//! `addon.httpClient` makes, which Junction verifies: nothing here signs or verifies for it.

use crate::both_backends;
use crate::connect_app::{
    client_key_of, development_mode, install_from, remove, urlencode, AppProcess,
};
use crate::harness::{admin, postgres_server, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const KEY: &str = "junction-ace-interop";

/// ACE from tests/node, with its own PostgreSQL database as a vendor would give it.
/// `app`: the Junction the app's pages load their AP script from.
pub async fn start_ace(app: &TestApp) -> Option<AppProcess> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node");
    if !std::path::Path::new(dir)
        .join("node_modules/atlassian-connect-express")
        .exists()
    {
        crate::harness::missing(
            "tests/node/node_modules is missing: run scripts/test.sh to install tests/node",
            "JUNCTION_TEST_SKIP_INTEROP",
        );
        return None;
    }
    let name = format!(
        "junction_test_ace_{}",
        junction::secret::new_client_id()[..12].to_lowercase()
    );
    junction::store::create_database(&postgres_server(), &name)
        .await
        .expect("PostgreSQL for the ACE app's store");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("app.js")
        .current_dir(format!("{dir}/ace_app"))
        .env("DB_URL", format!("{}/{name}", postgres_server()))
        .env("NODE_ENV", "development")
        .env(
            "AC_HOST_SCRIPT_URL",
            format!("{}/atlassian-connect/all.js", app.base),
        );
    Some(AppProcess::start(cmd).await)
}

/// uma, in development mode, may write PRJ/code; her browser.
pub async fn uma_on_prj_code(app: &TestApp) -> reqwest::Client {
    app.user("uma").await;
    let b = crate::oauth2::browser(app, "uma", "uma-password").await;
    development_mode(app, &b).await;
    app.project("PRJ", false).await;
    app.repo("PRJ", "code", false).await;
    app.grant("/rest/api/1.0/projects/PRJ/repos/code", "uma", "REPO_WRITE")
        .await;
    b
}

/// The person opens the install link for the app and grants, into `account`.
pub async fn grant(
    app: &TestApp,
    b: &reqwest::Client,
    ace: &AppProcess,
    account: &str,
) -> reqwest::Response {
    let descriptor = format!("{}/atlassian-connect.json", ace.base);
    let done = format!("{}/done", ace.base);
    install_from(app, b, &descriptor, Some(&done), account).await
}

async fn an_unmodified_ace_app_installs_calls_reinstalls_and_uninstalls(app: TestApp) {
    let Some(ace) = start_ace(&app).await else {
        return;
    };
    let b = uma_on_prj_code(&app).await;
    app.branches("PRJ", "code", &["main", "feature"]).await;
    let pr = app
        .post(
            "/rest/api/1.0/projects/PRJ/repos/code/pull-requests",
            &admin(),
            json!({"title": "Add feature", "fromRef": {"id": "feature"}, "toRef": {"id": "main"}}),
        )
        .await;
    assert_eq!(pr.status, StatusCode::CREATED, "{}", pr.text);

    // Install: ACE has saved the tenant before the person is sent back.
    let r = grant(&app, &b, &ace, "uma").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let client_key = client_key_of(&location);
    let stored = ace
        .probe(&format!(
            "/probe/stored?clientKey={}",
            urlencode(&client_key)
        ))
        .await;
    assert_eq!(stored["clientKey"], client_key.as_str());
    assert_eq!(stored["key"], KEY);
    assert_eq!(stored["baseUrl"], app.base.as_str());
    assert!(stored["sharedSecret"].as_str().unwrap().len() >= 32);

    // REST through addon.httpClient, signed by ACE (iss = app key, sub = clientKey).
    let me = ace.call(&client_key, "/2.0/user").await;
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(me["body"]["username"], "uma");
    let repo = ace.call(&client_key, "/2.0/repositories/prj/code").await;
    assert_eq!(repo["status"], 200, "{repo}");
    assert_eq!(repo["body"]["full_name"], "prj/code");
    let prs = ace
        .call(
            &client_key,
            "/2.0/repositories/prj/code/pullrequests?state=OPEN",
        )
        .await;
    assert_eq!(prs["status"], 200, "{prs}");
    assert_eq!(prs["body"]["values"][0]["title"], "Add feature");
    let one = ace
        .call(&client_key, "/2.0/repositories/prj/code/pullrequests/1")
        .await;
    assert_eq!(one["status"], 200, "{one}");
    assert_eq!(one["body"]["destination"]["branch"]["name"], "main");

    // A webhook: ACE's own authenticateWebhook() verifies the JWT before emitting it.
    let r = app
        .put(
            "/rest/api/1.0/projects/PRJ/repos/code",
            &admin(),
            json!({"description": "for ACE"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hooks = crate::receiver::eventually("ACE to accept a webhook", || async {
        let got = ace.probe("/probe/webhooks").await;
        (!got.as_array().unwrap().is_empty()).then_some(got)
    })
    .await;
    assert_eq!(hooks[0]["subscribed"], "*");
    assert_eq!(hooks[0]["event"], "repo:updated");
    assert_eq!(hooks[0]["clientKey"], client_key.as_str());
    assert_eq!(hooks[0]["data"]["repository"]["description"], "for ACE");

    // Re-install: signed with the secret ACE stored, which ACE verifies before saving.
    let r = grant(&app, &b, &ace, "uma").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let again = ace
        .probe(&format!(
            "/probe/stored?clientKey={}",
            urlencode(&client_key)
        ))
        .await;
    assert_ne!(again["sharedSecret"], stored["sharedSecret"]);
    assert_eq!(ace.call(&client_key, "/2.0/user").await["status"], 200);

    // Uninstall from the page: ACE's authenticateInstall() verifies it and forgets the tenant.
    let r = remove(&app, &b, &client_key).await;
    let said = r
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        said.contains("The+app+was+removed.") && !said.contains("not+told"),
        "{said}"
    );
    let events = ace.probe("/probe/events").await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["installed", "installed", "uninstalled"]);
    assert_eq!(
        ace.probe(&format!(
            "/probe/stored?clientKey={}",
            urlencode(&client_key)
        ))
        .await,
        Value::Null
    );
}

/// The repository page frames ACE's web panel; ACE's own `addon.authenticate()` accepts the
/// frame's token (signature, expiry, the qsh of that GET) and reads the viewer from `sub`.
async fn aces_own_middleware_accepts_the_panel_frame(app: TestApp) {
    let Some(ace) = start_ace(&app).await else {
        return;
    };
    let b = uma_on_prj_code(&app).await;
    let r = grant(&app, &b, &ace, "uma").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let client_key = client_key_of(r.headers()["location"].to_str().unwrap());

    let (status, html) = crate::connect_app::page(&app, &b, "/projects/PRJ/repos/code").await;
    assert_eq!(status, StatusCode::OK);
    let at = html.find("-ace-panel\"").expect("ACE's panel on the page");
    let src = html[at..]
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let src = src.replace("&amp;", "&");
    assert!(
        src.starts_with(&format!("{}/panel?repo=PRJ%2Fcode&", ace.base)),
        "{src}"
    );
    let framed = reqwest::get(&src).await.unwrap();
    assert_eq!(framed.status(), StatusCode::OK);
    let me = app
        .get("/2.0/user", &crate::harness::basic("uma", "uma-password"))
        .await;
    let text = framed.text().await.unwrap();
    let greeting = format!(
        "<p id=\"greeting\">panel for PRJ/code in {client_key} as {}</p>",
        me.body["uuid"].as_str().unwrap()
    );
    assert!(text.contains(&greeting), "{text}");
    // The page loads Junction's AP script, as AC_HOST_SCRIPT_URL tells ACE.
    assert!(
        text.contains(&format!(
            "<script src=\"{}/atlassian-connect/all.js\">",
            app.base
        )),
        "{text}"
    );
    // The same frame with its context tampered with: ACE refuses it (the qsh no longer holds).
    let tampered = src.replace("repo=PRJ%2Fcode", "repo=PRJ%2Fother");
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

both_backends!(
    spawn_linkable;
    an_unmodified_ace_app_installs_calls_reinstalls_and_uninstalls,
    aces_own_middleware_accepts_the_panel_frame,
);

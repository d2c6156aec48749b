//! Junction's canonical request and `qsh` against npm atlassian-jwt's on generated requests:
//! repeated keys, empty values, reserved and non-ASCII characters, `+` and `%20`, `&` in the
//! path, base URLs with a path. One `node` run compares a few hundred requests.

use junction::domain::connect_qsh::{canonical_request, qsh};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

fn part() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "Z", "0", "-", "_", ".", "~", " ", "+", "*", "!", "'", "(", ")", "&", "=", "/",
            "?", "%", ",", ":", "é", "✓", "😀",
        ]),
        0..6,
    )
    .prop_map(|v| v.concat())
}

/// A request as a client sends it: method, encoded path and query, and a base path.
fn request() -> impl Strategy<Value = (String, String, String, String)> {
    let method = prop::sample::select(vec!["GET", "post", "PUT", "DELETE"]);
    let segments = prop::collection::vec("[a-zA-Z0-9&._~-]{1,8}", 0..4);
    let pairs = prop::collection::vec(
        (
            prop::sample::select(vec!["a", "b", "state", "q", "jwt", "x y", "é"]),
            part(),
        ),
        0..5,
    );
    let base = prop::sample::select(vec!["", "/app", "/deep/base"]);
    (method, segments, pairs, any::<bool>(), base).prop_map(|(m, segs, pairs, slash, base)| {
        let mut path = format!("{base}/{}", segs.join("/"));
        if slash && !segs.is_empty() {
            path.push('/');
        }
        let query: String = pairs
            .iter()
            .map(|(k, v)| {
                // Every byte but letters and digits as %XX, as strict clients send them.
                let enc = |s: &str| -> String {
                    s.bytes()
                        .map(|b| match b {
                            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                            _ => format!("%{b:02X}"),
                        })
                        .collect()
                };
                // Form-encoding clients send a space as `+`: `q` values are sent that way.
                let value = if *k == "q" {
                    enc(v).replace("%20", "+")
                } else {
                    enc(v)
                };
                if v.is_empty() && k.len() == 1 {
                    enc(k)
                } else {
                    format!("{}={value}", enc(k))
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        (m.to_string(), path, query, base.to_string())
    })
}

#[tokio::test]
async fn canonical_requests_match_npm_atlassian_jwt() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node");
    if !std::path::Path::new(dir)
        .join("node_modules/atlassian-jwt")
        .exists()
    {
        crate::harness::missing(
            "tests/node/node_modules is missing: run scripts/test.sh to install tests/node",
            "JUNCTION_TEST_SKIP_INTEROP",
        );
        return;
    }
    let mut runner = TestRunner::deterministic();
    let requests = prop::collection::vec(request(), 400)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let input: Vec<Value> = requests
        .iter()
        .map(|(m, p, q, b)| {
            let url = if q.is_empty() {
                p.clone()
            } else {
                format!("{p}?{q}")
            };
            json!({"method": m, "url": url, "base": format!("https://app.example{b}")})
        })
        .collect();
    let mut child = tokio::process::Command::new("node")
        .arg("qsh.js")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(Value::from(input).to_string().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for ((m, p, q, b), t) in requests.iter().zip(&theirs) {
        assert_eq!(
            canonical_request(m, p, q, b),
            t["canonical"],
            "{m} {p}?{q} (base {b})"
        );
        assert_eq!(qsh(m, p, q, b), t["qsh"], "{m} {p}?{q}");
    }
}

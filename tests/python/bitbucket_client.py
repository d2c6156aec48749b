"""Drives a running Junction with atlassian-python-api's Bitbucket class, as a real user would.

Environment: JUNCTION_URL, ALICE_TOKEN (write), BOB_TOKEN (read). Alice opens a pull request with
bob as reviewer, bob approves it, alice merges it. Prints a JSON summary; any failure raises.
"""
import json
import os

from atlassian import Bitbucket

url = os.environ["JUNCTION_URL"]
alice = Bitbucket(url=url, token=os.environ["ALICE_TOKEN"])
bob = Bitbucket(url=url, token=os.environ["BOB_TOKEN"])

projects = [p["key"] for p in alice.project_list()]
repos = [r["slug"] for r in alice.repo_list("INTEROP")]
assert projects == ["INTEROP"], projects
assert repos == ["client-lib", "service"], repos

pr = alice.open_pull_request(
    "INTEROP", "service", "INTEROP", "service",
    "feature/login", "main", "Add login", "Adds the login page", reviewers=["bob"],
)
assert pr["state"] == "OPEN", pr
assert pr["reviewers"][0]["user"]["name"] == "bob", pr

approved = bob.change_reviewed_status("INTEROP", "service", pr["id"], "APPROVED", "bob")
assert approved["approved"] is True, approved

comment = bob.add_pull_request_comment("INTEROP", "service", pr["id"], "Ship it")
assert comment["text"] == "Ship it", comment

current = alice.get_pull_request("INTEROP", "service", pr["id"])
merged = alice.merge_pull_request("INTEROP", "service", pr["id"], "Merge", pr_version=current["version"])
assert merged["state"] == "MERGED", merged

print(json.dumps({"projects": projects, "repos": repos, "pr": pr["id"], "state": merged["state"]}))

"""Posts and reads build statuses the way CI scripts do with atlassian-python-api: the Cloud
client (Cloud(...).repositories.get(ws, slug).commits.get(hash).add_build(...), get_build,
builds) and the Data Center client's legacy reader (get_associated_build_statuses).
Environment: JUNCTION_URL, USERNAME, PASSWORD, COMMIT. Prints a JSON summary; any failure raises.
"""
import json
import os

from atlassian import Bitbucket
from atlassian.bitbucket import Cloud

base = os.environ["JUNCTION_URL"]
auth = dict(username=os.environ["USERNAME"], password=os.environ["PASSWORD"])
commit_id = os.environ["COMMIT"]

cloud = Cloud(url=base, cloud=True, **auth)
commit = cloud.repositories.get("prj", "code").commits.get(commit_id)
added = commit.add_build("py-ci", url="https://ci.example.com/py/1", description="from python",
                         refname="feature", state="INPROGRESS")
commit.add_build("py-ci", url="https://ci.example.com/py/1", description="done", state="SUCCESSFUL")
build = commit.get_build("py-ci")
listed = [b.key for b in commit.builds()]

dc = Bitbucket(url=base, **auth)
dc.post(f"rest/build-status/1.0/commits/{commit_id}",
        data={"key": "legacy", "state": "FAILED", "url": "https://ci.example.com/legacy"})
legacy = dc.get_associated_build_statuses(commit_id)

print(json.dumps({
    "added": added["state"],
    "successful": build.successful,
    "description": build.description,
    "listed": listed,
    "legacy": [(s["key"], s["state"]) for s in legacy["values"]],
}))

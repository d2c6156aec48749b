"""Reads a repository's code through atlassian-python-api's Bitbucket class, as apps and scripts
do: branches (with the default), commits (paged by the library), commits between two hashes, a
file's raw content. Environment: JUNCTION_URL, TOKEN, OLDEST (a commit hash). Prints a JSON
summary; any failure raises.
"""
import json
import os

from atlassian import Bitbucket

bb = Bitbucket(url=os.environ["JUNCTION_URL"], token=os.environ["TOKEN"])

branches = list(bb.get_branches("CODE", "app", details=False, limit=2))
default = bb.get_default_branch("CODE", "app")
commits = list(bb.get_commits("CODE", "app", limit=3))
since = list(bb.get_commits("CODE", "app", hash_oldest=os.environ["OLDEST"], hash_newest="main"))
content = bb.get_content_of_file("CODE", "app", "README.md", at="main")
print(json.dumps({
    "branches": [b["displayId"] for b in branches],
    "default": default["displayId"],
    "commits": [c["message"] for c in commits],
    "since": [c["message"] for c in since],
    "readme": content.decode() if isinstance(content, bytes) else content,
}))

"""Manages webhooks on a running Junction with atlassian-python-api, as on Bitbucket Data Center.

Environment: JUNCTION_URL, TOKEN (a repository admin's), RECEIVER_URL. Repository P/r exists.
Creates a signed webhook, lists and filters it, changes the repository so that an event is
delivered, reads the delivery statistics, edits and deletes the hook. Prints a JSON summary;
any failure raises.
"""
import json
import os
import time

from requests import HTTPError
from atlassian import Bitbucket

bb = Bitbucket(url=os.environ["JUNCTION_URL"], token=os.environ["TOKEN"])
receiver = os.environ["RECEIVER_URL"]

created = bb.create_webhook("P", "r", "ci", ["repo:updated"], receiver, True, secret="s3cret-value")
hook_id = created["id"]
assert created["name"] == "ci", created
assert created["events"] == ["repo:updated"], created
assert created["active"] is True, created
assert created["hasSecret"] is True and "secret" not in json.dumps(created["configuration"]), created

assert bb.get_webhook("P", "r", hook_id)["url"] == receiver
assert [h["id"] for h in bb.get_webhooks("P", "r")] == [hook_id]
assert [h["id"] for h in bb.get_webhooks("P", "r", event="repo:updated")] == [hook_id]
assert list(bb.get_webhooks("P", "r", event="pullrequest:created")) == []

bb.update_repo("P", "r", description="delivered by a webhook")
deadline = time.time() + 20
while True:
    (hook,) = list(bb.get_webhooks("P", "r", statistics=True))
    counts = hook["statistics"]["counts"]
    if counts["successes"] == 1:
        break
    assert time.time() < deadline, hook
    time.sleep(0.05)
last = hook["statistics"]["lastSuccess"]
assert last["event"] == "repo:updated" and last["result"]["outcome"] == "SUCCESS", last

updated = bb.update_webhook("P", "r", hook_id, name="ci-renamed", active=False,
                            events=["repo:updated", "pullrequest:created"])
assert updated["name"] == "ci-renamed" and updated["active"] is False, updated
assert updated["events"] == ["repo:updated", "pullrequest:created"], updated
assert updated["hasSecret"] is True, "an edit without a secret keeps it"

bb.delete_webhook("P", "r", hook_id)
try:
    bb.get_webhook("P", "r", hook_id)
    raise AssertionError("the webhook is still there")
except HTTPError as e:
    assert e.response.status_code == 404, e

print(json.dumps({"id": hook_id, "successes": counts["successes"], "renamed": updated["name"]}))

"""A code analyser reporting through atlassian-python-api's Data Center client: a Code Insights
report (create_code_insights_report), a batch of annotations
(add_code_insights_annotations_to_report), read back (get_code_insights_report), then deleted.
Environment: JUNCTION_URL, USERNAME, PASSWORD, COMMIT. Prints a JSON summary; any failure raises.
"""
import json
import os

from atlassian import Bitbucket

bb = Bitbucket(url=os.environ["JUNCTION_URL"], username=os.environ["USERNAME"], password=os.environ["PASSWORD"])
commit = os.environ["COMMIT"]

created = bb.create_code_insights_report(
    "PRJ", "code", commit, "lint", "Linter",
    details="2 findings", result="FAIL", reporter="lint-bot", link="https://lint.example.com/r/1",
    data=[{"title": "Findings", "type": "NUMBER", "value": 2}],
)
bb.add_code_insights_annotations_to_report("PRJ", "code", commit, "lint", [
    {"externalId": "L1", "path": "README.md", "line": 1, "message": "Trailing space", "severity": "LOW", "type": "CODE_SMELL"},
    {"externalId": "L2", "path": "README.md", "line": 2, "message": "Typo", "severity": "MEDIUM", "type": "BUG"},
])
read = bb.get_code_insights_report("PRJ", "code", commit, "lint")
annotations = bb.get(f"rest/insights/1.0/projects/PRJ/repos/code/commits/{commit}/reports/lint/annotations")
bb.delete_code_insights_report("PRJ", "code", commit, "lint")
gone = bb.get(f"rest/insights/1.0/projects/PRJ/repos/code/commits/{commit}/reports", absolute=False)

print(json.dumps({
    "created": [created["key"], created["result"], created["data"]],
    "read": [read["title"], read["reporter"]],
    "annotations": [a["externalId"] for a in annotations["annotations"]],
    "left": gone["size"],
}))

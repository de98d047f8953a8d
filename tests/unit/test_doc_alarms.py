"""docs/deploy.md and docs/operations.md name exactly the alarms template.yaml defines, and deploy.md
says how many there are."""

import re

from support.paths import ROOT
from ttrelay_dev.local.template import load_template

NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def test_the_docs_count_and_name_the_templates_alarms() -> None:
    resources = load_template(ROOT / "template.yaml")["Resources"]
    alarms = {name for name, resource in resources.items() if resource["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) >= 2
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    operations = (ROOT / "docs" / "operations.md").read_text()
    count = NUMBERS[len(alarms)]
    assert f"| log groups, {count} CloudWatch alarms |" in deploy
    assert f"The stack defines {count} CloudWatch alarms" in deploy
    named = re.compile(r"`(\w+Alarm)`")
    assert set(named.findall(deploy)) == alarms
    table = operations.split("## Alarms and what to do", 1)[1]
    assert set(named.findall(table)) == alarms

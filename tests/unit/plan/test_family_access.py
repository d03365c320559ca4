"""Who in the family opens the plan through the portal, by the site's adolescent setting (issue 18)."""

from datetime import date

import pytest

from smart_app.plan.family_access import AccessRule, Relation, admission, age_in_years, rule_text


@pytest.mark.parametrize(("relation", "age", "setting", "granted", "rule"), [
    (Relation.SELF, 16, "off", False, AccessRule.SELF),
    (Relation.SELF, None, "ask", False, AccessRule.SELF),
    (Relation.RELATED, 8, "off", False, AccessRule.CHILD),
    (Relation.RELATED, 11, "ask", False, AccessRule.CHILD),
    (Relation.RELATED, 12, "on", False, AccessRule.ADOLESCENT_ON),
    (Relation.RELATED, 16, "off", True, AccessRule.ADOLESCENT_OFF),  # a grant does not override "off"
    (Relation.RELATED, 16, "ask", False, AccessRule.ADOLESCENT_ASK),
    (Relation.RELATED, 16, "ask", True, AccessRule.ADOLESCENT_GRANTED),
    (Relation.RELATED, None, "ask", False, AccessRule.ADOLESCENT_ASK),  # no birth date: not proven a child
    (Relation.RELATED, None, "off", False, AccessRule.ADOLESCENT_OFF),
])
def test_the_rule_that_applies_to_each_family_member(relation, age, setting, granted, rule):
    decided = admission(relation, age=age, setting=setting, adolescent_age=12, granted=granted)
    assert decided.rule is rule
    assert decided.admitted is (rule not in (AccessRule.ADOLESCENT_OFF, AccessRule.ADOLESCENT_ASK))


def test_age_counts_whole_years_up_to_the_birthday():
    today = date(2026, 12, 4)
    assert age_in_years(date(2014, 12, 4), today) == 12
    assert age_in_years(date(2014, 12, 5), today) == 11
    assert age_in_years(None, today) is None


def test_the_rule_is_said_in_the_familys_language_with_the_sites_age():
    assert "14 or older" in rule_text("adolescent-on", "en", 14)
    assert "14 años o más" in rule_text("adolescent-ask", "es", 14)
    assert rule_text("child", "fr", 12) == rule_text("child", "en", 12)  # unknown language: English
    assert rule_text("made-up", "en", 12) == "" and rule_text(None, "en", 12) == ""

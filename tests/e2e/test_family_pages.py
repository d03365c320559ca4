"""The family's own pages against the sandbox EHR (issue 18): the mother reads the signed plan in her
language, answers on goals and actions, marks her own action done, asks questions and proposes About us
changes; the care team sees each with her name and time; nothing she does changes a signed version;
and a family login reaches nothing of the professionals'. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from smart_app.store.schema import audit_events
from tests.e2e.test_plan import CHILD, PlanUser
from tests.support import family_launch

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


class FamilyUser:
    """A family member in their own browser, signed in through the sandbox's patient portal and launched
    from its app tile (a SMART standalone launch)."""

    def __init__(self, app, sandbox, account: str = "ana-rivera"):
        self.client = app.test_client()
        landed = family_launch(self.client, sandbox, account)
        assert landed.status_code == 303, landed.get_data(as_text=True)[:1500]
        self.launch_id = re.search(r"/f/([A-Za-z0-9_-]+)/", landed.headers["Location"]).group(1)
        self.csrf = ""

    def page(self, lang: str | None = None) -> str:
        response = self.client.get(f"/f/{self.launch_id}/" + (f"?lang={lang}" if lang else ""))
        assert response.status_code == 200, response.get_data(as_text=True)[:1500]
        html = response.get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1) if "csrf_token" in html else ""
        self.version = (re.search(r'name="base_version" value="(\d*)"', html) or [None, ""])[1]
        return html

    def act(self, path: str, expect: int = 303, **fields):
        self.page()
        data = {"csrf_token": self.csrf, "base_version": self.version, "lang": "es", **fields}
        response = self.client.post(f"/f/{self.launch_id}/{path}", data=data)
        assert response.status_code == expect, response.get_data(as_text=True)[:1500]
        return response


def sign_a_plan(app, sandbox) -> tuple[PlanUser, PlanUser, dict[str, str]]:
    """The coordinator drafts, both sign; returns them and the action ids by wording."""
    coordinator = PlanUser(app, sandbox, "coordinator", "jordan-lee")
    clinician = PlanUser(app, sandbox, "clinician", "amara-okafor")
    coordinator.do("start-plan", base="")
    coordinator.do("add-goal", text="Sofia sleeps through the night", kind="family",
                   expressed_by="Ana Lucía Rivera (mother)")
    [goal] = dict.fromkeys(coordinator.ids("goal"))
    coordinator.do("add-action", text="Replace the feeding pump", owner_role="coordinator", owner_name="Jordan Lee",
                   goal_id=goal, due="2027-01-15")
    coordinator.do("add-action", text="Keep a night log of alarms", owner_role="family",
                   owner_name="Ana Lucía Rivera", goal_id=goal, due="2027-01-10")
    coordinator.do("add-action", text="Bring the log to clinic", owner_role="family", owner_name="Ana Lucía Rivera",
                   goal_id=goal, due="2027-02-01")
    coordinator.do("submit-for-review")
    coordinator.do("sign")
    clinician.do("sign")
    html = coordinator.page()
    actions = {text.strip(): action_id for action_id, text in re.findall(
        r'id="item-([\w-]+)" data-testid="action">.*?data-testid="action-text">([^<]+)<', html, re.S)}
    assert len(actions) == 3, actions
    return coordinator, clinician, actions


@pytest.fixture
def signed(app, sandbox):
    return sign_a_plan(app, sandbox)


@pytest.fixture
def mother(app, sandbox):
    return FamilyUser(app, sandbox)


def test_the_mother_reads_the_signed_plan_in_spanish_and_answers_on_it(app, sandbox, signed, mother):
    coordinator, _, actions = signed
    page = mother.page()
    assert "Nuestro plan" in page and "Sofia sleeps through the night" in page
    assert "Keep a night log of alarms" in page and "Su acción" in page
    pump, log, bring = actions["Replace the feeding pump"], actions["Keep a night log of alarms"], \
        actions["Bring the log to clinic"]

    mother.act("position", subject_id=pump, stance="agree")
    mother.act("position", subject_id=bring, stance="amend", words="Llevarlo en marzo, no en febrero")
    mother.act("done", action_id=log)
    mother.act("request", kind="about-change", subject_id="strengths", text="A Sofia le encanta cantar")
    mother.act("request", kind="question", subject_id="", text="¿Puede venir la enfermera de la escuela?")
    page = mother.page()
    assert "Usted está de acuerdo" in page and "Llevarlo en marzo, no en febrero" in page
    assert re.search(rf'data-testid="fv-status-{log}">Hecho<', page)

    review = coordinator.page()
    by = re.search(rf'data-testid="position-by-{pump}-family">([^<]+)<', review).group(1)
    assert "Ana Lucía Rivera (mother)" in by and "from the patient portal" in by
    assert "Llevarlo en marzo, no en febrero" in review
    summary = coordinator.client.get(f"/p/{coordinator.launch_id}/").get_data(as_text=True)
    assert 'data-testid="family-requests"' in summary and "¿Puede venir la enfermera de la escuela?" in summary
    about = coordinator.client.get(f"/p/{coordinator.launch_id}/about").get_data(as_text=True)
    assert "A Sofia le encanta cantar" in about and 'data-testid="family-request-about-change"' in about


def test_a_family_act_never_changes_a_signed_version(app, sandbox, signed, mother):
    _, _, actions = signed
    plans = app.extensions["spoc"].services.planning.plans
    before = plans.latest_signed(sandbox.iss, CHILD)
    mother.page()
    mother.act("position", subject_id=actions["Replace the feeding pump"], stance="decline", words="No podemos")
    mother.act("done", action_id=actions["Keep a night log of alarms"])
    after = plans.latest_signed(sandbox.iss, CHILD)
    assert after == before
    assert plans.version(before.plan_id, before.version) == before
    current = plans.current(sandbox.iss, CHILD)
    assert current.version > before.version and current.plan.revision == before.plan.revision + 1


def test_every_family_act_is_audited(app, sandbox, signed, mother, database_url):
    _, _, actions = signed
    mother.page()
    mother.act("position", subject_id=actions["Replace the feeding pump"], stance="agree")
    mother.act("done", action_id=actions["Keep a night log of alarms"])
    mother.act("request", kind="question", subject_id="", text="¿Cuándo es la próxima cita?")
    mother.act("request", kind="need-help", subject_id=actions["Keep a night log of alarms"], text="No sé cómo")
    mother.act("request", kind="about-change", subject_id="strengths", text="Canta")
    with app.extensions["spoc"].engine.connect() as conn:
        rows = conn.execute(sa.select(audit_events.c.action, audit_events.c.user).where(
            audit_events.c.action.like("%family%"))).all()
    acts = [r.action for r in rows]
    for expected in ("plan-family-position-agree", "plan-family-action-done", "family-question",
                     "family-need-help", "family-about-change"):
        assert expected in acts
    assert all(r.user and "RelatedPerson/" in r.user for r in rows if r.action != "page")


def test_the_family_page_shows_nothing_professional_only(app, sandbox, signed, mother):
    coordinator, _, _ = signed
    coordinator.page()
    assert coordinator.client.post(f"/p/{coordinator.launch_id}/progress/revision", data={
        "csrf_token": coordinator.csrf(), "base_version": coordinator.version()}).status_code == 303
    coordinator.do("add-goal", text="Internal draft goal, not shared yet", kind="clinical")
    page = mother.page()
    assert "Internal draft goal, not shared yet" not in page
    for professional in ("Hide", "Note or hide", "csrf_token\" value=\"" + coordinator.csrf()):
        assert professional not in page


def test_hostile_words_from_the_family_stay_text_on_every_page(app, sandbox, signed, mother):
    coordinator, _, actions = signed
    mother.page()
    mother.act("position", subject_id=actions["Bring the log to clinic"], stance="amend", words=HOSTILE)
    mother.act("request", kind="question", subject_id="", text=HOSTILE)
    for html in (mother.page(), coordinator.page(),
                 coordinator.client.get(f"/p/{coordinator.launch_id}/").get_data(as_text=True)):
        assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_a_family_login_reaches_no_professional_page_or_post_route(app, sandbox, signed, mother):
    """Every route under /p/<launch_id>/, each method it takes, with the family's own launch and CSRF
    token: refused (403), and nothing changes."""
    plans = app.extensions["spoc"].services.planning.plans
    before = plans.current(sandbox.iss, CHILD)
    mother.page()
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/p/<launch_id>"):
            continue
        path = rule.rule.replace("<launch_id>", mother.launch_id)
        path = re.sub(r"<[^>]+>", "x", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = mother.client.open(path, method=method, data={"csrf_token": mother.csrf})
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            tried += 1
    assert tried >= 20
    assert plans.current(sandbox.iss, CHILD) == before


def test_a_professional_launch_cannot_open_the_family_pages(app, sandbox, signed):
    coordinator, _, _ = signed
    for method, path in (("GET", "/"), ("POST", "/position"), ("POST", "/done"), ("POST", "/request")):
        response = coordinator.client.open(f"/f/{coordinator.launch_id}{path}", method=method,
                                           data={"csrf_token": coordinator.csrf()})
        assert response.status_code == 403, (method, path)


def test_the_family_page_before_any_plan_is_signed_says_so(app, sandbox, mother):
    page = mother.page()
    assert 'data-testid="fv-no-plan"' in page


def test_a_family_login_never_reaches_another_patients_plan(app, sandbox, signed, mother):
    """Walter, signed in for himself, and the mother: each sees and changes only their own patient's plan."""
    _, _, actions = signed
    walter = FamilyUser(app, sandbox, "walter-hughes")
    plans = app.extensions["spoc"].services.planning.plans
    before = plans.current(sandbox.iss, CHILD)
    page = walter.page()
    assert 'data-testid="fv-no-plan"' in page and "Sofia" not in page and "feeding pump" not in page
    # Sofia's item ids posted to Walter's own launch: not his plan's, so nothing to answer.
    walter.act("position", expect=400, subject_id=actions["Replace the feeding pump"], stance="agree")
    walter.act("done", expect=400, action_id=actions["Keep a night log of alarms"])
    # The mother's launch id from Walter's browser: not his session.
    assert walter.client.get(f"/f/{mother.launch_id}/").status_code == 401
    assert plans.current(sandbox.iss, CHILD) == before
    assert app.extensions["spoc"].services.family.store.requests(sandbox.iss, "walter-hughes") == ()


def test_the_family_the_coordinator_and_the_clinician_acting_at_once_lose_nothing(app, sandbox, signed, mother):
    """All three post at the same moment on the version each has open; then the family's page and the
    care team's agree on everything each of them did (the family is one more writer under the merge rules)."""
    coordinator, clinician, actions = signed
    pump, log, bring = actions["Replace the feeding pump"], actions["Keep a night log of alarms"], \
        actions["Bring the log to clinic"]
    coordinator.do("open-revision")
    coordinator.page(), clinician.page(), mother.page()  # each loads the same version
    goal = next(iter(coordinator.ids("goal")))
    posts = {
        "coordinator": lambda: coordinator.client.post(coordinator.url(""), data={
            "command": "edit-action", "csrf_token": coordinator.csrf(), "base_version": coordinator.version(),
            "action_id": pump, "text": "Replace the feeding pump", "due": "2027-01-20", "status": "in-progress"}),
        "clinician": lambda: clinician.client.post(clinician.url(""), data={
            "command": "take-position", "csrf_token": clinician.csrf(), "base_version": clinician.version(),
            "subject_id": goal, "stance": "agree"}),
        "family": lambda: mother.client.post(f"/f/{mother.launch_id}/position", data={
            "csrf_token": mother.csrf, "base_version": mother.version, "lang": "es", "subject_id": bring,
            "stance": "amend", "words": "Llevarlo en marzo"}),
        "family, again": lambda: mother.client.post(f"/f/{mother.launch_id}/done", data={
            "csrf_token": mother.csrf, "base_version": mother.version, "lang": "es", "action_id": log}),
    }
    start, answers = threading.Barrier(len(posts)), {}

    def post(who):
        start.wait()
        answers[who] = posts[who]().status_code

    threads = [threading.Thread(target=post, args=(who,)) for who in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == dict.fromkeys(posts, 303)

    plan = app.extensions["spoc"].services.planning.plans.current(sandbox.iss, CHILD).plan
    assert plan.action(pump).due.isoformat() == "2027-01-20" and plan.action(pump).status.value == "in-progress"
    assert plan.action(log).status.value == "done"
    assert {(p.subject_id, p.party.value, p.stance.value) for p in plan.positions} == {
        (goal, "clinician", "agree"), (bring, "family", "amend")}
    review, family = coordinator.page(), mother.page()
    for page in (review, family):
        assert "Llevarlo en marzo" in page
    assert re.search(rf'data-testid="fv-status-{log}">Hecho<', family)
    assert re.search(rf'data-testid="fv-status-{pump}">En curso<', family)  # tracking shows now; wording as signed

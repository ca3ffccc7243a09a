"""The village desk (gridnode web) as a clerk uses it, in headless Chromium.

Each scenario gets a fresh city hub with the real Luohe reference data and a
village node made from the bundle the city wrote, then works only through
the pages (the command line is used to set the scene and to check what was
stored, as the city would see it). Screenshots: build/screenshots/desk-*.png.

  /usr/bin/python3 tests/browser/test_desk.py --bin build [SCENARIO ...]
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gsweb  # noqa: E402

V = "411122101201"   # 营王村, 繁城回族镇, 临颍县 (a villagers' committee)
NAME = "营王村"


def desk(env, hub=False, grids=True):
    """The city, the village's node with two grids, its desk and a browser."""
    env.make_city()
    env.make_village(V, NAME)
    if grids:
        env.node(V, "grid", "add", "--code", V + "001", "--name", "第一网格(营王东组)",
                 "--worker", "马丽")
        env.node(V, "grid", "add", "--code", V + "002", "--name", "第二网格(营王西组)",
                 "--worker", "李强")
    if hub:
        env.start_hub()
    env.start_desk(V)
    env.browser()


# ---- the page as a person uses it ------------------------------------------------

def by_css(env, css):
    return env.driver.find_element("css selector", css)


def all_css(env, css):
    return env.driver.find_elements("css selector", css)


def wait_for(env, what, fn, secs=10):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.1)
    env.shot("TIMEOUT-" + what.replace(" ", "_"), full=False)
    raise AssertionError("waited %d s for %s; the page says:\n%s" % (secs, what, env.text()[:2000]))


def fill(env, name, value):
    """Types value into the field named name as a person would: a choice by
    the words shown, a date through the date picker's value, text typed."""
    from selenium.webdriver.support.ui import Select
    el = by_css(env, '[name="%s"]' % name)
    if el.tag_name == "select":
        s = Select(el)
        texts = [o.text for o in s.options]
        pick = [t for t in texts if t == value] or [t for t in texts if value in t]
        assert pick, "no choice %r for %s among %s" % (value, name, texts)
        s.select_by_visible_text(pick[0])
    elif el.get_attribute("type") in ("date", "datetime-local"):
        env.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)
    else:
        el.clear()
        el.send_keys(str(value))


def click_button(env, text, scope=None):
    root = scope or env.driver
    for b in root.find_elements("css selector", "button, input[type=submit], a"):
        if b.text.strip() == text or (b.get_attribute("value") or "") == text:
            b.click()
            return
    raise AssertionError("no button %r; the page says:\n%s" % (text, env.text()[:1500]))


def buttons(env):
    return [b.text.strip() for b in all_css(env, "button")]


def count(env, what):
    return len([x for x in env.node(V, what, "list", "--format", "csv").splitlines()[1:] if x])


# ---- scenarios ---------------------------------------------------------------------

def incident_from_form_to_closed(env):
    """A clerk registers the village's grids, then records an incident from
    the form, picking the category and the grid by name; a wrong deadline is refused beside its field with
    nothing stored; then the incident goes through its workflow to 结案, the
    record page offering only the steps the workflow allows."""
    desk(env, grids=False)
    # the village's grids first, on the desk: a code one digit short is refused
    env.go("/incidents")
    click_button(env, "网格管理")
    click_button(env, "登记网格")
    fill(env, "code", V + "01")
    fill(env, "name", "第一网格(营王东组)")
    fill(env, "kind", "综合网格")
    fill(env, "households", "236")
    fill(env, "worker", "马丽")
    click_button(env, "保存")
    err = wait_for(env, "the grid code's message",
                   lambda: " ".join(e.text for e in all_css(env, ".err")))
    assert "网格编码" in err, err
    assert count(env, "grid") == 0, "a refused grid was stored"
    fill(env, "code", V + "001")
    click_button(env, "保存")
    wait_for(env, "the grids", lambda: "第一网格(营王东组)" in env.text() and
             "/grids" in env.driver.current_url and "/new" not in env.driver.current_url)
    click_button(env, "登记网格")
    fill(env, "code", V + "002")
    fill(env, "name", "第二网格(营王西组)")
    fill(env, "worker", "李强")
    click_button(env, "保存")
    wait_for(env, "the second grid", lambda: "第二网格(营王西组)" in env.text())
    assert count(env, "grid") == 2
    env.shot("desk-grids")
    env.go("/incidents")
    click_button(env, "登记新事件")
    fill(env, "category", "邻里纠纷")
    fill(env, "grid_code", "第一网格")
    fill(env, "title", "楼上漏水引发邻里纠纷<script>alert(1)</script>")
    fill(env, "description", "三组王家卫生间漏水，楼下李家天花板受损，双方争执。")
    fill(env, "reporter", "网格员马丽")
    env.driver.execute_script("document.querySelector('[name=deadline]').type='text'")
    fill(env, "deadline", "2026-02-30")
    click_button(env, "保存")
    err = wait_for(env, "the deadline's message",
                   lambda: " ".join(e.text for e in all_css(env, ".err")))
    assert "处置期限" in err, err
    bad = [e.get_attribute("name") for e in all_css(env, "[aria-invalid=true]")]
    assert bad == ["deadline"], "marked fields: %s" % bad
    assert count(env, "incident") == 0, "a refused form stored something"
    env.shot("desk-incident-form-error")
    env.driver.execute_script("document.querySelector('[name=deadline]').type='date'")
    fill(env, "deadline", "2026-12-20")
    click_button(env, "保存")
    wait_for(env, "the record page", lambda: "/incident/" in env.driver.current_url)
    page = env.text()
    assert "楼上漏水引发邻里纠纷<script>alert(1)</script>" in page, "the title is not shown as text"
    assert "第一网格" in page and "邻里纠纷" in page, page[:1500]
    iid = env.driver.current_url.split("?")[0].rstrip("/").split("/")[-1]
    assert count(env, "incident") == 1
    assert "结案" not in buttons(env), "结案 is offered from 上报: %s" % buttons(env)
    env.shot("desk-incident-reported")
    for step in ("受理", "立案", "派遣", "处置中", "处置反馈", "核查通过", "结案"):
        form = [f for f in all_css(env, "form.step")
                if f.find_element("css selector", "button").text.strip() == step]
        assert form, "no %s button in state; buttons: %s" % (step, buttons(env))
        form[0].find_element("css selector", "input[name=note]").send_keys("网页办理：" + step)
        click_button(env, step, form[0])
        wait_for(env, "state " + step, lambda: ("当前状态: " + step) in env.text()
                 or ("当前状态:" + step) in env.text() or ("当前状态：" + step) in env.text())
    shown = env.node(V, "incident", "show", iid)
    assert "结案" in shown and "网页办理：核查通过" in shown, shown
    assert "结案时间" in shown, "closed_at was not derived: " + shown
    env.shot("desk-incident-closed")
    env.go("/incidents?status=closed")
    assert "楼上漏水引发邻里纠纷" in env.text()
    env.go("/incidents?q=" + "漏水")
    assert "楼上漏水引发邻里纠纷" in env.text()
    env.shot("desk-incidents-list")


def election_findings_as_typed(env):
    """The results sheet: each legal threshold crossed as the numbers are
    typed shows its finding with its law; saving stores the election and its
    candidates, and the printable report carries the findings."""
    desk(env)
    env.go("/elections/new")
    fill(env, "e.committee", "村民委员会")
    fill(env, "e.election_date", "2026-03-08")
    fill(env, "e.list_published", "2026-02-25")   # 11 days before: under twenty
    fill(env, "e.registered", "1000")
    fill(env, "e.voted", "500")                    # exactly half: the election is invalid
    fill(env, "e.valid", "490")
    fill(env, "e.invalid", "10")
    fill(env, "e.seats_chair", "1")
    fill(env, "e.seats_member", "1")               # 2 members: fewer than the law's 3
    # at most 2 votes a ballot: 970 votes in all, within 2 x 490 valid ballots
    rows = [("张建国", "男", "主任", "300"), ("李志明", "男", "主任", "150"),
            ("王强", "男", "委员", "280"), ("赵军", "男", "委员", "140"),
            ("孙伟", "男", "委员", "100")]
    for i, (n, g, post, votes) in enumerate(rows):
        fill(env, "c%d.name" % i, n)
        fill(env, "c%d.gender" % i, g)
        fill(env, "c%d.post" % i, post)
        fill(env, "c%d.votes" % i, votes)

    def codes():
        return {li.get_attribute("data-code") for li in all_css(env, "#findings-body li.finding")}
    # exactly half the voters voted: the election is invalid, no seat is filled
    want = {"TURNOUT_INVALID", "SEATS_UNFILLED", "LIST_LATE"}
    wait_for(env, "the findings " + ", ".join(sorted(want)), lambda: want <= codes())
    box = by_css(env, "#findings-body").text
    assert "投票人数未过登记选民半数" in box and "村民委员会组织法" in box, box
    env.shot("desk-election-findings-live")
    # one more voter: the election stands; 2 men elected to a committee of 2
    # (村民委员会组织法 第六条: three to seven), two candidates under half the
    # votes cast
    fill(env, "e.voted", "501")
    fill(env, "e.valid", "491")
    want = {"SIZE_SMALL", "NO_WOMAN", "LIST_LATE", "BELOW_HALF"}
    wait_for(env, "the findings " + ", ".join(sorted(want)),
             lambda: want <= codes() and "TURNOUT_INVALID" not in codes())
    box = by_css(env, "#findings-body").text
    assert "当选 2 人" in box, box
    env.shot("desk-election-findings-valid")
    # a woman elected: NO_WOMAN goes
    fill(env, "c2.gender", "女")
    wait_for(env, "NO_WOMAN to go", lambda: "NO_WOMAN" not in codes() and "SIZE_SMALL" in codes())
    # a sum that does not add up is an error beside the sheet, and blocks saving
    fill(env, "e.invalid", "11")
    wait_for(env, "the ballots' sum error", lambda: "有效票" in by_css(env, "#election-sheet").text
             or "有效票" in by_css(env, "#findings-body").text)
    click_button(env, "保存")
    wait_for(env, "the sheet again", lambda: "未保存" in env.text())
    assert count(env, "election") == 0 and count(env, "candidate") == 0
    fill(env, "e.invalid", "10")
    click_button(env, "保存")
    wait_for(env, "the election's page", lambda: "/election/" in env.driver.current_url
             and "/elections/new" not in env.driver.current_url)
    assert count(env, "election") == 1 and count(env, "candidate") == 5
    page = env.text()
    assert "选民名单公布不足二十日" in page and "委员会职数少于法定下限" in page, page[:2000]
    env.shot("desk-election-record")
    eid = env.driver.current_url.split("?")[0].rstrip("/").split("/")[-1]
    env.go("/election/%s/print" % eid)
    page = env.text()
    assert "选举结果报告单" in page and "张建国" in page and NAME in page, page[:1500]
    env.shot("desk-election-print")


def funeral_breaks_standard(env):
    """The council and its standards entered on the desk; a funeral that
    runs longer than the standard and without cremation is marked with each
    breach, in words, with the limit and the actual value."""
    desk(env)
    env.go("/councils")
    click_button(env, "登记理事会")
    fill(env, "name", "营王村红白理事会")
    fill(env, "max_tables", "10")
    fill(env, "max_cost_per_table", "300")
    fill(env, "max_funeral_days", "3")
    fill(env, "cremation_required", "是")
    click_button(env, "保存")
    wait_for(env, "the council", lambda: "营王村红白理事会" in env.text() and
             "/new" not in env.driver.current_url)
    env.go("/councils")
    click_button(env, "登记红白事")
    fill(env, "kind", "白事")
    fill(env, "host", "刘德福")
    fill(env, "event_date", "2026-06-12")
    fill(env, "days", "5")
    fill(env, "tables", "8")
    fill(env, "cremation", "否")
    click_button(env, "保存")
    wait_for(env, "the affair", lambda: "刘德福" in env.text() and "/new" not in
             env.driver.current_url)
    page = env.text()
    assert "丧事天数" in page and "5" in page and "3" in page, page[:1500]
    assert "火化" in page, page[:1500]
    shown = env.node(V, "affair", "list", "--format", "json")
    assert "AFFAIR_DAYS" in shown and "AFFAIR_CREMATION" in shown, shown
    env.shot("desk-affair-violations")
    env.go("/affairs")
    assert "刘德福" in env.text()
    env.shot("desk-affairs")


GBK_CSV = (
    "村社区代码,网格编码,事件类别,标题,描述,上报人,上报时间,紧急程度\r\n"
    "{v},{v}001,sanitation,小区垃圾清运不及时,三号楼前垃圾堆放两天,网格员陈静,2026-11-20 09:10,2\r\n"
    "{v},{v}002,livelihood.elderly,独居老人需要助餐服务,\"张奶奶,82岁,行动不便\",网格员陈静,"
    "2026年11月22日,2\r\n"
    "{v},{v}002,dispute.neighbour,楼上漏水引发邻里纠纷,,网格员李娜,2026/11/23 14:00,3\r\n")


def import_gbk_csv_and_xlsx(env):
    """导入导出: a GBK CSV as Chinese Excel saves it, then an XLSX workbook:
    each shows its dry run (rows new / changed / unchanged), imports on
    confirmation, and a file with a bad cell shows its row and column and
    stores nothing."""
    desk(env)
    d = tempfile.mkdtemp(dir=env.dir)
    gbk = os.path.join(d, "事件台账.csv")
    with open(gbk, "wb") as f:
        f.write(GBK_CSV.format(v=V).encode("gb18030"))
    bad = os.path.join(d, "有错的台账.csv")
    with open(bad, "wb") as f:
        f.write(GBK_CSV.format(v=V).replace("2026/11/23 14:00", "2026-13-45").encode("gb18030"))
    # an XLSX of two incidents written by another PC of the same village
    env.hub("node", "add", "--village", V, "--name", NAME + "二号机", "--endpoint",
            env.endpoint, "--out", os.path.join(d, "b.bundle"))
    other = os.path.join(d, "other.db")
    env.run([env.node_bin, "--db", other, "init", "--bundle", os.path.join(d, "b.bundle")])
    for t in ("路灯损坏无人维修", "河道垃圾堆积"):
        env.run([env.node_bin, "--db", other, "incident", "add", "--grid", V + "001",
                 "--category", "sanitation", "--title", t])
    xlsx = os.path.join(d, "事件.xlsx")
    env.run([env.node_bin, "--db", other, "export", "incidents", "--format", "xlsx", "--out", xlsx])

    def upload(path, kind="incidents"):
        env.go("/transfer")
        sel = [s for s in all_css(env, "select") if s.get_attribute("name") in ("type", "rtype")]
        if sel:
            fill(env, sel[0].get_attribute("name"), "网格事件")
        by_css(env, "input[type=file]").send_keys(path)
        click_button(env, [b for b in buttons(env) if "预览" in b or "检查" in b or "上传" in b][0])

    upload(bad)
    wait_for(env, "the bad file's dry run", lambda: "行" in env.text() and "上报时间" in env.text())
    assert count(env, "incident") == 0
    env.shot("desk-import-errors")
    upload(gbk)
    wait_for(env, "the dry run", lambda: "新增" in env.text())
    assert "3" in by_css(env, "main").text
    assert count(env, "incident") == 0, "the dry run stored rows"
    env.shot("desk-import-dry-run")
    click_button(env, [b for b in buttons(env) if "确认" in b][0])
    wait_for(env, "the import", lambda: count(env, "incident") == 3)
    upload(gbk)
    wait_for(env, "the second dry run", lambda: "未变" in env.text() or "不变" in env.text())
    upload(xlsx)
    wait_for(env, "the workbook's dry run", lambda: "新增" in env.text())
    click_button(env, [b for b in buttons(env) if "确认" in b][0])
    wait_for(env, "the workbook's import", lambda: count(env, "incident") == 5)
    env.go("/incidents")
    assert "独居老人需要助餐服务" in env.text() and "河道垃圾堆积" in env.text()


def sync_and_city_decision(env):
    """同步: the button sends the village's records to the city; the city
    decides on an incident; after the next sync the record page shows the
    city's decision in its history."""
    desk(env, hub=True)
    iid = env.node(V, "incident", "add", "--grid", V + "001", "--category", "dispute.land",
                   "--title", "宅基地边界纠纷：王家与李家", "--reporter", "网格员马丽")
    env.node(V, "incident", "update", iid, "--status", "accepted", "--note", "已受理")
    env.go("/sync")
    click_button(env, [b for b in buttons(env) if "同步" in b][0])
    wait_for(env, "the sync's result", lambda: "成功" in env.text() or "完成" in env.text(), 30)
    env.shot("desk-sync-done")
    listed = env.hub("incident", "list", "--format", "csv")
    assert iid in listed, "the hub did not receive the incident: " + listed
    env.hub("incident", "update", iid, "--status", "registered", "--note",
            "市民政局：纳入矛盾纠纷台账，限期调解", "--assignee", "繁城回族镇司法所")
    env.go("/sync")
    click_button(env, [b for b in buttons(env) if "同步" in b][0])
    wait_for(env, "the second sync", lambda: "成功" in env.text() or "完成" in env.text(), 30)
    env.go("/incident/" + iid)
    page = env.text()
    assert "市民政局：纳入矛盾纠纷台账" in page and "立案" in page, page[:2000]
    env.shot("desk-city-decision")


def readable_without_javascript(env):
    """With JavaScript off the pages still read: the home page, the list, a
    record, and an English switch."""
    env.make_city()
    env.make_village(V, NAME)
    env.node(V, "incident", "add", "--grid", V + "001", "--category", "safety.fire",
             "--title", "消防通道被杂物占用", "--deadline", "2026-11-01")
    env.start_desk(V)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,900"):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    env.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    env.go("/")
    assert "超期" in env.text() and "消防通道被杂物占用" in env.text(), env.text()[:1000]
    env.go("/incidents")
    assert "消防通道被杂物占用" in env.text()
    env.go("/?lang=en")
    assert "Home" in env.text() or "Incidents" in env.text(), env.text()[:500]
    env.shot("desk-home-en-nojs")


if __name__ == "__main__":
    gsweb.main([incident_from_form_to_closed, election_findings_as_typed, funeral_breaks_standard,
                import_gbk_csv_and_xlsx, sync_and_city_decision, readable_without_javascript])

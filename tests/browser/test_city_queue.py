"""事件工单 and 上级交办 of the city's pages (gridhub web) in headless Chromium.

A city hub with the real Luohe reference data, serving; two villages of
临颍县 in different townships (营王村 of 繁城回族镇, 杜街村 of 杜曲镇), each
with its node that enters incidents and syncs. A township officer of 繁城回族镇
logs in for the first time (setting a password), reads the queue (only its
villages), filters it, opens an overdue incident and takes it through
受理, 立案 and 派遣 with an assignee and a note; the village's PC has it after
its sync. The city hands an incident to a village (上级交办).
Screenshots: build/screenshots/city-queue-*.png.

  /usr/bin/python3 tests/browser/test_city_queue.py --bin build [SCENARIO ...]
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gsweb  # noqa: E402

VA, NAME_A = "411122101201", "营王村"   # 繁城回族镇
VB, NAME_B = "411122102201", "杜街村"   # 杜曲镇
TOWNSHIP_A = "411122101"
PASSWORD = "fancheng-2026"


def start_city_web(env):
    """Starts `gridhub web` on a free loopback port; its base URL."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = os.path.join(env.dir, "city-web.log")
    p = subprocess.Popen([env.hub_bin, "--db", os.path.join(env.dir, "hub.db"), "web", "--bind",
                          "127.0.0.1:%d" % port], cwd=env.dir, stdout=open(log, "ab"),
                         stderr=subprocess.STDOUT)
    env.procs.append(p)
    deadline = time.time() + 15
    while time.time() < deadline:
        if "gridhub web: serving" in open(log, encoding="utf-8", errors="replace").read():
            env.base = "http://127.0.0.1:%d" % port
            return env.base
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError("gridhub web did not start (see %s)" % log)


def city(env):
    """The hub, the two villages with their incidents synced, gridhub web."""
    env.make_city()
    env.start_hub()
    env.make_village(VA, NAME_A)
    env.make_village(VB, NAME_B)
    ids = {}
    ids["leak"] = env.node(VA, "incident", "add", "--title", "楼道漏水，住户反映三天未修",
                           "--category", "dispute", "--reporter", "马丽", "--reported-at",
                           "2026-11-01 09:00", "--deadline", "2026-11-05")
    ids["wire"] = env.node(VA, "incident", "add", "--title", "电线老化存在火灾隐患",
                           "--category", "safety.fire", "--assignee", "张三", "--reported-at",
                           "2026-11-20 10:00", "--deadline", "2099-12-31")
    ids["lamp"] = env.node(VA, "incident", "add", "--title", "村口路灯不亮",
                           "--category", "sanitation", "--reported-at", "2026-11-25 19:00",
                           "--deadline", "2099-11-30")
    ids["other"] = env.node(VB, "incident", "add", "--title", "杜街村的事件（别的乡镇）",
                            "--category", "dispute", "--reported-at", "2026-11-02 09:00",
                            "--deadline", "2026-11-04")
    env.node(VA, "sync", "--timeout", "60")
    env.node(VB, "sync", "--timeout", "60")
    env.hub("user", "add", "--login", "fancheng", "--name", "王芳", "--role", "township",
            "--division", TOWNSHIP_A)
    env.hub("user", "add", "--login", "city", "--name", "市民政局值班员", "--role", "city")
    env.run([env.hub_bin, "--db", os.path.join(env.dir, "hub.db"), "user", "passwd", "city"],
            input=PASSWORD + "\n")
    start_city_web(env)
    env.browser()
    return ids


def by_css(env, css):
    return env.driver.find_element("css selector", css)


def all_css(env, css):
    return env.driver.find_elements("css selector", css)


def login(env, user, first=False):
    env.go("/login")
    by_css(env, "#user").send_keys(user)
    if first:
        env.follow(by_css(env, "button[type=submit]"))
        by_css(env, "#new").send_keys(PASSWORD)
        by_css(env, "#again").send_keys(PASSWORD)
    else:
        by_css(env, "#password").send_keys(PASSWORD)
    env.follow(by_css(env, "button[type=submit]"))
    assert "/login" not in env.driver.current_url, env.text()[:1500]


def select(env, name, value):
    from selenium.webdriver.support.ui import Select
    Select(by_css(env, "select[name=%s]" % name)).select_by_value(value)


def township_dispatches(env):
    ids = city(env)
    login(env, "fancheng", first=True)
    env.go("/incidents")
    t = env.text()
    assert "事件工单" in t, t[:1500]
    assert "楼道漏水" in t and "电线老化" in t and "村口路灯不亮" in t, t[:2000]
    assert "杜街村的事件" not in t and NAME_B not in t, t[:2000]
    assert "共 3 条" in t, t[:1500]
    rows = all_css(env, "table.list tbody tr")
    assert len(rows) == 3
    # overdue first, marked, with its days
    assert "楼道漏水" in rows[0].text and "超期" in rows[0].text, rows[0].text
    assert "overdue" in rows[0].get_attribute("class")
    env.shot("city-queue-list")

    # filters: the assignee, then overdue only
    by_css(env, "input[name=assignee]").send_keys("张三")
    env.follow(by_css(env, "form.filters button[type=submit]"))
    t = env.text()
    assert "共 1 条" in t and "电线老化" in t and "楼道漏水" not in t, t[:1500]
    by_css(env, "input[name=assignee]").clear()
    by_css(env, "input[name=overdue]").click()
    select(env, "village", VA)
    env.follow(by_css(env, "form.filters button[type=submit]"))
    t = env.text()
    assert "共 1 条" in t and "楼道漏水" in t and "电线老化" not in t, t[:1500]
    env.shot("city-queue-filtered")

    # the record: its deadline, the decisions of the workflow, its history
    env.follow(env.driver.find_element("link text", "楼道漏水，住户反映三天未修"))
    t = env.text()
    assert "处置期限" in t and "超期" in t and "历史" in t, t[:2000]
    buttons = [b.text for b in all_css(env, "section.workflow button")]
    assert buttons == ["受理", "不予受理"], buttons
    for step in ("受理", "立案"):
        form = [f for f in all_css(env, "form.step")
                if f.find_element("css selector", "button").text == step][0]
        env.follow(form.find_element("css selector", "button"))
        assert "已保存" in env.text(), env.text()[:1500]
    form = [f for f in all_css(env, "form.step")
            if f.find_element("css selector", "button").text == "派遣"][0]
    form.find_element("css selector", "input[name=assignee]").send_keys("李四")
    form.find_element("css selector", "input[name=note]").send_keys("镇里派遣：请三日内修好")
    env.shot("city-queue-record")
    env.follow(form.find_element("css selector", "button"))
    t = env.text()
    assert "已保存" in t and "派遣" in t and "李四" in t and "镇里派遣：请三日内修好" in t, t[:2000]
    assert "退单/改派" in t, t[:2000]
    env.shot("city-queue-dispatched")

    # the village's PC has it after its sync
    env.node(VA, "sync", "--timeout", "60")
    rec = json.loads(env.node(VA, "incident", "show", ids["leak"], "--json"))
    assert rec["status"] == "dispatched", rec
    assert rec["assignee"] == "李四" and rec["note"] == "镇里派遣：请三日内修好", rec

    # another township's record: 403, nothing of it
    env.go("/incident/" + ids["other"])
    t = env.text()
    assert "杜街" not in t, t[:1500]


def city_hands_down(env):
    city(env)
    login(env, "city")
    env.go("/incidents")
    assert "共 4 条" in env.text(), env.text()[:1500]
    env.follow(env.driver.find_element("partial link text", "上级交办"))
    select(env, "_village", VA)
    select(env, "category", "sanitation")
    by_css(env, "[name=title]").send_keys("河道垃圾清理")
    by_css(env, "[name=description]").send_keys("市里交办：沿河两岸垃圾三天内清理完毕")
    d = by_css(env, "[name=deadline]")
    env.driver.execute_script("arguments[0].value = '2099-06-30'", d)
    env.shot("city-queue-new")
    env.follow(by_css(env, "form.record button[type=submit]"))
    t = env.text()
    assert "已交办" in t and "河道垃圾清理" in t and "上级交办" in t, t[:2000]
    m = re.search(r"/incident/([0-9a-f-]{36})", env.driver.current_url)
    assert m, env.driver.current_url
    env.shot("city-queue-handed")
    env.node(VA, "sync", "--timeout", "60")
    rec = json.loads(env.node(VA, "incident", "show", m.group(1), "--json"))
    assert rec["source"] == "higher" and rec["title"] == "河道垃圾清理", rec
    assert rec["deadline"] == "2099-06-30", rec


if __name__ == "__main__":
    gsweb.main([township_dispatches, city_hands_down])

"""The city's pages (gridhub web) as the city and a township use them, in
headless Chromium.

A city hub with the real Luohe reference data behind a running `gridhub
serve`, three village nodes (two townships of 源汇区 and one of 召陵区) that
enter incidents and sync them, people added with `gridhub user`, and
`gridhub web`. The city logs in and sees the dashboard, whose figures equal
`gridhub report ... --format json`, and clicks down from a county to a
township; a township user sees only its villages, and is refused another's;
a township user stopped by the city mid-session is sent to the login page.
Screenshots: build/screenshots/city-*.png.

  /usr/bin/python3 tests/browser/test_city.py --bin build [SCENARIO ...]
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gsweb  # noqa: E402

VILLAGES = [("411102100201", "大刘村"),    # 大刘镇, 源汇区
            ("411102001001", "滨西社区"),  # 老街街道, 源汇区
            ("411104100201", "黄庄村")]    # 召陵镇, 召陵区
PASSWORD = "secret-2026"


def city(env):
    env.make_city()
    env.start_hub()
    for i, (v, name) in enumerate(VILLAGES):
        env.make_village(v, name + "委员会电脑")
        for k in range(i + 2):
            env.node(v, "incident", "add", "--grid", v + "001", "--category", "safety.fire",
                     "--title", "%s 事件 %d" % (name, k + 1),
                     "--deadline", "2020-01-01" if k == 0 else "2090-12-31")
        if i == 0:
            iid = env.node(v, "incident", "list", "--format", "csv").splitlines()[1].split(",")[0]
            env.node(v, "incident", "update", iid, "--status", "accepted")
            env.node(v, "incident", "update", iid, "--status", "closed")
        env.node(v, "sync", "--timeout", "60", "--quiet")
    env.city_user("wangfang", "王芳", "city", password=PASSWORD)
    env.city_user("liqiang", "李强", "township", "411102100", password=PASSWORD)
    env.start_city_web()
    env.browser()


def by_css(env, css):
    return env.driver.find_element("css selector", css)


def login(env, user, password):
    env.go("/login")
    by_css(env, "#user").send_keys(user)
    by_css(env, "#password").send_keys(password)
    env.follow(by_css(env, "button[type=submit]"))


def card(env, report, key):
    """The figure a card shows, without its unit."""
    e = by_css(env, '.figure[data-report="%s"][data-key="%s"] .value' % (report, key))
    return env.driver.execute_script("return arguments[0].firstChild.textContent", e).strip()


def report_total(env, kind, sheet, key, *area):
    y = time.strftime("%Y", time.gmtime(time.time() + 8 * 3600))
    out = env.hub("report", kind, *area, "--since", y + "-01-01", "--until", y + "-12-31",
                  "--format", "json")
    v = json.loads(out)[sheet]["total"][key]
    if v is None:
        return "-"
    return ("%.1f" % v) if isinstance(v, float) else str(v)


def the_city_sees_the_dashboard(env):
    city(env)
    login(env, "wangfang", PASSWORD)
    assert "全市概览" in env.driver.title, env.driver.title
    text = env.text()
    for s in ("全市概览", "事件工单", "同步状况", "节点", "报表", "用户", "王芳",
              "村社区与同步", "网格事件", "换届选举", "红白理事会", "按期结案率"):
        assert s in text, s
    # the figures are the report's
    for key in ("villages", "villages_registered", "villages_reporting", "incidents_opened",
                "incidents_closed", "incidents_open", "median_days_to_close"):
        assert card(env, "summary", key) == report_total(env, "summary", "by_area", key), key
    for key in ("overdue", "closure_pct", "on_time_pct"):
        assert card(env, "incidents", key) == report_total(env, "incidents", "by_month", key), key
    assert card(env, "summary", "incidents_opened") == "9"
    assert int(card(env, "incidents", "overdue")) >= 2  # one per village at least, less a closed one
    env.shot("city-dashboard")
    # down: the county from its bar's label, then a township from the table
    env.follow(env.driver.find_element("css selector", 'svg a[href="/area/411102"]'))
    assert "源汇区" in env.driver.title, env.driver.title
    env.shot("city-county")
    env.follow(env.driver.find_element("css selector", 'table.areas a[href^="/area/411102100"]'))
    assert "大刘镇" in env.driver.title, env.driver.title
    assert card(env, "summary", "incidents_opened") == \
        report_total(env, "summary", "by_area", "incidents_opened", "--township", "411102100")
    links = [a.get_dom_attribute("href") for a in
             env.driver.find_elements("css selector", 'a[href*="/incidents?village="]')]
    assert any(h.endswith("village=411102100201") for h in links), links
    env.shot("city-township")
    env.go("/health")
    assert "未开通" in env.text()
    env.shot("city-health")
    env.go("/nodes")
    assert "411104100201-1" in env.text()
    env.shot("city-nodes")
    env.go("/reports")
    env.shot("city-reports")
    env.go("/users")
    assert "李强" in env.text()
    env.shot("city-users")


def a_township_sees_its_villages(env):
    city(env)
    login(env, "liqiang", PASSWORD)
    text = env.text()
    assert "大刘镇" in text and "李强" in text
    assert "用户" not in [a.text for a in env.driver.find_elements("css selector", "nav a")]
    assert "节点" not in [a.text for a in env.driver.find_elements("css selector", "nav a")]
    assert card(env, "summary", "incidents_opened") == "2"
    assert "召陵" not in text and "老街" not in text
    env.shot("city-township-user")
    env.go("/health")
    assert "411102100201" in env.text() and "411104100201" not in env.text()
    env.go("/area/411104100")
    assert "无权访问" in env.text(), env.text()[:400]
    assert "召陵" not in env.text()
    env.shot("city-township-forbidden")


def disabled_mid_session(env):
    """李强 is at work on the queue when the city stops his account on the
    用户 page: his next click lands on the login page, and his password no
    longer lets him in."""
    city(env)
    d = env.driver
    login(env, "liqiang", PASSWORD)
    env.go("/incidents")
    assert "大刘村" in env.text(), env.text()[:400]
    his = d.get_cookies()
    # the city, in its own session, stops him
    d.delete_all_cookies()
    login(env, "wangfang", PASSWORD)
    env.go("/users")
    row = by_css(env, 'tr[data-login="liqiang"]')
    env.follow(row.find_element("css selector", 'form[action="/users/disable"] button'))
    row = by_css(env, 'tr[data-login="liqiang"]')
    assert "已停用" in row.text, row.text
    env.shot("city-user-disabled-by-city")
    # 李强's browser, his session cookie as it was: the next click ends it
    d.delete_all_cookies()
    for c in his:
        d.add_cookie({k: c[k] for k in ("name", "value", "path") if k in c})
    env.go("/incidents")
    assert d.current_url.split("?")[0].endswith("/login"), d.current_url
    assert "大刘村" not in env.text()
    by_css(env, "#user").send_keys("liqiang")
    by_css(env, "#password").send_keys(PASSWORD)
    env.follow(by_css(env, "button[type=submit]"))
    assert d.current_url.split("?")[0].endswith("/login"), d.current_url
    env.shot("city-user-disabled")
    # and the audit log says who did it
    d.delete_all_cookies()
    login(env, "wangfang", PASSWORD)
    env.go("/audit")
    assert "user disable" in env.text() and "liqiang" in env.text(), env.text()[:600]


if __name__ == "__main__":
    gsweb.main([the_city_sees_the_dashboard, a_township_sees_its_villages, disabled_mid_session])

/* elections.js: the findings of the 换届选举 sheet as the numbers are typed.
 * Posts the sheet's cells to /api/elections/check (the same core rules the
 * store runs) and shows what comes back beside the sheet; without
 * JavaScript the findings show after saving. No framework. */
(function () {
  "use strict";
  var form = document.getElementById("election-sheet");
  if (!form) {
    var p = document.querySelector("[data-print]");
    if (p) p.addEventListener("click", function () { window.print(); });
    return;
  }
  var body = document.getElementById("findings-body");
  var timer = null, seq = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function findingList(list) {
    var ul = el("ul", "findings");
    list.forEach(function (f) {
      var li = el("li", "finding sev-" + f.severity);
      li.setAttribute("data-code", f.code);
      li.appendChild(el("b", "", f.zh));
      if (f.cite) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "law", f.cite)); }
      ul.appendChild(li);
    });
    return ul;
  }
  function show(r) {
    form.querySelectorAll(".cell-msg").forEach(function (s) { s.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); });
    body.textContent = "";
    var general = [];
    r.errors.forEach(function (e) {
      var s = form.querySelector('.cell-msg[data-for="' + e.cell + '"]');
      var input = document.getElementById(e.cell);
      if (input) input.setAttribute("aria-invalid", "true");
      if (s) s.textContent = e.message; else general.push(e.message);
    });
    general.forEach(function (m) { body.appendChild(el("p", "alert", m)); });
    if (!r.ok) {
      if (!general.length) body.appendChild(el("p", "hint", "请把标出的格子填完整 (complete the marked cells)"));
      return;
    }
    if (!r.findings.length) body.appendChild(el("p", "ok", "无 (none)"));
    else body.appendChild(findingList(r.findings));
    r.candidates.forEach(function (c) {
      var out = form.querySelector('#candidates tbody tr:nth-child(' + (c.row + 1) + ') .outcome');
      if (out) out.textContent = c.outcome_zh;
      if (c.findings.length) {
        body.appendChild(el("p", "who", "候选人 " + c.name + ":"));
        body.appendChild(findingList(c.findings));
      }
    });
    body.appendChild(el("p", "counts", "当选 " + r.elected + " 人，其中女性 " + r.women_elected +
      " 人；空缺 " + r.unfilled + " 名；一肩挑：" + (r.yijiantiao ? "是" : "否")));
  }
  function check() {
    var data = new URLSearchParams(new FormData(form));
    var csrf = form.querySelector('input[name="_csrf"]');
    var mine = ++seq;
    fetch("/api/elections/check", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded",
                 "X-CSRF-Token": csrf ? csrf.value : "" },
      body: data.toString()
    }).then(function (r) { return r.json(); })
      .then(function (r) { if (mine === seq && r.errors) show(r); })
      .catch(function () { /* offline or stopped: the findings show after saving */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  form.addEventListener("change", function () { clearTimeout(timer); check(); });
})();

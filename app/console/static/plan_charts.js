/* A plan's per-unit chart: amounts due, pledged and paid (yuan), from the tally's breakdown. */
(function () {
  function draw() {
    var el = document.getElementById("chart-plan");
    if (!el || !window.echarts) return;
    var rows = [];
    JSON.parse(document.getElementById("plan-breakdown").textContent).forEach(function (b) {
      b.units.forEach(function (u) { rows.push({ name: b.name + u.name, due: u.due_fen, pledged: u.pledged_fen, paid: u.paid_fen }); });
    });
    function yuan(key) { return rows.map(function (r) { return r[key] / 100; }); }
    var c = echarts.init(el);
    c.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["应缴（元）", "承诺（元）", "已缴（元）"] },
      grid: { left: 80, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: rows.length > 12 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: [
        { name: "应缴（元）", type: "bar", barMaxWidth: 40, data: yuan("due"), itemStyle: { color: "#d9e2ec" } },
        { name: "承诺（元）", type: "bar", barMaxWidth: 40, data: yuan("pledged"), itemStyle: { color: "#0b6e4f" } },
        { name: "已缴（元）", type: "bar", barMaxWidth: 40, data: yuan("paid"), itemStyle: { color: "#f79009" } }
      ]
    });
    window.addEventListener("resize", function () { c.resize(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();

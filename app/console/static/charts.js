/* The tally's per-building and per-unit charts (ECharts, served from /console/static/vendor). */
(function () {
  function draw() {
    var data = JSON.parse(document.getElementById("breakdown").textContent);
    function chart(id, rows) {
      var el = document.getElementById(id);
      if (!el || !window.echarts) return;
      var names = rows.map(function (r) { return r.name; });
      var answered = rows.map(function (r) { return r.answered; });
      var missing = rows.map(function (r) { return r.flats - r.answered; });
      var c = echarts.init(el);
      c.setOption({
        animation: false,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { data: ["已表决（户）", "未表决（户）"] },
        grid: { left: 48, right: 16, top: 36, bottom: 48 },
        xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 12 ? 40 : 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: "已表决（户）", type: "bar", stack: "f", barMaxWidth: 56, data: answered, itemStyle: { color: "#0b6e4f" } },
          { name: "未表决（户）", type: "bar", stack: "f", barMaxWidth: 56, data: missing, itemStyle: { color: "#d9e2ec" } }
        ]
      });
      window.addEventListener("resize", function () { c.resize(); });
    }
    chart("chart-buildings", data);
    var units = [];
    data.forEach(function (b) { b.units.forEach(function (u) { units.push({ name: b.name + u.name, flats: u.flats, answered: u.answered }); }); });
    chart("chart-units", units);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();

// Findings pages (问题线索): the decision form and the risk trend chart.
// No inline scripts (CSP script-src 'self'); the chart's data comes from a
// <script type="application/json"> block written by Django's json_script filter.
(function () {
  "use strict";

  // One palette throughout: the government blue, and the badge colours for 阻断 (red) / 需复核 (amber).
  var COLOURS = { total: "#1d4f91", block: "#dc3545", review: "#e0a800" };
  var CHART_HEIGHT = 340;

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function initTrendChart() {
    var box = document.getElementById("risk-trend-chart");
    if (!box) { return; }
    var data = readJson(box.getAttribute("data-source"));
    var table = document.querySelector(".px-trend-table");
    if (table) {
      // keep the table beside the chart the chart's height; it scrolls (CSSOM, allowed by the CSP)
      table.style.maxHeight = (CHART_HEIGHT + 10) + "px";
      table.style.overflowY = "auto";
      table.scrollTop = table.scrollHeight;  // months run oldest → newest, like the chart: show the newest
    }
    if (!data || !window.echarts) {
      box.textContent = "图表无法显示，请查看右侧表格。";
      return;
    }
    box.style.height = CHART_HEIGHT + "px";
    box.style.width = "100%";
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" },
      // richText tooltips are drawn on the canvas: no inline style attributes for the CSP to refuse
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, data: data.series.map(function (s) { return s.name; }) },
      grid: { left: 48, right: 24, top: 36, bottom: 36 },
      xAxis: { type: "category", boundaryGap: false, data: data.months, name: "首次发现月份", nameLocation: "middle", nameGap: 26 },
      yAxis: { type: "value", minInterval: 1, name: "问题线索（条）" },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          data: s.data,
          symbolSize: 6,
          lineStyle: { width: s.key === "total" ? 3 : 2 },
          itemStyle: { color: COLOURS[s.key] || COLOURS.total }
        };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function initDecisionForm() {
    var form = document.getElementById("finding-decision");
    if (!form) { return; }
    var wrap = document.getElementById("consequence-wrap");
    var select = wrap ? wrap.querySelector("select") : null;
    var button = document.getElementById("decision-submit");
    function sync() {
      var checked = form.querySelector('input[name="action"]:checked');
      var action = checked ? checked.value : "";
      if (wrap) { wrap.hidden = action === "dismiss"; }
      if (select) { select.required = action === "confirm"; }
      if (button) {
        button.classList.remove("btn-primary", "btn-danger", "btn-success");
        if (action === "confirm") {
          button.classList.add("btn-danger");
          button.lastChild.textContent = " 确认问题属实";
        } else if (action === "dismiss") {
          button.classList.add("btn-success");
          button.lastChild.textContent = " 排除该问题线索";
        } else {
          button.classList.add("btn-primary");
          button.lastChild.textContent = " 提交处理意见";
        }
      }
    }
    form.addEventListener("change", sync);
    sync();
  }

  function init() {
    initTrendChart();
    initDecisionForm();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// 统计报表 (reports): every chart of the dashboards, drawn with the locally served ECharts.
// No inline scripts (CSP script-src 'self'): each chart's data sits in a <script type="application/json">
// block written by Django's json_script filter, named by the chart box's data-source attribute.
// The same rows are in the table beside each chart and in its Excel export.
(function () {
  "use strict";

  // One palette throughout: government blue first, then the badge colours of peixun's pages.
  var PALETTE = ["#1d4f91", "#2e8b57", "#e0a800", "#c0392b", "#6f42c1", "#17a2b8", "#fd7e14", "#6c757d"];
  var FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif";
  var charts = [];

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function number(v, digits) {
    return v.toLocaleString("zh-CN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function formatValue(v, unit) {
    if (v === null || v === undefined) { return "—"; }
    if (unit === "%") { return number(v, 1) + "%"; }
    if (unit === "元") { return "¥" + number(v, 2); }
    return number(v, 0) + (unit ? " " + unit : "");
  }

  function axisLabel(unit) {
    return function (v) {
      if (unit === "%") { return v + "%"; }
      if (Math.abs(v) >= 10000) { return number(v / 10000, v % 10000 ? 1 : 0) + "万"; }
      return String(v);
    };
  }

  function axisTooltip(unit) {
    // richText tooltips are drawn on the canvas: no inline style attributes for the CSP to refuse
    return function (params) {
      var lines = [params[0].axisValueLabel];
      params.forEach(function (p) { lines.push(p.seriesName + "：" + formatValue(p.value, unit)); });
      return lines.join("\n");
    };
  }

  function textWidth(text) {
    var width = 0;
    String(text).split("").forEach(function (ch) { width += ch.charCodeAt(0) > 255 ? 13 : 7; });
    return width;
  }

  function cartesian(spec, box) {
    var horizontal = spec.type === "hbar";
    // a label may take the width of its slot on the axis (or 110px when rotated), never more
    var slot = Math.floor((box.clientWidth - 84) / Math.max(1, spec.categories.length)) - 2;
    // a slot too narrow for the longest name (about 13px a Chinese character, 7px a digit): slant the
    // labels instead of cutting them
    var longest = Math.max.apply(null, spec.categories.map(textWidth).concat([1]));
    var rotate = spec.rotate || (!horizontal && longest > slot);
    var category = {
      type: "category",
      data: spec.categories,
      axisTick: { alignWithLabel: true },
      axisLabel: horizontal
        ? { width: 150, overflow: "truncate" }
        : { interval: 0, rotate: rotate ? 30 : 0, width: rotate ? 110 : slot, overflow: "truncate" }
    };
    var value = { type: "value", axisLabel: { formatter: axisLabel(spec.unit) }, minInterval: spec.unit === "%" ? 0 : 1 };
    if (spec.max) { value.max = spec.max; }
    if (spec.unit && spec.unit !== "%") { value.name = spec.unit === "元" ? "金额（元）" : "（" + spec.unit + "）"; }
    var many = spec.series.length > 1;
    return {
      color: PALETTE,
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText", formatter: axisTooltip(spec.unit) },
      legend: { top: 0, data: spec.series.map(function (s) { return s.name; }) },
      grid: { left: horizontal ? 160 : 56, right: 28, top: many || value.name ? 40 : 24, bottom: rotate ? 70 : 28, containLabel: false },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: spec.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          data: s.data,
          stack: spec.stack ? "total" : undefined,
          barMaxWidth: 28,
          emphasis: { focus: "series" }
        };
      })
    };
  }

  function pie(spec) {
    var s = spec.series[0];
    var data = spec.categories.map(function (name, i) { return { name: name, value: s.data[i] }; })
      .filter(function (d) { return d.value; });
    var sum = data.reduce(function (acc, d) { return acc + d.value; }, 0);
    var share = {};
    data.forEach(function (d) { share[d.name] = sum ? (d.value * 100 / sum).toFixed(1) + "%" : ""; });
    return {
      color: PALETTE,
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: {
        trigger: "item",
        renderMode: "richText",
        formatter: function (p) { return p.name + "\n" + formatValue(p.value, spec.unit) + "（" + p.percent + "%）"; }
      },
      // the share goes in the legend: the category names are long, labels round the ring would overlap
      legend: {
        type: "scroll",
        orient: "vertical",
        right: 8,
        top: "middle",
        itemGap: 8,
        textStyle: { width: 200, overflow: "truncate" },
        data: data.map(function (d) { return d.name; }),
        formatter: function (name) { return name + "  " + share[name]; }
      },
      series: [{
        name: s.name,
        type: "pie",
        radius: ["32%", "60%"],
        center: ["22%", "52%"],
        data: data,
        label: { show: false },
        labelLine: { show: false }
      }]
    };
  }

  function heightOf(spec) {
    if (spec.type === "hbar") { return Math.max(240, spec.categories.length * 26 + 70); }
    return spec.rotate || spec.categories.length > 6 ? 350 : 320;
  }

  function draw(box) {
    var spec = readJson(box.getAttribute("data-source"));
    if (!spec || !window.echarts) {
      box.textContent = "图表无法显示，请查看“表格”。";
      return;
    }
    box.style.height = heightOf(spec) + "px";
    box.style.width = "100%";
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(spec.type === "pie" ? pie(spec) : cartesian(spec, box));
    box.setAttribute("data-drawn", "true");
    charts.push(chart);
  }

  function resizeAll() {
    charts.forEach(function (c) { c.resize(); });
  }

  document.querySelectorAll(".px-chart[data-source]").forEach(draw);
  window.addEventListener("resize", resizeAll);
  // a chart whose card was on the 表格 tab has the wrong size when shown again
  document.addEventListener("shown.bs.tab", resizeAll);
}());

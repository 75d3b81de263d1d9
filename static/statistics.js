/* The statistics page's charts (Apache ECharts, vendored in static/vendor/echarts/).
 *
 * Each chart is a <div class="stat-chart" data-chart="ID"> next to a
 * <script type="application/json" id="ID"> block written by Django's json_script filter:
 * { title, unit, horizontal, categories: [...], series: [{ name, type, stack, data }] }.
 * Every label comes translated from the server; the numbers are also in the table below each
 * chart. No inline script: the page can run under a Content-Security-Policy without
 * 'unsafe-inline'. */
(function () {
  "use strict";

  function option(spec) {
    var categoryAxis = {
      type: "category",
      data: spec.categories,
      axisLabel: { interval: 0, width: 160, overflow: "truncate", hideOverlap: true },
      // Rows read top to bottom as in the table below the chart.
      inverse: Boolean(spec.horizontal)
    };
    var valueAxis = { type: "value", name: spec.unit, minInterval: 1 };
    return {
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 40, top: 60, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? valueAxis : categoryAxis,
      yAxis: spec.horizontal ? categoryAxis : valueAxis,
      series: spec.series.map(function (series) {
        return {
          name: series.name,
          type: series.type,
          stack: series.stack || undefined,
          // Money arrives as decimal strings (exact in the table); the chart only draws them.
          data: series.data.map(Number),
          emphasis: { focus: "series" }
        };
      })
    };
  }

  function draw(element) {
    var data = document.getElementById(element.getAttribute("data-chart"));
    if (!data || typeof echarts === "undefined") {
      return null;
    }
    var spec = JSON.parse(data.textContent);
    if (!spec.categories.length) {
      element.hidden = true;
      return null;
    }
    if (spec.horizontal) {
      element.style.height = Math.max(240, 48 + spec.categories.length * 36) + "px";
    }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(spec));
    return chart;
  }

  function start() {
    var charts = Array.prototype.map
      .call(document.querySelectorAll(".stat-chart[data-chart]"), draw)
      .filter(Boolean);
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) {
        chart.resize();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

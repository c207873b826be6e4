// The weekly analysis: bar charts of the week by category and by channel (Chart.js, vendored in
// static/vendor). The figures and labels come from the page (#analysis-chart), in its language; the
// tables below the charts carry the same counts for anyone who would rather read.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("analysis-chart").textContent);
  if (typeof window.Chart === "undefined") { return; }

  function draw(id, section) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: section.labels,
        datasets: [{label: data.count, data: section.counts, backgroundColor: "#0b5394"}]
      },
      options: {
        indexAxis: "y",
        animation: false,
        plugins: {legend: {display: false}, title: {display: true, text: section.title}},
        scales: {x: {beginAtZero: true, ticks: {precision: 0}}}
      }
    });
  }

  draw("chart-category", data.sections.category);
  draw("chart-channel", data.sections.channel);
}());

// The supervisor's charts, drawn by the vendored Chart.js (static/vendor/chart.umd.js) from the
// figures in the page (#chart-data), with the page's words. The same figures are in the tables
// under each chart, for whoever does not see the drawing.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var labels = data.labels;
  // Colours that hold apart for the common colour-vision deficiencies (Okabe–Ito).
  var palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"];
  var common = {animation: false, responsive: true, maintainAspectRatio: false,
                interaction: {mode: "index", intersect: false}};

  function drawn(canvas) {
    canvas.dataset.rendered = "true";  // the browser tests look for this
  }

  var held = document.getElementById("held-chart");
  var datasets = data.kinds.map(function (kind, i) {
    return {type: "bar", label: kind.label, data: kind.held, backgroundColor: palette[i % palette.length],
            stack: "held"};
  });
  datasets.push({type: "line", label: labels.overdue, data: data.overdue, borderColor: "#a11212",
                 backgroundColor: "#a11212", borderWidth: 2, pointRadius: 0});
  new Chart(held, {
    data: {labels: data.days, datasets: datasets},
    options: Object.assign({}, common, {
      scales: {x: {stacked: true, title: {display: true, text: labels.day}},
               y: {stacked: true, beginAtZero: true, title: {display: true, text: labels.items},
                   ticks: {precision: 0}}}
    })
  });
  drawn(held);

  var traffic = document.getElementById("traffic-chart");
  new Chart(traffic, {
    type: "bar",
    data: {labels: data.hours, datasets: [
      {label: labels.deposits, data: data.deposits, backgroundColor: palette[0]},
      {label: labels.releases, data: data.releases, backgroundColor: palette[1]}
    ]},
    options: Object.assign({}, common, {
      scales: {x: {title: {display: true, text: labels.hour}},
               y: {beginAtZero: true, title: {display: true, text: labels.items}, ticks: {precision: 0}}}
    })
  });
  drawn(traffic);
}());

// report.html's charts and frame slider, drawn from the run data in #report-data with uPlot
// (inlined before this script). Plain JavaScript run as it is: the report is one file that opens
// from disk, with nothing to build or fetch.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var runs = data.runs;
  var HEIGHT = 240;

  /** A uPlot chart in `el` that follows the element's width. */
  function chart(el, title, series, columns, yRange) {
    if (!columns[0].length) {
      el.innerHTML = '';
      var empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent = title + ': no metrics';
      el.appendChild(empty);
      return;
    }
    var plot = new uPlot(
      {
        title: title,
        width: Math.max(300, el.clientWidth),
        height: HEIGHT,
        scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
        axes: [{ label: 'iteration' }, {}],
        series: [{ label: 'iteration' }].concat(series),
        legend: { live: true },
      },
      columns,
      el,
    );
    new ResizeObserver(function () {
      plot.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT });
    }).observe(el);
  }

  function allWithin(columns, lo, hi) {
    return columns.every(function (c) {
      return c.every(function (v) {
        // A gap: null from the JSON, undefined where uPlot.join aligned runs.
        return v == null || (v >= lo && v <= hi);
      });
    });
  }

  function constant(xs, value) {
    return xs.map(function () {
      return value;
    });
  }

  var equilibrium = { label: 'equilibrium 0.5', stroke: '#888', dash: [6, 4], width: 1 };

  function drawRunCharts(run) {
    var m = run.metrics;
    var x = m.iteration;
    var byId = {
      losses: function (el) {
        chart(el, 'Losses', [{ label: 'D loss', stroke: '#d62728', width: 1.5 }, { label: 'G loss', stroke: '#1f77b4', width: 1.5 }], [x, m.dLoss, m.gLoss]);
      },
      outputs: function (el) {
        var probability = run.dOutput === 'probability';
        var series = [
          { label: 'mean D(x)', stroke: '#2ca02c', width: 1.5 },
          { label: 'mean D(G(z))', stroke: '#ff7f0e', width: 1.5 },
        ];
        var columns = [x, m.dReal, m.dFake];
        if (probability) {
          series.push(equilibrium);
          columns.push(constant(x, 0.5));
        }
        var inUnit = probability && allWithin([m.dReal, m.dFake], 0, 1);
        chart(el, probability ? 'Discriminator outputs' : 'Discriminator scores (raw: this loss has no 0.5 equilibrium)', series, columns, inUnit ? [0, 1] : null);
      },
      speed: function (el) {
        chart(el, 'Iterations per second', [{ label: 'it/s', stroke: '#9467bd', width: 1.5 }], [x, m.itPerSec]);
      },
    };
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      byId[el.dataset.chart](el);
    });
  }

  var COMPARED = {
    dLoss: 'D loss',
    gLoss: 'G loss',
    dReal: 'mean D(x)',
    dFake: 'mean D(G(z))',
    itPerSec: 'Iterations per second',
  };

  function drawComparisonCharts() {
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var key = el.dataset.chart;
      var withMetrics = runs.filter(function (r) {
        return r.metrics.iteration.length > 0;
      });
      if (!withMetrics.length) {
        chart(el, COMPARED[key], [], [[]]);
        return;
      }
      // One x axis for every run: uPlot.join aligns the runs' iterations, with gaps (null)
      // where a run has no row, which each series spans.
      var joined = uPlot.join(
        withMetrics.map(function (r) {
          return [r.metrics.iteration, r.metrics[key]];
        }),
      );
      var series = withMetrics.map(function (r) {
        return { label: r.name, stroke: r.color, width: 1.5, spanGaps: true };
      });
      var columns = joined.slice();
      var isOutput = key === 'dReal' || key === 'dFake';
      var probability = isOutput && withMetrics.every(function (r) {
        return r.dOutput === 'probability';
      });
      if (probability) {
        series.push(equilibrium);
        columns.push(constant(joined[0], 0.5));
      }
      var inUnit = probability && allWithin(joined.slice(1), 0, 1);
      chart(el, COMPARED[key], series, columns, inUnit ? [0, 1] : null);
    });
  }

  /** The slider over every iteration that has a frame; each run shows its latest frame up to it. */
  function setUpFrames() {
    var slider = document.querySelector('[data-testid=frame-slider]');
    if (!slider) return;
    var label = document.querySelector('[data-testid=frame-label]');
    var play = document.querySelector('[data-testid=frame-play]');
    var images = document.querySelectorAll('.frames figure');
    var seen = {};
    var iterations = [];
    runs.forEach(function (r) {
      r.frames.forEach(function (f) {
        if (!seen[f.iteration]) {
          seen[f.iteration] = true;
          iterations.push(f.iteration);
        }
      });
    });
    iterations.sort(function (a, b) {
      return a - b;
    });

    function frameAt(run, iteration) {
      var chosen = run.frames[0];
      run.frames.forEach(function (f) {
        if (f.iteration <= iteration) chosen = f;
      });
      return chosen;
    }

    function show(i) {
      var iteration = iterations[i];
      runs.forEach(function (run, k) {
        var img = images[k] && images[k].querySelector('img');
        if (!img) return;
        var f = frameAt(run, iteration);
        if (img.getAttribute('src') !== f.src) img.src = f.src;
        img.alt = 'samples at iteration ' + f.iteration;
        img.dataset.iteration = String(f.iteration);
      });
      slider.value = String(i);
      label.textContent = 'iteration ' + iteration + ' (frame ' + (i + 1) + ' of ' + iterations.length + ')';
      label.dataset.iteration = String(iteration);
      label.dataset.index = String(i);
    }

    // Small pictures (an MNIST grid is 302 pixels) are shown at twice their size, pixels kept sharp.
    images.forEach(function (figure) {
      var img = figure.querySelector('img');
      if (!img) return;
      var fit = function () {
        if (img.naturalWidth && img.naturalWidth < 360 && !img.style.width) img.style.width = img.naturalWidth * 2 + 'px';
      };
      if (img.complete) fit();
      img.addEventListener('load', fit);
    });

    var timer = null;
    function stop() {
      clearInterval(timer);
      timer = null;
      play.textContent = 'Play';
    }
    play.addEventListener('click', function () {
      if (timer) {
        stop();
        return;
      }
      var i = Number(slider.value);
      if (i >= iterations.length - 1) i = -1;
      play.textContent = 'Pause';
      timer = setInterval(function () {
        i += 1;
        show(i);
        if (i >= iterations.length - 1) stop();
      }, 120);
    });
    slider.addEventListener('input', function () {
      if (timer) stop();
      show(Number(slider.value));
    });
    show(iterations.length - 1);
  }

  setUpFrames();
  if (data.kind === 'comparison') drawComparisonCharts();
  else drawRunCharts(runs[0]);
  document.body.dataset.ready = 'true';
})();

// Only the parts of Chart.js the statistics chart draws with, so the bundle leaves out the rest;
// a namespace import read by static names is still tree-shaken.
import * as chartjs from 'chart.js';

chartjs.Chart.register(
  chartjs.BarController,
  chartjs.BarElement,
  chartjs.CategoryScale,
  chartjs.Filler,
  chartjs.LinearScale,
  chartjs.LineController,
  chartjs.LineElement,
  chartjs.PointElement,
  chartjs.Tooltip,
);

export { Chart } from 'chart.js';

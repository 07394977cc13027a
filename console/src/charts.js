// Chart.js with only the parts the console draws (bars, lines, two axes, tooltips, a legend for the partner report's
// three series), loaded with the pages that chart.
import { Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend } from "chart.js";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

export { Chart };
